package bench

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/internal/privengine"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// Engine loss, for real: these tests start a PRIVATE dockerd (see
// harness/internal/privengine: its own socket, roots, pid and config files,
// managed containerd and network namespace), SIGKILL it while a start is
// waiting for readiness, and check what the runner records and how it
// recovers. The machine's shared engine is never touched.
//
// Observed on Docker 20.10.24 / containerd 1.6.20 (live-restore off):
//   - The harness's open wait stream ends with "unexpected EOF"; a request on a
//     kept-alive connection gets "connection reset by peer"; new requests get
//     "Cannot connect to the Docker daemon at unix://...": the API socket file
//     stays after the SIGKILL, so a connect is refused. All three are
//     classified engine.ErrUnreachable. dockerd replaces the socket on restart.
//   - On restart ("Loading containers"), the new containerd logs "shim
//     disconnected ... cleaning up dead shim" and dockerd "Removing stale
//     sandbox": before the API answers, the lost container is "exited"
//     (ExitCode 2 here; not the app's own exit), neither running nor removed.
//     Its shim and process are gone. Removing it is up to the harness.

// startPrivateEngine starts a private dockerd and points DOCKER_HOST at it
// for the rest of the test.
func startPrivateEngine(t *testing.T) *privengine.Engine {
	t.Helper()
	p := privengine.Start(t, privengine.Options{})
	t.Setenv("DOCKER_HOST", p.Host())
	t.Setenv("DOCKER_TLS_VERIFY", "")
	t.Setenv("DOCKER_CERT_PATH", "")
	t.Setenv("DOCKER_CONTEXT", "")
	return p
}

// faultEngine is the real driver with a hook after a successful start, and a
// log of every failed call (the exact errors the client returned).
type faultEngine struct {
	*engine.Docker
	p *privengine.Engine

	onStarted func(id string)
	// holdPing, while set and open, holds a SUCCESSFUL ping until it is
	// closed: the test looks at the reconciled container before the runner
	// removes it. Failed pings are not held.
	holdPing atomic.Pointer[chan struct{}]

	mu    sync.Mutex
	calls []call
}

type call struct {
	op  string
	at  time.Time
	err error
}

func (f *faultEngine) note(op string, err error) {
	f.mu.Lock()
	f.calls = append(f.calls, call{op, time.Now(), err})
	f.mu.Unlock()
}

func (f *faultEngine) log() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

func (f *faultEngine) Create(ctx context.Context, s engine.ContainerSpec) (string, error) {
	id, err := f.Docker.Create(ctx, s)
	if id != "" {
		f.p.Track(id)
	}
	f.note("create", err)
	return id, err
}

func (f *faultEngine) WaitExit(ctx context.Context, id string) <-chan engine.Exit {
	in := f.Docker.WaitExit(ctx, id)
	out := make(chan engine.Exit, 1)
	go func() {
		defer close(out)
		for e := range in {
			f.note("wait", e.Err)
			out <- e
		}
	}()
	return out
}

func (f *faultEngine) Start(ctx context.Context, id string) error {
	err := f.Docker.Start(ctx, id)
	f.note("start", err)
	if err == nil && f.onStarted != nil {
		f.onStarted(id)
	}
	return err
}

func (f *faultEngine) Inspect(ctx context.Context, id string) (engine.State, error) {
	s, err := f.Docker.Inspect(ctx, id)
	f.note("inspect", err)
	return s, err
}

func (f *faultEngine) Logs(ctx context.Context, id string, lines, max int) (string, error) {
	s, err := f.Docker.Logs(ctx, id, lines, max)
	f.note("logs", err)
	return s, err
}

func (f *faultEngine) Remove(ctx context.Context, id string) error {
	err := f.Docker.Remove(ctx, id)
	f.note("remove", err)
	return err
}

