// Package engine is the Docker driver: it builds images locally, creates
// containers with limits and labels, starts, inspects, reads logs and removes
// them, and finds the harness's own leftovers by label. It hides the SDK
// behind the few calls the harness makes.
package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/versions"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/coldstart/coldstart/harness/result"
)

// Labels every object of the harness carries.
const (
	LabelHarness  = "io.coldstart.harness" // "1" on everything the harness makes
	LabelRun      = "io.coldstart.run"
	LabelOwner    = "io.coldstart.owner" // "<pid>:<start ticks>:<pid namespace>" of the harness process (bench.Owner)
	LabelScenario = "io.coldstart.scenario"
	LabelSeq      = "io.coldstart.seq"
	LabelVariant  = "io.coldstart.variant" // baseline | candidate, for a paired scenario
	LabelCell     = "io.coldstart.cell"    // the sweep cell, for a swept scenario
)

// ErrUnreachable marks errors where the engine did not answer at all.
var ErrUnreachable = errors.New("engine unreachable")

// Docker is a connection to one Docker engine.
type Docker struct {
	c    *client.Client
	lane *lane // the per-start calls without the SDK, nil off a Unix socket

	mu   sync.Mutex
	kmem *bool // the engine's info.KernelMemory, once read
}

// Dial connects to the engine named by the environment (DOCKER_HOST...) and
// checks that it answers within timeout. API version negotiation is on: this
// client speaks a newer API than the Debian engine (1.41).
func Dial(ctx context.Context, timeout time.Duration) (*Docker, error) {
	return DialHost(ctx, "", timeout)
}

// DialHost is Dial to an explicit engine address (unix:///path), whatever
// the environment says; "" means the environment's.
func DialHost(ctx context.Context, host string, timeout time.Duration) (*Docker, error) {
	// A no-op tracer: the SDK wraps every request in OpenTelemetry, which costs
	// harness CPU on each call and tells a benchmark nothing.
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation(),
		client.WithTraceProvider(noop.NewTracerProvider())}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	c, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker client: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if _, err := c.Ping(pctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("%w at %s: %v", ErrUnreachable, c.DaemonHost(), err)
	}
	c.NegotiateAPIVersion(pctx)
	return &Docker{c: c, lane: newLane(c.DaemonHost(), c.ClientVersion())}, nil
}

// Ping checks that the engine answers.
func (d *Docker) Ping(ctx context.Context) error {
	if _, err := d.c.Ping(ctx); err != nil {
		return classify("ping", err)
	}
	return nil
}

// Close releases the client's idle connections (the client stays usable).
func (d *Docker) Close() error {
	if d.lane != nil {
		d.lane.close()
	}
	return d.c.Close()
}

// Host reads the engine's version and system information.
func (d *Docker) Host(ctx context.Context) (result.Engine, error) {
	v, err := d.c.ServerVersion(ctx)
	if err != nil {
		return result.Engine{}, classify("version", err)
	}
	info, err := d.c.Info(ctx)
	if err != nil {
		return result.Engine{}, classify("info", err)
	}
	return result.Engine{
		Name:          info.Name,
		ID:            info.ID,
		EngineVersion: v.Version,
		APIVersion:    v.APIVersion,
		ClientAPI:     d.c.ClientVersion(),
		Runtime:       info.DefaultRuntime,
		CgroupVersion: info.CgroupVersion,
		CgroupDriver:  info.CgroupDriver,
		Kernel:        info.KernelVersion,
		OS:            info.OperatingSystem,
		CPUs:          info.NCPU,
		MemoryBytes:   info.MemTotal,
		StorageDriver: info.Driver,
		SwapLimit:     info.SwapLimit,
		KernelMemory:  info.KernelMemory,
		Warnings:      info.Warnings,
	}, nil
}

// ImageExists reports whether ref names a local image.
func (d *Docker) ImageExists(ctx context.Context, ref string) (bool, error) {
	_, err := d.c.ImageInspect(ctx, ref)
	if err == nil {
		return true, nil
	}
	if client.IsErrNotFound(err) {
		return false, nil
	}
	return false, classify("inspect image "+ref, err)
}

// ImageID returns the id of a local image, "" if there is none.
func (d *Docker) ImageID(ctx context.Context, ref string) (string, error) {
	r, err := d.c.ImageInspect(ctx, ref)
	if err != nil {
		if client.IsErrNotFound(err) {
			return "", nil
		}
		return "", classify("inspect image "+ref, err)
	}
	return r.ID, nil
}

