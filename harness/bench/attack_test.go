package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/coldstart/coldstart/harness/cgroup"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// The app under test is hostile: these tests start the test image
// (testdata/app, FROM scratch, static Go) in modes that attack the host
// through what its container shares with it, and check that every attempt
// fails or is bounded, that the start is recorded for what it was, and that
// nothing is left behind (newRunner's and privateBase's clean-ups check
// containers, socket dirs and mounts).

// hookEngine runs a check while the container still exists, just before
// the start removes it.
type hookEngine struct {
	*engine.Docker
	beforeRemove func(id string)
}

func (h *hookEngine) Remove(ctx context.Context, id string) (err error) {
	// The removal runs even when the check calls t.Fatal (which ends the
	// test goroutine through runtime.Goexit, running deferred calls).
	defer func() { err = h.Docker.Remove(ctx, id) }()
	if h.beforeRemove != nil {
		check := h.beforeRemove
		h.beforeRemove = nil
		check(id)
	}
	return nil
}

// attackRunner is newRunner whose engine runs check before the removal.
func attackRunner(t *testing.T, check func(id, dir string)) *Runner {
	t.Helper()
	r := newRunner(t)
	if check != nil {
		r.Engine = &hookEngine{Docker: live, beforeRemove: func(id string) { check(id, filepath.Join(r.Sockets.Path, seqName(0))) }}
	}
	return r
}

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the socket base is a nosuid,nodev,noexec tmpfs only when the harness runs as root")
	}
}

// profiled gives sc the confinement a suite's `security:` mapping gives,
// through the suite parser itself.
func profiled(t *testing.T, sc *scenario.Scenario, security string) *scenario.Scenario {
	t.Helper()
	s, err := scenario.Parse("p.yaml", []byte("suite: p\nscenarios:\n  - name: p\n    image: p\n    security: "+security+"\n"), scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Security, sc.Limits.Pids = s.Scenarios[0].Security, s.Scenarios[0].Limits.Pids
	return sc
}

// A setuid-root binary and a device node left in the socket dir are inert
// on the host: the dir is on a nosuid,nodev,noexec tmpfs.
func TestAttackSetuidAndDeviceNode(t *testing.T) {
	needRoot(t)
	checked := false
	r := attackRunner(t, func(id, dir string) {
		checked = true
		suid, dev := filepath.Join(dir, "suid"), filepath.Join(dir, "null")
		// The attack itself succeeded: the files are there, as planted.
		st, err := os.Lstat(suid)
		if err != nil || st.Mode()&os.ModeSetuid == 0 || st.Sys().(*syscall.Stat_t).Uid != 0 {
			t.Fatalf("no setuid-root file planted: %v %v", st, err)
		}
		ds, err := os.Lstat(dev)
		if err != nil || ds.Mode()&os.ModeCharDevice == 0 || ds.Sys().(*syscall.Stat_t).Rdev != unix.Mkdev(1, 3) {
			t.Fatalf("no device node planted: %v %v", ds, err)
		}
		var sfs unix.Statfs_t
		unix.Statfs(dir, &sfs)
		if want := int64(unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC); sfs.Flags&want != want || sfs.Type != unix.TMPFS_MAGIC {
			t.Errorf("socket dir on fs 0x%x with flags 0x%x, want a nosuid,nodev,noexec tmpfs", sfs.Type, sfs.Flags)
		}
		// Neither root nor another user can run it; nobody cannot even reach it.
		for _, cred := range []*syscall.Credential{nil, {Uid: 65534, Gid: 65534}} {
			cmd := exec.Command(suid, "-h")
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
			if out, err := cmd.CombinedOutput(); !errors.Is(err, os.ErrPermission) {
				t.Errorf("running the planted setuid file as %v: %v %q, want permission denied", cred, err, out)
			}
		}
		if f, err := os.OpenFile(dev, os.O_RDWR, 0); !errors.Is(err, os.ErrPermission) {
			t.Errorf("opening the planted device node on the host: %v, want permission denied (nodev)", err)
			if f != nil {
				f.Close()
			}
		}
	})
	rec := oneStart(t, r, testScenario("leave", "MODE=leave"))
	if rec.Outcome != result.OK || !checked {
		t.Fatalf("outcome %s (%s), checked %v: want ok, the files inspected on the host", rec.Outcome, rec.Error, checked)
	}
}

// The socket replaced by a symlink to a host socket: the probe refuses it
// and never connects (a trap socket counts connections); with the engine's
// socket as the target, no answer of the engine is taken for the app's.
func TestAttackSocketSymlink(t *testing.T) {
	trapDir := privateBase(t).Path
	trap := filepath.Join(trapDir, "engine.sock")
	l, err := net.Listen("unix", trap)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var connects atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			connects.Add(1)
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			c.Close()
		}
	}()
	for _, target := range []string{trap, "/var/run/docker.sock"} {
		r := attackRunner(t, nil)
		sc := testScenario("symlink", "MODE=symlink", "TARGET="+target)
		sc.Deadline = 1500 * time.Millisecond
		rec := oneStart(t, r, sc)
		if rec.Outcome != result.DeadlineExceeded || !strings.Contains(rec.Error, "is a symlink, not a socket: refused") || rec.LastStatus != 0 {
			t.Errorf("symlink to %s: outcome %s, error %q, last status %d; want deadline_exceeded, the refusal, no status", target, rec.Outcome, rec.Error, rec.LastStatus)
		}
		if rec.SocketMS == nil || rec.Attempts < 2 {
			t.Errorf("symlink to %s: socket %v attempts %d: the name appeared and was refused on every attempt", target, deref(rec.SocketMS), rec.Attempts)
		}
	}
	if n := connects.Load(); n != 0 {
		t.Errorf("the trap socket behind the symlink got %d connections", n)
	}
}

