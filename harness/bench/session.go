package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
	"github.com/coldstart/coldstart/harness/summary"
)

// NewRunID returns a sortable unique run id, "<UTC stamp>-<tag>", and its
// 8-char tag for names.
func NewRunID(now time.Time) (id, tag string) {
	var b [4]byte
	rand.Read(b[:])
	tag = hex.EncodeToString(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + tag, tag
}

// NewTag returns a fresh 8-char tag for a session's names.
func NewTag() string {
	var b [4]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// RunTag is the tag of a run id made by NewRunID.
func RunTag(id string) string {
	_, tag, _ := strings.Cut(id, "-")
	return tag
}

// Owner identifies this process across pid reuse and pid namespaces:
// "<pid>:<start ticks>:<pid namespace>".
func Owner() string {
	pid := os.Getpid()
	return strconv.Itoa(pid) + ":" + strconv.FormatUint(ProcessStart(pid), 10) + ":" + pidNamespace()
}

// pidNamespace names this process's pid namespace ("4026531836"), "" if unknown.
func pidNamespace() string {
	l, err := os.Readlink("/proc/self/ns/pid")
	if err != nil {
		return ""
	}
	l = strings.TrimPrefix(l, "pid:[")
	return strings.TrimSuffix(l, "]")
}

// ProcessStart returns a process's start time in clock ticks since boot
// (field 22 of /proc/PID/stat), 0 if the process does not exist.
func ProcessStart(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces
	if i < 0 {
		return 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0
	}
	v, _ := strconv.ParseUint(f[19], 10, 64)
	return v
}

// HostFacts reads the kernel release, CPU model and core count.
func HostFacts() (kernel, cpu string, cores int) {
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	return kernel, cpu, runtime.NumCPU()
}

// Collector appends to the journal and keeps the records in memory for the
// summary: measured once, rendered from the same records.
type Collector struct {
	mu      sync.Mutex
	W       *journal.Writer
	Records []result.Record
}

// Append implements Journal.
func (c *Collector) Append(r *result.Record) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.W.Append(r); err != nil {
		return err
	}
	c.Records = append(c.Records, *r)
	return nil
}

// Session is one run of a suite into a run directory. Open builds one.
type Session struct {
	Runner   *Runner
	Suite    *scenario.Suite
	Plan     []scenario.Start
	Dir      string
	Manifest result.Manifest
	Resume   bool // continue the journal in Dir: run only the missing starts

	cleaner Cleaner // lists and removes containers, for reconcile
	closers []func()
}

// Close releases what Open took: the run's socket directory and the engine
// connection.
func (s *Session) Close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
	s.closers = nil
}

// ErrLocked: another coldstart holds the run directory.
var ErrLocked = errors.New("run directory in use by another coldstart")

// lockDir takes an exclusive, non-blocking lock on dir; the kernel releases
// it when the process dies, so a crash leaves no stale lock.
func lockDir(dir string) (*os.File, error) {
	f, err := journal.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", dir, ErrLocked)
	}
	return f, nil
}

func startKey(scenario string, kind result.Kind, iter int) string {
	return scenario + "\x00" + string(kind) + "\x00" + strconv.Itoa(iter)
}

// RunResult is what a session measured.
type RunResult struct {
	Records     []result.Record
	Summary     *summary.Summary
	Interrupted bool
}

