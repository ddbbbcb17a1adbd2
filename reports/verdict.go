package reports

import (
	"fmt"
	"math"
	"strings"

	"github.com/coldstart/coldstart/harness/summary"
)

// pctText renders a change in percent: "+3.1%", "+inf%" where a miss
// decides it, "?" where nothing does.
func pctText(p summary.Pct) string {
	switch v := float64(p); {
	case math.IsInf(v, 1):
		return "+inf%"
	case math.IsInf(v, -1):
		return "-inf%"
	case math.IsNaN(v):
		return "?"
	}
	return fmt.Sprintf("%+.1f%%", float64(p))
}

// verdictBlocks is the paired comparison for the text and Markdown reports.
func verdictBlocks(p *summary.Paired) []block {
	if p == nil {
		return nil
	}
	doc := []block{{heading: "paired verdict: " + strings.ReplaceAll(p.Verdict, "_", " ")},
		{para: fmt.Sprintf("candidate against baseline on %s, in adjacent pairs of the same run; %s. Rule: regressed when the interval's lower bound is above +%g%%, improved when its upper bound is below -%g%%, no change when it lies within ±%g%%, else inconclusive; intervals at %.4g%% each (%.4g%% family-wise).",
			metricOf(p), p.Method, p.Options.ThresholdPct, p.Options.ThresholdPct, p.Options.ThresholdPct, 100*p.Confidence, 100*p.Options.Confidence)}}
	t := block{numeric: true, header: []string{"scenario", "verdict", "pairs", "baseline p50 ms", "candidate p50 ms", "change", "interval",
		"p (slower, Holm)", "misses b/c/both", "miss p (Holm)"}}
	for _, v := range p.Scenarios {
		t.rows = append(t.rows, []string{v.Name, strings.ReplaceAll(v.Verdict, "_", " "), fmt.Sprint(v.Pairs),
			ms(v.BaselineP50), ms(v.CandidateP50), pctText(v.ChangePct), "[" + pctText(v.CILowPct) + ", " + pctText(v.CIHighPct) + "]",
			fmt.Sprintf("%.3g", v.PHolm), fmt.Sprintf("%d/%d/%d", v.BaselineOnlyMisses, v.CandidateOnlyMisses, v.BothMissed), fmt.Sprintf("%.3g", v.MissPHolm)})
	}
	doc = append(doc, t)
	var notes []string
	for _, v := range p.Scenarios {
		notes = append(notes, v.Name+": "+v.Reason)
		if d := v.Imports; d != nil {
			notes = append(notes, importNotes(v.Name, d)...)
		}
	}
	g := p.Guard
	guard := fmt.Sprintf("stability guard: %s; %d of %d paired starts contended (limit %.0f%%)", okText(g.OK), g.ContendedStarts, g.PairedStarts, 100*p.Options.MaxContendedShare)
	if g.Calibration != "" {
		guard += fmt.Sprintf("; calibration %s drifted %s between the halves of the run (limit ±%g%%)", g.Calibration, pctText(g.DriftPct), p.Options.MaxDriftPct)
	} else {
		guard += "; no calibration workload in the run: drift between its halves is not checked"
	}
	notes = append(notes, guard)
	notes = append(notes, g.Reasons...)
	return append(doc, block{items: notes})
}

// metricOf is the metric a verdict was drawn on (ready_ms for runs before
// the choice existed).
func metricOf(p *summary.Paired) string {
	if p.Metric == "" {
		return "ready_ms"
	}
	return p.Metric
}

func okText(ok bool) string {
	if ok {
		return "ok"
	}
	return "FAILED"
}

// importNotes lists what the candidate imports anew, and what grew most.
func importNotes(name string, d *summary.ImportDiff) []string {
	var out []string
	mod := func(m summary.ModuleChange) string {
		return fmt.Sprintf("%s %+.1f ms (%.1f -> %.1f)", m.Name, m.DeltaUS/1000, m.BaselineUS/1000, m.CandidateUS/1000)
	}
	if len(d.New) > 0 {
		var ms []string
		for _, m := range d.New {
			ms = append(ms, fmt.Sprintf("%s %.1f ms", m.Name, m.CandidateUS/1000))
		}
		out = append(out, fmt.Sprintf("%s imports only in the candidate (%d/%d profiled starts): %s", name, d.BaselineStarts, d.CandidateStarts, strings.Join(ms, ", ")))
	}
	if len(d.Grown) > 0 {
		var ms []string
		for _, m := range d.Grown {
			ms = append(ms, mod(m))
		}
		out = append(out, fmt.Sprintf("%s imports grown most (median cumulative): %s", name, strings.Join(ms, ", ")))
	}
	return out
}

// sloBlocks are the suite's objectives and how the run did.
func sloBlocks(cs []summary.SLOCheck) []block {
	if len(cs) == 0 {
		return nil
	}
	failed := 0
	t := block{header: []string{"scenario", "objective", "observed", "met"}}
	for _, c := range cs {
		obs := ms(c.Observed)
		if strings.Contains(c.Objective, "miss_rate") && c.Observed.Known {
			obs = fmt.Sprintf("%.1f%%", 100*c.Observed.V)
		}
		met := "yes"
		if !c.Met {
			met, failed = "NO: "+c.Reason, failed+1
		}
		t.rows = append(t.rows, []string{c.Arm, c.Objective, obs, met})
	}
	h := "SLOs: all met"
	if failed > 0 {
		h = fmt.Sprintf("SLOs: %d of %d NOT met", failed, len(cs))
	}
	return []block{{heading: h}, t}
}
