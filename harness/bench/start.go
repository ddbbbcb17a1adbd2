package bench

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/coldstart/coldstart/harness/cgroup"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/probe"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// DiagnosticStretch multiplies the deadline of diagnostic starts: the import
// profiler slows the app, and a profile cut off at the deadline would miss
// the very imports that made the start late. The limits stay the same.
const DiagnosticStretch = 3

func deadline(sc *scenario.Scenario, st scenario.Start) time.Duration {
	if st.Kind == result.KindDiagnostic {
		return DiagnosticStretch * sc.Deadline
	}
	return sc.Deadline
}

// ContainerName is the name of a start's container: the run tag and the
// start's position in the plan, so that a crash can be reconciled by name.
func ContainerName(tag string, seq int) string { return fmt.Sprintf("coldstart-%s-%06d", tag, seq) }

// errInterrupted: the run was cancelled before the start had an outcome;
// such a start is not a measurement and leaves no record.
var errInterrupted = errors.New("interrupted mid-start")

// start is one cold start in progress: the state its phases share.
type start struct {
	r     *Runner
	sc    *scenario.Scenario
	st    scenario.Start
	seq   int
	rec   *result.Record
	dir   string // the socket's host directory
	id    string // the container, once created
	t0    time.Time
	clean context.Context

	exited chan struct{} // closed when the container exited on its own
	exit   engine.Exit
	exitAt time.Time
	enf    *cgroup.Enforced
	proc   *cgroup.Process // the container's process at the sample
	// carried is the scenario's verified read-back this start stands on,
	// when it read only its usage at readiness.
	carried *verified

	before  hostMark // the host before create, for interference
	haveDir bool     // the socket dir exists: release drops it
	endWait func()   // set once created: release removes the container
}

// One performs one cold start and returns its record, or nil when ctx was
// cancelled before the start had an outcome (the container is removed anyway).
// Its phases, in order: socket dir, create, launch and probe, classify,
// after-ready sample and inspect, import profile; then removal.
func (r *Runner) One(ctx context.Context, sc *scenario.Scenario, st scenario.Start, seq int) *result.Record {
	s := r.newStart(ctx, sc, st, seq)
	rec := s.run(ctx)
	if rec != nil {
		s.settleServing()
	}
	return rec
}

// newStart is a start not yet begun, with its record's identity filled in.
func (r *Runner) newStart(ctx context.Context, sc *scenario.Scenario, st scenario.Start, seq int) *start {
	return &start{r: r, sc: sc, st: st, seq: seq,
		// Clean-up must run even after Ctrl-C: its context does not inherit cancellation.
		clean:  context.WithoutCancel(ctx),
		exited: make(chan struct{}),
		rec: &result.Record{
			V: result.Version, Run: r.RunID, Scenario: sc.Name, Variant: sc.Variant, Cell: sc.Cell, Sweep: sc.Sweep, Kind: st.Kind,
			Iteration: st.Iteration, Seq: seq, Image: sc.Image,
			DeadlineMS: result.MS(deadline(sc, st)),
			Cache:      sc.Cache, Calibration: sc.Calibration, Contract: sc.Contract,
		}}
}

// run is the phases of One.
func (s *start) run(ctx context.Context) *result.Record {
	rec, ok := s.prepare(ctx)
	defer s.release()
	if !ok {
		return rec
	}
	return s.fire(ctx)
}

// prepare is what comes before the timed window: the socket dir and the
// container, and the watch on its exit. It returns ok when the start is
// ready to fire; else the start's record (nil when interrupted). Call
// release afterwards in either case.
func (s *start) prepare(ctx context.Context) (*result.Record, bool) {
	if err := s.socketDir(); err != nil {
		return s.fail(result.StartFailed, err), false
	}
	s.haveDir = true
	s.before = markHost(s.r.engine())
	if err := s.create(ctx); err != nil {
		if errors.Is(err, errInterrupted) {
			return nil, false
		}
		return s.fail(engineOutcome(err, result.StartFailed), err), false
	}
	s.endWait = s.watchExit(ctx)
	return nil, true
}

// release removes what prepare made: the container (even after Ctrl-C)
// and the socket dir.
func (s *start) release() {
	if s.endWait != nil {
		s.remove()
		s.endWait()
		s.endWait = nil
	}
	if s.haveDir {
		s.r.Sockets.Drop(s.seq)
		s.haveDir = false
	}
}

