// Command null is the calibration workload: it binds, listens and answers,
// nothing else: no HTTP library, no goroutines of its own. Its ready time
// under a suite's limits is the platform's share of a cold start (engine,
// runtime, CFS); an app's share is its ready time minus this one.
package main

import (
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

func main() {
	sock := os.Getenv("SOCKET")
	if sock == "" {
		sock = "/run/app/app.sock"
	}
	os.MkdirAll(filepath.Dir(sock), 0o777)
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		os.Exit(1)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		os.Stderr.WriteString("null: bind: " + err.Error() + "\n")
		os.Exit(1)
	}
	syscall.Chmod(sock, 0o666)
	if err := syscall.Listen(fd, 64); err != nil {
		os.Exit(1)
	}
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	listen := "ok listen_mono_ns=" + strconv.FormatInt(ts.Nano(), 10)
	const head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: "
	buf := make([]byte, 4096)
	for {
		c, _, err := syscall.Accept(fd)
		if err != nil {
			continue
		}
		// One read is enough for a health request; the answer does not depend on it.
		syscall.Read(c, buf)
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
		body := listen + " answer_mono_ns=" + strconv.FormatInt(ts.Nano(), 10) + "\n"
		syscall.Write(c, []byte(head+strconv.Itoa(len(body))+"\r\n\r\n"+body))
		syscall.Close(c)
	}
}
