package swarm

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/merge"
)

// Slot is one shard's task and how it ended.
type Slot struct {
	Shard    int
	Task     string
	NodeID   string
	Node     string // the node's host name
	State    string // the task's last state
	ExitCode int
	Err      string
	Lost     bool // its node went down while it ran
	Reason   string
}

// Task states after which a task does no more, and node states of a node
// that is gone.
var (
	terminal = []string{"complete", "failed", "rejected", "shutdown", "orphaned", "remove"}
	nodeGone = []string{"down", "disconnected", "unknown"}
	waiting  = []string{"new", "pending", "allocated"}
)

// watch follows the service's tasks and the nodes until every shard's
// task has ended or lost its node.
type watch struct {
	m          Manager
	svc        string
	n          int
	poll       time.Duration
	pendingMax time.Duration
	log        io.Writer

	mu      sync.Mutex
	nodes   []engine.Node
	slots   []Slot
	pending map[int]time.Time // since when a shard's task waits for a node
	failing time.Time         // since when the manager does not answer
}

func newWatch(m Manager, svc string, n int, nodes []engine.Node, cfg Config) *watch {
	w := &watch{m: m, svc: svc, n: n, nodes: nodes, poll: cfg.Poll, pendingMax: cfg.PendingTimeout, log: cfg.Log,
		slots: make([]Slot, n), pending: map[int]time.Time{}}
	for i := range w.slots {
		w.slots[i].Shard = i + 1
	}
	return w
}

// label names a task for its stderr lines.
func (w *watch) label(task string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.slots {
		if s.Task == task && task != "" {
			return fmt.Sprintf("shard %d/%d %s", s.Shard, w.n, s.Node)
		}
	}
	return "task " + task
}

// wait returns when every shard is done, ctx ends (nil: the caller reads
// the cause), a task waits too long for a node, or the manager stops
// answering for a minute.
func (w *watch) wait(ctx context.Context) error {
	for {
		if err := w.refresh(ctx); err != nil {
			return err
		}
		if w.done() {
			return nil
		}
		if err := w.stuck(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(w.poll):
		}
	}
}

// refresh reads the tasks and nodes once.
func (w *watch) refresh(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ts, err := w.m.Tasks(rctx, w.svc)
	var nodes []engine.Node
	if err == nil {
		nodes, err = w.m.Nodes(rctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		if w.failing.IsZero() {
			w.failing = time.Now()
		}
		if time.Since(w.failing) > time.Minute {
			return fmt.Errorf("the swarm manager does not answer: %w", err)
		}
		fmt.Fprintf(w.log, "coordinator: %v (trying again)\n", err)
		return nil
	}
	w.failing = time.Time{}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.nodes = nodes
	slices.SortFunc(ts, func(a, b engine.Task) int { return a.Time.Compare(b.Time) })
	for _, t := range ts {
		if t.Slot < 1 || t.Slot > w.n {
			continue
		}
		w.note(&w.slots[t.Slot-1], t)
	}
	return nil
}

// note files a task's state in its shard's slot (the latest task wins).
func (w *watch) note(s *Slot, t engine.Task) {
	if s.Task != t.ID && s.Task != "" && slices.Contains(terminal, s.State) && !slices.Contains(terminal, t.State) {
		fmt.Fprintf(w.log, "shard %d: another task %s after %s ended %s\n", s.Shard, t.ID, s.Task, s.State)
	}
	s.Task, s.NodeID, s.State, s.ExitCode, s.Err = t.ID, t.NodeID, t.State, t.ExitCode, t.Err
	for _, n := range w.nodes {
		if n.ID != t.NodeID {
			continue
		}
		s.Node = n.Hostname
		if !s.Lost && !slices.Contains(terminal, t.State) && slices.Contains(nodeGone, n.State) && t.NodeID != "" {
			s.Lost = true
			fmt.Fprintf(w.log, "shard %d: node %s is %s while its task runs: the shard is lost\n", s.Shard, n.Hostname, n.State)
		}
	}
	if slices.Contains(waiting, t.State) {
		if _, ok := w.pending[s.Shard]; !ok {
			w.pending[s.Shard] = time.Now()
		}
	} else {
		delete(w.pending, s.Shard)
	}
}

func (w *watch) done() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range w.slots {
		if !s.Lost && !slices.Contains(terminal, s.State) {
			return false
		}
	}
	return true
}

