package cli

// Live tests of sweeps, bursts and the capacity search against the real
// engine, on go-hello built by the suite's setup (as quickstart does).

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/capacity"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// writeGoHelloSuite writes a go-hello suite with absolute paths; extra is
// more keys of the scenario, indented by four spaces.
func writeGoHelloSuite(t *testing.T, extra string) string {
	t.Helper()
	scen, err := filepath.Abs("../../scenarios")
	if err != nil {
		t.Fatal(err)
	}
	setup := "cd " + scen + " && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o apps/go-hello/app ./apps/go-hello"
	suite := fmt.Sprintf(`suite: capacity-test
defaults:
  limits: {cpus: 0.1, memory: 128m, memory_swap: 128m}
  deadline: 3s
  health: {method: GET, path: /, status: 200, body: ok}
scenarios:
  - name: go-hello
    setup: [%q]
    build: {context: %s}
    image: coldstart/go-hello:latest
%s
`, setup, filepath.Join(scen, "apps", "go-hello"), extra)
	f := filepath.Join(t.TempDir(), "suite.yaml")
	if err := os.WriteFile(f, []byte(suite), 0o644); err != nil {
		t.Fatal(err)
	}
	return f
}

// The grid of the plan test and the points of its sweep.
var planGrid = []float64{0.02, 0.05, 0.1, 0.5}

const planSLO = "p50 < 600ms"

// A sweep over planGrid in one run, then coldstart plan twice on the same
// grid with trimmed counts: the sweep's ready_ms falls as the quota grows,
// the plan's answers agree with each other and with the sweep within one
// grid step, and each says how many starts it spent.
func TestCapacitySweepAndPlan(t *testing.T) {
	base := shortBase(t)
	var cells []string
	for _, c := range planGrid {
		cells = append(cells, strconv.FormatFloat(c, 'f', -1, 64))
	}
	suite := writeGoHelloSuite(t, fmt.Sprintf("    runs: 6\n    warmup: 1\n    limits: {cpus: [%s]}", joinComma(cells)))
	dir := filepath.Join(t.TempDir(), "sweep")
	out, stderr, err := run(t, "run", "--quiet", "--history", "off", "--socket-dir", base, "--out", dir, "--format", "json", suite)
	if err != nil {
		t.Fatalf("sweep: %v\n%s", err, stderr)
	}
	var sum summary.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Scenarios) != len(planGrid) {
		t.Fatalf("%d arms, want one per cell", len(sum.Scenarios))
	}
	p50 := map[float64]summary.Value{}
	for _, sc := range sum.Scenarios {
		if len(sc.Sweep) != 1 || sc.Sweep[0].Key != "cpus" || sc.N != 6 {
			t.Fatalf("arm %s: sweep %+v, n %d", sc.Name, sc.Sweep, sc.N)
		}
		p50[sc.Sweep[0].Number] = sc.ReadyMS.P50
		t.Logf("sweep %s: p50 %v p95 %v misses %d", sc.Cell, sc.ReadyMS.P50, sc.ReadyMS.P95, sc.Missed())
	}
	// 2% of a CPU charges go-hello's ~25 ms of start-up CPU over a second of
	// CFS periods; half a CPU none: the effect is many times the noise.
	lo, hi := p50[planGrid[0]], p50[planGrid[len(planGrid)-1]]
	if !(lo.Censored || lo.V > hi.V) || hi.Censored {
		t.Errorf("p50 at %v CPUs %v, at %v CPUs %v: ready_ms did not fall as the quota grew", planGrid[0], lo, planGrid[len(planGrid)-1], hi)
	}
	// One interleaved run: the cells' measured starts are mixed, not in blocks.
	recs, _, err := journal.Read(filepath.Join(dir, journal.RunsFile))
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range recs {
		if r.Kind == result.KindMeasure {
			order = append(order, r.Cell)
		}
	}
	if changes := cellChanges(order); changes < len(order)/2 {
		t.Errorf("the cells ran in blocks (%d changes in %d starts): %v", changes, len(order), order)
	}
	sweepAnswer := -1 // the sweep's smallest grid point whose observed p50 meets the bound
	for i, c := range planGrid {
		if v := p50[c]; v.Known && v.V < 600 {
			sweepAnswer = i
			break
		}
	}

	var answers []int
	for round := 0; round < 2; round++ {
		pdir := filepath.Join(t.TempDir(), fmt.Sprintf("plan%d", round))
		out, stderr, err := run(t, "plan", "--quiet", "--socket-dir", base, "--out", pdir, "--format", "json", "--slo", planSLO,
			"--cpus-grid", joinComma(cells), "--max-per-probe", "10", "--recheck=false", suite)
		if err != nil && Code(err) != ExitNoCapacity {
			t.Fatalf("plan: %v\n%s", err, stderr)
		}
		var res capacity.Result
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("plan output: %v\n%s", err, out)
		}
		a := res.Answers[0]
		spent := 0
		for _, p := range a.Probes {
			spent += p.Count.N
		}
		if a.Starts == 0 || a.Starts != spent || res.Starts != spent {
			t.Errorf("starts spent: answer %d, result %d, the probes %d", a.Starts, res.Starts, spent)
		}
		// The journal holds every start the search spent, and a warmup.
		precs, _, _ := journal.Read(filepath.Join(pdir, journal.RunsFile))
		if len(precs) != spent+1 {
			t.Errorf("journal of the plan: %d records, want %d starts + 1 warmup", len(precs), spent)
		}
		noneLeft(t, manifestOf(t, pdir).Run)
		i := len(planGrid) // none
		if a.Found {
			i = slices.Index(planGrid, a.CPUs)
		}
		t.Logf("plan %d: answer %v (found %v), %d starts, below %+v", round, a.CPUs, a.Found, a.Starts, a.Below)
		answers = append(answers, i)
	}
	if d := answers[0] - answers[1]; d > 1 || d < -1 {
		t.Errorf("two plans answered grid steps %d and %d: not reproducible within one step", answers[0], answers[1])
	}
	if sweepAnswer < 0 {
		sweepAnswer = len(planGrid)
	}
	for _, a := range answers {
		if d := a - sweepAnswer; d > 1 || d < -1 {
			t.Errorf("plan answered grid step %d, the sweep's observed p50 meets the bound first at step %d", a, sweepAnswer)
		}
	}
}

