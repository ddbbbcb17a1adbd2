package engine

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// seenRequest is what the fake engine received.
type seenRequest struct {
	Method, Path string
	Query        url.Values
	Body         any // decoded JSON, nil without a body
}

// fakeEngine serves the few routes the lane and the SDK call, on a Unix
// socket, and records every request but the pings.
type fakeEngine struct {
	mu   sync.Mutex
	seen []seenRequest
	hold chan struct{} // the "hang" container's wait answers when this closes
}

func (f *fakeEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Api-Version", "1.41")
	if strings.HasSuffix(r.URL.Path, "/_ping") {
		w.Write([]byte("OK"))
		return
	}
	sr := seenRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query()}
	if b, _ := io.ReadAll(r.Body); len(b) > 0 {
		if err := json.Unmarshal(b, &sr.Body); err != nil {
			sr.Body = "not JSON: " + string(b)
		}
	}
	f.mu.Lock()
	f.seen = append(f.seen, sr)
	f.mu.Unlock()
	fail := func(code int, msg string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]string{"message": msg})
	}
	p := strings.TrimPrefix(r.URL.Path, "/v1.41")
	switch {
	case p == "/containers/create":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"Id":"abc","Warnings":[]}` + "\n"))
	case strings.HasPrefix(p, "/containers/gone"):
		fail(http.StatusNotFound, "No such container: gone")
	case p == "/containers/busy" && r.Method == http.MethodDelete:
		fail(http.StatusConflict, "removal of container busy is already in progress")
	case p == "/containers/bad/start":
		fail(http.StatusInternalServerError, "OCI runtime create failed: no such file")
	case strings.Contains(p, "mute"): // never answers, not even headers
		select {
		case <-f.hold:
		case <-r.Context().Done():
		}
	case strings.HasSuffix(p, "/wait"):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush() // the acknowledgement: headers before the exit
		if strings.Contains(p, "hang") {
			select {
			case <-f.hold:
			case <-r.Context().Done():
				return
			}
		}
		json.NewEncoder(w).Encode(map[string]any{"StatusCode": 137, "Error": nil})
	case strings.HasSuffix(p, "/start"), r.Method == http.MethodDelete:
		w.WriteHeader(http.StatusNoContent)
	default:
		fail(http.StatusNotFound, "page not found")
	}
}

func (f *fakeEngine) take() []seenRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.seen
	f.seen = nil
	return s
}

// startFake serves f on a fresh socket and returns a driver dialled to it.
func startFake(t *testing.T, f *fakeEngine) *Docker {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "docker.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: f}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	d, err := DialHost(context.Background(), "unix://"+sock, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if d.lane == nil {
		t.Fatal("no lane on a Unix socket")
	}
	return d
}

// The lane sends what the SDK sends, call for call (method, versioned path,
// query, JSON body), and its answers and errors read the same.
func TestLaneMatchesSDK(t *testing.T) {
	f := &fakeEngine{hold: make(chan struct{})}
	lane := startFake(t, f)
	sdk := &Docker{c: lane.c} // the same client without the lane
	spec := ContainerSpec{Name: "coldstart-abcd1234-000007", Image: "img:1", Cmd: []string{"/app"}, Env: []string{"A=1"},
		Labels: map[string]string{LabelHarness: "1"}, Binds: []string{"/run/x:/run/app"},
		CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20, KernelMemory: 128 << 20, Pids: 256,
		Confinement: Confinement{SecurityOpt: []string{"no-new-privileges:true"}, CapDrop: []string{"all"}, CapAdd: []string{"setuid", "CAP_SETUID"},
			ReadOnlyRootfs: true, Tmpfs: map[string]string{"/tmp": "size=64m"}, NoFile: 1024, LogType: "json-file", LogOpts: map[string]string{"max-size": "2m"}}}
	ctx := context.Background()
	type outcome struct {
		Result   string
		Err      string
		NotFound bool
	}
	calls := []struct {
		name string
		do   func(d *Docker) (string, error)
	}{
		{"create", func(d *Docker) (string, error) { return d.Create(ctx, spec) }},
		{"start", func(d *Docker) (string, error) { return "", d.Start(ctx, "abc") }},
		{"start missing", func(d *Docker) (string, error) { return "", d.Start(ctx, "gone") }},
		{"start failing", func(d *Docker) (string, error) { return "", d.Start(ctx, "bad") }},
		{"remove", func(d *Docker) (string, error) { return "", d.Remove(ctx, "abc") }},
		{"remove missing", func(d *Docker) (string, error) { return "", d.Remove(ctx, "gone") }},
		{"remove in progress", func(d *Docker) (string, error) { return "", d.Remove(ctx, "busy") }},
		{"wait", func(d *Docker) (string, error) {
			e := <-d.WaitExit(ctx, "abc")
			return strings.Repeat("x", int(e.Code)%7), e.Err
		}},
		{"wait missing", func(d *Docker) (string, error) { e := <-d.WaitExit(ctx, "gone"); return "", e.Err }},
	}
	for _, c := range calls {
		var got [2]outcome
		var reqs [2][]seenRequest
		for i, d := range []*Docker{sdk, lane} {
			r, err := c.do(d)
			got[i] = outcome{Result: r}
			if err != nil {
				got[i].Err, got[i].NotFound = err.Error(), client.IsErrNotFound(err)
			}
			reqs[i] = f.take()
		}
		if got[0] != got[1] {
			t.Errorf("%s: SDK %+v, lane %+v", c.name, got[0], got[1])
		}
		if !reflect.DeepEqual(reqs[0], reqs[1]) {
			t.Errorf("%s: requests differ\nSDK  %+v\nlane %+v", c.name, reqs[0], reqs[1])
		}
		if len(reqs[1]) != 1 {
			t.Errorf("%s: %d requests, want 1: %+v", c.name, len(reqs[1]), reqs[1])
		}
	}
}

// The exit wait is acknowledged before WaitExit returns, answers when the
// container exits, and ends with context.Canceled when its context is
// cancelled; connections are reused across calls.
func TestLaneWait(t *testing.T) {
	f := &fakeEngine{hold: make(chan struct{})}
	d := startFake(t, f)
	ctx, cancel := context.WithCancel(context.Background())
	c := d.WaitExit(ctx, "hang")
	if n := len(f.take()); n != 1 {
		t.Fatalf("the wait was not acknowledged before WaitExit returned (%d requests seen)", n)
	}
	cancel()
	select {
	case e := <-c:
		if !errors.Is(e.Err, context.Canceled) {
			t.Errorf("cancelled wait: %+v, want context.Canceled", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled wait did not end")
	}
	c = d.WaitExit(context.Background(), "hang")
	if err := d.Start(context.Background(), "abc"); err != nil {
		t.Fatal(err)
	}
	close(f.hold)
	if e := <-c; e.Err != nil || e.Code != 137 {
		t.Errorf("wait: %+v, want code 137", e)
	}
	// The finished wait's connection and the start's are both idle now.
	d.lane.mu.Lock()
	idle := len(d.lane.idle)
	d.lane.mu.Unlock()
	if idle != 2 {
		t.Errorf("%d idle connections after a wait and a start, want 2", idle)
	}
}

// A call's deadline is the context's: a hung engine ends in
// context.DeadlineExceeded (bench.hung turns that into engine unreachable),
// and a vanished engine reads as unreachable.
func TestLaneFailures(t *testing.T) {
	f := &fakeEngine{hold: make(chan struct{})}
	d := startFake(t, f)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	r, err := d.lane.send(ctx, http.MethodPost, "/containers/hang/wait", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(r.Body)
	d.lane.done(r, err == nil)
	if !errors.Is(ctxErr(ctx, err), context.DeadlineExceeded) {
		t.Errorf("hung answer: %v, want a deadline error", err)
	}
	// An exit wait the engine never acknowledges fails as unreachable
	// within its bound, and the exchange after it still works.
	if _, err := d.lane.send(context.Background(), http.MethodPost, "/containers/mute/wait", nil, 50*time.Millisecond); !errors.Is(err, ErrUnreachable) {
		t.Errorf("unacknowledged wait: %v, want ErrUnreachable", err)
	}
	r, err = d.lane.send(context.Background(), http.MethodPost, "/containers/abc/wait", nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	_, err = io.ReadAll(r.Body)
	d.lane.done(r, err == nil)
	if err != nil {
		t.Errorf("wait acknowledged in time, then: %v", err)
	}
	d.lane.close()
	d.lane.sock = filepath.Join(t.TempDir(), "nothing.sock")
	err = d.Start(context.Background(), "abc")
	if !errors.Is(err, ErrUnreachable) {
		t.Errorf("no engine: %v, want ErrUnreachable", err)
	}
	e := <-d.WaitExit(context.Background(), "abc")
	if !errors.Is(e.Err, ErrUnreachable) {
		t.Errorf("wait without an engine: %+v, want ErrUnreachable", e)
	}
}
