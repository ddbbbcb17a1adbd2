package history

import (
	"strings"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/summary"
)

func run(id, suite string, day int, host string, arms ...Arm) Run {
	return Run{ID: id, Suite: suite, Started: time.Date(2026, 11, day, 3, 0, 0, 0, time.UTC),
		Host: Host{Fingerprint: host}, Arms: arms}
}

func TestTrends(t *testing.T) {
	cal := func(p50 float64) Arm {
		return Arm{Name: "null", Scenario: "null", Calibration: true, N: 10, OK: 10, P50: summary.Num(p50), P95: summary.Num(p50 + 20)}
	}
	app := func(variant string, p50 summary.Value, ok int) Arm {
		return Arm{Name: "app [" + variant + "]", Scenario: "app", Variant: variant, N: 20, OK: ok, P50: p50}
	}
	r1 := run("r1", "nightly", 1, "h1", cal(200), app("baseline", summary.Num(300), 20), app("candidate", summary.Num(310), 20),
		Arm{Name: "other", Scenario: "other", N: 5, OK: 5, P50: summary.Num(50)})
	r1.Verdicts = []Verdict{{Scenario: "app", Verdict: summary.NoChange}}
	r2 := run("r2", "nightly", 2, "h1", cal(260), app("baseline", summary.Num(360), 20), app("candidate", summary.Above(2900), 5))
	r2.Verdicts = []Verdict{{Scenario: "app", Verdict: summary.Regressed}}
	r2.SLOs = []SLO{{Arm: "app [candidate]", Objective: "p95 <= 2000 ms", Met: false}, {Arm: "app [baseline]", Objective: "p95 <= 2000 ms", Met: true}}
	r3 := run("r3", "nightly", 3, "h2", cal(210), app("baseline", summary.Num(305), 20))
	solo := run("s1", "solo", 1, "h1", Arm{Name: "x", Scenario: "x", N: 1, OK: 1, P50: summary.Num(9)})

	ts := Trends([]Run{r1, r2, r3, solo}, nil)
	if len(ts) != 2 || ts[0].Suite != "nightly" || ts[1].Suite != "solo" {
		t.Fatalf("trends: %+v", ts)
	}
	tr := ts[0]
	if tr.Calibration != "null" || len(tr.Runs) != 3 || !tr.Runs[2].HostChanged || tr.Runs[1].HostChanged {
		t.Errorf("runs: %+v, calibration %q", tr.Runs, tr.Calibration)
	}
	names := []string{}
	for _, s := range tr.Series {
		names = append(names, s.Arm)
	}
	if got := strings.Join(names, ","); got != "null,app [baseline],app [candidate],other" {
		t.Errorf("series %s", got)
	}
	cand := tr.Series[2]
	if len(cand.Points) != 2 || cand.Points[1].Index != 1 {
		t.Fatalf("candidate points %+v", cand.Points)
	}
	p := cand.Points[1]
	if p.Verdict == nil || p.Verdict.Verdict != summary.Regressed || p.MissRate != 0.75 ||
		!p.AppShareP50.Censored || p.AppShareP50.Bound != 2640 || p.CalibrationP50.V != 260 ||
		len(p.SLOsFailed) != 1 || p.SLOsFailed[0] != "p95 <= 2000 ms" {
		t.Errorf("regressed point %+v", p)
	}
	if b := tr.Series[1].Points[0]; b.AppShareP50.V != 100 || b.Verdict != nil || len(b.SLOsFailed) != 0 {
		t.Errorf("baseline point %+v", b)
	}
	if c := tr.Series[2].Points[0]; c.Verdict == nil || c.Verdict.Verdict != summary.NoChange {
		t.Errorf("candidate point %+v", c)
	}
	if other := tr.Series[3].Points[0]; other.Verdict != nil {
		t.Errorf("an unpaired arm got a verdict: %+v", other.Verdict)
	}
	if !strings.Contains(strings.Join(tr.Notes, "\n"), "host changed 1 time") {
		t.Errorf("notes %q", tr.Notes)
	}
	if n := strings.Join(ts[1].Notes, "\n"); !strings.Contains(n, "holds 1 run") || !strings.Contains(ts[1].Notes[0], "at least 2") {
		t.Errorf("one-run notes %q", n)
	}

	// A filter keeps the scenario's arms and the calibration.
	f := Trends([]Run{r1, r2, r3}, []string{"other"})[0]
	if len(f.Series) != 2 || f.Series[0].Arm != "null" || f.Series[1].Arm != "other" {
		t.Errorf("filtered series %+v", f.Series)
	}
}
