package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/versions"
)

// lane carries the four calls every start makes (create, wait, start,
// remove) as plain HTTP/1.1 on the engine's Unix socket, beside the SDK.
//
// The SDK's client goes through net/http's Transport: each call hands the
// request to a writer goroutine and the answer over from a reader goroutine,
// inside an OpenTelemetry wrapper, which was about a third of the harness's
// CPU per start (perf, 2026-12-07). Here the calling goroutine writes the
// request and reads the answer itself, on a kept-alive connection. The
// request bodies are the SDK's own types, encoded as the SDK encodes them;
// errors read the same ("Error response from daemon: ...", not-found
// recognised by client.IsErrNotFound, connection failures by classify).
// Everything else (build, inspect, logs, list) stays on the SDK.
type lane struct {
	sock   string // the engine's socket
	prefix string // "/v1.41": the negotiated API version

	mu   sync.Mutex
	idle []*laneConn
}

type laneConn struct {
	c  net.Conn
	br *bufio.Reader
}

// maxIdle bounds the kept-alive connections: a start uses two at once (its
// exit wait and its calls), a burst one pair per concurrent start.
const maxIdle = 16

// newLane is the lane for an engine at host (unix:///path), nil for any
// other kind of address: those stay on the SDK.
func newLane(host, version string) *lane {
	p, ok := strings.CutPrefix(host, "unix://")
	if !ok || p == "" || version == "" {
		return nil
	}
	return &lane{sock: p, prefix: "/v" + version}
}

func (l *lane) conn(ctx context.Context) (*laneConn, error) {
	l.mu.Lock()
	if n := len(l.idle); n > 0 {
		c := l.idle[n-1]
		l.idle = l.idle[:n-1]
		l.mu.Unlock()
		return c, nil
	}
	l.mu.Unlock()
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", l.sock)
	if err != nil {
		return nil, err
	}
	return &laneConn{c: c, br: bufio.NewReaderSize(c, 4096)}, nil
}

func (l *lane) keep(c *laneConn) {
	c.c.SetDeadline(time.Time{})
	l.mu.Lock()
	if len(l.idle) < maxIdle {
		l.idle = append(l.idle, c)
		c = nil
	}
	l.mu.Unlock()
	if c != nil {
		c.c.Close()
	}
}

// close drops the idle connections.
func (l *lane) close() {
	l.mu.Lock()
	idle := l.idle
	l.idle = nil
	l.mu.Unlock()
	for _, c := range idle {
		c.c.Close()
	}
}

// laneResp is an answer whose status line and headers were read.
type laneResp struct {
	*http.Response
	c    *laneConn
	stop func() bool // detaches the context from the connection
}

// send writes a request and reads the answer's status and headers. The
// caller reads the body and then calls done. ctx bounds the whole exchange,
// body included, until done; ack, when not 0, bounds the wait for the
// headers alone (an exit wait's context has no deadline: its answer comes
// when the container exits, but its acknowledgement must come at once).
func (l *lane) send(ctx context.Context, method, path string, body []byte, ack time.Duration) (*laneResp, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := l.conn(ctx)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	// The context ends the exchange through the connection's deadline, set
	// once ctx is done (never ahead of it: ctxErr then finds ctx.Err()).
	stop := context.AfterFunc(ctx, func() { c.c.SetDeadline(time.Unix(1, 0)) })
	var b bytes.Buffer
	b.Grow(256 + len(body))
	fmt.Fprintf(&b, "%s %s%s HTTP/1.1\r\nHost: docker\r\nUser-Agent: coldstart\r\n", method, l.prefix, path)
	if body != nil {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	} else if method != http.MethodGet && method != http.MethodDelete {
		b.WriteString("Content-Length: 0\r\n")
	}
	b.WriteString("\r\n")
	b.Write(body)
	if _, err := c.c.Write(b.Bytes()); err != nil {
		stop()
		c.c.Close()
		return nil, ctxErr(ctx, err)
	}
	if ack > 0 {
		c.c.SetReadDeadline(time.Now().Add(ack))
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err == nil && ack > 0 && stop() {
		// Headers in time: from here only ctx bounds the exchange.
		c.c.SetReadDeadline(time.Time{})
		stop = context.AfterFunc(ctx, func() { c.c.SetDeadline(time.Unix(1, 0)) })
	}
	if err != nil {
		stop()
		c.c.Close()
		if ack > 0 && ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, fmt.Errorf("%w: no acknowledgement within %v", ErrUnreachable, ack)
		}
		return nil, ctxErr(ctx, err)
	}
	return &laneResp{Response: resp, c: c, stop: stop}, nil
}

// done ends an exchange: the connection goes back to the pool when the body
// was read to its end and neither side asked to close it.
func (l *lane) done(r *laneResp, whole bool) {
	r.Body.Close()
	detached := r.stop()
	if whole && detached && !r.Close {
		l.keep(r.c)
		return
	}
	r.c.c.Close()
}

