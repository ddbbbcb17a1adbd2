package cgroup

import (
	"reflect"
	"testing"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

func TestPathFor(t *testing.T) {
	tests := []struct {
		driver, parent, id, want string
	}{
		{"cgroupfs", "", "abc", "/docker/abc"},
		{"cgroupfs", "/docker", "abc", "/docker/abc"},
		{"cgroupfs", "bench", "abc", "/bench/abc"},
		{"cgroupfs", "/bench/inner/", "abc", "/bench/inner/abc"},
		{"", "", "abc", "/docker/abc"},
		{"systemd", "", "abc", "/system.slice/docker-abc.scope"},
		{"systemd", "system.slice", "abc", "/system.slice/docker-abc.scope"},
		{"systemd", "bench.slice", "abc", "/bench.slice/docker-abc.scope"},
		// systemd nests slices by their dashes.
		{"systemd", "bench-cold.slice", "abc", "/bench.slice/bench-cold.slice/docker-abc.scope"},
		{"systemd", "-.slice", "abc", "/docker-abc.scope"},
	}
	for _, tt := range tests {
		if got := PathFor(tt.driver, tt.parent, tt.id); got != tt.want {
			t.Errorf("PathFor(%q, %q, %q) = %q, want %q", tt.driver, tt.parent, tt.id, got, tt.want)
		}
	}
}

// row is a limit as the reports print it.
type row struct {
	Name, Requested, Observed, Enforced string
	OK                                  bool
	Note                                string
}

func rows(ls []result.Limit) []row {
	out := make([]row, len(ls))
	for i, l := range ls {
		out[i] = row{l.Name, result.Format(l.Unit, l.Requested), result.Format(l.Unit, l.Observed), result.Format(l.Unit, l.Enforced), l.OK, l.Note}
	}
	return out
}

func TestCompare(t *testing.T) {
	seed := scenario.Limits{
		CPUs: 0.1, CPUQuota: 10000, CPUPeriod: 100000,
		Memory: 128 << 20, MemorySwap: 128 << 20, KernelMemory: 128 << 20,
	}
	seedObserved := Observed{CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20, KernelMemory: 128 << 20}
	seedEnforced := Enforced{CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20, KernelMemory: Unlimited, Pids: Unlimited}
	none := Enforced{CPUQuota: Unlimited, CPUPeriod: 100000, Memory: Unlimited, MemorySwap: Unlimited, KernelMemory: Unlimited, Pids: Unlimited}

	tests := []struct {
		name string
		req  scenario.Limits
		obs  Observed
		enf  Enforced
		want []row
	}{
		{
			name: "seed limits on this kernel: kmem not enforced",
			req:  seed, obs: seedObserved, enf: seedEnforced,
			want: []row{
				{Name: "cpu", Requested: "0.10 CPU (10000/100000 us)", Observed: "0.10 CPU (10000/100000 us)", Enforced: "0.10 CPU (10000/100000 us)", OK: true},
				{Name: "memory", Requested: "128 MiB", Observed: "128 MiB", Enforced: "128 MiB", OK: true},
				{Name: "memory_swap", Requested: "128 MiB", Observed: "128 MiB", Enforced: "128 MiB", OK: true},
				{Name: "kernel_memory", Requested: "128 MiB", Observed: "128 MiB", Enforced: "not enforced", OK: false},
			},
		},
		{
			name: "nothing requested, nothing limited",
			enf:  none,
			want: []row{
				{Name: "cpu", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "memory_swap", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "kernel_memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
			},
		},
		{
			// --cpus sets NanoCPUs; Docker's default memsw is twice the memory.
			name: "cpus only, memory without swap setting, pids",
			req:  scenario.Limits{CPUs: 0.5, Memory: 64 << 20, Pids: 32},
			obs:  Observed{NanoCPUs: 500000000, Memory: 64 << 20, MemorySwap: 128 << 20, Pids: 32},
			enf:  Enforced{CPUQuota: 50000, CPUPeriod: 100000, Memory: 64 << 20, MemorySwap: 128 << 20, KernelMemory: Unlimited, Pids: 32},
			want: []row{
				{Name: "cpu", Requested: "0.50 CPU (50000/100000 us)", Observed: "0.50 CPU (50000/100000 us)", Enforced: "0.50 CPU (50000/100000 us)", OK: true},
				{Name: "memory", Requested: "64 MiB", Observed: "64 MiB", Enforced: "64 MiB", OK: true},
				{Name: "memory_swap", Requested: "unset", Observed: "128 MiB", Enforced: "128 MiB", OK: true},
				{Name: "kernel_memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "pids", Requested: "32", Observed: "32", Enforced: "32", OK: true},
			},
		},
		{
			// The seed's own mistake: quota 10000 over period 10000 is a whole CPU.
			name: "period differs",
			req:  scenario.Limits{CPUQuota: 10000, CPUPeriod: 100000},
			obs:  Observed{CPUQuota: 10000, CPUPeriod: 10000},
			enf:  Enforced{CPUQuota: 10000, CPUPeriod: 10000, Memory: Unlimited, MemorySwap: Unlimited, KernelMemory: Unlimited, Pids: Unlimited},
			want: []row{
				{Name: "cpu", Requested: "0.10 CPU (10000/100000 us)", Observed: "1.00 CPU (10000/10000 us)", Enforced: "1.00 CPU (10000/10000 us)", OK: false},
				{Name: "memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "memory_swap", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "kernel_memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
			},
		},
		{
			// No swap accounting: the engine drops memory-swap with a warning.
			name: "everything requested, nothing enforced",
			req:  scenario.Limits{CPUQuota: 12500, Memory: 100000000, MemorySwap: 200000000, KernelMemory: 1 << 30, Pids: 10},
			obs:  Observed{CPUQuota: 12500, Memory: 100000000, KernelMemory: 1 << 30, Pids: 10},
			enf:  none,
			want: []row{
				{Name: "cpu", Requested: "0.125 CPU (12500/100000 us)", Observed: "0.125 CPU (12500/100000 us)", Enforced: "not enforced", OK: false},
				{Name: "memory", Requested: "95.37 MiB (100000000 bytes)", Observed: "95.37 MiB (100000000 bytes)", Enforced: "not enforced", OK: false},
				{Name: "memory_swap", Requested: "190.73 MiB (200000000 bytes)", Observed: "unlimited", Enforced: "not enforced", OK: false},
				{Name: "kernel_memory", Requested: "1 GiB", Observed: "1 GiB", Enforced: "not enforced", OK: false},
				{Name: "pids", Requested: "10", Observed: "10", Enforced: "not enforced", OK: false},
			},
		},
		{
			// v1 rounds a limit down to whole pages: the difference shows.
			name: "page rounding, unlimited swap requested",
			req:  scenario.Limits{Memory: 100000000, MemorySwap: -1, Pids: -1},
			obs:  Observed{Memory: 100000000, MemorySwap: -1},
			enf:  Enforced{CPUQuota: Unlimited, CPUPeriod: 100000, Memory: 99999744, MemorySwap: Unlimited, KernelMemory: Unlimited, Pids: Unlimited},
			want: []row{
				{Name: "cpu", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "memory", Requested: "95.37 MiB (100000000 bytes)", Observed: "95.37 MiB (100000000 bytes)", Enforced: "97656 KiB", OK: false},
				{Name: "memory_swap", Requested: "unlimited", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "kernel_memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "pids", Requested: "unlimited", Observed: "unlimited", Enforced: "unlimited", OK: true},
			},
		},
		{
			// cgroup v2 splits memory+swap into memory.max and memory.swap.max
			// (swap alone) and has no kernel-memory limit; an engine at API >=
			// 1.42 never takes kernel memory at all.
			name: "seed limits on cgroup v2, engine without kernel memory",
			req:  scenario.Limits{CPUs: 0.1, CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20, KernelMemory: 128 << 20, Pids: 64},
			obs: Observed{CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20, Pids: 64,
				KernelMemoryUnsupported: "not supported by this engine (API 1.45; dropped in 1.42)"},
			enf: Enforced{CgroupVersion: 2, CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20, Swap: 0, KernelMemory: Unlimited, Pids: 64},
			want: []row{
				{Name: "cpu", Requested: "0.10 CPU (10000/100000 us)", Observed: "0.10 CPU (10000/100000 us)", Enforced: "0.10 CPU (10000/100000 us)", OK: true},
				{Name: "memory", Requested: "128 MiB", Observed: "128 MiB", Enforced: "128 MiB", OK: true},
				{Name: "memory_swap", Requested: "128 MiB", Observed: "128 MiB", Enforced: "128 MiB", OK: true, Note: "cgroup v2: memory.max 128 MiB + memory.swap.max 0 (swap alone)"},
				{Name: "kernel_memory", Requested: "128 MiB", Observed: "not supported", Enforced: "not enforced", OK: false,
					Note: "cgroup v2 has no kernel-memory limit; not supported by this engine (API 1.45; dropped in 1.42)"},
				{Name: "pids", Requested: "64", Observed: "64", Enforced: "64", OK: true},
			},
		},
		{
			// Docker's --memory-swap is memory+swap: 256m over 128m of memory
			// is 128m of swap in memory.swap.max. Unrequested kernel memory
			// needs no explanation.
			name: "swap allowed on cgroup v2",
			req:  scenario.Limits{Memory: 128 << 20, MemorySwap: 256 << 20},
			obs:  Observed{Memory: 128 << 20, MemorySwap: 256 << 20, KernelMemoryUnsupported: "not supported by this engine (API 1.45; dropped in 1.42)"},
			enf:  Enforced{CgroupVersion: 2, CPUQuota: Unlimited, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 256 << 20, Swap: 128 << 20, KernelMemory: Unlimited, Pids: Unlimited},
			want: []row{
				{Name: "cpu", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "memory", Requested: "128 MiB", Observed: "128 MiB", Enforced: "128 MiB", OK: true},
				{Name: "memory_swap", Requested: "256 MiB", Observed: "256 MiB", Enforced: "256 MiB", OK: true, Note: "cgroup v2: memory.max 128 MiB + memory.swap.max 128 MiB (swap alone)"},
				{Name: "kernel_memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
			},
		},
		{
			name: "unlimited swap on cgroup v2",
			req:  scenario.Limits{Memory: 64 << 20, MemorySwap: -1},
			obs:  Observed{Memory: 64 << 20, MemorySwap: -1},
			enf:  Enforced{CgroupVersion: 2, CPUQuota: Unlimited, CPUPeriod: 100000, Memory: 64 << 20, MemorySwap: Unlimited, Swap: Unlimited, KernelMemory: Unlimited, Pids: Unlimited},
			want: []row{
				{Name: "cpu", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "memory", Requested: "64 MiB", Observed: "64 MiB", Enforced: "64 MiB", OK: true},
				{Name: "memory_swap", Requested: "unlimited", Observed: "unlimited", Enforced: "unlimited", OK: true, Note: "cgroup v2: memory.max 64 MiB + memory.swap.max max (swap alone)"},
				{Name: "kernel_memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
			},
		},
		{
			// The study's --cpu-shares=128: v1 holds it in cpu.shares.
			name: "cpu shares on v1",
			req:  scenario.Limits{CPUShares: 128},
			obs:  Observed{CPUShares: 128},
			enf:  Enforced{CgroupVersion: 1, CPUQuota: Unlimited, CPUPeriod: 100000, Memory: Unlimited, MemorySwap: Unlimited, KernelMemory: Unlimited, Pids: Unlimited, CPUShares: 128},
			want: []row{
				{Name: "cpu", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "memory_swap", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "kernel_memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "cpu_shares", Requested: "128", Observed: "128", Enforced: "128", OK: true},
			},
		},
		{
			// v2 holds cpu.weight: runc makes 128 shares weight 5.
			name: "cpu shares on v2",
			req:  scenario.Limits{CPUShares: 128},
			obs:  Observed{CPUShares: 128},
			enf:  Enforced{CgroupVersion: 2, CPUQuota: Unlimited, CPUPeriod: 100000, Memory: Unlimited, MemorySwap: Unlimited, Swap: Unlimited, KernelMemory: Unlimited, Pids: Unlimited, CPUShares: Unlimited, CPUWeight: 5},
			want: []row{
				{Name: "cpu", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "memory_swap", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true, Note: "cgroup v2: memory.max max + memory.swap.max max (swap alone)"},
				{Name: "kernel_memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "cpu_shares", Requested: "128", Observed: "128", Enforced: "5", OK: true, Note: "cgroup v2: cpu.weight, which runc derives from shares 128 as 5"},
			},
		},
		{
			name: "limited though not requested is reported, and OK",
			enf:  Enforced{CPUQuota: 20000, CPUPeriod: 100000, Memory: 1 << 30, MemorySwap: Unlimited, KernelMemory: Unlimited, Pids: Unlimited},
			want: []row{
				{Name: "cpu", Requested: "unset", Observed: "unlimited", Enforced: "0.20 CPU (20000/100000 us)", OK: true},
				{Name: "memory", Requested: "unset", Observed: "unlimited", Enforced: "1 GiB", OK: true},
				{Name: "memory_swap", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
				{Name: "kernel_memory", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := rows(Compare(tt.req, tt.obs, tt.enf))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Compare mismatch")
				for i := range max(len(got), len(tt.want)) {
					var g, w row
					if i < len(got) {
						g = got[i]
					}
					if i < len(tt.want) {
						w = tt.want[i]
					}
					if g != w {
						t.Errorf("row %d:\n got %+v\nwant %+v", i, g, w)
					}
				}
			}
		})
	}
}

func TestSharesToWeight(t *testing.T) {
	// runc's conversion at its ends and at the kernel's default of 1024.
	for shares, want := range map[int64]int64{2: 1, 1024: 39, 128: 5, 262144: 10000} {
		if got := SharesToWeight(shares); got != want {
			t.Errorf("SharesToWeight(%d) = %d, want %d", shares, got, want)
		}
	}
}