// fire is the timed part of a prepared start: t0, the start call and the
// probe, then classification, the samples and inspection.
func (s *start) fire(ctx context.Context) *result.Record {
	r, st := s.r, s.st
	p, err := s.launch(ctx)
	switch {
	case errors.Is(err, errInterrupted):
		return nil
	case err != nil:
		s.rec.Outcome = engineOutcome(err, result.StartFailed)
		s.rec.Error = err.Error()
		s.inspect()
		return s.rec
	}
	if !s.classify(p) || !s.classifyServing(p) {
		return nil
	}
	s.hostLoad(s.before, markHost(r.engine()))
	s.inspect()
	if st.Kind == result.KindDiagnostic && r.Imports != nil {
		s.importProfile()
	}
	return s.rec
}

// socketDir makes the fresh host directory bound at the socket's directory.
func (s *start) socketDir() error {
	dir, err := s.r.Sockets.Fresh(s.seq)
	s.dir = dir
	return err
}

// create creates the container (outside the timed window), after dropping
// the page cache when the scenario asks for it.
func (s *start) create(ctx context.Context) error {
	spec := s.r.spec(s.sc, s.st, s.seq, s.dir)
	if s.sc.Cache == scenario.CacheDrop {
		// Outside the timed window: the start then reads image and binaries from disk.
		if err := dropCaches(); err != nil {
			return err
		}
	}
	tc := time.Now()
	// Ctrl-C must not cancel a create mid-request: the engine finishes it
	// anyway and the container would appear after we looked for it. The start
	// call sees the cancellation, and the deferred removal cleans up.
	cctx, cancel := context.WithTimeout(s.clean, callTimeout)
	id, err := s.r.Engine.Create(cctx, spec)
	cancel()
	s.rec.CreateMS = result.MS(time.Since(tc))
	if err = hung(ctx, err); err != nil {
		if ctx.Err() != nil {
			// The create may have happened even though the call was cancelled.
			s.r.removeByName(s.clean, spec.Name)
			return errInterrupted
		}
		if errors.Is(err, engine.ErrUnreachable) {
			s.r.addPending(spec.Name)
		}
		return err
	}
	s.id, s.rec.Container = id, id
	return nil
}

// remove force-removes the container, even after Ctrl-C, bounded in time.
func (s *start) remove() {
	tr := time.Now()
	rctx, cancel := context.WithTimeout(s.clean, removeGrace)
	defer cancel()
	if err := s.r.Engine.Remove(rctx, s.id); err != nil {
		if s.rec.Error == "" {
			s.rec.Error = "remove: " + err.Error()
		}
		s.r.addPending(s.id)
	}
	s.rec.RemoveMS = result.MS(time.Since(tr))
}

// watchExit registers the engine's wait for the container's next exit,
// acknowledged before the start, so that an instant crash is still seen:
// s.exited closes when the container exits. The returned func, called after
// the removal, lets the wait end with the removal's kill (its connection then
// goes back to the client's pool instead of being cut), within a bound.
func (s *start) watchExit(ctx context.Context) func() {
	wctx, cancel := context.WithCancel(ctx)
	exitC := s.r.Engine.WaitExit(wctx, s.id)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e, ok := <-exitC
		if ok && !errors.Is(e.Err, context.Canceled) {
			s.exit, s.exitAt = e, time.Now()
			close(s.exited)
		}
	}()
	return func() {
		t := time.NewTimer(waitEndGrace)
		select {
		case <-done:
		case <-t.C:
		}
		t.Stop()
		cancel()
		<-done
	}
}

// waitEndGrace bounds how long a start waits for the engine's exit wait to
// end once its container is removed.
const waitEndGrace = 2 * time.Second

