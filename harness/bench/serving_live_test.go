package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// These tests start the sample function scenarios/apps/fn-go (built here,
// FROM scratch) under contract: fn with the seed limits, in each of its
// modes, and the test app with a work request.

var (
	fnOnce  sync.Once
	fnImage string
	fnErr   error
)

// fnGoImage builds scenarios/apps/fn-go once for the package's tests.
func fnGoImage(t *testing.T) string {
	t.Helper()
	needEngine(t)
	fnOnce.Do(func() {
		dir, err := os.MkdirTemp("", "coldstart-fn-")
		if err != nil {
			fnErr = err
			return
		}
		defer os.RemoveAll(dir)
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", filepath.Join(dir, "app"), "../../scenarios/apps/fn-go")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fnErr = fmt.Errorf("go build fn-go: %v\n%s", err, out)
			return
		}
		os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\nCOPY app /app\nENTRYPOINT [\"/app\"]\n"), 0o644)
		tag := "coldstart-test/fn-go:" + fmt.Sprint(os.Getpid())
		fnErr = live.Build(context.Background(), engine.BuildSpec{Context: dir, Tag: tag,
			Labels: map[string]string{engine.LabelHarness: "1", "io.coldstart.test": "1"}}, nil)
		if fnErr == nil {
			fnImage = tag
		}
	})
	if fnErr != nil {
		t.Fatal(fnErr)
	}
	return fnImage
}

func removeFnImage(d *engine.Docker) {
	if fnImage != "" {
		d.RemoveImage(context.Background(), fnImage)
	}
}