// call is send for an answer read whole (at most 1 MiB): it returns the body
// of a 2xx answer, or the daemon's error.
func (l *lane) call(ctx context.Context, method, path string, body []byte) ([]byte, error) {
	r, err := l.send(ctx, method, path, body, 0)
	if err != nil {
		return nil, err
	}
	const max = 1 << 20
	data, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	whole := err == nil && len(data) <= max
	l.done(r, whole)
	if err != nil {
		return nil, ctxErr(ctx, err)
	}
	if r.StatusCode < 200 || r.StatusCode >= 400 {
		return nil, daemonErr(r.Response, data)
	}
	return data, nil
}

// daemonError is an answer of the engine with an error status, worded as
// the SDK words it.
type daemonError struct {
	status int
	msg    string
}

func (e *daemonError) Error() string { return "Error response from daemon: " + e.msg }

// Is makes client.IsErrNotFound (containerd's errdefs) recognise a 404.
func (e *daemonError) Is(target error) bool {
	return e.status == http.StatusNotFound && target == cerrdefs.ErrNotFound
}

func daemonErr(r *http.Response, body []byte) error {
	var m struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(body, &m) == nil && m.Message != "" {
		return &daemonError{status: r.StatusCode, msg: m.Message}
	}
	msg := strings.TrimSpace(string(body))
	if msg == "" {
		msg = r.Status
	}
	return &daemonError{status: r.StatusCode, msg: msg}
}

// ctxErr reports the context's own error when it ended the exchange (a
// deadline set on the connection from ctx reads as a timeout otherwise).
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && (errors.Is(err, os.ErrDeadlineExceeded) || errors.Is(err, net.ErrClosed)) {
		return fmt.Errorf("%w: %v", cerr, err)
	}
	return err
}

// waitAck bounds the engine's acknowledgement of an exit wait, as
// bench's callTimeout bounds a create or a start: an engine that never
// acknowledges must fail the start, not hang it.
const waitAck = 60 * time.Second

// waitExit posts the exit wait and returns once the engine has acknowledged
// it (the answer's headers), with a channel that gets how the container
// ended (or why the wait failed), as Docker.WaitExit promises.
func (l *lane) waitExit(ctx context.Context, id string) <-chan Exit {
	out := make(chan Exit, 1)
	r, err := l.send(ctx, http.MethodPost, "/containers/"+url.PathEscape(id)+"/wait?condition=next-exit", nil, waitAck)
	if err == nil && r.StatusCode != http.StatusOK {
		data, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		l.done(r, false)
		err = daemonErr(r.Response, data)
	}
	if err != nil {
		out <- Exit{Code: -1, Err: classify("wait", err)}
		close(out)
		return out
	}
	go func() {
		defer close(out)
		var w struct {
			StatusCode int64
			Error      *struct{ Message string }
		}
		data, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err == nil {
			err = json.Unmarshal(data, &w)
		}
		l.done(r, err == nil)
		if err != nil {
			out <- Exit{Code: -1, Err: classify("wait", ctxErr(ctx, err))}
			return
		}
		e := Exit{Code: w.StatusCode}
		if w.Error != nil && w.Error.Message != "" {
			e.Err = errors.New(w.Error.Message)
		}
		out <- e
	}()
	return out
}

// laneCreate is ContainerCreate on the lane: the same request body, after
// the same adjustments the SDK makes for the negotiated API version.
func (d *Docker) laneCreate(ctx context.Context, cfg *container.Config, hc *container.HostConfig, name string) (string, error) {
	api := d.c.ClientVersion()
	if versions.GreaterThanOrEqualTo(api, kernelMemoryDropped) || versions.LessThan(api, "1.40") {
		hc.KernelMemory = 0 // added in 1.40, gone in 1.42
	}
	hc.CapAdd, hc.CapDrop = normalizeCaps(hc.CapAdd), normalizeCaps(hc.CapDrop)
	body, err := json.Marshal(container.CreateRequest{Config: cfg, HostConfig: hc})
	if err != nil {
		return "", fmt.Errorf("create: %w", err)
	}
	q := url.Values{}
	q.Set("name", name)
	data, err := d.lane.call(ctx, http.MethodPost, "/containers/create?"+q.Encode(), body)
	if err != nil {
		return "", classify("create", err)
	}
	var r container.CreateResponse
	if err := json.Unmarshal(data, &r); err != nil || r.ID == "" {
		return "", fmt.Errorf("create: unreadable answer %q: %v", data, err)
	}
	return r.ID, nil
}

// normalizeCaps is the SDK's: upper case, a CAP_ prefix (ALL excepted),
// no duplicates, sorted.
func normalizeCaps(caps []string) []string {
	var out []string
	for _, c := range caps {
		c = strings.ToUpper(c)
		if c != "ALL" && !strings.HasPrefix(c, "CAP_") {
			c = "CAP_" + c
		}
		if !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}