// launch arms the readiness watch, takes t0, and runs the start call and the
// probe concurrently: a fast app can be healthy before ContainerStart
// returns, and its work request goes at readiness, not after the call. It
// returns what the probe saw, or err when the start call failed;
// errInterrupted when the run was cancelled.
func (s *start) launch(ctx context.Context) (probed, error) {
	watch, err := s.r.arm(s.dir, path.Base(s.sc.Socket))
	if err != nil {
		return probed{}, err
	}
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	waitC := make(chan probed, 1)

	// t0: the harness's monotonic clock immediately before the start call.
	t0 := time.Now()
	s.t0 = t0
	go func() { waitC <- s.probe(pctx, watch, t0) }()
	sctx, scancel := context.WithTimeout(ctx, callTimeout)
	err = s.r.Engine.Start(sctx, s.id)
	scancel()
	s.rec.StartCallMS = result.MS(time.Since(t0))
	s.rec.Time = t0.UTC()
	if err = hung(ctx, err); err != nil {
		pcancel()
		<-waitC
		if ctx.Err() != nil {
			return probed{}, errInterrupted
		}
		return probed{}, err
	}
	p := <-waitC
	s.rec.Attempts, s.rec.LastStatus = p.res.Attempts, p.res.LastStatus
	if !p.res.SocketAt.IsZero() {
		s.rec.SocketMS = result.F(result.MS(p.res.SocketAt.Sub(t0)))
	}
	if !p.res.ReadyAt.IsZero() {
		s.rec.ReadyMS = result.F(result.MS(p.res.ReadyAt.Sub(t0)))
	}
	return p, nil
}

// classify turns what the probe saw of readiness into the record's
// outcome, sampling the cgroup first where the container still runs (at
// readiness: the state before any other call). It returns false when the
// run was cancelled.
func (s *start) classify(p probed) bool {
	rec, res, werr := s.rec, p.res, p.err
	switch {
	case werr == nil:
		if !p.sampled {
			if g := s.sampleReady(); g != nil {
				s.sampleProcess(g)
			}
		}
		rec.Outcome = result.OK
		if stamp, ok := probe.ListenStamp(res.Body); ok && res.ReadyMono >= stamp {
			rec.DetectLagMS = result.F(float64(res.ReadyMono-stamp) / 1e6)
		}
		if stamp, ok := probe.AnswerStamp(res.Body); ok && res.ReadyMono >= stamp {
			rec.ProbeLagMS = result.F(float64(res.ReadyMono-stamp) / 1e6)
		}
	case errors.Is(werr, probe.ErrContract):
		// Fn's agent fails the container at this moment; so does the start.
		rec.Outcome, rec.Error = result.ContractViolation, werr.Error()
		s.sample()
	case errors.Is(werr, probe.ErrExited):
		<-s.exited
		rec.Outcome = result.ExitedBeforeReady
		rec.Error = "exited before ready"
		if s.exit.Err != nil {
			// The wait broke (engine gone): no exit happened that we know of.
			rec.Outcome = engineOutcome(s.exit.Err, result.EngineError)
			rec.Error = s.exit.Err.Error()
		} else {
			rec.ExitMS = result.F(result.MS(s.exitAt.Sub(s.t0)))
		}
	case errors.Is(werr, probe.ErrDeadline):
		rec.Outcome = result.DeadlineExceeded
		rec.Error = fmt.Sprintf("no healthy answer within %v", deadline(s.sc, s.st))
		if s.sc.Contract == result.ContractFn {
			rec.Error = fmt.Sprintf("no listener link within %v", deadline(s.sc, s.st))
		}
		if res.LastErr != nil {
			rec.Error += ": last attempt: " + res.LastErr.Error()
			if res.Refused != nil && !errors.Is(res.LastErr, probe.ErrRefused) {
				rec.Error += fmt.Sprintf("; %d attempt(s) refused: %v", res.Refusals, res.Refused)
			}
		} else if res.SocketAt.IsZero() {
			rec.Error += ": socket never appeared"
		}
		s.sample() // still running: what was it doing?
	default: // ctx cancelled: interrupted, not a measurement
		return false
	}
	return true
}

// cgroupNow reads the container's cgroup usage now, or nil.
func (s *start) cgroupNow() *result.Sample {
	r := s.r
	if r.Cgroups == nil {
		return nil
	}
	g, err := r.Cgroups.Open(r.CgroupPath(s.id))
	if err != nil {
		return nil
	}
	sm, _ := g.Read()
	return sm
}

// sample reads the container's cgroup (usage now and the limits it
// holds) and how the kernel confines its process.
func (s *start) sample() {
	if g := s.sampleCgroup(); g != nil {
		s.sampleProcess(g)
	}
}

