// Package probe detects readiness of an app on a Unix socket: an inotify
// watch on the socket's host directory, armed before the container starts,
// then connect + HTTP request retries until the expected answer or the
// deadline. It knows nothing of Docker.
package probe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Request is the health request (or the work request) and what counts as
// the expected answer.
type Request struct {
	Method  string
	Path    string
	Status  int
	Body    string        // substring the answer's body must contain; "" = any
	Timeout time.Duration // per attempt; above the 100 ms CFS period or a throttled app looks dead
	// Socket opens the file to connect to and refuses anything that is not
	// a socket the app made; nil is SocketFile. A mode with another
	// contract (a socket reached through a relative symlink, as Fn's is)
	// brings its own check.
	Socket func(path string) (*os.File, error)
	// Send is the request body (sent with Content-Length) and Headers the
	// request's own headers, after the harness's Host, User-Agent and
	// Connection: close.
	Send    string
	Headers [][2]string
}

// Caps on what one attempt reads: an app answering with endless headers
// or body costs the harness a bounded read.
const (
	MaxHeaderBytes = 16 << 10
	MaxBodyBytes   = 64 << 10
)

// ErrNotSocket: the path the app was to bind is not a socket file.
var ErrNotSocket = errors.New("not a socket")

// ErrRefused marks an attempt the probe itself refused to go on with
// (a socket name that is not a socket, an answer over the caps).
var ErrRefused = errors.New("refused")

// SocketFile opens path without following it (O_PATH|O_NOFOLLOW) and
// refuses anything but a socket: a symlink named like the socket (to the
// engine's socket, say) is never followed. The probe connects through the
// returned descriptor, so what was checked is what it dials.
func SocketFile(path string) (*os.File, error) {
	fd, err := unix.Open(path, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		unix.Close(fd)
		what := "a file of mode " + strconv.FormatUint(uint64(st.Mode&unix.S_IFMT), 8)
		switch st.Mode & unix.S_IFMT {
		case unix.S_IFLNK:
			what = "a symlink"
		case unix.S_IFREG:
			what = "a regular file"
		case unix.S_IFDIR:
			what = "a directory"
		}
		return nil, fmt.Errorf("%s is %s, %w: %w (the probe connects only to a socket file the app made)", filepath.Base(path), what, ErrNotSocket, ErrRefused)
	}
	return os.NewFile(uintptr(fd), path), nil
}

// Result is what one wait saw. Times are on the monotonic clock.
type Result struct {
	SocketAt   time.Time // zero if the socket never appeared
	ReadyAt    time.Time // zero if never healthy
	ReadyMono  int64     // CLOCK_MONOTONIC ns at ReadyAt, comparable with stamps taken in containers
	Attempts   int       // HTTP attempts (connects included)
	LastStatus int       // last HTTP status received
	LastErr    error     // last attempt's error, for misses
	Refused    error     // first attempt the probe refused (ErrRefused), kept when later attempts fail otherwise
	Refusals   int       // attempts refused
	Body       string    // body of the healthy answer (bounded), for apps that report timestamps
}

// Ended says why Wait returned without a healthy answer.
var (
	ErrDeadline = errors.New("deadline exceeded")
	ErrExited   = errors.New("exited before ready")
)

// Watcher is one inotify instance that serves many watches in turn: a run
// arms one watch per start on the same instance, so that no start pays for
// creating and releasing an instance (the kernel's release waits for an SRCU
// grace period, ~9 ms here, and costs CPU).
type Watcher struct {
	f       *os.File
	mu      sync.Mutex
	watches map[int32]*Watch
	err     error // why the reader stopped
}

// NewWatcher opens an inotify instance and starts reading its events.
func NewWatcher() (*Watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	w := &Watcher{f: os.NewFile(uintptr(fd), "inotify"), watches: map[int32]*Watch{}}
	go w.read()
	return w, nil
}

// Close releases the instance, in the background: see Watcher.
func (w *Watcher) Close() error {
	go w.f.Close()
	return nil
}

