package main

import (
	"math"
	"slices"
	"testing"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

func TestPercentile(t *testing.T) {
	nan := math.NaN()
	for _, tc := range []struct {
		name string
		d    []float64
		p    float64
		want float64
	}{
		{"empty", nil, 50, nan},
		{"one value, any level", []float64{7}, 99, 7},
		{"type 7 median of an even count interpolates", []float64{4, 1, 3, 2}, 50, 2.5},
		{"type 7 p90", []float64{1, 2, 3, 4}, 90, 3.7},
		{"type 7 p99 of 1..10", []float64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 99, 9.91},
		{"p100 is the max", []float64{1, 5, 3}, 100, 5},
		{"unsorted odd median", []float64{9, 1, 5}, 50, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := slices.Clone(tc.d)
			got := percentile(in, tc.p)
			if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && math.Abs(got-tc.want) > 1e-9) {
				t.Errorf("percentile(%v, %v) = %v, want %v", tc.d, tc.p, got, tc.want)
			}
			if !slices.Equal(in, tc.d) {
				t.Errorf("percentile reordered its input: %v", in)
			}
		})
	}
}

// TestPercentileMatchesSummary: the local helper and harness/summary agree
// (both type 7); summary rounds to microseconds.
func TestPercentileMatchesSummary(t *testing.T) {
	lags := []float64{0.8, 1.9, 0.4, 12.5, 3.3, 2.2, 81.7, 1.1, 0.9, 1.6, 2.05}
	var recs []result.Record
	for _, v := range lags {
		recs = append(recs, result.Record{Scenario: "s", Kind: result.KindMeasure, Outcome: result.OK, ReadyMS: result.F(100), DetectLagMS: result.F(v)})
	}
	sc := scenarioStats(recs, "s")
	got := summaryDist(sc.DetectLagMS, len(recs))
	want := distOf(lags, len(lags))
	for _, x := range []struct {
		name      string
		got, want float64
	}{{"p50", got.p50, want.p50}, {"p90", got.p90, want.p90}, {"p99", got.p99, want.p99}, {"max", got.max, want.max}} {
		if math.Abs(x.got-x.want) > 0.0005 {
			t.Errorf("%s: summary %v, local %v", x.name, x.got, x.want)
		}
	}
	if got.n != len(lags) || got.ok != len(lags) {
		t.Errorf("n/ok = %d/%d, want %d", got.n, got.ok, len(lags))
	}
}

func TestScenarioStatsEmpty(t *testing.T) {
	sc := scenarioStats(nil, "none")
	d := summaryDist(sc.DetectLagMS, 0)
	if d.ok != 0 || !math.IsNaN(d.p50) || !math.IsNaN(d.max) {
		t.Errorf("empty: %+v, want no values", d)
	}
}

func TestNum(t *testing.T) {
	if v := num(summary.Num(1.5)); v != 1.5 {
		t.Errorf("num(Num(1.5)) = %v", v)
	}
	if v := num(summary.Value{}); !math.IsNaN(v) {
		t.Errorf("num(absent) = %v, want NaN", v)
	}
}

