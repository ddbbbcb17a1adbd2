package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coldstart/coldstart/harness/bench"
	"github.com/coldstart/coldstart/harness/capacity"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports"
)

// CapacityFile is the search's result in the plan's directory.
const CapacityFile = "capacity.json"

var errNoCapacity = errors.New("no grid point meets the SLO")

type planFlags struct {
	slo, out, format, socketBase string
	scenarios, memoryGrid        []string
	cpuGrid                      []float64
	memory, quiet, recheck       bool
	skipSetup, noBuild           bool
	confidence                   float64
	batch, maxPerProbe           int
	commandLine                  []string
}

func newPlanCmd(commandLine []string) *cobra.Command {
	f := planFlags{commandLine: commandLine}
	c := &cobra.Command{
		Use:   "plan [flags] SUITE --slo \"p95 < 3s\"",
		Short: "Find the smallest CPU quota (and memory limit) under which each scenario meets an SLO",
		Long: `Searches, per scenario of SUITE, the grid of CPU quotas (--cpus-grid) for the
smallest that meets the SLO (--slo "pN < DURATION" on ready_ms), by bisection: at
each probe it starts the scenario fresh, in batches, until a one-sided binomial
test on the share of starts at or above the bound decides "meets" or "misses"
at --confidence, or --max-per-probe starts are spent (undecided: counted as a
miss, and said). A start that misses its deadline, crashes or is OOM-killed
counts as at or above the bound: censored, never dropped. With --memory it then
searches the memory grid at the CPU answer: the smallest limit with no OOM kill
and the SLO met over the starts tried. It reports the answer, the observed
percentile with its interval there and at the next lower step, and the starts
spent; every start is journaled in the plan's directory (runs.jsonl, its cell
the probe's point) beside summary.json and capacity.json. Exit 9 when a
scenario has no grid point that meets the SLO.`,
		Example: `  coldstart plan scenarios/seed.yaml --slo "p95 < 3s" --memory
  coldstart plan scenarios/quickstart.yaml --slo "p50 < 800ms" --cpus-grid 0.05,0.1,0.2,0.5 --max-per-probe 20`,
		Args: args(1, 1, "one suite file"),
		RunE: func(c *cobra.Command, a []string) error {
			return plan(c.Context(), f, a[0], c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	fl := c.Flags()
	fl.StringVar(&f.slo, "slo", "", `the objective on ready_ms, "pN < DURATION" (required), e.g. "p95 < 3s"`)
	f.cpuGrid = append([]float64(nil), capacity.DefaultCPUGrid...)
	fl.Var((*cpuList)(&f.cpuGrid), "cpus-grid", "the CPU quotas to search, in CPUs, ascending")
	fl.BoolVar(&f.memory, "memory", false, "also search the memory grid at the CPU answer (no swap)")
	var memDefault []string
	for _, m := range capacity.DefaultMemoryGrid {
		memDefault = append(memDefault, capacity.FormatMemory(m))
	}
	fl.StringSliceVar(&f.memoryGrid, "memory-grid", memDefault, "the memory limits to search with --memory, ascending")
	fl.Float64Var(&f.confidence, "confidence", capacity.DefaultConfidence, "confidence of each probe's verdict")
	fl.IntVar(&f.batch, "batch", capacity.DefaultBatch, "starts per round of a probe")
	fl.IntVar(&f.maxPerProbe, "max-per-probe", capacity.DefaultMaxPerProbe, "the most starts a probe spends before it stops undecided (a p95 needs 59 starts without a late one to meet at 95%)")
	fl.BoolVar(&f.recheck, "recheck", true, "measure the answer point again at the end and warn when its verdict changed (drift)")
	fl.StringSliceVar(&f.scenarios, "scenario", nil, "search only these scenarios (repeatable or comma-separated)")
	fl.StringVar(&f.out, "out", "", "the plan's directory (default results/<suite>/plan-<UTC stamp>)")
	fl.StringVar(&f.format, "format", "text", "stdout report: "+strings.Join(reports.CapacityNames(), ", "))
	fl.StringVar(&f.socketBase, "socket-dir", os.Getenv("COLDSTART_SOCKET_DIR"), socketDirHelp)
	fl.BoolVar(&f.quiet, "quiet", false, "no progress on stderr")
	fl.BoolVar(&f.skipSetup, "skip-setup", false, "do not run the suite's setup commands (their output must already exist)")
	fl.BoolVar(&f.noBuild, "no-build", false, "neither run setup commands nor build: the suite's images must be on the engine")
	c.MarkFlagFilename("out")
	return c
}

// options checks the flags before anything starts.
func (f planFlags) options() (capacity.Options, reports.CapacityFormat, error) {
	rf, ok := reports.LookupCapacity(f.format)
	if !ok {
		return capacity.Options{}, rf, usagef("--format %q: want one of %s", f.format, strings.Join(reports.CapacityNames(), ", "))
	}
	if f.slo == "" {
		return capacity.Options{}, rf, usagef(`--slo is required, e.g. --slo "p95 < 3s"`)
	}
	obj, err := capacity.ParseObjective(f.slo)
	if err != nil {
		return capacity.Options{}, rf, usagef("--slo: %v", err)
	}
	o := capacity.Options{Objective: obj, Confidence: f.confidence, Batch: f.batch, MaxPerProbe: f.maxPerProbe,
		CPUGrid: f.cpuGrid, Recheck: f.recheck}
	if f.memory {
		for _, s := range f.memoryGrid {
			b, err := scenario.ParseSize(s)
			if err != nil {
				return o, rf, usagef("--memory-grid: %v", err)
			}
			if b < 6<<20 {
				return o, rf, usagef("--memory-grid: %s is below docker's minimum of 6m", s)
			}
			o.MemoryGrid = append(o.MemoryGrid, b)
		}
	}
	if err := o.Check(); err != nil {
		return o, rf, usagef("%v", err)
	}
	return o, rf, nil
}

// plan is `coldstart plan`: open a session, search with probes through
// it, render the answers.
func plan(ctx context.Context, f planFlags, suite string, stdout, stderr io.Writer) error {
	o, rf, err := f.options()
	if err != nil {
		return err
	}
	restore, err := oneP()
	if err != nil {
		return err
	}
	defer restore()
	ctx, stop := signalContext(ctx, stderr)
	defer stop()
	progress := newProgress(stderr, f.quiet)
	cfg := bench.Config{Suite: suite, Out: f.out, Scenarios: f.scenarios, SkipSetup: f.skipSetup || f.noBuild, NoBuild: f.noBuild,
		AllowLong: true, SocketBase: socketBase(f.socketBase), Harness: FullVersion(), Args: f.commandLine, Log: progress.log(),
		Progress: func(done, _ int, r *result.Record) { progress.start(done, 0, r) }}
	sess, err := bench.Open(ctx, cfg)
	if err != nil {
		return stopped(ctx, err, "before the first start")
	}
	defer sess.Close()
	if f.out == "" {
		sess.Dir = filepath.Join(filepath.Dir(sess.Dir), "plan-"+filepath.Base(sess.Dir))
	}
	var names []string
	for _, sc := range sess.Suite.Scenarios {
		if len(names) > 0 && names[len(names)-1] == sc.Name {
			continue
		}
		if sc.Variant != "" {
			return usagef("plan: scenario %s is paired: search its images one at a time, in scenarios of their own", sc.Name)
		}
		if o.Objective.Bound > sc.Deadline {
			return usagef("plan: the SLO's bound %v is past scenario %s's deadline %v: a start is cut off before it could tell; raise the deadline in the suite", o.Objective.Bound, sc.Name, sc.Deadline)
		}
		names = append(names, sc.Name)
	}
	pr, err := sess.Prober()
	if err != nil {
		return err
	}
	defer pr.Close()
	o.Progress = func(name string, p capacity.Probe) {
		if !f.quiet {
			fmt.Fprintf(stderr, "\r\x1b[Kplan: %s %s %s: %s after %d starts (%d at or above the bound)\n", name, p.Phase, p.Point.Cell(), p.Verdict, p.Count.N, p.Count.K)
		}
	}
	res, runErr := capacity.Search(ctx, sampler{pr}, names, o)
	progress.finish()
	if res != nil {
		res.Run = sess.Dir
		sum := summary.OfRun(pr.Records(), sess.Manifest, runErr != nil, nil)
		if err := journal.WriteJSONAtomic(filepath.Join(sess.Dir, journal.SummaryFile), sum); err != nil {
			return errors.Join(runErr, err)
		}
		if err := journal.WriteJSONAtomic(filepath.Join(sess.Dir, CapacityFile), res); err != nil {
			return errors.Join(runErr, err)
		}
		if err := rf.Render(stdout, res); err != nil {
			return err
		}
		writeHTMLReport(sess.Dir, reports.Input{Summary: sum, Records: pr.Records(), Manifest: sess.Manifest}, stderr)
		fmt.Fprintf(stderr, "results in %s\n", sess.Dir)
	}
	if runErr != nil {
		return stopped(ctx, runErr, fmt.Sprintf("the search stopped; its starts are in %s", sess.Dir))
	}
	for _, a := range res.Answers {
		switch {
		case !a.Found:
			return fmt.Errorf("%w: %s: no CPU quota of the grid meets %s", errNoCapacity, a.Scenario, res.Objective)
		case a.MemorySearched && !a.MemoryFound:
			return fmt.Errorf("%w: %s: no memory limit of the grid meets %s at %v CPUs", errNoCapacity, a.Scenario, res.Objective, a.CPUs)
		}
	}
	return nil
}

// sampler runs a search's probes through the session's prober.
type sampler struct{ p *bench.Prober }

func (s sampler) Sample(ctx context.Context, name string, pt capacity.Point, n int) ([]result.Record, error) {
	return s.p.Starts(ctx, name, bench.Point{CPUs: pt.CPUs, Memory: pt.Memory, MemoryText: capacity.FormatMemory(pt.Memory)}, n)
}

// cpuList is a comma-separated list of CPU amounts, shown as written
// ("0.05,0.1,...", where pflag's float slice shows "0.050000").
type cpuList []float64

func (l *cpuList) String() string {
	parts := make([]string, len(*l))
	for i, v := range *l {
		parts[i] = strconv.FormatFloat(v, 'g', -1, 64)
	}
	return strings.Join(parts, ",")
}

func (l *cpuList) Set(s string) error {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number of CPUs", part)
		}
		out = append(out, v)
	}
	*l = out
	return nil
}

func (l *cpuList) Type() string { return "cpus" }