// read dispatches events to the watches until the instance is closed. An
// overflow means lost events: every watch then looks for its file itself.
func (w *Watcher) read() {
	buf := make([]byte, 4096)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			w.mu.Lock()
			w.err = err
			for _, wt := range w.watches {
				wt.signal()
			}
			w.mu.Unlock()
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			end := off + unix.SizeofInotifyEvent + int(ev.Len)
			if end > n {
				break
			}
			name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:end], "\x00"))
			w.mu.Lock()
			if ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				for _, wt := range w.watches {
					wt.signal()
				}
			} else if wt := w.watches[ev.Wd]; wt != nil && wt.name == name {
				wt.signal()
			}
			w.mu.Unlock()
			off = end
		}
	}
}

// Watch is an armed readiness watch on one socket's directory.
type Watch struct {
	w          *Watcher
	own        bool // the watcher is this watch's alone (Arm)
	wd         int32
	path, name string
	once       sync.Once
	created    chan struct{} // closed when the name appeared (or events were lost)
}

func (wt *Watch) signal() { wt.once.Do(func() { close(wt.created) }) }

// Arm starts watching dir for the socket file name. Call it before the
// container starts: a fast app can be listening before the start call returns.
func (w *Watcher) Arm(dir, name string) (*Watch, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return nil, fmt.Errorf("inotify: %w", w.err)
	}
	wd, err := unix.InotifyAddWatch(int(w.f.Fd()), dir, unix.IN_CREATE|unix.IN_MOVED_TO)
	if err != nil {
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	wt := &Watch{w: w, wd: int32(wd), path: filepath.Join(dir, name), name: name, created: make(chan struct{})}
	w.watches[wt.wd] = wt
	return wt, nil
}

// Arm watches dir for name on an inotify instance of its own, for a single
// wait; Close releases both.
func Arm(dir, name string) (*Watch, error) {
	w, err := NewWatcher()
	if err != nil {
		return nil, err
	}
	wt, err := w.Arm(dir, name)
	if err != nil {
		w.Close()
		return nil, err
	}
	wt.own = true
	return wt, nil
}

// Close removes the watch (and its watcher, when it has one of its own).
func (wt *Watch) Close() error {
	w := wt.w
	w.mu.Lock()
	if w.watches[wt.wd] == wt {
		delete(w.watches, wt.wd)
		// The directory may be gone already: the kernel dropped the watch then.
		unix.InotifyRmWatch(int(w.f.Fd()), uint32(wt.wd))
	}
	w.mu.Unlock()
	if wt.own {
		return w.Close()
	}
	return nil
}

// Wait blocks until the app answers healthy, the deadline passes, or exited
// is closed (the container ended).
func (w *Watch) Wait(ctx context.Context, deadline time.Time, exited <-chan struct{}, req Request) (Result, error) {
	var r Result
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	at, err := w.appeared(ctx, dctx, exited)
	r.SocketAt = at
	if err != nil {
		return r, err
	}

	// Phase 2: connect + request until healthy. Between bind() and listen()
	// connects are refused, so retry with a short pause.
	pause := time.Millisecond
	for {
		select {
		case <-exited:
			return r, ErrExited
		default:
		}
		if dctx.Err() != nil {
			return r, endErr(ctx)
		}
		r.Attempts++
		status, body, err := attempt(dctx, w.path, req)
		if err == nil {
			r.LastStatus = status
			if status == req.Status && (req.Body == "" || strings.Contains(body, req.Body)) {
				r.ReadyAt, r.ReadyMono = time.Now(), monoNow()
				r.Body = body
				r.LastErr = nil
				return r, nil
			}
			r.LastErr = fmt.Errorf("answered %d", status)
			if req.Body != "" && status == req.Status {
				r.LastErr = fmt.Errorf("answered %d without %q in the body", status, req.Body)
			}
		} else if dctx.Err() == nil || r.LastErr == nil {
			if errors.Is(err, ErrRefused) {
				r.Refusals++
				if r.Refused == nil {
					r.Refused = err
				}
			}
			// An attempt cut short by the deadline says nothing about the
			// app: the miss keeps the last attempt that ran its course.
			r.LastErr = err
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-exited:
			t.Stop()
			return r, ErrExited
		case <-dctx.Done():
			t.Stop()
			return r, endErr(ctx)
		}
	}
}

// WaitSocket blocks until the socket's name appears in the directory (the
// create event: at bind() for a socket, at symlink() for a link), the
// deadline passes or exited is closed; it sends no request.
func (w *Watch) WaitSocket(ctx context.Context, deadline time.Time, exited <-chan struct{}) (time.Time, error) {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	return w.appeared(ctx, dctx, exited)
}

