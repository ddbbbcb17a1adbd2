package summary

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/coldstart/coldstart/harness/result"
)

// pairedRun builds a paired run: n pairs of scenario "app" whose candidate
// takes factor × the baseline's time, on a host whose speed drifts along
// the run (both halves of a pair see the same host), plus an interleaved
// calibration arm.
func pairedRun(n int, factor float64, seed uint64, drift float64) []result.Record {
	rng := rand.New(rand.NewPCG(seed, 9))
	var recs []result.Record
	seq := 0
	add := func(r result.Record) {
		r.V, r.Seq, r.Kind = result.Version, seq, result.KindMeasure
		seq++
		recs = append(recs, r)
	}
	for i := range n {
		host := 1 + drift*float64(i)/float64(n) // the host slows over the run
		base := 300 * host * math.Exp(0.15*rng.NormFloat64())
		cand := factor * 300 * host * math.Exp(0.15*rng.NormFloat64())
		add(result.Record{Scenario: "app", Variant: "baseline", Iteration: i, Outcome: result.OK, ReadyMS: result.F(base), DeadlineMS: 3000})
		add(result.Record{Scenario: "app", Variant: "candidate", Iteration: i, Outcome: result.OK, ReadyMS: result.F(cand), DeadlineMS: 3000})
		add(result.Record{Scenario: "null", Iteration: i, Outcome: result.OK, ReadyMS: result.F(250 * host * math.Exp(0.05*rng.NormFloat64())),
			DeadlineMS: 3000, Calibration: true})
	}
	return recs
}

func TestPairedVerdicts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		factor float64
		drift  float64
		want   string
	}{
		{"a/a", 1, 0, NoChange},
		{"planted +30%", 1.3, 0, Regressed},
		{"faster by a third", 0.7, 0, Improved},
		// Drift within a run that the pairs cancel: still a clean verdict.
		{"a/a under 15% drift", 1, 0.15, NoChange},
		// Drift beyond the guard's bound: no verdict.
		{"planted +30% under 100% drift", 1.3, 1.0, Inconclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := ComparePaired(pairedRun(120, tc.factor, 3, tc.drift), result.Gate{}, "null")
			if p == nil || len(p.Scenarios) != 1 {
				t.Fatalf("paired %+v", p)
			}
			v := p.Scenarios[0]
			if v.Verdict != tc.want || p.Verdict != tc.want {
				t.Errorf("verdict %s (run %s), want %s: %s; guard %+v", v.Verdict, p.Verdict, tc.want, v.Reason, p.Guard)
			}
			if v.Pairs != 120 {
				t.Errorf("%d pairs", v.Pairs)
			}
			if _, err := json.Marshal(p); err != nil {
				t.Error(err)
			}
		})
	}
}

// A candidate that misses its deadline where the baseline answered is a
// regression, even when its ready times do not say so.
func TestPairedMisses(t *testing.T) {
	recs := pairedRun(40, 1, 5, 0)
	for i := range recs {
		if r := &recs[i]; r.Variant == "candidate" && r.Iteration%4 == 0 {
			r.Outcome, r.ReadyMS = result.DeadlineExceeded, nil
		}
	}
	p := ComparePaired(recs, result.Gate{}, "")
	v := p.Scenarios[0]
	if v.Verdict != Regressed || v.CandidateOnlyMisses != 10 || v.BaselineOnlyMisses != 0 || v.MissP > 0.01 {
		t.Errorf("verdict %s, misses b/c %d/%d, p %v: %s", v.Verdict, v.BaselineOnlyMisses, v.CandidateOnlyMisses, v.MissP, v.Reason)
	}
	// Both missing: a tie, not evidence.
	for i := range recs {
		if r := &recs[i]; r.Variant == "baseline" && r.Iteration%4 == 0 {
			r.Outcome, r.ReadyMS = result.DeadlineExceeded, nil
		}
	}
	v = ComparePaired(recs, result.Gate{}, "").Scenarios[0]
	if v.BothMissed != 10 || v.CandidateOnlyMisses != 0 || v.Verdict == Regressed {
		t.Errorf("both missed %d, verdict %s", v.BothMissed, v.Verdict)
	}
}

func TestPairedGuardContention(t *testing.T) {
	recs := pairedRun(40, 1, 7, 0)
	for i := range recs {
		if recs[i].Iteration < 12 {
			recs[i].Host = &result.HostLoad{Contended: true}
		}
	}
	p := ComparePaired(recs, result.Gate{}, "null")
	if p.Guard.OK || p.Verdict != Inconclusive || p.Guard.ContendedStarts != 24 {
		t.Errorf("guard %+v verdict %s", p.Guard, p.Verdict)
	}
}

func TestPairedFewPairs(t *testing.T) {
	p := ComparePaired(pairedRun(1, 2, 1, 0), result.Gate{}, "")
	if v := p.Scenarios[0]; v.Verdict != Inconclusive {
		t.Errorf("one pair: %s", v.Verdict)
	}
	if ComparePaired(measured(5, 0), result.Gate{}, "") != nil {
		t.Error("a run without pairs has a paired verdict")
	}
}

func TestImportDiff(t *testing.T) {
	recs := pairedRun(4, 1, 1, 0)
	mods := func(ms ...result.Module) *result.Imports { return &result.Imports{Modules: ms} }
	for i, v := range []string{"baseline", "candidate", "baseline", "candidate"} {
		im := mods(result.Module{Name: "asyncio", CumulativeUS: 1000}, result.Module{Name: "json", CumulativeUS: 200})
		if v == "candidate" {
			im = mods(result.Module{Name: "asyncio", CumulativeUS: 1500}, result.Module{Name: "json", CumulativeUS: 150},
				result.Module{Name: "pydantic", CumulativeUS: 3000 + int64(i)})
		}
		recs = append(recs, result.Record{Scenario: "app", Variant: v, Kind: result.KindDiagnostic, Iteration: i / 2, Imports: im})
	}
	d := ComparePaired(recs, result.Gate{}, "").Scenarios[0].Imports
	if d == nil || len(d.New) != 1 || d.New[0].Name != "pydantic" || len(d.Grown) != 1 || d.Grown[0].Name != "asyncio" || d.Grown[0].DeltaUS != 500 {
		t.Errorf("diff %+v", d)
	}
}

func TestPctJSON(t *testing.T) {
	for _, p := range []Pct{Pct(math.Inf(1)), Pct(math.Inf(-1)), 12.5} {
		b, _ := json.Marshal(p)
		var back Pct
		if err := json.Unmarshal(b, &back); err != nil || back != p {
			t.Errorf("%v -> %s -> %v %v", p, b, back, err)
		}
	}
}

func TestSLOChecks(t *testing.T) {
	recs := measured(20, 2) // 2 misses of 20: p95 censored
	s := Compute(recs, Options{Order: []string{"s"}})
	cs := CheckSLOs(s, map[string]result.SLO{"s": {P50MS: 1e6, P95MS: 1e6, HasMissRate: true, MissRate: 0.05}})
	if len(cs) != 3 || !cs[0].Met || cs[1].Met || cs[2].Met {
		t.Fatalf("checks %+v", cs)
	}
	if cs[1].Observed.Censored != true {
		t.Errorf("p95 of a run with 10%% misses is not censored: %+v", cs[1])
	}
	cs = CheckSLOs(s, map[string]result.SLO{"s": {HasMissRate: true, MissRate: 0.1}})
	if !cs[0].Met {
		t.Errorf("10%% misses against a 10%% objective: %+v", cs[0])
	}
}
