package engine

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/errdefs"
	"github.com/docker/docker/pkg/stdcopy"
)

// The swarm calls a coordinator makes on a manager: a config for the suite,
// a one-shot replicated service, its tasks and logs, the nodes.

// SwarmState says whether the engine is in a swarm and a manager of it.
type SwarmState struct {
	Local   string // inactive | pending | active | error | locked
	Manager bool   // it can create services
	NodeID  string
}

// Swarm reads the engine's swarm state.
func (d *Docker) Swarm(ctx context.Context) (SwarmState, error) {
	info, err := d.c.Info(ctx)
	if err != nil {
		return SwarmState{}, classify("info", err)
	}
	s := info.Swarm
	return SwarmState{Local: string(s.LocalNodeState), Manager: s.ControlAvailable, NodeID: s.NodeID}, nil
}

// Node is one node of the swarm.
type Node struct {
	ID, Hostname, Role, State, Availability string
	Labels                                  map[string]string
}

// Nodes lists the swarm's nodes (on a manager).
func (d *Docker) Nodes(ctx context.Context) ([]Node, error) {
	ns, err := d.c.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return nil, classify("node list", err)
	}
	out := make([]Node, 0, len(ns))
	for _, n := range ns {
		out = append(out, Node{ID: n.ID, Hostname: n.Description.Hostname, Role: string(n.Spec.Role),
			State: string(n.Status.State), Availability: string(n.Spec.Availability), Labels: n.Spec.Labels})
	}
	return out, nil
}

// CreateConfig stores data as a swarm config and returns its id.
func (d *Docker) CreateConfig(ctx context.Context, name string, data []byte, labels map[string]string) (string, error) {
	r, err := d.c.ConfigCreate(ctx, swarm.ConfigSpec{Annotations: swarm.Annotations{Name: name, Labels: labels}, Data: data})
	if err != nil {
		return "", classify("config create", err)
	}
	return r.ID, nil
}

// RemoveConfig removes a swarm config; one already gone is not an error.
func (d *Docker) RemoveConfig(ctx context.Context, id string) error {
	if err := d.c.ConfigRemove(ctx, id); err != nil && !errdefs.IsNotFound(err) {
		return classify("config remove", err)
	}
	return nil
}

// Bind is a host path of the node mounted into a task's container.
type Bind struct {
	Source, Target string
	ReadOnly       bool
}

// OneShot is a service whose tasks each run once to completion on their
// own node: a replicated service with Replicas tasks, at most one per node,
// never restarted. (A replicated job would be the natural mode, but on
// Engine 20.10 a removed job leaves its tasks in the manager's store and
// their containers on every node: moby/moby#42789, #44312, seen here.)
type OneShot struct {
	Name        string
	Image       string
	Args, Env   []string // Env may hold swarm templates ({{.Task.Slot}})
	Labels      map[string]string
	Replicas    int
	Constraints []string
	Binds       []Bind
	// ConfigID, ConfigName and ConfigTarget put a swarm config into each
	// task's container as a file.
	ConfigID, ConfigName, ConfigTarget string
	StopGrace                          time.Duration
}

// CreateOneShot creates the service and returns its id. Nothing is pulled
// or resolved against a registry: each node runs the image it has.
func (d *Docker) CreateOneShot(ctx context.Context, o OneShot) (string, error) {
	n := uint64(o.Replicas)
	var mounts []mount.Mount
	for _, b := range o.Binds {
		mounts = append(mounts, mount.Mount{Type: mount.TypeBind, Source: b.Source, Target: b.Target, ReadOnly: b.ReadOnly})
	}
	cs := &swarm.ContainerSpec{Image: o.Image, Args: o.Args, Env: o.Env, Labels: o.Labels, Mounts: mounts, StopGracePeriod: &o.StopGrace}
	if o.ConfigID != "" {
		cs.Configs = []*swarm.ConfigReference{{ConfigID: o.ConfigID, ConfigName: o.ConfigName,
			File: &swarm.ConfigReferenceFileTarget{Name: o.ConfigTarget, UID: "0", GID: "0", Mode: 0o444}}}
	}
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: o.Name, Labels: o.Labels},
		Mode:        swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &n}},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: cs,
			RestartPolicy: &swarm.RestartPolicy{Condition: swarm.RestartPolicyConditionNone},
			Placement:     &swarm.Placement{Constraints: o.Constraints, MaxReplicas: 1},
		},
	}
	r, err := d.c.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{})
	if err != nil {
		return "", classify("service create", err)
	}
	return r.ID, nil
}

// RemoveService removes a service (its nodes stop and remove its tasks'
// containers); one already gone is not an error.
func (d *Docker) RemoveService(ctx context.Context, id string) error {
	if err := d.c.ServiceRemove(ctx, id); err != nil && !errdefs.IsNotFound(err) {
		return classify("service remove", err)
	}
	return nil
}

// Task is one task of a service.
type Task struct {
	ID, NodeID, State, Desired, Err string
	Slot, ExitCode                  int
	Time                            time.Time
}

// Tasks lists a service's tasks, also after the service was removed (its
// tasks live on until their nodes have removed their containers).
func (d *Docker) Tasks(ctx context.Context, serviceID string) ([]Task, error) {
	ts, err := d.c.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", serviceID))})
	if errdefs.IsNotFound(err) {
		// The filter takes only services that exist: look at every task.
		ts, err = d.c.TaskList(ctx, swarm.TaskListOptions{})
	}
	if err != nil {
		return nil, classify("task list", err)
	}
	out := make([]Task, 0, len(ts))
	for _, t := range ts {
		if t.ServiceID != serviceID {
			continue
		}
		x := Task{ID: t.ID, NodeID: t.NodeID, State: string(t.Status.State), Desired: string(t.DesiredState),
			Err: t.Status.Err, Slot: t.Slot, Time: t.Status.Timestamp}
		if c := t.Status.ContainerStatus; c != nil {
			x.ExitCode = c.ExitCode
		}
		out = append(out, x)
	}
	return out, nil
}

// ServiceLogs reads a service's logs (both streams, every task) and calls
// line for each line with the task it came from. With follow it reads until
// ctx ends; without, until the end of what the nodes have. An error inside
// the stream (a node that is not available) is returned at the end.
func (d *Docker) ServiceLogs(ctx context.Context, id string, follow bool, line func(task, stream, text string)) error {
	rc, err := d.c.ServiceLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: follow, Details: true})
	if err != nil {
		return classify("service logs", err)
	}
	defer rc.Close()
	out, errs := &lineWriter{stream: "stdout", fn: line}, &lineWriter{stream: "stderr", fn: line}
	_, err = stdcopy.StdCopy(out, errs, rc)
	out.flush()
	errs.flush()
	if err != nil && ctx.Err() == nil {
		return fmt.Errorf("service logs: %w", err)
	}
	return nil
}

// lineWriter cuts a log stream into lines and strips the details the
// engine puts before each ("com.docker.swarm.task.id=...,... ").
type lineWriter struct {
	stream string
	fn     func(task, stream, text string)
	buf    []byte
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

func (w *lineWriter) flush() {
	if len(w.buf) > 0 {
		w.emit(string(w.buf))
		w.buf = nil
	}
}

func (w *lineWriter) emit(l string) {
	details, text, ok := strings.Cut(l, " ")
	task := ""
	if ok && strings.Contains(details, "com.docker.swarm.") {
		for _, kv := range strings.Split(details, ",") {
			if v, found := strings.CutPrefix(kv, "com.docker.swarm.task.id="); found {
				task = v
			}
		}
	} else {
		text = l
	}
	w.fn(task, w.stream, text)
}