// sampleReady is sample at readiness: a scenario's verified read-back
// stands in for the enforced limits and the process (see
// Runner.VerifyEveryStart); the usage is read every time.
func (s *start) sampleReady() *cgroup.Group {
	s.r.mu.Lock()
	v, ok := s.r.verified[s.sc]
	s.r.mu.Unlock()
	if !ok || s.r.VerifyEveryStart || s.r.Cgroups == nil {
		g := s.sampleCgroup()
		return g
	}
	g, err := s.r.Cgroups.Open(s.r.CgroupPath(s.id))
	if err != nil {
		return nil
	}
	s.rec.Cgroup = g.Usage()
	s.carried = &v
	return nil // nothing more to read from it
}

// sampleCgroup is sample's cgroup read; it returns the group, nil if none.
func (s *start) sampleCgroup() *cgroup.Group {
	r := s.r
	if r.Cgroups == nil {
		return nil
	}
	g, err := r.Cgroups.Open(r.CgroupPath(s.id))
	if err != nil {
		return nil
	}
	s.rec.Cgroup, s.enf = g.Read()
	return g
}

// sampleProcess reads how the kernel confines the group's first process.
func (s *start) sampleProcess(g *cgroup.Group) {
	if s.r.ProcRoot == "" {
		return
	}
	if pid, err := g.FirstPID(); err == nil {
		if p, err := cgroup.ReadProcess(s.r.ProcRoot, pid); err == nil {
			s.proc = &p
		}
	}
}

// hostLoad records what else the host did between the two marks.
func (s *start) hostLoad(before, after hostMark) {
	var cpu, shim time.Duration
	if s.rec.Cgroup != nil {
		cpu = time.Duration(s.rec.Cgroup.CPUUsageMS * float64(time.Millisecond))
	}
	var cgPath string
	if s.r.CgroupPath != nil {
		cgPath = s.r.CgroupPath(s.id)
		shim = shimCPU(filepath.Join(s.r.CgroupRoot, cgPath, "cgroup.procs"))
	}
	s.rec.Host = interference(before, after, cpu, shim, siblings(s.r.CgroupRoot, cgPath, s.id))
}

// inspect fills exit state, OOM, StartedAt, the limits table and the log
// tail, and refines the outcome: an exit with OOMKilled set is oom_killed.
//
// A healthy start after the first of its scenario skips the call: the
// container still runs (no exit code), its OOM kills are in the cgroup
// sample, and the limits the engine recorded are the scenario's, already
// read; only the engine's StartedAt (secondary data) is not recorded. It
// saves about a tenth of the harness's CPU per start.
func (s *start) inspect() {
	rec := s.rec
	served := rec.ServingOutcome == "" || rec.ServingOutcome == result.OK
	s.r.mu.Lock()
	obs, ok := s.r.observed[s.sc]
	s.r.mu.Unlock()
	if ok && rec.Outcome == result.OK && served {
		if rec.Cgroup != nil && rec.Cgroup.OOMKills > 0 {
			rec.OOMKilled, rec.OOMFrom = true, result.OOMFromCgroup
		}
		s.limits(obs)
		return
	}
	ictx, cancel := context.WithTimeout(s.clean, 10*time.Second)
	defer cancel()
	st, err := s.r.Engine.Inspect(ictx, s.id)
	var from result.OOMSource
	if err == nil {
		st, from = s.awaitOOMFlag(ictx, st)
	}
	if err != nil {
		if rec.Error == "" {
			rec.Error = err.Error()
		}
		if rec.Outcome != result.OK && errors.Is(err, engine.ErrUnreachable) {
			rec.Outcome = result.EngineError
		}
		s.limits(observation{})
		return
	}
	if !st.StartedAt.IsZero() {
		t := st.StartedAt.UTC()
		rec.StartedAt = &t
		rec.StartedAtMS = result.F(result.MS(st.StartedAt.Sub(rec.Time)))
	}
	if !st.Running && st.Status != "created" {
		code := st.ExitCode
		rec.ExitCode = &code
	}
	switch {
	case st.OOMKilled:
		rec.OOMKilled, rec.OOMFrom = true, from
	case rec.Cgroup != nil && rec.Cgroup.OOMKills > 0:
		rec.OOMKilled, rec.OOMFrom = true, result.OOMFromCgroup
	}
	if rec.Outcome != result.OK && rec.OOMKilled {
		rec.Outcome = result.OOMKilled
		rec.Error = "OOM-killed before ready"
	}
	if rec.Outcome == result.OK && !served && rec.OOMKilled {
		rec.ServingOutcome, rec.ServingError = result.OOMKilled, "OOM-killed before the work answer"
	}
	obs = observation{have: true, conf: st.Confinement, user: st.User,
		limits: cgroup.Observed{CPUQuota: st.CPUQuota, CPUPeriod: st.CPUPeriod, NanoCPUs: st.NanoCPUs,
			Memory: st.Memory, MemorySwap: st.MemorySwap, KernelMemory: st.KernelMemory, Pids: st.Pids, CPUShares: st.CPUShares,
			KernelMemoryUnsupported: st.KernelMemoryUnsupported}}
	if rec.Outcome == result.OK {
		s.r.mu.Lock()
		if s.r.observed == nil {
			s.r.observed = map[*scenario.Scenario]observation{}
		}
		s.r.observed[s.sc] = obs
		s.r.mu.Unlock()
	}
	s.limits(obs)
	if rec.Outcome != result.OK || !served {
		if l, err := s.r.Engine.Logs(ictx, s.id, logTailLines, logTailBytes); err == nil {
			rec.LogTail = l
		}
		if st.Error != "" && rec.Error == "" {
			rec.Error = st.Error
		}
	}
}

