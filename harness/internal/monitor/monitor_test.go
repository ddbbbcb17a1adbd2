package monitor

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWaiting(t *testing.T) {
	for line, want := range map[string]bool{
		"35 0x2c99f697f00 0x0 0x0 0x0 0xa 0x0 0x2c99f697f00 0x480f97\n":   true,  // nanosleep
		"202 0x14ad0c0 0x80 0x0 0xc000123f00 0x0 0x0 0x7ffc 0x481563\n":   true,  // futex with a timeout
		"202 0x2c99f6ac960 0x80 0x0 0x0 0x0 0x0 0x2c99f6c7e38 0x481563\n": false, // futex without one
		"281 0x4 0x7ffc 0x80 0x3e8 0x0 0x0 0x7ffc 0x4033\n":               false, // epoll_pwait
		"0 0x7 0x2c99f6da000 0x200 0x0 0x0 0x0 0x2c99f710b68 0x40866e\n":  false, // read
		"running\n": false,
	} {
		if got := waiting(line); got != want {
			t.Errorf("waiting(%q) = %v, want %v", line, got, want)
		}
	}
}

// Relax finds the monitor: while other goroutines make system calls, the
// thread it chose is seen in nanosleep (only the monitor sleeps so) and no
// other thread is; its slack is the one asked for.
func TestRelax(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setting another thread's timer slack needs CAP_SYS_NICE (run as root, as CI does)")
	}
	prev := runtime.GOMAXPROCS(1) // as the harness runs
	defer runtime.GOMAXPROCS(prev)
	tid, undo, err := Relax(time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		undo()
		if b, _ := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/timerslack_ns"); strings.TrimSpace(string(b)) == "1000000" {
			t.Errorf("undo left the slack at 1 ms")
		}
	}()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/timerslack_ns")
	if err != nil || strings.TrimSpace(string(b)) != "1000000" {
		t.Fatalf("thread %d: slack %q, %v", tid, b, err)
	}
	stop := make(chan struct{})
	go func() { // keeps the monitor polling: a system call after every idle spell
		for {
			select {
			case <-stop:
				return
			default:
			}
			syscall.Getppid()
			time.Sleep(50 * time.Microsecond)
		}
	}()
	defer close(stop)
	sleeps := map[int]int{}
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end); {
		ents, _ := os.ReadDir("/proc/self/task")
		for _, e := range ents {
			b, err := os.ReadFile("/proc/self/task/" + e.Name() + "/syscall")
			if err == nil && strings.HasPrefix(string(b), "35 ") {
				n, _ := strconv.Atoi(e.Name())
				sleeps[n]++
			}
		}
	}
	if sleeps[tid] == 0 {
		t.Errorf("thread %d never seen in nanosleep: not the monitor? (%v)", tid, sleeps)
	}
	for n := range sleeps {
		if n != tid {
			t.Errorf("thread %d also sleeps in nanosleep (%v): the monitor may be another thread", n, sleeps)
		}
	}
}
