package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/coldstart/coldstart/harness/bench"
	"github.com/coldstart/coldstart/harness/cgroup"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/importtime"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
	"github.com/coldstart/coldstart/reports"
)

// DefaultSuite is what `coldstart run` runs without an argument.
const DefaultSuite = "scenarios/seed.yaml"

// DefaultSocketBase is short on purpose: sun_path holds 107 bytes.
const DefaultSocketBase = "/tmp/coldstart"

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}

func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "run directory (default results/<suite>/<UTC stamp>)")
	runs := fs.Int("runs", 0, "measured starts per scenario, overriding the suite")
	var names listFlag
	fs.Var(&names, "scenario", "run only these scenarios (repeatable or comma-separated)")
	socketBase := fs.String("socket-dir", envOr("COLDSTART_SOCKET_DIR", DefaultSocketBase), "short host directory for the per-start socket dirs")
	format := fs.String("format", "text", "stdout report: "+strings.Join(reports.Names(), ", "))
	html := fs.Bool("html", true, "also write "+HTMLReportFile+", the HTML report, into the run directory")
	quiet := fs.Bool("quiet", false, "no progress on stderr")
	failOnMiss := fs.Bool("fail-on-miss", false, "exit 4 when a measured start misses its deadline or fails")
	resume := fs.String("resume", "", "continue the interrupted run in `RUN_DIR`: only the missing starts run")
	force := fs.Bool("force", false, "with --resume: continue even if the suite, harness version or host changed (recorded)")
	skipSetup := fs.Bool("skip-setup", false, "do not run the suite's setup commands (their output must already exist; for the harness container)")
	cpuprofile := fs.String("cpuprofile", "", "write the harness's own CPU profile of the measured part to `FILE` (for harness developers)")
	maxDuration := fs.Duration("max-duration", 0, "stop scheduling after this long, keep what was measured, exit 124 (0 = no limit)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: coldstart run [flags] [SUITE]\n\nRuns every scenario of SUITE (default %s): fresh containers, timed from the\nstart call to the first healthy answer on the app's Unix socket.\n\nFlags:\n", DefaultSuite)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return WithCode(ExitBadInput, fmt.Errorf("run takes one suite file, got %d", fs.NArg()))
	}
	file := DefaultSuite
	if fs.NArg() == 1 {
		file = fs.Arg(0)
	}
	var prev *bench.Manifest
	if *resume != "" {
		m, err := bench.ReadManifest(*resume)
		if err != nil {
			return WithCode(ExitBadInput, fmt.Errorf("--resume: %w", err))
		}
		prev = &m
		if fs.NArg() == 0 {
			file = m.SuiteAbs
		}
		if *runs > 0 || len(names) > 0 || *out != "" {
			return WithCode(ExitBadInput, errors.New("--resume takes the run's own --runs, --scenario and directory from its manifest; do not give them again"))
		}
		if v, ok := m.Overrides["runs"]; ok {
			fmt.Sscan(v, runs)
		}
		if v, ok := m.Overrides["scenario"]; ok {
			names.Set(v)
		}
		*out = *resume
	}
	rf, ok := reports.Lookup(*format)
	if !ok {
		return WithCode(ExitBadInput, fmt.Errorf("--format %q: want one of %s", *format, strings.Join(reports.Names(), ", ")))
	}
	if *runs < 0 {
		return WithCode(ExitBadInput, fmt.Errorf("--runs %d: must be >= 1", *runs))
	}
	base, err := filepath.Abs(*socketBase)
	if err != nil {
		return WithCode(ExitBadInput, err)
	}

	// The harness runs one start at a time and mostly waits: one P saves the
	// CPU that idle Ps spend spinning and waking (about 20% per start here),
	// without changing detection lag. GOMAXPROCS in the environment wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}

	// Input first: nothing is started for a bad suite.
	suite, err := scenario.Load(file, scenario.Options{HostDirLen: bench.HostDirLen(base)})
	if err != nil {
		return WithCode(ExitBadInput, err)
	}
	overrides := map[string]string{}
	if len(names) > 0 {
		if err := suite.Select(names); err != nil {
			return WithCode(ExitBadInput, err)
		}
		overrides["scenario"] = names.String()
	}
	if *runs > 0 {
		suite.SetRuns(*runs)
		overrides["runs"] = fmt.Sprint(*runs)
	}
	plan := suite.Plan("interleaved")

	ctx, signalled, stop := signalContext(ctx, stderr)
	defer stop()
	timedOut := func() bool { return false }
	if *maxDuration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *maxDuration)
		defer cancel()
		timedOut = func() bool { return errors.Is(ctx.Err(), context.DeadlineExceeded) }
	}

	d, err := engine.Dial(ctx, 5*time.Second)
	if err != nil {
		if timedOut() {
			return WithCode(ExitMaxDuration, fmt.Errorf("--max-duration %v reached before the first start: %w", *maxDuration, err))
		}
		return WithCode(ExitEngine, err)
	}
	defer d.Close()
	host, err := d.Host(ctx)
	if err != nil {
		return WithCode(ExitEngine, err)
	}
	cg, err := cgroup.New()
	if err != nil {
		fmt.Fprintf(stderr, "coldstart: cgroups unreadable, no cgroup samples: %v\n", err)
		cg = nil
	}

	runID, tag := bench.NewRunID(time.Now())
	owner := bench.Owner()
	kernel, cpu, cores := bench.HostFacts()
	fingerprint := bench.Fingerprint(host, kernel, cpu, cores)
	var resumes []bench.Resume
	if prev != nil {
		var reasons []string
		if prev.SuiteHash != suite.Hash {
			reasons = append(reasons, fmt.Sprintf("suite %s changed (sha256 %.12s -> %.12s)", file, prev.SuiteHash, suite.Hash))
		}
		if prev.Harness != FullVersion() {
			reasons = append(reasons, fmt.Sprintf("harness version %s -> %s", prev.Harness, FullVersion()))
		}
		if prev.Fingerprint != fingerprint {
			reasons = append(reasons, fmt.Sprintf("host changed: %q -> %q", prev.Fingerprint, fingerprint))
		}
		if len(reasons) > 0 && !*force {
			return WithCode(ExitBadInput, fmt.Errorf("--resume %s refused: %s (--force to continue anyway; it is recorded)", *resume, strings.Join(reasons, "; ")))
		}
		runID = prev.Run
		tag = runID[len(runID)-8:]
		resumes = append(prev.Resumes, bench.Resume{Time: time.Now().UTC(), Owner: owner, Forced: len(reasons) > 0, Reasons: reasons})
	}
	labels := map[string]string{engine.LabelHarness: "1", engine.LabelRun: runID, engine.LabelOwner: owner}
	progress := newProgress(stderr, *quiet)
	if err := bench.Prepare(ctx, suite, d, map[string]string{engine.LabelHarness: "1"}, *skipSetup, progress.log()); err != nil {
		if timedOut() {
			return WithCode(ExitMaxDuration, fmt.Errorf("--max-duration %v reached during setup, before the first start: %w", *maxDuration, err))
		}
		var pe *bench.PrepareError
		if errors.As(err, &pe) {
			return WithCode(ExitBadInput, err)
		}
		if errors.Is(err, engine.ErrUnreachable) {
			return WithCode(ExitEngine, err)
		}
		return err
	}

	// Leftovers of dead coldstart processes go first; a live concurrent run's stay.
	if _, _, err := bench.GC(ctx, d, base, progress.log()); err != nil {
		return WithCode(ExitEngine, err)
	}
	sockDir, err := bench.ClaimSocketDir(base, tag, owner)
	if err != nil {
		return err
	}
	defer os.RemoveAll(sockDir)

	dir := *out
	if dir == "" {
		dir = filepath.Join("results", suite.Name, strings.SplitN(runID, "-", 2)[0])
	}
	cgv := 0
	if cg != nil {
		cgv = cg.Version()
	}
	runner := &bench.Runner{
		Engine: d, SocketBase: base, Run: runID, Tag: tag, Labels: labels,
		Progress: progress.start,
		Imports: func(stderr string) *result.Imports {
			im, _ := importtime.Parse(strings.NewReader(stderr))
			if im != nil {
				im.Modules = importtime.Top(im, 60) // the journal keeps the heavy part of the tree
			}
			return im
		},
	}
	if cg != nil {
		runner.Cgroups = cg
		driver := host.CgroupDriver
		runner.CgroupPath = func(id string) string { return cgroup.PathFor(driver, "", id) }
		runner.CgroupRoot = "/sys/fs/cgroup"
		if cg.Version() == 1 {
			runner.CgroupRoot = "/sys/fs/cgroup/cpu"
		}
	}
	sess := &bench.Session{
		Runner: runner, Suite: suite, Plan: plan, Dir: dir,
		Manifest: bench.Manifest{
			Run: runID, Suite: suite.Name, SuiteFile: suite.File, SuiteHash: suite.Hash,
			Harness: FullVersion(), GoVersion: runtime.Version(), Started: time.Now().UTC(),
			Args: append([]string{"run"}, args...), Owner: owner, Engine: host,
			CgroupVersion: cgv, Kernel: kernel, CPUModel: cpu, Cores: cores,
			SocketBase: base, Planned: len(plan), Scenarios: scenarioNames(suite),
			Overrides: overrides, PlanOrder: "warmups, then measured starts round-robin across scenarios, then diagnostic starts",
			Detection:   "inotify on the socket's host dir armed before start; then connect+HTTP request, 1 ms between attempts; t0 = monotonic clock just before ContainerStart",
			SuiteAbs:    suiteAbs(suite),
			Fingerprint: fingerprint,
			Resumes:     resumes,
		},
		Resume: prev != nil,
	}
	if prev != nil {
		sess.Manifest.Started, sess.Manifest.Args = prev.Started, prev.Args
	}
	progress.total = len(plan)
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return WithCode(ExitBadInput, err)
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	res, runErr := sess.Run(ctx)
	progress.finish()
	if res != nil && res.Summary != nil {
		in := reports.Input{Summary: res.Summary, Records: res.Records, Manifest: sess.Manifest}
		if err := rf.Render(stdout, in); err != nil {
			return err
		}
		if *html {
			writeHTMLReport(dir, in, stderr)
		}
		fmt.Fprintf(stderr, "results in %s\n", dir)
	}
	if res == nil {
		res = &bench.Outcome{}
	}
	if runErr != nil {
		if errors.Is(runErr, bench.ErrLocked) {
			return WithCode(ExitBadInput, runErr)
		}
		if timedOut() {
			return WithCode(ExitMaxDuration, fmt.Errorf("--max-duration %v reached: %d of %d starts completed; resume with: coldstart run --resume %s", *maxDuration, len(res.Records), len(plan), dir))
		}
		if s := signalled(); s != nil {
			code := ExitInterrupted
			if s == syscall.SIGTERM {
				code = ExitTerminated
			}
			return WithCode(code, fmt.Errorf("interrupted by %v: %d of %d starts completed; journal and summary kept in %s; resume with: coldstart run --resume %s", s, len(res.Records), len(plan), dir, dir))
		}
		if errors.Is(runErr, engine.ErrUnreachable) {
			return WithCode(ExitEngine, runErr)
		}
		return runErr
	}
	if *failOnMiss {
		for _, sc := range res.Summary.Scenarios {
			if sc.Missed() > 0 {
				return WithCode(ExitMisses, fmt.Errorf("%s: %d of %d measured starts missed", sc.Name, sc.Missed(), sc.N))
			}
		}
	}
	return nil
}

func suiteAbs(s *scenario.Suite) string {
	if filepath.IsAbs(s.File) {
		return s.File
	}
	return filepath.Join(s.Dir, filepath.Base(s.File))
}

func scenarioNames(s *scenario.Suite) []string {
	var n []string
	for _, sc := range s.Scenarios {
		n = append(n, sc.Name)
	}
	return n
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func cmdValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socketBase := fs.String("socket-dir", envOr("COLDSTART_SOCKET_DIR", DefaultSocketBase), "host directory for the per-start socket dirs (for the sun_path length check)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: coldstart validate [flags] SUITE...\n\nChecks suite files without touching the engine. Exit 2 on any error.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return WithCode(ExitBadInput, errors.New("validate: name at least one suite file"))
	}
	base, _ := filepath.Abs(*socketBase)
	var errs []error
	for _, f := range fs.Args() {
		s, err := scenario.Load(f, scenario.Options{HostDirLen: bench.HostDirLen(base)})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(stdout, "%s: ok: suite %s, %d scenarios, %d planned starts\n", f, s.Name, len(s.Scenarios), len(s.Plan("interleaved")))
	}
	if len(errs) > 0 {
		return WithCode(ExitBadInput, errors.Join(errs...))
	}
	return nil
}
