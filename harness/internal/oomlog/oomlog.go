// Package oomlog finds the kernel's own report of an OOM kill in its log
// (/dev/kmsg): proof that a container's process was killed by the memory
// cgroup when the engine did not say so.
//
// The engine learns of an OOM kill from an event that can be lost: on
// cgroup v2 the shim reads the container's memory.events when told it
// changed, and when the container is already gone by then the event is
// never sent (containerd issue 8893; CI's trixie cell, Docker 26 on
// cgroup v2 under emulation, saw an OOM-killed start with no flag even
// after 5 s of re-inspection). The kernel writes its report before it
// sends the SIGKILL, so by the time the harness sees the exit the report
// is in the log. Kubernetes' OOM watcher reads the same lines.
//
// The report's summary line (kernels 4.19 and later) names the victim's
// memory cgroup, which holds the container id with every cgroup driver:
//
//	oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=...,mems_allowed=0,oom_memcg=/docker/ID,task_memcg=/docker/ID,task=app,pid=7457,uid=0
//
// The kernel rate-limits that report (10 in 5 s by default): a harness that
// finds none has no proof either way. Reading /dev/kmsg needs CAP_SYSLOG
// when kernel.dmesg_restrict is 1.
package oomlog

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Device is the kernel log's device.
const Device = "/dev/kmsg"

// Kill is one OOM kill the kernel reported.
type Kill struct {
	// Constraint is the kernel's reason, CONSTRAINT_MEMCG for a cgroup's limit.
	Constraint string
	// MemCG is the cgroup whose limit was hit; TaskMemCG the victim's cgroup.
	MemCG, TaskMemCG string
	Task             string // the victim's command name
	PID              int
	// Since boot, the kernel's monotonic clock.
	At time.Duration
}

// Find reads the kernel log from its oldest record and returns the last OOM
// kill whose victim was in a memory cgroup whose path holds id (a container
// id). found is false when there is none; err when the log cannot be read.
func Find(id string) (k Kill, found bool, err error) {
	if id == "" {
		return Kill{}, false, errors.New("oomlog: empty id")
	}
	fd, err := syscall.Open(Device, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		return Kill{}, false, fmt.Errorf("oomlog: %s: %w", Device, err)
	}
	defer syscall.Close(fd)
	// Raw reads: os.File would hand a non-blocking device to the poller and
	// wait for more records instead of returning at the end of the log.
	return scan(func(b []byte) (int, error) { return syscall.Read(fd, b) }, id)
}

// scan reads records, one per call of read as /dev/kmsg returns them, until
// the log has no more (EAGAIN). A record overwritten while being reached
// (EPIPE) is skipped, as the kernel's own dmesg does.
func scan(read func([]byte) (int, error), id string) (k Kill, found bool, err error) {
	buf := make([]byte, 16<<10) // a record is at most 8 KiB with its dictionary
	for {
		n, err := read(buf)
		switch {
		case errors.Is(err, syscall.EAGAIN):
			return k, found, nil
		case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			return k, found, fmt.Errorf("oomlog: %s: %w", Device, err)
		case n == 0:
			return k, found, nil
		}
		if kill, ok := Parse(string(buf[:n])); ok && strings.Contains(kill.TaskMemCG, id) {
			k, found = kill, true
		}
	}
}

// Parse reads one /dev/kmsg record ("prio,seq,usec,flags;message\n" and
// dictionary lines) and returns the OOM kill its message reports, if it is
// the summary line of one.
func Parse(record string) (Kill, bool) {
	head, msg, ok := strings.Cut(record, ";")
	if !ok {
		return Kill{}, false
	}
	msg, _, _ = strings.Cut(msg, "\n")
	rest, ok := strings.CutPrefix(msg, "oom-kill:")
	if !ok {
		return Kill{}, false
	}
	var k Kill
	if f := strings.Split(head, ","); len(f) >= 3 {
		if us, err := strconv.ParseInt(f[2], 10, 64); err == nil {
			k.At = time.Duration(us) * time.Microsecond
		}
	}
	// The values up to task_memcg= are paths and lists; the command name
	// after task= may hold anything, so it ends at the last ",pid=".
	k.Constraint = field(rest, "constraint=", ",")
	k.MemCG = field(rest, ",oom_memcg=", ",task_memcg=")
	_, victim, _ := strings.Cut(rest, ",task_memcg=")
	memcg, task, ok := strings.Cut(victim, ",task=")
	if !ok || memcg == "" {
		return Kill{}, false
	}
	k.TaskMemCG = memcg
	if i := strings.LastIndex(task, ",pid="); i >= 0 {
		pid, _, _ := strings.Cut(task[i+len(",pid="):], ",")
		k.PID, _ = strconv.Atoi(pid)
		task = task[:i]
	}
	k.Task = task
	return k, true
}

// field returns what lies between the first start and the end after it.
func field(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return ""
	}
	s = s[i+len(start):]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return ""
}
