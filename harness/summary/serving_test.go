package summary

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/coldstart/coldstart/harness/result"
)

// servingRec is a measured start of arm "app" with a work request.
func servingRec(seq int, outcome result.Outcome, ready float64, serving result.Outcome, served float64) result.Record {
	r := result.Record{V: result.Version, Scenario: "app", Kind: result.KindMeasure, Seq: seq, Outcome: outcome, DeadlineMS: 3000, ServingOutcome: serving}
	if outcome == result.OK {
		r.ReadyMS = result.F(ready)
	}
	if serving == result.OK {
		r.ServingMS = result.F(served)
		r.ServingCgroup = &result.Sample{CPUUsageMS: served / 10, ThrottledMS: served / 2}
	}
	return r
}

// Every measured start that was to send a work request is in serving_ms:
// a start not ready, or ready and not served, is censored at the deadline;
// ready_ms is untouched by serving misses.
func TestServingSummary(t *testing.T) {
	recs := []result.Record{
		servingRec(0, result.OK, 1000, result.OK, 2000),
		servingRec(1, result.OK, 1100, result.OK, 2200),
		servingRec(2, result.OK, 1200, result.OK, 2400),
		servingRec(3, result.OK, 1300, result.DeadlineExceeded, 0),
		servingRec(4, result.OK, 1400, result.CallFailed, 0),
		servingRec(5, result.DeadlineExceeded, 0, result.DeadlineExceeded, 0),
	}
	// A warmup and a diagnostic start are not statistics; a start without
	// a work request (an old journal) is not in serving's.
	recs = append(recs, result.Record{Scenario: "app", Kind: result.KindWarmup, Outcome: result.OK, ReadyMS: result.F(1), ServingOutcome: result.OK, ServingMS: result.F(2)})
	s := Compute(recs, Options{Suite: "s", Run: "r"})
	sc := s.Scenarios[0]
	if sc.N != 6 || sc.OK != 5 || sc.ReadyMS.Censored != 1 {
		t.Errorf("ready: n %d ok %d censored %d, want 6, 5, 1", sc.N, sc.OK, sc.ReadyMS.Censored)
	}
	sv := sc.Serving
	if sv == nil {
		t.Fatal("no serving statistics")
	}
	if sv.N != 6 || sv.OK != 3 || sv.Missed() != 3 || sv.ReadyNotServed != 2 {
		t.Errorf("serving: n %d ok %d missed %d ready-not-served %d, want 6, 3, 3, 2", sv.N, sv.OK, sv.Missed(), sv.ReadyNotServed)
	}
	if sv.Misses.Get(result.DeadlineExceeded) != 2 || sv.Misses.Get(result.CallFailed) != 1 || sv.Misses.Total() != 3 {
		t.Errorf("serving misses %+v", sv.Misses)
	}
	// Type 7 over {2000, 2200, 2400, +Inf x3}: p50 at rank 2.5 touches a miss.
	if d := sv.ServingMS; d.N != 6 || d.Censored != 3 || !d.P50.Censored || d.P50.Bound != 2700 || d.Min.V != 2000 || d.MeanOK.V != 2200 {
		t.Errorf("serving_ms %+v", d)
	}
	if d := sv.AfterReadyMS; d.N != 3 || d.P50.V != 1100 || sv.CPUUsageMS.P50.V != 220 || sv.ThrottledMS.P50.V != 1100 {
		t.Errorf("after ready %+v cpu %+v throttled %+v", d, sv.CPUUsageMS, sv.ThrottledMS)
	}
	var found bool
	for _, w := range sc.Warnings {
		if w.Code == ServingMisses {
			found = strings.Contains(w.Message, "3 of 6 measured starts (50.0%) not served within 3000 ms, 2 of them after getting ready: deadline_exceeded 2, call_failed 1")
			t.Log(w.Message)
		}
	}
	if !found {
		t.Errorf("no serving_misses warning: %+v", sc.Warnings)
	}
	if plain := Compute([]result.Record{{Scenario: "x", Kind: result.KindMeasure, Outcome: result.OK, ReadyMS: result.F(5)}}, Options{}); plain.Scenarios[0].Serving != nil {
		t.Errorf("an arm without a work request has serving statistics")
	}
}

