package probe

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestFnLink applies Fn's agent's check to each kind of listener a
// function can create (fn-go's -mode variants, done here by hand).
func TestFnLink(t *testing.T) {
	dir := shortDir(t)
	outside := shortDir(t)
	sock := func(p string) {
		l, err := net.Listen("unix", p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
	}
	sock(filepath.Join(dir, "phonylsnr.sock"))
	sock(filepath.Join(outside, "phonylsnr.sock"))
	sock(filepath.Join(dir, "direct.sock"))
	os.WriteFile(filepath.Join(dir, "phony.txt"), []byte("x"), 0o644)
	links := map[string]string{
		"ok.sock":       "phonylsnr.sock",
		"dot.sock":      "./phonylsnr.sock",
		"abs.sock":      filepath.Join(dir, "phonylsnr.sock"),
		"outside.sock":  filepath.Join("..", filepath.Base(outside), "phonylsnr.sock"),
		"up.sock":       "..",
		"file.sock":     "phony.txt",
		"dangling.sock": "nothing.sock",
		"chain.sock":    "abs.sock",
	}
	for name, dest := range links {
		if err := os.Symlink(dest, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, want, err string }{
		{"ok.sock", "phonylsnr.sock", ""},
		{"dot.sock", "phonylsnr.sock", ""},
		{"direct.sock", "direct.sock", ""}, // a socket bound under the listener's name: Fn accepts it
		{"abs.sock", "", "abs.sock -> " + dir + "/phonylsnr.sock: invalid unix socket symlink, symlinks must be relative within the unix socket directory"},
		{"outside.sock", "", "symlinks must be relative within the unix socket directory"},
		{"up.sock", "", "up.sock -> ..: listener file is not a socket"},
		{"file.sock", "", "file.sock -> phony.txt: listener file is not a socket"},
		{"dangling.sock", "", "dangling.sock -> nothing.sock: unable to stat unix socket file"},
		{"chain.sock", "", "chain.sock -> abs.sock: a link to a link"},
		{"missing.sock", "", "error statting unix socket link file"},
	} {
		got, err := FnLink(dir, tc.name)
		switch {
		case tc.err == "" && (err != nil || got != filepath.Join(dir, tc.want)):
			t.Errorf("%s: %q %v, want %s", tc.name, got, err, tc.want)
		case tc.err != "" && (err == nil || !errors.Is(err, ErrContract) || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: %q %v, want a contract violation saying %q", tc.name, got, err, tc.err)
		}
	}
}

// workServer serves h on dir/app.sock after delay and counts the requests.
func workServer(t *testing.T, dir string, delay time.Duration, h http.HandlerFunc) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	go func() {
		time.Sleep(delay)
		l, err := net.Listen("unix", filepath.Join(dir, "app.sock"))
		if err != nil {
			t.Error(err)
			return
		}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			h(w, r)
		})}
		t.Cleanup(func() { srv.Close() })
		srv.Serve(l)
	}()
	return &n
}

var work = Request{Method: "POST", Path: "/work", Status: 200, Body: "work-done", Send: `{"n": 3}`,
	Headers: [][2]string{{"Content-Type", "application/json"}, {"Fn-Call-Id", "c1"}}}

// The work request goes once, with its body and headers, and may take
// longer than any health attempt would wait (here 700 ms): the first call
// can wait for an import. Until the socket listens, connects fail and are
// retried: the request never reached the app.
func TestCallOnceSlowAnswer(t *testing.T) {
	dir := shortDir(t)
	var got string
	n := workServer(t, dir, 80*time.Millisecond, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = r.Method + " " + r.URL.Path + " " + string(b) + " " + r.Header.Get("Content-Type") + " " + r.Header.Get("Fn-Call-Id")
		time.Sleep(700 * time.Millisecond)
		io.WriteString(w, `{"status": "work-done"}`)
	})
	t0 := time.Now()
	r, err := Call(context.Background(), filepath.Join(dir, "app.sock"), t0.Add(3*time.Second), nil, work)
	if err != nil {
		t.Fatalf("call: %v (%+v)", err, r)
	}
	if n.Load() != 1 || r.Attempts < 2 {
		t.Errorf("%d requests reached the app in %d attempts; want 1, after refused connects", n.Load(), r.Attempts)
	}
	if want := `POST /work {"n": 3} application/json c1`; got != want {
		t.Errorf("the app got %q, want %q", got, want)
	}
	if d := r.At.Sub(t0); d < 780*time.Millisecond || r.Status != 200 || r.Mono == 0 {
		t.Errorf("answered after %v with %d", d, r.Status)
	}
}

