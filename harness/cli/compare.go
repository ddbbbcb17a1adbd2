package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports"
)

type compareFlags struct {
	format                string
	confidence, failAbove float64
}

func newCompareCmd() *cobra.Command {
	var f compareFlags
	c := &cobra.Command{
		Use:   "compare [flags] OLD_RUN NEW_RUN",
		Short: "Compare ready_ms of two runs, scenario by scenario",
		Long: `Compares ready_ms of two runs (run directories or runs.jsonl files) scenario by
scenario: p50 and p95 in both, their change with a bootstrap confidence
interval, and a Mann-Whitney U test.`,
		Args: args(2, 2, "two runs: OLD NEW"),
		RunE: func(c *cobra.Command, a []string) error {
			return compare(a[0], a[1], f, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.format, "format", "text", "text, markdown or json")
	fl.Float64Var(&f.confidence, "confidence", 0.95, "confidence level of the intervals")
	fl.Float64Var(&f.failAbove, "fail-above", 0, "exit 4 when a scenario's p50 got slower by more than this percent with an interval that excludes 0 (0 = never)")
	return c
}

func compare(oldRun, newRun string, f compareFlags, stdout, stderr io.Writer) error {
	if f.format != "text" && f.format != "markdown" && f.format != "json" {
		return usagef("--format %q: want text, markdown or json", f.format)
	}
	if f.confidence <= 0 || f.confidence >= 1 {
		return usagef("--confidence %v: want a level between 0 and 1", f.confidence)
	}
	var runs [2][]result.Record
	for i, p := range []string{oldRun, newRun} {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			p = filepath.Join(p, journal.RunsFile)
		}
		recs, warns, err := journal.Read(p)
		if err != nil {
			return &usageError{err}
		}
		for _, w := range warns {
			fmt.Fprintln(stderr, "coldstart:", w)
		}
		runs[i] = recs
	}
	c := summary.Compare(runs[0], runs[1], f.confidence)
	if len(c.Scenarios) == 0 {
		return usagef("the two runs have no scenario in common")
	}
	if err := reports.RenderComparison(stdout, c, f.format); err != nil {
		return err
	}
	if f.failAbove > 0 {
		for _, d := range c.Scenarios {
			if d.P50.Significant && d.P50.Pct.Known && d.P50.Pct.V > f.failAbove {
				return fmt.Errorf("%w: %s: p50 ready_ms %+.1f%% (above %.1f%%)", errMisses, d.Name, d.P50.Pct.V, f.failAbove)
			}
			if d.NewMisses > d.OldMisses && d.P < 0.05 {
				return fmt.Errorf("%w: %s: misses %d -> %d", errMisses, d.Name, d.OldMisses, d.NewMisses)
			}
		}
	}
	return nil
}
