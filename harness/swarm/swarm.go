// Package swarm runs a suite sharded across the nodes of a Docker Swarm:
// the harness image runs as a one-shot service, one task per node, each
// task measuring its shard against its own node's engine; the suite reaches
// the tasks as a swarm config; the results come back through the service's
// logs as framed JSON and are merged. The swarm is only a way to start the
// harness on other engines: the scheduling is Swarm's.
package swarm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/merge"
)

// Manager is the subset of the Docker driver that the coordinator uses, on
// a swarm manager.
type Manager interface {
	Swarm(ctx context.Context) (engine.SwarmState, error)
	Nodes(ctx context.Context) ([]engine.Node, error)
	CreateConfig(ctx context.Context, name string, data []byte, labels map[string]string) (string, error)
	RemoveConfig(ctx context.Context, id string) error
	CreateOneShot(ctx context.Context, o engine.OneShot) (string, error)
	RemoveService(ctx context.Context, id string) error
	Tasks(ctx context.Context, serviceID string) ([]engine.Task, error)
	ServiceLogs(ctx context.Context, id string, follow bool, line func(task, stream, text string)) error
}

var _ Manager = (*engine.Docker)(nil)

// Config is a sharded run on a swarm.
type Config struct {
	SuiteFile string // for names and messages
	Suite     []byte // the suite file's bytes: the tasks read them from a swarm config
	SuiteName string
	Nodes     int   // shards, one task per node
	Seed      int64 // the plan seed every shard shares
	// RunArgs are passed on to every task's `coldstart run` (--runs, --scenario...).
	RunArgs     []string
	Constraints []string // placement constraints (node.labels.K==V ...)
	Image       string   // the harness image, on every node
	// EngineSocket is the engine's socket on every node; SocketDir the
	// socket base on every node (it must exist there, a 0700 directory of
	// root: it is mounted into the task at the same path).
	EngineSocket, SocketDir string
	// InstanceLabel is the node label that names a node's instance type.
	InstanceLabel string
	Out           string // the merged run; the shards go below it, in shards/
	RunID         string
	Harness       string
	Args          []string
	MaxSpreadPct  float64
	// Poll is how often tasks and nodes are looked at; PendingTimeout how
	// long a task may wait for a node before the run is given up.
	Poll, PendingTimeout time.Duration
	Log                  io.Writer
}

// Defaults.
const (
	DefaultImage         = "coldstart/harness:latest"
	DefaultEngineSocket  = "/var/run/docker.sock"
	DefaultInstanceLabel = "instance-type"
	// DefaultSocketDir is the socket base on the nodes: the harness's
	// default for root.
	DefaultSocketDir = "/run/coldstart"
	// ConfigTarget is where a task finds the suite.
	ConfigTarget = "/suite.yaml"
	// StopGrace is how long a task has to remove its start in flight and
	// end its journal when the service is removed.
	StopGrace = 30 * time.Second
)

// InputError is a swarm run refused before anything was created.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Outcome is what a swarm run gives: the merged run (nil when no shard
// reported at all) and each shard's fate.
type Outcome struct {
	Merged  *merge.Result
	Slots   []Slot
	Service string
}

// Run runs the suite's shards on the swarm and merges them into cfg.Out.
// When ctx ends (a signal), the service is removed at once: its tasks end
// their starts in flight; what they sent before is merged, their shards
// marked incomplete. The service and the config are removed in every case.
func Run(ctx context.Context, m Manager, cfg Config) (*Outcome, error) {
	cfg = withDefaults(cfg)
	nodes, err := check(ctx, m, cfg)
	if err != nil {
		return nil, err
	}
	tag := tagOf(cfg.RunID)
	labels := map[string]string{engine.LabelHarness: "1", engine.LabelRun: cfg.RunID}
	cleanCtx := context.WithoutCancel(ctx)
	cfgID, err := m.CreateConfig(ctx, "coldstart-"+tag+"-suite", cfg.Suite, labels)
	if err != nil {
		return nil, err
	}
	defer removeConfig(cleanCtx, m, cfgID, cfg.Log)
	svc, err := m.CreateOneShot(ctx, oneShot(cfg, tag, cfgID, labels))
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(cfg.Log, "service coldstart-%s: %d tasks, one per node (if this process is killed, remove it: docker service rm coldstart-%s)\n", tag, cfg.Nodes, tag)
	w := newWatch(m, svc, cfg.Nodes, nodes, cfg)
	col := newCollector(cfg.Log, w.label)
	follow, stopFollow := context.WithCancel(ctx)
	followed := make(chan struct{})
	go func() { defer close(followed); followLogs(follow, m, svc, col) }()
	waitErr := w.wait(ctx)
	stopFollow()
	<-followed
	if ctx.Err() == nil && waitErr == nil {
		// What the follow may have missed, from the nodes that still answer.
		rctx, cancel := context.WithTimeout(ctx, time.Minute)
		if err := m.ServiceLogs(rctx, svc, false, col.framesOnly); err != nil {
			fmt.Fprintf(cfg.Log, "coordinator: reading the logs again: %v\n", err)
		}
		cancel()
	}
	removeService(cleanCtx, m, svc, w, cfg.Log)
	out := &Outcome{Service: "coldstart-" + tag, Slots: w.slots}
	out.Merged, err = finish(cfg, col, w)
	if waitErr != nil {
		return out, waitErr
	}
	if cause := context.Cause(ctx); cause != nil {
		return out, cause
	}
	return out, err
}