// stuck is an error when a shard's task has waited for a node too long.
func (w *watch) stuck() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	for shard, since := range w.pending {
		if time.Since(since) > w.pendingMax {
			s := w.slots[shard-1]
			return &InputError{fmt.Errorf("shard %d/%d: its task waited %v for a node (%s): too few nodes fit the constraints, or one task per node is not possible",
				shard, w.n, w.pendingMax, orDash(s.Err))}
		}
	}
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// removeService removes the service and waits (a minute at most) until the
// nodes that still answer have removed its tasks' containers.
func removeService(ctx context.Context, m Manager, svc string, w *watch, log io.Writer) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := m.RemoveService(rctx, svc)
	cancel()
	if err != nil {
		fmt.Fprintf(log, "coordinator: service %s not removed: %v\n", svc, err)
		return
	}
	deadline := time.Now().Add(time.Minute)
	var left []engine.Task
	for time.Now().Before(deadline) {
		qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ts, err := m.Tasks(qctx, svc)
		cancel()
		if left = w.onLiveNodes(ts); err == nil && len(left) == 0 {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	var states []string
	for _, t := range left {
		states = append(states, fmt.Sprintf("%s %s/%s", t.ID, t.State, t.Desired))
	}
	fmt.Fprintf(log, "coordinator: the tasks of service %s were not all removed within a minute: %s\n", svc, strings.Join(states, ", "))
}

// onLiveNodes are the tasks on nodes that still answer.
func (w *watch) onLiveNodes(ts []engine.Task) []engine.Task {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []engine.Task
	for _, t := range ts {
		gone := false
		for _, n := range w.nodes {
			if n.ID == t.NodeID && slices.Contains(nodeGone, n.State) {
				gone = true
			}
		}
		if !gone {
			out = append(out, t)
		}
	}
	return out
}

// finish writes each shard that reported into its run directory and
// merges them; each incomplete shard gets the reason its task gave.
func finish(cfg Config, col *collector, w *watch) (*merge.Result, error) {
	var dirs []string
	reasons := map[int]string{}
	for i := range w.slots {
		s := &w.slots[i]
		st := col.shard(s.Shard)
		s.Reason = reason(s, st, w.n)
		reasons[s.Shard] = s.Reason
		if st == nil {
			continue
		}
		dir := filepath.Join(cfg.Out, "shards", fmt.Sprintf("%d-of-%d", s.Shard, w.n))
		node := s.Node
		if node == "" {
			node = st.manifest.Engine.Name
		}
		if err := st.write(dir, node, w.instanceType(s.NodeID, cfg.InstanceLabel), cfg.Suite); err != nil {
			return nil, err
		}
		dirs = append(dirs, dir)
	}
	if recs, damaged := col.counts(); damaged > 0 {
		fmt.Fprintf(cfg.Log, "coordinator: %d damaged frame lines dropped (%d records arrived)\n", damaged, recs)
	}
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%w: %v", ErrNoShard, reasons)
	}
	return merge.Dirs(dirs, merge.Options{Out: cfg.Out, RunID: cfg.RunID, MaxHostSpreadPct: cfg.MaxSpreadPct,
		Reasons: reasons, Harness: cfg.Harness, Args: cfg.Args})
}

func (w *watch) instanceType(nodeID, label string) string {
	for _, n := range w.nodes {
		if n.ID == nodeID {
			return n.Labels[label]
		}
	}
	return ""
}

// reason says why a shard may be incomplete (merge shows it only then).
func reason(s *Slot, st *stream, n int) string {
	switch {
	case s.Task == "":
		return "no task of this shard was ever scheduled"
	case s.Lost:
		return fmt.Sprintf("node %s went down while the shard ran; what its harness had sent before is kept", s.Node)
	case st == nil:
		return fmt.Sprintf("its task on %s ended %s (exit %d%s) before its harness sent anything", s.Node, s.State, s.ExitCode, errText(s.Err))
	case st.end == nil:
		return fmt.Sprintf("its task on %s ended %s (exit %d%s) before its harness's end mark: the service was removed, or the log lost lines", s.Node, s.State, s.ExitCode, errText(s.Err))
	case st.end.Code != 0:
		return fmt.Sprintf("its harness on %s ended with exit %d: %s", s.Node, st.end.Code, st.end.Error)
	}
	return fmt.Sprintf("its harness on %s sent %d records; fewer arrived", s.Node, st.end.Records)
}

func errText(e string) string {
	if e == "" {
		return ""
	}
	return ": " + e
}
