package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func shortDir(t *testing.T) string {
	d, err := os.MkdirTemp("/tmp", "csp-") // t.TempDir() paths can exceed sun_path
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

var req = Request{Method: "GET", Path: "/", Status: 200, Body: "ok", Timeout: 200 * time.Millisecond}

// serve binds after delay and answers 500 for the first fail requests.
func serve(t *testing.T, dir string, delay time.Duration, fail int64) {
	t.Helper()
	go func() {
		time.Sleep(delay)
		l, err := net.Listen("unix", filepath.Join(dir, "app.sock"))
		if err != nil {
			t.Error(err)
			return
		}
		var n atomic.Int64
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if n.Add(1) <= fail {
				http.Error(w, "no", 500)
				return
			}
			fmt.Fprint(w, "ok listen_mono_ns=123")
		})}
		t.Cleanup(func() { srv.Close() })
		srv.Serve(l)
	}()
}

func TestWaitHealthyAfterFailures(t *testing.T) {
	dir := shortDir(t)
	w, err := Arm(dir, "app.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	t0 := time.Now()
	serve(t, dir, 50*time.Millisecond, 3)
	r, err := w.Wait(context.Background(), t0.Add(2*time.Second), nil, req)
	if err != nil {
		t.Fatalf("wait: %v (%+v)", err, r)
	}
	if r.SocketAt.Before(t0.Add(40*time.Millisecond)) || r.ReadyAt.Before(r.SocketAt) {
		t.Errorf("socket at %v, ready at %v after t0", r.SocketAt.Sub(t0), r.ReadyAt.Sub(t0))
	}
	// Three 500s, then the 200; a connect between bind() and listen() can add a refused attempt.
	if r.Attempts < 4 || r.LastStatus != 200 {
		t.Errorf("attempts %d last status %d, want >= 4 and 200", r.Attempts, r.LastStatus)
	}
	if v, ok := ListenStamp(r.Body); !ok || v != 123 {
		t.Errorf("listen stamp %v %v", v, ok)
	}
}

func TestWaitDeadlineWithoutSocket(t *testing.T) {
	dir := shortDir(t)
	w, _ := Arm(dir, "app.sock")
	defer w.Close()
	t0 := time.Now()
	r, err := w.Wait(context.Background(), t0.Add(150*time.Millisecond), nil, req)
	if !errors.Is(err, ErrDeadline) || !r.SocketAt.IsZero() {
		t.Fatalf("err %v socket %v, want deadline and no socket", err, r.SocketAt)
	}
}

func TestWaitExited(t *testing.T) {
	dir := shortDir(t)
	w, _ := Arm(dir, "app.sock")
	defer w.Close()
	exited := make(chan struct{})
	time.AfterFunc(30*time.Millisecond, func() { close(exited) })
	_, err := w.Wait(context.Background(), time.Now().Add(2*time.Second), exited, req)
	if !errors.Is(err, ErrExited) {
		t.Fatalf("err %v, want ErrExited", err)
	}
}

// A socket that is bound but never answers: attempts time out, the deadline ends it.
func TestWaitBoundNeverAnswers(t *testing.T) {
	dir := shortDir(t)
	w, _ := Arm(dir, "app.sock")
	defer w.Close()
	l, err := net.Listen("unix", filepath.Join(dir, "app.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close() // listening, never accepting: connects succeed, requests hang
	r, err := w.Wait(context.Background(), time.Now().Add(700*time.Millisecond), nil, req)
	if !errors.Is(err, ErrDeadline) || r.SocketAt.IsZero() || r.Attempts < 2 {
		t.Fatalf("err %v socket %v attempts %d", err, r.SocketAt, r.Attempts)
	}
}

func TestListenStamp(t *testing.T) {
	for in, want := range map[string]int64{"ok listen_mono_ns=42\n": 42, "ok": 0, "listen_mono_ns=": 0, "listen_mono_ns=-5": 0, "x listen_mono_ns=99999999999999999999": 0} {
		v, ok := ListenStamp(in)
		if v != want || ok != (want != 0) {
			t.Errorf("%q: %v %v, want %v", in, v, ok, want)
		}
	}
}

// A symlink named like the socket, pointing at another live socket on the
// host (the engine's, in the attack), is refused: the target never sees a
// connection, and the miss says why.
func TestWaitRefusesSymlink(t *testing.T) {
	dir, other := shortDir(t), shortDir(t)
	target := filepath.Join(other, "engine.sock")
	l, err := net.Listen("unix", target)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int64
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"))
			c.Close()
		}
	}()
	w, _ := Arm(dir, "app.sock")
	defer w.Close()
	if err := os.Symlink(target, filepath.Join(dir, "app.sock")); err != nil {
		t.Fatal(err)
	}
	r, err := w.Wait(context.Background(), time.Now().Add(300*time.Millisecond), nil, req)
	if !errors.Is(err, ErrDeadline) || !errors.Is(r.LastErr, ErrNotSocket) {
		t.Fatalf("err %v, last %v: want the deadline after refusing the symlink", err, r.LastErr)
	}
	if n := accepted.Load(); n != 0 {
		t.Errorf("the symlink's target got %d connections", n)
	}
	// A regular file is refused the same way.
	os.Remove(filepath.Join(dir, "app.sock"))
	os.WriteFile(filepath.Join(dir, "app.sock"), nil, 0o644)
	if _, err := SocketFile(filepath.Join(dir, "app.sock")); !errors.Is(err, ErrNotSocket) {
		t.Errorf("regular file: %v, want ErrNotSocket", err)
	}
}

// rawServer answers every connection with resp, written once.
func rawServer(t *testing.T, dir string, resp func(c net.Conn)) {
	t.Helper()
	l, err := net.Listen("unix", filepath.Join(dir, "app.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.Read(make([]byte, 4096))
				resp(c)
			}()
		}
	}()
}

