package bench

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coldstart/coldstart/harness/cgroup"
	"github.com/coldstart/coldstart/harness/result"
)

// Contention thresholds: a start is flagged when other work kept more than
// this share of the host's CPUs busy during it, or the hypervisor stole more
// than this share. "Other" excludes the container, the harness and the
// engine's own processes (dockerd, containerd, the start's shim and the runc
// it ran), so that a quiet host shows next to none.
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
	engine      time.Duration // the engine daemons' CPU (with their reaped children)
}

// jiffy is USER_HZ, 100 on every Linux ABI that matters.
const jiffy = 10 * time.Millisecond

// engineDaemons are the names of the engine's long-lived processes.
var engineDaemons = []string{"dockerd", "containerd"}

// enginePIDs finds the engine's daemons once per process: a /proc scan is
// too dear for every start. A daemon that restarts is found again (see
// markHost).
type enginePIDs struct {
	pids []int
}

func (e *enginePIDs) scan() {
	e.pids = e.pids[:0]
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return
	}
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		b, err := cgroup.ReadSmall("/proc/" + ent.Name() + "/comm")
		if err == nil && slices.Contains(engineDaemons, string(bytes.TrimSpace(b))) {
			e.pids = append(e.pids, pid)
		}
	}
}

// cpu sums the daemons' CPU; a daemon gone (restarted) triggers a rescan.
func (e *enginePIDs) cpu() time.Duration {
	var sum time.Duration
	for _, pid := range e.pids {
		t, _, ok := procCPU(pid)
		if !ok {
			e.scan()
			return e.cpu()
		}
		sum += t
	}
	return sum
}

// procCPU reads a process's CPU time with its reaped children's (utime,
// stime, cutime, cstime) and its parent, from /proc/PID/stat.
func procCPU(pid int) (cpu time.Duration, ppid int, ok bool) {
	b, err := cgroup.ReadShown("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')') // the command name may hold spaces
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(string(f[1]))
	var ticks uint64
	for _, k := range f[11:15] { // fields 14-17
		v, _ := strconv.ParseUint(string(k), 10, 64)
		ticks += v
	}
	return time.Duration(ticks) * jiffy, ppid, true
}

// shimCPU is the CPU of the shim that runs a container (the parent of its
// first process), with the runc it ran and reaped: engine work born with
// this start, so all of it counts. 0 when it cannot be found.
func shimCPU(procsFile string) time.Duration {
	// One read holds the first pid whole, the only line used here.
	b, err := cgroup.ReadShown(procsFile)
	if err != nil {
		return 0
	}
	first, _, _ := bytes.Cut(b, []byte("\n"))
	pid, err := strconv.Atoi(string(bytes.TrimSpace(first)))
	if err != nil {
		return 0
	}
	_, ppid, ok := procCPU(pid)
	if !ok || ppid <= 1 {
		return 0
	}
	cpu, _, _ := procCPU(ppid)
	return cpu
}

func markHost(engine *enginePIDs) hostMark {
	m := hostMark{at: time.Now()}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		m.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if engine != nil {
		m.engine = engine.cpu()
	}
	b, err := cgroup.ReadShown("/proc/stat")
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
	b, err := cgroup.ReadShown("/proc/loadavg")
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
// container, the harness nor the engine (daemons and this start's shim) used
// is other work on the host.
func interference(a, b hostMark, containerCPU, shim time.Duration, others int) *result.HostLoad {
	wall := b.at.Sub(a.at)
	if wall <= 0 || b.total <= a.total {
		return nil
	}
	cores := runtime.NumCPU()
	capacity := float64(wall) * float64(cores)
	engine := max(b.engine-a.engine, 0) + shim
	other := time.Duration(b.busy-a.busy)*jiffy - containerCPU - (b.self - a.self) - engine
	if other < 0 {
		other = 0
	}
	h := &result.HostLoad{
		Load1:           load1(),
		OtherBusyPct:    round1(100 * float64(other) / capacity),
		EngineBusyPct:   round1(100 * float64(engine) / capacity),
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
