package cgroup

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

const v1Max = "9223372036854771712" // what v1 reads back for "no limit"

// files is a cgroup directory's content: file name -> content.
type files map[string]string

// writeTree creates root/<dir>/<name> for every entry.
func writeTree(t *testing.T, root string, tree map[string]files) {
	t.Helper()
	for dir, fs := range tree {
		d := filepath.Join(root, dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, content := range fs {
			if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// v1Group is a container's v1 cgroup as Docker 20.10 leaves it for
// --cpus 0.1 -m 128m --memory-swap 128m --kernel-memory 128m --pids-limit 64
// on kernel 6.x: the kmem limit reads back unlimited.
func v1Group() map[string]files {
	memory := files{
		"memory.stat":        "cache 4096\nrss 8388608\ntotal_rss 8388608\nhierarchical_memory_limit 134217728\n",
		"memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n",
	}
	for prefix, v := range map[string][4]string{
		"memory.":       {"9437184", "12582912", "3", "134217728"},
		"memory.memsw.": {"9437184", "13631488", "0", "134217728"},
		"memory.kmem.":  {"520192", "540672", "0", v1Max},
	} {
		memory[prefix+"usage_in_bytes"] = v[0] + "\n"
		memory[prefix+"max_usage_in_bytes"] = v[1] + "\n"
		memory[prefix+"failcnt"] = v[2] + "\n"
		memory[prefix+"limit_in_bytes"] = v[3] + "\n"
	}
	return map[string]files{
		"memory/docker/abc": memory,
		"cpu/docker/abc": {
			"cpu.stat":          "nr_periods 12\nnr_throttled 5\nthrottled_time 412500000\n",
			"cpu.cfs_quota_us":  "10000\n",
			"cpu.cfs_period_us": "100000\n",
			"cpu.shares":        "128\n",
		},
		"cpuacct/docker/abc": {
			"cpuacct.stat":         "user 3\nsystem 2\n",
			"cpuacct.usage":        "61250000\n",
			"cpuacct.usage_percpu": "30000000 31250000 \n",
		},
		"pids/docker/abc": {"pids.max": "64\n", "pids.current": "3\n"},
	}
}

// v1Root adds the hierarchy roots' files that the Reader probes to decide
// whether swap and kmem are accounted.
func v1Root(withSwap bool) map[string]files {
	root := files{"memory.usage_in_bytes": "1\n", "memory.kmem.usage_in_bytes": "1\n"}
	if withSwap {
		root["memory.memsw.usage_in_bytes"] = "1\n"
	}
	return map[string]files{"memory": root, "cpu": {}, "cpuacct": {}, "pids": {}}
}

func newFakeV1(t *testing.T, group map[string]files, withSwap bool) (*Reader, string) {
	t.Helper()
	root := t.TempDir()
	writeTree(t, root, v1Root(withSwap))
	writeTree(t, root, group)
	return NewV1(root), root
}

func TestV1Sample(t *testing.T) {
	r, _ := newFakeV1(t, v1Group(), true)
	g, err := r.Open(PathFor("cgroupfs", "", "abc"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Sample()
	if err != nil {
		t.Fatal(err)
	}
	want := result.Sample{
		CgroupVersion:     1,
		CPUUsageMS:        61.25,
		Periods:           12,
		ThrottledPeriods:  5,
		ThrottledMS:       412.5,
		MemoryUsage:       9437184,
		MemoryPeak:        12582912,
		MemSwapPeak:       13631488,
		KernelMemoryUsage: 520192,
		OOMKills:          1,
	}
	if got != want {
		t.Errorf("Sample:\n got %+v\nwant %+v", got, want)
	}
}

// Read is Sample and Enforced with one existence check.
func TestRead(t *testing.T) {
	for name, r := range map[string]func(t *testing.T) (*Reader, string, string){
		"v1": func(t *testing.T) (*Reader, string, string) {
			r, root := newFakeV1(t, v1Group(), true)
			return r, root, "/docker/abc"
		},
		"v2": func(t *testing.T) (*Reader, string, string) {
			r, root := newFakeV2(t, v2Group())
			return r, root, "/system.slice/docker-abc.scope"
		},
	} {
		t.Run(name, func(t *testing.T) {
			rd, root, path := r(t)
			g, err := rd.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			s, e := g.Read()
			ws, _ := g.Sample()
			we, _ := g.Enforced()
			if s == nil || e == nil || *s != ws || *e != we {
				t.Errorf("Read = %+v, %+v; want %+v, %+v", s, e, ws, we)
			}
			os.RemoveAll(root)
			if s, e := g.Read(); s != nil || e != nil {
				t.Errorf("Read of a removed group = %+v, %+v; want nothing", s, e)
			}
		})
	}
}

func TestV1Enforced(t *testing.T) {
	r, _ := newFakeV1(t, v1Group(), true)
	g, err := r.Open("/docker/abc")
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Enforced()
	if err != nil {
		t.Fatal(err)
	}
	// The kmem limit was requested but reads back unlimited: not enforced.
	want := Enforced{CgroupVersion: 1, CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20, Swap: Unlimited, KernelMemory: Unlimited, Pids: 64, CPUShares: 128, CPUWeight: Unlimited}
	if got != want {
		t.Errorf("Enforced:\n got %+v\nwant %+v", got, want)
	}
}

func TestV1Unlimited(t *testing.T) {
	tree := v1Group()
	tree["cpu/docker/abc"]["cpu.cfs_quota_us"] = "-1\n"
	tree["memory/docker/abc"]["memory.limit_in_bytes"] = v1Max + "\n"
	tree["memory/docker/abc"]["memory.memsw.limit_in_bytes"] = v1Max + "\n"
	tree["pids/docker/abc"]["pids.max"] = "max\n"
	r, _ := newFakeV1(t, tree, true)
	g, err := r.Open("/docker/abc")
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Enforced()
	if err != nil {
		t.Fatal(err)
	}
	want := Enforced{CgroupVersion: 1, CPUQuota: Unlimited, CPUPeriod: 100000, Memory: Unlimited, MemorySwap: Unlimited, Swap: Unlimited, KernelMemory: Unlimited, Pids: Unlimited, CPUShares: 128, CPUWeight: Unlimited}
	if got != want {
		t.Errorf("Enforced:\n got %+v\nwant %+v", got, want)
	}
}

// Without swap accounting the kernel has no memory.memsw.* files at all;
// the library would fail Stat on them unless told to skip them.
func TestV1NoSwapAccounting(t *testing.T) {
	tree := v1Group()
	for _, n := range []string{"usage_in_bytes", "max_usage_in_bytes", "failcnt", "limit_in_bytes"} {
		delete(tree["memory/docker/abc"], "memory.memsw."+n)
	}
	// No pids controller directory for this group either.
	delete(tree, "pids/docker/abc")
	r, _ := newFakeV1(t, tree, false)
	g, err := r.Open("/docker/abc")
	if err != nil {
		t.Fatal(err)
	}
	s, err := g.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if s.MemSwapPeak != 0 || s.MemoryPeak != 12582912 {
		t.Errorf("Sample = %+v, want MemSwapPeak 0 and MemoryPeak 12582912", s)
	}
	e, err := g.Enforced()
	if err != nil {
		t.Fatal(err)
	}
	if e.MemorySwap != Unlimited || e.Pids != Unlimited || e.Memory != 128<<20 {
		t.Errorf("Enforced = %+v, want MemorySwap and Pids unlimited, Memory 128 MiB", e)
	}
}

func TestV1Gone(t *testing.T) {
	r, root := newFakeV1(t, v1Group(), true)
	g, err := r.Open("/docker/abc")
	if err != nil {
		t.Fatal(err)
	}
	// The runtime removes the group from every controller when the
	// container exits; the handle stays valid.
	for _, c := range []string{"memory", "cpu", "cpuacct", "pids"} {
		if err := os.RemoveAll(filepath.Join(root, c, "docker/abc")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := g.Sample(); !errors.Is(err, ErrGone) {
		t.Errorf("Sample after removal: err = %v, want ErrGone", err)
	}
	if _, err := g.Enforced(); !errors.Is(err, ErrGone) {
		t.Errorf("Enforced after removal: err = %v, want ErrGone", err)
	}
	if _, err := r.Open("/docker/abc"); !errors.Is(err, ErrGone) {
		t.Errorf("Open after removal: err = %v, want ErrGone", err)
	}
}

// Removal seen half-way: the memory directory is gone but cpu is not yet.
func TestV1PartlyGone(t *testing.T) {
	r, root := newFakeV1(t, v1Group(), true)
	g, err := r.Open("/docker/abc")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "memory/docker/abc")); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Sample(); !errors.Is(err, ErrGone) {
		t.Errorf("Sample: err = %v, want ErrGone", err)
	}
	if _, err := g.Enforced(); !errors.Is(err, ErrGone) {
		t.Errorf("Enforced: err = %v, want ErrGone", err)
	}
}

// A group without a memory directory loads (the library keeps the
// controllers it finds) and its Stat returns nil Memory with a nil error.
// That is not an exited container, and must not read as zero memory.
func TestV1NilMemory(t *testing.T) {
	tree := v1Group()
	delete(tree, "memory/docker/abc")
	r, _ := newFakeV1(t, tree, true)
	g, err := r.Open("/docker/abc")
	if err != nil {
		t.Fatal(err)
	}
	_, err = g.Sample()
	if err == nil || errors.Is(err, ErrGone) {
		t.Errorf("Sample: err = %v, want a missing-memory error other than ErrGone", err)
	}
}

// Without a cpuacct group the library reports 0 ms of CPU and no error.
func TestV1NoCPUAcct(t *testing.T) {
	tree := v1Group()
	delete(tree, "cpuacct/docker/abc")
	r, _ := newFakeV1(t, tree, true)
	g, err := r.Open("/docker/abc")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := g.Sample(); err == nil || errors.Is(err, ErrGone) {
		t.Errorf("Sample = %+v, %v; want a missing-cpuacct error other than ErrGone", s, err)
	}
}

func TestV1OpenMissing(t *testing.T) {
	r, _ := newFakeV1(t, v1Group(), true)
	if _, err := r.Open("/docker/nope"); !errors.Is(err, ErrGone) {
		t.Errorf("Open: err = %v, want ErrGone", err)
	}
}

func TestV1Malformed(t *testing.T) {
	tree := v1Group()
	tree["memory/docker/abc"]["memory.limit_in_bytes"] = "lots\n"
	tree["cpu/docker/abc"]["cpu.stat"] = "nr_periods\n"
	r, _ := newFakeV1(t, tree, true)
	g, err := r.Open("/docker/abc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Sample(); err == nil || errors.Is(err, ErrGone) {
		t.Errorf("Sample: err = %v, want a parse error", err)
	}
	if _, err := g.Enforced(); err == nil || errors.Is(err, ErrGone) {
		t.Errorf("Enforced: err = %v, want a parse error", err)
	}
}

// v2Group is Docker's v2 layout for the same limits; cgroup v2 has no
// kernel-memory limit and splits memory+swap into memory.max + swap.max.
func v2Group() map[string]files {
	return map[string]files{
		"": {"cgroup.controllers": "cpu memory pids\n"},
		"system.slice/docker-abc.scope": {
			"cpu.stat":        "usage_usec 61250\nuser_usec 40000\nsystem_usec 21250\nnr_periods 12\nnr_throttled 5\nthrottled_usec 412500\n",
			"cpu.max":         "10000 100000\n",
			"cpu.weight":      "5\n",
			"memory.stat":     "anon 8388608\nfile 4096\nkernel 520192\n",
			"memory.current":  "9437184\n",
			"memory.peak":     "12582912\n",
			"memory.max":      "134217728\n",
			"memory.swap.max": "0\n",
			"memory.events":   "low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n",
			"pids.max":        "64\n",
			"pids.current":    "3\n",
		},
	}
}

func newFakeV2(t *testing.T, tree map[string]files) (*Reader, string) {
	t.Helper()
	root := t.TempDir()
	writeTree(t, root, tree)
	return NewV2(root), root
}

func TestV2Sample(t *testing.T) {
	r, _ := newFakeV2(t, v2Group())
	g, err := r.Open(PathFor("systemd", "", "abc"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Sample()
	if err != nil {
		t.Fatal(err)
	}
	want := result.Sample{
		CgroupVersion:    2,
		CPUUsageMS:       61.25,
		Periods:          12,
		ThrottledPeriods: 5,
		ThrottledMS:      412.5,
		MemoryUsage:      9437184,
		MemoryPeak:       12582912,
		OOMKills:         1,
	}
	if got != want {
		t.Errorf("Sample:\n got %+v\nwant %+v", got, want)
	}
}

// Kernels before 5.19 have no memory.peak: the peak is 0, not an error.
func TestV2NoPeak(t *testing.T) {
	tree := v2Group()
	delete(tree["system.slice/docker-abc.scope"], "memory.peak")
	r, _ := newFakeV2(t, tree)
	g, err := r.Open("/system.slice/docker-abc.scope")
	if err != nil {
		t.Fatal(err)
	}
	s, err := g.Sample()
	if err != nil {
		t.Fatal(err)
	}
	if s.MemoryPeak != 0 || s.MemoryUsage != 9437184 {
		t.Errorf("Sample = %+v, want MemoryPeak 0, MemoryUsage 9437184", s)
	}
}

func TestV2Enforced(t *testing.T) {
	tests := []struct {
		name  string
		files files
		want  Enforced
	}{
		{
			name: "limited",
			want: Enforced{CgroupVersion: 2, CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20, Swap: 0, KernelMemory: Unlimited, Pids: 64, CPUShares: Unlimited, CPUWeight: 5},
		},
		{
			name:  "unlimited",
			files: files{"cpu.max": "max 100000\n", "memory.max": "max\n", "memory.swap.max": "max\n", "pids.max": "max\n"},
			want:  Enforced{CgroupVersion: 2, CPUQuota: Unlimited, CPUPeriod: 100000, Memory: Unlimited, MemorySwap: Unlimited, Swap: Unlimited, KernelMemory: Unlimited, Pids: Unlimited, CPUShares: Unlimited, CPUWeight: 5},
		},
		{
			name:  "swap allowed",
			files: files{"memory.swap.max": "134217728\n"},
			want:  Enforced{CgroupVersion: 2, CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 256 << 20, Swap: 128 << 20, KernelMemory: Unlimited, Pids: 64, CPUShares: Unlimited, CPUWeight: 5},
		},
		{
			name:  "unlimited swap",
			files: files{"memory.swap.max": "max\n"},
			want:  Enforced{CgroupVersion: 2, CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: Unlimited, Swap: Unlimited, KernelMemory: Unlimited, Pids: 64, CPUShares: Unlimited, CPUWeight: 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tree := v2Group()
			for k, v := range tt.files {
				tree["system.slice/docker-abc.scope"][k] = v
			}
			r, _ := newFakeV2(t, tree)
			g, err := r.Open("/system.slice/docker-abc.scope")
			if err != nil {
				t.Fatal(err)
			}
			got, err := g.Enforced()
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Enforced:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// The limits table from a v2 tree as Docker leaves it for the seed's limits:
// memory_swap is memory.max + memory.swap.max (swap alone), never
// memory.swap.max by itself, and kernel memory says why it is not enforced.
func TestV2LimitsTable(t *testing.T) {
	r, _ := newFakeV2(t, v2Group())
	g, err := r.Open(PathFor("systemd", "", "abc"))
	if err != nil {
		t.Fatal(err)
	}
	e, err := g.Enforced()
	if err != nil {
		t.Fatal(err)
	}
	req := scenario.Limits{CPUs: 0.1, CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20, KernelMemory: 128 << 20, Pids: 64}
	obs := Observed{CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20, Pids: 64,
		KernelMemoryUnsupported: "not supported by this engine (API 1.45; dropped in 1.42)"}
	got := map[string]result.Limit{}
	for _, l := range Compare(req, obs, e) {
		got[l.Name] = l
	}
	for name, want := range map[string]struct {
		enforced, note string
		ok             bool
	}{
		"cpu":           {"0.10 CPU (10000/100000 us)", "", true},
		"memory":        {"128 MiB", "", true},
		"memory_swap":   {"128 MiB", "cgroup v2: memory.max 128 MiB + memory.swap.max 0 (swap alone)", true},
		"kernel_memory": {"not enforced", "cgroup v2 has no kernel-memory limit; not supported by this engine (API 1.45; dropped in 1.42)", false},
		"pids":          {"64", "", true},
	} {
		l := got[name]
		if e := result.Format(l.Unit, l.Enforced); e != want.enforced || l.OK != want.ok || l.Note != want.note {
			t.Errorf("%s: enforced %q ok %v note %q, want %q %v %q", name, e, l.OK, l.Note, want.enforced, want.ok, want.note)
		}
	}
	if k := got["kernel_memory"]; k.Observed.State != result.Unsupported {
		t.Errorf("kernel_memory observed %+v, want unsupported", k.Observed)
	}
}

// Without swap accounting or controllers enabled the files are absent:
// no limit, no error.
func TestV2MissingFiles(t *testing.T) {
	tree := v2Group()
	for _, f := range []string{"memory.swap.max", "cpu.max", "pids.max"} {
		delete(tree["system.slice/docker-abc.scope"], f)
	}
	r, _ := newFakeV2(t, tree)
	g, err := r.Open("/system.slice/docker-abc.scope")
	if err != nil {
		t.Fatal(err)
	}
	got, err := g.Enforced()
	if err != nil {
		t.Fatal(err)
	}
	want := Enforced{CgroupVersion: 2, CPUQuota: Unlimited, CPUPeriod: Unlimited, Memory: 128 << 20, MemorySwap: Unlimited, Swap: Unlimited, KernelMemory: Unlimited, Pids: Unlimited, CPUShares: Unlimited, CPUWeight: 5}
	if got != want {
		t.Errorf("Enforced:\n got %+v\nwant %+v", got, want)
	}
}

// cgroup2 returns zeroed statistics and no error for a removed group.
func TestV2Gone(t *testing.T) {
	r, root := newFakeV2(t, v2Group())
	g, err := r.Open("/system.slice/docker-abc.scope")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(filepath.Join(root, "system.slice/docker-abc.scope")); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Sample(); !errors.Is(err, ErrGone) {
		t.Errorf("Sample: err = %v, want ErrGone", err)
	}
	if _, err := g.Enforced(); !errors.Is(err, ErrGone) {
		t.Errorf("Enforced: err = %v, want ErrGone", err)
	}
	if _, err := r.Open("/system.slice/docker-abc.scope"); !errors.Is(err, ErrGone) {
		t.Errorf("Open: err = %v, want ErrGone", err)
	}
}

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"134217728\n", 134217728, false},
		{"max\n", Unlimited, false},
		{"-1\n", Unlimited, false},
		{v1Max + "\n", Unlimited, false},
		{"18446744073709551615", Unlimited, false},
		{"0", 0, false},
		{"", 0, true},
		{"12k", 0, true},
	}
	for _, tt := range tests {
		got, err := parseLimit(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("parseLimit(%q) = %d, %v; want %d, err %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
