// Package monitor relaxes the Go runtime's monitor thread (sysmon) for a
// harness that mostly waits.
//
// sysmon wakes on the first system call after the program was idle and then
// polls every 20 us for as long as the program is busy. A start keeps the
// harness busy for a few milliseconds in a dozen bursts, so sysmon sleeps
// and wakes 15-20 times per start; on a virtual machine each such sleep
// costs a timer exit and two context switches: about a seventh of the
// harness's CPU per start (perf, 2026-12-07). A larger timer slack on
// sysmon's thread lets the kernel stretch its 20 us sleeps, so it polls
// less often; its duties (taking a P back from a blocking system call,
// preempting a goroutine that ran 10 ms) come up to the slack later, and
// the harness's own timers, on other threads, keep their precision.
package monitor

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Relax sets the timer slack of the runtime's monitor thread and returns its
// thread id and a func that puts the slack it had back. The monitor is the first thread the runtime starts (runtime.main
// starts it before any package initialisation), told apart by what it waits
// in: nanosleep, or a futex wait with a timeout (every other idle thread
// waits on a futex without one, or in epoll). When no thread fits, nothing is
// changed. Setting another thread's slack needs CAP_SYS_NICE.
func Relax(slack time.Duration) (tid int, undo func(), err error) {
	if tid, err = find(); err != nil {
		return 0, nil, err
	}
	path := "/proc/" + strconv.Itoa(tid) + "/timerslack_ns"
	old, err := os.ReadFile(path)
	if err != nil {
		return 0, nil, fmt.Errorf("monitor thread %d: %w", tid, err)
	}
	if err := os.WriteFile(path, []byte(strconv.FormatInt(slack.Nanoseconds(), 10)), 0); err != nil {
		return 0, nil, fmt.Errorf("monitor thread %d: %w", tid, err)
	}
	return tid, func() { os.WriteFile(path, old, 0) }, nil
}

// errNotFound: no thread could be told to be the monitor.
var errNotFound = errors.New("the runtime's monitor thread was not found")

func find() (int, error) {
	pid := os.Getpid()
	ents, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return 0, err
	}
	tid := 0
	for _, e := range ents {
		n, err := strconv.Atoi(e.Name())
		// Thread ids grow from the process id; one that wrapped around
		// below it cannot be ordered, and then nothing is changed.
		if err == nil && n > pid && (tid == 0 || n < tid) {
			tid = n
		}
	}
	if tid == 0 {
		return 0, errNotFound
	}
	// The monitor may be between two sleeps: look a few times.
	for range 20 {
		b, err := os.ReadFile("/proc/self/task/" + strconv.Itoa(tid) + "/syscall")
		if err != nil {
			return 0, err
		}
		if waiting(string(b)) {
			return tid, nil
		}
		time.Sleep(100 * time.Microsecond)
	}
	return 0, fmt.Errorf("%w: thread %d does not wait as it does", errNotFound, tid)
}

// waiting says whether a thread's /proc/.../syscall line is the monitor's
// wait: nanosleep (35) or clock_nanosleep (230), or futex (202) with a
// timeout (its fourth argument).
func waiting(line string) bool {
	f := strings.Fields(line)
	switch {
	case len(f) < 5:
		return false
	case f[0] == "35" || f[0] == "230":
		return true
	}
	return f[0] == "202" && f[4] != "0x0"
}
