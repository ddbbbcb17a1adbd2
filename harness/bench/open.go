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
	"time"

	"github.com/coldstart/coldstart/harness/cgroup"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/importtime"
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
	SocketBase          string      // short host directory for the per-start socket dirs
	Harness             string      // the harness's version, for the manifest
	Args                []string    // the command line, for the manifest
	Log                 io.Writer
	Progress            func(done, total int, r *result.Record)
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
	d, err := engine.Dial(ctx, 5*time.Second)
	if err != nil {
		return nil, err
	}
	sess := &Session{Suite: in.suite, Plan: in.suite.Plan(in.seed), Resume: in.prev != nil}
	sess.closers = append(sess.closers, func() { d.Close() })
	ok := false
	defer func() {
		if !ok {
			sess.Close()
		}
	}()
	host, err := d.Host(ctx)
	if err != nil {
		return nil, err
	}
	runID, tag := NewRunID(time.Now())
	owner := Owner()
	kernel, cpu, cores := HostFacts()
	fingerprint := result.Fingerprint(host, kernel, cpu, cores)
	var resumes []result.Resume
	if prev := in.prev; prev != nil {
		reasons := resumeChanges(prev, in.suite, cfg.Harness, fingerprint)
		if len(reasons) > 0 && !cfg.Force {
			return nil, &InputError{fmt.Errorf("--resume %s refused: %s (--force to continue anyway; it is recorded)", cfg.Resume, strings.Join(reasons, "; "))}
		}
		runID, tag = prev.Run, RunTag(prev.Run)
		resumes = append(prev.Resumes, result.Resume{Time: time.Now().UTC(), Owner: owner, Forced: len(reasons) > 0, Reasons: reasons})
	}
	if err := Prepare(ctx, in.suite, d, map[string]string{engine.LabelHarness: "1"}, cfg.SkipSetup, cfg.Log); err != nil {
		return nil, err
	}
	// Leftovers of dead coldstart processes go first; a live concurrent run's stay.
	if _, _, err := GC(ctx, d, in.base, cfg.Log); err != nil {
		return nil, err
	}
	sockDir, err := ClaimSocketDir(in.base, tag, owner)
	if err != nil {
		return nil, err
	}
	sess.closers = append(sess.closers, func() { os.RemoveAll(sockDir) })

	if sess.Runner, err = runnerFor(d, in.base, runID, owner, cfg.Progress); err != nil {
		return nil, err
	}
	sess.closers = append(sess.closers, func() { sess.Runner.Watcher.Close() })
	cgv := attachCgroups(sess.Runner, host, cfg.Log)
	sess.Dir = cfg.Out
	if sess.Dir == "" {
		sess.Dir = filepath.Join("results", in.suite.Name, strings.SplitN(runID, "-", 2)[0])
	}
	sess.Manifest = result.Manifest{
		Run: runID, Suite: in.suite.Name, SuiteFile: in.suite.File, SuiteHash: in.suite.Hash,
		Harness: cfg.Harness, GoVersion: runtime.Version(), GOARCH: runtime.GOARCH, Started: time.Now().UTC(),
		Args: cfg.Args, Owner: owner, Engine: host,
		CgroupVersion: cgv, Kernel: kernel, CPUModel: cpu, Cores: cores,
		Fingerprint: fingerprint, Resumes: resumes,
	}
	in.describe(&sess.Manifest, len(sess.Plan))
	ok = true
	return sess, nil
}

// describe fills what the manifest says of the run's input.
func (in *input) describe(m *result.Manifest, planned int) {
	m.Suite, m.SuiteFile, m.SuiteHash, m.SuiteAbs = in.suite.Name, in.suite.File, in.suite.Hash, suiteAbs(in.suite)
	m.SocketBase, m.Planned, m.Scenarios, m.Overrides = in.base, planned, scenarioNames(in.suite), in.overrides
	m.PlanOrder, m.PlanSeed, m.Detection = scenario.PlanOrder, in.seed, DetectionNote
	m.Gate, m.SLOs, m.Serving = in.cfg.Gate.WithDefaults(), sloTargets(in.suite), servingRequests(in.suite)
	if in.prev != nil {
		m.Started, m.Args = in.prev.Started, in.prev.Args
	}
}

// input is a run's request checked without the engine.
type input struct {
	seed      int64            // draws the order within each pair
	cfg       Config           // with a resumed run's own settings filled in
	prev      *result.Manifest // the run to resume, or nil
	suite     *scenario.Suite  // selected and overridden
	overrides map[string]string
	base      string // the socket base, absolute
}

// readInput reads the suite (or the interrupted run's manifest and suite)
// and applies the command line's selection: nothing is started for bad input.
func readInput(cfg Config) (*input, error) {
	in := &input{overrides: map[string]string{}}
	if cfg.Resume != "" {
		m, err := journal.ReadManifest(cfg.Resume)
		if err != nil {
			return nil, &InputError{fmt.Errorf("--resume: %w", err)}
		}
		if cfg.Runs > 0 || len(cfg.Scenarios) > 0 || cfg.Out != "" || cfg.Baseline != "" || cfg.Candidate != "" {
			return nil, &InputError{errors.New("--resume takes the run's own --runs, --scenario and directory from its manifest; do not give them again")}
		}
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
	base, err := filepath.Abs(cfg.SocketBase)
	if err != nil {
		return nil, &InputError{err}
	}
	in.base = base
	if in.suite, err = scenario.Load(cfg.Suite, scenario.Options{HostDirLen: HostDirLen(base)}); err != nil {
		return nil, &InputError{err}
	}
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

// runnerFor is the runner of a run: its engine, names, labels, one inotify
// instance for every readiness watch, and the import-profile parser.
func runnerFor(d *engine.Docker, base, runID, owner string, progress func(done, total int, r *result.Record)) (*Runner, error) {
	watcher, err := probe.NewWatcher()
	if err != nil {
		return nil, err
	}
	return &Runner{
		Engine: d, Watcher: watcher, SocketBase: base, RunID: runID, Tag: RunTag(runID),
		Labels:   map[string]string{engine.LabelHarness: "1", engine.LabelRun: runID, engine.LabelOwner: owner},
		Progress: progress,
		Imports:  parseImports,
	}, nil
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
