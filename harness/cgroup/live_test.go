package cgroup

import (
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

// liveReader is the host's Reader; tests against the real kernel skip only
// when the machine has no cgroup mount at all.
func liveReader(tb testing.TB) *Reader {
	tb.Helper()
	if _, err := os.Stat(defaultMount); err != nil {
		tb.Skipf("no %s: %v", defaultMount, err)
	}
	r, err := New()
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

func TestLiveOwnCgroup(t *testing.T) {
	r := liveReader(t)
	g, err := r.OpenPID(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Burn a little CPU and touch memory so both counters have moved.
	buf := make([]byte, 8<<20)
	for i := range buf {
		buf[i] = byte(i)
	}
	for end := time.Now().Add(20 * time.Millisecond); time.Now().Before(end); {
	}
	s, err := g.Sample()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("version %d, path %s: %+v", g.Version(), g.Path(), s)
	if s.CgroupVersion != r.Version() {
		t.Errorf("CgroupVersion = %d, want %d", s.CgroupVersion, r.Version())
	}
	if s.CPUUsageMS < 20 {
		t.Errorf("CPUUsageMS = %v, want >= 20 after burning 20 ms", s.CPUUsageMS)
	}
	if s.MemoryUsage == 0 {
		t.Errorf("MemoryUsage = 0")
	}
	if s.MemoryPeak != 0 && s.MemoryPeak < s.MemoryUsage {
		t.Errorf("MemoryPeak %d < MemoryUsage %d", s.MemoryPeak, s.MemoryUsage)
	}
	e, err := g.Enforced()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("enforced: %+v", e)
	if e.CPUPeriod == 0 || e.Memory == 0 {
		t.Errorf("Enforced = %+v: period and memory must be a value or Unlimited", e)
	}
	_ = buf[len(buf)-1]
}

func TestLiveMissing(t *testing.T) {
	r := liveReader(t)
	path := PathFor("cgroupfs", "", "coldstart-no-such-container")
	if r.Version() == 2 {
		path = PathFor("systemd", "", "coldstart-no-such-container")
	}
	if _, err := r.Open(path); !errors.Is(err, ErrGone) {
		t.Errorf("Open(%s): err = %v, want ErrGone", path, err)
	}
	// A process that has exited, as a container's init after it died.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.OpenPID(cmd.Process.Pid); !errors.Is(err, ErrGone) {
		t.Errorf("OpenPID(exited %d): err = %v, want ErrGone", cmd.Process.Pid, err)
	}
}

// benchPath is the group the benchmarks load: COLDSTART_CGROUP_PATH (e.g.
// /docker/<id> of a running container) or else the root, the one group
// sure to exist in every controller.
func benchPath() string {
	if p := os.Getenv("COLDSTART_CGROUP_PATH"); p != "" {
		return p
	}
	return "/"
}

// BenchmarkOpen loads a group by path, as the bench does for a container by
// PathFor.
func BenchmarkOpen(b *testing.B) {
	r := liveReader(b)
	path := benchPath()
	for b.Loop() {
		if _, err := r.Open(path); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenPID(b *testing.B) {
	r := liveReader(b)
	pid := os.Getpid()
	for b.Loop() {
		if _, err := r.OpenPID(pid); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSample(b *testing.B) {
	r := liveReader(b)
	g, err := r.Open(benchPath())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := g.Sample(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenSample(b *testing.B) {
	r := liveReader(b)
	path := benchPath()
	for b.Loop() {
		g, err := r.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := g.Sample(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEnforced(b *testing.B) {
	r := liveReader(b)
	g, err := r.Open(benchPath())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := g.Enforced(); err != nil {
			b.Fatal(err)
		}
	}
}