// Any other answer fails the call at once: it is not sent again.
func TestCallWrongAnswer(t *testing.T) {
	dir := shortDir(t)
	n := workServer(t, dir, 0, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "later", 503) })
	time.Sleep(50 * time.Millisecond)
	t0 := time.Now()
	r, err := Call(context.Background(), filepath.Join(dir, "app.sock"), t0.Add(2*time.Second), nil, work)
	if !errors.Is(err, ErrCallFailed) || r.Status != 503 || n.Load() != 1 || time.Since(t0) > time.Second {
		t.Fatalf("err %v status %d requests %d after %v; want a failed call, once, at once", err, r.Status, n.Load(), time.Since(t0))
	}
	// The right status without the expected text is no better.
	dir = shortDir(t)
	workServer(t, dir, 0, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "nope") })
	time.Sleep(50 * time.Millisecond)
	r, err = Call(context.Background(), filepath.Join(dir, "app.sock"), time.Now().Add(2*time.Second), nil, work)
	if !errors.Is(err, ErrCallFailed) || r.Status != 200 || !strings.Contains(err.Error(), `without "work-done"`) {
		t.Errorf("err %v status %d", err, r.Status)
	}
}

// A call that is never answered ends at the deadline, after one request;
// an exit ends it at once.
func TestCallDeadlineAndExit(t *testing.T) {
	dir := shortDir(t)
	n := workServer(t, dir, 0, func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	time.Sleep(50 * time.Millisecond)
	p := filepath.Join(dir, "app.sock")
	t0 := time.Now()
	r, err := Call(context.Background(), p, t0.Add(600*time.Millisecond), nil, work)
	if !errors.Is(err, ErrDeadline) || n.Load() != 1 || r.Attempts != 1 {
		t.Fatalf("err %v, %d requests in %d attempts; want the deadline after one", err, n.Load(), r.Attempts)
	}
	if d := time.Since(t0); d < 550*time.Millisecond || d > 1500*time.Millisecond {
		t.Errorf("ended after %v, want about 600 ms", d)
	}
	exited := make(chan struct{})
	time.AfterFunc(100*time.Millisecond, func() { close(exited) })
	t0 = time.Now()
	if _, err := Call(context.Background(), p, t0.Add(5*time.Second), exited, work); !errors.Is(err, ErrExited) || time.Since(t0) > 2*time.Second {
		t.Errorf("err %v after %v, want ErrExited at once", err, time.Since(t0))
	}
}

// WaitSocket returns at the name's create event, a symlink's included, and
// sends nothing.
func TestWaitSocketLink(t *testing.T) {
	dir := shortDir(t)
	w, err := Arm(dir, "lsnr.sock")
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	t0 := time.Now()
	time.AfterFunc(60*time.Millisecond, func() { os.Symlink("phonylsnr.sock", filepath.Join(dir, "lsnr.sock")) })
	at, err := w.WaitSocket(context.Background(), t0.Add(2*time.Second), nil)
	if err != nil || at.Sub(t0) < 50*time.Millisecond {
		t.Fatalf("at %v err %v", at.Sub(t0), err)
	}
}

// The work request, like the health probe, connects only to a socket file:
// a symlink put in its place is refused at once, never followed or retried.
func TestCallRefusesSymlink(t *testing.T) {
	dir := shortDir(t)
	n := workServer(t, dir, 0, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "work-done") })
	time.Sleep(50 * time.Millisecond)
	link := filepath.Join(dir, "link.sock")
	if err := os.Symlink("app.sock", link); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	r, err := Call(context.Background(), link, t0.Add(2*time.Second), nil, work)
	if !errors.Is(err, ErrCallFailed) || !errors.Is(err, ErrRefused) || r.Attempts != 1 || n.Load() != 0 || time.Since(t0) > time.Second {
		t.Fatalf("err %v attempts %d requests %d after %v; want the refusal, once, at once, nothing sent", err, r.Attempts, n.Load(), time.Since(t0))
	}
}
