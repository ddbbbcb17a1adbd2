package cli

// Fault tests against the real engine: interruption and resume, signals, a
// locked run directory, a full disk, --max-duration, two harnesses on one
// engine, and gc. Signal tests re-execute this test binary as the harness
// (TestFaultHelperHarness), so that the signal reaches a process of its own.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/bench"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

const quickstart = "../../scenarios/quickstart.yaml"

// helperArgsEnv holds, JSON-encoded, the command line a re-executed test
// binary runs as the harness.
const helperArgsEnv = "COLDSTART_FAULT_HELPER_ARGS"

// TestFaultHelperHarness is the harness process of the signal tests, not a test.
func TestFaultHelperHarness(t *testing.T) {
	a := os.Getenv(helperArgsEnv)
	if a == "" {
		t.Skip("the harness process of the fault tests")
	}
	var args []string
	if err := json.Unmarshal([]byte(a), &args); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(99)
	}
	err := Run(context.Background(), args, os.Stdout, os.Stderr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "coldstart: %v\n", err)
	}
	os.Exit(Code(err))
}

// syncBuffer collects a child's stderr while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan struct{}
	code   int
	killed syscall.Signal // the signal that ended it, if one did
}

// startHarness runs `coldstart ARGS...` in a child process.
func startHarness(t *testing.T, args ...string) *harness {
	t.Helper()
	a, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^TestFaultHelperHarness$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperArgsEnv+"="+string(a))
	h := &harness{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = h.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		cmd.Wait()
		h.code = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			h.killed = ws.Signal()
		}
		close(h.done)
	}()
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			cmd.Process.Kill()
			<-h.done
		}
	})
	return h
}

func (h *harness) signal(t *testing.T, s os.Signal) {
	t.Helper()
	if err := h.cmd.Process.Signal(s); err != nil {
		t.Fatalf("signal %v: %v", s, err)
	}
}

// wait returns the child's exit code.
func (h *harness) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-h.done:
		return h.code
	case <-time.After(timeout):
		t.Fatalf("harness still running after %v\nstderr:\n%s", timeout, h.stderr)
		return -1
	}
}

func (h *harness) exited() bool {
	select {
	case <-h.done:
		return true
	default:
		return false
	}
}

// shortBase is a private socket base under /tmp: sun_path holds 107 bytes.
// The harnesses that use it mount their tmpfs there (as root) and the last
// one out unmounts it: a mount still there at the test's end is a leak.
func shortBase(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("/tmp", "cf")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if m := mountsAt(d); len(m) > 0 {
			t.Errorf("mount left at %s: %q", d, m)
			for range m {
				syscall.Unmount(d, 0)
			}
		}
		os.RemoveAll(d)
	})
	return d
}

// mountsAt lists the mounts at or below dir.
func mountsAt(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mounts")
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && (f[1] == dir || strings.HasPrefix(f[1], dir+"/")) {
			out = append(out, f[1])
		}
	}
	return out
}

// openBase opens a private base as a run would, closed at the test's end.
func openBase(t *testing.T) *bench.SocketBase {
	t.Helper()
	b, err := bench.OpenSocketBase(shortBase(t), bench.BaseOptions{Create: true, Mount: os.Geteuid() == 0})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func countLines(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, []byte("\n"))
}

