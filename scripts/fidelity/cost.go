package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// Binaries of the side-by-side cost phase.
const (
	roleBaseline = "baseline"
	roleMeasured = "measured"
)

// sideBySide is the cost phase with a baseline binary: both binaries run the
// cost suite in alternating batches in one run, so that they meet the same
// host (its drift between runs is larger than the difference sought).
type sideBySide struct {
	Seed     int64       `json:"seed"` // of the per-pair order
	Pairs    int         `json:"pairs"`
	Batch    int         `json:"batch"` // starts per batch
	Baseline binary      `json:"baseline"`
	Measured binary      `json:"measured"`
	Batches  []costBatch `json:"batches"` // in run order
}

// costBatch is one batch: one binary, one run of the cost suite.
type costBatch struct {
	Pair int      `json:"pair"`
	Role string   `json:"role"` // roleBaseline or roleMeasured
	Run  suiteRun `json:"run"`
}

// costPhase is one run of the cost suite with the measured binary.
func costPhase(ctx context.Context, c *config) (*suiteRun, error) {
	s, err := runHarness(ctx, c.bin, costSuite, c.costRuns, c.out, "cost")
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// pairOrders is, for each pair, the order its two batches run in: a fair coin
// per pair from a seeded generator, so the order is random yet reproducible.
func pairOrders(seed int64, pairs int) [][2]string {
	rng := rand.New(rand.NewPCG(uint64(seed), 0x636f6c64))
	out := make([][2]string, pairs)
	for i := range out {
		out[i] = [2]string{roleBaseline, roleMeasured}
		if rng.IntN(2) == 1 {
			out[i] = [2]string{roleMeasured, roleBaseline}
		}
	}
	return out
}

// sideBySidePhase runs the cost suite c.costPairs times with each binary,
// interleaved pair by pair in a random order.
func sideBySidePhase(ctx context.Context, c *config, measured binary) (*sideBySide, error) {
	base, err := identify(c.baseline)
	if err != nil {
		return nil, fmt.Errorf("--baseline-bin: %w", err)
	}
	seed := c.seed
	if seed == 0 {
		seed = time.Now().UnixNano()
	}
	sb := &sideBySide{Seed: seed, Pairs: c.costPairs, Batch: c.costBatch, Baseline: base, Measured: measured}
	bins := map[string]string{roleBaseline: base.Path, roleMeasured: measured.Path}
	for p, order := range pairOrders(seed, c.costPairs) {
		for _, role := range order {
			s, err := runHarness(ctx, bins[role], costSuite, c.costBatch, c.out, fmt.Sprintf("cost-%02d-%s", p, role))
			if err != nil {
				return nil, err
			}
			sb.Batches = append(sb.Batches, costBatch{Pair: p, Role: role, Run: s})
		}
		fmt.Fprintf(c.log, "  pair %d/%d done, %s first (load %s)\n", p+1, c.costPairs, order[0], loadavg())
	}
	return sb, nil
}
