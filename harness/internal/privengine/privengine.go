// Package privengine starts PRIVATE Docker engines for tests: each its own
// dockerd with its own -H socket, data root, exec root, pid file, config file
// and managed containerd, in a network namespace of its own, and removes every
// trace of them afterwards. The machine's shared engine is never touched. It
// is for tests only (the engine-fault tests of bench, the swarm test of cli).
//
// Two shapes:
//   - a lone engine (Options.Netns empty): dockerd in a fresh network
//     namespace, no bridge, no iptables; its paths are below Dir.
//   - a node (Options.Netns set): dockerd in a named network namespace (see
//     Network), in mount and UTS namespaces of its own with its host name,
//     and with Dir bound at Options.MountAt inside its mount namespace, so
//     that one path (MountAt/d.sock) means each node's own engine to the
//     containers it starts. Nothing it mounts is seen outside.
//
// Observed on Docker 20.10.24 / containerd 1.6.20 (live-restore off):
//   - SIGKILL of dockerd also ends its managed containerd (dockerd starts it
//     with Pdeathsig SIGKILL, in its own session), but containerd-shim-runc-v2
//     and the container's process keep running while dockerd is down.
//   - a dockerd started with --bridge none in the host's network namespace
//     deletes the host's docker0 at start (moby's removeDefaultBridgeInterface):
//     never start one there.
//   - `ip netns exec` mounts a fresh /sys, which hides /sys/fs/cgroup: dockerd
//     then fails with "Devices cgroup isn't mounted". Nodes enter their
//     network namespace with nsenter instead.
//   - pid 1 of these VMs reaps orphans slowly: a killed dockerd's containerd
//     can still be a zombie at restart, which dockerd takes for a live
//     containerd to reuse. Restart drops the stale pid file.
//   - dockerd bind-mounts its data root onto itself (shared propagation) and
//     that mount outlives it; overlay and nsfs mounts of running containers
//     outlive a SIGKILL. Destroy unmounts everything below Dir (a node's
//     mounts die with its mount namespace).
//   - every engine started with the same /etc/docker/key.json reports the
//     same engine ID: tell nodes apart by host name.
package privengine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
)

// Options shape a private engine.
type Options struct {
	// Name is the node's host name, in its own UTS namespace (nodes only).
	Name string
	// Netns is a named network namespace (ip netns) to run the engine in;
	// empty: a fresh anonymous one and a lone engine.
	Netns string
	// MountAt is where Dir appears inside the node's mount namespace; it
	// must exist (an empty directory) on the host. Nodes only.
	MountAt string
	// Args are extra dockerd arguments (a lone engine always gets no
	// bridge and no iptables).
	Args []string
	// Prefix names the private directory (/tmp/<Prefix>XXXX); default "csde-".
	Prefix string
}

// Engine is a dockerd of the test's own.
type Engine struct {
	t       testing.TB
	opts    Options
	Dir     string // the private directory on the host: everything of the engine is below it
	root    string // the same directory as dockerd sees it (MountAt for a node)
	Driver  string // storage driver it runs with
	logPath string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{} // closed when cmd has been waited for
	ids    map[string]bool
	starts int
	mntNS  string // a node's mount namespace ("mnt:[N]"), once known
}

// Sock is the engine's API socket as the host sees it.
func (p *Engine) Sock() string { return filepath.Join(p.Dir, "d.sock") }

// Host is the engine's address for a client on the host.
func (p *Engine) Host() string { return "unix://" + p.Sock() }

// NodeSock is the socket's path inside the engine's own mount namespace:
// what a container of this engine bind-mounts to reach it.
func (p *Engine) NodeSock() string { return filepath.Join(p.root, "d.sock") }

// Starts is how many times dockerd was started.
func (p *Engine) Starts() int { return p.starts }

// containerdSock is where the managed containerd listens, as it names itself.
func (p *Engine) containerdSock() string {
	return filepath.Join(p.root, "exec", "containerd", "containerd.sock")
}

// Start starts a private dockerd and registers its complete removal. It
// skips the test under -short, without dockerd, or when not root.
func Start(t testing.TB, opts Options) *Engine {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test starts private dockerd engines")
	}
	if _, err := exec.LookPath("dockerd"); err != nil {
		t.Skip("dockerd is not installed")
	}
	if os.Geteuid() != 0 {
		t.Skip("a private dockerd needs root")
	}
	// dockerd 20.10 uses a system containerd instead of starting its own when
	// this socket exists: the private engine would then share it.
	if _, err := os.Lstat("/run/containerd/containerd.sock"); err == nil {
		t.Fatal("/run/containerd/containerd.sock exists: a private dockerd 20.10 would use that shared containerd instead of its own")
	}
	if opts.Prefix == "" {
		opts.Prefix = "csde-"
	}
	dir, err := os.MkdirTemp("/tmp", opts.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	p := &Engine{t: t, opts: opts, Dir: dir, root: dir, logPath: filepath.Join(dir, "dockerd.log"), ids: map[string]bool{}}
	if opts.Netns != "" {
		p.root = opts.MountAt
	}
	t.Cleanup(p.Destroy)
	// The shared engine's bridge must outlive the private engine.
	if _, err := net.InterfaceByName("docker0"); err == nil {
		t.Cleanup(func() {
			if _, err := net.InterfaceByName("docker0"); err != nil {
				t.Errorf("the host's docker0 is gone after the private engine: %v", err)
			}
		})
	}
	// An empty config file: the default /etc/docker/daemon.json names the
	// shared engine's data root and storage driver.
	if err := os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var errs []string
	for _, drv := range []string{"overlay2", "vfs"} {
		p.Driver = drv
		took, err := p.Restart()
		if err == nil {
			t.Logf("private dockerd %s up in %v (storage driver %s, dir %s)", opts.Name, took.Round(time.Millisecond), drv, dir)
			p.checkOwnContainerd()
			return p
		}
		errs = append(errs, fmt.Sprintf("%s: %v", drv, err))
		p.resetFor()
	}
	t.Fatalf("private dockerd does not start: %s\n%s", strings.Join(errs, "; "), p.LogTail(30))
	return nil
}