// Run writes the manifest, executes the plan into runs.jsonl and writes
// summary.json. On interruption the summary is still written, marked
// interrupted, with planned and completed counts; the error is returned too.
func (s *Session) Run(ctx context.Context) (*RunResult, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	lock, err := lockDir(s.Dir)
	if err != nil {
		return nil, &InputError{err}
	}
	defer lock.Close()
	runs := filepath.Join(s.Dir, journal.RunsFile)
	var prior []result.Record
	var warnings []string
	if s.Resume {
		if prior, warnings, err = journal.Read(runs); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
		if len(warnings) > 0 {
			// A torn last line: rewrite the journal without it before appending.
			if err := rewriteJournal(runs, prior); err != nil {
				return nil, err
			}
		}
	} else if _, err := os.Stat(runs); err == nil {
		return nil, &InputError{fmt.Errorf("%s already holds a run: use --resume %s to continue it, or another --out", s.Dir, s.Dir)}
	}
	skip := map[int]bool{}
	if s.Resume {
		have := map[string]bool{}
		for _, r := range prior {
			have[startKey(r.Arm(), r.Kind, r.Iteration)] = true
		}
		for seq, st := range s.Plan {
			if have[startKey(s.Suite.Scenarios[st.Scenario].Arm(), st.Kind, st.Iteration)] {
				skip[seq] = true
			}
		}
		if n := len(s.Manifest.Resumes); n > 0 {
			s.Manifest.Resumes[n-1].Skipped = len(skip)
		}
		if err := s.reconcile(ctx); err != nil {
			return nil, err
		}
	}
	if err := journal.WriteJSONAtomic(filepath.Join(s.Dir, journal.ManifestFile), &s.Manifest); err != nil {
		return nil, err
	}
	if s.Manifest.Shard != nil {
		// A merge lists the starts of a shard that never reported from this copy.
		if err := journal.WriteFileAtomic(filepath.Join(s.Dir, journal.SuiteFile), s.Suite.Source); err != nil {
			return nil, err
		}
	}
	w, err := journal.Create(runs)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	wal, err := journal.CreateWAL(filepath.Join(s.Dir, journal.WALFile))
	if err != nil {
		return nil, err
	}
	defer wal.Close()
	s.Runner.WAL = wal
	col := &Collector{W: w, Records: prior}
	s.Runner.Journal = col
	ru0, t0 := rusage(), time.Now()
	_, xerr := s.Runner.Execute(ctx, s.Suite, s.Plan, skip)
	ru1, wall := rusage(), time.Since(t0)
	out := &RunResult{Records: col.Records, Interrupted: xerr != nil}
	out.Summary = summary.OfRun(col.Records, s.Manifest, out.Interrupted, warnings)
	if n := len(col.Records) - len(prior); n > 0 {
		cpu := cpuMS(ru1) - cpuMS(ru0)
		out.Summary.Harness = &summary.Cost{Starts: n, CPUMS: cpu, CPUMSPerStart: cpu / float64(n),
			MaxRSSBytes: ru1.Maxrss * 1024, WallMS: float64(wall.Microseconds()) / 1000}
	}
	if err := journal.WriteJSONAtomic(filepath.Join(s.Dir, journal.SummaryFile), out.Summary); err != nil {
		return out, errors.Join(xerr, err)
	}
	return out, xerr
}

func rusage() syscall.Rusage {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru
}

func cpuMS(ru syscall.Rusage) float64 {
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

// reconcile removes the containers an earlier process of this run left
// behind: the start in flight when it died, and any whose removal failed.
// Every start removes its container, so each container of this run whose
// owner is gone is a leftover, with an intent in the WAL or not (the WAL is
// not fsynced: a machine crash can lose the last intent, never the
// engine's labels). A container is removed only when its labels say it is
// coldstart's, of this run, and of an owner that is gone (a copy of this run
// directory resumed beside a live original must not remove the original's
// container in flight).
func (s *Session) reconcile(ctx context.Context) error {
	cs, err := s.cleaner.List(ctx, map[string]string{engine.LabelHarness: "1", engine.LabelRun: s.Manifest.Run})
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	for _, c := range cs {
		if !ownContainer(c) || c.Labels[engine.LabelRun] != s.Manifest.Run || Alive(c.Labels[engine.LabelOwner]) {
			continue
		}
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeGrace)
		err := s.cleaner.Remove(rctx, c.ID)
		cancel()
		if err != nil {
			return fmt.Errorf("reconcile %s (start %s): %w", c.Name, c.Labels[engine.LabelSeq], err)
		}
	}
	return nil
}

// rewriteJournal replaces the journal with recs, atomically.
func rewriteJournal(path string, recs []result.Record) error {
	var b []byte
	for i := range recs {
		l, err := json.Marshal(&recs[i])
		if err != nil {
			return err
		}
		b = append(append(b, l...), '\n')
	}
	return journal.WriteFileAtomic(path, b)
}
