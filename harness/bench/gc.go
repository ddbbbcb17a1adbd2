package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
)

// ownerFile in a run's socket directory names the process that owns it.
const ownerFile = "owner"

// unownedGrace: a socket dir without an owner file is left alone this long.
const unownedGrace = 10 * time.Minute

// Alive reports whether the owner "<pid>:<start ticks>[:<pid namespace>]" is
// a live process: a reused pid has another start time. An owner in another
// pid namespace counts as alive: it cannot be checked from here.
func Alive(owner string) bool {
	p, t, ok := strings.Cut(owner, ":")
	if !ok {
		return false
	}
	t, ns, hasNS := strings.Cut(t, ":")
	if hasNS && ns != "" && ns != pidNamespace() {
		// Another pid namespace (a harness in a container without pid: host):
		// its pids mean nothing here, so never take its containers for leftovers.
		return true
	}
	pid, err := strconv.Atoi(p)
	if err != nil || pid <= 0 {
		return false
	}
	ticks, err := strconv.ParseUint(t, 10, 64)
	if err != nil {
		return false
	}
	st := ProcessStart(pid)
	return st != 0 && st == ticks
}

// ClaimSocketDir creates the run's socket directory and records its owner.
func ClaimSocketDir(base, tag, owner string) (string, error) {
	dir := filepath.Join(base, tag)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("socket dir: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(owner+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("socket dir: %w", err)
	}
	return dir, nil
}

// Cleaner is the subset of the driver that garbage collection uses.
type Cleaner interface {
	List(ctx context.Context, labels map[string]string) ([]engine.Container, error)
	Remove(ctx context.Context, id string) error
}

// GC removes the containers and socket directories left by coldstart
// processes that are no longer alive. Those of live owners (a concurrent run)
// are never touched. It returns how many containers and dirs it removed.
func GC(ctx context.Context, c Cleaner, socketBase string, log io.Writer) (containers, dirs int, err error) {
	cs, err := c.List(ctx, map[string]string{engine.LabelHarness: "1"})
	if err != nil {
		return 0, 0, err
	}
	for _, ct := range cs {
		owner := ct.Labels[engine.LabelOwner]
		if owner == "" || Alive(owner) {
			continue
		}
		if err := c.Remove(ctx, ct.ID); err != nil {
			return containers, dirs, err
		}
		containers++
		fmt.Fprintf(log, "gc: removed container %s (run %s, owner %s gone)\n", ct.Name, ct.Labels[engine.LabelRun], owner)
	}
	ents, err := os.ReadDir(socketBase)
	if err != nil {
		if os.IsNotExist(err) {
			return containers, dirs, nil
		}
		return containers, dirs, err
	}
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(socketBase, e.Name())
		b, err := os.ReadFile(filepath.Join(dir, ownerFile))
		if err == nil && Alive(strings.TrimSpace(string(b))) {
			continue
		}
		if err != nil && !os.IsNotExist(err) {
			continue
		}
		if err != nil {
			// No owner file: either a dir whose run is between mkdir and
			// writing its owner (a concurrent harness starting now), or a
			// leftover of a crash at that very moment. Only the old are leftovers.
			if st, serr := os.Stat(dir); serr != nil || time.Since(st.ModTime()) < unownedGrace {
				continue
			}
		}
		if err := os.RemoveAll(dir); err == nil {
			dirs++
			fmt.Fprintf(log, "gc: removed socket dir %s\n", dir)
		}
	}
	return containers, dirs, nil
}
