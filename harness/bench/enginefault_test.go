package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// Engine loss, for real: these tests start a PRIVATE dockerd (its own -H
// socket, data root, exec root, pid file, config file and managed containerd,
// its own network namespace, no bridge, no iptables, no ip_forward change), SIGKILL it while a start is
// waiting for readiness, and check what the runner records and how it
// recovers. The machine's shared engine is never touched.
//
// Observed on Docker 20.10.24 / containerd 1.6.20 (live-restore off):
//   - SIGKILL of dockerd also ends its managed containerd (dockerd starts it
//     with Pdeathsig SIGKILL, in its own session), but containerd-shim-runc-v2
//     and the container's process keep running while dockerd is down.
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
//   - pid 1 of these VMs reaps orphans slowly: the killed dockerd's containerd
//     can still be a zombie at restart, which dockerd takes for a live
//     containerd to reuse ("containerd is still running", then "timeout
//     waiting for containerd to start"). start() drops the stale pid file.
//   - dockerd bind-mounts its data root onto itself (shared propagation) and
//     that mount outlives it; overlay and nsfs mounts of running containers
//     outlive a SIGKILL. destroy() unmounts everything below the private dir.

// privateEngine is a dockerd of the test's own.
type privateEngine struct {
	t       *testing.T
	dir     string // /tmp/csde-XXXX: everything of this engine is below it
	sock    string
	driver  string
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	ids    map[string]bool
	starts int
}

func (p *privateEngine) host() string { return "unix://" + p.sock }

// containerdSock is where the managed containerd of this engine listens.
func (p *privateEngine) containerdSock() string {
	return filepath.Join(p.dir, "exec", "containerd", "containerd.sock")
}