// fnScenario is fn-go in a mode under contract: fn and the seed limits, as
// the suite parser makes it (the FN_* environment, the listener, POST /call).
func fnScenario(t *testing.T, mode string, deadline time.Duration, contains string) *scenario.Scenario {
	t.Helper()
	img := fnGoImage(t)
	suite := fmt.Sprintf("suite: t\ndefaults: {contract: fn}\nscenarios:\n  - name: fn-%s\n    image: %s\n    command: [-mode=%s]\n    deadline: %v\n    serving: {body: hello, contains: %q}\n",
		mode, img, mode, deadline, contains)
	s, err := scenario.Parse("t.yaml", []byte(suite), scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return &s.Scenarios[0]
}

// The function to the contract: ready at its link, served by the first
// POST /call, which carried the FN_* environment's values and a call id of
// this start (fn-go echoes both); each start's call id is its own.
func TestLiveFnServes(t *testing.T) {
	r := newRunner(t)
	ids := map[string]bool{}
	for i, contains := range []string{"call_id=" + r.Tag + "-", "fn_memory=128 fn_tmpsize=0"} {
		sc := fnScenario(t, "ok", 5*time.Second, contains)
		rec := r.One(context.Background(), sc, scenario.Start{Kind: result.KindMeasure, Iteration: i}, i)
		t.Logf("outcome %s socket %v ready %v serving %v (%s, %d attempts) call id %s error %q %q",
			rec.Outcome, deref(rec.SocketMS), deref(rec.ReadyMS), deref(rec.ServingMS), rec.ServingOutcome, rec.ServingAttempts, rec.CallID, rec.Error, rec.ServingError)
		if rec.Outcome != result.OK || rec.ServingOutcome != result.OK || rec.ServingMS == nil || rec.ServingStatus != 200 {
			t.Fatalf("start %d: outcome %s, serving %s %v (%s)", i, rec.Outcome, rec.ServingOutcome, deref(rec.ServingMS), rec.ServingError)
		}
		if rec.Contract != "fn" || *rec.SocketMS > *rec.ReadyMS || *rec.ReadyMS > *rec.ServingMS || *rec.ServingMS > rec.DeadlineMS {
			t.Errorf("contract %q, times out of order: socket %v ready %v serving %v", rec.Contract, deref(rec.SocketMS), deref(rec.ReadyMS), deref(rec.ServingMS))
		}
		if rec.Cgroup == nil || rec.ServingCgroup == nil || rec.ServingCgroup.CPUUsageMS < rec.Cgroup.CPUUsageMS {
			t.Errorf("cgroup at ready %+v, at serving %+v", rec.Cgroup, rec.ServingCgroup)
		}
		if rec.CallID == "" || ids[rec.CallID] {
			t.Errorf("call id %q not unique", rec.CallID)
		}
		ids[rec.CallID] = true
	}
}

// Links Fn's agent rejects fail the start at once, named; no link at all is
// a deadline miss.
func TestLiveFnBadLinks(t *testing.T) {
	r := newRunner(t)
	for _, tc := range []struct{ mode, why string }{
		{"abs-link", "symlinks must be relative within the unix socket directory"},
		{"outside-link", "symlinks must be relative within the unix socket directory"},
		{"file-link", "listener file is not a socket"},
	} {
		sc := fnScenario(t, tc.mode, 5*time.Second, "called")
		t0 := time.Now()
		rec := r.One(context.Background(), sc, scenario.Start{Kind: result.KindMeasure}, 0)
		took := time.Since(t0)
		t.Logf("%s: %s after %v (socket %v): %s", tc.mode, rec.Outcome, took, deref(rec.SocketMS), rec.Error)
		if rec.Outcome != result.ContractViolation || rec.ServingOutcome != result.ContractViolation || !strings.Contains(rec.Error, tc.why) {
			t.Errorf("%s: outcome %s serving %s error %q, want contract_violation: %s", tc.mode, rec.Outcome, rec.ServingOutcome, rec.Error, tc.why)
		}
		// At the link's creation, never at the deadline.
		if rec.SocketMS == nil || rec.ReadyMS != nil || rec.ServingMS != nil || *rec.SocketMS > 2500 {
			t.Errorf("%s: socket %v ready %v serving %v", tc.mode, deref(rec.SocketMS), deref(rec.ReadyMS), deref(rec.ServingMS))
		}
	}
	rec := r.One(context.Background(), fnScenario(t, "no-link", 1500*time.Millisecond, "called"), scenario.Start{Kind: result.KindMeasure}, 1)
	if rec.Outcome != result.DeadlineExceeded || rec.SocketMS != nil || !strings.Contains(rec.Error, "no listener link") {
		t.Errorf("no-link: %s socket %v: %s", rec.Outcome, deref(rec.SocketMS), rec.Error)
	}
}

// A function that is ready (its link) but never answers a call is a
// serving deadline miss; the start itself is ok. The call went once.
func TestLiveFnReadyNotServing(t *testing.T) {
	r := newRunner(t)
	rec := r.One(context.Background(), fnScenario(t, "no-call", 2*time.Second, "called"), scenario.Start{Kind: result.KindMeasure}, 0)
	t.Logf("%s / %s ready %v: %s", rec.Outcome, rec.ServingOutcome, deref(rec.ReadyMS), rec.ServingError)
	if rec.Outcome != result.OK || rec.ReadyMS == nil || rec.ServingOutcome != result.DeadlineExceeded || rec.ServingMS != nil || rec.ServingAttempts != 1 {
		t.Errorf("outcome %s ready %v, serving %s %v after %d attempts; want ok, then a serving deadline miss after one request",
			rec.Outcome, deref(rec.ReadyMS), rec.ServingOutcome, deref(rec.ServingMS), rec.ServingAttempts)
	}
	if !strings.Contains(rec.ServingError, "no answer to POST /call within 2s") {
		t.Errorf("serving error %q", rec.ServingError)
	}
}

// Without a contract: the health answer, then the work request; each way
// the first call can go wrong has its serving outcome.
func TestLiveServing(t *testing.T) {
	r := newRunner(t)
	for _, tc := range []struct {
		work string
		want result.Outcome
	}{{"", result.OK}, {"hang", result.DeadlineExceeded}, {"fail", result.CallFailed}, {"exit", result.ExitedBeforeServing}} {
		sc := testScenario("work-"+tc.work, "WORK="+tc.work)
		sc.Deadline = 2 * time.Second
		sc.Serving = &scenario.Serving{Method: "POST", Path: "/work", Body: `{"n": 3}`, Status: 200, Contains: "ok"}
		rec := oneStart(t, r, sc)
		t.Logf("WORK=%s: %s / %s ready %v serving %v status %d attempts %d: %s", tc.work, rec.Outcome, rec.ServingOutcome,
			deref(rec.ReadyMS), deref(rec.ServingMS), rec.ServingStatus, rec.ServingAttempts, rec.ServingError)
		if rec.Outcome != result.OK || rec.ServingOutcome != tc.want || (rec.ServingMS != nil) != (tc.want == result.OK) {
			t.Errorf("WORK=%s: outcome %s, serving %s %v; want ok and %s", tc.work, rec.Outcome, rec.ServingOutcome, deref(rec.ServingMS), tc.want)
		}
		if tc.want == result.ExitedBeforeServing && (rec.ExitMS == nil || rec.ExitCode == nil || *rec.ExitCode != 3) {
			t.Errorf("WORK=exit: exit at %v with code %v, want 3", deref(rec.ExitMS), rec.ExitCode)
		}
	}
	// A diagnostic start sends no work request: its profile ends at readiness.
	sc := testScenario("work-diag")
	sc.Serving = &scenario.Serving{Method: "GET", Path: "/work", Status: 200}
	rec := r.One(context.Background(), sc, scenario.Start{Kind: result.KindDiagnostic}, 9)
	if rec.Outcome != result.OK || rec.ServingOutcome != "" || rec.ServingAttempts != 0 {
		t.Errorf("diagnostic start: %s, serving %q after %d attempts", rec.Outcome, rec.ServingOutcome, rec.ServingAttempts)
	}
}

func TestFnDeadline(t *testing.T) {
	for in, want := range map[string]string{
		"2026-11-30T07:12:39Z":        "2026-11-30T07:12:39Z",
		"2026-11-30T07:12:39.001Z":    "2026-11-30T07:12:40Z",
		"2026-11-30T08:12:39.5+01:00": "2026-11-30T07:12:40Z",
		"2026-11-30T23:59:59.999999Z": "2026-12-01T00:00:00Z",
	} {
		dl, _ := time.Parse(time.RFC3339Nano, in)
		got := FnDeadline(dl)
		if got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
		if back, err := time.Parse(time.RFC3339, got); err != nil || back.Before(dl) {
			t.Errorf("%s: %s parses to %v (%v): before the deadline", in, got, back, err)
		}
	}
}
