package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coldstart/coldstart/harness/result"
)

// Contention thresholds: a start is flagged when other work kept more than
// this share of the host's CPUs busy during it, or the hypervisor stole more
// than this share. Measured here: a quiet host shows 5-25% "other" during a
// start (the engine's own create/start/remove work counts as other).
const (
	contendedBusyPct  = 50
	contendedStealPct = 10
)

// hostMark is the host's state at one instant, for interference.
type hostMark struct {
	at          time.Time
	busy, steal uint64 // jiffies, all CPUs
	total       uint64
	self        time.Duration // the harness's own CPU
}

// jiffy is USER_HZ, 100 on every Linux ABI that matters.
const jiffy = 10 * time.Millisecond

func markHost() hostMark {
	m := hostMark{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		m.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return m
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := bytes.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || string(f[0]) != "cpu" {
		return m
	}
	v := make([]uint64, len(f))
	for i := 1; i < len(f); i++ {
		v[i], _ = strconv.ParseUint(string(f[i]), 10, 64)
	}
	m.busy = v[1] + v[2] + v[3] + v[6] + v[7]
	m.steal = v[8]
	m.total = m.busy + v[4] + v[5] + v[8]
	return m
}

func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := bytes.Fields(b)
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(string(f[0]), 64)
	return v
}

// siblings counts the other container cgroups beside this one (running
// containers of anyone on the engine), from the cpu hierarchy: a directory
// read, no engine call. Only directories named like this container's count
// (its name with another id): under the systemd driver its parent,
// system.slice, also holds every system service.
func siblings(cgroupRoot, path, id string) int {
	if cgroupRoot == "" || path == "" || id == "" {
		return 0
	}
	base := filepath.Base(path)
	prefix, suffix, ok := strings.Cut(base, id)
	if !ok {
		return 0
	}
	ents, err := os.ReadDir(filepath.Join(cgroupRoot, filepath.Dir(path)))
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() && name != base && len(name) == len(base) &&
			strings.HasPrefix(name, prefix) && strings.HasSuffix(name, suffix) {
			n++
		}
	}
	return n
}

// interference compares two marks around a start: the CPU that neither the
// container nor the harness used is other work on the host.
func interference(a, b hostMark, containerCPU time.Duration, others int) *result.HostLoad {
	wall := b.at.Sub(a.at)
	if wall <= 0 || b.total <= a.total {
		return nil
	}
	cores := runtime.NumCPU()
	capacity := float64(wall) * float64(cores)
	other := time.Duration(b.busy-a.busy)*jiffy - containerCPU - (b.self - a.self)
	if other < 0 {
		other = 0
	}
	h := &result.HostLoad{
		Load1:           load1(),
		OtherBusyPct:    round1(100 * float64(other) / capacity),
		StealPct:        round1(100 * float64(b.steal-a.steal) / float64(b.total-a.total)),
		OtherContainers: others,
	}
	h.Contended = h.OtherBusyPct > contendedBusyPct || h.StealPct > contendedStealPct
	return h
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// dropCaches writes back dirty pages and drops the page cache, dentries and
// inodes, so that the start reads its image from disk: the "cache: drop" level.
func dropCaches() error {
	syscall.Sync()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200); err != nil {
		return fmt.Errorf("cache: drop: %w (needs root)", err)
	}
	return nil
}

// CanDropCaches says why "cache: drop" cannot work here, or nil.
func CanDropCaches() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("cache: drop needs root (euid %d)", os.Geteuid())
	}
	f, err := os.OpenFile("/proc/sys/vm/drop_caches", os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("cache: drop: %w", err)
	}
	return f.Close()
}
