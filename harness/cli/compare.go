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
interval, a Mann-Whitney U test, and Fisher's exact test on the misses.
Two runs taken at different times or on different hosts: the host's drift
between them is not controlled, and the calibration workload's change is shown
beside every scenario's to say how much the host moved. For a verdict drift
cannot fake, run the two variants in one run: coldstart ab.`,
		Args: args(2, 2, "two runs: OLD NEW"),
		RunE: func(c *cobra.Command, a []string) error {
			return compare(a[0], a[1], f, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.format, "format", "text", "text, markdown or json")
	fl.Float64Var(&f.confidence, "confidence", 0.95, "confidence level of the intervals")
	fl.Float64Var(&f.failAbove, "fail-above", 0, "exit 4 when a scenario's p50 got slower by more than this percent, the whole interval beyond it, or its misses grew (Fisher exact p < 0.05); 0 = never. Drift between the runs is not controlled: gate commits with ab")
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
		if bad, why := c.Gate(f.failAbove); bad {
			return fmt.Errorf("%w: %s", errMisses, why)
		}
	}
	return nil
}
