package cli

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coldstart/coldstart/harness/bench"
	"github.com/coldstart/coldstart/harness/merge"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports"
)

type mergeFlags struct {
	out, format, history string
	html                 bool
	maxSpread            float64
	meta, commandLine    []string
}

func newMergeCmd(commandLine []string) *cobra.Command {
	f := mergeFlags{commandLine: commandLine}
	c := &cobra.Command{
		Use:   "merge [flags] RUN_DIR...",
		Short: "Merge the shards of one plan (run --shard i/N on several hosts) into one run",
		Long: `Combines shard run directories (coldstart run --shard i/N, every shard with
the same suite and --seed, each on its own host) into one run directory that
reports, compare and record read as any run. Every record is kept, stamped
with its host (name, fingerprint, instance type) and shard. Statistics come
per host, and pooled only where the hosts agree: their reference arms' p50
ready times (the calibration workload's, else every arm's) within
--max-host-spread of each other, with at least 5 ok starts each; otherwise
every row is per host ("arm @host") and the report says why. A shard that
is missing or stopped early is listed with the starts it misses; the exit
code is then 8.`,
		Example: `  coldstart merge results/quickstart/shard-1 results/quickstart/shard-2 --out results/quickstart/merged`,
		Args:    args(1, -1, "one or more shard run directories"),
		RunE: func(c *cobra.Command, a []string) error {
			return mergeRuns(a, f, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.out, "out", "", "the merged run directory (new or empty; required)")
	fl.StringVar(&f.format, "format", "text", "stdout report: "+strings.Join(reports.Names(), ", "))
	fl.BoolVar(&f.html, "html", true, "also write "+HTMLReportFile+" into the merged run directory")
	fl.Float64Var(&f.maxSpread, "max-host-spread", summary.DefaultMaxHostSpreadPct, "hosts agree (their figures are pooled) when their reference p50s are within this percent, slowest over fastest")
	historyFlag(c, &f.history, "record the merged run in this history")
	fl.StringArrayVar(&f.meta, "meta", nil, "what the job knows about the run, as `KEY=VALUE`, kept with it in the history (repeatable)")
	c.MarkFlagFilename("out")
	return c
}

// mergeRuns is `coldstart merge`: one library call and a renderer.
func mergeRuns(dirs []string, f mergeFlags, stdout, stderr io.Writer) error {
	rf, ok := reports.Lookup(f.format)
	if !ok {
		return usagef("--format %q: want one of %s", f.format, strings.Join(reports.Names(), ", "))
	}
	if f.out == "" {
		return usagef("--out: the merged run directory is required")
	}
	hist, err := newHistoryTarget(f.history, f.meta)
	if err != nil {
		return err
	}
	runID, _ := bench.NewRunID(time.Now())
	res, err := merge.Dirs(dirs, merge.Options{Out: f.out, RunID: runID, MaxHostSpreadPct: f.maxSpread,
		Harness: FullVersion(), Args: f.commandLine})
	if err != nil {
		return err
	}
	return mergedOutcome(res, rf, f.html, hist, stdout, stderr)
}

// mergedOutcome renders a merged run, records it, and says what it means
// to CI: a paired verdict or SLO first, then an incomplete merge.
func mergedOutcome(res *merge.Result, rf reports.Format, html bool, hist historyTarget, stdout, stderr io.Writer) error {
	in := reports.Input{Summary: res.Summary, Records: res.Records, Manifest: res.Manifest}
	if err := rf.Render(stdout, in); err != nil {
		return err
	}
	if html {
		writeHTMLReport(res.Dir, in, stderr)
	}
	fmt.Fprintf(stderr, "merged run in %s\n", res.Dir)
	hist.record(res.Dir, res.Manifest, res.Summary, nil, stderr)
	if err := gateErr(res.Summary, false); err != nil {
		return err
	}
	if inc := res.Incomplete(); len(inc) > 0 {
		var parts []string
		for _, sh := range inc {
			parts = append(parts, fmt.Sprintf("shard %s (%s): %d of %d starts, %s", sh.Shard, orUnknown(sh.Host), sh.Completed, sh.Planned, sh.Reason))
		}
		return fmt.Errorf("%w: %s", errIncomplete, strings.Join(parts, "; "))
	}
	return nil
}

func orUnknown(s string) string {
	if s == "" {
		return "host unknown"
	}
	return s
}
