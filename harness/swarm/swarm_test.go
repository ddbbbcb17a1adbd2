package swarm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// The coordinator's logic against a fake manager; the live swarm test is
// TestSwarm in harness/cli.

const suite = "suite: s\ndefaults: {runs: 6}\nscenarios:\n  - name: app\n    image: app:1\n"

// fake is a swarm manager whose tasks and logs the test scripts.
type fake struct {
	Manager // nil: a call the test did not expect panics

	mu       sync.Mutex
	state    engine.SwarmState
	nodes    []engine.Node
	tasks    func(n int) []engine.Task // by the number of Tasks calls so far
	logs     []string                  // stdout lines of the service
	calls    []string
	spec     engine.OneShot
	taskCall int
}

func (f *fake) note(c string) { f.mu.Lock(); f.calls = append(f.calls, c); f.mu.Unlock() }

func (f *fake) Swarm(context.Context) (engine.SwarmState, error) { return f.state, nil }
func (f *fake) Nodes(context.Context) ([]engine.Node, error)     { return f.nodes, nil }
func (f *fake) CreateConfig(_ context.Context, name string, data []byte, _ map[string]string) (string, error) {
	f.note("config create " + name)
	return "cfg1", nil
}
func (f *fake) RemoveConfig(_ context.Context, id string) error {
	f.note("config remove " + id)
	return nil
}
func (f *fake) CreateOneShot(_ context.Context, o engine.OneShot) (string, error) {
	f.note("service create " + o.Name)
	f.spec = o
	return "svc1", nil
}
func (f *fake) RemoveService(_ context.Context, id string) error {
	f.note("service remove " + id)
	return nil
}
func (f *fake) Tasks(context.Context, string) ([]engine.Task, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.taskCall++
	if slices.Contains(f.calls, "service remove svc1") {
		return nil, nil
	}
	return f.tasks(f.taskCall), nil
}
func (f *fake) ServiceLogs(ctx context.Context, _ string, follow bool, line func(task, stream, text string)) error {
	for _, l := range f.logs {
		line("t", "stdout", l)
	}
	if follow {
		<-ctx.Done()
	}
	return nil
}

// shardFrames are the frames shard i/n's harness sends on a host, with
// keep of its planned starts (all when keep < 0).
func shardFrames(t *testing.T, i, n, keep int, host string) []string {
	s, err := scenario.Parse("s.yaml", []byte(suite), scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(suite))
	plan := s.Plan(5)
	sh := scenario.Shard{Index: i, Count: n}
	pos := sh.Positions(plan)
	run := fmt.Sprintf("20261130T000000Z-0000000%d", i)
	m := result.Manifest{Run: run, Suite: "s", SuiteFile: "s.yaml", SuiteHash: hex.EncodeToString(sum[:]), PlanSeed: 5,
		Engine: result.Engine{Name: host}, Fingerprint: "host " + host, Shard: &result.Shard{Index: i, Count: n}, Planned: len(pos)}
	var b bytes.Buffer
	fw := journal.NewFrameWriter(&b, run)
	fw.Send(journal.FrameManifest, &m)
	for k, p := range pos {
		if keep >= 0 && k >= keep {
			break
		}
		r := result.Record{V: result.Version, Run: run, Scenario: "app", Kind: plan[p].Kind, Iteration: plan[p].Iteration, Seq: k,
			Outcome: result.OK, ReadyMS: result.F(100 + float64(k)), DeadlineMS: 3000, Time: time.Unix(int64(1000*i+k), 0)}
		fw.Send(journal.FrameRecord, &r)
	}
	if keep < 0 {
		fw.Send(journal.FrameEnd, journal.FrameEndBody{Records: len(pos)})
	}
	return strings.Split(strings.TrimRight(b.String(), "\n"), "\n")
}

func newFake() *fake {
	return &fake{
		state: engine.SwarmState{Local: "active", Manager: true},
		nodes: []engine.Node{{ID: "a", Hostname: "na", State: "ready", Availability: "active", Labels: map[string]string{"instance-type": "m5"}},
			{ID: "b", Hostname: "nb", State: "ready", Availability: "active"}},
	}
}

func config(t *testing.T) Config {
	return Config{Suite: []byte(suite), SuiteFile: "s.yaml", Nodes: 2, Seed: 5, SocketDir: "/tmp/coldstart",
		Out: filepath.Join(t.TempDir(), "out"), RunID: "20261130T000000Z-abcdef12", Poll: time.Millisecond, PendingTimeout: 50 * time.Millisecond}
}

