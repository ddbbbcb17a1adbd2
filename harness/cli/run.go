package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/coldstart/coldstart/harness/bench"
	"github.com/coldstart/coldstart/harness/internal/monitor"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports"
)

// DefaultSuite is what `coldstart run` runs without an argument.
const DefaultSuite = "scenarios/seed.yaml"

// DefaultSocketBase is where the per-start socket dirs go without
// --socket-dir: short on purpose (sun_path holds 107 bytes), and outside
// world-writable /tmp where the machine has a place for it: /run/coldstart
// for root where /run exists, $XDG_RUNTIME_DIR/coldstart for a user who has
// one; else /tmp/coldstart (root) or /tmp/coldstart-<uid>. The base itself
// is always a 0700 directory of the harness's user (see bench.SocketBase).
func DefaultSocketBase() string {
	uid := os.Geteuid()
	if uid == 0 {
		if st, err := os.Stat("/run"); err == nil && st.IsDir() {
			return "/run/coldstart"
		}
		return "/tmp/coldstart"
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" && len(d) < 40 {
		return filepath.Join(d, "coldstart")
	}
	return "/tmp/coldstart-" + strconv.Itoa(uid)
}

// socketDirHelp documents --socket-dir the same way for every command.
const socketDirHelp = "short host directory for the per-start socket dirs: a 0700 directory of this user, a nosuid,nodev,noexec tmpfs when run as root (env COLDSTART_SOCKET_DIR; default /run/coldstart as root, else $XDG_RUNTIME_DIR/coldstart or /tmp/coldstart-UID)"

// socketBase is the --socket-dir flag's value or the default.
func socketBase(flag string) string {
	if flag != "" {
		return flag
	}
	return DefaultSocketBase()
}

type runFlags struct {
	out, format, resume, cpuprofile, socketBase string
	runs                                        int
	scenarios                                   []string
	quiet, failOnMiss, force, skipSetup, html   bool
	verifyEvery                                 bool
	maxDuration                                 time.Duration
	commandLine                                 []string // for the manifest
	baseline, candidate                         string   // ab: the two images
	gate                                        result.Gate
	seed                                        int64
	ab                                          bool // the command is ab: a paired comparison is required
	history                                     string
	meta                                        []string // KEY=VALUE recorded with the run in the history
	shard, instanceType                         string   // a part of the plan, on a host of this kind
	noBuild, frames                             bool
	allowLong                                   bool
}

