// Package bench runs a Plan: one start = fresh socket dir -> create -> arm
// probe -> t0 -> start -> socket seen -> healthy -> cgroup sample -> inspect
// -> remove. Every start, whatever its outcome, becomes one journal record.
package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/coldstart/coldstart/harness/cgroup"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/probe"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// Engine is the subset of the Docker driver that a start uses.
type Engine interface {
	Create(ctx context.Context, s engine.ContainerSpec) (string, error)
	WaitExit(ctx context.Context, id string) <-chan engine.Exit
	Start(ctx context.Context, id string) error
	Inspect(ctx context.Context, id string) (engine.State, error)
	Logs(ctx context.Context, id string, lines, maxBytes int) (string, error)
	Stderr(ctx context.Context, id string, max int64) (string, error)
	Kill(ctx context.Context, id string) error
	Remove(ctx context.Context, id string) error
	// Ping is the engine-loss policy's probe: after an engine_error the run
	// waits for an answer before it goes on.
	Ping(ctx context.Context) error
}

var _ Engine = (*engine.Docker)(nil)

// Journal receives each record as its start ends.
type Journal interface {
	Append(r *result.Record) error
}

// DirNameLen is the length of a per-start socket directory's path below the
// socket base ("<8-char run tag>/<6-digit seq>"), for the sun_path check.
const DirNameLen = 15

// callTimeout bounds a create or start call: an engine that hangs instead of
// dying must not stall a run forever.
const callTimeout = 60 * time.Second

// hung turns a call's own timeout (not the run's cancellation) into an
// engine-unreachable error.
func hung(ctx context.Context, err error) error {
	if err != nil && ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w: no answer within %v: %v", engine.ErrUnreachable, callTimeout, err)
	}
	return err
}

// removeGrace bounds the clean-up of a container, even after Ctrl-C.
const removeGrace = 15 * time.Second

// Runner executes starts.
type Runner struct {
	Engine     Engine
	Cgroups    *cgroup.Reader         // nil: no cgroup sampling
	CgroupPath func(id string) string // container id -> path in the cgroup hierarchy
	CgroupRoot string                 // the cpu hierarchy's mount (v1 /sys/fs/cgroup/cpu), for counting other containers
	// Sockets is the session's directory in the socket base: each start's
	// socket dir is made and removed through it.
	Sockets *RunDir
	// SocketMount describes the socket base's file system, for each
	// start's hardening record.
	SocketMount string
	// ProcRoot is where processes are read back from (/proc); "" reads
	// nothing: the hardening record then has no enforced values.
	ProcRoot string
	RunID    string            // run id
	Tag      string            // 8-char tag of this session, used in names (fresh per resume)
	Labels   map[string]string // labels put on every container (harness, run, owner)
	Journal  Journal
	Progress func(done, total int, r *result.Record)
	// Imports parses a diagnostic start's stderr; nil skips attribution.
	Imports func(stderr string) *result.Imports
	// KernelOOM looks for the kernel's report of an OOM kill in a
	// container's memory cgroup, for a container killed by SIGKILL that the
	// engine has not flagged; nil: the engine's flag only.
	KernelOOM func(id string) (bool, error)
	// Watcher, when set, serves every start's readiness watch from one
	// inotify instance; nil gives each start an instance of its own.
	Watcher *probe.Watcher
	// WAL, when set, records each start's intent before its create.
	WAL interface {
		Intend(journal.Intent) error
	}

	// VerifyEveryStart reads the enforced limits and the process's
	// confinement back at every start. Without it, a healthy start of a
	// scenario whose earlier healthy start read them back carries that
	// reading, as found (its record names it: verified_at_seq): the same
	// create call sets the same cgroup files. Starts that miss, or were not
	// served, always read for themselves.
	VerifyEveryStart bool

	mu      sync.Mutex  // guards pending, observed and verified: a burst's starts run at once
	pending []string    // containers whose removal failed because the engine was gone
	daemons *enginePIDs // the engine's processes, for interference
	// observed holds, per scenario, what the engine recorded for its first
	// healthy start (inspect), for the later ones.
	observed map[*scenario.Scenario]observation
	// verified holds, per scenario, the first healthy start's read-back in
	// which every limit and hardening setting held.
	verified map[*scenario.Scenario]verified
}

// verified is one start's read-back of what the kernel enforced.
type verified struct {
	seq  int
	enf  *cgroup.Enforced
	proc *cgroup.Process
}