// oomGrace bounds the wait for an engine to flag an OOM kill it has seen.
// One second was not enough under emulation (CI's trixie cell, Docker 26 on
// cgroup v2, 2026-12-07: an OOM-killed start recorded as exited_before_ready).
// Only a container that died of SIGKILL without the flag, and of which the
// kernel's log says nothing, waits for it.
const oomGrace = 5 * time.Second

// awaitOOMFlag looks further into a container killed by SIGKILL (exit 137)
// that the engine has not flagged OOMKilled: the engine learns of an OOM
// kill from an event that can come after the exit or never (Docker 26 on
// cgroup v2: the shim reads memory.events once told it changed, and the
// cgroup is gone with the container), and the cgroup that counted it is
// gone. Exit 137 alone is no proof of OOM (it is any SIGKILL); the kernel's
// own report of the kill, or the engine's flag when it comes, is. It
// returns the state and where the kill was learnt ("" for none).
func (s *start) awaitOOMFlag(ctx context.Context, st engine.State) (engine.State, result.OOMSource) {
	if st.OOMKilled {
		return st, result.OOMFromEngine
	}
	if st.Running || st.ExitCode != 137 {
		return st, ""
	}
	// The kernel writes its report before it sends the SIGKILL: it is in
	// the log by the time the exit is seen, unless rate-limited away.
	if s.r.KernelOOM != nil {
		if found, err := s.r.KernelOOM(s.id); err == nil && found {
			st.OOMKilled = true
			return st, result.OOMFromKernel
		}
	}
	for end := time.Now().Add(oomGrace); time.Now().Before(end); {
		time.Sleep(100 * time.Millisecond)
		again, err := s.r.Engine.Inspect(ctx, s.id)
		if err != nil {
			return st, ""
		}
		if st = again; st.OOMKilled {
			return st, result.OOMFromEngine
		}
	}
	return st, ""
}

// limits puts requested (suite), observed (inspect) and enforced (the
// cgroup's own files) side by side, when the cgroup was read; and so the
// hardening settings (enforced: the container's process, when read).
func (s *start) limits(obs observation) {
	healthy := s.rec.Outcome == result.OK && (s.rec.ServingOutcome == "" || s.rec.ServingOutcome == result.OK)
	if c := s.carried; c != nil {
		if !healthy {
			// A start that went wrong after ready reads for itself, while
			// its container is still there.
			s.readBack()
		}
		if s.enf == nil {
			s.enf, s.proc = c.enf, c.proc
			s.rec.VerifiedAt = &c.seq
		}
	}
	if s.enf != nil {
		s.rec.Limits = cgroup.Compare(s.sc.Limits, obs.limits, *s.enf)
	}
	s.rec.Hardening = hardening(s.sc, obs, s.proc, s.r.SocketMount)
	if healthy && s.rec.VerifiedAt == nil && s.complete() {
		s.r.mu.Lock()
		if s.r.verified == nil {
			s.r.verified = map[*scenario.Scenario]verified{}
		}
		if _, ok := s.r.verified[s.sc]; !ok {
			s.r.verified[s.sc] = verified{seq: s.seq, enf: s.enf, proc: s.proc}
		}
		s.r.mu.Unlock()
	}
}