func withDefaults(c Config) Config {
	if c.Image == "" {
		c.Image = DefaultImage
	}
	if c.SocketDir == "" {
		c.SocketDir = DefaultSocketDir
	}
	if c.EngineSocket == "" {
		c.EngineSocket = DefaultEngineSocket
	}
	if c.InstanceLabel == "" {
		c.InstanceLabel = DefaultInstanceLabel
	}
	if c.Poll <= 0 {
		c.Poll = time.Second
	}
	if c.PendingTimeout <= 0 {
		c.PendingTimeout = 2 * time.Minute
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	return c
}

// tagOf is the run id's random part, for names.
func tagOf(runID string) string {
	for i := len(runID) - 1; i >= 0; i-- {
		if runID[i] == '-' {
			return runID[i+1:]
		}
	}
	return runID
}

// check refuses a run the swarm cannot take: not a manager, too few nodes.
func check(ctx context.Context, m Manager, cfg Config) ([]engine.Node, error) {
	if cfg.Nodes < 1 {
		return nil, &InputError{fmt.Errorf("--nodes %d: want at least 1", cfg.Nodes)}
	}
	st, err := m.Swarm(ctx)
	if err != nil {
		return nil, err
	}
	if st.Local != "active" || !st.Manager {
		return nil, &InputError{fmt.Errorf("this engine is not a manager of an active swarm (state %q): run on a manager, or point DOCKER_HOST at one", st.Local)}
	}
	nodes, err := m.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	ready := 0
	for _, n := range nodes {
		if n.State == "ready" && n.Availability == "active" {
			ready++
		}
	}
	if ready < cfg.Nodes {
		return nil, &InputError{fmt.Errorf("--nodes %d: the swarm has %d ready, active nodes (one task per node)", cfg.Nodes, ready)}
	}
	return nodes, nil
}

// oneShot is the service: the harness image running its shard's part of
// the plan against its node's engine, sending its run as frames.
func oneShot(cfg Config, tag, cfgID string, labels map[string]string) engine.OneShot {
	args := []string{"run", ConfigTarget, "--seed", strconv.FormatInt(cfg.Seed, 10), "--no-build", "--frames", "--quiet",
		"--html=false", "--history", "off", "--socket-dir", cfg.SocketDir, "--out", "/coldstart-run"}
	args = append(args, cfg.RunArgs...)
	return engine.OneShot{
		Name: "coldstart-" + tag, Image: cfg.Image, Args: args, Labels: labels, Replicas: cfg.Nodes,
		// Swarm's slots are 1..N: the shard is the slot.
		Env:         []string{"COLDSTART_SHARD={{.Task.Slot}}/" + strconv.Itoa(cfg.Nodes)},
		Constraints: cfg.Constraints,
		Binds: []engine.Bind{
			{Source: cfg.EngineSocket, Target: DefaultEngineSocket},
			// The engine resolves bind sources on the node: the socket dirs
			// must have the same path in the task as on the node. A task
			// cannot mount the base's tmpfs (no CAP_SYS_ADMIN): the node
			// prepares the base.
			{Source: cfg.SocketDir, Target: cfg.SocketDir},
			{Source: "/sys/fs/cgroup", Target: "/sys/fs/cgroup", ReadOnly: true},
		},
		ConfigID: cfgID, ConfigName: "coldstart-" + tag + "-suite", ConfigTarget: ConfigTarget,
		StopGrace: StopGrace,
	}
}

// followLogs follows the service's logs until ctx ends, starting again if
// the stream breaks (the collector drops what it saw already).
func followLogs(ctx context.Context, m Manager, svc string, col *collector) {
	for ctx.Err() == nil {
		if err := m.ServiceLogs(ctx, svc, true, col.line); err != nil && ctx.Err() == nil {
			fmt.Fprintf(col.log, "coordinator: following the logs: %v (again in 1 s)\n", err)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}

func removeConfig(ctx context.Context, m Manager, id string, log io.Writer) {
	var err error
	for i := 0; i < 10; i++ {
		rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		err = m.RemoveConfig(rctx, id)
		cancel()
		if err == nil {
			return
		}
		time.Sleep(time.Second) // a task that has not let go of it yet
	}
	fmt.Fprintf(log, "coordinator: config %s not removed: %v\n", id, err)
}

// ErrNoShard: not one shard's harness reported; there is nothing to merge.
var ErrNoShard = errors.New("no shard reported")
