// Command pairs compares, inside one run, each scenario with its pair (the
// same app under another setting, named with a suffix): the paired
// measurement behind the README's table of the fn profile against the
// default. Scenarios without a pair are left out. -pair A=B (repeated)
// names the pairs instead: old = scenario A, new = scenario B, shown as
// "A → B" (the README's tables of the study's claims).
//
//	go run ./scripts/pairs [-suffix -fn | -pair A=B ...] [-format markdown|text|json] RUN_DIR
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
	var pairs []string
	flag.Func("pair", "A=B: compare scenario B (new) with scenario A (old); repeat for more pairs", func(v string) error {
		if a, b, ok := strings.Cut(v, "="); !ok || a == "" || b == "" {
			return fmt.Errorf("want A=B, got %q", v)
		}
		pairs = append(pairs, v)
		return nil
	})
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
	what := fmt.Sprintf("old = default, new = the %q scenario of each pair", *suffix)
	if len(pairs) > 0 {
		base, paired = named(run.Records, pairs)
		what = "old → new, as named"
	}
	c := summary.Compare(base, paired, 0.95)
	// Both sides come from one run whose plan interleaves its scenarios:
	// host drift falls on both alike (the comparison's "two runs" caveat,
	// and its "between the runs" warnings, read here as between the sides).
	c.Caveat = "one run, its scenarios interleaved, so host drift falls on both sides alike; the test is unpaired (Mann-Whitney), starts are not matched one to one"
	fmt.Printf("run %s (%s): %s\n\n", run.Manifest.Run, run.Dir, what)
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

// named puts, for each pair A=B, A's records on the old side and B's on the
// new, both under the name "A → B".
func named(recs []result.Record, pairs []string) (old, new []result.Record) {
	for _, p := range pairs {
		a, b, _ := strings.Cut(p, "=")
		for _, r := range recs {
			switch r.Scenario {
			case a:
				r.Scenario = a + " → " + b
				old = append(old, r)
			case b:
				r.Scenario = a + " → " + b
				new = append(new, r)
			}
		}
	}
	return old, new
}
