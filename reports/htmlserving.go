package reports

import (
	"fmt"
	"math"
	"strconv"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports/svgplot"
)

// servingFigure draws serving_ms beside ready_ms as two ECDFs on one axis:
// the gap between the curves is what the first real caller waits for once
// the app says it is ready.
func servingFigure(id string, sc *summary.Scenario, recs []*result.Record) figure {
	var ready, served []readySample
	for _, r := range recs {
		if !r.HasServing() {
			continue
		}
		if v, ok, m := metricSample(r, "serving_ms"); m {
			served = append(served, readySample{r: r, ready: v, ok: ok})
		}
		if v, ok, m := metricSample(r, "ready_ms"); m {
			ready = append(ready, readySample{r: r, ready: v, ok: ok})
		}
	}
	served, ready = sortedSamples(served), sortedSamples(ready)
	missed := len(served) - okCount(served)
	ax, on := readyAxis("ms from t0", sc.DeadlineMS, slowestOK(served), missed)
	c := &svgplot.Chart{ID: id + "-serving", Title: "ready_ms and serving_ms (ECDF)", Width: plotW, Height: plotH, X: ax,
		Y:      svgplot.Axis{Label: "fraction of measured starts", Min: 0, Max: 1, Ticks: []float64{0, .25, .5, .75, 1}},
		Legend: []svgplot.LegendItem{{Class: "ecdf", Label: "ready_ms", Line: true}, {Class: "ecdf-cand", Label: "serving_ms", Line: true}}}
	c.Add(svgplot.HRule{Y: 0.5, Label: "p50", Class: "level"})
	if on {
		c.Add(svgplot.VRule{X: sc.DeadlineMS, Label: "deadline " + num(sc.DeadlineMS) + " ms", Class: "deadline"})
	} else {
		c.Note = offScale(sc.DeadlineMS, slowestOK(served))
	}
	c.Add(ecdfStep(ready, "ecdf"), ecdfStep(served, "ecdf-cand"))
	var px, py []float64
	var titles []string
	data := &table{ID: c.ID + "-data", Numeric: true, Head: []string{"rank", "seq", "serving outcome", "ready ms", "serving ms", "serving − ready ms"}}
	for i, x := range served {
		f := float64(i+1) / float64(len(served))
		rd, _ := readyOf(x.r)
		after := "-"
		if x.ok && !math.IsInf(rd, 1) {
			after = ms1(x.ready - rd)
			px, py = append(px, x.ready), append(py, f)
			titles = append(titles, fmt.Sprintf("seq %d: served at %s ms, %s ms after ready", x.r.Seq, ms1(x.ready), after))
		}
		sv := ms1(x.ready)
		if !x.ok {
			sv = "> " + num(sc.DeadlineMS)
		}
		data.Rows = append(data.Rows, trow{Key: strconv.Itoa(x.r.Seq), Cells: cells([]string{strconv.Itoa(i + 1), strconv.Itoa(x.r.Seq),
			string(x.r.ServingOutcome), ms1(rd), sv, after})})
	}
	c.Add(svgplot.Points{X: px, Y: py, Titles: titles, Class: "serving", R: 2.2})
	sv := sc.Serving
	c.Desc = fmt.Sprintf("Cumulative distributions of ready_ms and serving_ms over the %d measured starts of %s that sent a work request: ready p50 %s ms, serving p50 %s ms, p95 %s ms; %d not served within the %s ms deadline (%d of them after getting ready), drawn beyond it.",
		len(served), sc.Name, ms(sc.ReadyMS.P50), ms(sv.ServingMS.P50), ms(sv.ServingMS.P95), missed, num(sc.DeadlineMS), sv.ReadyNotServed)
	data.Caption = "Every measured start with a work request, by serving time; a start not served is censored at the deadline."
	return figureOf(c, "The horizontal gap between the curves is the first caller's wait after the health answer.", data)
}

// ecdfStep is the empirical distribution of sorted samples as a step line;
// misses (+Inf) rise beyond the deadline.
func ecdfStep(ss []readySample, class string) svgplot.Step {
	xs, ys := []float64{0}, []float64{0}
	for i, x := range ss {
		xs, ys = append(xs, x.ready), append(ys, float64(i+1)/float64(len(ss)))
	}
	return svgplot.Step{X: xs, Y: ys, Class: class}
}

func okCount(ss []readySample) int {
	n := 0
	for _, x := range ss {
		if x.ok {
			n++
		}
	}
	return n
}

// overviewServing adds an arm's serving p50 to the overview: a thin bar
// from ready p50 on (the first call's wait), or a note when it is censored.
func overviewServing(c *svgplot.Chart, sc *summary.Scenario, y float64) {
	sv := sc.Serving
	if sv == nil || sc.N == 0 {
		return
	}
	from := 0.0
	if p := sc.ReadyMS.P50; p.Known {
		from = p.V
	}
	switch p := sv.ServingMS.P50; {
	case p.Known:
		c.Add(svgplot.Rect{X0: from, X1: math.Max(p.V, from), Y0: y - 0.1, Y1: y + 0.1, Class: "ph-serving",
			Title: fmt.Sprintf("%s: serving p50 %s ms (ready p50 %s ms)", sc.Name, ms(p), ms(sc.ReadyMS.P50))})
	case p.Censored:
		c.Add(svgplot.Rect{X0: from, X1: sc.DeadlineMS, Y0: y - 0.1, Y1: y + 0.1, Class: "ph-miss",
			Title: fmt.Sprintf("%s: serving p50 %s ms: at least half the starts were not served", sc.Name, ms(p))})
	}
}
