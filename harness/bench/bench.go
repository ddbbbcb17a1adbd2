// Package bench runs a Plan: one start = fresh socket dir -> create -> arm
// probe -> t0 -> start -> socket seen -> healthy -> cgroup sample -> inspect
// -> remove. Every start, whatever its outcome, becomes one journal record.
package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"time"

	"github.com/coldstart/coldstart/harness/cgroup"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/probe"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// Engine is the subset of the Docker driver that a start uses.
type Engine interface {
	Create(ctx context.Context, s engine.ContainerSpec) (string, error)
	WaitExit(ctx context.Context, id string) <-chan engine.Exit
	Start(ctx context.Context, id string) error
	Inspect(ctx context.Context, id string) (engine.State, error)
	Logs(ctx context.Context, id string, tail int) (string, error)
	Stderr(ctx context.Context, id string, max int64) (string, error)
	Kill(ctx context.Context, id string) error
	Remove(ctx context.Context, id string) error
}

var _ Engine = (*engine.Docker)(nil)

// Journal receives each record as its start ends.
type Journal interface {
	Append(r *result.Record) error
}

// DirNameLen is the length of a per-start socket directory's path below the
// socket base ("<8-char run tag>/<6-digit seq>"), for the sun_path check.
const DirNameLen = 15

// callTimeout bounds a create or start call: an engine that hangs instead of
// dying must not stall a run forever.
const callTimeout = 60 * time.Second

// hung turns a call's own timeout (not the run's cancellation) into an
// engine-unreachable error.
func hung(ctx context.Context, err error) error {
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: no answer within %v: %v", engine.ErrUnreachable, callTimeout, err)
	}
	return err
}

// removeGrace bounds the clean-up of a container, even after Ctrl-C.
const removeGrace = 15 * time.Second

// logTail is how many log lines a failed start keeps.
const logTail = 30

// Runner executes starts.
type Runner struct {
	Engine     Engine
	Cgroups    *cgroup.Reader         // nil: no cgroup sampling
	CgroupPath func(id string) string // container id -> path in the cgroup hierarchy
	CgroupRoot string                 // the cpu hierarchy's mount (v1 /sys/fs/cgroup/cpu), for counting other containers
	SocketBase string                 // short host directory holding the per-start socket dirs
	Run        string                 // run id
	Tag        string                 // 8-char run tag used in names
	Labels     map[string]string      // labels put on every container (harness, run, owner)
	Journal    Journal
	Progress   func(done, total int, r *result.Record)
	// Imports parses a diagnostic start's stderr; nil skips attribution.
	Imports func(stderr string) *result.Imports
	// WAL, when set, durably records each start's intent before its create.
	WAL interface {
		Intend(journal.Intent) error
	}

	pending []string // containers whose removal failed because the engine was gone
}

// HostDirLen is the length of the host directory bound at the socket's
// directory, for scenario.Options.
func HostDirLen(socketBase string) int { return len(socketBase) + 1 + DirNameLen }

// ErrJournal marks a record that could not be made durable: scheduling stops.
var ErrJournal = errors.New("results not durable")

// Execute runs the planned starts in order, appending each record to the
// journal as it ends. It stops early when ctx is cancelled (the in-flight
// container is still removed) or when the journal cannot be written.
// skip lists plan positions already measured (resume).
func (r *Runner) Execute(ctx context.Context, s *scenario.Suite, plan []scenario.Start, skip map[int]bool) (done int, err error) {
	total := len(plan)
	for seq, st := range plan {
		if skip[seq] {
			done++
			continue
		}
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
		sc := &s.Scenarios[st.Scenario]
		if r.WAL != nil {
			in := journal.Intent{Seq: seq, Scenario: sc.Name, Kind: st.Kind, Iteration: st.Iteration,
				Container: ContainerName(r.Tag, seq), Time: time.Now().UTC()}
			if err := r.WAL.Intend(in); err != nil {
				return done, fmt.Errorf("%w: %v", ErrJournal, err)
			}
		}
		rec := r.One(ctx, sc, st, seq)
		if rec == nil { // interrupted mid-start: not a measurement
			return done, ctx.Err()
		}
		if err := r.Journal.Append(rec); err != nil {
			return done, fmt.Errorf("%w: %v", ErrJournal, err)
		}
		done++
		if r.Progress != nil {
			r.Progress(done, total, rec)
		}
		if rec.Outcome == result.EngineError || len(r.pending) > 0 {
			if err := r.awaitEngine(ctx); err != nil {
				return done, err
			}
			r.removePending(ctx)
		}
	}
	return done, nil
}