// RemoveImage removes a local image (only call it on the harness's own images).
func (d *Docker) RemoveImage(ctx context.Context, ref string) error {
	_, err := d.c.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
	if err != nil && !client.IsErrNotFound(err) {
		return classify("remove image "+ref, err)
	}
	return nil
}

// RemoveReplaced removes an image a rebuild has untagged, if it is the
// harness's own (labelled) and nothing else refers to it: no prune, no force.
func (d *Docker) RemoveReplaced(ctx context.Context, id string) {
	r, err := d.c.ImageInspect(ctx, id)
	if err != nil || len(r.RepoTags) > 0 || r.Config == nil || r.Config.Labels[LabelHarness] != "1" {
		return
	}
	d.c.ImageRemove(ctx, id, image.RemoveOptions{PruneChildren: true})
}

// BuildSpec is a local image build through the engine API (legacy builder: this
// engine has no buildx and never pulls: FROM must name a local image or scratch).
type BuildSpec struct {
	Context    string // directory
	Dockerfile string // relative to Context
	Tag        string
	Args       map[string]string
	Labels     map[string]string
}

// Build builds an image from a directory, streaming the context as a tar (no
// temporary file) without what its .dockerignore excludes. The builder's output goes to log; a build error is returned
// with the builder's last lines.
func (d *Docker) Build(ctx context.Context, spec BuildSpec, log io.Writer) error {
	df := spec.Dockerfile
	if df == "" {
		df = "Dockerfile"
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarDir(spec.Context, df, pw)) }()
	defer pr.Close()
	args := map[string]*string{}
	for k, v := range spec.Args {
		args[k] = &v
	}
	resp, err := d.c.ImageBuild(ctx, pr, build.ImageBuildOptions{
		Tags:        []string{spec.Tag},
		Dockerfile:  df,
		BuildArgs:   args,
		Labels:      spec.Labels,
		Remove:      true,
		ForceRemove: true,
		Version:     build.BuilderV1,
	})
	if err != nil {
		return classify("build "+spec.Tag, err)
	}
	defer resp.Body.Close()
	defer d.sweepBuilder(spec.Labels)
	return readBuildStream(resp.Body, log, spec.Tag)
}

// sweepBuilder removes what the legacy builder can leave behind: an
// intermediate container of a metadata step ("#(nop) LABEL ..."), never
// started, carrying the build's labels (seen under concurrent builds).
func (d *Docker) sweepBuilder(labels map[string]string) {
	if len(labels) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f := labelFilter(labels)
	f.Add("status", "created")
	// A step's container of a build still running lives milliseconds; one
	// still there after 5 s is a leftover. Wait that long only when there is
	// a candidate at all (rare).
	const settled = 5 * time.Second
	for round := 0; round < 2; round++ {
		cs, err := d.c.ContainerList(ctx, container.ListOptions{All: true, Filters: f})
		if err != nil {
			return
		}
		young := false
		for _, c := range cs {
			if !strings.Contains(c.Command, "#(nop)") {
				continue
			}
			if time.Since(time.Unix(c.Created, 0)) >= settled {
				d.c.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
			} else {
				young = true
			}
		}
		if !young {
			return
		}
		time.Sleep(settled)
	}
}

// ContainerSpec is everything needed to create one measured container.
type ContainerSpec struct {
	Name       string
	Image      string
	Entrypoint []string
	Cmd        []string
	Env        []string
	User       string
	Labels     map[string]string
	Binds      []string // host:container[:opts]
	// Resources, as the engine takes them.
	CPUQuota, CPUPeriod int64
	CPUSet              string
	Memory, MemorySwap  int64
	KernelMemory        int64
	Pids                int64 // 0 = the engine's default, -1 = unlimited
	CPUShares           int64
	Confinement
}

// Confinement is what a container may do beyond its resources, as the
// engine takes it; Inspect reads the same fields back.
type Confinement struct {
	SecurityOpt    []string // e.g. no-new-privileges:true
	CapDrop        []string // e.g. ALL
	CapAdd         []string // e.g. SETUID
	ReadOnlyRootfs bool
	Tmpfs          map[string]string // mount point -> options
	NoFile         int64             // RLIMIT_NOFILE, soft = hard; 0 = the engine's default
	LogType        string            // log driver, e.g. json-file ("" = the engine's default)
	LogOpts        map[string]string // e.g. max-size
}