func TestRunComplete(t *testing.T) {
	f := newFake()
	f.tasks = func(int) []engine.Task {
		return []engine.Task{{ID: "t1", Slot: 1, NodeID: "a", State: "complete"}, {ID: "t2", Slot: 2, NodeID: "b", State: "complete"}}
	}
	f.logs = append(shardFrames(t, 1, 2, -1, "na"), shardFrames(t, 2, 2, -1, "nb")...)
	out, err := Run(context.Background(), f, config(t))
	if err != nil {
		t.Fatal(err)
	}
	if inc := out.Merged.Incomplete(); len(inc) != 0 || len(out.Merged.Records) != 6 {
		t.Fatalf("incomplete %+v, %d records", inc, len(out.Merged.Records))
	}
	sh := out.Merged.Manifest.Merged.Shards
	if sh[0].Host != "na" || sh[0].InstanceType != "m5" || sh[1].InstanceType != "" {
		t.Errorf("shards %+v", sh)
	}
	want := []string{"config create coldstart-abcdef12-suite", "service create coldstart-abcdef12", "service remove svc1", "config remove cfg1"}
	if !slices.Equal(f.calls, want) {
		t.Errorf("calls %q, want %q", f.calls, want)
	}
	args := strings.Join(f.spec.Args, " ")
	for _, a := range []string{"run " + ConfigTarget, "--seed 5", "--no-build", "--frames", "--socket-dir /tmp/coldstart"} {
		if !strings.Contains(args, a) {
			t.Errorf("task args %q lack %q", args, a)
		}
	}
	if !slices.Contains(f.spec.Env, "COLDSTART_SHARD={{.Task.Slot}}/2") || f.spec.Replicas != 2 {
		t.Errorf("env %q, replicas %d", f.spec.Env, f.spec.Replicas)
	}
}

// A node that goes down while its task runs: the shard is lost, what it
// sent is kept, the run still ends and removes everything.
func TestRunNodeLost(t *testing.T) {
	f := newFake()
	f.tasks = func(n int) []engine.Task {
		if n > 2 {
			f.nodes[1].State = "down"
		}
		return []engine.Task{{ID: "t1", Slot: 1, NodeID: "a", State: "complete"}, {ID: "t2", Slot: 2, NodeID: "b", State: "running"}}
	}
	f.logs = append(shardFrames(t, 1, 2, -1, "na"), shardFrames(t, 2, 2, 1, "nb")...)
	out, err := Run(context.Background(), f, config(t))
	if err != nil {
		t.Fatal(err)
	}
	inc := out.Merged.Incomplete()
	if len(inc) != 1 || inc[0].Shard.Index != 2 || inc[0].Completed != 1 || !strings.Contains(inc[0].Reason, "node nb went down") {
		t.Fatalf("incomplete %+v", inc)
	}
	if !out.Slots[1].Lost || out.Slots[0].Lost {
		t.Errorf("slots %+v", out.Slots)
	}
	if !slices.Contains(f.calls, "service remove svc1") || !slices.Contains(f.calls, "config remove cfg1") {
		t.Errorf("calls %q", f.calls)
	}
}

// A task that waits for a node too long ends the run; the service and
// config go; and runs the swarm cannot take are refused before anything.
func TestRunRefused(t *testing.T) {
	f := newFake()
	f.tasks = func(int) []engine.Task {
		return []engine.Task{{ID: "t1", Slot: 1, State: "pending", Err: "no suitable node (max replicas per node limit exceed)"}}
	}
	_, err := Run(context.Background(), f, config(t))
	var in *InputError
	if !errors.As(err, &in) || !strings.Contains(err.Error(), "no suitable node") {
		t.Errorf("pending: %v", err)
	}
	if !slices.Contains(f.calls, "service remove svc1") || !slices.Contains(f.calls, "config remove cfg1") {
		t.Errorf("calls %q", f.calls)
	}
	for name, mod := range map[string]func(*fake, *Config){
		"not a manager": func(f *fake, _ *Config) { f.state.Manager = false },
		"too few nodes": func(_ *fake, c *Config) { c.Nodes = 3 },
		"node drained":  func(f *fake, _ *Config) { f.nodes[0].Availability = "drain" },
	} {
		f, c := newFake(), config(t)
		mod(f, &c)
		if _, err := Run(context.Background(), f, c); !errors.As(err, &in) || len(f.calls) > 0 {
			t.Errorf("%s: %v, calls %q", name, err, f.calls)
		}
	}
}

// The coordinator interrupted while the tasks run: it returns the
// interruption's cause, removes the service and the config, and merges
// what had arrived, every shard incomplete.
func TestRunInterrupted(t *testing.T) {
	f := newFake()
	f.tasks = func(int) []engine.Task {
		return []engine.Task{{ID: "t1", Slot: 1, NodeID: "a", State: "running"}, {ID: "t2", Slot: 2, NodeID: "b", State: "running"}}
	}
	f.logs = append(shardFrames(t, 1, 2, 2, "na"), shardFrames(t, 2, 2, 1, "nb")...)
	stop := errors.New("interrupted by a signal")
	ctx, cancel := context.WithCancelCause(context.Background())
	time.AfterFunc(100*time.Millisecond, func() { cancel(stop) })
	out, err := Run(ctx, f, config(t))
	if !errors.Is(err, stop) {
		t.Fatalf("error %v, want the interruption's cause", err)
	}
	if !slices.Contains(f.calls, "service remove svc1") || !slices.Contains(f.calls, "config remove cfg1") {
		t.Errorf("calls %q", f.calls)
	}
	if out == nil || out.Merged == nil || len(out.Merged.Incomplete()) != 2 || len(out.Merged.Records) != 3 {
		t.Fatalf("merged after the interruption: %+v", out)
	}
}
