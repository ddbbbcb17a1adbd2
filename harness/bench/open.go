package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coldstart/coldstart/harness/cgroup"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/importtime"
	"github.com/coldstart/coldstart/harness/internal/oomlog"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/probe"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// Config is what a run is asked to do: the suite and what the command line
// selects or overrides in it.
type Config struct {
	Suite     string   // suite file; with Resume and no Suite, the run's own
	Out       string   // run directory; "" = results/<suite>/<UTC stamp>
	Runs      int      // measured starts per scenario (0 = the suite's)
	Scenarios []string // only these scenarios (nil = all)
	Resume    string   // an interrupted run directory to continue
	// Baseline and Candidate, when both are set, pair every scenario but the
	// calibration ones: the baseline runs one image, the candidate the other.
	Baseline, Candidate string
	Seed                int64       // draws the order within each pair; 0 picks one
	Gate                result.Gate // the paired verdict\'s rule (zero: the defaults)
	Force               bool        // resume even if the suite, harness or host changed
	SkipSetup           bool        // do not run setup commands (their output exists)
	AllowLong           bool        // accept a suite that could take longer than scenario.MaxRunTime
	VerifyEveryStart    bool        // read the enforced limits back at every start (Runner.VerifyEveryStart)
	NoBuild             bool        // do not build either: the images are on the engine
	// Shard, when Count > 0, runs only that part of the plan (all shards
	// share the suite and the seed); InstanceType names the host's kind.
	Shard        scenario.Shard
	InstanceType string
	SocketBase   string   // short host directory for the per-start socket dirs
	Harness      string   // the harness's version, for the manifest
	Args         []string // the command line, for the manifest
	Log          io.Writer
	Progress     func(done, total int, r *result.Record)
}

// DetectionNote describes readiness detection, for the run manifest.
const DetectionNote = "inotify on the socket's host dir armed before start; then connect+HTTP request, 1 ms between attempts " +
	"(contract fn: the lsnr.sock link's create event and Fn's check instead); t0 = monotonic clock just before ContainerStart; " +
	"serving: the work request sent at readiness, once, with the rest of the deadline as its timeout (again only after a connection error)"

// Open prepares a run: it reads and checks the suite (or the interrupted
// run to resume), connects to the engine, runs setup commands and builds
// images, collects leftovers of dead harnesses, and claims the run's socket
// directory. Bad input is an *InputError and nothing is started; an engine
// that does not answer is engine.ErrUnreachable. Close the session after use.
func Open(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	in, err := readInput(cfg)
	if err != nil {
		return nil, err
	}
	cfg = in.cfg
	sess := &Session{Suite: in.suite, Plan: in.plan(), Resume: in.prev != nil}
	ok := false
	defer func() {
		if !ok {
			sess.Close()
		}
	}()
	// The socket base is checked (and mounted) before anything runs: a base
	// that cannot be trusted is bad input, and nothing starts.
	base, err := OpenSocketBase(in.base, BaseOptions{Create: true, Mount: os.Geteuid() == 0})
	if err != nil {
		return nil, err
	}
	sess.closers = append(sess.closers, func() { base.Close() })
	d, err := engine.Dial(ctx, 5*time.Second)
	if err != nil {
		return nil, err
	}
	sess.closers = append(sess.closers, func() { d.Close() })
	sess.cleaner = d
	host, err := d.Host(ctx)
	if err != nil {
		return nil, err
	}
	runID, tag := NewRunID(time.Now())
	owner := Owner()
	kernel, cpu, cores := HostFacts()
	fingerprint := result.Fingerprint(host, kernel, cpu, cores)
	var resumes []result.Resume
	if in.prev != nil {
		if runID, tag, resumes, err = in.resume(fingerprint, owner); err != nil {
			return nil, err
		}
	}
	if err := Prepare(ctx, in.suite, d, map[string]string{engine.LabelHarness: "1"}, cfg.SkipSetup, cfg.NoBuild, cfg.Log); err != nil {
		return nil, err
	}
	// Leftovers of dead coldstart processes go first; a live concurrent run's stay.
	if _, _, err := GC(ctx, d, base, cfg.Log); err != nil {
		return nil, err
	}
	rd, err := base.Claim(tag, owner)
	if err != nil {
		return nil, err
	}
	sess.closers = append(sess.closers, func() { rd.Close() })
	if sess.Runner, err = runnerFor(d, rd, base.Mount, runID, owner, cfg.Progress); err != nil {
		return nil, err
	}
	sess.closers = append(sess.closers, func() { sess.Runner.Watcher.Close() })
	sess.Runner.VerifyEveryStart = cfg.VerifyEveryStart
	cgv := attachCgroups(sess.Runner, host, cfg.Log)
	sess.Dir = cfg.Out
	if sess.Dir == "" {
		sess.Dir = filepath.Join("results", in.suite.Name, strings.SplitN(runID, "-", 2)[0])
	}
	sess.Manifest = result.Manifest{
		Run: runID, Harness: cfg.Harness, GoVersion: runtime.Version(), GOARCH: runtime.GOARCH, Started: time.Now().UTC(),
		Args: cfg.Args, Owner: owner, Engine: host,
		CgroupVersion: cgv, Kernel: kernel, CPUModel: cpu, Cores: cores,
		Fingerprint: fingerprint, Resumes: resumes,
	}
	in.describe(&sess.Manifest, base, len(sess.Plan))
	ok = true
	return sess, nil
}

