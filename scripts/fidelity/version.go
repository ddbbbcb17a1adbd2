package main

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

// versionData is phase 5: `coldstart version` timed by this program (raw
// times, rendered as percentiles) and by hyperfine when installed.
type versionData struct {
	TimesMS    []float64 `json:"times_ms"`  // own exec loop, successful runs
	Hyperfine  string    `json:"hyperfine"` // its version and command; "" when not installed
	HFMedianMS float64   `json:"hf_median_ms"`
	HFMeanMS   float64   `json:"hf_mean_ms"`
	HFStddevMS float64   `json:"hf_stddev_ms"`
	HFRuns     int       `json:"hf_runs"`
}

func versionPhase(ctx context.Context, c *config) *versionData {
	v := &versionData{}
	for i := 0; i < 10; i++ { // warm the page cache
		exec.Command(c.bin, "version").Run()
	}
	for i := 0; i < c.versionRuns && ctx.Err() == nil; i++ {
		t := mono()
		if err := exec.Command(c.bin, "version").Run(); err != nil {
			continue
		}
		v.TimesMS = append(v.TimesMS, ms(mono()-t))
	}
	if ctx.Err() == nil {
		hyperfine(ctx, c, v)
	}
	return v
}

// hyperfine times `coldstart version` with hyperfine -N, when installed.
func hyperfine(ctx context.Context, c *config, v *versionData) {
	hf, err := exec.LookPath("hyperfine")
	if err != nil {
		return
	}
	js := filepath.Join(c.out, "hyperfine.json")
	cmd := exec.CommandContext(ctx, hf, "-N", "--warmup", "20", "--runs", strconv.Itoa(c.versionRuns),
		"--export-json", js, c.bin+" version")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Run(); err != nil {
		return
	}
	var out struct {
		Results []struct {
			Mean, Stddev, Median float64
			Times                []float64
		}
	}
	b, _ := os.ReadFile(js)
	if json.Unmarshal(b, &out) != nil || len(out.Results) != 1 {
		return
	}
	r := out.Results[0]
	v.Hyperfine = "hyperfine -N --warmup 20 --runs " + strconv.Itoa(c.versionRuns)
	if ver, err := exec.Command(hf, "--version").Output(); err == nil {
		v.Hyperfine = strings.TrimSpace(string(ver)) + ": " + strings.TrimPrefix(v.Hyperfine, "hyperfine ")
	}
	v.HFMeanMS, v.HFStddevMS, v.HFMedianMS = r.Mean*1000, r.Stddev*1000, r.Median*1000
	v.HFRuns = len(r.Times)
}