// Create creates a container (not started). NetworkMode none: socket-only apps
// need no network, and it makes start and forced removal faster.
func (d *Docker) Create(ctx context.Context, s ContainerSpec) (string, error) {
	cfg := &container.Config{
		Image:      s.Image,
		Env:        s.Env,
		User:       s.User,
		Labels:     s.Labels,
		Entrypoint: s.Entrypoint,
		Cmd:        s.Cmd,
	}
	var pids *int64
	if s.Pids != 0 {
		p := s.Pids
		pids = &p
	}
	hc := &container.HostConfig{
		NetworkMode:    "none",
		Binds:          s.Binds,
		SecurityOpt:    s.SecurityOpt,
		CapDrop:        s.CapDrop,
		CapAdd:         s.CapAdd,
		ReadonlyRootfs: s.ReadOnlyRootfs,
		Tmpfs:          s.Tmpfs,
		Resources: container.Resources{
			CPUQuota:     s.CPUQuota,
			CPUPeriod:    s.CPUPeriod,
			CpusetCpus:   s.CPUSet,
			Memory:       s.Memory,
			MemorySwap:   s.MemorySwap,
			KernelMemory: s.KernelMemory,
			PidsLimit:    pids,
			CPUShares:    s.CPUShares,
		},
	}
	if s.NoFile > 0 {
		hc.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: s.NoFile, Hard: s.NoFile}}
	}
	if s.LogType != "" {
		hc.LogConfig = container.LogConfig{Type: s.LogType, Config: s.LogOpts}
	}
	if d.lane != nil {
		return d.laneCreate(ctx, cfg, hc, s.Name)
	}
	r, err := d.c.ContainerCreate(ctx, cfg, hc, nil, nil, s.Name)
	if err != nil {
		return "", classify("create", err)
	}
	return r.ID, nil
}

// Exit is how a container ended.
type Exit struct {
	Code int64
	Err  error
}

// WaitExit registers, before the start, a wait for the container's next exit;
// the engine acknowledges it before this returns, so a container that exits
// immediately after start is still seen. The channel gets one value and is
// then closed; cancel ctx to stop waiting.
func (d *Docker) WaitExit(ctx context.Context, id string) <-chan Exit {
	if d.lane != nil {
		return d.lane.waitExit(ctx, id)
	}
	out := make(chan Exit, 1)
	resC, errC := d.c.ContainerWait(ctx, id, container.WaitConditionNextExit)
	go func() {
		defer close(out)
		select {
		case r := <-resC:
			e := Exit{Code: r.StatusCode}
			if r.Error != nil {
				e.Err = errors.New(r.Error.Message)
			}
			out <- e
		case err := <-errC:
			out <- Exit{Code: -1, Err: classify("wait", err)}
		}
	}()
	return out
}

// Start starts a created container.
func (d *Docker) Start(ctx context.Context, id string) error {
	if d.lane != nil {
		_, err := d.lane.call(ctx, http.MethodPost, "/containers/"+url.PathEscape(id)+"/start", nil)
		return classify("start", err)
	}
	if err := d.c.ContainerStart(ctx, id, container.StartOptions{}); err != nil {
		return classify("start", err)
	}
	return nil
}

// State is what inspect tells about a container.
type State struct {
	Running   bool
	Pid       int
	ExitCode  int
	OOMKilled bool
	Status    string
	Error     string
	StartedAt time.Time
	// Limits as the engine recorded them (the request, not proof of enforcement).
	CPUQuota, CPUPeriod, NanoCPUs    int64
	Memory, MemorySwap, KernelMemory int64
	Pids                             int64
	CPUShares                        int64
	CgroupParent                     string
	// Confinement as the engine recorded it, and the configured user.
	Confinement
	User    string
	LogPath string // the json-file log on the engine's host, if any
	// KernelMemoryUnsupported says why a kernel-memory limit never reached the
	// container, "" when the engine takes one: see Docker.KernelMemoryUnsupported.
	KernelMemoryUnsupported string
}

// kernelMemoryDropped is the first API version without
// HostConfig.KernelMemory: the engine ignores it, and the SDK zeroes it in
// every create request without a word.
const kernelMemoryDropped = "1.42"