// resume checks that the interrupted run may go on here and returns its id,
// this session's tag and the run's resumes with this one.
func (in *input) resume(fingerprint, owner string) (runID, tag string, resumes []result.Resume, err error) {
	prev, cfg := in.prev, in.cfg
	reasons := resumeChanges(prev, in.suite, cfg.Harness, fingerprint)
	if len(reasons) > 0 && !cfg.Force {
		return "", "", nil, &InputError{fmt.Errorf("--resume %s refused: %s (--force to continue anyway; it is recorded)", cfg.Resume, strings.Join(reasons, "; "))}
	}
	// The run keeps its id; this session gets a tag of its own, so that a
	// copy of the run directory resumed beside the original never names (or
	// removes) the original's containers and socket dirs.
	tag = NewTag()
	resumes = append(prev.Resumes, result.Resume{Time: time.Now().UTC(), Owner: owner, Forced: len(reasons) > 0, Reasons: reasons, Tag: tag})
	return prev.Run, tag, resumes, nil
}

// describe puts into the manifest what the input and the socket base add:
// the suite, the plan, the gate and the SLOs, the base, its file system, the
// run's warnings, and for a resume the run's own start time and command line.
func (in *input) describe(m *result.Manifest, base *SocketBase, planned int) {
	m.Suite, m.SuiteFile, m.SuiteHash, m.SuiteAbs = in.suite.Name, in.suite.File, in.suite.Hash, suiteAbs(in.suite)
	m.Planned, m.Scenarios, m.Overrides = planned, scenarioNames(in.suite), in.overrides
	m.PlanOrder, m.PlanSeed, m.Detection = scenario.PlanOrder, in.seed, DetectionNote
	m.Gate, m.SLOs, m.Serving = in.cfg.Gate.WithDefaults(), sloTargets(in.suite), servingRequests(in.suite)
	m.SocketBase, m.SocketMount = base.Path, base.Mount
	if base.Warning != "" {
		m.Warnings = append(m.Warnings, base.Warning)
	}
	m.Warnings = append(m.Warnings, in.warnings...)
	if sh := in.cfg.Shard; sh.Count > 0 {
		m.Shard = &result.Shard{Index: sh.Index, Count: sh.Count}
	}
	m.InstanceType = in.cfg.InstanceType
	if in.prev != nil {
		m.Started, m.Args = in.prev.Started, in.prev.Args
	}
}

// plan is the run's plan: the suite's, or the shard's part of it (a
// filter that keeps the plan's order).
func (in *input) plan() []scenario.Start {
	plan := in.suite.Plan(in.seed)
	if in.cfg.Shard.Count == 0 {
		return plan
	}
	var mine []scenario.Start
	for _, p := range in.cfg.Shard.Positions(plan) {
		mine = append(mine, plan[p])
	}
	return mine
}

// input is a run's request checked without the engine.
type input struct {
	seed      int64            // draws the order within each pair
	cfg       Config           // with a resumed run's own settings filled in
	prev      *result.Manifest // the run to resume, or nil
	suite     *scenario.Suite  // selected and overridden
	overrides map[string]string
	base      string   // the socket base, absolute, its parent's symlinks resolved
	warnings  []string // findings in the suite that do not stop the run
}