// startPrivateEngine starts a private dockerd, points DOCKER_HOST at it for the
// rest of the test, and registers its complete removal.
func startPrivateEngine(t *testing.T) *privateEngine {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: engine-fault tests start and kill a private dockerd")
	}
	if _, err := exec.LookPath("dockerd"); err != nil {
		t.Skip("dockerd is not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("a private dockerd needs root")
	}
	// dockerd 20.10 uses a system containerd instead of starting its own when
	// this socket exists: the private engine would then share it.
	if _, err := os.Lstat("/run/containerd/containerd.sock"); err == nil {
		t.Fatal("/run/containerd/containerd.sock exists: a private dockerd 20.10 would use that shared containerd instead of its own")
	}
	dir, err := os.MkdirTemp("/tmp", "csde-")
	if err != nil {
		t.Fatal(err)
	}
	p := &privateEngine{t: t, dir: dir, sock: filepath.Join(dir, "d.sock"),
		logPath: filepath.Join(dir, "dockerd.log"), ids: map[string]bool{}}
	t.Cleanup(p.destroy)
	// The shared engine's bridge must outlive the private engine (see start).
	if _, err := net.InterfaceByName("docker0"); err == nil {
		t.Cleanup(func() {
			if _, err := net.InterfaceByName("docker0"); err != nil {
				t.Errorf("the host's docker0 is gone after the private engine: %v", err)
			}
		})
	}
	// An empty config file: the default /etc/docker/daemon.json names the shared
	// engine's data root and storage driver.
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DOCKER_HOST", p.host())
	t.Setenv("DOCKER_TLS_VERIFY", "")
	t.Setenv("DOCKER_CERT_PATH", "")
	t.Setenv("DOCKER_CONTEXT", "")

	var errs []string
	for _, drv := range []string{"overlay2", "vfs"} {
		p.driver = drv
		took, err := p.start()
		if err == nil {
			t.Logf("private dockerd up in %v (storage driver %s, dir %s)", took.Round(time.Millisecond), drv, dir)
			p.checkOwnContainerd()
			return p
		}
		errs = append(errs, fmt.Sprintf("%s: %v", drv, err))
		// Start over with an empty data root for the next driver.
		if p.running() {
			p.kill()
		}
		for pid := range p.procs() { // its containerd: ours by its directory
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
		p.unmountAll()
		os.RemoveAll(filepath.Join(dir, "data"))
		os.RemoveAll(filepath.Join(dir, "exec"))
	}
	t.Fatalf("private dockerd does not start: %s\n%s", strings.Join(errs, "; "), p.logTail(30))
	return nil
}

func (p *privateEngine) args() []string {
	return []string{
		"-H", p.host(),
		"--data-root", filepath.Join(p.dir, "data"),
		"--exec-root", filepath.Join(p.dir, "exec"),
		"--pidfile", filepath.Join(p.dir, "d.pid"),
		"--config-file", filepath.Join(p.dir, "daemon.json"),
		"--storage-driver", p.driver,
		"--bridge", "none",
		"--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false",
		"--live-restore=false",
	}
}

// start launches dockerd (again, on the same roots) and waits until it answers.
func (p *privateEngine) start() (time.Duration, error) {
	p.mu.Lock()
	if p.cmd != nil {
		select {
		case <-p.exited:
		default:
			p.mu.Unlock()
			return 0, errors.New("already running")
		}
	}
	// Our previous dockerd is dead and waited for: its pid file is stale.
	os.Remove(filepath.Join(p.dir, "d.pid"))
	// dockerd reuses a managed containerd that is still alive (its pid file
	// names a live process). After a SIGKILL of dockerd, containerd dies
	// (Pdeathsig) but stays a zombie until pid 1 reaps it, and pid 1 of this
	// VM reaps slowly: dockerd then takes the zombie for a live containerd,
	// waits for its socket and fails ("timeout waiting for containerd to
	// start"). A dead containerd's pid file is stale: drop it.
	cpid := filepath.Join(p.dir, "exec", "containerd", "containerd.pid")
	if b, err := os.ReadFile(cpid); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
			if st := procState(pid); st == "" || st == "Z" {
				p.t.Logf("containerd %d of the killed dockerd is %s: removing its pid file", pid, map[string]string{"": "gone", "Z": "a zombie"}[st])
				os.Remove(cpid)
			} else {
				p.t.Logf("containerd %d of the killed dockerd still runs (state %s): dockerd will reuse it", pid, st)
			}
		}
	}
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.mu.Unlock()
		return 0, err
	}
	cmd := exec.Command("dockerd", p.args()...)
	cmd.Dir = p.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Own process group; and if the test binary dies, dockerd dies (and with
	// it its managed containerd, which has Pdeathsig set by dockerd).
	// Its own network namespace too: a dockerd started with --bridge none
	// deletes the host's docker0 at start (moby's removeDefaultBridgeInterface),
	// which broke every later build with a RUN step on the shared engine.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Cloneflags: syscall.CLONE_NEWNET}
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.mu.Unlock()
		return 0, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	p.cmd, p.exited = cmd, exited
	p.starts++
	p.mu.Unlock()

	for time.Since(t0) < 30*time.Second {
		select {
		case <-exited:
			return 0, fmt.Errorf("dockerd exited: %v", cmd.ProcessState)
		default:
		}
		d, err := engine.DialHost(context.Background(), p.host(), time.Second)
		if err == nil {
			d.Close()
			return time.Since(t0), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, errors.New("no answer within 30 s")
}

// kill SIGKILLs dockerd and waits until it is reaped.
func (p *privateEngine) kill() time.Duration {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	t0 := time.Now()
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	return time.Since(t0)
}

func (p *privateEngine) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *privateEngine) track(id string) {
	p.mu.Lock()
	p.ids[id] = true
	p.mu.Unlock()
}

// checkOwnContainerd makes sure dockerd started its own containerd below the
// private exec root (not a shared one).
func (p *privateEngine) checkOwnContainerd() {
	if _, err := os.Stat(p.containerdSock()); err != nil {
		p.t.Fatalf("the private dockerd has no containerd of its own at %s: %v\n%s", p.containerdSock(), err, p.logTail(20))
	}
}

// logSize and restartLog pick out the interesting lines a (re)start wrote.
func (p *privateEngine) logSize() int64 {
	fi, err := os.Stat(p.logPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

func (p *privateEngine) restartLog(from int64) string {
	b, _ := os.ReadFile(p.logPath)
	if int64(len(b)) < from {
		return ""
	}
	var keep []string
	for _, l := range strings.Split(string(b[from:]), "\n") {
		for _, k := range []string{"Starting up", "containerd process", "containerd is still", "failed to start", "Loading containers", "shim", "stale", "API listen"} {
			if strings.Contains(l, k) {
				keep = append(keep, "    "+l)
				break
			}
		}
	}
	return strings.Join(keep, "\n")
}

func (p *privateEngine) logTail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.Contains(l, "[core]") || strings.Contains(l, "loading plugin") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}

// procs lists the processes that belong to this engine: those naming its
// directory on their command line (dockerd, containerd, shims) and those in
// the cgroup of one of its containers.
func (p *privateEngine) procs() map[int]string {
	ids := p.containerIDs()
	out := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if st := procState(pid); st == "" || st == "Z" {
			continue // gone, or dead and waiting for pid 1 to reap it
		}
		cl, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		cmdline := strings.TrimSpace(strings.ReplaceAll(string(cl), "\x00", " "))
		if strings.Contains(cmdline, p.dir+"/") {
			out[pid] = cmdline
			continue
		}
		cg, err := os.ReadFile("/proc/" + e.Name() + "/cgroup")
		if err != nil {
			continue
		}
		for id := range ids {
			if bytes.Contains(cg, []byte("/"+id)) {
				out[pid] = cmdline + " (cgroup of container " + id[:12] + ")"
				break
			}
		}
	}
	return out
}

// procState is a process's state letter from /proc/PID/stat ("Z" for a
// zombie), "" if there is no such process.
func procState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// containerIDs is every container id this engine ever had, as far as known.
func (p *privateEngine) containerIDs() map[string]bool {
	p.mu.Lock()
	ids := map[string]bool{}
	for id := range p.ids {
		ids[id] = true
	}
	p.mu.Unlock()
	ents, _ := os.ReadDir(filepath.Join(p.dir, "data", "containers"))
	for _, e := range ents {
		if len(e.Name()) == 64 {
			ids[e.Name()] = true
		}
	}
	return ids
}

// mounts lists the mount points at or below the private directory, deepest first.
func (p *privateEngine) mounts() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 5 {
			continue
		}
		mp := unescapeMount(fs[4])
		if mp == p.dir || strings.HasPrefix(mp, p.dir+"/") {
			out = append(out, mp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (p *privateEngine) unmountAll() {
	for round := 0; round < 5; round++ {
		ms := p.mounts()
		if len(ms) == 0 {
			return
		}
		for _, m := range ms {
			syscall.Unmount(m, syscall.MNT_DETACH)
		}
	}
}

// destroy stops the engine and removes every trace of it: containers,
// processes (dockerd, containerd, shims, container processes), mounts, shim
// sockets, cgroups, directories. What it had to force is logged; what remains
// fails the test.
func (p *privateEngine) destroy() {
	t := p.t
	t0 := time.Now()
	if p.running() {
		// Politely first: remove its containers through the API, then SIGTERM
		// (live-restore off: dockerd ends its containers and its containerd).
		// Its own address, explicitly: by now t.Setenv's restore (registered
		// after this cleanup, so run before it) has pointed DOCKER_HOST back at
		// the shared engine, whose containers are not ours to list or remove.
		if d, err := engine.DialHost(context.Background(), p.host(), 5*time.Second); err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			cs, _ := d.List(ctx, nil)
			for _, c := range cs {
				p.track(c.ID)
				d.Remove(ctx, c.ID)
			}
			cancel()
			d.Close()
		}
		p.mu.Lock()
		cmd, exited := p.cmd, p.exited
		p.mu.Unlock()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			t.Logf("cleanup: dockerd ignored SIGTERM for 20 s: SIGKILL")
			cmd.Process.Signal(syscall.SIGKILL)
			<-exited
		}
	}
	ids := p.containerIDs()
	// Whatever is left of this engine (a containerd, a shim, a container
	// process) is found by its directory or its container's cgroup: only ours.
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := p.procs()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			for pid, cl := range left {
				t.Errorf("cleanup: process %d of the private engine survives SIGKILL: %s", pid, cl)
			}
			break
		}
		for pid, cl := range left {
			t.Logf("cleanup: SIGKILL leftover process %d: %s", pid, cl)
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ms := p.mounts(); len(ms) > 0 {
		t.Logf("cleanup: unmounting %d mounts below %s (e.g. %s)", len(ms), p.dir, ms[len(ms)-1])
	}
	p.unmountAll()
	for _, m := range p.mounts() {
		t.Errorf("cleanup: mount %s survives umount -l", m)
	}
	for id := range ids {
		// A shim that died uncleanly leaves its socket in containerd's shared
		// socket dir; its name is a hash of our containerd address and the id.
		sum := sha256.Sum256([]byte(filepath.Join(p.containerdSock(), "moby", id)))
		s := filepath.Join("/run/containerd/s", fmt.Sprintf("%x", sum))
		if _, err := os.Lstat(s); err == nil {
			t.Logf("cleanup: removing stale shim socket %s of container %s", s, id[:12])
			os.Remove(s)
		}
		cgs, _ := filepath.Glob("/sys/fs/cgroup/*/docker/" + id)
		for _, cg := range cgs {
			if err := syscall.Rmdir(cg); err != nil {
				t.Errorf("cleanup: cgroup %s of container %s remains: %v", cg, id[:12], err)
			} else {
				t.Logf("cleanup: removed leftover cgroup %s", cg)
			}
		}
	}
	if err := os.RemoveAll(p.dir); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	if _, err := os.Stat(p.dir); err == nil {
		t.Errorf("cleanup: %s remains", p.dir)
	}
	t.Logf("private engine removed in %v (%d dockerd starts, %d containers seen)", time.Since(t0).Round(time.Millisecond), p.starts, len(ids))
}

// faultEngine is the real driver with a hook after a successful start, and a
// log of every failed call (the exact errors the client returned).
type faultEngine struct {
	*engine.Docker
	p *privateEngine

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
		f.p.track(id)
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
	p     *privateEngine
	image string
}

func newFaultRig(t *testing.T) *faultRig {
	p := startPrivateEngine(t)
	d, err := engine.DialHost(context.Background(), p.host(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	img := "coldstart-test/app:enginefault"
	t0 := time.Now()
	if err := buildTestImage(context.Background(), d, img); err != nil {
		t.Fatalf("build test image in the private engine: %v\n%s", err, p.logTail(20))
	}
	t.Logf("test image built in the private engine in %v", time.Since(t0).Round(time.Millisecond))
	return &faultRig{p: p, image: img}
}

// runner returns a runner on a fresh client of the private engine, and the
// suite and plan: MODE=nosocket (never ready), 4 s deadline, 3 measured starts.
func (g *faultRig) runner(t *testing.T, owner string) (*Runner, *faultEngine, *scenario.Suite, []scenario.Start) {
	t.Helper()
	d, err := engine.DialHost(context.Background(), g.p.host(), 5*time.Second)
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
				obs.killTook = p.kill()
				time.Sleep(200 * time.Millisecond)
				obs.procsDown = p.procs()
				time.Sleep(1300 * time.Millisecond)
				obs.logFrom = p.logSize()
				obs.upTook, obs.restartErr = p.start()
				obs.upAt = time.Now()
				if obs.restartErr != nil {
					return
				}
				// Before the runner (held in Ping) removes it: what did the
				// restarted engine make of the container it had lost?
				d, err := engine.DialHost(context.Background(), g.p.host(), 5*time.Second)
				if err != nil {
					obs.stateErr = err
					return
				}
				defer d.Close()
				obs.state, obs.stateErr = d.Inspect(context.Background(), id)
				obs.procsUp = p.procs()
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
		t.Fatalf("restart: %v\n%s", obs.restartErr, p.logTail(30))
	}
	t.Logf("Execute: done=%d err=%v in %v", done, err, took.Round(time.Millisecond))
	t.Logf("dockerd SIGKILLed %v after t0 of Execute, reaped in %v; restarted 1.5 s later, answering after %v (at kill%+v)",
		obs.killAt.Sub(t0).Round(time.Millisecond), obs.killTook.Round(time.Millisecond), obs.upTook.Round(time.Millisecond),
		obs.upAt.Sub(obs.killAt).Round(time.Millisecond))
	t.Logf("processes of the private engine 0.2 s after the SIGKILL (dockerd down):")
	for pid, cl := range obs.procsDown {
		t.Logf("  %d %.140s", pid, cl)
	}
	t.Logf("restart, from dockerd's log:\n%s", p.restartLog(obs.logFrom))
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
				killTook = p.kill()
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
	from := p.logSize()
	up, err := p.start()
	if err != nil {
		t.Fatalf("restart: %v\n%s", err, p.logTail(30))
	}
	t.Logf("engine back after %v; from dockerd's log:\n%s", up.Round(time.Millisecond), p.restartLog(from))
	ctx := context.Background()
	d, err := engine.DialHost(ctx, g.p.host(), 5*time.Second)
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