// awaitEngine is the engine-loss policy: after an engine_error, wait for the
// engine to answer again with bounded backoff (1+2+4+8 s), else end the run.
func (r *Runner) awaitEngine(ctx context.Context) error {
	pinger, ok := r.Engine.(interface {
		Ping(context.Context) error
	})
	if !ok {
		return nil
	}
	ping := func() error {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return pinger.Ping(pctx)
	}
	err := ping()
	// Pings at 0, 1, 3, 7 and 15 s after the loss.
	for wait := time.Second; err != nil && wait <= 8*time.Second; wait *= 2 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		err = ping()
	}
	if err != nil {
		return fmt.Errorf("%w: no answer after 15 s of retries: %v", engine.ErrUnreachable, err)
	}
	return nil
}

// removePending removes, once the engine is back, the containers that could
// not be removed while it was gone.
func (r *Runner) removePending(ctx context.Context) {
	var still []string
	for _, id := range r.pending {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeGrace)
		if err := r.Engine.Remove(rctx, id); err != nil {
			still = append(still, id)
		}
		cancel()
	}
	r.pending = still
}

// Pending lists the containers the runner could not remove (engine gone).
func (r *Runner) Pending() []string { return r.pending }

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// DiagnosticStretch multiplies the deadline of diagnostic starts: the import
// profiler slows the app, and a profile cut off at the deadline would miss
// the very imports that made the start late. The limits stay the same.
const DiagnosticStretch = 3

func deadline(sc *scenario.Scenario, st scenario.Start) time.Duration {
	if st.Kind == scenario.KindDiagnostic {
		return DiagnosticStretch * sc.Deadline
	}
	return sc.Deadline
}

