package summary

import (
	"math"
	"testing"

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