// HostDirLen is the length of the host directory bound at the socket's
// directory, for scenario.Options.
func HostDirLen(socketBase string) int { return len(socketBase) + 1 + DirNameLen }

// ErrJournal marks a record that could not be made durable: scheduling stops.
var ErrJournal = errors.New("results not durable")

// Execute runs the planned starts in order, appending each record to the
// journal as it ends. It stops early when ctx is cancelled (the in-flight
// container is still removed) or when the journal cannot be written.
// skip lists plan positions already measured (resume).
func (r *Runner) Execute(ctx context.Context, s *scenario.Suite, plan []scenario.Start, skip map[int]bool) (done int, err error) {
	total := len(plan)
	for seq := 0; seq < len(plan); seq++ {
		st := plan[seq]
		if skip[seq] {
			done++
			continue
		}
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
		sc := &s.Scenarios[st.Scenario]
		// A burst is its adjacent starts, less those a resume skips.
		var seqs []int
		end := seq + 1
		if st.Burst > 0 {
			for end < len(plan) && plan[end].Burst == st.Burst && plan[end].Scenario == st.Scenario && plan[end].Kind == st.Kind {
				end++
			}
		}
		for q := seq; q < end; q++ {
			if skip[q] {
				done++
				continue
			}
			seqs = append(seqs, q)
			if r.WAL != nil {
				p := plan[q]
				in := journal.Intent{Seq: q, Scenario: sc.Name, Variant: sc.Variant, Cell: sc.Cell, Kind: p.Kind, Iteration: p.Iteration,
					Container: ContainerName(r.Tag, q), Time: time.Now().UTC()}
				if err := r.WAL.Intend(in); err != nil {
					return done, fmt.Errorf("%w: %v", ErrJournal, err)
				}
			}
		}
		seq = end - 1
		var recs []*result.Record
		if st.Burst > 0 {
			sts := make([]scenario.Start, len(seqs))
			for i, q := range seqs {
				sts[i] = plan[q]
			}
			recs = r.Burst(ctx, sc, sts, seqs)
		} else {
			recs = []*result.Record{r.One(ctx, sc, st, seqs[0])}
		}
		engineLost := false
		for _, rec := range recs {
			if rec == nil { // interrupted mid-start: not a measurement
				continue
			}
			if err := r.Journal.Append(rec); err != nil {
				return done, fmt.Errorf("%w: %v", ErrJournal, err)
			}
			done++
			if r.Progress != nil {
				r.Progress(done, total, rec)
			}
			engineLost = engineLost || rec.Outcome == result.EngineError
		}
		if ctx.Err() != nil {
			return done, ctx.Err()
		}
		if engineLost || len(r.Pending()) > 0 {
			if err := r.awaitEngine(ctx); err != nil {
				return done, err
			}
			r.removePending(ctx)
		}
	}
	return done, nil
}

// awaitEngine is the engine-loss policy: after an engine_error, wait for the
// engine to answer again with bounded backoff (1+2+4+8 s), else end the run.
func (r *Runner) awaitEngine(ctx context.Context) error {
	ping := func() error {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		return r.Engine.Ping(pctx)
	}
	err := ping()
	// Pings at 0, 1, 3, 7 and 15 s after the loss.
	for wait := time.Second; err != nil && wait <= 8*time.Second; wait *= 2 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		err = ping()
	}
	if err != nil {
		return fmt.Errorf("%w: no answer after 15 s of retries: %v", engine.ErrUnreachable, err)
	}
	return nil
}

// removePending removes, once the engine is back, the containers that could
// not be removed while it was gone.
func (r *Runner) removePending(ctx context.Context) {
	var still []string
	for _, id := range r.pending {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeGrace)
		if err := r.Engine.Remove(rctx, id); err != nil {
			still = append(still, id)
		}
		cancel()
	}
	r.pending = still
}

// engine returns the engine's daemons, found on first use.
func (r *Runner) engine() *enginePIDs {
	if r.daemons == nil {
		r.daemons = &enginePIDs{}
		r.daemons.scan()
	}
	return r.daemons
}

func (r *Runner) addPending(id string) {
	r.mu.Lock()
	r.pending = append(r.pending, id)
	r.mu.Unlock()
}

// Pending lists the containers the runner could not remove (engine gone).
func (r *Runner) Pending() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending
}