// An answer with 10 MiB of headers: each attempt reads 16 KiB and gives up.
func TestAttackHugeHeaders(t *testing.T) {
	r := attackRunner(t, nil)
	sc := testScenario("headers", "MODE=headers")
	sc.Deadline = 2 * time.Second
	var before, after runtimeMem
	before.read()
	rec := oneStart(t, r, sc)
	after.read()
	if rec.Outcome != result.DeadlineExceeded || !strings.Contains(rec.Error, "headers over 16 KiB") || rec.Attempts < 2 {
		t.Fatalf("outcome %s, error %q, attempts %d; want deadline_exceeded after refusing the headers", rec.Outcome, rec.Error, rec.Attempts)
	}
	t.Logf("%d attempts; harness heap allocations %.1f MiB during the start", rec.Attempts, float64(after.total-before.total)/(1<<20))
	if grew := after.total - before.total; grew > uint64(rec.Attempts)*(1<<20) {
		t.Errorf("the harness allocated %d bytes over %d attempts: more than 1 MiB an attempt", grew, rec.Attempts)
	}
}

// An app that floods stdout: the engine keeps at most max-size x max-file
// of it, the record at most the last 30 lines and 8 KiB.
func TestAttackStdoutFlood(t *testing.T) {
	var logBytes int64
	rotated := false
	r := attackRunner(t, func(id, _ string) {
		st, err := live.Inspect(context.Background(), id)
		if err != nil || st.LogPath == "" {
			t.Fatalf("inspect: %v (log path %q)", err, st.LogPath)
		}
		for _, p := range []string{st.LogPath, st.LogPath + ".1", st.LogPath + ".2"} {
			if fi, err := os.Stat(p); err == nil {
				logBytes += fi.Size()
				rotated = rotated || strings.HasSuffix(p, ".1")
			}
		}
	})
	sc := testScenario("flood", "MODE=flood")
	sc.Limits.CPUQuota, sc.Limits.CPUs = 100000, 1
	// 8 s: the engine's json-file logger wrote only 2.0 MB in 3 s on this
	// machine under load (2026-12-07), short of the 2 MiB at which it rotates.
	sc.Deadline = 8 * time.Second
	rec := oneStart(t, r, sc)
	if rec.Outcome != result.DeadlineExceeded {
		t.Fatalf("outcome %s (%s), want deadline_exceeded", rec.Outcome, rec.Error)
	}
	t.Logf("engine log files %d bytes (rotated %v); log tail %d bytes, %d lines", logBytes, rotated, len(rec.LogTail), strings.Count(rec.LogTail, "\n"))
	if limit := int64(2*2<<20 + 64<<10); logBytes > limit {
		t.Errorf("engine log files hold %d bytes, over the cap of %d", logBytes, limit)
	}
	if len(rec.LogTail) > logTailBytes+len("[...]") || strings.Count(rec.LogTail, "\n") > logTailLines || !strings.Contains(rec.LogTail, "flood") {
		t.Errorf("log tail of %d bytes, %d lines: want at most %d bytes and %d lines of the flood", len(rec.LogTail), strings.Count(rec.LogTail, "\n"), logTailBytes, logTailLines)
	}
	if !rotated {
		// The cap was not reached, so it was not tested: say so rather than pass.
		t.Skipf("the engine's logger wrote %d bytes in %v, short of its 2 MiB rotation: the cap is untested on this run", logBytes, sc.Deadline)
	}
}

