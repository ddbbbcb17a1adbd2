package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/summary"
)

// liveSuite is go-hello twice, paired: "same" (A/A: nothing differs) and
// "planted" (the candidate waits DELAY_MS before it listens), beside the
// null workload as calibration, under the seed limits. It builds its images
// from the repository's scenarios directory.
const liveSuite = `suite: gatebench
defaults:
  limits: {cpus: 0.1, memory: 128m, memory_swap: 128m}
  deadline: 3s
  health: {method: GET, path: /, status: 200, body: ok}
  runs: %[2]d
scenarios:
  - name: same
    setup: ["cd %[1]s && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o apps/go-hello/app ./apps/go-hello"]
    build: {context: %[1]s/apps/go-hello}
    image: coldstart/go-hello:latest
    candidate: {}
  - name: planted
    image: coldstart/go-hello:latest
    candidate: {env: {DELAY_MS: "%[3]d"}}
  - name: null-workload
    calibration: true
    setup: ["cd %[1]s && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o apps/null/app ./apps/null"]
    build: {context: %[1]s/apps/null}
    image: coldstart/null:latest
`

type liveRun struct {
	Dir        string
	Same       summary.PairedVerdict
	Planted    summary.PairedVerdict
	Guard      summary.Guard
	Duration   time.Duration
	ExitStatus int
}

func live(ctx context.Context, args []string, out, stderr io.Writer) error {
	fs := flag.NewFlagSet("live", flag.ContinueOnError)
	bin := fs.String("bin", "", "coldstart binary (default: build ./harness/cmd/coldstart)")
	runs := fs.Int("runs", 10, "coldstart ab runs")
	pairs := fs.Int("pairs", 40, "pairs per scenario per run")
	delay := fs.Int("delay-ms", 0, "the planted candidate's wait before it listens (default: 10% of a pilot run's A/A baseline p50)")
	dir := fs.String("out", "", "where the runs go (default results/gatebench/<UTC stamp>)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	root, err := os.Getwd()
	if err != nil {
		return err
	}
	if *dir == "" {
		*dir = filepath.Join("results", "gatebench", time.Now().UTC().Format("20060102T150405Z"))
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	if *bin == "" {
		*bin = filepath.Join(*dir, "coldstart")
		b := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", *bin, "./harness/cmd/coldstart")
		b.Env, b.Stderr = append(os.Environ(), "CGO_ENABLED=0"), stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("build: %w", err)
		}
	}
	scen := filepath.Join(root, "scenarios")
	if *delay == 0 {
		pilot, err := abRun(ctx, *bin, *dir, "pilot", scen, 10, 0, stderr)
		if err != nil {
			return fmt.Errorf("pilot: %w", err)
		}
		if !pilot.Same.BaselineP50.Known {
			return errors.New("pilot: no A/A baseline p50 to plant 10% of")
		}
		*delay = int(pilot.Same.BaselineP50.V/10 + 0.5)
		fmt.Fprintf(stderr, "gatebench: pilot A/A baseline p50 %.1f ms: planting %d ms\n", pilot.Same.BaselineP50.V, *delay)
	}
	var all []liveRun
	for i := range *runs {
		r, err := abRun(ctx, *bin, *dir, fmt.Sprintf("run-%02d", i+1), scen, *pairs, *delay, stderr)
		if err != nil {
			return err
		}
		all = append(all, r)
		fmt.Fprintf(stderr, "gatebench: run %d: same %s (%s), planted %s (%s), guard ok %v, %v\n", i+1,
			r.Same.Verdict, fmtPct(r.Same.ChangePct), r.Planted.Verdict, fmtPct(r.Planted.ChangePct), r.Guard.OK, r.Duration.Round(time.Second))
	}
	report(out, all, *pairs, *delay)
	return nil
}

// abRun runs `coldstart ab` once and reads its paired verdicts.
func abRun(ctx context.Context, bin, dir, name, scen string, pairs, delay int, stderr io.Writer) (liveRun, error) {
	suite := filepath.Join(dir, name+".yaml")
	body := fmt.Sprintf(liveSuite, scen, pairs, max(delay, 1))
	if err := os.WriteFile(suite, []byte(body), 0o644); err != nil {
		return liveRun{}, err
	}
	run := filepath.Join(dir, name)
	t0 := time.Now()
	cmd := exec.CommandContext(ctx, bin, "ab", suite, "--quiet", "--html=false", "--format", "json", "--out", run)
	cmd.Dir, cmd.Stdout, cmd.Stderr = scen, io.Discard, stderr
	err := cmd.Run()
	lr := liveRun{Dir: run, Duration: time.Since(t0)}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		lr.ExitStatus = ee.ExitCode() // 5 and 7 are verdicts, not failures
	case err != nil:
		return lr, err
	}
	r, err := journal.LoadRun(run)
	if err != nil {
		return lr, err
	}
	var s summary.Summary
	if err := json.Unmarshal(r.Summary, &s); err != nil || s.Paired == nil {
		return lr, fmt.Errorf("%s: no paired verdict in summary.json (%v)", run, err)
	}
	lr.Guard = s.Paired.Guard
	for _, v := range s.Paired.Scenarios {
		switch v.Name {
		case "same":
			lr.Same = v
		case "planted":
			lr.Planted = v
		}
	}
	return lr, nil
}

