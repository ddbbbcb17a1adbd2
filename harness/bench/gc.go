package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
)

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
		// Another pid namespace (a harness in a container): its pids mean
		// nothing here, so never take its containers for leftovers.
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

// validOwner: "<pid>:<start ticks>[:<pid namespace>]", all decimal, as
// Owner makes it. Anything else is not coldstart's.
func validOwner(s string) bool {
	f := strings.Split(s, ":")
	if len(f) < 2 || len(f) > 3 || len(s) > 64 {
		return false
	}
	for i, x := range f {
		if x == "" && i < 2 {
			return false
		}
		for _, c := range x {
			if c < '0' || c > '9' {
				return false
			}
		}
	}
	return true
}

// validRunID: "<UTC stamp>-<tag>" as NewRunID makes it.
func validRunID(s string) bool {
	stamp, tag, ok := strings.Cut(s, "-")
	if !ok || !validTag(tag) {
		return false
	}
	_, err := time.Parse("20060102T150405Z", stamp)
	return err == nil
}

// ownContainer reports whether a listed container is one a coldstart start
// made: the harness label, a run id and an owner of coldstart's format, a
// sequence label, and the name ContainerName gives such a start.
func ownContainer(c engine.Container) bool {
	l := c.Labels
	if l[engine.LabelHarness] != "1" || !validRunID(l[engine.LabelRun]) || !validOwner(l[engine.LabelOwner]) {
		return false
	}
	seq, err := strconv.Atoi(l[engine.LabelSeq])
	if err != nil || seq < 0 {
		return false
	}
	tag, rest, ok := strings.Cut(strings.TrimPrefix(c.Name, "coldstart-"), "-")
	return ok && strings.HasPrefix(c.Name, "coldstart-") && validTag(tag) && rest == seqName(seq)
}

// Cleaner is the subset of the driver that garbage collection uses.
type Cleaner interface {
	List(ctx context.Context, labels map[string]string) ([]engine.Container, error)
	Remove(ctx context.Context, id string) error
}

// GC removes what coldstart processes that are no longer alive left: their
// containers (by label and run id: see ownContainer) and their run
// directories in the socket base (a directory named by a run tag, holding an
// owner file of coldstart's format that names a dead process, in a base that
// carries coldstart's marker). Nothing else is ever touched: not a live
// owner's (a concurrent run), not a container without coldstart's labels,
// not a directory coldstart did not make. base may be nil (containers only).
// It returns how many containers and directories it removed.
func GC(ctx context.Context, c Cleaner, base *SocketBase, log io.Writer) (containers, dirs int, err error) {
	cs, err := c.List(ctx, map[string]string{engine.LabelHarness: "1"})
	if err != nil {
		return 0, 0, err
	}
	for _, ct := range cs {
		owner := ct.Labels[engine.LabelOwner]
		if !ownContainer(ct) || Alive(owner) {
			continue
		}
		if err := c.Remove(ctx, ct.ID); err != nil {
			return containers, dirs, err
		}
		containers++
		fmt.Fprintf(log, "gc: removed container %s (run %s, owner %s gone)\n", ct.Name, ct.Labels[engine.LabelRun], owner)
	}
	if base == nil {
		return containers, 0, nil
	}
	if !base.Marked() {
		fmt.Fprintf(log, "gc: %s carries no %s: not a coldstart socket base, left alone\n", base.Path, socketBaseMarker)
		return containers, 0, nil
	}
	dirs, err = base.gcDirs(log)
	return containers, dirs, err
}

// gcDirs removes the run directories of dead owners.
func (b *SocketBase) gcDirs(log io.Writer) (int, error) {
	f, err := b.root.Open(".")
	if err != nil {
		return 0, err
	}
	names, err := f.Readdirnames(-1)
	f.Close()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, name := range names {
		owner, ok := b.deadOwner(name)
		if !ok {
			continue
		}
		if err := b.root.RemoveAll(name); err == nil {
			n++
			fmt.Fprintf(log, "gc: removed socket dir %s/%s (owner %s gone)\n", b.Path, name, owner)
		}
	}
	return n, nil
}

// deadOwner reports whether name is a run directory of coldstart's format
// (a run tag, or a claim in progress) whose owner file names a process
// that is gone, and returns that owner.
func (b *SocketBase) deadOwner(name string) (string, bool) {
	if !validTag(strings.TrimPrefix(name, claimPrefix)) {
		return "", false
	}
	st, err := b.root.Lstat(name)
	if err != nil || !st.IsDir() {
		return "", false
	}
	ost, err := b.root.Lstat(name + "/" + ownerFile)
	if err != nil || !ost.Mode().IsRegular() || ost.Size() > 128 {
		return "", false
	}
	raw, err := b.root.ReadFile(name + "/" + ownerFile)
	if errors.Is(err, fs.ErrNotExist) || err != nil {
		return "", false
	}
	owner := strings.TrimSpace(string(raw))
	if !validOwner(owner) || Alive(owner) {
		return "", false
	}
	return owner, true
}
