package cgroup

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/containerd/cgroups/v3/cgroup1"
)

// Process is how the kernel confines one process of a container, read back
// from /proc/PID: what the engine was asked for is not proof.
type Process struct {
	PID        int
	NoNewPrivs bool
	CapBnd     uint64 // bounding set
	CapEff     uint64 // effective set
	UID, GID   int    // effective, as the host sees them
	NoFileSoft int64  // RLIMIT_NOFILE; -1 unlimited
	NoFileHard int64
	// RootReadOnly: the process's root mount is read-only.
	RootReadOnly bool
	// Tmpfs maps each tmpfs mount point inside the container to its
	// super-block options (size=65536k, ...).
	Tmpfs map[string]string
}

// ErrNoProcess: the group holds no process (it exited).
var ErrNoProcess = errors.New("no process in the cgroup")

// FirstPID returns a process of the group (the first listed in
// cgroup.procs: the container's init unless it forked and exited).
func (g *Group) FirstPID() (int, error) {
	dir := g.dir(cgroup1.Pids)
	if dir == "" {
		dir = g.dir(cgroup1.Memory)
	}
	if dir == "" {
		return 0, ErrNoProcess
	}
	b, err := ReadSmall(filepath.Join(dir, "cgroup.procs"))
	if err != nil {
		return 0, g.statErr(err)
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	pid, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	if err != nil || pid <= 0 {
		return 0, ErrNoProcess
	}
	return pid, nil
}

// ReadProcess reads a process's confinement from procRoot/PID (procRoot is
// /proc, or a fake tree in tests).
func ReadProcess(procRoot string, pid int) (Process, error) {
	p := Process{PID: pid}
	dir := filepath.Join(procRoot, strconv.Itoa(pid))
	status, err := ReadSmall(filepath.Join(dir, "status"))
	if err != nil {
		return p, fmt.Errorf("process %d: %w", pid, err)
	}
	if err := p.parseStatus(status); err != nil {
		return p, fmt.Errorf("process %d: status: %w", pid, err)
	}
	limits, err := ReadSmall(filepath.Join(dir, "limits"))
	if err != nil {
		return p, fmt.Errorf("process %d: %w", pid, err)
	}
	p.NoFileSoft, p.NoFileHard = parseNoFile(limits)
	mounts, err := ReadSmall(filepath.Join(dir, "mountinfo"))
	if err != nil {
		return p, fmt.Errorf("process %d: %w", pid, err)
	}
	p.RootReadOnly, p.Tmpfs = parseMountinfo(mounts)
	return p, nil
}

func (p *Process) parseStatus(b []byte) error {
	seen := 0
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		var err error
		switch k {
		case "NoNewPrivs":
			p.NoNewPrivs, seen = v == "1", seen+1
		case "CapBnd":
			p.CapBnd, err = strconv.ParseUint(v, 16, 64)
			seen++
		case "CapEff":
			p.CapEff, err = strconv.ParseUint(v, 16, 64)
			seen++
		case "Uid", "Gid":
			f := strings.Fields(v) // real, effective, saved, filesystem
			if len(f) < 2 {
				return fmt.Errorf("bad %s line %q", k, line)
			}
			id, e := strconv.Atoi(f[1])
			if k == "Uid" {
				p.UID = id
			} else {
				p.GID = id
			}
			err, seen = e, seen+1
		}
		if err != nil {
			return err
		}
	}
	if seen < 5 {
		return errors.New("NoNewPrivs, CapBnd, CapEff, Uid or Gid missing")
	}
	return nil
}

// parseNoFile reads "Max open files  1024  1048576  files" from a limits file.
func parseNoFile(b []byte) (soft, hard int64) {
	soft, hard = -1, -1
	for _, line := range strings.Split(string(b), "\n") {
		rest, ok := strings.CutPrefix(line, "Max open files")
		if !ok {
			continue
		}
		f := strings.Fields(rest)
		if len(f) >= 2 {
			soft, hard = limitValue(f[0]), limitValue(f[1])
		}
	}
	return soft, hard
}

func limitValue(s string) int64 {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil { // "unlimited"
		return -1
	}
	return v
}

// parseMountinfo finds whether the root mount is read-only and the tmpfs
// mounts. A line: "id parent maj:min root mountpoint options [tags] - fstype source superopts".
func parseMountinfo(b []byte) (rootRO bool, tmpfs map[string]string) {
	tmpfs = map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		if !ok {
			continue
		}
		f, g := strings.Fields(pre), strings.Fields(post)
		if len(f) < 6 || len(g) < 3 {
			continue
		}
		mountpoint, opts := f[4], f[5]
		if mountpoint == "/" {
			// A later mount on / (none in a container) would hide the first.
			rootRO = hasOpt(opts, "ro")
		}
		if g[0] == "tmpfs" {
			tmpfs[mountpoint] = g[2]
		}
	}
	return rootRO, tmpfs
}

func hasOpt(opts, want string) bool {
	for _, o := range strings.Split(opts, ",") {
		if o == want {
			return true
		}
	}
	return false
}
