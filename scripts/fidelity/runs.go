package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// process is one `coldstart run` seen from outside: the whole process.
type process struct {
	WallMS float64 `json:"wall_ms"`
	// From /usr/bin/time -v (10 ms resolution), or copies of the wait4
	// figures without it.
	UserMS   float64 `json:"user_ms"`
	SysMS    float64 `json:"sys_ms"`
	MaxRSSKB int64   `json:"max_rss_kb"`
	Tool     string  `json:"tool"` // "/usr/bin/time -v" or "wait4 rusage"
	// From wait4 (microseconds): the child and the descendants it waited
	// for, so under /usr/bin/time the harness plus time's own few hundred µs.
	Wait4UserMS   float64 `json:"wait4_user_ms"`
	Wait4SysMS    float64 `json:"wait4_sys_ms"`
	Wait4MaxRSSKB int64   `json:"wait4_max_rss_kb"`
}

// wait4CPUMS is the process's user+sys CPU from wait4.
func (p process) wait4CPUMS() float64 { return p.Wait4UserMS + p.Wait4SysMS }

// suiteRun names a harness run directory (relative to the output directory)
// and what the process cost.
type suiteRun struct {
	Dir     string  `json:"dir"`
	Process process `json:"process"`
}

// harnessRun is a harness run directory read back with the harness's own
// types.
type harnessRun struct {
	suiteRun
	Manifest result.Manifest
	Records  []result.Record // measured starts only
	Summary  summary.Summary // as the run wrote it (the harness cost is only there)
	Intents  map[int]time.Time
}

// runHarness runs bin on a suite into out/name, under /usr/bin/time -v when
// present, flags before the suite file (older binaries take no other order).
// The harness gets its own process group: a Ctrl-C at the terminal reaches
// this program only, which then sends the group one SIGINT (GNU time ignores
// it; the harness removes its container in flight and writes its summary; a
// second signal would make it quit at once).
func runHarness(ctx context.Context, bin, suite string, runs int, out, name string, extra ...string) (suiteRun, error) {
	dir := filepath.Join(out, name)
	args := append([]string{"run", "--quiet", "--format", "json", "--out", dir, "--runs", strconv.Itoa(runs)}, extra...)
	args = append(args, suite)
	cmdName, argv, tool := bin, args, ""
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		tool = "/usr/bin/time -v"
		cmdName, argv = "/usr/bin/time", append([]string{"-v", bin}, args...)
	}
	cmd := exec.CommandContext(ctx, cmdName, argv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = 30 * time.Second
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	t0 := mono()
	err := cmd.Run()
	s := suiteRun{Dir: name, Process: process{WallMS: ms(mono() - t0), Tool: tool}}
	if err != nil && ctx.Err() != nil {
		return s, fmt.Errorf("interrupted; the harness's partial run is in %s", dir)
	}
	if err != nil {
		return s, fmt.Errorf("%s %s: %v\n%s", cmdName, strings.Join(argv, " "), err, tail(stderr.String(), 2000))
	}
	p := &s.Process
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		p.Wait4UserMS = float64(ru.Utime.Nano()) / 1e6
		p.Wait4SysMS = float64(ru.Stime.Nano()) / 1e6
		p.Wait4MaxRSSKB = ru.Maxrss
	}
	if tool != "" {
		parseTimeV(stderr.String(), p)
	} else {
		p.Tool, p.UserMS, p.SysMS, p.MaxRSSKB = "wait4 rusage", p.Wait4UserMS, p.Wait4SysMS, p.Wait4MaxRSSKB
	}
	return s, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// parseTimeV reads GNU time's -v report (the lines this program uses).
func parseTimeV(s string, p *process) {
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "User time (seconds)":
			f, _ := strconv.ParseFloat(v, 64)
			p.UserMS = f * 1000
		case "System time (seconds)":
			f, _ := strconv.ParseFloat(v, 64)
			p.SysMS = f * 1000
		case "Maximum resident set size (kbytes)":
			p.MaxRSSKB, _ = strconv.ParseInt(v, 10, 64)
		}
	}
}

// readRun reads the run directory s names under out: manifest, journal
// (measured starts), summary.json and the write-ahead intents.
func readRun(out string, s suiteRun) (*harnessRun, error) {
	dir := filepath.Join(out, s.Dir)
	jr, err := journal.LoadRun(dir)
	if err != nil {
		return nil, err
	}
	r := &harnessRun{suiteRun: s, Manifest: jr.Manifest, Intents: map[int]time.Time{}}
	for _, rec := range jr.Records {
		if rec.Kind == result.KindMeasure {
			r.Records = append(r.Records, rec)
		}
	}
	if jr.Summary == nil {
		return nil, fmt.Errorf("%s: no %s (the run did not finish)", dir, journal.SummaryFile)
	}
	if err := json.Unmarshal(jr.Summary, &r.Summary); err != nil {
		return nil, fmt.Errorf("%s/%s: %w", dir, journal.SummaryFile, err)
	}
	intents, err := journal.ReadWAL(filepath.Join(dir, journal.WALFile))
	if err != nil {
		return nil, err
	}
	for _, in := range intents {
		if !in.Time.IsZero() {
			r.Intents[in.Seq] = in.Time
		}
	}
	return r, nil
}

// intentToT0 is t0 minus the start's write-ahead intent (taken before the
// intent's fsync and the create call), both wall clock: create plus
// everything the harness does before the start call.
func (r *harnessRun) intentToT0(rec result.Record) (float64, bool) {
	it, ok := r.Intents[rec.Seq]
	if !ok || rec.Time.IsZero() {
		return 0, false
	}
	return float64(rec.Time.Sub(it).Nanoseconds()) / 1e6, true
}

// cost is summary.json's `harness`; nil when the run has none.
func (r *harnessRun) cost() *summary.Cost { return r.Summary.Harness }