func TestF2(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{math.NaN(), "–"}, {0, "0.00"}, {1.234, "1.23"}, {9.999, "10.00"}, {10, "10.0"}, {82.66, "82.7"},
		{99.96, "100.0"}, {100, "100"}, {315.5, "316"}, {-12.34, "-12.3"}, {-0.5, "-0.50"},
	} {
		if got := f2(tc.v); got != tc.want {
			t.Errorf("f2(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestMinMax(t *testing.T) {
	d := []float64{3, 1, 2}
	if minOf(d) != 1 || maxOf(d) != 3 {
		t.Errorf("min/max of %v = %v/%v", d, minOf(d), maxOf(d))
	}
	if !math.IsNaN(minOf(nil)) || !math.IsNaN(maxOf(nil)) {
		t.Error("min/max of nothing should be NaN")
	}
}

func TestStartsMS(t *testing.T) {
	recs := []result.Record{
		{Outcome: result.OK, CreateMS: 10, StartCallMS: 50, ReadyMS: result.F(300), RemoveMS: 40},              // ready after the call: 350
		{Outcome: result.OK, CreateMS: 10, StartCallMS: 60, ReadyMS: result.F(55), RemoveMS: 40},               // ready before the call returned: 110
		{Outcome: result.DeadlineExceeded, CreateMS: 10, StartCallMS: 50, DeadlineMS: 3000, RemoveMS: 40},      // waited its deadline: 3050
		{Outcome: result.ExitedBeforeReady, CreateMS: 10, StartCallMS: 50, ExitMS: result.F(90), RemoveMS: 40}, // only the call: 100
	}
	if got, want := startsMS(recs), 350.0+110+3050+100; got != want {
		t.Errorf("startsMS = %v, want %v", got, want)
	}
}

func TestOverheadOf(t *testing.T) {
	r := &harnessRun{suiteRun: suiteRun{Dir: "overhead", Process: process{WallMS: 1300}}}
	if _, ok := overheadOf(r); ok {
		t.Fatal("a run without a harness cost has no overhead")
	}
	r.Summary.Harness = &summary.Cost{WallMS: 1100}
	r.Records = []result.Record{
		{Outcome: result.OK, CreateMS: 100, StartCallMS: 50, ReadyMS: result.F(300), RemoveMS: 100},
		{Outcome: result.OK, CreateMS: 100, StartCallMS: 50, ReadyMS: result.F(300), RemoveMS: 100},
	}
	o, ok := overheadOf(r)
	if !ok || o.n != 2 || o.sumMS != 1000 || o.perStartMS != 50 || o.pct != 10 || o.procPct != 30 {
		t.Errorf("overheadOf = %+v", o)
	}
}

func TestPairOrders(t *testing.T) {
	a, b := pairOrders(42, 50), pairOrders(42, 50)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave two orders")
	}
	first := map[string]int{}
	for _, o := range a {
		if !(o == [2]string{roleBaseline, roleMeasured} || o == [2]string{roleMeasured, roleBaseline}) {
			t.Fatalf("pair %v: want one batch of each binary", o)
		}
		first[o[0]]++
	}
	if first[roleBaseline] == 0 || first[roleMeasured] == 0 {
		t.Errorf("50 pairs, first in each: %v: the order is not random", first)
	}
	if slices.Equal(pairOrders(1, 50), pairOrders(2, 50)) {
		t.Error("seeds 1 and 2 gave the same 50 orders")
	}
}

func TestPairRatios(t *testing.T) {
	batch := func(pair int, role string, cpu float64) sideBatch {
		r := &harnessRun{}
		r.Summary.Harness = &summary.Cost{Starts: 10, CPUMSPerStart: cpu}
		return sideBatch{costBatch{Pair: pair, Role: role}, r}
	}
	sides := []sideBatch{batch(0, roleMeasured, 2), batch(0, roleBaseline, 4), batch(1, roleBaseline, 3), batch(1, roleMeasured, 1.5), batch(2, roleBaseline, 5)}
	base, meas, ratio := pairRatios(sides, 3)
	if base[0] != 4 || meas[0] != 2 || ratio[0] != 0.5 || ratio[1] != 0.5 || !math.IsNaN(ratio[2]) {
		t.Errorf("base %v meas %v ratio %v", base, meas, ratio)
	}
	if got := finite(ratio); len(got) != 2 {
		t.Errorf("finite(%v) = %v", ratio, got)
	}
}

func TestParseTimeV(t *testing.T) {
	out := "\tCommand being timed: \"coldstart run x\"\n\tUser time (seconds): 0.42\n\tSystem time (seconds): 0.17\n\tPercent of CPU this job got: 5%\n\tMaximum resident set size (kbytes): 18432\n"
	var p process
	parseTimeV(out, &p)
	if math.Abs(p.UserMS-420) > 1e-9 || math.Abs(p.SysMS-170) > 1e-9 || p.MaxRSSKB != 18432 {
		t.Errorf("parseTimeV = %+v", p)
	}
}