// One performs one cold start and returns its record, or nil when ctx was
// cancelled before the start had an outcome (the container is removed anyway).
func (r *Runner) One(ctx context.Context, sc *scenario.Scenario, st scenario.Start, seq int) *result.Record {
	rec := &result.Record{
		V: result.Version, Run: r.Run, Scenario: sc.Name, Kind: st.Kind,
		Iteration: st.Iteration, Seq: seq, Image: sc.Image,
		DeadlineMS: ms(deadline(sc, st)),
		Cache:      sc.Cache, Calibration: sc.Calibration,
	}
	// Clean-up must run even after Ctrl-C: its context does not inherit cancellation.
	cleanCtx := context.WithoutCancel(ctx)

	dir := filepath.Join(r.SocketBase, r.Tag, fmt.Sprintf("%06d", seq))
	os.RemoveAll(dir) // a stale socket file gives ECONNREFUSED and no create event
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return r.fail(rec, result.StartFailed, fmt.Errorf("socket dir: %w", err))
	}
	if err := os.Mkdir(dir, 0o777); err != nil {
		return r.fail(rec, result.StartFailed, fmt.Errorf("socket dir: %w", err))
	}
	defer os.RemoveAll(dir)
	// World-writable so a non-root container user can bind in it.
	os.Chmod(dir, 0o777)

	spec := r.spec(sc, st, seq, dir)
	if sc.Cache == scenario.CacheDrop {
		// Outside the timed window: the start then reads image and binaries from disk.
		if err := dropCaches(); err != nil {
			return r.fail(rec, result.StartFailed, err)
		}
	}
	before := markHost()
	tc := time.Now()
	// Ctrl-C must not cancel a create mid-request: the engine finishes it
	// anyway and the container would appear after we looked for it. The start
	// call below sees the cancellation, and the deferred removal cleans up.
	cctx, ccancel := context.WithTimeout(cleanCtx, callTimeout)
	id, err := r.Engine.Create(cctx, spec)
	ccancel()
	rec.CreateMS = ms(time.Since(tc))
	err = hung(ctx, err)
	if err != nil {
		if ctx.Err() != nil {
			// The create may have happened even though the call was cancelled.
			r.removeByName(cleanCtx, spec.Name)
			return nil
		}
		if errors.Is(err, engine.ErrUnreachable) {
			r.pending = append(r.pending, spec.Name)
		}
		return r.fail(rec, engineOutcome(err, result.StartFailed), err)
	}
	rec.Container = id
	defer func() {
		tr := time.Now()
		rctx, cancel := context.WithTimeout(cleanCtx, removeGrace)
		defer cancel()
		if err := r.Engine.Remove(rctx, id); err != nil {
			if rec.Error == "" {
				rec.Error = "remove: " + err.Error()
			}
			r.pending = append(r.pending, id)
		}
		rec.RemoveMS = ms(time.Since(tr))
	}()

	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	exitC := r.Engine.WaitExit(wctx, id)
	watch, err := probe.Arm(dir, path.Base(sc.Socket))
	if err != nil {
		return r.fail(rec, result.StartFailed, err)
	}
	defer watch.Close()

	exited := make(chan struct{})
	var exit engine.Exit
	var exitAt time.Time
	go func() {
		e, ok := <-exitC
		if ok && !errors.Is(e.Err, context.Canceled) {
			exit, exitAt = e, time.Now()
			close(exited)
		}
	}()

	// The probe runs concurrently with the start call: a fast app can be
	// healthy before ContainerStart returns.
	type waited struct {
		res probe.Result
		err error
	}
	pctx, pcancel := context.WithCancel(ctx)
	defer pcancel()
	waitC := make(chan waited, 1)
	req := probe.Request{Method: sc.Health.Method, Path: sc.Health.Path, Status: sc.Health.Status,
		Body: sc.Health.Body, Timeout: sc.Health.Timeout}

	// t0: the harness's monotonic clock immediately before the start call.
	t0 := time.Now()
	go func() {
		res, err := watch.Wait(pctx, t0.Add(deadline(sc, st)), exited, req)
		waitC <- waited{res, err}
	}()
	sctx, scancel := context.WithTimeout(ctx, callTimeout)
	err = r.Engine.Start(sctx, id)
	scancel()
	rec.StartCallMS = ms(time.Since(t0))
	err = hung(ctx, err)
	rec.Time = t0.UTC()
	if err != nil {
		pcancel()
		<-waitC
		if ctx.Err() != nil {
			return nil
		}
		rec.Outcome = engineOutcome(err, result.StartFailed)
		rec.Error = err.Error()
		r.inspect(cleanCtx, rec, id, sc, nil)
		return rec
	}
	w := <-waitC
	res, werr := w.res, w.err
	after := markHost()
	var enf *cgroup.Enforced
	if !res.ReadyAt.IsZero() {
		// Sample first: the cgroup is the state at readiness, before any other call.
		enf = r.sample(rec, id)
	}
	rec.Attempts = res.Attempts
	rec.LastStatus = res.LastStatus
	if !res.SocketAt.IsZero() {
		rec.SocketMS = result.F(ms(res.SocketAt.Sub(t0)))
	}
	switch {
	case werr == nil:
		rec.ReadyMS = result.F(ms(res.ReadyAt.Sub(t0)))
		rec.Outcome = result.OK
		if stamp, ok := probe.ListenStamp(res.Body); ok && res.ReadyMono >= stamp {
			rec.DetectLagMS = result.F(float64(res.ReadyMono-stamp) / 1e6)
		}
		if stamp, ok := probe.AnswerStamp(res.Body); ok && res.ReadyMono >= stamp {
			rec.ProbeLagMS = result.F(float64(res.ReadyMono-stamp) / 1e6)
		}
	case errors.Is(werr, probe.ErrExited):
		<-exited
		rec.Outcome = result.ExitedBeforeReady
		rec.Error = "exited before ready"
		if exit.Err != nil {
			// The wait broke (engine gone): no exit happened that we know of.
			rec.Outcome = engineOutcome(exit.Err, result.EngineError)
			rec.Error = exit.Err.Error()
		} else {
			rec.ExitMS = result.F(ms(exitAt.Sub(t0)))
		}
	case errors.Is(werr, probe.ErrDeadline):
		rec.Outcome = result.DeadlineExceeded
		rec.Error = fmt.Sprintf("no healthy answer within %v", deadline(sc, st))
		if res.LastErr != nil {
			rec.Error += ": last attempt: " + res.LastErr.Error()
		} else if res.SocketAt.IsZero() {
			rec.Error += ": socket never appeared"
		}
		enf = r.sample(rec, id) // still running: what was it doing?
	default: // ctx cancelled: interrupted, not a measurement
		return nil
	}
	var cpu time.Duration
	if rec.Cgroup != nil {
		cpu = time.Duration(rec.Cgroup.CPUUsageMS * float64(time.Millisecond))
	}
	var path string
	if r.CgroupPath != nil {
		path = r.CgroupPath(id)
	}
	rec.Host = interference(before, after, cpu, siblings(r.CgroupRoot, path, id))
	r.inspect(cleanCtx, rec, id, sc, enf)
	if st.Kind == scenario.KindDiagnostic && r.Imports != nil {
		ictx, cancel := context.WithTimeout(cleanCtx, 10*time.Second)
		// The engine copies logs asynchronously; once the container has
		// exited, its stderr is complete. Killing it at readiness also keeps
		// the profile to what was imported before the app answered.
		if r.Engine.Kill(ictx, id) == nil {
			select {
			case <-exited:
			case <-ictx.Done():
			}
		}
		if s, err := r.Engine.Stderr(ictx, id, 4<<20); err == nil {
			rec.Imports = r.Imports(s)
		}
		cancel()
	}
	return rec
}

