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
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Request is the health request and what counts as healthy.
type Request struct {
	Method  string
	Path    string
	Status  int
	Body    string        // substring the body must contain; "" = any
	Timeout time.Duration // per attempt; above the 100 ms CFS period or a throttled app looks dead
}

// Result is what one wait saw. Times are on the monotonic clock.
type Result struct {
	SocketAt   time.Time // zero if the socket never appeared
	ReadyAt    time.Time // zero if never healthy
	ReadyMono  int64     // CLOCK_MONOTONIC ns at ReadyAt, comparable with stamps taken in containers
	Attempts   int       // HTTP attempts (connects included)
	LastStatus int       // last HTTP status received
	LastErr    error     // last attempt's error, for misses
	Body       string    // body of the healthy answer (bounded), for apps that report timestamps
}

// Ended says why Wait returned without a healthy answer.
var (
	ErrDeadline = errors.New("deadline exceeded")
	ErrExited   = errors.New("exited before ready")
)

// Watch is an armed readiness watch on one socket: a raw inotify
// descriptor on the socket's directory, read through the runtime's poller.
// (fsnotify cost ~0.25 ms of CPU and 10 ms of wall time per start to set up
// and tear down; this costs a few syscalls.)
type Watch struct {
	path, name string
	f          *os.File
}

// Arm starts watching dir for the socket file name. Call it before the
// container starts: a fast app can be listening before the start call returns.
func Arm(dir, name string) (*Watch, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_MOVED_TO); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("watch %s: %w", dir, err)
	}
	return &Watch{path: filepath.Join(dir, name), name: name, f: os.NewFile(uintptr(fd), "inotify")}, nil
}

// Close releases the watch; a pending read returns. The kernel's release of
// an inotify instance waits for an SRCU grace period (~9 ms here), so it
// happens in the background, off the path between two starts.
func (w *Watch) Close() error {
	go w.f.Close()
	return nil
}

// created reads inotify events until one names the socket (true), or the
// descriptor fails or is closed (false). An overflow means lost events: the
// caller falls back to a stat.
func (w *Watch) created(out chan<- bool) {
	buf := make([]byte, 4096)
	for {
		n, err := w.f.Read(buf)
		if err != nil {
			out <- false
			return
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			ev := (*unix.InotifyEvent)(unsafe.Pointer(&buf[off]))
			end := off + unix.SizeofInotifyEvent + int(ev.Len)
			if end > n {
				break
			}
			name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:end], "\x00"))
			if name == w.name || ev.Mask&unix.IN_Q_OVERFLOW != 0 {
				out <- true
				return
			}
			off = end
		}
	}
}

// Wait blocks until the app answers healthy, the deadline passes, or exited
// is closed (the container ended).
func (w *Watch) Wait(ctx context.Context, deadline time.Time, exited <-chan struct{}, req Request) (Result, error) {
	var r Result
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	// Phase 1: the socket file appears (the create event fires at bind()).
	if _, err := os.Lstat(w.path); err == nil {
		r.SocketAt = time.Now()
	}
	if r.SocketAt.IsZero() {
		seen := make(chan bool, 1)
		go w.created(seen)
		select {
		case ok := <-seen:
			if _, err := os.Lstat(w.path); ok || err == nil {
				r.SocketAt = time.Now()
			} else {
				return r, errors.New("inotify watch failed")
			}
		case <-exited:
			return r, ErrExited
		case <-dctx.Done():
			return r, endErr(ctx)
		}
	}

	// Phase 2: connect + request until healthy. Between bind() and listen()
	// connects are refused, so retry with a short pause.
	tr := &http.Transport{
		DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", w.path)
		},
	}
	defer tr.CloseIdleConnections()
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
		status, body, err := attempt(dctx, tr, req)
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
		} else {
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

func endErr(parent context.Context) error {
	if parent.Err() != nil {
		return parent.Err()
	}
	return ErrDeadline
}

// attempt performs one request on a fresh connection.
func attempt(ctx context.Context, tr *http.Transport, req Request) (int, string, error) {
	actx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	hr, err := http.NewRequestWithContext(actx, req.Method, "http://app"+req.Path, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := tr.RoundTrip(hr)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(bufio.NewReader(resp.Body), 64<<10))
	if err != nil {
		return resp.StatusCode, "", err
	}
	return resp.StatusCode, string(b), nil
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
