package cgroup

import (
	"errors"
	"fmt"

	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"

	"github.com/coldstart/coldstart/harness/result"
)

// errNoMemory is a live group without memory statistics: a host without the
// memory controller, not an exited container.
var errNoMemory = errors.New("no memory statistics (memory controller absent?)")

// errNoCPU is a live v1 group without a cpuacct directory; the library would
// report 0 ms of CPU for it, which must not pass for a measurement.
var errNoCPU = errors.New("no cpuacct group at this path")

// Sample reads what the cgroup consumed so far. It returns ErrGone once the
// container's cgroup was removed.
func (g *Group) Sample() (result.Sample, error) {
	if g.version == 2 {
		return g.sampleV2()
	}
	return g.sampleV1()
}

func (g *Group) sampleV1() (result.Sample, error) {
	m, err := g.v1.Stat()
	if err != nil {
		return result.Sample{}, g.statErr(err)
	}
	// The library pre-fills CPU but leaves Memory nil when the memory
	// subsystem was not loaded, and a handle whose error handler ignores
	// missing files returns nil sections after deletion: check both.
	if m == nil || m.Memory == nil || m.Memory.Usage == nil || m.CPU == nil || m.CPU.Usage == nil || m.CPU.Throttling == nil {
		if !g.alive() {
			return result.Sample{}, fmt.Errorf("cgroup %s: %w", g.path, ErrGone)
		}
		return result.Sample{}, fmt.Errorf("cgroup %s: %w", g.path, errNoMemory)
	}
	if g.dir(cgroup1.Cpuacct) == "" {
		return result.Sample{}, fmt.Errorf("cgroup %s: %w", g.path, errNoCPU)
	}
	s := result.Sample{
		CgroupVersion:    1,
		CPUUsageMS:       float64(m.CPU.Usage.Total) / 1e6,
		Periods:          m.CPU.Throttling.Periods,
		ThrottledPeriods: m.CPU.Throttling.ThrottledPeriods,
		ThrottledMS:      float64(m.CPU.Throttling.ThrottledTime) / 1e6,
		MemoryUsage:      m.Memory.Usage.Usage,
		MemoryPeak:       m.Memory.Usage.Max,
	}
	// On v1 the "swap" entry is memory.memsw.*: memory+swap, not swap alone.
	if m.Memory.Swap != nil {
		s.MemSwapPeak = m.Memory.Swap.Max
	}
	if m.Memory.Kernel != nil {
		s.KernelMemoryUsage = m.Memory.Kernel.Usage
	}
	if m.MemoryOomControl != nil {
		s.OOMKills = m.MemoryOomControl.OomKill
	}
	return s, nil
}

func (g *Group) sampleV2() (result.Sample, error) {
	m, err := g.v2.StatFiltered(cgroup2.StatCPU | cgroup2.StatMemory | cgroup2.StatMemoryEvents)
	if err != nil {
		return result.Sample{}, g.statErr(err)
	}
	// cgroup2 returns zeroed stats without error for a removed group, so
	// existence is checked after reading: zeros read from a group that then
	// vanished are not trusted.
	if !g.alive() {
		return result.Sample{}, fmt.Errorf("cgroup %s: %w", g.path, ErrGone)
	}
	if m == nil || m.CPU == nil || m.Memory == nil {
		return result.Sample{}, fmt.Errorf("cgroup %s: %w", g.path, errNoMemory)
	}
	s := result.Sample{
		CgroupVersion:    2,
		CPUUsageMS:       float64(m.CPU.UsageUsec) / 1e3,
		Periods:          m.CPU.NrPeriods,
		ThrottledPeriods: m.CPU.NrThrottled,
		ThrottledMS:      float64(m.CPU.ThrottledUsec) / 1e3,
		MemoryUsage:      m.Memory.Usage,
		// memory.peak exists from kernel 5.19; before that the library
		// reports 0, which the omitempty-free field keeps visible as 0.
		MemoryPeak: m.Memory.MaxUsage,
		// v2 has no memory+swap peak (swap.peak is swap alone and peaks do
		// not add up) and no separate kernel-memory counter file: both stay 0.
	}
	if m.MemoryEvents != nil {
		s.OOMKills = m.MemoryEvents.OomKill
	}
	return s, nil
}

// statErr maps a read error to ErrGone when the cgroup disappeared; the
// library reports that as a plain ENOENT from whichever file it opened.
func (g *Group) statErr(err error) error {
	if !g.alive() {
		return fmt.Errorf("cgroup %s: %w (%v)", g.path, ErrGone, err)
	}
	return fmt.Errorf("cgroup %s: %w", g.path, err)
}
