// Command pairs compares, inside one run, each scenario with its pair (the
// same app under another setting, named with a suffix): the paired
// measurement behind the README's table of the fn profile against the
// default. Scenarios without a pair are left out.
//
//	go run ./scripts/pairs [-suffix -fn] [-format markdown|text|json] RUN_DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports"
)

func main() {
	suffix := flag.String("suffix", "-fn", "suffix naming the paired scenario")
	format := flag.String("format", "markdown", "markdown, text or json")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: pairs [-suffix S] [-format F] RUN_DIR")
		os.Exit(2)
	}
	run, err := journal.LoadRun(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	base, paired := split(run.Records, *suffix)
	c := summary.Compare(base, paired, 0.95)
	fmt.Printf("run %s (%s): old = default, new = the %q scenario of each pair\n\n", run.Manifest.Run, run.Dir, *suffix)
	if err := reports.RenderComparison(os.Stdout, c, *format); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// split puts each record of a scenario named X+suffix on the new side as X,
// and the others on the old side.
func split(recs []result.Record, suffix string) (old, new []result.Record) {
	for _, r := range recs {
		if name, ok := strings.CutSuffix(r.Scenario, suffix); ok {
			r.Scenario = name
			new = append(new, r)
		} else {
			old = append(old, r)
		}
	}
	return old, new
}
