package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports/svgplot"
)

// The verdict views: a run's paired comparison and its SLO checks, as
// sections of the same document as the run view.

// verdictClass maps a paired verdict to a badge class.
func verdictClass(v string) string {
	switch v {
	case summary.Regressed:
		return "miss"
	case summary.Inconclusive:
		return "none"
	}
	return "ok"
}

func verdictText(v string) string { return strings.ReplaceAll(v, "_", " ") }

// pairedSection shows, per paired scenario, the change of the candidate
// against the baseline with its interval and the two distributions.
func pairedSection(s *summary.Summary, recs []result.Record) (section, bool) {
	p := s.Paired
	if p == nil {
		return section{}, false
	}
	sec := section{ID: "paired", Title: "Paired verdict", Class: "summary",
		Badge: &badge{Text: verdictText(p.Verdict), Short: verdictText(p.Verdict), Class: verdictClass(p.Verdict)}}
	sec.Parts = append(sec.Parts, part{Para: fmt.Sprintf(
		"The candidate against the baseline on %s, in adjacent pairs of this run (the order in each pair drawn with a recorded seed), so that both halves of a pair met the same host: per pair d = ln(candidate/baseline); the change is the Hodges–Lehmann estimate with its signed-rank interval (%.4g%% each, %.4g%% family-wise). Regressed when the interval's lower bound is above +%g%%; improved when its upper bound is below −%g%%; no change when it lies within ±%g%%; otherwise inconclusive.",
		metricOf(p), 100*p.Confidence, 100*p.Options.Confidence, p.Options.ThresholdPct, p.Options.ThresholdPct, p.Options.ThresholdPct)})
	t := &table{ID: "paired-table", Numeric: true,
		Head: []string{"scenario", "verdict", "pairs", "baseline p50 ms", "candidate p50 ms", "change", "interval", "p slower (Holm)", "one-sided misses b/c"}}
	for _, v := range p.Scenarios {
		t.Rows = append(t.Rows, trow{Key: v.Name, Cells: []tcell{
			{Text: v.Name, Key: "scenario"}, {Text: verdictText(v.Verdict), Key: "verdict", Class: verdictClass(v.Verdict)},
			{Text: strconv.Itoa(v.Pairs), Key: "pairs"}, {Text: ms(v.BaselineP50), Key: "baseline_p50"}, {Text: ms(v.CandidateP50), Key: "candidate_p50"},
			{Text: pctText(v.ChangePct), Key: "change"}, {Text: "[" + pctText(v.CILowPct) + ", " + pctText(v.CIHighPct) + "]", Key: "interval"},
			{Text: fmt.Sprintf("%.3g", v.PHolm), Key: "p"}, {Text: fmt.Sprintf("%d/%d", v.BaselineOnlyMisses, v.CandidateOnlyMisses), Key: "misses"},
		}})
	}
	sec.Parts = append(sec.Parts, part{Table: t}, part{Figures: []figure{changeFigure(p)}})
	var notes []string
	for _, v := range p.Scenarios {
		notes = append(notes, v.Name+": "+v.Reason)
		if v.Imports != nil {
			notes = append(notes, importNotes(v.Name, v.Imports)...)
		}
	}
	sec.Parts = append(sec.Parts, part{List: append(notes, guardText(p))})
	for i, v := range p.Scenarios {
		sec.Parts = append(sec.Parts, part{Figures: []figure{pairECDF(fmt.Sprintf("paired-%d", i+1), v.Name, metricOf(p), s, recs)}})
	}
	return sec, true
}

func guardText(p *summary.Paired) string {
	g := p.Guard
	t := fmt.Sprintf("Stability guard %s: %d of %d paired starts ran under contention (at most %.0f%% allowed)", okText(g.OK), g.ContendedStarts, g.PairedStarts, 100*p.Options.MaxContendedShare)
	if g.Calibration != "" {
		t += fmt.Sprintf("; the calibration workload %s moved %s between the halves of the run (at most ±%g%%)", g.Calibration, pctText(g.DriftPct), p.Options.MaxDriftPct)
	} else {
		t += "; the run has no calibration workload, so drift between its halves is not checked"
	}
	if len(g.Reasons) > 0 {
		t += ": " + strings.Join(g.Reasons, "; ")
	}
	return t + "."
}

