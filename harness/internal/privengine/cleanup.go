package privengine

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
)

// Procs lists the processes that belong to this engine: those naming its
// directory on their command line or living in its mount namespace
// (dockerd, containerd, shims), and those in the cgroup of one of its
// containers.
func (p *Engine) Procs() map[int]string {
	ids := p.containerIDs()
	out := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	self := os.Getpid()
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		if st := ProcState(pid); st == "" || st == "Z" {
			continue // gone, or dead and waiting for pid 1 to reap it
		}
		cl, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err != nil {
			continue
		}
		cmdline := strings.TrimSpace(strings.ReplaceAll(string(cl), "\x00", " "))
		if strings.Contains(cmdline, p.Dir+"/") {
			out[pid] = cmdline
			continue
		}
		if p.mntNS != "" {
			if ns, _ := os.Readlink("/proc/" + e.Name() + "/ns/mnt"); ns == p.mntNS {
				out[pid] = cmdline + " (mount namespace of the node)"
				continue
			}
		}
		cg, err := os.ReadFile("/proc/" + e.Name() + "/cgroup")
		if err != nil {
			continue
		}
		for id := range ids {
			if bytes.Contains(cg, []byte("/"+id)) {
				out[pid] = cmdline + " (cgroup of container " + id[:12] + ")"
				break
			}
		}
	}
	return out
}

// ProcState is a process's state letter from /proc/PID/stat ("Z" for a
// zombie), "" if there is no such process.
func ProcState(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return ""
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return ""
	}
	return s[i+2 : i+3]
}

// containerIDs is every container id this engine ever had, as far as known.
func (p *Engine) containerIDs() map[string]bool {
	p.mu.Lock()
	ids := map[string]bool{}
	for id := range p.ids {
		ids[id] = true
	}
	p.mu.Unlock()
	ents, _ := os.ReadDir(filepath.Join(p.Dir, "data", "containers"))
	for _, e := range ents {
		if len(e.Name()) == 64 {
			ids[e.Name()] = true
		}
	}
	return ids
}

// killAll SIGKILLs every process of the engine until none is left (10 s at
// most); what survives fails the test when strict.
func (p *Engine) killAll(strict bool) {
	deadline := time.Now().Add(10 * time.Second)
	for {
		left := p.Procs()
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for pid, cl := range left {
				if strict {
					p.t.Errorf("cleanup: process %d of the private engine survives SIGKILL: %s", pid, cl)
				}
			}
			return
		}
		for pid, cl := range left {
			if strict {
				p.t.Logf("cleanup: SIGKILL process %d: %.160s", pid, cl)
			}
			syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mounts lists the host's mount points at or below the private directory,
// deepest first.
func (p *Engine) mounts() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 5 {
			continue
		}
		mp := unescapeMount(fs[4])
		if mp == p.Dir || strings.HasPrefix(mp, p.Dir+"/") {
			out = append(out, mp)
		}
	}
	sort.Slice(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (p *Engine) unmountAll() {
	for round := 0; round < 5; round++ {
		ms := p.mounts()
		if len(ms) == 0 {
			return
		}
		for _, m := range ms {
			syscall.Unmount(m, syscall.MNT_DETACH)
		}
	}
}

// stopPolitely removes the engine's containers through its API, then
// SIGTERMs dockerd (live-restore off: it ends its containers and its
// containerd), SIGKILL after 20 s.
func (p *Engine) stopPolitely() {
	// Its own address, explicitly: DOCKER_HOST may point anywhere by now.
	if d, err := engine.DialHost(context.Background(), p.Host(), 5*time.Second); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		cs, _ := d.List(ctx, nil)
		for _, c := range cs {
			p.Track(c.ID)
			d.Remove(ctx, c.ID)
		}
		cancel()
		d.Close()
	}
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		p.t.Logf("cleanup: dockerd ignored SIGTERM for 20 s: SIGKILL")
		cmd.Process.Signal(syscall.SIGKILL)
		<-exited
	}
}