// appeared is the first phase of a wait: the name appears.
func (w *Watch) appeared(ctx, dctx context.Context, exited <-chan struct{}) (time.Time, error) {
	if _, err := os.Lstat(w.path); err == nil {
		return time.Now(), nil
	}
	select {
	case <-w.created:
		if _, err := os.Lstat(w.path); err != nil {
			return time.Time{}, errors.New("inotify watch failed")
		}
		return time.Now(), nil
	case <-exited:
		return time.Time{}, ErrExited
	case <-dctx.Done():
		return time.Time{}, endErr(ctx)
	}
}

func endErr(parent context.Context) error {
	if parent.Err() != nil {
		return parent.Err()
	}
	return ErrDeadline
}

// attempt performs one request on a fresh connection: a hand-written
// HTTP/1.1 exchange (request line, Host, Connection: close), which costs a
// fraction of an http.Transport's per-connection goroutines and buffers.
func attempt(ctx context.Context, path string, req Request) (int, string, error) {
	actx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	open := req.Socket
	if open == nil {
		open = SocketFile
	}
	sf, err := open(path)
	if err != nil {
		return 0, "", err
	}
	var d net.Dialer
	// connect(2) on /proc/self/fd/N reaches the very inode checked above,
	// whatever the app does to the name meanwhile.
	c, err := d.DialContext(actx, "unix", "/proc/self/fd/"+strconv.Itoa(int(sf.Fd())))
	sf.Close()
	if err != nil {
		return 0, "", err
	}
	return exchange(actx, c, req)
}

// exchange sends the request on c and reads the answer, within actx; it
// closes c.
func exchange(actx context.Context, c net.Conn, req Request) (int, string, error) {
	defer c.Close()
	dl, _ := actx.Deadline()
	c.SetDeadline(dl)
	// A cancelled run (or an exited app) ends the exchange at once.
	stop := context.AfterFunc(actx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := io.WriteString(c, requestText(req)); err != nil {
		return 0, "", ctxErr(actx, err)
	}
	// The status line and headers may take MaxHeaderBytes (the read-ahead
	// of the first body bytes counts too); the body its own MaxBodyBytes.
	lr := &io.LimitedReader{R: c, N: MaxHeaderBytes}
	resp, err := http.ReadResponse(bufio.NewReaderSize(lr, 4096), &http.Request{Method: req.Method})
	if err != nil {
		if lr.N <= 0 {
			return 0, "", fmt.Errorf("response headers over %d KiB: %w", MaxHeaderBytes>>10, ErrRefused)
		}
		return 0, "", ctxErr(actx, err)
	}
	defer resp.Body.Close()
	lr.N += MaxBodyBytes
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes))
	if err != nil {
		return resp.StatusCode, "", ctxErr(actx, err)
	}
	return resp.StatusCode, string(b), nil
}

// requestText is the whole request: head, the request's own headers, body.
func requestText(req Request) string {
	head := req.Method + " " + req.Path + " HTTP/1.1\r\nHost: app\r\nUser-Agent: coldstart\r\nConnection: close\r\n"
	for _, h := range req.Headers {
		head += h[0] + ": " + h[1] + "\r\n"
	}
	if req.Send != "" || (req.Method != "GET" && req.Method != "HEAD") {
		head += "Content-Length: " + strconv.Itoa(len(req.Send)) + "\r\n"
	}
	return head + "\r\n" + req.Send
}

// ctxErr names the attempt's own timeout or cancellation rather than the
// i/o error the deadline caused.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// monoNow reads CLOCK_MONOTONIC, which containers share with the host.
func monoNow() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

// ListenStamp extracts "listen_mono_ns=N" from a health answer: the
// CLOCK_MONOTONIC instant at which the app started listening, if it says.
func ListenStamp(body string) (int64, bool) { return stamp(body, "listen_mono_ns=") }

// AnswerStamp extracts "answer_mono_ns=N": when the app's handler ran.
func AnswerStamp(body string) (int64, bool) { return stamp(body, "answer_mono_ns=") }

func stamp(body, key string) (int64, bool) {
	i := strings.Index(body, key)
	if i < 0 {
		return 0, false
	}
	s := body[i+len(key):]
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	v, err := strconv.ParseInt(s[:j], 10, 64)
	if err != nil || v <= 0 {
		return 0, false
	}
	return v, true
}
