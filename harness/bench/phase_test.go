package bench

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// fakeEngine embeds the interface and overrides calls with func fields
// (docker/cli style): unit logic around the engine, no containers.
type fakeEngine struct {
	Engine
	mu       sync.Mutex
	create   func(ctx context.Context, s engine.ContainerSpec) (string, error)
	start    func(ctx context.Context, id string) error
	inspect  func(ctx context.Context, id string) (engine.State, error)
	removed  []string
	exitC    chan engine.Exit
	bindDir  string
	sockName string
}

func (f *fakeEngine) Create(ctx context.Context, s engine.ContainerSpec) (string, error) {
	// The bind's host side is the socket dir the probe watches.
	host, _, _ := cutBind(s.Binds[0])
	f.bindDir = host
	if f.create != nil {
		return f.create(ctx, s)
	}
	return "c1", nil
}

func cutBind(b string) (string, string, bool) {
	for i := 0; i < len(b); i++ {
		if b[i] == ':' {
			return b[:i], b[i+1:], true
		}
	}
	return b, "", false
}

func (f *fakeEngine) WaitExit(ctx context.Context, id string) <-chan engine.Exit {
	out := make(chan engine.Exit, 1)
	go func() {
		defer close(out)
		select {
		case e := <-f.exitC:
			out <- e
		case <-ctx.Done():
			out <- engine.Exit{Code: -1, Err: ctx.Err()}
		}
	}()
	return out
}

func (f *fakeEngine) Start(ctx context.Context, id string) error {
	if f.start != nil {
		return f.start(ctx, id)
	}
	return nil
}

func (f *fakeEngine) Inspect(ctx context.Context, id string) (engine.State, error) {
	if f.inspect != nil {
		return f.inspect(ctx, id)
	}
	return engine.State{Running: true, Status: "running"}, nil
}

func (f *fakeEngine) Logs(ctx context.Context, id string, lines, max int) (string, error) {
	return "", nil
}
func (f *fakeEngine) Stderr(ctx context.Context, id string, max int64) (string, error) {
	return "", nil
}

func (f *fakeEngine) Remove(ctx context.Context, id string) error {
	if ctx.Err() != nil {
		return ctx.Err() // clean-up must not run on a cancelled context
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removed = append(f.removed, id)
	return nil
}

func fakeRunner(t *testing.T, f *fakeEngine) *Runner {
	rd := claim(t, privateBase(t), "7a900000", Owner())
	return &Runner{Engine: f, Sockets: rd, RunID: "run", Tag: rd.Tag, Journal: &memJournal{}}
}

func fakeScenario() *scenario.Scenario {
	return &scenario.Scenario{Name: "fake", Image: "img", Socket: "/run/app/app.sock",
		Health:   scenario.Health{Method: "GET", Path: "/", Status: 200, Timeout: 200 * time.Millisecond},
		Deadline: 2 * time.Second, Runs: 1}
}

// A signal (context cancellation) in each phase of a start: the start is
// not a measurement (no record), the container that was created is removed
// exactly once with a context that is not cancelled, the socket dir is gone.
func TestInterruptInEachPhase(t *testing.T) {
	for _, phase := range []string{"create", "start", "socket", "ready"} {
		t.Run(phase, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := &fakeEngine{exitC: make(chan engine.Exit)}
			switch phase {
			case "create":
				// The signal arrives mid-create; the create must still complete
				// (its context is not the run's) and the container then be removed.
				f.create = func(cctx context.Context, s engine.ContainerSpec) (string, error) {
					cancel()
					if cctx.Err() != nil {
						return "", cctx.Err()
					}
					return "c1", nil
				}
			case "start":
				f.start = func(ctx context.Context, id string) error {
					cancel()
					<-ctx.Done()
					return ctx.Err()
				}
			case "socket":
				// Started, but the socket never appears: cancel while waiting for it.
				f.start = func(ctx context.Context, id string) error {
					time.AfterFunc(50*time.Millisecond, cancel)
					return nil
				}
			case "ready":
				// The socket appears and refuses connections: cancel during the retries.
				f.start = func(ctx context.Context, id string) error {
					l, err := net.Listen("unix", filepath.Join(f.bindDir, "app.sock"))
					if err != nil {
						return err
					}
					l.Close() // leaves the file: connects are refused
					time.AfterFunc(50*time.Millisecond, cancel)
					return nil
				}
			}
			r := fakeRunner(t, f)
			rec := r.One(ctx, fakeScenario(), scenario.Start{Kind: result.KindMeasure}, 0)
			if rec != nil {
				t.Errorf("interrupted start produced a record: %+v", rec)
			}
			want := []string{"c1"}
			if len(f.removed) != 1 || f.removed[0] != want[0] {
				t.Errorf("removed %v, want %v", f.removed, want)
			}
			if _, err := os.Stat(f.bindDir); !os.IsNotExist(err) {
				t.Errorf("socket dir %s left behind (%v)", f.bindDir, err)
			}
		})
	}
}

// An engine that hangs in create is given up on and recorded as engine_error.
func TestCreateHangIsEngineError(t *testing.T) {
	f := &fakeEngine{exitC: make(chan engine.Exit)}
	f.create = func(ctx context.Context, s engine.ContainerSpec) (string, error) {
		return "", context.DeadlineExceeded
	}
	r := fakeRunner(t, f)
	rec := r.One(context.Background(), fakeScenario(), scenario.Start{Kind: result.KindMeasure}, 0)
	if rec == nil || rec.Outcome != result.EngineError || !errors.Is(hung(context.Background(), context.DeadlineExceeded), engine.ErrUnreachable) {
		t.Fatalf("record %+v, want engine_error", rec)
	}
}