// Objectives on serving are checked like those on ready_ms: a censored
// percentile fails, and an arm without a work request cannot meet one.
func TestServingSLOs(t *testing.T) {
	recs := []result.Record{servingRec(0, result.OK, 100, result.OK, 900), servingRec(1, result.OK, 100, result.OK, 1100),
		servingRec(2, result.OK, 100, result.DeadlineExceeded, 0)}
	recs = append(recs, result.Record{Scenario: "plain", Kind: result.KindMeasure, Outcome: result.OK, ReadyMS: result.F(5)})
	s := Compute(recs, Options{})
	got := CheckSLOs(s, map[string]result.SLO{
		"app":   {P95MS: 200, ServingP50MS: 1000, ServingP95MS: 5000, ServingMissRate: 0.5, HasServingMissRate: true},
		"plain": {ServingP50MS: 1000},
	})
	want := []struct {
		objective string
		met       bool
		reason    string
	}{
		{"p95 <= 200 ms", true, ""},
		{"serving p50 <= 1000 ms", false, "serving p50 is 1100 ms"},
		{"serving p95 <= 5000 ms", false, "serving p95 is censored (> 2810 ms)"},
		{"serving miss_rate <= 50%", true, ""},
		{"serving p50 <= 1000 ms", false, "no serving request"},
	}
	if len(got) != len(want) {
		t.Fatalf("checks %+v", got)
	}
	for i, w := range want {
		if got[i].Objective != w.objective || got[i].Met != w.met || !strings.HasPrefix(got[i].Reason, w.reason) {
			t.Errorf("check %d: %+v, want %+v", i, got[i], w)
		}
	}
}

// A candidate that gets ready as fast but serves 30% slower: no change on
// ready_ms, regressed on serving_ms (the metric the verdict is drawn on).
func TestPairedOnServing(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	var recs []result.Record
	for i := range 60 {
		for _, v := range []struct {
			name   string
			factor float64
		}{{"baseline", 1}, {"candidate", 1.3}} {
			ready := 300 * math.Exp(0.02*rng.NormFloat64())
			recs = append(recs, result.Record{V: result.Version, Scenario: "app", Variant: v.name, Kind: result.KindMeasure, Iteration: i, Seq: len(recs),
				Outcome: result.OK, ReadyMS: result.F(ready), DeadlineMS: 3000,
				ServingOutcome: result.OK, ServingMS: result.F(ready + v.factor*600*math.Exp(0.1*rng.NormFloat64()))})
		}
	}
	ready := ComparePaired(recs, result.Gate{}, "")
	serving := ComparePaired(recs, result.Gate{Metric: result.MetricServing}, "")
	if ready.Metric != "ready_ms" || ready.Scenarios[0].Verdict != NoChange {
		t.Errorf("on ready: %s %s: %s", ready.Metric, ready.Scenarios[0].Verdict, ready.Scenarios[0].Reason)
	}
	if serving.Metric != "serving_ms" || serving.Scenarios[0].Verdict != Regressed || !strings.Contains(serving.Method, "serving_ms") {
		t.Errorf("on serving: %s %s: %s", serving.Metric, serving.Scenarios[0].Verdict, serving.Scenarios[0].Reason)
	}
	// Without work requests there is nothing to draw a serving verdict on.
	for i := range recs {
		recs[i].ServingOutcome, recs[i].ServingMS = "", nil
	}
	none := ComparePaired(recs, result.Gate{Metric: result.MetricServing}, "")
	if v := none.Scenarios[0]; v.Verdict != Inconclusive || v.Pairs != 0 || !strings.Contains(v.Reason, "sends no work request") {
		t.Errorf("no serving: %+v", v)
	}
}

// compare puts serving_ms beside ready_ms and gates on it too.
func TestCompareServing(t *testing.T) {
	run := func(servingMS float64) []result.Record {
		var recs []result.Record
		for i := range 30 {
			recs = append(recs, servingRec(i, result.OK, 300+float64(i), result.OK, servingMS+float64(i)))
		}
		return recs
	}
	c := Compare(run(1000), run(1500), 0.95)
	d := c.Scenarios[0]
	if d.Serving == nil || !d.Serving.P50.Significant || d.Serving.P50.Pct.V < 40 || d.P50.Pct.V != 0 {
		t.Fatalf("ready %+v serving %+v", d.P50, d.Serving)
	}
	if bad, why := c.Gate(10); !bad || !strings.Contains(why, "p50 serving_ms") {
		t.Errorf("gate: %v %s", bad, why)
	}
}
