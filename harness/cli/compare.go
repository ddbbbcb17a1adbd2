package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports"
)

func cmdCompare(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", "text, markdown or json")
	confidence := fs.Float64("confidence", 0.95, "confidence level of the intervals")
	failAbove := fs.Float64("fail-above", 0, "exit 4 when a scenario's p50 got slower by more than this percent with an interval that excludes 0 (0 = never)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: coldstart compare [flags] OLD_RUN NEW_RUN\n\nCompares ready_ms of two runs (run directories or runs.jsonl files) scenario by scenario:\np50 and p95 in both, their change with a bootstrap confidence interval, and a Mann-Whitney U test.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 2 {
		return WithCode(ExitBadInput, errors.New("compare takes two runs: OLD NEW"))
	}
	if *format != "text" && *format != "markdown" && *format != "json" {
		return WithCode(ExitBadInput, fmt.Errorf("--format %q: want text, markdown or json", *format))
	}
	if *confidence <= 0 || *confidence >= 1 {
		return WithCode(ExitBadInput, fmt.Errorf("--confidence %v: want a level between 0 and 1", *confidence))
	}
	var runs [2][]result.Record
	for i, p := range fs.Args() {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			p = filepath.Join(p, journal.RunsFile)
		}
		recs, warns, err := journal.Read(p)
		if err != nil {
			return WithCode(ExitBadInput, err)
		}
		for _, w := range warns {
			fmt.Fprintln(stderr, "coldstart:", w)
		}
		runs[i] = recs
	}
	c := summary.Compare(runs[0], runs[1], *confidence)
	if len(c.Scenarios) == 0 {
		return WithCode(ExitBadInput, errors.New("the two runs have no scenario in common"))
	}
	if err := reports.RenderComparison(stdout, c, *format); err != nil {
		return err
	}
	if *failAbove > 0 {
		for _, d := range c.Scenarios {
			if d.P50.Significant && d.P50.Pct.Known && d.P50.Pct.V > *failAbove {
				return WithCode(ExitMisses, fmt.Errorf("%s: p50 ready_ms %+.1f%% (above %.1f%%)", d.Name, d.P50.Pct.V, *failAbove))
			}
			if d.NewMisses > d.OldMisses && d.P < 0.05 {
				return WithCode(ExitMisses, fmt.Errorf("%s: misses %d -> %d", d.Name, d.OldMisses, d.NewMisses))
			}
		}
	}
	return nil
}
