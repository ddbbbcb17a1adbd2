package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/versions"
)

// kernelCgroupVersion is "2" when /sys/fs/cgroup is the unified hierarchy,
// "1" otherwise (v1 or hybrid, where it is a tmpfs of v1 mounts).
func kernelCgroupVersion(t *testing.T) string {
	var fs syscall.Statfs_t
	if err := syscall.Statfs("/sys/fs/cgroup", &fs); err != nil {
		t.Fatalf("statfs /sys/fs/cgroup: %v", err)
	}
	const cgroup2Magic = 0x63677270
	if fs.Type == cgroup2Magic {
		return "2"
	}
	return "1"
}

// The driver against the real engine: the API version it negotiated, what it
// reports of the host, and a container created with the seed's limits (never
// started) as inspect records them, kernel memory included.
func TestLiveEngine(t *testing.T) {
	ctx := context.Background()
	d, err := Dial(ctx, 5*time.Second)
	if err != nil {
		t.Fatalf("this test needs a Docker engine (run .ci/run, which starts one): %v", err)
	}
	defer d.Close()
	h, err := d.Host(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("engine %s API %s (client %s), %s, cgroup v%s %s, runtime %s, kernel %s",
		h.EngineVersion, h.APIVersion, h.ClientAPI, h.OS, h.CgroupVersion, h.CgroupDriver, h.Runtime, h.Kernel)
	// The SDK speaks a newer API than any engine here: without negotiation
	// every call would fail.
	if h.ClientAPI != h.APIVersion {
		t.Errorf("client speaks API %s, engine %s: negotiation did not happen", h.ClientAPI, h.APIVersion)
	}
	if want := kernelCgroupVersion(t); h.CgroupVersion != want {
		t.Errorf("engine reports cgroup v%s, the kernel's /sys/fs/cgroup is v%s", h.CgroupVersion, want)
	}
	if h.CgroupDriver != "cgroupfs" && h.CgroupDriver != "systemd" {
		t.Errorf("cgroup driver %q", h.CgroupDriver)
	}

	img := fmt.Sprintf("coldstart-test/engine:%d", os.Getpid())
	bctx := t.TempDir()
	os.WriteFile(filepath.Join(bctx, "Dockerfile"), []byte("FROM scratch\nCOPY f /f\nCMD [\"/f\"]\n"), 0o644)
	os.WriteFile(filepath.Join(bctx, "f"), []byte("engine test: never started\n"), 0o644)
	labels := map[string]string{LabelHarness: "1", "io.coldstart.test": "1"}
	if err := d.Build(ctx, BuildSpec{Context: bctx, Tag: img, Labels: labels}, nil); err != nil {
		t.Fatal(err)
	}
	defer d.RemoveImage(context.Background(), img)

	run := fmt.Sprintf("engine-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	l := map[string]string{LabelRun: run}
	for k, v := range labels {
		l[k] = v
	}
	id, err := d.Create(ctx, ContainerSpec{Image: img, Labels: l,
		CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20,
		KernelMemory: 128 << 20, Pids: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Remove(context.Background(), id)
	st, err := d.Inspect(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("inspect: %+v", st)
	if st.CPUQuota != 10000 || st.CPUPeriod != 100000 || st.Memory != 128<<20 || st.MemorySwap != 128<<20 || st.Pids != 64 {
		t.Errorf("inspect does not record the limits asked for: %+v", st)
	}
	// Kernel memory reaches the container only from an engine below API 1.42
	// on a host with kernel-memory accounting (cgroup v1); otherwise the
	// engine drops it without an error, and inspect must not be taken for
	// "no limit asked".
	takes := versions.LessThan(h.ClientAPI, "1.42") && h.KernelMemory
	switch {
	case !takes && (st.KernelMemoryUnsupported == "" || st.KernelMemory != 0):
		t.Errorf("API %s, kernel memory accounting %v: want kernel memory reported as not supported (and inspect 0), got %q, %d",
			h.ClientAPI, h.KernelMemory, st.KernelMemoryUnsupported, st.KernelMemory)
	case takes && (st.KernelMemoryUnsupported != "" || st.KernelMemory != 128<<20):
		t.Errorf("API %s takes kernel memory here: inspect must record it, got %q, %d",
			h.ClientAPI, st.KernelMemoryUnsupported, st.KernelMemory)
	}

	if err := d.Remove(ctx, id); err != nil {
		t.Fatal(err)
	}
	if cs, err := d.List(ctx, map[string]string{LabelRun: run}); err != nil || len(cs) != 0 {
		t.Errorf("after remove: %v, %v", cs, err)
	}
}
