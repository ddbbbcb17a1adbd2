// Command app is the test workload: one static binary whose behaviour the
// MODE variable selects, so each test can provoke one outcome (WORK, the
// work path's: a serving outcome). Some modes
// are attacks on the host through what a container shares with it (see
// hostile.go); privdrop is a server that drops privileges in its worker as
// nginx does.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

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
	if hostile(os.Getenv("MODE"), sock) {
		return
	}
	switch os.Getenv("MODE") {
	case "nosocket":
		time.Sleep(time.Hour)
	case "exit1":
		time.Sleep(100 * time.Millisecond)
		fmt.Fprintln(os.Stderr, "app: giving up on purpose")
		os.Exit(1)
	case "oom":
		var keep [][]byte
		for i := 0; i < 400; i++ { // 400 MiB, far past a 128m limit
			b := make([]byte, 1<<20)
			for j := range b {
				b[j] = byte(j)
			}
			keep = append(keep, b)
		}
		fmt.Println(len(keep))
		time.Sleep(time.Hour)
	}
	os.MkdirAll(filepath.Dir(sock), 0o777)
	l, err := net.Listen("unix", sock)
	if err != nil {
		fmt.Fprintln(os.Stderr, "app:", err)
		os.Exit(2)
	}
	listened := mono()
	os.Chmod(sock, 0o666)
	if os.Getenv("MODE") == "bindnoanswer" {
		for {
			c, err := l.Accept()
			if err != nil {
				continue
			}
			go func() { // read and never answer
				b := make([]byte, 4096)
				for {
					if _, err := c.Read(b); err != nil {
						return
					}
				}
			}()
		}
	}
	bad, _ := strconv.Atoi(os.Getenv("FAIL_FIRST"))
	var n atomic.Int64
	http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= int64(bad) {
			http.Error(w, "warming up", http.StatusInternalServerError)
			return
		}
		if r.URL.Path == "/work" && work(w, l) {
			return
		}
		fmt.Fprintf(w, "ok listen_mono_ns=%d\n", listened)
		if os.Getenv("WORK") == "exit" {
			// Healthy once, then gone before any work request can connect.
			l.Close()
			go func() { time.Sleep(200 * time.Millisecond); os.Exit(3) }()
		}
	}))
	select {} // WORK=exit: the answer goes out, then the exit above
}

// work answers the work path as WORK says: "fail" with a 500, "hang" never;
// otherwise (false) like any other path.
func work(w http.ResponseWriter, l net.Listener) bool {
	switch os.Getenv("WORK") {
	case "fail":
		http.Error(w, "work failed", http.StatusInternalServerError)
	case "hang":
		time.Sleep(time.Hour)
	default:
		return false
	}
	return true
}
