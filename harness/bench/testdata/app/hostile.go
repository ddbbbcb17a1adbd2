package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// hostile runs the modes that attack the host, or that need more than a
// plain server; it reports whether it handled mode.
func hostile(mode, sock string) bool {
	switch mode {
	case "leave":
		leave(filepath.Dir(sock))
		serveOK(sock, "left suid file and device node")
	case "symlink":
		// The socket's name, as a symlink to a host socket the harness would
		// reach if it followed it (the engine's, in the attack).
		os.MkdirAll(filepath.Dir(sock), 0o777)
		if err := os.Symlink(os.Getenv("TARGET"), sock); err != nil {
			fail("symlink: %v", err)
		}
		time.Sleep(time.Hour)
	case "headers":
		serveRaw(sock, hugeHeaders)
	case "flood":
		flood()
	case "forkbomb":
		forkbomb(sock)
	case "bomber":
		bomb()
	case "forkchild":
		select {}
	case "rofs":
		rofs(sock)
	case "privdrop":
		privdrop(sock)
	case "worker":
		worker()
	default:
		return false
	}
	return true
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "app: "+format+"\n", args...)
	os.Exit(2)
}

// listen binds the socket, readable and writable by anyone (a worker that
// dropped privileges still accepts on it).
func listen(sock string) net.Listener {
	os.MkdirAll(filepath.Dir(sock), 0o777)
	l, err := net.Listen("unix", sock)
	if err != nil {
		fail("%v", err)
	}
	os.Chmod(sock, 0o666)
	return l
}

func serveOK(sock, note string) {
	l := listen(sock)
	http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok %s\n", note)
	}))
}

// leave plants, in the socket dir that the host shares, a setuid-root copy
// of this program and a device node (the host's /dev/null numbers; the
// attack would use a disk's).
func leave(dir string) {
	exe, err := os.ReadFile("/proc/self/exe")
	if err != nil {
		fail("read self: %v", err)
	}
	suid := filepath.Join(dir, "suid")
	if err := os.WriteFile(suid, exe, 0o755); err != nil {
		fail("write: %v", err)
	}
	if err := os.Chown(suid, 0, 0); err != nil {
		fail("chown: %v", err)
	}
	if err := os.Chmod(suid, 0o4755|os.ModeSetuid); err != nil {
		fail("chmod: %v", err)
	}
	if err := unix.Mknod(filepath.Join(dir, "null"), unix.S_IFCHR|0o666, int(unix.Mkdev(1, 3))); err != nil {
		fail("mknod: %v", err)
	}
}

// serveRaw answers every connection with what write sends.
func serveRaw(sock string, write func(w io.Writer)) {
	l := listen(sock)
	for {
		c, err := l.Accept()
		if err != nil {
			continue
		}
		go func() {
			defer c.Close()
			bufio.NewReader(c).ReadString('\n')
			write(c)
		}()
	}
}

// hugeHeaders answers 200 with 10 MiB of headers.
func hugeHeaders(w io.Writer) {
	io.WriteString(w, "HTTP/1.1 200 OK\r\n")
	line := "X-Junk: " + strings.Repeat("a", 1000) + "\r\n"
	for n := 0; n < 10<<20; n += len(line) {
		if _, err := io.WriteString(w, line); err != nil {
			return
		}
	}
	io.WriteString(w, "\r\nok")
}

// flood writes to stdout as fast as it can, forever, and never binds.
func flood() {
	line := []byte(strings.Repeat("flood ", 170) + "\n")
	for {
		os.Stdout.Write(line)
	}
}

// forkbomb forks without bound through a helper process (the server's own
// runtime must keep its threads), then answers with how many it made.
func forkbomb(sock string) {
	l := listen(sock)
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = []string{"MODE=bomber"}
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		fail("bomber: %v", err)
	}
	report, _ := bufio.NewReader(out).ReadString('\n')
	http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok forked %s\n", strings.TrimSpace(report))
	}))
}

// bomb is the helper of forkbomb: children until the kernel says no.
func bomb() {
	n := 0
	var err error
	for {
		c := exec.Command("/proc/self/exe")
		c.Env = []string{"MODE=forkchild"}
		if err = c.Start(); err != nil {
			break
		}
		n++
	}
	fmt.Printf("%d (%v)\n", n, err)
	os.Stdout.Close()
	select {}
}

// rofs writes into the root file system: it must fail under a read-only
// root (exit 3 when it succeeds), while /tmp (a tmpfs) takes writes.
func rofs(sock string) {
	if err := os.WriteFile("/attack-was-here", []byte("x"), 0o644); err == nil {
		fmt.Fprintln(os.Stderr, "app: wrote into the root file system")
		os.Exit(3)
	}
	if err := os.WriteFile("/tmp/scratch", []byte("x"), 0o644); err != nil {
		fail("/tmp not writable: %v", err)
	}
	serveOK(sock, "root file system read-only")
}

// privdrop is a server like nginx: the master binds as root, then a worker
// drops to nobody (setgroups, setgid, setuid, as initgroups + setuid do)
// and serves on the inherited socket.
func privdrop(sock string) {
	l := listen(sock)
	f, err := l.(*net.UnixListener).File()
	if err != nil {
		fail("%v", err)
	}
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = []string{"MODE=worker"}
	cmd.ExtraFiles = []*os.File{f}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fail("worker: %v", err)
	}
}

func worker() {
	if err := syscall.Setgroups([]int{}); err != nil {
		fail("setgroups() failed: %v", err)
	}
	if err := syscall.Setgid(65534); err != nil {
		fail("setgid(65534) failed: %v", err)
	}
	if err := syscall.Setuid(65534); err != nil {
		fail("setuid(65534) failed: %v", err)
	}
	l, err := net.FileListener(os.NewFile(3, "listener"))
	if err != nil {
		fail("%v", err)
	}
	http.Serve(l, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok worker uid %d gid %d\n", os.Getuid(), os.Getgid())
	}))
}
