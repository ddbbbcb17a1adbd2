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

	"golang.org/x/sys/unix"
)

func mono() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func main() {
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