// readInput reads the suite (or the interrupted run's manifest and suite)
// and applies the command line's selection: nothing is started for bad input.
func readInput(cfg Config) (*input, error) {
	in := &input{overrides: map[string]string{}}
	if cfg.Resume != "" {
		if err := trustedRunDir(cfg.Resume); err != nil {
			return nil, &InputError{err}
		}
		m, err := journal.ReadManifest(cfg.Resume)
		if err != nil {
			return nil, &InputError{fmt.Errorf("--resume: %w", err)}
		}
		if cfg.Runs > 0 || len(cfg.Scenarios) > 0 || cfg.Out != "" || cfg.Baseline != "" || cfg.Candidate != "" || cfg.Shard.Count > 0 || cfg.InstanceType != "" {
			return nil, &InputError{errors.New("--resume takes the run's own --runs, --scenario, --shard, --instance-type and directory from its manifest; do not give them again")}
		}
		if m.Shard != nil {
			cfg.Shard = scenario.Shard{Index: m.Shard.Index, Count: m.Shard.Count}
		}
		cfg.InstanceType = m.InstanceType
		in.prev = &m
		if cfg.Suite == "" {
			cfg.Suite = m.SuiteAbs
		}
		if v, ok := m.Overrides["runs"]; ok {
			cfg.Runs, _ = strconv.Atoi(v)
		}
		if v, ok := m.Overrides["scenario"]; ok {
			cfg.Scenarios = strings.Split(v, ",")
		}
		cfg.Baseline, cfg.Candidate = m.Overrides["baseline"], m.Overrides["candidate"]
		cfg.Out = cfg.Resume
	}
	in.cfg = cfg
	for in.seed = cfg.Seed; in.seed == 0; {
		in.seed = rand.Int64()
	}
	if in.prev != nil {
		in.seed = in.prev.PlanSeed // the same plan, so that its missing starts are found
	}
	if cfg.Runs < 0 {
		return nil, &InputError{fmt.Errorf("--runs %d: must be >= 1", cfg.Runs)}
	}
	base, err := ResolveBase(cfg.SocketBase)
	if err != nil {
		return nil, &InputError{err}
	}
	in.base = base
	if in.suite, err = scenario.Load(cfg.Suite, scenario.Options{HostDirLen: HostDirLen(base), AllowLong: cfg.AllowLong}); err != nil {
		return nil, &InputError{err}
	}
	in.warnings = SuiteWarnings(in.suite)
	if len(cfg.Scenarios) > 0 {
		if err := in.suite.Select(cfg.Scenarios); err != nil {
			return nil, &InputError{err}
		}
		in.overrides["scenario"] = strings.Join(cfg.Scenarios, ",")
	}
	if cfg.Runs > 0 {
		in.suite.SetRuns(cfg.Runs)
		in.overrides["runs"] = strconv.Itoa(cfg.Runs)
	}
	if (cfg.Baseline == "") != (cfg.Candidate == "") {
		return nil, &InputError{errors.New("--baseline and --candidate go together: a paired comparison needs both images")}
	}
	if cfg.Baseline != "" {
		if err := in.suite.Pair(cfg.Baseline, cfg.Candidate); err != nil {
			return nil, &InputError{err}
		}
		in.overrides["baseline"], in.overrides["candidate"] = cfg.Baseline, cfg.Candidate
	}
	return in, nil
}

// trustedRunDir refuses to resume a run directory, or a manifest in it,
// that another user owns or could have written: a resume runs the suite the
// manifest names, setup commands included, as this user.
func trustedRunDir(dir string) error {
	for _, p := range []string{dir, filepath.Join(dir, journal.ManifestFile)} {
		st, err := os.Lstat(p)
		if err != nil {
			return fmt.Errorf("--resume: %w", err)
		}
		sys, ok := st.Sys().(*syscall.Stat_t)
		switch {
		case st.Mode()&os.ModeSymlink != 0 && p != dir:
			return fmt.Errorf("--resume %s: %s is a symlink: refused", dir, p)
		case !ok:
		case int(sys.Uid) != os.Geteuid():
			return fmt.Errorf("--resume %s: %s is owned by uid %d, not this user: refused (a resume runs the suite its manifest names, setup included)", dir, p, sys.Uid)
		case st.Mode()&0o022 != 0 && st.Mode()&os.ModeSymlink == 0:
			return fmt.Errorf("--resume %s: %s is group- or world-writable (%v): refused (a resume runs the suite its manifest names, setup included)", dir, p, st.Mode().Perm())
		}
	}
	return nil
}

// runnerFor is the runner of a session: its engine, socket dirs, names,
// labels, one inotify instance for every readiness watch, and the
// import-profile parser.
func runnerFor(d *engine.Docker, rd *RunDir, mount, runID, owner string, progress func(done, total int, r *result.Record)) (*Runner, error) {
	watcher, err := probe.NewWatcher()
	if err != nil {
		return nil, err
	}
	return &Runner{
		Engine: d, Watcher: watcher, Sockets: rd, SocketMount: mount, ProcRoot: "/proc",
		RunID: runID, Tag: rd.Tag,
		Labels:    map[string]string{engine.LabelHarness: "1", engine.LabelRun: runID, engine.LabelOwner: owner},
		Progress:  progress,
		Imports:   parseImports,
		KernelOOM: kernelOOM,
	}, nil
}