// changeFigure is a forest plot: one row per paired scenario, the change
// with its interval against the ±threshold band.
func changeFigure(p *summary.Paired) figure {
	var names []string
	lo, hi := -2*p.Options.ThresholdPct, 2*p.Options.ThresholdPct
	finite := func(v summary.Pct) (float64, bool) {
		f := float64(v)
		return f, !math.IsInf(f, 0) && !math.IsNaN(f)
	}
	for _, v := range p.Scenarios {
		names = append(names, v.Name)
		for _, x := range []summary.Pct{v.CILowPct, v.CIHighPct, v.ChangePct} {
			if f, ok := finite(x); ok {
				lo, hi = math.Min(lo, f), math.Max(hi, f)
			}
		}
	}
	lo, hi = svgplot.Nice(lo-2, hi+2, 6)
	h := math.Min(math.Max(110+40*float64(len(names)), 180), 600)
	c := &svgplot.Chart{ID: "paired-change", Title: "Change of the candidate against the baseline", Width: plotW, Height: h,
		X: svgplot.Axis{Label: "change of " + metricOf(p) + " (%), Hodges–Lehmann with its interval", Min: lo, Max: hi},
		Y: svgplot.Axis{Label: "scenario", Categories: names}}
	t := p.Options.ThresholdPct
	c.Add(svgplot.Rect{X0: -t, X1: t, Y0: -0.5, Y1: float64(len(names)) - 0.5, Class: "band-nochange", Title: fmt.Sprintf("±%g%%: no change", t)},
		svgplot.VRule{X: 0, Class: "level"}, svgplot.VRule{X: t, Label: fmt.Sprintf("+%g%%", t), Class: "deadline"})
	data := &table{ID: c.ID + "-data", Numeric: true, Head: []string{"scenario", "verdict", "change", "interval low", "interval high"}}
	var desc []string
	for i, v := range p.Scenarios {
		y := float64(i)
		l, lok := finite(v.CILowPct)
		u, uok := finite(v.CIHighPct)
		if !lok {
			l = lo
		}
		if !uok {
			u = hi
		}
		c.Add(svgplot.Rect{X0: l, X1: u, Y0: y - 0.08, Y1: y + 0.08, Class: "whisker-bar", Title: fmt.Sprintf("%s: interval [%s, %s]", v.Name, pctText(v.CILowPct), pctText(v.CIHighPct))})
		if e, ok := finite(v.ChangePct); ok {
			c.Add(svgplot.Points{X: []float64{e}, Y: []float64{y}, Class: verdictClass(v.Verdict), R: 4,
				Titles: []string{fmt.Sprintf("%s: %s, change %s", v.Name, verdictText(v.Verdict), pctText(v.ChangePct))}})
		}
		data.Rows = append(data.Rows, trow{Key: v.Name, Cells: cells([]string{v.Name, verdictText(v.Verdict), pctText(v.ChangePct), pctText(v.CILowPct), pctText(v.CIHighPct)})})
		desc = append(desc, fmt.Sprintf("%s %s (%s, interval %s to %s)", v.Name, verdictText(v.Verdict), pctText(v.ChangePct), pctText(v.CILowPct), pctText(v.CIHighPct)))
	}
	c.Desc = "Change of each paired scenario's candidate against its baseline, with its interval; the shaded band is the no-change zone. " + strings.Join(desc, "; ") + "."
	return figureOf(c, "A bar wholly right of the red line is a regression; wholly inside the band, no change. An interval cut at the edge is unbounded there (a miss on one side decides it).", data)
}