// Forking without bound stops at the default pids limit; the app still
// answers and the start is ok.
func TestAttackForkBomb(t *testing.T) {
	var current int64
	r := attackRunner(t, func(id, _ string) { current = pidsCurrent(t, id) })
	sc := testScenario("forkbomb", "MODE=forkbomb")
	sc.Limits.CPUQuota, sc.Limits.CPUs = 100000, 1
	sc.Deadline = 8 * time.Second
	rec := oneStart(t, r, sc)
	if rec.Outcome != result.OK {
		t.Fatalf("outcome %s (%s, log %q), want ok", rec.Outcome, rec.Error, rec.LogTail)
	}
	var pids *result.Limit
	for i := range rec.Limits {
		if rec.Limits[i].Name == "pids" {
			pids = &rec.Limits[i]
		}
	}
	if pids == nil || !pids.OK || pids.Enforced.Value != scenario.DefaultPids {
		t.Errorf("pids limit %+v, want %d enforced", pids, scenario.DefaultPids)
	}
	t.Logf("pids in the container's cgroup at the end: %d (limit %d)", current, scenario.DefaultPids)
	if current > scenario.DefaultPids || current < scenario.DefaultPids/2 {
		t.Errorf("%d pids in the cgroup: want the bomb stopped at the limit of %d", current, scenario.DefaultPids)
	}
}

// pidsCurrent reads the container's pids.current from its cgroup.
func pidsCurrent(t *testing.T, id string) int64 {
	p := cgroup.PathFor(liveHost.CgroupDriver, "", id)
	for _, f := range []string{filepath.Join("/sys/fs/cgroup/pids", p, "pids.current"), filepath.Join("/sys/fs/cgroup", p, "pids.current")} {
		if b, err := os.ReadFile(f); err == nil {
			v, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			return v
		}
	}
	t.Errorf("no pids.current for %s", p)
	return -1
}

// Under the study's profile the root file system takes no write (/tmp, a
// tmpfs, does), every capability is gone and the limits hold, as the record
// says setting by setting; without the profile the same write succeeds.
func TestAttackWriteRootFS(t *testing.T) {
	r := attackRunner(t, nil)
	rec := oneStart(t, r, profiled(t, testScenario("rofs", "MODE=rofs"), "{profile: fn}"))
	if rec.Outcome != result.OK {
		t.Fatalf("under fn: outcome %s (%s, log %q), want ok", rec.Outcome, rec.Error, rec.LogTail)
	}
	want := map[string]string{
		result.SetNoNewPrivileges: "yes", result.SetCapabilities: "none", result.SetReadOnlyRoot: "yes",
		result.SetNoFile: fmt.Sprintf("%d/%d", scenario.FnNoFile, scenario.FnNoFile), result.SetUser: "uid 0 gid 0",
	}
	checkHardening(t, rec, want)
	for _, l := range rec.Limits {
		if l.Name == "pids" && (!l.OK || l.Enforced.Value != scenario.FnPids) {
			t.Errorf("pids under fn: %+v", l)
		}
	}

	r = attackRunner(t, nil)
	rec = oneStart(t, r, testScenario("rofs-default", "MODE=rofs"))
	if rec.Outcome != result.ExitedBeforeReady || rec.ExitCode == nil || *rec.ExitCode != 3 || !strings.Contains(rec.LogTail, "wrote into the root file system") {
		t.Errorf("without the profile: outcome %s, exit %v, log %q; want the write to succeed (exit 3)", rec.Outcome, rec.ExitCode, rec.LogTail)
	}
}