// KernelMemoryUnsupported says why a kernel-memory limit never reaches the
// container, or "" when the engine takes it. Two engines drop it with no
// error: one at API >= 1.42 (the field is gone), and an older one on a host
// without kernel-memory accounting (every cgroup v2 host), which discards
// it with only a warning in its log.
func (d *Docker) KernelMemoryUnsupported(ctx context.Context) string {
	api := d.c.ClientVersion()
	supported := true
	if versions.LessThan(api, kernelMemoryDropped) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.kmem == nil {
			info, err := d.c.Info(ctx)
			if err != nil {
				return "" // unknown: inspect shows what the engine recorded
			}
			d.kmem = &info.KernelMemory
		}
		supported = *d.kmem
	}
	return kernelMemoryNote(api, supported)
}

func kernelMemoryNote(api string, hostSupports bool) string {
	switch {
	case !versions.LessThan(api, kernelMemoryDropped):
		return fmt.Sprintf("not supported by this engine (API %s; dropped in %s)", api, kernelMemoryDropped)
	case !hostSupports:
		return fmt.Sprintf("not supported by this engine here (API %s: discarded, no kernel-memory limit on this host)", api)
	}
	return ""
}

// Inspect reads a container's state and recorded limits.
func (d *Docker) Inspect(ctx context.Context, id string) (State, error) {
	r, err := d.c.ContainerInspect(ctx, id)
	if err != nil {
		return State{}, classify("inspect", err)
	}
	var s State
	if r.State != nil {
		s.Running = r.State.Running
		s.Pid = r.State.Pid
		s.ExitCode = r.State.ExitCode
		s.OOMKilled = r.State.OOMKilled
		s.Status = r.State.Status
		s.Error = r.State.Error
		if t, err := time.Parse(time.RFC3339Nano, r.State.StartedAt); err == nil && !t.IsZero() && t.Year() > 1 {
			s.StartedAt = t
		}
	}
	if hc := r.HostConfig; hc != nil {
		s.CPUQuota, s.CPUPeriod, s.NanoCPUs = hc.CPUQuota, hc.CPUPeriod, hc.NanoCPUs
		s.Memory, s.MemorySwap, s.KernelMemory = hc.Memory, hc.MemorySwap, hc.KernelMemory
		if hc.PidsLimit != nil {
			s.Pids = *hc.PidsLimit
		}
		s.CPUShares = hc.CPUShares
		s.CgroupParent = hc.CgroupParent
		s.Confinement = confinementOf(hc)
	}
	s.KernelMemoryUnsupported = d.KernelMemoryUnsupported(ctx)
	if r.Config != nil {
		s.User = r.Config.User
	}
	s.LogPath = r.LogPath
	return s, nil
}

// confinementOf reads back what Create set from the engine's record.
func confinementOf(hc *container.HostConfig) Confinement {
	c := Confinement{SecurityOpt: hc.SecurityOpt, CapDrop: hc.CapDrop, CapAdd: hc.CapAdd,
		ReadOnlyRootfs: hc.ReadonlyRootfs, Tmpfs: hc.Tmpfs, LogType: hc.LogConfig.Type, LogOpts: hc.LogConfig.Config}
	for _, u := range hc.Ulimits {
		if u != nil && u.Name == "nofile" {
			c.NoFile = u.Soft
		}
	}
	return c
}

// Logs returns the last lines of a container's stdout and stderr,
// interleaved, and of those at most the last maxBytes: an app that floods
// its output, or writes one endless line, costs the harness a bounded read
// and a bounded record.
func (d *Docker) Logs(ctx context.Context, id string, lines, maxBytes int) (string, error) {
	rc, err := d.c.ContainerLogs(ctx, id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Tail: strconv.Itoa(lines)})
	if err != nil {
		return "", classify("logs", err)
	}
	defer rc.Close()
	t := &TailBuffer{Max: maxBytes}
	if _, err := stdcopy.StdCopy(t, t, io.LimitReader(rc, logReadLimit)); err != nil {
		return t.String(), classify("logs", err)
	}
	return t.String(), nil
}

// logReadLimit bounds what Logs reads from the engine, whatever the lines hold.
const logReadLimit = 8 << 20

// TailBuffer keeps the last Max bytes written to it (cut at a UTF-8
// boundary when read), in a buffer of at most twice that.
type TailBuffer struct {
	Max int
	b   []byte
	cut bool // bytes were dropped
}

func (t *TailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	if len(p) > t.Max {
		p, t.cut = p[len(p)-t.Max:], true
		t.b = t.b[:0]
	}
	t.b = append(t.b, p...)
	if len(t.b) > 2*t.Max {
		t.b, t.cut = append(t.b[:0], t.b[len(t.b)-t.Max:]...), true
	}
	return n, nil
}