// pairECDF draws a paired scenario's two distributions of the verdict's
// metric (ready_ms or serving_ms) on one axis.
func pairECDF(id, name, metric string, s *summary.Summary, recs []result.Record) figure {
	var deadline float64
	series := map[string][]readySample{}
	for i := range recs {
		r := &recs[i]
		if r.Scenario != name || r.Variant == "" || !isMeasured(r) {
			continue
		}
		v, ok, measurable := metricSample(r, metric)
		if !measurable {
			continue
		}
		series[r.Variant] = append(series[r.Variant], readySample{r: r, ready: v, ok: ok})
		deadline = r.DeadlineMS
	}
	slowest, missed := 0.0, 0
	for _, ss := range series {
		slowest = math.Max(slowest, slowestOK(ss))
		for _, x := range ss {
			if !x.ok {
				missed++
			}
		}
	}
	ax, on := readyAxis(metric+" (ms from t0)", deadline, slowest, missed)
	c := &svgplot.Chart{ID: id + "-ecdf", Title: name + ": baseline and candidate (ECDF of " + metric + ")", Width: plotW, Height: plotH, X: ax,
		Y:      svgplot.Axis{Label: "fraction of measured starts ready", Min: 0, Max: 1, Ticks: []float64{0, .25, .5, .75, 1}},
		Legend: []svgplot.LegendItem{{Class: "ecdf", Label: "baseline", Line: true}, {Class: "ecdf-cand", Label: "candidate", Line: true}}}
	if on {
		c.Add(svgplot.VRule{X: deadline, Label: "deadline " + num(deadline) + " ms", Class: "deadline"})
	}
	data := &table{ID: c.ID + "-data", Numeric: true, Head: []string{"variant", "n", "p50 ms", "p95 ms", "misses"}}
	for _, v := range []struct{ variant, class string }{{"baseline", "ecdf"}, {"candidate", "ecdf-cand"}} {
		ss := sortedSamples(series[v.variant])
		xs, ys := []float64{0}, []float64{0}
		miss := 0
		for i, x := range ss {
			xs, ys = append(xs, x.ready), append(ys, float64(i+1)/float64(len(ss)))
			if !x.ok {
				miss++
			}
		}
		c.Add(svgplot.Step{X: xs, Y: ys, Class: v.class})
		arm := findArm(s, result.Arm(name, v.variant))
		p50, p95 := "-", "-"
		if d := armDist(arm, metric); d != nil {
			p50, p95 = ms(d.P50), ms(d.P95)
		}
		data.Rows = append(data.Rows, trow{Key: v.variant, Cells: cells([]string{v.variant, strconv.Itoa(len(ss)), p50, p95, strconv.Itoa(miss)})})
	}
	c.Desc = fmt.Sprintf("Cumulative distributions of %s of %s's baseline and candidate starts, measured in adjacent pairs; misses sit beyond the deadline.", metric, name)
	return figureOf(c, "Where the candidate's curve lies right of the baseline's, its starts were slower.", data)
}

// metricSample is a start's value of the metric; ok is false for a miss
// (+Inf), measurable false when the statistics leave the start out.
func metricSample(r *result.Record, metric string) (v float64, ok, measurable bool) {
	if metric == "serving_ms" {
		v, ok = servingOf(r)
		return v, ok, r.HasServing() && (ok || r.ServingOutcome != result.OK)
	}
	v, ok = readyOf(r)
	return v, ok, ok || r.Outcome != result.OK
}

// armDist is an arm's distribution of the metric, or nil.
func armDist(arm *summary.Scenario, metric string) *summary.CensoredDist {
	switch {
	case arm == nil:
		return nil
	case metric == "serving_ms":
		if arm.Serving == nil {
			return nil
		}
		return &arm.Serving.ServingMS
	}
	return &arm.ReadyMS
}

func sortedSamples(ss []readySample) []readySample {
	out := append([]readySample(nil), ss...)
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].ready < out[j-1].ready; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

func findArm(s *summary.Summary, arm string) *summary.Scenario {
	for i := range s.Scenarios {
		if s.Scenarios[i].Name == arm {
			return &s.Scenarios[i]
		}
	}
	return nil
}

// sloSection lists the suite's objectives and how this run did.
func sloSection(s *summary.Summary) (section, bool) {
	if len(s.SLOs) == 0 {
		return section{}, false
	}
	failed := 0
	t := &table{ID: "slo-table", Head: []string{"scenario", "objective", "observed", "met"}}
	for i, c := range s.SLOs {
		obs := ms(c.Observed)
		if strings.Contains(c.Objective, "miss_rate") && c.Observed.Known {
			obs = pctF(c.Observed.V)
		}
		met, class := "✓ met", "ok"
		if !c.Met {
			met, class, failed = "✗ "+c.Reason, "miss", failed+1
		}
		t.Rows = append(t.Rows, trow{Key: strconv.Itoa(i), Cells: []tcell{{Text: c.Arm}, {Text: c.Objective}, {Text: obs}, {Text: met, Class: class}}})
	}
	b := &badge{Text: "all met", Short: "met", Class: "ok"}
	if failed > 0 {
		b = &badge{Text: fmt.Sprintf("%d of %d not met", failed, len(s.SLOs)), Short: "not met", Class: "miss"}
	}
	return section{ID: "slos", Title: "SLOs", Class: "summary", Badge: b, Parts: []part{
		{Para: "The suite's service-level objectives, checked on the measured starts with censoring honoured: a percentile that misses decide (shown as > bound) cannot be shown to be under any bound, so it fails."},
		{Table: t},
	}}, true
}