func newRunCmd(commandLine []string) *cobra.Command {
	f := runFlags{commandLine: commandLine}
	c := &cobra.Command{
		Use:   "run [flags] [SUITE]",
		Short: "Run a suite: fresh containers, timed to the first healthy answer (and the first real call)",
		Long: `Runs every scenario of SUITE (default ` + DefaultSuite + `): fresh containers,
timed from the start call to the first healthy answer on the app's Unix socket,
and, for a scenario with a work request (serving:), to the first expected
answer to it (serving_ms); contract: fn starts a function as Fn's agent does.
The run directory gets manifest.json, runs.jsonl (one fsynced line per start),
wal.jsonl, summary.json and report.html; the report goes to stdout, progress
to stderr. A suite with paired scenarios (baseline/candidate) gets the paired
verdict, and a suite with SLOs their checks; both decide the exit code. A run
that completes is recorded in the history (--history; see coldstart trend); a
failed history write is a warning and leaves the exit code as it was.`,
		Example: `  coldstart run scenarios/quickstart.yaml --out /tmp/q --runs 3
  coldstart run --resume results/seed/20261127T030405Z`,
		Args: args(0, 1, "at most one suite file"),
		RunE: func(c *cobra.Command, a []string) error {
			return runSuite(c.Context(), f, a, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	runFlagSet(c, &f)
	return c
}

func newABCmd(commandLine []string) *cobra.Command {
	f := runFlags{commandLine: commandLine, ab: true}
	c := &cobra.Command{
		Use:   "ab [flags] SUITE",
		Short: "A paired comparison in one run: baseline against candidate, drift cancelled pair by pair",
		Long: `Runs SUITE as a paired comparison: each scenario as a baseline and a candidate
variant in adjacent pairs (A B or B A, the order drawn with a recorded seed), so
that both halves of a pair see the same host, and draws a verdict per scenario
from the pairs: regressed (exit 5), improved, no change, or inconclusive (exit
7: the calibration workload drifted, too many starts were contended, or the
interval is too wide; rerun). The variants come from the suite (baseline: and
candidate: in a scenario) or from --baseline and --candidate, two images that
every scenario but the calibration ones then runs.`,
		Example: `  coldstart ab scenarios/app.yaml --baseline registry/app:1.4 --candidate registry/app:1.5
  coldstart ab scenarios/paired.yaml --threshold 10 --format markdown`,
		Args: args(1, 1, "one suite file"),
		RunE: func(c *cobra.Command, a []string) error {
			return runSuite(c.Context(), f, a, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	runFlagSet(c, &f)
	c.Flags().StringVar(&f.baseline, "baseline", "", "image of the baseline variant of every scenario (with --candidate)")
	c.Flags().StringVar(&f.candidate, "candidate", "", "image of the candidate variant of every scenario (with --baseline)")
	return c
}

// runFlagSet adds the flags run and ab share.
func runFlagSet(c *cobra.Command, f *runFlags) {
	fl := c.Flags()
	fl.StringVar(&f.out, "out", "", "run directory (default results/<suite>/<UTC stamp>)")
	fl.IntVar(&f.runs, "runs", 0, "measured starts per scenario (pairs, for a paired one), overriding the suite")
	fl.StringSliceVar(&f.scenarios, "scenario", nil, "run only these scenarios (repeatable or comma-separated)")
	fl.StringVar(&f.socketBase, "socket-dir", os.Getenv("COLDSTART_SOCKET_DIR"), socketDirHelp)
	fl.StringVar(&f.format, "format", "text", "stdout report: "+strings.Join(reports.Names(), ", "))
	fl.BoolVar(&f.html, "html", true, "also write "+HTMLReportFile+", the HTML report, into the run directory")
	fl.BoolVar(&f.quiet, "quiet", false, "no progress on stderr")
	fl.BoolVar(&f.failOnMiss, "fail-on-miss", false, "exit 4 when a measured start misses its deadline or fails, or is not served (a scenario with a work request)")
	fl.StringVar(&f.resume, "resume", "", "continue the interrupted run in `RUN_DIR`: only the missing starts run")
	fl.BoolVar(&f.force, "force", false, "with --resume: continue even if the suite, harness version or host changed (recorded)")
	fl.BoolVar(&f.verifyEvery, "verify-every-start", false, "read the enforced limits and the process's confinement back at every start (default: the first healthy start of each scenario, and every start that misses or is not served; the others carry that reading, named in verified_at_seq)")
	fl.BoolVar(&f.skipSetup, "skip-setup", false, "do not run the suite's setup commands (their output must already exist; for the harness container)")
	fl.StringVar(&f.cpuprofile, "cpuprofile", "", "write the harness's own CPU profile of the measured part to `FILE` (for harness developers)")
	fl.DurationVar(&f.maxDuration, "max-duration", 0, "stop scheduling after this long, keep what was measured, exit 124 (0 = no limit)")
	fl.Float64Var(&f.gate.ThresholdPct, "threshold", result.DefaultThresholdPct, "paired verdict: a change counts beyond ±this percent")
	fl.Float64Var(&f.gate.Confidence, "confidence", result.DefaultConfidence, "paired verdict: family-wise confidence of the intervals and tests")
	fl.Float64Var(&f.gate.MaxDriftPct, "max-drift", result.DefaultMaxDriftPct, "paired verdict: inconclusive when the calibration workload's p50 moves more than this percent between the halves of the run")
	fl.Float64Var(&f.gate.MaxContendedShare, "max-contended", result.DefaultMaxContendedShare, "paired verdict: inconclusive when more than this share of paired starts ran under contention")
	fl.StringVar(&f.gate.Metric, "metric", result.MetricReady, "paired verdict: the metric it is drawn on: ready (ready_ms) or serving (serving_ms, of scenarios with a work request)")
	fl.Int64Var(&f.seed, "seed", 0, "seed of the order within each pair (0: a random one, recorded in the manifest)")
	historyFlag(c, &f.history, "record the finished run in this history")
	fl.StringVar(&f.shard, "shard", os.Getenv("COLDSTART_SHARD"), "run only shard `i/N` of the plan (all shards with one --seed; i counts from 1, 0 is N; env COLDSTART_SHARD); merge the shards with coldstart merge")
	fl.StringVar(&f.instanceType, "instance-type", os.Getenv("COLDSTART_INSTANCE_TYPE"), "the kind of host this runs on, recorded for figures per instance type (env COLDSTART_INSTANCE_TYPE)")
	fl.BoolVar(&f.allowLong, "allow-long", false, "run a suite even if its sweeps could take more than 24 h at their deadlines (refused otherwise, with the estimate)")
	fl.BoolVar(&f.noBuild, "no-build", false, "neither run setup commands nor build: the suite's images must be on the engine (a fleet loads or pulls them)")
	fl.BoolVar(&f.frames, "frames", false, "write the run to stdout as framed JSON lines (manifest, each record as it is journaled, summary, end) for a coordinator such as coldstart swarm run; no report on stdout")
	fl.StringArrayVar(&f.meta, "meta", nil, "what the job knows about the run, as `KEY=VALUE` (commit=abc123, image=sha256:...), kept with it in the history (repeatable)")
	c.MarkFlagFilename("out")
	c.MarkFlagFilename("resume")
	c.MarkFlagFilename("cpuprofile")
}

// runSuite is `coldstart run`: open a session, run it, render its summary.
func runSuite(ctx context.Context, f runFlags, a []string, stdout, stderr io.Writer) error {
	rf, ok := reports.Lookup(f.format)
	if !ok {
		return usagef("--format %q: want one of %s", f.format, strings.Join(reports.Names(), ", "))
	}
	if m := f.gate.Metric; m != result.MetricReady && m != result.MetricServing {
		return usagef("--metric %q: want %s or %s", m, result.MetricReady, result.MetricServing)
	}
	hist, err := newHistoryTarget(f.history, f.meta)
	if err != nil {
		return err
	}
	cfg, err := f.config(a)
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
	if f.maxDuration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, f.maxDuration, errMaxDuration)
		defer cancel()
	}
	progress := newProgress(stderr, f.quiet)
	var frames *frameSink
	cfg.Log, cfg.Progress = progress.log(), func(done, total int, r *result.Record) {
		progress.start(done, total, r)
		frames.record(r)
	}
	sess, err := bench.Open(ctx, cfg)
	if err != nil {
		return stopped(ctx, err, "before the first start")
	}
	defer sess.Close()
	if f.frames {
		frames = newFrameSink(stdout, sess.Manifest)
		stdout = io.Discard // the frames are the output
	}
	err = runSession(ctx, f, sess, rf, hist, progress, frames, stdout, stderr)
	frames.end(err)
	return err
}

// config is the run the flags ask for, checked before anything starts.
func (f runFlags) config(a []string) (bench.Config, error) {
	suite := ""
	if len(a) == 1 {
		suite = a[0]
	} else if f.resume == "" {
		suite = DefaultSuite
	}
	var sh scenario.Shard
	if f.shard != "" {
		var err error
		if sh, err = scenario.ParseShard(f.shard); err != nil {
			return bench.Config{}, usagef("--shard: %v", err)
		}
	}
	return bench.Config{
		Suite: suite, Out: f.out, Runs: f.runs, Scenarios: f.scenarios,
		Resume: f.resume, Force: f.force, SkipSetup: f.skipSetup || f.noBuild, NoBuild: f.noBuild,
		VerifyEveryStart: f.verifyEvery, AllowLong: f.allowLong,
		Baseline: f.baseline, Candidate: f.candidate, Seed: f.seed, Gate: f.gate,
		Shard: sh, InstanceType: f.instanceType,
		SocketBase: socketBase(f.socketBase), Harness: FullVersion(),
		Args: f.commandLine,
	}, nil
}

// runSession runs an open session and renders, records and judges its results.
func runSession(ctx context.Context, f runFlags, sess *bench.Session, rf reports.Format, hist historyTarget,
	progress *progress, frames *frameSink, stdout, stderr io.Writer) error {
	if f.ab && !sess.Suite.Paired() {
		return usagef("ab: suite %s has no paired scenario: give --baseline and --candidate, or baseline:/candidate: in a scenario", sess.Suite.File)
	}
	progress.total = len(sess.Plan)
	if f.cpuprofile != "" {
		pf, err := os.Create(f.cpuprofile)
		if err != nil {
			return usagef("--cpuprofile: %v", err)
		}
		pprof.StartCPUProfile(pf)
		defer func() { pprof.StopCPUProfile(); pf.Close() }()
	}
	res, runErr := sess.Run(ctx)
	progress.finish()
	if res != nil && res.Summary != nil {
		frames.summary(res.Summary)
		in := reports.Input{Summary: res.Summary, Records: res.Records, Manifest: sess.Manifest}
		if err := rf.Render(stdout, in); err != nil {
			return err
		}
		if f.html {
			writeHTMLReport(sess.Dir, in, stderr)
		}
		fmt.Fprintf(stderr, "results in %s\n", sess.Dir)
	}
	if runErr != nil {
		done := 0
		if res != nil {
			done = len(res.Records)
		}
		return stopped(ctx, runErr, fmt.Sprintf("%d of %d starts completed; journal and summary kept in %s; resume with: coldstart run --resume %s",
			done, len(sess.Plan), sess.Dir, sess.Dir))
	}
	images, _ := sess.Runner.Engine.(imageIDer)
	hist.record(sess.Dir, sess.Manifest, res.Summary, images, stderr)
	return gateErr(res.Summary, f.failOnMiss)
}

// gateErr is what a finished run's results say to CI, most serious first: a
// regressed paired verdict, an SLO not met, an inconclusive verdict, and
// (with --fail-on-miss) a missed start.
func gateErr(s *summary.Summary, failOnMiss bool) error {
	if p := s.Paired; p != nil && p.Verdict == summary.Regressed {
		for _, v := range p.Scenarios {
			if v.Verdict == summary.Regressed {
				return fmt.Errorf("%w: %s: %s", errRegressed, v.Name, v.Reason)
			}
		}
	}
	for _, c := range s.SLOs {
		if !c.Met {
			return fmt.Errorf("%w: %s: %s: %s", errSLO, c.Arm, c.Objective, c.Reason)
		}
	}
	if p := s.Paired; p != nil && p.Verdict == summary.Inconclusive {
		for _, v := range p.Scenarios {
			if v.Verdict == summary.Inconclusive {
				return fmt.Errorf("%w: %s: %s", errInconclusive, v.Name, v.Reason)
			}
		}
	}
	if failOnMiss {
		for _, sc := range s.Scenarios {
			if sc.Missed() > 0 {
				return fmt.Errorf("%w: %s: %d of %d measured starts missed", errMisses, sc.Name, sc.Missed(), sc.N)
			}
			if sv := sc.Serving; sv != nil && sv.Missed() > 0 {
				return fmt.Errorf("%w: %s: %d of %d measured starts not served (%d of them after getting ready)", errMisses, sc.Name, sv.Missed(), sv.N, sv.ReadyNotServed)
			}
		}
	}
	return nil
}

// stopped names why a run ended early when a signal or --max-duration
// cancelled it (the cause decides the exit code), else returns err.
func stopped(ctx context.Context, err error, what string) error {
	cause := context.Cause(ctx)
	switch {
	case cause == nil:
		return err
	case errors.Is(cause, errMaxDuration):
		return fmt.Errorf("%w: %s: %v", errMaxDuration, what, err)
	}
	return fmt.Errorf("%w: %s", cause, what)
}

// signalContext cancels ctx on the first SIGINT or SIGTERM, with the signal
// as the cause. A second signal then takes its default action and ends the
// process at once (the journal is valid after every record).
func signalContext(ctx context.Context, stderr io.Writer) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			signal.Reset(syscall.SIGINT, syscall.SIGTERM)
			fmt.Fprintf(stderr, "\ncoldstart: %v: stopping after removing the container in flight (again to quit now)\n", s)
			cancel(&interrupted{s})
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(ch)
		close(done)
		cancel(nil)
	}
}

func newValidateCmd() *cobra.Command {
	var socketBase string
	var allowLong bool
	c := &cobra.Command{
		Use:   "validate [flags] SUITE...",
		Short: "Check suite files without touching the engine; exit 2 on any error",
		Args:  args(1, -1, "at least one suite file"),
		RunE: func(c *cobra.Command, a []string) error {
			return validate(a, socketBase, allowLong, c.OutOrStdout())
		},
	}
	c.Flags().StringVar(&socketBase, "socket-dir", os.Getenv("COLDSTART_SOCKET_DIR"), "host directory for the per-start socket dirs, for the sun_path length check (env COLDSTART_SOCKET_DIR; default as for run)")
	c.Flags().BoolVar(&allowLong, "allow-long", false, "accept suites whose sweeps could take more than 24 h (as run --allow-long)")
	return c
}

func validate(files []string, flag string, allowLong bool, stdout io.Writer) error {
	base, err := bench.ResolveBase(socketBase(flag))
	if err != nil {
		base, _ = filepath.Abs(socketBase(flag)) // the length check only needs its length
	}
	var errs []error
	for _, f := range files {
		s, err := scenario.Load(f, scenario.Options{HostDirLen: bench.HostDirLen(base), AllowLong: allowLong})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok: suite %s, %d scenarios, %d planned starts\n", f, s.Name, len(s.Scenarios), len(s.Plan(1)))
		for _, w := range bench.SuiteWarnings(s) {
			fmt.Fprintf(stdout, "%s: warning: %s\n", f, w)
		}
	}
	if len(errs) > 0 {
		return &usageError{errors.Join(errs...)}
	}
	return nil
}

// frameSink sends a run over stdout as frames (journal.FrameWriter) for a
// coordinator that reads the harness's log. A nil sink sends nothing.
type frameSink struct {
	w       *journal.FrameWriter
	records int
	err     error // the first failed send: the coordinator will miss frames
}

func newFrameSink(w io.Writer, m result.Manifest) *frameSink {
	s := &frameSink{w: journal.NewFrameWriter(w, m.Run)}
	s.send(journal.FrameManifest, &m)
	return s
}

func (s *frameSink) send(kind string, v any) {
	if err := s.w.Send(kind, v); err != nil && s.err == nil {
		s.err = err
	}
}

func (s *frameSink) record(r *result.Record) {
	if s != nil {
		s.records++
		s.send(journal.FrameRecord, r)
	}
}

func (s *frameSink) summary(sum *summary.Summary) {
	if s != nil {
		s.send(journal.FrameSummary, sum)
	}
}

// end closes the stream with the run's exit code and error.
func (s *frameSink) end(err error) {
	if s == nil {
		return
	}
	b := journal.FrameEndBody{Records: s.records, Code: Code(err)}
	if err != nil {
		b.Error = err.Error()
	}
	s.send(journal.FrameEnd, b)
}

// oneP runs the harness on one P until the returned func restores the
// previous setting. The harness runs one start at a time and mostly waits:
// one P saves the CPU that idle Ps spend spinning and waking (about 20% per
// start here), without changing detection lag. GOMAXPROCS in the
// environment wins. It also relaxes the runtime's monitor thread (see
// relaxMonitor).
func oneP() (restore func(), err error) {
	undo, err := relaxMonitor()
	if err != nil {
		return nil, err
	}
	if os.Getenv("GOMAXPROCS") != "" {
		return undo, nil
	}
	prev := runtime.GOMAXPROCS(1)
	return func() {
		runtime.GOMAXPROCS(prev)
		undo()
	}, nil
}

// monitorSlack is the timer slack given to the runtime's monitor thread
// (harness/internal/monitor): its 20 us polls while the harness is busy
// stretch to up to 10 ms, and most of its wake-ups go (about 13% of the
// harness's CPU per start here, measured side by side against no slack).
// Its one duty that matters here, handing the P of a goroutine stuck in a
// blocking system call to the others, then comes up to 10 ms later: the
// harness's system calls during a start do not block (sockets and inotify
// go through the poller, cgroupfs and procfs answer at once; the journal's
// fsync comes after the start, or after a burst). COLDSTART_MONITOR_SLACK
// sets another slack (a duration; 0 leaves the monitor alone). It takes
// root or CAP_SYS_NICE; without, nothing changes.
const monitorSlack = 10 * time.Millisecond

func relaxMonitor() (undo func(), err error) {
	slack := monitorSlack
	if v, ok := os.LookupEnv("COLDSTART_MONITOR_SLACK"); ok {
		if slack, err = time.ParseDuration(v); err != nil || slack < 0 {
			return nil, usagef("COLDSTART_MONITOR_SLACK=%q: want a duration such as 10ms, or 0 to leave the runtime's monitor alone", v)
		}
	}
	if slack == 0 {
		return func() {}, nil
	}
	if _, undo, err := monitor.Relax(slack); err == nil {
		return undo, nil
	}
	return func() {}, nil // not root, or no thread fits: nothing changes
}