func fmtPct(p summary.Pct) string { return fmt.Sprintf("%+.1f%%", float64(p)) }

func report(out io.Writer, all []liveRun, pairs, delay int) {
	count := func(f func(liveRun) bool) int {
		n := 0
		for _, r := range all {
			if f(r) {
				n++
			}
		}
		return n
	}
	n := len(all)
	fa := count(func(r liveRun) bool { return r.Same.Verdict == summary.Regressed })
	nc := count(func(r liveRun) bool { return r.Same.Verdict == summary.NoChange })
	det := count(func(r liveRun) bool { return r.Planted.Verdict == summary.Regressed })
	unsure := count(func(r liveRun) bool { return r.Planted.Verdict == summary.Inconclusive })
	guard := count(func(r liveRun) bool { return !r.Guard.OK })
	fmt.Fprintf(out, "Live: %d `coldstart ab` runs, %d pairs per scenario each, planted DELAY_MS=%d (~10%% of the baseline p50), seed limits.\n\n", n, pairs, delay)
	fmt.Fprintln(out, "| run | A/A verdict | A/A change [interval] | planted verdict | planted change [interval] | calibration drift | contended | wall |")
	fmt.Fprintln(out, "|---|---|---|---|---|---:|---:|---:|")
	for i, r := range all {
		fmt.Fprintf(out, "| %d | %s | %s [%s, %s] | %s | %s [%s, %s] | %s | %d/%d | %v |\n", i+1,
			r.Same.Verdict, fmtPct(r.Same.ChangePct), fmtPct(r.Same.CILowPct), fmtPct(r.Same.CIHighPct),
			r.Planted.Verdict, fmtPct(r.Planted.ChangePct), fmtPct(r.Planted.CILowPct), fmtPct(r.Planted.CIHighPct),
			fmtPct(r.Guard.DriftPct), r.Guard.ContendedStarts, r.Guard.PairedStarts, r.Duration.Round(time.Second))
	}
	fmt.Fprintf(out, "\nA/A false alarms (regressed): %d of %d; A/A no change: %d of %d; planted caught (regressed): %d of %d; planted inconclusive: %d of %d; guard failed: %d of %d.\n",
		fa, n, nc, n, det, n, unsure, n, guard, n)
	host, _ := os.Hostname()
	fmt.Fprintf(out, "Machine: %s, %s.\n", host, strings.TrimSpace(cpuModel()))
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return v
		}
	}
	return ""
}