func (f *faultEngine) Ping(ctx context.Context) error {
	err := f.Docker.Ping(ctx)
	f.note("ping", err)
	if err == nil {
		if h := f.holdPing.Load(); h != nil {
			select {
			case <-*h:
			case <-time.After(10 * time.Second):
			}
		}
	}
	return err
}

// faultRig is a private engine with the test image, and a runner on it.
type faultRig struct {
	p     *privengine.Engine
	image string
}

func newFaultRig(t *testing.T) *faultRig {
	p := startPrivateEngine(t)
	d, err := engine.DialHost(context.Background(), p.Host(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	img := "coldstart-test/app:enginefault"
	t0 := time.Now()
	if err := buildTestImage(context.Background(), d, img); err != nil {
		t.Fatalf("build test image in the private engine: %v\n%s", err, p.LogTail(20))
	}
	t.Logf("test image built in the private engine in %v", time.Since(t0).Round(time.Millisecond))
	return &faultRig{p: p, image: img}
}

// runner returns a runner on a fresh client of the private engine, and the
// suite and plan: MODE=nosocket (never ready), 4 s deadline, 3 measured starts.
func (g *faultRig) runner(t *testing.T, owner string) (*Runner, *faultEngine, *scenario.Suite, []scenario.Start) {
	t.Helper()
	d, err := engine.DialHost(context.Background(), g.p.Host(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fe := &faultEngine{Docker: d, p: g.p}
	run, tag := NewRunID(time.Now())
	rd := claim(t, privateBase(t), tag, owner)
	r := &Runner{
		Engine: fe, Sockets: rd, RunID: run, Tag: tag,
		Labels:  map[string]string{engine.LabelHarness: "1", engine.LabelRun: run, engine.LabelOwner: owner, "io.coldstart.test": "1"},
		Journal: &memJournal{},
	}
	sc := scenario.Scenario{
		Name: "nosocket", Image: g.image, Env: []string{"MODE=nosocket"}, Socket: "/run/app/app.sock",
		Health:   scenario.Health{Method: "GET", Path: "/", Status: 200, Body: "ok", Timeout: 500 * time.Millisecond},
		Limits:   scenario.Limits{CPUs: 0.1, CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20},
		Deadline: 4 * time.Second, Runs: 3,
	}
	s := &scenario.Suite{Name: "enginefault", Scenarios: []scenario.Scenario{sc}}
	plan := s.Plan(1)
	if len(plan) != 3 {
		t.Fatalf("plan has %d starts, want 3", len(plan))
	}
	return r, fe, s, plan
}

// checkCalls logs every failed engine call with its time relative to the kill,
// and fails for any call made while the engine was down whose error is not
// marked engine.ErrUnreachable (a classify bug).
func checkCalls(t *testing.T, fe *faultEngine, killAt, upAt time.Time) {
	t.Helper()
	for _, c := range fe.log() {
		rel := c.at.Sub(killAt).Round(time.Millisecond)
		if c.err == nil {
			if c.op == "ping" || c.op == "remove" {
				t.Logf("  %+8v %-7s ok", rel, c.op)
			}
			continue
		}
		down := !c.at.Before(killAt) && (upAt.IsZero() || c.at.Before(upAt))
		t.Logf("  %+8v %-7s unreachable=%v %q", rel, c.op, errors.Is(c.err, engine.ErrUnreachable), c.err.Error())
		if down && !errors.Is(c.err, engine.ErrUnreachable) && !errors.Is(c.err, context.DeadlineExceeded) {
			t.Errorf("%s while the engine was down: %q is not marked engine.ErrUnreachable", c.op, c.err)
		}
	}
}

// settleGoroutines waits for the goroutine count to fall back to base.
func settleGoroutines(t *testing.T, base int) {
	t.Helper()
	var n int
	for i := 0; i < 60; i++ {
		n = runtime.NumGoroutine()
		if n <= base {
			t.Logf("goroutines: %d before, %d after (settled in %d ms)", base, n, i*50)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	t.Errorf("goroutine leak: %d before, %d after 3 s\n%s", base, n, buf)
}

func recLine(r result.Record) string {
	return fmt.Sprintf("seq %d outcome=%s create=%.1f start_call=%.1f exit=%v remove=%.1f container=%.12s error=%q",
		r.Seq, r.Outcome, r.CreateMS, r.StartCallMS, deref(r.ExitMS), r.RemoveMS, r.Container, r.Error)
}

// deadOwner returns the owner string of a process that has ended, as a
// coldstart run that left containers behind would have.
func deadOwner(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	owner := strconv.Itoa(cmd.Process.Pid) + ":" + strconv.FormatUint(ProcessStart(cmd.Process.Pid), 10)
	cmd.Process.Kill()
	cmd.Wait()
	if Alive(owner) {
		t.Fatalf("owner %s still alive", owner)
	}
	return owner
}

func TestEngineFault(t *testing.T) {
	tAll := time.Now()
	g := newFaultRig(t)
	t.Run("KilledMidStartComesBack", func(t *testing.T) { testKilledComesBack(t, g) })
	t.Run("GoneForGood", func(t *testing.T) { testGoneForGood(t, g) })
	t.Logf("engine-fault tests took %v (before clean-up)", time.Since(tAll).Round(time.Millisecond))
}

// testKilledComesBack: SIGKILL the engine while the first start waits for
// readiness, bring it back 1.5 s later. The start is engine_error, the run
// goes on after the backoff, and the in-flight container is removed.
func testKilledComesBack(t *testing.T, g *faultRig) {
	p := g.p
	g0 := runtime.NumGoroutine()
	r, fe, s, plan := g.runner(t, Owner())

	type observed struct {
		killTook, upTook   time.Duration
		killAt, upAt       time.Time
		procsDown, procsUp map[int]string
		state              engine.State
		stateErr           error
		restartErr         error
		logFrom            int64
	}
	var obs observed
	hold := make(chan struct{})
	fe.holdPing.Store(&hold)
	faultDone := make(chan struct{})
	var once sync.Once
	fe.onStarted = func(id string) {
		once.Do(func() {
			go func() {
				defer close(faultDone)
				defer close(hold)
				time.Sleep(500 * time.Millisecond) // the start is now waiting for readiness
				obs.killAt = time.Now()
				obs.killTook = p.Kill()
				time.Sleep(200 * time.Millisecond)
				obs.procsDown = p.Procs()
				time.Sleep(1300 * time.Millisecond)
				obs.logFrom = p.LogSize()
				obs.upTook, obs.restartErr = p.Restart()
				obs.upAt = time.Now()
				if obs.restartErr != nil {
					return
				}
				// Before the runner (held in Ping) removes it: what did the
				// restarted engine make of the container it had lost?
				d, err := engine.DialHost(context.Background(), g.p.Host(), 5*time.Second)
				if err != nil {
					obs.stateErr = err
					return
				}
				defer d.Close()
				obs.state, obs.stateErr = d.Inspect(context.Background(), id)
				obs.procsUp = p.Procs()
			}()
		})
	}

	// A safety net only: the run must end long before it.
	ectx, ecancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer ecancel()
	t0 := time.Now()
	done, err := r.Execute(ectx, s, plan, nil)
	took := time.Since(t0)
	select {
	case <-faultDone:
	case <-time.After(30 * time.Second):
		t.Fatal("the fault never happened or the restart hangs")
	}
	if obs.restartErr != nil {
		t.Fatalf("restart: %v\n%s", obs.restartErr, p.LogTail(30))
	}
	t.Logf("Execute: done=%d err=%v in %v", done, err, took.Round(time.Millisecond))
	t.Logf("dockerd SIGKILLed %v after t0 of Execute, reaped in %v; restarted 1.5 s later, answering after %v (at kill%+v)",
		obs.killAt.Sub(t0).Round(time.Millisecond), obs.killTook.Round(time.Millisecond), obs.upTook.Round(time.Millisecond),
		obs.upAt.Sub(obs.killAt).Round(time.Millisecond))
	t.Logf("processes of the private engine 0.2 s after the SIGKILL (dockerd down):")
	for pid, cl := range obs.procsDown {
		t.Logf("  %d %.140s", pid, cl)
	}
	t.Logf("restart, from dockerd's log:\n%s", p.RestartLog(obs.logFrom))
	t.Logf("after the restart, the lost container: state=%+v err=%v", obs.state, obs.stateErr)
	for pid, cl := range obs.procsUp {
		t.Logf("  after restart: %d %.140s", pid, cl)
	}
	t.Logf("engine calls (time relative to the kill):")
	checkCalls(t, fe, obs.killAt, obs.upAt)

	recs := r.Journal.(*memJournal).recs
	for _, rec := range recs {
		t.Logf("record %s", recLine(rec))
	}
	if err != nil || done != 3 || len(recs) != 3 {
		t.Fatalf("Execute = %d, %v with %d records; want all 3 starts journaled and no error", done, err, len(recs))
	}
	first := recs[0]
	if first.Outcome != result.EngineError {
		t.Errorf("first start: outcome %s, want engine_error", first.Outcome)
	}
	if !strings.Contains(first.Error, engine.ErrUnreachable.Error()) {
		t.Errorf("first start: error %q does not say the engine is unreachable", first.Error)
	}
	if first.Container == "" {
		t.Error("first start: no container id recorded")
	}
	for _, rec := range recs[1:] {
		if rec.Outcome != result.DeadlineExceeded {
			t.Errorf("seq %d after the engine came back: outcome %s, want deadline_exceeded", rec.Seq, rec.Outcome)
		}
	}
	// Docker 20.10 without live-restore: the restarted engine ends the task it
	// lost; the container is kept (exited), for the harness to remove.
	if obs.stateErr != nil {
		t.Errorf("inspect of the lost container after the restart: %v", obs.stateErr)
	} else if obs.state.Running || obs.state.Status != "exited" {
		t.Errorf("lost container after the restart: %+v, want exited (live-restore off)", obs.state)
	}
	if len(obs.procsUp) != 2 { // dockerd + containerd, no shim, no app
		t.Errorf("after the restart %d processes of the private engine, want 2 (dockerd, containerd)", len(obs.procsUp))
	}
	// The ping that found the engine back came after the backoff's waits.
	var firstOK time.Time
	for _, c := range fe.log() {
		if c.op == "ping" && c.err == nil {
			firstOK = c.at
			break
		}
	}
	if firstOK.IsZero() {
		t.Error("no successful ping: the runner never waited for the engine")
	} else {
		t.Logf("first successful ping at kill%+v; next start began at kill%+v",
			firstOK.Sub(obs.killAt).Round(time.Millisecond), recs[1].Time.Sub(obs.killAt).Round(time.Millisecond))
	}
	if len(r.Pending()) != 0 {
		t.Errorf("pending removals after Execute: %v", r.Pending())
	}
	ctx := context.Background()
	cs, err := fe.List(ctx, map[string]string{engine.LabelRun: r.RunID})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		t.Errorf("container %s (%s, %.12s) of the run left on the engine", c.Name, c.State, c.ID)
	}
	if _, err := fe.Docker.Inspect(ctx, first.Container); err == nil || errors.Is(err, engine.ErrUnreachable) {
		t.Errorf("lost container still inspectable after the run: %v", err)
	}
	fe.Close()
	settleGoroutines(t, g0)
}

// testGoneForGood: SIGKILL the engine and leave it dead. Execute journals the
// start as engine_error and gives up with ErrUnreachable after the backoff.
// Then the engine returns and the leftover is found by label and collected.
func testGoneForGood(t *testing.T, g *faultRig) {
	p := g.p
	g0 := runtime.NumGoroutine()
	// A dead owner: the state a later `coldstart run` or `coldstart gc` finds
	// once the run that lost its engine has ended.
	owner := deadOwner(t)
	r, fe, s, plan := g.runner(t, owner)

	var killAt time.Time
	var killTook time.Duration
	killed := make(chan struct{})
	var once sync.Once
	fe.onStarted = func(id string) {
		once.Do(func() {
			go func() {
				defer close(killed)
				time.Sleep(500 * time.Millisecond)
				killAt = time.Now()
				killTook = p.Kill()
			}()
		})
	}
	ectx, ecancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer ecancel()
	t0 := time.Now()
	done, err := r.Execute(ectx, s, plan, nil)
	took := time.Since(t0)
	select {
	case <-killed:
	case <-time.After(5 * time.Second):
		t.Fatal("the engine was never killed")
	}
	sinceKill := time.Since(killAt)
	t.Logf("Execute: done=%d in %v (%v after the kill; dockerd reaped in %v): err=%v",
		done, took.Round(time.Millisecond), sinceKill.Round(time.Millisecond), killTook.Round(time.Millisecond), err)
	t.Logf("engine calls (time relative to the kill):")
	checkCalls(t, fe, killAt, time.Time{})
	recs := r.Journal.(*memJournal).recs
	for _, rec := range recs {
		t.Logf("record %s", recLine(rec))
	}
	if !errors.Is(err, engine.ErrUnreachable) {
		t.Errorf("Execute error %v, want one wrapping engine.ErrUnreachable", err)
	}
	if sinceKill > 20*time.Second {
		t.Errorf("Execute returned %v after the kill, want within the 1+2+4+8 s backoff (< 20 s)", sinceKill)
	}
	if done != 1 || len(recs) != 1 {
		t.Fatalf("done %d with %d records, want the one started journaled", done, len(recs))
	}
	if recs[0].Outcome != result.EngineError {
		t.Errorf("outcome %s, want engine_error", recs[0].Outcome)
	}
	pend := r.Pending()
	if len(pend) != 1 || pend[0] != recs[0].Container {
		t.Errorf("pending %v, want the in-flight container %s", pend, recs[0].Container)
	}
	var pings []string
	for _, c := range fe.log() {
		if c.op == "ping" {
			pings = append(pings, c.at.Sub(killAt).Round(100*time.Millisecond).String())
		}
	}
	t.Logf("pings at kill+%s", strings.Join(pings, ", +"))
	fe.Close()

	// The engine returns: the leftover is found by the run's label and collected.
	from := p.LogSize()
	up, err := p.Restart()
	if err != nil {
		t.Fatalf("restart: %v\n%s", err, p.LogTail(30))
	}
	t.Logf("engine back after %v; from dockerd's log:\n%s", up.Round(time.Millisecond), p.RestartLog(from))
	ctx := context.Background()
	d, err := engine.DialHost(ctx, g.p.Host(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	cs, err := d.List(ctx, map[string]string{engine.LabelRun: r.RunID})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		t.Logf("leftover: %s %.12s state=%s owner=%s", c.Name, c.ID, c.State, c.Labels[engine.LabelOwner])
	}
	if len(cs) != 1 || cs[0].ID != recs[0].Container {
		t.Errorf("leftovers by label %+v, want exactly the in-flight container %s", cs, recs[0].Container)
	}
	var gcLog strings.Builder
	tg := time.Now()
	nc, nd, err := GC(ctx, d, r.Sockets.base, &gcLog)
	t.Logf("GC: %d containers, %d socket dirs in %v, err=%v\n%s", nc, nd, time.Since(tg).Round(time.Millisecond), err, gcLog.String())
	if err != nil || nc != len(cs) {
		t.Errorf("GC removed %d containers (err %v), want %d", nc, err, len(cs))
	}
	cs, err = d.List(ctx, map[string]string{engine.LabelRun: r.RunID})
	if err != nil || len(cs) != 0 {
		t.Errorf("after GC: %d containers of the run (err %v)", len(cs), err)
	}
	d.Close()
	settleGoroutines(t, g0)
}