// kernelOOM finds an OOM kill of the container's in this machine's kernel
// log: the engine the harness starts containers on is local (it binds the
// socket dirs from here).
func kernelOOM(id string) (bool, error) {
	_, found, err := oomlog.Find(id)
	return found, err
}

// resumeChanges lists what differs between an interrupted run and now.
func resumeChanges(prev *result.Manifest, suite *scenario.Suite, harness, fingerprint string) []string {
	var reasons []string
	if prev.SuiteHash != suite.Hash {
		reasons = append(reasons, fmt.Sprintf("suite %s changed (sha256 %.12s -> %.12s)", suite.File, prev.SuiteHash, suite.Hash))
	}
	if prev.Harness != harness {
		reasons = append(reasons, fmt.Sprintf("harness version %s -> %s", prev.Harness, harness))
	}
	if prev.Fingerprint != fingerprint {
		reasons = append(reasons, fmt.Sprintf("host changed: %q -> %q", prev.Fingerprint, fingerprint))
	}
	return reasons
}

// attachCgroups gives the runner the host's cgroup hierarchy and returns its
// version (0 when cgroups are unreadable: the run goes on without samples).
func attachCgroups(r *Runner, host result.Engine, log io.Writer) int {
	cg, err := cgroup.New()
	if err != nil {
		fmt.Fprintf(log, "coldstart: cgroups unreadable, no cgroup samples: %v\n", err)
		return 0
	}
	r.Cgroups = cg
	driver := host.CgroupDriver
	r.CgroupPath = func(id string) string { return cgroup.PathFor(driver, "", id) }
	r.CgroupRoot = "/sys/fs/cgroup"
	if cg.Version() == 1 {
		r.CgroupRoot = "/sys/fs/cgroup/cpu"
	}
	return cg.Version()
}

// parseImports reads a diagnostic start's PYTHONPROFILEIMPORTTIME stderr;
// the journal keeps the heavy part of the tree.
func parseImports(stderr string) *result.Imports {
	im, _ := importtime.Parse(strings.NewReader(stderr))
	if im != nil {
		im.Modules = importtime.Top(im, 60)
	}
	return im
}

// SuiteWarnings are what a suite does that is allowed but worth saying: a
// build context outside the suite's directory is sent to the engine whole
// (minus its .dockerignore), so a suite can bake any host file into an image.
func SuiteWarnings(s *scenario.Suite) []string {
	var w []string
	for i, sc := range s.Scenarios {
		if sc.Build == nil {
			continue
		}
		if rel, err := filepath.Rel(s.Dir, sc.Build.Context); err != nil || !filepath.IsLocal(rel) && rel != "." {
			w = append(w, fmt.Sprintf("%s:%d: scenarios[%d].build.context %s is outside the suite's directory %s: all of it but what its .dockerignore excludes is sent to the engine", s.File, sc.Line, i, sc.Build.Context, s.Dir))
		}
	}
	return w
}

func suiteAbs(s *scenario.Suite) string {
	if filepath.IsAbs(s.File) {
		return s.File
	}
	return filepath.Join(s.Dir, filepath.Base(s.File))
}

// sloTargets are the suite's objectives per arm, for the manifest: a report
// of the run checks the same ones.
func sloTargets(s *scenario.Suite) map[string]result.SLO {
	out := map[string]result.SLO{}
	for i := range s.Scenarios {
		if o := s.Scenarios[i].SLO; o.Any() {
			out[s.Scenarios[i].Arm()] = result.SLO{P50MS: result.MS(o.P50), P90MS: result.MS(o.P90), P95MS: result.MS(o.P95),
				P99MS: result.MS(o.P99), MissRate: o.MissRate, HasMissRate: o.HasMissRate,
				ServingP50MS: result.MS(o.ServingP50), ServingP90MS: result.MS(o.ServingP90), ServingP95MS: result.MS(o.ServingP95),
				ServingP99MS: result.MS(o.ServingP99), ServingMissRate: o.ServingMissRate, HasServingMissRate: o.HasServingMissRate}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// servingRequests names each arm's work request, for the manifest and the
// reports; under contract: fn with the contract's call headers.
func servingRequests(s *scenario.Suite) map[string]string {
	out := map[string]string{}
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		if sc.Serving == nil {
			continue
		}
		out[sc.Arm()] = sc.Serving.String()
		if sc.Contract == result.ContractFn {
			out[sc.Arm()] += " (contract fn: after the lsnr.sock link, with Fn-Call-Id and Fn-Deadline)"
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// scenarioNames are the suite's arms in file order: a paired scenario's
// baseline and candidate each.
func scenarioNames(s *scenario.Suite) []string {
	n := make([]string, len(s.Scenarios))
	for i := range s.Scenarios {
		n[i] = s.Scenarios[i].Arm()
	}
	return n
}
