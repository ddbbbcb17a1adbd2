package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"

	"github.com/containerd/cgroups/v3/cgroup1"

	"github.com/coldstart/coldstart/harness/result"
)

// errNoMemory is a live group without memory statistics: a host without the
// memory controller, not an exited container.
var errNoMemory = errors.New("no memory statistics (memory controller absent?)")

// errNoCPU is a live v1 group without a cpuacct directory; it must not pass
// for 0 ms of CPU.
var errNoCPU = errors.New("no cpuacct group at this path")

// Sample reads what the cgroup consumed so far. It returns ErrGone once the
// container's cgroup was removed.
//
// The handful of files a sample needs are read directly: the library's Stat
// reads every file of every controller (memory.stat and the failcnt and limit
// of four memory modules on v1), several times the harness's CPU for a
// sample taken on every start.
func (g *Group) Sample() (result.Sample, error) {
	var (
		s   result.Sample
		err error
	)
	if g.version == 2 {
		s, err = g.sampleV2()
	} else {
		s, err = g.sampleV1()
	}
	if err != nil {
		return result.Sample{}, g.statErr(err)
	}
	// A file read from a group that then vanished is not trusted.
	if !g.alive() {
		return result.Sample{}, fmt.Errorf("cgroup %s: %w", g.path, ErrGone)
	}
	return s, nil
}

func (g *Group) sampleV1() (result.Sample, error) {
	mem, cpu, acct := g.dir(cgroup1.Memory), g.dir(cgroup1.Cpu), g.dir(cgroup1.Cpuacct)
	if mem == "" {
		return result.Sample{}, errNoMemory
	}
	if acct == "" {
		return result.Sample{}, errNoCPU
	}
	s := result.Sample{CgroupVersion: 1}
	r := fileReader{}
	s.CPUUsageMS = float64(r.uint(acct, "cpuacct.usage")) / 1e6
	if cpu != "" {
		st := r.keyed(cpu, "cpu.stat")
		s.Periods, s.ThrottledPeriods = st["nr_periods"], st["nr_throttled"]
		s.ThrottledMS = float64(st["throttled_time"]) / 1e6
	}
	s.MemoryUsage = r.uint(mem, "memory.usage_in_bytes")
	s.MemoryPeak = r.uint(mem, "memory.max_usage_in_bytes")
	// memory.memsw.* is memory+swap, not swap alone; absent without swap
	// accounting, as kmem is where the kernel does not account it.
	s.MemSwapPeak = r.optional(mem, "memory.memsw.max_usage_in_bytes")
	s.KernelMemoryUsage = r.optional(mem, "memory.kmem.usage_in_bytes")
	s.OOMKills = r.keyed(mem, "memory.oom_control")["oom_kill"]
	return s, r.err
}

func (g *Group) sampleV2() (result.Sample, error) {
	d := g.dir("")
	r := fileReader{}
	st := r.keyed(d, "cpu.stat")
	s := result.Sample{
		CgroupVersion:    2,
		CPUUsageMS:       float64(st["usage_usec"]) / 1e3,
		Periods:          st["nr_periods"],
		ThrottledPeriods: st["nr_throttled"],
		ThrottledMS:      float64(st["throttled_usec"]) / 1e3,
		MemoryUsage:      r.uint(d, "memory.current"),
		// memory.peak exists from kernel 5.19; before that the peak reads 0.
		// v2 has no memory+swap peak (swap.peak is swap alone and peaks do
		// not add up) and no kernel-memory counter file: both stay 0.
		MemoryPeak: r.optional(d, "memory.peak"),
		OOMKills:   r.keyed(d, "memory.events")["oom_kill"],
	}
	if r.missing {
		return result.Sample{}, errNoMemory
	}
	return s, r.err
}

// fileReader reads small cgroup files and keeps the first error, so that a
// sample reads as a list of fields.
type fileReader struct {
	err     error
	missing bool // a required file did not exist
}

func (r *fileReader) read(dir, name string, required bool) []byte {
	if r.err != nil {
		return nil
	}
	b, err := ReadShown(filepath.Join(dir, name))
	switch {
	case errors.Is(err, fs.ErrNotExist) && !required:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		r.missing = true
		r.err = err
	case err != nil:
		r.err = err
	}
	return b
}

func (r *fileReader) parse(dir, name string, b []byte) uint64 {
	v, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64)
	if err != nil && r.err == nil {
		r.err = fmt.Errorf("%s: %w", filepath.Join(dir, name), err)
	}
	return v
}

// uint reads a required one-number file.
func (r *fileReader) uint(dir, name string) uint64 {
	b := r.read(dir, name, true)
	if r.err != nil {
		return 0
	}
	return r.parse(dir, name, b)
}

// optional reads a one-number file that may not exist (0 then).
func (r *fileReader) optional(dir, name string) uint64 {
	b := r.read(dir, name, false)
	if b == nil || r.err != nil {
		return 0
	}
	return r.parse(dir, name, b)
}

// keyed reads a required "key value" per line file (cpu.stat, memory.events).
func (r *fileReader) keyed(dir, name string) map[string]uint64 {
	b := r.read(dir, name, true)
	out := map[string]uint64{}
	for len(b) > 0 && r.err == nil {
		var line []byte
		line, b, _ = bytes.Cut(b, []byte("\n"))
		k, v, ok := bytes.Cut(bytes.TrimSpace(line), []byte(" "))
		if len(line) == 0 {
			continue
		}
		if !ok {
			r.err = fmt.Errorf("%s: want \"key value\", got %q", filepath.Join(dir, name), line)
			break
		}
		out[string(k)] = r.parse(dir, name, v)
	}
	return out
}

// statErr maps a read error to ErrGone when the cgroup disappeared: a
// removed group reads as a plain ENOENT from whichever file came first.
func (g *Group) statErr(err error) error {
	if !g.alive() {
		return fmt.Errorf("cgroup %s: %w (%v)", g.path, ErrGone, err)
	}
	return fmt.Errorf("cgroup %s: %w", g.path, err)
}
