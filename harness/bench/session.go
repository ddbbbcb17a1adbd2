package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
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

// Manifest describes a run: what was measured, with what, on what.
type Manifest struct {
	Run           string            `json:"run"`
	Suite         string            `json:"suite"`
	SuiteFile     string            `json:"suite_file"`
	SuiteHash     string            `json:"suite_hash"`
	Harness       string            `json:"harness_version"`
	GoVersion     string            `json:"go_version"`
	Started       time.Time         `json:"started"`
	Args          []string          `json:"args"`
	Owner         string            `json:"owner"`
	Engine        engine.Host       `json:"engine"`
	CgroupVersion int               `json:"cgroup_version"` // as the harness reads it (hybrid counts as 1)
	Kernel        string            `json:"kernel"`
	CPUModel      string            `json:"cpu_model"`
	Cores         int               `json:"cores"`
	SocketBase    string            `json:"socket_base"`
	Planned       int               `json:"planned"`
	Scenarios     []string          `json:"scenarios"`
	Overrides     map[string]string `json:"overrides,omitempty"`
	PlanOrder     string            `json:"plan_order"`
	Detection     string            `json:"detection"`
}

// NewRunID returns a sortable unique run id and its 8-char tag for names.
func NewRunID(now time.Time) (id, tag string) {
	var b [4]byte
	rand.Read(b[:])
	tag = hex.EncodeToString(b[:])
	return now.UTC().Format("20060102T150405Z") + "-" + tag, tag
}

// Owner identifies this process across pid reuse: "<pid>:<start ticks>".
func Owner() string {
	pid := os.Getpid()
	return strconv.Itoa(pid) + ":" + strconv.FormatUint(ProcessStart(pid), 10)
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

// Session is one run of a suite into a run directory.
type Session struct {
	Runner   *Runner
	Suite    *scenario.Suite
	Plan     []scenario.Start
	Dir      string
	Manifest Manifest
}

// Outcome of a session.
type Outcome struct {
	Records     []result.Record
	Summary     *summary.Summary
	Interrupted bool
}

// Run writes the manifest, executes the plan into runs.jsonl and writes
// summary.json. On interruption the summary is still written, marked
// interrupted, with planned and completed counts; the error is returned too.
func (s *Session) Run(ctx context.Context) (*Outcome, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	if err := journal.WriteJSONAtomic(filepath.Join(s.Dir, journal.ManifestFile), s.Manifest); err != nil {
		return nil, err
	}
	w, err := journal.Create(filepath.Join(s.Dir, journal.RunsFile))
	if err != nil {
		return nil, err
	}
	defer w.Close()
	col := &Collector{W: w}
	s.Runner.Journal = col
	ru0, t0 := rusage(), time.Now()
	_, xerr := s.Runner.Execute(ctx, s.Suite, s.Plan, nil)
	ru1, wall := rusage(), time.Since(t0)
	out := &Outcome{Records: col.Records, Interrupted: xerr != nil}
	names := make([]string, len(s.Suite.Scenarios))
	for i, sc := range s.Suite.Scenarios {
		names[i] = sc.Name
	}
	out.Summary = summary.Compute(col.Records, summary.Options{
		Suite: s.Suite.Name, Run: s.Manifest.Run, Order: names,
		Planned: len(s.Plan), Interrupted: out.Interrupted,
	})
	if n := len(col.Records); n > 0 {
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