// checkHardening wants every setting held, and the listed ones enforced
// (read back from the container's process) as given.
func checkHardening(t *testing.T, rec *result.Record, want map[string]string) {
	t.Helper()
	if rec.Hardening == nil {
		t.Fatal("no hardening record")
	}
	got := map[string]result.Setting{}
	for _, s := range rec.Hardening.Settings {
		got[s.Name] = s
		t.Logf("hardening %-17s requested=%-32q observed=%-32q enforced=%-40q ok=%v", s.Name, s.Requested, s.Observed, s.Enforced, s.OK)
		if !s.OK {
			t.Errorf("hardening %s not held: %+v", s.Name, s)
		}
	}
	for name, v := range want {
		if got[name].Enforced != v {
			t.Errorf("hardening %s enforced %q, want %q", name, got[name].Enforced, v)
		}
	}
}

// runtimeMem is the harness's cumulative heap allocation.
type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var s runtime.MemStats
	runtime.ReadMemStats(&s)
	m.total = s.TotalAlloc
}

// A real server that drops privileges in its worker (as nginx does:
// initgroups, setgid, setuid to its worker user) starts under the default:
// no-new-privileges does not stop setuid(2). Under the study's profile (no
// capabilities) its worker fails as nginx's does, and adding back SETUID
// and SETGID is what it needs.
func TestPrivilegeDroppingServer(t *testing.T) {
	for _, tc := range []struct {
		name, security string
		want           result.Outcome
		log            string
	}{
		{"default", "", result.OK, ""},
		{"fn", "{profile: fn}", result.ExitedBeforeReady, "setgroups() failed"},
		{"fn-setuid", "{profile: fn, cap_add: [SETUID, SETGID]}", result.OK, ""},
	} {
		var uids []int
		r := attackRunner(t, func(id, _ string) { uids = cgroupUIDs(t, id) })
		sc := testScenario("privdrop-"+tc.name, "MODE=privdrop")
		if tc.security != "" {
			profiled(t, sc, tc.security)
		}
		rec := oneStart(t, r, sc)
		if rec.Outcome != tc.want || !strings.Contains(rec.LogTail, tc.log) {
			t.Errorf("%s: outcome %s (%s), log %q; want %s and %q in the log", tc.name, rec.Outcome, rec.Error, rec.LogTail, tc.want, tc.log)
		}
		if rec.Outcome == result.OK {
			// The first process is the master (root); the record says what it holds.
			checkHardening(t, rec, map[string]string{result.SetNoNewPrivileges: "yes"})
			if !slices.Contains(uids, 65534) || !slices.Contains(uids, 0) {
				t.Errorf("%s: processes run as uids %v, want the root master and a worker as 65534", tc.name, uids)
			}
		}
	}
}

// cgroupUIDs lists the effective uid of each process in the container's
// cgroup (none when it exited).
func cgroupUIDs(t *testing.T, id string) []int {
	p := cgroup.PathFor(liveHost.CgroupDriver, "", id)
	b, err := os.ReadFile(filepath.Join("/sys/fs/cgroup/pids", p, "cgroup.procs"))
	if err != nil {
		b, err = os.ReadFile(filepath.Join("/sys/fs/cgroup", p, "cgroup.procs"))
	}
	if err != nil { // the container exited: no process to read
		t.Logf("cgroup.procs of %s: %v", p, err)
		return nil
	}
	var uids []int
	for _, f := range strings.Fields(string(b)) {
		pid, _ := strconv.Atoi(f)
		if proc, err := cgroup.ReadProcess("/proc", pid); err == nil {
			uids = append(uids, proc.UID)
		}
	}
	return uids
}
