package probe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// ErrCallFailed: the work request got an answer other than the expected
// one, or its connection ended without an answer.
var ErrCallFailed = errors.New("call failed")

// CallResult is what one work request saw. Times are on the monotonic clock.
type CallResult struct {
	At       time.Time // the expected answer; zero without one
	Mono     int64     // CLOCK_MONOTONIC ns at At
	Attempts int       // requests sent: more than one only after connection errors
	Status   int       // status of the answer, if any
	Body     string    // body of the answer (bounded)
	LastErr  error
}

// Call sends the work request to the socket at path once, with what remains
// until deadline as its timeout: the first real call may wait for a deferred
// import, and a second request would only queue behind the first. It is sent
// again only when the connection could not be made (the request never
// reached the app), after a 1 ms pause. It returns nil on the expected
// answer, ErrCallFailed on another answer or a connection that ended without
// one, ErrDeadline, ErrExited when exited closes, or ctx's error.
func Call(ctx context.Context, path string, deadline time.Time, exited <-chan struct{}, req Request) (CallResult, error) {
	var r CallResult
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// An exit ends the request at once, as a cancelled run does.
	actx, stop := context.WithCancelCause(dctx)
	defer stop(nil)
	go func() {
		select {
		case <-exited:
			stop(ErrExited)
		case <-actx.Done():
		}
	}()
	req.Timeout = time.Until(deadline)
	for {
		if actx.Err() != nil {
			return r, callEnd(ctx, actx)
		}
		r.Attempts++
		status, body, dialed, err := callOnce(actx, path, req)
		switch {
		case err == nil && status == req.Status && (req.Body == "" || strings.Contains(body, req.Body)):
			r.At, r.Mono, r.Status, r.Body, r.LastErr = time.Now(), monoNow(), status, body, nil
			return r, nil
		case err == nil:
			r.Status, r.Body = status, body
			r.LastErr = fmt.Errorf("answered %d", status)
			if status == req.Status {
				r.LastErr = fmt.Errorf("answered %d without %q in the body", status, req.Body)
			}
			return r, fmt.Errorf("%w: %v", ErrCallFailed, r.LastErr)
		case actx.Err() != nil || errors.Is(err, os.ErrDeadlineExceeded):
			// The connection's deadline is the call's: it can fire a hair
			// before the context's own timer.
			r.LastErr = err
			return r, callEnd(ctx, actx)
		case dialed:
			r.LastErr = err
			return r, fmt.Errorf("%w: %w", ErrCallFailed, err)
		}
		r.LastErr = err
		t := time.NewTimer(time.Millisecond)
		select {
		case <-t.C:
		case <-actx.Done():
			t.Stop()
		}
	}
}

// callOnce is one request; dialed says whether the connection was made
// (after which the request is never sent again).
func callOnce(ctx context.Context, path string, req Request) (status int, body string, dialed bool, err error) {
	actx, cancel := context.WithTimeout(ctx, req.Timeout)
	defer cancel()
	open := req.Socket
	if open == nil {
		open = SocketFile
	}
	sf, err := open(path)
	if err != nil {
		// A refusal is final: the app replaced its socket with something
		// the probe does not connect to.
		return 0, "", errors.Is(err, ErrRefused), err
	}
	var d net.Dialer
	// As attempt: connect through the descriptor that was checked.
	c, err := d.DialContext(actx, "unix", "/proc/self/fd/"+strconv.Itoa(int(sf.Fd())))
	sf.Close()
	if err != nil {
		return 0, "", false, err
	}
	status, body, err = exchange(actx, c, req)
	return status, body, true, err
}

// callEnd names why a call ended without an answer: the container exited,
// the deadline passed, or the run was cancelled.
func callEnd(parent, actx context.Context) error {
	if errors.Is(context.Cause(actx), ErrExited) {
		return ErrExited
	}
	return endErr(parent)
}
