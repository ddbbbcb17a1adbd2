// Command go-hello is the static Go baseline: an HTTP server on a Unix socket
// that answers "ok" at once. Its answer carries the CLOCK_MONOTONIC time at
// which it started listening (containers share the host's monotonic clock),
// which lets the harness measure its own detection lag; and the instant its
// handler ran, which separates the app's share of that lag from the detector's.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

func mono() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// burn spends ms of the process's own CPU time before it listens: a planted
// start-up cost for showing what the commit gate catches (BURN_CPU_MS; under
// a 10% quota 10 ms of CPU is about one more 100 ms CFS period).
func burn(ms int) {
	cpu := func() time.Duration {
		var ts unix.Timespec
		unix.ClockGettime(unix.CLOCK_PROCESS_CPUTIME_ID, &ts)
		return time.Duration(ts.Nano())
	}
	end := cpu() + time.Duration(ms)*time.Millisecond
	for x := 0; cpu() < end; x++ {
	}
}

func main() {
	if ms, err := strconv.Atoi(os.Getenv("BURN_CPU_MS")); err == nil && ms > 0 {
		burn(ms)
	}
	// DELAY_MS: a planted wait before listening (wall time, no CPU), for
	// measuring what the commit gate catches of a small slowdown.
	if ms, err := strconv.Atoi(os.Getenv("DELAY_MS")); err == nil && ms > 0 {
		time.Sleep(time.Duration(ms) * time.Millisecond)
	}
	sock := os.Getenv("SOCKET")
	if sock == "" {
		sock = "/run/app/app.sock"
	}
	os.MkdirAll(filepath.Dir(sock), 0o777)
	l, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, "go-hello:", err)
		os.Exit(1)
	}
	listened := mono()
	// Any local user may connect: the harness need not run as the app's user.
	os.Chmod(sock, 0o666)
	err = http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// answer_mono_ns: when the handler ran, so that lag splits into the
		// app's part (listen -> answer, e.g. CFS throttling) and the detector's.
		fmt.Fprintf(w, "ok listen_mono_ns=%d answer_mono_ns=%d\n", listened, mono())
	}))
	fmt.Fprintln(os.Stderr, "go-hello:", err)
	os.Exit(1)
}