// inspect fills exit state, OOM, StartedAt and log tail, and refines the
// outcome: an exit with OOMKilled set is oom_killed.
func (r *Runner) inspect(ctx context.Context, rec *result.Record, id string, sc *scenario.Scenario, enf *cgroup.Enforced) {
	ictx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	st, err := r.Engine.Inspect(ictx, id)
	if err != nil {
		if rec.Error == "" {
			rec.Error = err.Error()
		}
		if rec.Outcome != result.OK && errors.Is(err, engine.ErrUnreachable) {
			rec.Outcome = result.EngineError
		}
		return
	}
	if !st.StartedAt.IsZero() {
		t := st.StartedAt.UTC()
		rec.StartedAt = &t
		rec.StartedAtMS = result.F(ms(st.StartedAt.Sub(rec.Time)))
	}
	if !st.Running && st.Status != "created" {
		code := st.ExitCode
		rec.ExitCode = &code
	}
	rec.OOMKilled = st.OOMKilled
	if rec.Cgroup != nil && rec.Cgroup.OOMKills > 0 {
		rec.OOMKilled = true
	}
	if rec.Outcome != result.OK && rec.OOMKilled {
		rec.Outcome = result.OOMKilled
		rec.Error = "OOM-killed before ready"
	}
	if enf != nil {
		// Requested (suite) vs observed (inspect) vs enforced (the cgroup's own files).
		obs := cgroup.Observed{CPUQuota: st.CPUQuota, CPUPeriod: st.CPUPeriod, NanoCPUs: st.NanoCPUs,
			Memory: st.Memory, MemorySwap: st.MemorySwap, KernelMemory: st.KernelMemory, Pids: st.Pids,
			KernelMemoryUnsupported: st.KernelMemoryUnsupported}
		rec.Limits = cgroup.Compare(sc.Limits, obs, *enf)
	}
	if rec.Outcome != result.OK {
		if l, err := r.Engine.Logs(ictx, id, logTail); err == nil {
			rec.LogTail = l
		}
		if st.Error != "" && rec.Error == "" {
			rec.Error = st.Error
		}
	}
}

func engineOutcome(err error, otherwise result.Outcome) result.Outcome {
	if errors.Is(err, engine.ErrUnreachable) {
		return result.EngineError
	}
	return otherwise
}

func (r *Runner) fail(rec *result.Record, o result.Outcome, err error) *result.Record {
	rec.Outcome = o
	rec.Error = err.Error()
	return rec
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
	for k, v := range r.Labels {
		labels[k] = v
	}
	env := append([]string(nil), sc.Env...)
	if st.Kind == scenario.KindDiagnostic {
		env = append(env, "PYTHONPROFILEIMPORTTIME=1")
	}
	l := sc.Limits
	return engine.ContainerSpec{
		Name:       fmt.Sprintf("coldstart-%s-%06d", r.Tag, seq),
		Image:      sc.Image,
		Entrypoint: sc.Entrypoint,
		Cmd:        sc.Command,
		Env:        env,
		User:       sc.User,
		Labels:     labels,
		Binds:      []string{dir + ":" + path.Dir(sc.Socket)},
		CPUQuota:   l.CPUQuota, CPUPeriod: l.CPUPeriod, CPUSet: l.CPUSet,
		Memory: l.Memory, MemorySwap: l.MemorySwap, KernelMemory: l.KernelMemory, Pids: l.Pids,
	}
}

// Names of the container of a start, for tests and clean-up.
func ContainerName(tag string, seq int) string { return fmt.Sprintf("coldstart-%s-%06d", tag, seq) }

// sample reads the container's cgroup: usage now and the limits it holds.
func (r *Runner) sample(rec *result.Record, id string) *cgroup.Enforced {
	if r.Cgroups == nil {
		return nil
	}
	g, err := r.Cgroups.Open(r.CgroupPath(id))
	if err != nil {
		return nil
	}
	if s, err := g.Sample(); err == nil {
		rec.Cgroup = &s
	}
	e, err := g.Enforced()
	if err != nil {
		return nil
	}
	return &e
}
