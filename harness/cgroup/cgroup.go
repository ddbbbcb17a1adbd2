// Package cgroup reads a container's cgroup: what it consumed (Sample) and
// what limits the kernel actually holds (Enforced), so that reports never
// trust the request or docker inspect alone.
package cgroup

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
)

// ErrGone means the cgroup no longer exists: the container exited and the
// runtime removed its cgroup.
var ErrGone = errors.New("cgroup gone")

// ErrUnavailable means the host has no cgroup mount at /sys/fs/cgroup.
var ErrUnavailable = errors.New("no cgroup hierarchy mounted at /sys/fs/cgroup")

const defaultMount = "/sys/fs/cgroup"

// Reader opens cgroups of one hierarchy (v1 controllers under a root, or a
// v2 unified mount).
type Reader struct {
	version int
	root    string
}

// New detects the host's cgroup version. Hybrid (cgroup2 mounted without
// controllers, as with Docker 20.10 here) is v1 for every controller we read.
func New() (*Reader, error) {
	switch cgroups.Mode() {
	case cgroups.Legacy, cgroups.Hybrid:
		return NewV1(defaultMount), nil
	case cgroups.Unified:
		return NewV2(defaultMount), nil
	default:
		return nil, ErrUnavailable
	}
}

// NewV1 reads cgroup v1 controllers mounted as root/memory, root/cpu,
// root/cpuacct and root/pids (like /sys/fs/cgroup, or a fake tree in tests).
func NewV1(root string) *Reader { return &Reader{version: 1, root: root} }

// NewV2 reads the cgroup v2 unified hierarchy mounted at mountpoint.
func NewV2(mountpoint string) *Reader { return &Reader{version: 2, root: mountpoint} }

// Version is 1 or 2.
func (r *Reader) Version() int { return r.version }

// v1Controllers are the controllers whose directories a Group remembers.
var v1Controllers = []cgroup1.Name{cgroup1.Memory, cgroup1.Cpu, cgroup1.Cpuacct, cgroup1.Pids}

// Group is one opened cgroup. It holds no open files: a Group outlives its
// cgroup, and then Sample and Enforced return ErrGone.
type Group struct {
	version int
	path    string
	// dirs maps a controller (v1) to its absolute directory, only for
	// controllers whose directory existed at Open; v2 uses the key "".
	dirs map[string]string
}

// Open loads the cgroup at path within the hierarchy, e.g. PathFor's result.
func (r *Reader) Open(path string) (*Group, error) {
	if r.version == 2 {
		return r.openV2(path)
	}
	return r.openV1(path, cgroup1.StaticPath(path))
}

// OpenPID loads the cgroup of a running process. It works whatever the
// engine's cgroup driver or parent, at the cost of reading /proc.
func (r *Reader) OpenPID(pid int) (*Group, error) {
	if r.version == 2 {
		p, err := cgroup2.PidGroupPath(pid)
		if err != nil {
			return nil, fmt.Errorf("cgroup of pid %d: %w", pid, goneIfNotExist(err))
		}
		return r.openV2(p)
	}
	p := cgroup1.PidPath(pid)
	// The memory path names the group in errors; the library already
	// parsed /proc/<pid>/cgroup, so this costs nothing more.
	name, err := p(cgroup1.Memory)
	if err != nil {
		name = fmt.Sprintf("pid %d", pid)
	}
	return r.openV1(name, p)
}

func (r *Reader) openV1(name string, p cgroup1.Path) (*Group, error) {
	g := &Group{version: 1, path: name, dirs: map[string]string{}}
	for _, c := range v1Controllers {
		rel, err := p(c)
		if err != nil {
			continue
		}
		d := filepath.Join(r.root, string(c), rel)
		if exists(d) {
			g.dirs[string(c)] = d
		}
	}
	// A group with none of the controllers we read is no group (any more).
	if g.dirs[string(cgroup1.Memory)] == "" && g.dirs[string(cgroup1.Cpu)] == "" && g.dirs[string(cgroup1.Cpuacct)] == "" {
		return nil, fmt.Errorf("cgroup %s: %w", name, ErrGone)
	}
	return g, nil
}

func (r *Reader) openV2(path string) (*Group, error) {
	d := filepath.Join(r.root, path)
	if !exists(d) {
		return nil, fmt.Errorf("cgroup %s: %w", path, ErrGone)
	}
	return &Group{version: 2, path: path, dirs: map[string]string{"": d}}, nil
}

// Version is 1 or 2.
func (g *Group) Version() int { return g.version }

// Path is the group's path within the hierarchy (for OpenPID on v1, the
// memory controller's path).
func (g *Group) Path() string { return g.path }

// dir is the directory of a controller, "" when it was absent at Open.
func (g *Group) dir(controller cgroup1.Name) string {
	if g.version == 2 {
		return g.dirs[""]
	}
	return g.dirs[string(controller)]
}

// alive reports whether every directory seen at Open still exists; the
// runtime removes them all when the container exits.
func (g *Group) alive() bool {
	if len(g.dirs) == 0 {
		return false
	}
	for _, d := range g.dirs {
		if !exists(d) {
			return false
		}
	}
	return true
}

// PathFor is the container's cgroup path within the hierarchy as Docker
// (moby's newCgroupParent and runc) lays it out:
//   - cgroupfs: parent (default "/docker") + "/" + id. A relative parent is
//     relative to the daemon's own cgroup, taken here as the root.
//   - systemd: the slice's path + "/docker-" + id + ".scope", parent default
//     "system.slice"; a nested slice "a-b.slice" lives at /a.slice/a-b.slice.
//
// The runner always uses this path; OpenPID finds a process's cgroup whatever
// the layout (a daemon in a non-root cgroup), for tools and tests.
func PathFor(driver, parent, id string) string {
	if driver == "systemd" {
		if parent == "" {
			parent = "system.slice"
		}
		return filepath.Join(expandSlice(parent), "docker-"+id+".scope")
	}
	if parent == "" {
		parent = "/docker"
	}
	return filepath.Join("/", parent, id)
}

// expandSlice turns a systemd slice name into its path, as runc's
// systemd.ExpandSlice does; anything that is not a plain slice name is taken
// as a path already.
func expandSlice(slice string) string {
	name, ok := strings.CutSuffix(slice, ".slice")
	if !ok || strings.Contains(slice, "/") || name == "" {
		return filepath.Join("/", slice)
	}
	if name == "-" {
		return "/"
	}
	var path, prefix string
	for _, part := range strings.Split(name, "-") {
		if part == "" {
			return filepath.Join("/", slice)
		}
		path += "/" + prefix + part + ".slice"
		prefix += part + "-"
	}
	return path
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func goneIfNotExist(err error) error {
	if errors.Is(err, cgroup1.ErrCgroupDeleted) || errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w (%v)", ErrGone, err)
	}
	return err
}
