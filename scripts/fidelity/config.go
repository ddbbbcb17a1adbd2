package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"
)

// row is one set of limits, measured by both detectors.
type row struct {
	Name  string `json:"name"`  // the scenario name in lag.yaml
	Label string `json:"label"` // for the tables
	Quota int64  `json:"quota"` // CFS quota (us) per 100000 us period
}

// allRows are the rows --rows selects from.
var allRows = []row{
	{"seed", "seed: 10% of 1 CPU, 128 MiB", 10000},
	{"free", "2 CPUs (no throttling), 128 MiB", 200000},
}

// period is the CFS period (us) of every row.
const period = 100000

// phaseNames in the order they run.
var phaseNames = []string{"lag", "cost", "overhead", "version"}

// Suites, relative to the module root.
const (
	lagSuite      = "scripts/fidelity/lag.yaml"
	costSuite     = "scripts/fidelity/cost.yaml"
	overheadSuite = "scripts/fidelity/overhead.yaml"
)

type config struct {
	bin, baseline, out, image   string
	batches, batch              int
	costRuns, overheadRuns      int
	costPairs, costBatch        int
	versionRuns                 int
	seed                        int64
	poll, deadline, curlTimeout time.Duration
	rows                        []row
	phases                      map[string]bool
	trial                       bool
	render                      string
	args                        []string // as given, for the report
	docker, curl, root          string   // found at run time; root is the module root
	log                         io.Writer
}

// parseConfig reads the command line.
func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{args: args, log: stderr}
	fs := flag.NewFlagSet("fidelity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var phases, rows string
	fs.StringVar(&c.bin, "bin", "", "coldstart binary to measure (default: build the release binary, CGO_ENABLED=0 -trimpath -ldflags='-s -w', into the output dir)")
	fs.StringVar(&c.baseline, "baseline-bin", "", "cost phase: run the cost suite with this binary and the measured one interleaved (--cost-pairs batches of --cost-batch starts each, order randomised per pair) and compare their CPU per start")
	fs.StringVar(&c.out, "out", "", "output directory for raw data (default results/fidelity/<UTC stamp>)")
	fs.StringVar(&c.image, "image", "coldstart/go-hello:latest", "app image of the loop (must match lag.yaml)")
	fs.IntVar(&c.batches, "batches", 10, "lag/ready: number of (harness batch, loop batch) pairs")
	fs.IntVar(&c.batch, "batch", 12, "lag/ready: starts per row per batch, for each detector")
	fs.IntVar(&c.costRuns, "cost-runs", 500, "CPU/RSS: starts of the cost suite (without --baseline-bin)")
	fs.IntVar(&c.costPairs, "cost-pairs", 10, "CPU/RSS with --baseline-bin: pairs of batches, one batch per binary")
	fs.IntVar(&c.costBatch, "cost-batch", 50, "CPU/RSS with --baseline-bin: starts per batch")
	fs.Int64Var(&c.seed, "seed", 0, "with --baseline-bin: seed of the per-pair order (0: from the clock; recorded either way)")
	fs.IntVar(&c.overheadRuns, "overhead-runs", 100, "overhead: starts of the overhead suite")
	fs.IntVar(&c.versionRuns, "version-runs", 200, "executions of 'coldstart version' timed")
	fs.DurationVar(&c.poll, "poll", 5*time.Millisecond, "loop: pause between curl attempts")
	fs.DurationVar(&c.deadline, "deadline", 3*time.Second, "loop: give up a start after this long from t0")
	fs.DurationVar(&c.curlTimeout, "curl-timeout", time.Second, "loop: curl --max-time per attempt (must exceed the 100 ms CFS period)")
	fs.StringVar(&rows, "rows", "seed,free", "lag/ready: limit rows (seed = 10% of one CPU; free = 2 CPUs, no throttling)")
	fs.StringVar(&phases, "phases", strings.Join(phaseNames, ","), "phases to run (comma-separated subset of "+strings.Join(phaseNames, ",")+")")
	fs.BoolVar(&c.trial, "trial", false, "small sizes for a quick check: --batches 2 --batch 10 --cost-runs 100 --cost-pairs 4 --cost-batch 25 --overhead-runs 50 --version-runs 100 (explicit flags still win)")
	fs.StringVar(&c.render, "render", "", "print the Markdown of an earlier run from `DIR` (its report.json and run directories), and measure nothing")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q (every setting is a flag)", fs.Args())
	}
	if c.trial {
		trialSizes(c, fs)
	}
	var err error
	if c.rows, err = selectRows(rows); err != nil {
		return nil, err
	}
	if c.phases, err = selectPhases(phases); err != nil {
		return nil, err
	}
	return c, c.check()
}

// trialSizes sets the --trial sizes of every size flag not given.
func trialSizes(c *config, fs *flag.FlagSet) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for name, p := range map[string]struct {
		v *int
		n int
	}{
		"batches": {&c.batches, 2}, "batch": {&c.batch, 10}, "cost-runs": {&c.costRuns, 100},
		"cost-pairs": {&c.costPairs, 4}, "cost-batch": {&c.costBatch, 25},
		"overhead-runs": {&c.overheadRuns, 50}, "version-runs": {&c.versionRuns, 100},
	} {
		if !set[name] {
			*p.v = p.n
		}
	}
}

func selectRows(list string) ([]row, error) {
	var sel []row
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, r := range allRows {
			if r.Name == n {
				sel, found = append(sel, r), true
			}
		}
		if !found && n != "" {
			return nil, fmt.Errorf("--rows: unknown row %q (seed, free)", n)
		}
	}
	if len(sel) == 0 {
		return nil, errors.New("--rows: name at least one row")
	}
	return sel, nil
}

func selectPhases(list string) (map[string]bool, error) {
	sel := map[string]bool{}
	for _, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		switch p {
		case "lag", "cost", "overhead", "version":
			sel[p] = true
		case "":
		default:
			return nil, fmt.Errorf("--phases: unknown phase %q", p)
		}
	}
	return sel, nil
}

// check rejects sizes that would measure nothing.
func (c *config) check() error {
	if c.render != "" {
		return nil
	}
	if c.baseline != "" && !c.phases["cost"] {
		return errors.New("--baseline-bin compares the cost phase: add cost to --phases")
	}
	for _, s := range []struct {
		name string
		v    int
	}{{"batches", c.batches}, {"batch", c.batch}, {"cost-runs", c.costRuns}, {"cost-pairs", c.costPairs},
		{"cost-batch", c.costBatch}, {"overhead-runs", c.overheadRuns}, {"version-runs", c.versionRuns}} {
		if s.v < 1 {
			return fmt.Errorf("--%s %d: want at least 1", s.name, s.v)
		}
	}
	return nil
}

func (c *config) rowNames() []string {
	var n []string
	for _, r := range c.rows {
		n = append(n, r.Name)
	}
	return n
}