// resetFor clears a failed start so that the next storage driver starts
// with empty roots.
func (p *Engine) resetFor() {
	if p.Running() {
		p.Kill()
	}
	p.killAll(false)
	p.unmountAll()
	os.RemoveAll(filepath.Join(p.Dir, "data"))
	os.RemoveAll(filepath.Join(p.Dir, "exec"))
}

func (p *Engine) args() []string {
	a := []string{
		"-H", "unix://" + p.NodeSock(),
		"--data-root", filepath.Join(p.root, "data"),
		"--exec-root", filepath.Join(p.root, "exec"),
		"--pidfile", filepath.Join(p.root, "d.pid"),
		"--config-file", filepath.Join(p.root, "daemon.json"),
		"--storage-driver", p.Driver,
		"--live-restore=false",
	}
	if p.opts.Netns == "" {
		a = append(a, "--bridge", "none",
			"--iptables=false", "--ip6tables=false", "--ip-forward=false", "--ip-masq=false")
	}
	return append(a, p.opts.Args...)
}

// command is dockerd as this engine runs it: straight in a fresh network
// namespace, or entered into its node's namespaces with its root bound.
func (p *Engine) command() *exec.Cmd {
	if p.opts.Netns == "" {
		cmd := exec.Command("dockerd", p.args()...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL, Cloneflags: syscall.CLONE_NEWNET}
		return cmd
	}
	script := `mount --bind "$1" "$2" && hostname "$3" && shift 3 && exec dockerd "$@"`
	a := []string{"--net=/run/netns/" + p.opts.Netns, "--", "unshare", "--mount", "--uts", "--propagation", "private", "--",
		"sh", "-c", script, "sh", p.Dir, p.opts.MountAt, p.opts.Name}
	cmd := exec.Command("nsenter", append(a, p.args()...)...)
	// nsenter, unshare and sh each exec the next: the pid is dockerd's.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Restart launches dockerd (again, on the same roots) and waits until it answers.
func (p *Engine) Restart() (time.Duration, error) {
	p.mu.Lock()
	if p.cmd != nil {
		select {
		case <-p.exited:
		default:
			p.mu.Unlock()
			return 0, errors.New("already running")
		}
	}
	p.dropStalePIDs()
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		p.mu.Unlock()
		return 0, err
	}
	cmd := p.command()
	cmd.Dir = p.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		logf.Close()
		p.mu.Unlock()
		return 0, err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	p.cmd, p.exited = cmd, exited
	p.starts++
	p.mu.Unlock()

	for time.Since(t0) < 60*time.Second {
		select {
		case <-exited:
			return 0, fmt.Errorf("dockerd exited: %v", cmd.ProcessState)
		default:
		}
		d, err := engine.DialHost(context.Background(), p.Host(), time.Second)
		if err == nil {
			d.Close()
			if p.opts.Netns != "" {
				p.mntNS, _ = os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", cmd.Process.Pid))
			}
			return time.Since(t0), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0, errors.New("no answer within 60 s")
}

// dropStalePIDs removes the pid files of a dead dockerd and of its dead (or
// zombie) containerd: dockerd would take them for live processes to reuse.
func (p *Engine) dropStalePIDs() {
	os.Remove(filepath.Join(p.Dir, "d.pid"))
	cpid := filepath.Join(p.Dir, "exec", "containerd", "containerd.pid")
	b, err := os.ReadFile(cpid)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return
	}
	if st := ProcState(pid); st == "" || st == "Z" {
		p.t.Logf("containerd %d of the killed dockerd is %s: removing its pid file", pid, map[string]string{"": "gone", "Z": "a zombie"}[st])
		os.Remove(cpid)
	} else {
		p.t.Logf("containerd %d of the killed dockerd still runs (state %s): dockerd will reuse it", pid, st)
	}
}

// Kill SIGKILLs dockerd (alone: its shims and containers live on) and waits
// until it is reaped.
func (p *Engine) Kill() time.Duration {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	t0 := time.Now()
	cmd.Process.Signal(syscall.SIGKILL)
	<-exited
	return time.Since(t0)
}

// PowerOff is the node's machine switched off: dockerd, containerd, the
// shims and every container process SIGKILLed at once, nothing cleaned.
func (p *Engine) PowerOff() {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd != nil {
		cmd.Process.Signal(syscall.SIGKILL)
	}
	n := len(p.Procs())
	p.killAll(false)
	if exited != nil {
		<-exited
	}
	p.t.Logf("private engine %s powered off: %d processes SIGKILLed (dockerd, containerd, shims, containers)", p.opts.Name, n)
}

// Running reports whether dockerd runs.
func (p *Engine) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Track notes a container id of this engine, for the clean-up.
func (p *Engine) Track(id string) {
	p.mu.Lock()
	p.ids[id] = true
	p.mu.Unlock()
}

// checkOwnContainerd makes sure dockerd started its own containerd below the
// private exec root (not a shared one).
func (p *Engine) checkOwnContainerd() {
	own := filepath.Join(p.Dir, "exec", "containerd", "containerd.sock")
	if _, err := os.Stat(own); err != nil {
		p.t.Fatalf("the private dockerd has no containerd of its own at %s: %v\n%s", own, err, p.LogTail(20))
	}
}