// readBack reads the enforced limits and the process now.
func (s *start) readBack() {
	if s.r.Cgroups == nil {
		return
	}
	g, err := s.r.Cgroups.Open(s.r.CgroupPath(s.id))
	if err != nil {
		return
	}
	if _, enf := g.Read(); enf != nil {
		s.enf = enf
		s.sampleProcess(g)
	}
}

// complete says whether this start read back the enforced limits and (where
// the harness reads processes) the process: only such a reading may stand
// for later starts. What it found is carried as found, held or not.
func (s *start) complete() bool {
	return s.enf != nil && (s.r.ProcRoot == "" || s.proc != nil)
}

// importProfile kills a diagnostic start at readiness and parses its stderr:
// the engine copies logs asynchronously, so the profile is complete only
// once the container has exited, and killing it keeps the profile to what
// was imported before the app answered.
func (s *start) importProfile() {
	ictx, cancel := context.WithTimeout(s.clean, 10*time.Second)
	defer cancel()
	if s.r.Engine.Kill(ictx, s.id) == nil {
		select {
		case <-s.exited:
		case <-ictx.Done():
		}
	}
	if stderr, err := s.r.Engine.Stderr(ictx, s.id, 4<<20); err == nil {
		s.rec.Imports = s.r.Imports(stderr)
	}
}

func (s *start) fail(o result.Outcome, err error) *result.Record {
	s.rec.Outcome = o
	s.rec.Error = err.Error()
	return s.rec
}

func engineOutcome(err error, otherwise result.Outcome) result.Outcome {
	if errors.Is(err, engine.ErrUnreachable) {
		return result.EngineError
	}
	return otherwise
}

// arm arms the readiness watch on the runner's shared inotify instance, or
// on one of its own when the runner has none.
func (r *Runner) arm(dir, name string) (*probe.Watch, error) {
	if r.Watcher != nil {
		return r.Watcher.Arm(dir, name)
	}
	return probe.Arm(dir, name)
}

func (r *Runner) removeByName(ctx context.Context, name string) {
	rctx, cancel := context.WithTimeout(ctx, removeGrace)
	defer cancel()
	r.Engine.Remove(rctx, name)
}

// spec turns a scenario into a container spec for one start.
func (r *Runner) spec(sc *scenario.Scenario, st scenario.Start, seq int, dir string) engine.ContainerSpec {
	labels := map[string]string{
		engine.LabelScenario: sc.Name,
		engine.LabelSeq:      strconv.Itoa(seq),
	}
	if sc.Variant != "" {
		labels[engine.LabelVariant] = sc.Variant
	}
	if sc.Cell != "" {
		labels[engine.LabelCell] = sc.Cell
	}
	for k, v := range r.Labels {
		labels[k] = v
	}
	env := append([]string(nil), sc.Env...)
	if st.Kind == result.KindDiagnostic {
		env = append(env, "PYTHONPROFILEIMPORTTIME=1")
	}
	l := sc.Limits
	return engine.ContainerSpec{
		Confinement: confinement(sc),
		Name:        ContainerName(r.Tag, seq),
		Image:       sc.Image,
		Entrypoint:  sc.Entrypoint,
		Cmd:         sc.Command,
		Env:         env,
		User:        sc.User,
		Labels:      labels,
		Binds:       []string{dir + ":" + path.Dir(sc.Socket)},
		CPUQuota:    l.CPUQuota, CPUPeriod: l.CPUPeriod, CPUSet: l.CPUSet,
		Memory: l.Memory, MemorySwap: l.MemorySwap, KernelMemory: l.KernelMemory, Pids: l.Pids, CPUShares: l.CPUShares,
	}
}
