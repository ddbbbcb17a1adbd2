package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// lagData names what the lag phase left in the output directory.
type lagData struct {
	Harness  []suiteRun `json:"harness"`   // one harness run directory per batch
	LoopFile string     `json:"loop_file"` // the loop's records
	// Wall time of each detector's batches (for context only).
	HarnessWallMS float64 `json:"harness_wall_ms"`
	LoopWallMS    float64 `json:"loop_wall_ms"`
}

// lagPhase alternates a harness batch and a loop batch, c.batches times.
func lagPhase(ctx context.Context, c *config, runID string) (*lagData, error) {
	l := &loop{c: c, runID: runID, base: filepath.Join("/tmp", "csfid-"+runID)}
	if err := os.MkdirAll(l.base, 0o777); err != nil {
		return nil, err
	}
	defer os.RemoveAll(l.base)
	ld := &lagData{LoopFile: loopFile}
	lf, err := os.Create(filepath.Join(c.out, loopFile))
	if err != nil {
		return nil, err
	}
	defer lf.Close()
	enc := json.NewEncoder(lf)
	for b := 0; b < c.batches; b++ {
		// Harness batch: B starts per row, round-robin seed, free, seed, ...
		t := mono()
		s, err := runHarness(ctx, c.bin, lagSuite, c.batch, c.out, fmt.Sprintf("lag-harness-%02d", b),
			"--scenario", strings.Join(c.rowNames(), ","))
		ld.HarnessWallMS += ms(mono() - t)
		if err != nil {
			return nil, err
		}
		ld.Harness = append(ld.Harness, s)
		// Loop batch: the same, row by row alternating.
		t = mono()
		for i := 0; i < c.batch && ctx.Err() == nil; i++ {
			for _, r := range c.rows {
				if ctx.Err() != nil {
					break
				}
				if err := enc.Encode(l.start(ctx, r, b)); err != nil {
					return nil, err
				}
			}
		}
		ld.LoopWallMS += ms(mono() - t)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fmt.Fprintf(c.log, "  pair %d/%d done (load %s)\n", b+1, c.batches, loadavg())
	}
	return ld, lf.Close()
}