func joinComma(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}

func cellChanges(order []string) int {
	n := 0
	for i := 1; i < len(order); i++ {
		if order[i] != order[i-1] {
			n++
		}
	}
	return n
}

// A burst of 8 through the command line: eight records with their burst
// and the makespan in the summary; then a burst interrupted with SIGINT
// once its containers run: exit 130, nothing left on the engine, and only
// starts with an outcome in the journal.
func TestCapacityBurst(t *testing.T) {
	base := shortBase(t)
	suite := writeGoHelloSuite(t, "    runs: 1\n    concurrency: 8")
	dir := filepath.Join(t.TempDir(), "burst")
	out, stderr, err := run(t, "run", "--quiet", "--history", "off", "--socket-dir", base, "--out", dir, "--format", "json", suite)
	if err != nil {
		t.Fatalf("burst: %v\n%s", err, stderr)
	}
	var sum summary.Summary
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	b := sum.Scenarios[0].Bursts
	if sum.Scenarios[0].N != 8 || b == nil || b.N != 1 || b.Size != 8 || b.ByBurst[0].Starts != 8 || b.ByBurst[0].MakespanMS <= 0 {
		t.Fatalf("summary of the burst: n %d, bursts %+v", sum.Scenarios[0].N, b)
	}
	t.Logf("burst of 8: makespan %.1f ms, %d missed, spread %v", b.ByBurst[0].MakespanMS, b.ByBurst[0].Missed, b.SpreadMS.Max)
	recs := checkJournal(t, dir, manifestOf(t, dir).Run)
	if len(recs) != 8 {
		t.Fatalf("%d records, want 8", len(recs))
	}
	for i, r := range recs {
		if r.Burst == nil || r.Burst.Index != i || r.Burst.Size != 8 {
			t.Errorf("record %d: burst %+v", i, r.Burst)
		}
	}

	// 2% of a CPU each: the burst is still starting when the signal comes.
	suite = writeGoHelloSuite(t, "    runs: 3\n    concurrency: 8\n    limits: {cpus: 0.02}")
	dir = filepath.Join(t.TempDir(), "burst-int")
	h := startHarness(t, "run", "--quiet", "--history", "off", "--socket-dir", base, "--out", dir, suite)
	waitFor(t, h, 120*time.Second, "manifest", func() bool {
		_, err := os.Stat(filepath.Join(dir, journal.ManifestFile))
		return err == nil
	})
	runID := manifestOf(t, dir).Run
	d := dial(t)
	waitFor(t, h, 60*time.Second, "eight running containers", func() bool {
		cs, _ := d.List(context.Background(), map[string]string{engine.LabelHarness: "1", engine.LabelRun: runID})
		running := 0
		for _, c := range cs {
			if c.State == "running" {
				running++
			}
		}
		return running >= 8
	})
	h.signal(t, syscall.SIGINT)
	if code := h.wait(t, 60*time.Second); code != ExitInterrupted {
		t.Fatalf("exit %d after SIGINT, want %d\nstderr:\n%s", code, ExitInterrupted, h.stderr)
	}
	noneLeft(t, runID)
	if _, err := os.Stat(filepath.Join(base, runID[len(runID)-8:])); !os.IsNotExist(err) {
		t.Errorf("socket dir of the interrupted run left behind (%v)", err)
	}
	recs = checkJournal(t, dir, runID)
	if len(recs) >= 24 {
		t.Errorf("%d records: the run was not interrupted", len(recs))
	}
	for _, r := range recs {
		if r.Outcome == "" || r.Burst == nil {
			t.Errorf("record without outcome or burst: %+v", r)
		}
	}
	s := readSummary(t, dir)
	if s["interrupted"] != true {
		t.Errorf("summary not marked interrupted")
	}
}