// An answer with 10 MiB of headers costs one 16 KiB read per attempt.
func TestHeadersCapped(t *testing.T) {
	dir := shortDir(t)
	var written atomic.Int64
	rawServer(t, dir, func(c net.Conn) {
		c.Write([]byte("HTTP/1.1 200 OK\r\n"))
		line := []byte("X-Junk: " + string(make([]byte, 1000)) + "\r\n")
		for i := range line[8 : len(line)-2] {
			line[8+i] = 'a'
		}
		for n := 0; n < 10<<20; n += len(line) {
			if _, err := c.Write(line); err != nil {
				return
			}
			written.Add(int64(len(line)))
		}
	})
	status, _, err := attempt(context.Background(), filepath.Join(dir, "app.sock"), req)
	if err == nil || status != 0 || !strings.Contains(err.Error(), "headers over 16 KiB") {
		t.Fatalf("status %d err %v, want the header cap", status, err)
	}
	time.Sleep(50 * time.Millisecond)
	if w := written.Load(); w >= 10<<20 {
		t.Errorf("the server wrote all %d bytes: the probe kept reading", w)
	}
}

// A body past the cap is cut, not read whole.
func TestBodyCapped(t *testing.T) {
	dir := shortDir(t)
	rawServer(t, dir, func(c net.Conn) {
		c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\nok"))
		c.Write(make([]byte, 1<<20-2))
	})
	status, body, err := attempt(context.Background(), filepath.Join(dir, "app.sock"), req)
	if err != nil || status != 200 || len(body) != MaxBodyBytes || !strings.HasPrefix(body, "ok") {
		t.Fatalf("status %d body %d bytes err %v, want 200 and %d bytes", status, len(body), err, MaxBodyBytes)
	}
}

// A refusal is kept for the miss even when later attempts fail otherwise
// (an app stuck writing headers stops accepting; its last attempts time
// out or are cut): the record says what the probe refused.
func TestRefusalKeptPastLaterFailures(t *testing.T) {
	dir := shortDir(t)
	w, _ := Arm(dir, "app.sock")
	defer w.Close()
	var n atomic.Int64
	rawServer(t, dir, func(c net.Conn) {
		if n.Add(1) > 1 {
			return // later connections: closed without an answer
		}
		c.Write([]byte("HTTP/1.1 200 OK\r\n"))
		junk := []byte("X-Junk: " + strings.Repeat("a", 1000) + "\r\n")
		for i := 0; i < 64; i++ {
			if _, err := c.Write(junk); err != nil {
				return
			}
		}
	})
	r, err := w.Wait(context.Background(), time.Now().Add(300*time.Millisecond), nil, req)
	if !errors.Is(err, ErrDeadline) || r.Attempts < 2 {
		t.Fatalf("err %v attempts %d: want the deadline after several attempts", err, r.Attempts)
	}
	if r.Refusals != 1 || !errors.Is(r.Refused, ErrRefused) || !strings.Contains(r.Refused.Error(), "headers over 16 KiB") {
		t.Errorf("refusals %d, refused %v: want the header refusal kept", r.Refusals, r.Refused)
	}
	if r.LastErr == nil || errors.Is(r.LastErr, ErrRefused) {
		t.Errorf("last error %v: want the later, non-refusal failure", r.LastErr)
	}
}