// waitFor polls cond until it holds; it fails when h exits first or after timeout.
func waitFor(t *testing.T, h *harness, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	end := time.Now().Add(timeout)
	for !cond() {
		if h != nil && h.exited() {
			t.Fatalf("harness exited (%d) before %s\nstderr:\n%s", h.code, what, h.stderr)
		}
		if time.Now().After(end) {
			t.Fatalf("no %s after %v", what, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func readSummary(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, journal.SummaryFile))
	if err != nil {
		t.Fatalf("summary: %v", err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("summary: %v", err)
	}
	return v
}

func manifestOf(t *testing.T, dir string) result.Manifest {
	t.Helper()
	m, err := journal.ReadManifest(dir)
	if err != nil {
		t.Fatalf("manifest: %v", err)
	}
	return m
}

func dial(t *testing.T) *engine.Docker {
	t.Helper()
	d, err := engine.Dial(context.Background(), 5*time.Second)
	if err != nil {
		t.Fatalf("these tests need a Docker engine: %v", err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// noneLeft fails for every container of the run still on the engine (and
// removes it, so that a failing test leaves nothing behind either). The
// engine finishes a cancelled create up to a few hundred ms later, so an
// empty list is checked again after a pause; a removal in progress (a
// concurrent gc: the engine answered "already in progress") gets a few
// seconds to finish. A leak stays.
func noneLeft(t *testing.T, runID string) {
	t.Helper()
	if runID == "" {
		t.Error("no run id to check for leftovers")
		return
	}
	d := dial(t)
	list := func() []engine.Container {
		cs, err := d.List(context.Background(), map[string]string{engine.LabelHarness: "1", engine.LabelRun: runID})
		if err != nil {
			t.Fatal(err)
		}
		return cs
	}
	cs := list()
	if len(cs) == 0 {
		time.Sleep(time.Second)
		cs = list()
	}
	for end := time.Now().Add(5 * time.Second); len(cs) > 0 && time.Now().Before(end); cs = list() {
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range cs {
		t.Errorf("container %s (%s) of run %s left behind", c.Name, c.State, runID)
		d.Remove(context.Background(), c.ID)
	}
}

// checkJournal reads the run's journal and checks that every record belongs
// to the run and every (scenario, kind, iter) appears at most once.
func checkJournal(t *testing.T, dir, runID string) []result.Record {
	t.Helper()
	recs, warns, err := journal.Read(filepath.Join(dir, journal.RunsFile))
	if err != nil {
		t.Fatalf("journal: %v", err)
	}
	if len(warns) > 0 {
		t.Errorf("journal warnings: %q", warns)
	}
	seen := map[string]int{}
	for _, r := range recs {
		if r.Run != runID {
			t.Errorf("record %s/%s#%d of run %q in the journal of run %q", r.Scenario, r.Kind, r.Iteration, r.Run, runID)
		}
		k := fmt.Sprintf("%s/%s#%d", r.Scenario, r.Kind, r.Iteration)
		if seen[k]++; seen[k] == 2 {
			t.Errorf("start %s recorded twice", k)
		}
	}
	return recs
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// SIGINT after the third record: exit 130, an interrupted summary with
// planned and completed, nothing left on the engine; --resume then runs only
// the missing starts.
func TestFaultInterruptThenResume(t *testing.T) {
	t.Parallel()
	base := shortBase(t)
	dir := filepath.Join(t.TempDir(), "run")
	runs := filepath.Join(dir, journal.RunsFile)
	h := startHarness(t, "run", "--quiet", "--runs", "6", "--socket-dir", base, "--out", dir, quickstart)
	waitFor(t, h, 90*time.Second, "third record", func() bool { return countLines(runs) >= 3 })
	h.signal(t, syscall.SIGINT)
	if code := h.wait(t, 30*time.Second); code != ExitInterrupted {
		t.Fatalf("exit %d after SIGINT, want %d\nstderr:\n%s", code, ExitInterrupted, h.stderr)
	}
	if !strings.Contains(h.stderr.String(), "resume with: coldstart run --resume "+dir) {
		t.Errorf("no resume hint on stderr:\n%s", h.stderr)
	}
	m := manifestOf(t, dir)
	noneLeft(t, m.Run)
	if _, err := os.Stat(filepath.Join(base, m.Run[len(m.Run)-8:])); !os.IsNotExist(err) {
		t.Errorf("socket dir of the interrupted run left behind (%v)", err)
	}
	first := checkJournal(t, dir, m.Run)
	s := readSummary(t, dir)
	if s["interrupted"] != true || num(s["planned"]) != 7 || num(s["completed"]) != len(first) {
		t.Errorf("summary interrupted=%v planned=%v completed=%v; want true, 7, %d", s["interrupted"], s["planned"], s["completed"], len(first))
	}
	if len(first) < 3 || len(first) >= 7 {
		t.Fatalf("%d records after the interruption, want 3..6", len(first))
	}

	_, stderr, err := run(t, "run", "--quiet", "--socket-dir", base, "--resume", dir)
	if err != nil {
		t.Fatalf("resume: %v\n%s", err, stderr)
	}
	recs := checkJournal(t, dir, m.Run)
	if len(recs) != 7 {
		t.Errorf("%d records after resume, want 7 (1 warmup + 6)", len(recs))
	}
	for i, r := range first {
		if !sameRecord(recs[i], r) {
			t.Errorf("record %d changed by the resume", i)
		}
	}
	s = readSummary(t, dir)
	if num(s["resumed"]) != 1 || s["interrupted"] != false || num(s["completed"]) != 7 {
		t.Errorf("summary resumed=%v interrupted=%v completed=%v; want 1, false, 7", s["resumed"], s["interrupted"], s["completed"])
	}
	m2 := manifestOf(t, dir)
	if m2.Run != m.Run || len(m2.Resumes) != 1 || m2.Resumes[0].Forced || m2.Resumes[0].Skipped != len(first) {
		t.Errorf("manifest after resume: run %s (was %s), resumes %+v; want one unforced resume skipping %d", m2.Run, m.Run, m2.Resumes, len(first))
	}
	// The resumed session named its containers and socket dirs with a tag of its own.
	if len(m2.Resumes) == 1 && (len(m2.Resumes[0].Tag) != 8 || m2.Resumes[0].Tag == bench.RunTag(m.Run)) {
		t.Errorf("resume tag %q, want a fresh one (the run's is %s)", m2.Resumes[0].Tag, bench.RunTag(m.Run))
	}
	noneLeft(t, m.Run)
}

func sameRecord(a, b result.Record) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func TestFaultSIGTERM(t *testing.T) {
	t.Parallel()
	base := shortBase(t)
	dir := filepath.Join(t.TempDir(), "run")
	h := startHarness(t, "run", "--quiet", "--runs", "6", "--socket-dir", base, "--out", dir, quickstart)
	waitFor(t, h, 90*time.Second, "first record", func() bool { return countLines(filepath.Join(dir, journal.RunsFile)) >= 1 })
	h.signal(t, syscall.SIGTERM)
	if code := h.wait(t, 30*time.Second); code != ExitTerminated {
		t.Fatalf("exit %d after SIGTERM, want %d\nstderr:\n%s", code, ExitTerminated, h.stderr)
	}
	m := manifestOf(t, dir)
	recs := checkJournal(t, dir, m.Run)
	if s := readSummary(t, dir); s["interrupted"] != true || num(s["completed"]) != len(recs) {
		t.Errorf("summary interrupted=%v completed=%v, want true and %d", s["interrupted"], s["completed"], len(recs))
	}
	noneLeft(t, m.Run)
}

// A second signal ends the process at once by the signal's default action,
// without the graceful path (no container removal, no summary): no os.Exit
// outside main. The journal is still valid, and gc removes what the run left.
func TestFaultSecondSignalExitsAtOnce(t *testing.T) {
	t.Parallel()
	base := shortBase(t)
	// The app runs but never gives the expected answer: each start holds a
	// running container for its whole deadline, so the graceful path, which
	// must remove it, cannot be over before the second signal.
	suite := writeSuiteCopy(t, "", "an answer go-hello never gives")
	dir := filepath.Join(t.TempDir(), "run")
	runs := filepath.Join(dir, journal.RunsFile)
	h := startHarness(t, "run", "--quiet", "--socket-dir", base, "--out", dir, suite)
	waitFor(t, h, 60*time.Second, "manifest", func() bool {
		_, err := os.Stat(filepath.Join(dir, journal.ManifestFile))
		return err == nil
	})
	m := manifestOf(t, dir)
	sock := filepath.Join(base, m.Run[len(m.Run)-8:], "000000", "app.sock")
	waitFor(t, h, 30*time.Second, "the first start's socket", func() bool {
		_, err := os.Stat(sock)
		return err == nil
	})
	h.signal(t, syscall.SIGINT)
	waitFor(t, h, 10*time.Second, "first-signal notice", func() bool { return strings.Contains(h.stderr.String(), "again to quit now") })
	h.signal(t, syscall.SIGINT)
	t0 := time.Now()
	code := h.wait(t, 10*time.Second)
	t.Logf("exit %d (signal %v) %v after the second signal", code, h.killed, time.Since(t0))
	if h.killed != syscall.SIGINT {
		t.Errorf("exit %d, signal %v after two SIGINTs; want death by SIGINT (a shell's 130)", code, h.killed)
	}
	if strings.Contains(h.stderr.String(), "interrupted by") {
		t.Errorf("the run ended through the graceful path, not at once:\n%s", h.stderr)
	}
	if _, _, err := journal.Read(runs); err != nil && !os.IsNotExist(err) {
		t.Errorf("journal after a hard exit: %v", err)
	}
	// The harness is dead: gc removes the container in flight and the socket dir.
	out, _, err := run(t, "gc", "--socket-dir", base)
	if err != nil {
		t.Fatalf("gc: %v", err)
	}
	t.Logf("gc: %s", strings.TrimSpace(out))
	if _, err := os.Stat(filepath.Join(base, m.Run[len(m.Run)-8:])); !os.IsNotExist(err) {
		t.Errorf("gc left the dead run's socket dir (%v)", err)
	}
	noneLeft(t, m.Run)
}

// writeSuiteCopy writes a copy of the quickstart suite outside the repository,
// with absolute paths, and returns its file. setup "" is quickstart's own;
// body "" is quickstart's healthy answer ("ok").
func writeSuiteCopy(t *testing.T, setup, body string) string {
	t.Helper()
	scen, err := filepath.Abs("../../scenarios")
	if err != nil {
		t.Fatal(err)
	}
	if setup == "" {
		setup = "cd " + scen + " && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o apps/go-hello/app ./apps/go-hello"
	}
	if body == "" {
		body = "ok"
	}
	suite := fmt.Sprintf(`# a copy of quickstart with absolute paths
suite: quickstart-copy
defaults:
  limits: {cpus: 0.1, memory: 128m, memory_swap: 128m, kernel_memory: 128m}
  deadline: 3s
  health: {method: GET, path: /, status: 200, body: %q}
scenarios:
  - name: go-hello
    setup:
      - %q
    build:
      context: %s
    image: coldstart/go-hello:latest
    runs: 1
    warmup: 1
`, body, setup, filepath.Join(scen, "apps", "go-hello"))
	f := filepath.Join(t.TempDir(), "suite.yaml")
	if err := os.WriteFile(f, []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// A changed suite file (even a comment) refuses the resume with exit 2;
// --force continues and records it.
func TestFaultResumeChangedSuite(t *testing.T) {
	t.Parallel()
	base := shortBase(t)
	suite := writeSuiteCopy(t, "", "")
	dir := filepath.Join(t.TempDir(), "run")
	if _, stderr, err := run(t, "run", "--quiet", "--socket-dir", base, "--out", dir, suite); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	m := manifestOf(t, dir)
	noneLeft(t, m.Run)
	before := checkJournal(t, dir, m.Run)

	f, _ := os.OpenFile(suite, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("# edited after the run\n")
	f.Close()
	_, _, err := run(t, "run", "--quiet", "--socket-dir", base, "--resume", dir)
	if Code(err) != ExitBadInput || !strings.Contains(fmt.Sprint(err), "changed") || !strings.Contains(fmt.Sprint(err), "--force") {
		t.Fatalf("resume after an edit: exit %d (%v), want 2 naming the change and --force", Code(err), err)
	}
	if m2 := manifestOf(t, dir); len(m2.Resumes) != 0 {
		t.Errorf("a refused resume was recorded: %+v", m2.Resumes)
	}

	if _, stderr, err := run(t, "run", "--quiet", "--force", "--socket-dir", base, "--resume", dir); err != nil {
		t.Fatalf("resume --force: %v\n%s", err, stderr)
	}
	m2 := manifestOf(t, dir)
	if len(m2.Resumes) != 1 || !m2.Resumes[0].Forced || len(m2.Resumes[0].Reasons) == 0 || !strings.Contains(m2.Resumes[0].Reasons[0], "changed") {
		t.Errorf("manifest resumes %+v, want one forced resume with the reason", m2.Resumes)
	}
	if recs := checkJournal(t, dir, m.Run); len(recs) != len(before) {
		t.Errorf("%d records after resuming a complete run, want %d", len(recs), len(before))
	}
	if s := readSummary(t, dir); num(s["resumed"]) != 1 {
		t.Errorf("summary resumed=%v, want 1", s["resumed"])
	}
	noneLeft(t, m.Run)
}

// A crash tore the WAL's last line while a start was in flight. The resume
// appends its intents after the torn bytes; a later resume must still read
// the WAL (before the fix: "damaged intent", and the run could never be resumed again).
func TestFaultResumeAfterTornWAL(t *testing.T) {
	t.Parallel()
	base := shortBase(t)
	suite := writeSuiteCopy(t, "", "")
	dir := filepath.Join(t.TempDir(), "run")
	if _, stderr, err := run(t, "run", "--quiet", "--socket-dir", base, "--out", dir, suite); err != nil {
		t.Fatalf("run: %v\n%s", err, stderr)
	}
	m := manifestOf(t, dir)
	runs, wal := filepath.Join(dir, journal.RunsFile), filepath.Join(dir, journal.WALFile)
	// The crash: the last start's record never written, its intent torn.
	recs := checkJournal(t, dir, m.Run)
	l, _ := json.Marshal(&recs[0])
	os.WriteFile(runs, append(l, '\n'), 0o644)
	b, _ := os.ReadFile(wal)
	os.WriteFile(wal, b[:len(b)-20], 0o644)

	if _, stderr, err := run(t, "run", "--quiet", "--socket-dir", base, "--resume", dir); err != nil {
		t.Fatalf("first resume: %v\n%s", err, stderr)
	}
	if recs := checkJournal(t, dir, m.Run); len(recs) != 2 {
		t.Fatalf("%d records after the first resume, want 2", len(recs))
	}
	if _, stderr, err := run(t, "run", "--quiet", "--socket-dir", base, "--resume", dir); err != nil {
		t.Errorf("second resume: exit %d: %v\n%s", Code(err), err, stderr)
	}
	noneLeft(t, m.Run)
}

// Two harnesses on one run directory: the second fails fast with exit 2 and
// says the directory is in use; the first is not disturbed.
func TestFaultRunDirLocked(t *testing.T) {
	t.Parallel()
	base := shortBase(t)
	dir := filepath.Join(t.TempDir(), "run")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	firstErr := make(chan error, 1)
	go func() {
		var out, errb bytes.Buffer
		firstErr <- Run(ctx, []string{"run", "--quiet", "--runs", "200", "--socket-dir", base, "--out", dir, quickstart}, &out, &errb)
	}()
	// The manifest is written once the lock is held.
	end := time.Now().Add(90 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, journal.ManifestFile)); err == nil {
			break
		}
		select {
		case err := <-firstErr:
			t.Fatalf("first harness ended before writing its manifest: %v", err)
		default:
		}
		if time.Now().After(end) {
			t.Fatal("first harness wrote no manifest")
		}
		time.Sleep(10 * time.Millisecond)
	}
	m := manifestOf(t, dir)

	t0 := time.Now()
	_, _, err := run(t, "run", "--quiet", "--runs", "200", "--socket-dir", base, "--out", dir, quickstart)
	took := time.Since(t0)
	t.Logf("second harness refused after %v: %v", took, err)
	if Code(err) != ExitBadInput || !strings.Contains(fmt.Sprint(err), "in use") || !strings.Contains(fmt.Sprint(err), dir) {
		t.Errorf("second harness: exit %d (%v) after %v; want 2 naming %s as in use", Code(err), err, took, dir)
	}
	_, _, err = run(t, "run", "--quiet", "--socket-dir", base, "--resume", dir)
	if Code(err) != ExitBadInput || !strings.Contains(fmt.Sprint(err), "in use") {
		t.Errorf("resume of a running run: exit %d (%v); want 2, in use", Code(err), err)
	}
	select {
	case err := <-firstErr:
		t.Fatalf("first harness ended while the second tried its directory: %v", err)
	default:
	}
	cancel()
	select {
	case <-firstErr:
	case <-time.After(30 * time.Second):
		t.Fatal("first harness did not stop after cancel")
	}
	checkJournal(t, dir, m.Run)
	if s := readSummary(t, dir); s["interrupted"] != true {
		t.Errorf("first harness's summary interrupted=%v, want true", s["interrupted"])
	}
	noneLeft(t, m.Run)
}

// A full disk: the run stops with exit 1 and "results not durable", what was
// written reads back, and nothing is left on the engine.
func TestFaultDiskFull(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	if err := syscall.Mount("tmpfs", mnt, "tmpfs", 0, "size=80k"); err != nil {
		t.Skipf("mount tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(mnt, 0); err != nil {
			t.Errorf("umount %s: %v", mnt, err)
		}
	})
	// Leave room for the manifest and a few records only: filling 80k takes a
	// minute of starts.
	if err := os.WriteFile(filepath.Join(mnt, "filler"), make([]byte, 68<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	base := shortBase(t)
	dir := filepath.Join(mnt, "run")
	_, stderr, err := run(t, "run", "--quiet", "--runs", "200", "--socket-dir", base, "--out", dir, quickstart)
	if Code(err) != ExitError || !strings.Contains(fmt.Sprint(err), "results not durable") {
		t.Fatalf("full disk: exit %d (%v), want 1 and results not durable\n%s", Code(err), err, stderr)
	}
	m := manifestOf(t, dir)
	recs, warns, rerr := journal.Read(filepath.Join(dir, journal.RunsFile))
	if rerr != nil {
		t.Fatalf("journal on the full disk: %v", rerr)
	}
	t.Logf("%d records written before the disk was full; warnings %q; error: %v", len(recs), warns, err)
	if len(recs) == 0 || len(recs) >= 201 {
		t.Errorf("%d records, want some but not all", len(recs))
	}
	for _, r := range recs {
		if r.Run != m.Run {
			t.Errorf("record of run %q", r.Run)
		}
	}
	if _, err := os.Stat(filepath.Join(base, m.Run[len(m.Run)-8:])); !os.IsNotExist(err) {
		t.Errorf("socket dir left behind (%v)", err)
	}
	noneLeft(t, m.Run)
}

// --max-duration stops scheduling: exit 124, an interrupted summary, and a
// resume hint.
func TestFaultMaxDuration(t *testing.T) {
	t.Parallel()
	base := shortBase(t)
	dir := filepath.Join(t.TempDir(), "run")
	t0 := time.Now()
	// Long enough for the setup and build on a loaded machine (they count:
	// the limit is on the whole run), short of the 400 starts.
	_, _, err := run(t, "run", "--quiet", "--runs", "400", "--max-duration", "10s", "--socket-dir", base, "--out", dir, quickstart)
	took := time.Since(t0)
	if Code(err) != ExitMaxDuration || !strings.Contains(fmt.Sprint(err), "--resume "+dir) {
		t.Fatalf("exit %d (%v) after %v; want %d with a resume hint", Code(err), err, took, ExitMaxDuration)
	}
	if took > 30*time.Second {
		t.Errorf("took %v with --max-duration 10s", took)
	}
	m := manifestOf(t, dir)
	recs := checkJournal(t, dir, m.Run)
	if s := readSummary(t, dir); s["interrupted"] != true || num(s["planned"]) != 401 || num(s["completed"]) != len(recs) {
		t.Errorf("summary interrupted=%v planned=%v completed=%v; want true, 401, %d", s["interrupted"], s["planned"], s["completed"], len(recs))
	}
	noneLeft(t, m.Run)
}

// --max-duration reached during the suite's setup is still --max-duration
// (124), not a bad suite (2): the setup did nothing wrong.
func TestFaultMaxDurationDuringSetup(t *testing.T) {
	t.Parallel()
	base := shortBase(t)
	scen, _ := filepath.Abs("../../scenarios")
	suite := writeSuiteCopy(t, "sleep 2 && cd "+scen+" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o apps/go-hello/app ./apps/go-hello", "")
	dir := filepath.Join(t.TempDir(), "run")
	_, _, err := run(t, "run", "--quiet", "--runs", "200", "--max-duration", "1s", "--socket-dir", base, "--out", dir, suite)
	if Code(err) != ExitMaxDuration || !strings.Contains(fmt.Sprint(err), "--max-duration") {
		t.Errorf("exit %d (%v), want %d naming --max-duration", Code(err), err, ExitMaxDuration)
	}
	if m, err := journal.ReadManifest(dir); err == nil {
		noneLeft(t, m.Run)
	}
}

// Two harnesses on one engine (one socket base, two run dirs) both finish
// with all their records, and neither disturbs the other's containers.
func TestFaultTwoHarnessesOneEngine(t *testing.T) {
	t.Parallel()
	base := shortBase(t)
	var dirs []string
	var hs []*harness
	for i := 0; i < 2; i++ {
		dir := filepath.Join(t.TempDir(), "run"+strconv.Itoa(i))
		dirs = append(dirs, dir)
		hs = append(hs, startHarness(t, "run", "--quiet", "--runs", "3", "--socket-dir", base, "--out", dir, quickstart))
	}
	for i, h := range hs {
		if code := h.wait(t, 120*time.Second); code != 0 {
			t.Errorf("harness %d: exit %d\nstderr:\n%s", i, code, h.stderr)
		}
	}
	var runIDs []string
	for i, dir := range dirs {
		m := manifestOf(t, dir)
		runIDs = append(runIDs, m.Run)
		recs := checkJournal(t, dir, m.Run)
		if len(recs) != 4 {
			t.Errorf("harness %d: %d records, want 4", i, len(recs))
		}
		for _, r := range recs {
			// A container removed under a start shows as an early exit or a
			// failed inspect; a slow start under load may miss its deadline.
			// Inspect runs for the first healthy start of a scenario (the
			// warmup here) and for every start that did not get ready.
			inspected := r.Kind == result.KindWarmup || r.Outcome != result.OK
			if (r.Outcome != result.OK && r.Outcome != result.DeadlineExceeded) || strings.Contains(r.Error, "No such container") || (inspected && r.StartedAt == nil) {
				t.Errorf("harness %d: start %s#%d: outcome %s, error %q, exit code %v, log %q", i, r.Kind, r.Iteration, r.Outcome, r.Error, deref(r.ExitCode), r.LogTail)
			}
		}
		if s := readSummary(t, dir); s["interrupted"] != false || num(s["completed"]) != 4 {
			t.Errorf("harness %d: summary interrupted=%v completed=%v", i, s["interrupted"], s["completed"])
		}
	}
	if runIDs[0] == runIDs[1] {
		t.Errorf("both harnesses used run id %s", runIDs[0])
	}
	for _, id := range runIDs {
		noneLeft(t, id)
	}
	ents, _ := os.ReadDir(base)
	for _, e := range ents {
		t.Errorf("socket base holds %s after both runs ended", e.Name())
	}
}

// gc removes the containers and socket dirs of dead owners (including a pid
// that was reused by another process) and never those of a live one.
func TestFaultGC(t *testing.T) {
	t.Parallel()
	d := dial(t)
	ctx := context.Background()
	img := tinyImage(t, d, "gc")
	testLabels := map[string]string{engine.LabelHarness: "1", "io.coldstart.test": "1"}
	runID, tag := bench.NewRunID(time.Now())
	me := bench.Owner()
	pid, ticks, _ := strings.Cut(me, ":")
	n, _ := strconv.ParseUint(ticks, 10, 64)
	exited := exec.Command("true")
	exited.Run()
	owners := map[string]string{
		"live":   me,
		"reused": pid + ":" + strconv.FormatUint(n+1, 10), // this pid, but another process's start time
		"gone":   strconv.Itoa(exited.Process.Pid) + ":12345",
	}
	ids, tags := map[string]string{}, map[string]string{}
	seq := 0
	for what, owner := range owners {
		l := map[string]string{engine.LabelRun: runID, engine.LabelOwner: owner, engine.LabelSeq: strconv.Itoa(seq)}
		for k, v := range testLabels {
			l[k] = v
		}
		id, err := d.Create(ctx, engine.ContainerSpec{Name: bench.ContainerName(tag, seq), Image: img, Labels: l})
		if err != nil {
			t.Fatalf("create %s: %v", what, err)
		}
		ids[what] = id
		tags[what] = bench.NewTag()
		seq++
	}
	t.Cleanup(func() { noneLeft(t, runID) })
	sb := openBase(t)
	base := sb.Path
	var rds []*bench.RunDir
	for what, owner := range owners {
		rd, err := sb.Claim(tags[what], owner)
		if err != nil {
			t.Fatal(err)
		}
		rds = append(rds, rd)
	}

	out, _, err := run(t, "gc", "--socket-dir", base)
	if err != nil {
		t.Fatalf("gc: %v", err)
	}
	cs, err := d.List(ctx, map[string]string{engine.LabelRun: runID})
	if err != nil {
		t.Fatal(err)
	}
	left := map[string]bool{}
	for _, c := range cs {
		left[c.ID] = true
	}
	for what, id := range ids {
		if want := what == "live"; left[id] != want {
			t.Errorf("container of the %s owner %s: present %v, want %v\ngc said:\n%s", what, owners[what], left[id], want, out)
		}
		_, err := os.Stat(filepath.Join(base, tags[what]))
		if want := what == "live"; (err == nil) != want {
			t.Errorf("socket dir of the %s owner: present %v, want %v", what, err == nil, want)
		}
	}
	if err := d.Remove(ctx, ids["live"]); err != nil && !errors.Is(err, context.Canceled) {
		t.Error(err)
	}
	// The last user of the base unmounts its tmpfs (gc, above, was not).
	for _, rd := range rds {
		rd.Close()
	}
	sb.Close()
	if m := mountsAt(base); len(m) > 0 {
		t.Errorf("the idle base is still mounted: %v", m)
	}
}

// Cancelled while the engine creates the container of a start: the harness
// promises to remove the container in flight, so none may be left. The create
// request is cancelled on the client side only: the engine finishes it after
// the harness already tried to remove the name. Timing-dependent: each round
// cancels a few ms later after the start's intent, where the create is.
func TestFaultCancelDuringCreate(t *testing.T) {
	t.Parallel()
	base := shortBase(t)
	for i, delay := range []time.Duration{5, 10, 15} {
		dir := filepath.Join(t.TempDir(), "run")
		wal := filepath.Join(dir, journal.WALFile)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			var out, errb bytes.Buffer
			done <- Run(ctx, []string{"run", "--quiet", "--runs", "5", "--socket-dir", base, "--out", dir, quickstart}, &out, &errb)
		}()
		// The intent is written just before the create call.
		end := time.Now().Add(60 * time.Second)
		for countLines(wal) < 2 && time.Now().Before(end) {
			time.Sleep(200 * time.Microsecond)
		}
		time.Sleep(delay * time.Millisecond)
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("harness did not stop after cancel")
		}
		m := manifestOf(t, dir)
		checkJournal(t, dir, m.Run)
		t.Logf("round %d: cancelled %v after the start's intent", i, delay*time.Millisecond)
		noneLeft(t, m.Run)
	}
}

// lateCreate models what the engine does with a create request that the
// client cancels (measured: 7 of 8 creates cancelled 2-16 ms in still made
// their container): the container appears after the harness's clean-up has
// already looked for it by name.
type lateCreate struct {
	*engine.Docker
	interrupt func() // the Ctrl-C, arriving while the create call is in flight
	late      *engine.ContainerSpec
	made      string // the late container's id
	err       error  // of the late create
}

func (e *lateCreate) Create(ctx context.Context, s engine.ContainerSpec) (string, error) {
	e.interrupt()
	if ctx.Err() != nil {
		e.late = &s
		return "", fmt.Errorf("create: %w", ctx.Err())
	}
	return e.Docker.Create(ctx, s)
}

func (e *lateCreate) Remove(ctx context.Context, id string) error {
	err := e.Docker.Remove(ctx, id)
	if s := e.late; s != nil {
		e.late = nil
		e.made, e.err = e.Docker.Create(context.Background(), *s)
	}
	return err
}

// The same, deterministically, on one start of the bench runner.
func TestFaultInterruptedCreateLeavesNothing(t *testing.T) {
	t.Parallel()
	d := dial(t)
	img := tinyImage(t, d, "late")
	runID, tag := bench.NewRunID(time.Now())
	rd, err := openBase(t).Claim(tag, bench.Owner())
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &bench.Runner{
		Engine: &lateCreate{Docker: d, interrupt: cancel}, Sockets: rd, RunID: runID, Tag: tag,
		Labels: map[string]string{engine.LabelHarness: "1", engine.LabelRun: runID, engine.LabelOwner: bench.Owner(), "io.coldstart.test": "1"},
	}
	sc := &scenario.Scenario{Name: "late", Image: img, Socket: "/run/app/app.sock", Deadline: 3 * time.Second,
		Health: scenario.Health{Method: "GET", Path: "/", Status: 200, Timeout: 500 * time.Millisecond}}
	e := r.Engine.(*lateCreate)
	rec := r.One(ctx, sc, scenario.Start{Kind: result.KindMeasure}, 0)
	t.Logf("late container %.12s, %v", e.made, e.err)
	if e.err != nil {
		t.Errorf("late create: %v", e.err)
	}
	if rec != nil {
		t.Errorf("an interrupted start made a record: %+v", rec)
	}
	noneLeft(t, runID)
}

// tinyImage builds a FROM scratch image holding one file (enough to create,
// not to run, a container) and removes it when the test ends.
func tinyImage(t *testing.T, d *engine.Docker, name string) string {
	t.Helper()
	img := "coldstart-test/" + name + ":" + strconv.Itoa(os.Getpid())
	bctx := t.TempDir()
	os.WriteFile(filepath.Join(bctx, "Dockerfile"), []byte("FROM scratch\nCOPY f /f\nCMD [\"/f\"]\n"), 0o644)
	os.WriteFile(filepath.Join(bctx, "f"), []byte(name+": not a program\n"), 0o644) // an image of its own
	labels := map[string]string{engine.LabelHarness: "1", "io.coldstart.test": "1"}
	if err := d.Build(context.Background(), engine.BuildSpec{Context: bctx, Tag: img, Labels: labels}, nil); err != nil {
		t.Fatalf("build: %v", err)
	}
	t.Cleanup(func() {
		if err := d.RemoveImage(context.Background(), img); err != nil {
			t.Errorf("remove image %s: %v", img, err)
		}
	})
	return img
}

func deref(p *int) any {
	if p == nil {
		return "none"
	}
	return *p
}
