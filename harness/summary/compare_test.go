package summary

import (
	"math"
	"strings"
	"testing"

	"golang.org/x/perf/benchmath"

	"github.com/coldstart/coldstart/harness/result"
)

func recsOf(name string, ready ...float64) []result.Record {
	var out []result.Record
	for _, v := range ready {
		r := result.Record{Scenario: name, Kind: result.KindMeasure, Outcome: result.OK, DeadlineMS: 3000}
		if math.IsInf(v, 1) {
			r.Outcome = result.DeadlineExceeded
		} else {
			r.ReadyMS = result.F(v)
		}
		out = append(out, r)
	}
	return out
}

func series(base, step float64, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		v[i] = base + step*float64(i%10)
	}
	return v
}

func TestCompareSameRunsNotSignificant(t *testing.T) {
	a := recsOf("s", series(100, 1, 40)...)
	c := Compare(a, a, 0.95)
	d := c.Scenarios[0]
	if d.P50.Pct.V != 0 || d.P50.Significant || d.P < 0.5 {
		t.Errorf("identical runs: %+v", d)
	}
	if !d.P50.CILow.Known || d.P50.CILow.V > 0 || d.P50.CIHigh.V < 0 {
		t.Errorf("CI must contain 0: %+v", d.P50)
	}
}

func TestCompareShiftIsSignificant(t *testing.T) {
	c := Compare(recsOf("s", series(100, 1, 40)...), recsOf("s", series(120, 1, 40)...), 0.95)
	d := c.Scenarios[0]
	if !d.P50.Significant || d.P50.Pct.V < 15 || d.P50.Pct.V > 25 || d.P > 0.001 {
		t.Errorf("a 20%% shift: %+v p=%v", d.P50, d.P)
	}
	if d.P50.CILow.V <= 0 {
		t.Errorf("CI low %v should exclude 0", d.P50.CILow.V)
	}
}

// Misses stay censored: a p95 that lands in the missed fraction is not a number.
func TestCompareCensored(t *testing.T) {
	old := series(100, 1, 40)
	nw := append(series(100, 1, 36), math.Inf(1), math.Inf(1), math.Inf(1), math.Inf(1))
	c := Compare(recsOf("s", old...), recsOf("s", nw...), 0.95)
	d := c.Scenarios[0]
	if !d.P95.New.Censored || d.P95.Pct.Known {
		t.Errorf("p95 with 10%% misses must be censored: %+v", d.P95)
	}
	if d.NewMisses != 4 || d.OldMisses != 0 {
		t.Errorf("misses %d/%d", d.OldMisses, d.NewMisses)
	}
	if d.P50.New.Censored {
		t.Errorf("p50 is observed: %+v", d.P50)
	}
}

// Each test below reproduces a defect of the comparison found by review
// (issue 9); each failed before its fix.

// The U-test p-value is kept whole: rounding it to three decimals let
// 0.04995 pass a 0.05 gate.
func TestCompareKeepsP(t *testing.T) {
	old, nw := series(100, 1, 40), series(101, 1, 40)
	c := Compare(recsOf("s", old...), recsOf("s", nw...), 0.95)
	th := &benchmath.Thresholds{CompareAlpha: 0.05}
	want := benchmath.AssumeNothing.Compare(benchmath.NewSample(old, th), benchmath.NewSample(nw, th)).P
	if c.Scenarios[0].P != want {
		t.Errorf("p = %v, want %v unrounded", c.Scenarios[0].P, want)
	}
}

// Two identical runs with 6 of 40 misses: resamples where both sides are
// censored have no change at all; they must not make the interval exclude 0.
func TestCompareBothCensoredNotSignificant(t *testing.T) {
	v := append(series(100, 1, 34), math.Inf(1), math.Inf(1), math.Inf(1), math.Inf(1), math.Inf(1), math.Inf(1))
	c := Compare(recsOf("s", v...), recsOf("s", v...), 0.95)
	for _, d := range []Delta{c.Scenarios[0].P50, c.Scenarios[0].P95} {
		if d.Significant {
			t.Errorf("identical runs called significant: %+v", d)
		}
	}
}

// A censored percentile keeps its lower bound (misses placed at the
// deadline), never "> 0".
func TestCompareCensoredBound(t *testing.T) {
	nw := append(series(100, 1, 36), math.Inf(1), math.Inf(1), math.Inf(1), math.Inf(1))
	d := Compare(recsOf("s", series(100, 1, 40)...), recsOf("s", nw...), 0.95).Scenarios[0]
	if !d.P95.New.Censored || d.P95.New.Bound <= 100 {
		t.Errorf("censored p95 bound %v, want a bound from the deadline", d.P95.New.Bound)
	}
}

// An ok record without ready_ms (a damaged journal) is treated alike by the
// summary and the comparison: left out of both, with a warning.
func TestCompareAndSummaryAgreeOnMalformed(t *testing.T) {
	recs := recsOf("s", series(100, 1, 20)...)
	recs[3].ReadyMS = nil
	c := Compare(recs, recs, 0.95).Scenarios[0]
	s := Compute(recs, Options{Order: []string{"s"}}).Scenarios[0]
	if c.OldMisses != s.Missed() || c.OldN != s.ReadyMS.N {
		t.Errorf("compare: %d misses of %d; summary: %d misses, ready over %d", c.OldMisses, c.OldN, s.Missed(), s.ReadyMS.N)
	}
	if !slicesContainsCode(s.Warnings, Malformed) {
		t.Errorf("no malformed warning: %+v", s.Warnings)
	}
}

func slicesContainsCode(ws []Warning, c Code) bool {
	for _, w := range ws {
		if w.Code == c {
			return true
		}
	}
	return false
}

// Runs with different deadlines censor at different bounds: say so.
func TestCompareDeadlinesDiffer(t *testing.T) {
	old := recsOf("s", series(100, 1, 30)...)
	nw := recsOf("s", series(100, 1, 30)...)
	for i := range nw {
		nw[i].DeadlineMS = 5000
	}
	d := Compare(old, nw, 0.95).Scenarios[0]
	found := false
	for _, w := range d.Warnings {
		found = found || strings.Contains(w, "deadline")
	}
	if !found {
		t.Errorf("no word on the deadlines: %v", d.Warnings)
	}
}

// One more miss in a run that is otherwise faster is no evidence that
// misses grew: the miss test is on the miss counts, not the U test.
func TestCompareMissGate(t *testing.T) {
	old := recsOf("s", series(100, 1, 40)...)
	nw := recsOf("s", append(series(95, 1, 39), math.Inf(1))...)
	c := Compare(old, nw, 0.95)
	if bad, why := c.Gate(10); bad {
		t.Errorf("5%% faster with one extra miss fails the gate: %s", why)
	}
	many := recsOf("s", append(series(95, 1, 30), series(math.Inf(1), 0, 10)...)...)
	if bad, _ := Compare(old, many, 0.95).Gate(10); !bad {
		t.Error("10 new misses of 40 pass the gate")
	}
}