// String is the tail, starting at a rune boundary; "[...]" marks a cut.
func (t *TailBuffer) String() string {
	b := t.b
	if len(b) > t.Max {
		b, t.cut = b[len(b)-t.Max:], true
	}
	if !t.cut {
		return string(b)
	}
	i := 0
	for i < len(b) && i < utf8.UTFMax && !utf8.RuneStart(b[i]) {
		i++
	}
	return "[...]" + string(b[i:])
}

// Stderr returns a container's whole stderr (bounded to max bytes).
func (d *Docker) Stderr(ctx context.Context, id string, max int64) (string, error) {
	rc, err := d.c.ContainerLogs(ctx, id, container.LogsOptions{ShowStderr: true})
	if err != nil {
		return "", classify("logs", err)
	}
	defer rc.Close()
	var b strings.Builder
	if _, err := stdcopy.StdCopy(io.Discard, &b, io.LimitReader(rc, max)); err != nil {
		return b.String(), classify("logs", err)
	}
	return b.String(), nil
}

// Kill sends SIGKILL to a running container; one that is not running is not an error.
func (d *Docker) Kill(ctx context.Context, id string) error {
	err := d.c.ContainerKill(ctx, id, "KILL")
	if err != nil && !client.IsErrNotFound(err) && !strings.Contains(err.Error(), "is not running") {
		return classify("kill", err)
	}
	return nil
}

// Remove force-removes a container (kills it if running). A container that is
// already gone is not an error.
func (d *Docker) Remove(ctx context.Context, id string) error {
	var err error
	if d.lane != nil {
		_, err = d.lane.call(ctx, http.MethodDelete, "/containers/"+url.PathEscape(id)+"?force=1&v=1", nil)
	} else {
		err = d.c.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true})
	}
	if err != nil && !client.IsErrNotFound(err) && !strings.Contains(err.Error(), "is already in progress") {
		return classify("remove", err)
	}
	return nil
}

// Container is one listed container.
type Container struct {
	ID     string
	Name   string
	State  string
	Labels map[string]string
}

// List lists all containers (running or not) carrying every given label
// (value "" matches any value).
func (d *Docker) List(ctx context.Context, labels map[string]string) ([]Container, error) {
	cs, err := d.c.ContainerList(ctx, container.ListOptions{All: true, Filters: labelFilter(labels)})
	if err != nil {
		return nil, classify("list", err)
	}
	out := make([]Container, 0, len(cs))
	for _, c := range cs {
		name := ""
		if len(c.Names) > 0 {
			name = strings.TrimPrefix(c.Names[0], "/")
		}
		out = append(out, Container{ID: c.ID, Name: name, State: c.State, Labels: c.Labels})
	}
	return out, nil
}

// labelFilter matches objects carrying every label (value "" matches any value).
func labelFilter(labels map[string]string) filters.Args {
	f := filters.NewArgs()
	for k, v := range labels {
		if v == "" {
			f.Add("label", k)
		} else {
			f.Add("label", k+"="+v)
		}
	}
	return f
}

// classify adds context and marks connection failures with ErrUnreachable so
// that callers can tell "the engine is gone" from "the engine said no".
func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if client.IsErrConnectionFailed(err) || isConnErr(err) {
		return fmt.Errorf("%s: %w: %v", op, ErrUnreachable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

func isConnErr(err error) bool {
	// An answer from the daemon (any HTTP status) means it is reachable.
	if strings.Contains(err.Error(), "Error response from daemon") {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// readBuildStream decodes the builder's JSON message stream.
func readBuildStream(r io.Reader, log io.Writer, tag string) error {
	dec := json.NewDecoder(r)
	var tail []string
	for {
		var m buildMessage
		if err := dec.Decode(&m); err != nil {
			if err == io.EOF {
				return nil
			}
			return fmt.Errorf("build %s: read output: %w", tag, err)
		}
		if m.Stream != "" {
			if log != nil {
				io.WriteString(log, m.Stream)
			}
			for _, l := range strings.Split(strings.TrimRight(m.Stream, "\n"), "\n") {
				tail = append(tail, l)
				if len(tail) > 10 {
					tail = tail[1:]
				}
			}
		}
		if m.Error != "" {
			msg := m.Error
			if len(tail) > 0 {
				msg += "\n  " + strings.Join(tail, "\n  ")
			}
			return fmt.Errorf("build %s: %s", tag, msg)
		}
	}
}