// Destroy stops the engine and removes every trace of it: containers,
// processes (dockerd, containerd, shims, container processes), mounts, shim
// sockets, cgroups, directories. What it had to force is logged; what
// remains fails the test. It runs as the test's clean-up; calling it
// earlier is allowed (then the clean-up finds nothing left).
func (p *Engine) Destroy() {
	t := p.t
	if _, err := os.Stat(p.Dir); err != nil {
		return // destroyed already
	}
	t0 := time.Now()
	if p.Running() {
		p.stopPolitely()
	}
	ids := p.containerIDs()
	// Whatever is left of this engine (a containerd, a shim, a container
	// process) is found by its directory, namespace or container cgroup.
	p.killAll(true)
	if ms := p.mounts(); len(ms) > 0 {
		t.Logf("cleanup: unmounting %d mounts below %s (e.g. %s)", len(ms), p.Dir, ms[len(ms)-1])
	}
	p.unmountAll()
	for _, m := range p.mounts() {
		t.Errorf("cleanup: mount %s survives umount -l", m)
	}
	for id := range ids {
		p.removeTraces(id)
	}
	if err := os.RemoveAll(p.Dir); err != nil {
		t.Errorf("cleanup: %v", err)
	}
	if _, err := os.Stat(p.Dir); err == nil {
		t.Errorf("cleanup: %s remains", p.Dir)
	}
	t.Logf("private engine %s removed in %v (%d dockerd starts, %d containers seen)", p.opts.Name, time.Since(t0).Round(time.Millisecond), p.starts, len(ids))
}

// removeTraces removes what a container killed without its engine leaves
// outside the private directory: its shim's socket and its cgroups.
func (p *Engine) removeTraces(id string) {
	// A shim that died uncleanly leaves its socket in containerd's shared
	// socket dir; its name is a hash of our containerd address and the id.
	sum := sha256.Sum256([]byte(filepath.Join(p.containerdSock(), "moby", id)))
	s := filepath.Join("/run/containerd/s", fmt.Sprintf("%x", sum))
	if _, err := os.Lstat(s); err == nil {
		p.t.Logf("cleanup: removing stale shim socket %s of container %s", s, id[:12])
		os.Remove(s)
	}
	cgs, _ := filepath.Glob("/sys/fs/cgroup/*/docker/" + id)
	for _, cg := range cgs {
		if err := syscall.Rmdir(cg); err != nil {
			p.t.Errorf("cleanup: cgroup %s of container %s remains: %v", cg, id[:12], err)
		} else {
			p.t.Logf("cleanup: removed leftover cgroup %s", cg)
		}
	}
}

// LogSize and RestartLog pick out the interesting lines a (re)start wrote.
func (p *Engine) LogSize() int64 {
	fi, err := os.Stat(p.logPath)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// RestartLog is the lines of interest dockerd's log has from offset from.
func (p *Engine) RestartLog(from int64) string {
	b, _ := os.ReadFile(p.logPath)
	if int64(len(b)) < from {
		return ""
	}
	var keep []string
	for _, l := range strings.Split(string(b[from:]), "\n") {
		for _, k := range []string{"Starting up", "containerd process", "containerd is still", "failed to start", "Loading containers", "shim", "stale", "API listen"} {
			if strings.Contains(l, k) {
				keep = append(keep, "    "+l)
				break
			}
		}
	}
	return strings.Join(keep, "\n")
}

// LogTail is the last n lines of dockerd's log, without gRPC chatter.
func (p *Engine) LogTail(n int) string {
	b, _ := os.ReadFile(p.logPath)
	var keep []string
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.Contains(l, "[core]") || strings.Contains(l, "loading plugin") {
			continue
		}
		keep = append(keep, l)
	}
	if len(keep) > n {
		keep = keep[len(keep)-n:]
	}
	return strings.Join(keep, "\n")
}
