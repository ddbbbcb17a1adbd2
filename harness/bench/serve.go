package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"time"

	"github.com/coldstart/coldstart/harness/probe"
	"github.com/coldstart/coldstart/harness/result"
)

// probed is what a start's probe saw: readiness, then the work request.
type probed struct {
	res     probe.Result
	err     error // why readiness was not reached
	call    probe.CallResult
	callErr error
	called  bool // the app got ready and the work request was sent
	sampled bool // the cgroup was read at readiness
}

// serves reports whether the start sends a work request: measured and
// warmup starts of a scenario with one. Diagnostic starts do not: their
// import profile ends at readiness.
func (s *start) serves() bool { return s.sc.Serving != nil && s.st.Kind != result.KindDiagnostic }

// probe waits for readiness (the health answer, or under contract: fn the
// listener link passing Fn's check), reads the cgroup, and sends the work
// request at once. It runs beside the start call.
func (s *start) probe(ctx context.Context, watch *probe.Watch, t0 time.Time) probed {
	dl := t0.Add(deadline(s.sc, s.st))
	var p probed
	target := filepath.Join(s.dir, path.Base(s.sc.Socket))
	if s.sc.Contract == result.ContractFn {
		target, p.res, p.err = s.waitLink(ctx, watch, dl)
	} else {
		h := s.sc.Health
		p.res, p.err = watch.Wait(ctx, dl, s.exited, probe.Request{Method: h.Method, Path: h.Path, Status: h.Status, Body: h.Body, Timeout: h.Timeout})
	}
	watch.Close()
	if p.err != nil || !s.serves() {
		return p
	}
	// At readiness, before the work request adds to it (its ~0.3 ms are in
	// serving_ms); the process's confinement after the answer.
	g := s.sampleReady()
	p.sampled, p.called = true, true
	p.call, p.callErr = probe.Call(ctx, target, dl, s.exited, s.workRequest(dl))
	if p.callErr == nil {
		s.rec.ServingCgroup = s.cgroupNow()
	}
	if g != nil {
		s.sampleProcess(g)
	}
	return p
}

// waitLink is readiness under contract: fn, as Fn's agent has it: the
// create event of the listener's name, then the link's check. It returns the
// socket the link leads to.
func (s *start) waitLink(ctx context.Context, watch *probe.Watch, dl time.Time) (string, probe.Result, error) {
	var r probe.Result
	at, err := watch.WaitSocket(ctx, dl, s.exited)
	r.SocketAt = at
	if err != nil {
		return "", r, err
	}
	target, err := probe.FnLink(s.dir, path.Base(s.sc.Socket))
	if err != nil {
		return "", r, err
	}
	r.ReadyAt = time.Now()
	return target, r, nil
}

// workRequest is the scenario's work request; under contract: fn with the
// call's Fn-Call-Id (unique) and Fn-Deadline (the start's deadline).
func (s *start) workRequest(dl time.Time) probe.Request {
	sv := s.sc.Serving
	req := probe.Request{Method: sv.Method, Path: sv.Path, Status: sv.Status, Body: sv.Contains, Send: sv.Body}
	for _, h := range sv.Headers {
		req.Headers = append(req.Headers, [2]string{h.Name, h.Value})
	}
	if s.sc.Contract == result.ContractFn {
		s.rec.CallID = callID(s.r.Tag, s.seq)
		req.Headers = append(req.Headers, [2]string{"Fn-Call-Id", s.rec.CallID}, [2]string{"Fn-Deadline", FnDeadline(dl)})
	}
	return req
}

// FnDeadline formats a call's deadline as Fn's agent does (RFC 3339, whole
// seconds, UTC here), rounded up: truncated, it would tell the function to
// give up before the harness does.
func FnDeadline(dl time.Time) string {
	t := dl.UTC()
	if t.Truncate(time.Second) != t {
		t = t.Truncate(time.Second).Add(time.Second)
	}
	return t.Format(time.RFC3339)
}

// callID is a call id unique to the start: the run tag, the start's
// position and 8 random hex digits (a resumed run reuses positions).
func callID(tag string, seq int) string {
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s-%06d-%s", tag, seq, hex.EncodeToString(b))
}

// classifyServing records what the work request saw. It returns false when
// the run was cancelled during it.
func (s *start) classifyServing(p probed) bool {
	rec := s.rec
	if !p.called {
		return true
	}
	rec.ServingAttempts, rec.ServingStatus = p.call.Attempts, p.call.Status
	req := s.sc.Serving.Method + " " + s.sc.Serving.Path
	switch {
	case p.callErr == nil:
		rec.ServingOutcome = result.OK
		rec.ServingMS = result.F(result.MS(p.call.At.Sub(s.t0)))
	case errors.Is(p.callErr, probe.ErrExited):
		<-s.exited
		rec.ServingOutcome, rec.ServingError = result.ExitedBeforeServing, "exited before answering "+req
		if s.exit.Err != nil {
			rec.ServingOutcome, rec.ServingError = engineOutcome(s.exit.Err, result.EngineError), s.exit.Err.Error()
		} else {
			rec.ExitMS = result.F(result.MS(s.exitAt.Sub(s.t0)))
		}
	case errors.Is(p.callErr, probe.ErrDeadline):
		rec.ServingOutcome = result.DeadlineExceeded
		rec.ServingError = fmt.Sprintf("no answer to %s within %v", req, deadline(s.sc, s.st))
		if p.call.LastErr != nil {
			rec.ServingError += ": " + p.call.LastErr.Error()
		}
	case errors.Is(p.callErr, probe.ErrCallFailed):
		rec.ServingOutcome, rec.ServingError = result.CallFailed, req+": "+p.callErr.Error()
	default: // cancelled: not a measurement
		return false
	}
	return true
}

// settleServing gives a start that did not get ready its own outcome as
// its serving outcome: the reason it has no serving time.
func (s *start) settleServing() {
	if rec := s.rec; s.serves() && rec.ServingOutcome == "" {
		rec.ServingOutcome = rec.Outcome
	}
}
