package cgroup

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/cgroups/v3/cgroup1"

	"github.com/coldstart/coldstart/harness/result"
)

// Unlimited is the value of an Enforced field when the cgroup holds no limit.
const Unlimited = -1

// v1Unlimited: v1 reports "no limit" as a huge page-rounded number
// (9223372036854771712 for memory); anything this large is no limit in practice.
const v1Unlimited = 1 << 62

// Enforced is what the cgroup holds, read back from its limit files. Every
// limit is Unlimited (-1) when there is none, including when the kernel has
// no such file (memsw without swap accounting, kmem on v2).
type Enforced struct {
	CgroupVersion int   // 1 or 2: which files the limits came from
	CPUQuota      int64 // microseconds per period
	CPUPeriod     int64 // microseconds
	Memory        int64 // bytes
	// MemorySwap is memory+swap in bytes, Docker's meaning of MemorySwap: v1's
	// memory.memsw.limit_in_bytes, or on v2 memory.max + memory.swap.max.
	MemorySwap int64
	// Swap is v2's memory.swap.max: swap alone, on top of memory.max.
	// Unlimited on v1, which has no swap-only limit.
	Swap         int64
	KernelMemory int64 // bytes
	Pids         int64
	// CPUShares is v1's cpu.shares; on v2, CPUWeight is cpu.weight (1..10000),
	// which the runtime derives from the requested shares.
	CPUShares, CPUWeight int64
}

// Enforced reads the limits the kernel holds for the group. They are read
// directly from the files: the library's Stat exposes neither the CFS quota
// nor v2's cpu.max.
func (g *Group) Enforced() (Enforced, error) {
	var (
		e   Enforced
		err error
	)
	if g.version == 2 {
		e, err = g.enforcedV2()
	} else {
		e, err = g.enforcedV1()
	}
	if err != nil {
		return Enforced{}, g.statErr(err)
	}
	// A missing file reads as "no limit", so a vanished group would look
	// unlimited: only trust the values if it still exists.
	if !g.alive() {
		return Enforced{}, fmt.Errorf("cgroup %s: %w", g.path, ErrGone)
	}
	return e, nil
}

func (g *Group) enforcedV1() (Enforced, error) {
	e := Enforced{CgroupVersion: 1, Swap: Unlimited, CPUWeight: Unlimited}
	cpu, mem := g.dir(cgroup1.Cpu), g.dir(cgroup1.Memory)
	for _, f := range []struct {
		dir, file string
		dst       *int64
	}{
		{cpu, "cpu.cfs_quota_us", &e.CPUQuota},
		{cpu, "cpu.cfs_period_us", &e.CPUPeriod},
		{mem, "memory.limit_in_bytes", &e.Memory},
		{mem, "memory.memsw.limit_in_bytes", &e.MemorySwap},
		{mem, "memory.kmem.limit_in_bytes", &e.KernelMemory},
		{g.dir(cgroup1.Pids), "pids.max", &e.Pids},
		{cpu, "cpu.shares", &e.CPUShares},
	} {
		v, err := readLimit(f.dir, f.file)
		if err != nil {
			return Enforced{}, err
		}
		*f.dst = v
	}
	return e, nil
}

func (g *Group) enforcedV2() (Enforced, error) {
	d := g.dir("")
	e := Enforced{CgroupVersion: 2, KernelMemory: Unlimited} // v2 has no kernel-memory limit at all
	var err error
	if e.CPUQuota, e.CPUPeriod, err = readCPUMax(d); err != nil {
		return Enforced{}, err
	}
	if e.Memory, err = readLimit(d, "memory.max"); err != nil {
		return Enforced{}, err
	}
	if e.Swap, err = readLimit(d, "memory.swap.max"); err != nil {
		return Enforced{}, err
	}
	// Docker's MemorySwap is memory+swap; v2 limits swap alone.
	e.MemorySwap = Unlimited
	if e.Memory != Unlimited && e.Swap != Unlimited {
		e.MemorySwap = e.Memory + e.Swap
	}
	if e.Pids, err = readLimit(d, "pids.max"); err != nil {
		return Enforced{}, err
	}
	e.CPUShares = Unlimited
	if e.CPUWeight, err = readLimit(d, "cpu.weight"); err != nil {
		return Enforced{}, err
	}
	return e, nil
}

// readLimit reads one limit file; a missing controller or file is no limit.
func readLimit(dir, file string) (int64, error) {
	if dir == "" {
		return Unlimited, nil
	}
	b, err := ReadSmall(filepath.Join(dir, file))
	if errors.Is(err, fs.ErrNotExist) {
		return Unlimited, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := parseLimit(string(b))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", filepath.Join(dir, file), err)
	}
	return v, nil
}

// readCPUMax reads v2's "quota period" pair, e.g. "max 100000".
func readCPUMax(dir string) (quota, period int64, err error) {
	p := filepath.Join(dir, "cpu.max")
	b, err := ReadSmall(p)
	if errors.Is(err, fs.ErrNotExist) {
		return Unlimited, Unlimited, nil
	}
	if err != nil {
		return 0, 0, err
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("%s: want \"quota period\", got %q", p, strings.TrimSpace(string(b)))
	}
	if quota, err = parseLimit(f[0]); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", p, err)
	}
	if period, err = parseLimit(f[1]); err != nil {
		return 0, 0, fmt.Errorf("%s: %w", p, err)
	}
	return quota, period, nil
}

// parseLimit maps every spelling of "no limit" (v2 "max", v1 -1 or a value
// near 2^63) to Unlimited.
func parseLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return Unlimited, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(s, "-") {
			return Unlimited, nil
		}
		return 0, err
	}
	if v < 0 || v >= v1Unlimited {
		return Unlimited, nil
	}
	return v, nil
}

// Read takes a sample and reads the enforced limits, with one check that the
// group still exists for both (the runner's call at readiness). Either is nil
// when it could not be read.
// Usage is Read without the enforced limits: the usage sample alone, nil
// when the group is gone or unreadable.
func (g *Group) Usage() *result.Sample {
	var (
		s   result.Sample
		err error
	)
	if g.version == 2 {
		s, err = g.sampleV2()
	} else {
		s, err = g.sampleV1()
	}
	if err != nil || !g.alive() {
		return nil
	}
	return &s
}

func (g *Group) Read() (*result.Sample, *Enforced) {
	var (
		s, e       = result.Sample{}, Enforced{}
		serr, eerr error
	)
	if g.version == 2 {
		s, serr = g.sampleV2()
		e, eerr = g.enforcedV2()
	} else {
		s, serr = g.sampleV1()
		e, eerr = g.enforcedV1()
	}
	if !g.alive() {
		return nil, nil
	}
	var sp *result.Sample
	var ep *Enforced
	if serr == nil {
		sp = &s
	}
	if eerr == nil {
		ep = &e
	}
	return sp, ep
}
