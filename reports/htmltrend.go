package reports

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/history"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports/svgplot"
)

// trendCSS colours the trend plots' marks; the common sheet does the rest.
const trendCSS = `
svg.plot .tr-p50{stroke:#2f6db5;stroke-width:1.8;fill:none}
svg.plot .tr-p50 circle{fill:#2f6db5;stroke:none}
svg.plot .tr-p95{stroke:#d4862a;stroke-width:1.5;stroke-dasharray:5 3;fill:none}
svg.plot .tr-p95 circle{fill:#d4862a;stroke:none}
svg.plot .tr-cal{stroke:#777;stroke-width:1.4;stroke-dasharray:2 3;fill:none}
svg.plot .tr-cal circle{fill:#777;stroke:none}
svg.plot .tr-censored path{fill:#fff;stroke:#c0392b;stroke-width:1.5}
svg.plot .tr-regressed{fill:#c0392b;fill-opacity:.14;stroke:none}
svg.plot .tr-inconclusive{fill:#999;fill-opacity:.12;stroke:none}
svg.plot .legend .tr-censored{fill:#fff;stroke:#c0392b;stroke-width:1.5}
tr.regressed th,tr.regressed td{background:#fdf0ee}
`

// trendPage is the history view: the runs, then one section per arm with
// its p50/p95 over the runs, the calibration's p50 on the same axes, the
// censored points drawn at their bound, and regressed runs shaded.
func trendPage(ts []history.Trend) page {
	p := page{Title: "coldstart trend", CSS: trendCSS,
		Footer: "Rendered by coldstart from its run history (coldstart trend); each run's own files remain the source of truth."}
	if len(ts) == 1 {
		p.Title += ": " + ts[0].Suite
	}
	if len(ts) == 0 {
		p.Status = "The history holds no runs for this query: a trend needs at least 2."
		return p
	}
	runs := 0
	for i := range ts {
		runs += len(ts[i].Runs)
		if len(ts[i].Runs) < history.MinRuns {
			p.Status = fmt.Sprintf("Suite %s has %d run in the history: a trend needs at least %d.", ts[i].Suite, len(ts[i].Runs), history.MinRuns)
		}
	}
	p.Subtitle = fmt.Sprintf("%d suite(s), %d run(s)", len(ts), runs)
	for i := range ts {
		t := &ts[i]
		prefix := ""
		if len(ts) > 1 {
			prefix = t.Suite + ": "
		}
		p.Sections = append(p.Sections, trendRunsSection(i, t, prefix))
		for k := range t.Series {
			p.Sections = append(p.Sections, seriesSection(scenarioID(len(p.Sections), prefix+t.Series[k].Arm), t, &t.Series[k], prefix))
		}
	}
	return p
}

func trendRunsSection(i int, t *history.Trend, prefix string) section {
	sec := section{ID: fmt.Sprintf("runs-%d", i+1), Title: prefix + "Runs", Class: "summary"}
	sec.Parts = append(sec.Parts, part{Para: trendIntro})
	if len(t.Notes) > 0 {
		sec.Parts = append(sec.Parts, part{List: t.Notes})
	}
	tb := &table{ID: sec.ID + "-table", Head: []string{"#", "run", "started (UTC)", "meta", "harness", "host", "verdict"}}
	for k, r := range t.Runs {
		row := trow{Key: r.Run, Cells: cells([]string{strconv.Itoa(k + 1), r.Run, r.Started.UTC().Format("2006-01-02 15:04"),
			metaText(r.Meta), r.Harness, hostText(r), runVerdict(r)})}
		if r.Verdict == summary.Regressed {
			row.Class = "regressed"
		}
		tb.Rows = append(tb.Rows, row)
	}
	sec.Parts = append(sec.Parts, part{Table: tb})
	return sec
}

func seriesSection(id string, t *history.Trend, s *history.Series, prefix string) section {
	title := prefix + s.Arm
	if s.Calibration {
		title += " (calibration)"
	}
	sec := section{ID: id, Title: title, Class: "scenario"}
	regressed, verdicts := 0, 0
	for _, p := range s.Points {
		if p.Verdict != nil {
			verdicts++
			if p.Verdict.Verdict == summary.Regressed {
				regressed++
			}
		}
	}
	switch {
	case regressed > 0:
		sec.Badge = &badge{Text: fmt.Sprintf("✗ regressed in %d of %d runs", regressed, verdicts), Short: "✗ regressed", Class: "miss"}
	case verdicts > 0:
		sec.Badge = &badge{Text: fmt.Sprintf("✓ no regression in %d runs", verdicts), Short: "✓", Class: "ok"}
	}
	sec.Parts = append(sec.Parts, part{Para: seriesSummary(t, s)}, part{Figures: []figure{trendFigure(id, t, s)}})
	return sec
}

// trendTop is the top of a trend plot's y axis: every value, bound and
// calibration figure fits, and the deadline when a point comes near it.
func trendTop(s *history.Series) (top, deadline float64) {
	for _, p := range s.Points {
		deadline = math.Max(deadline, p.DeadlineMS)
		for _, v := range []summary.Value{p.P50, p.P95, p.CalibrationP50} {
			switch {
			case v.Known:
				top = math.Max(top, v.V)
			case v.Censored:
				top = math.Max(top, v.Bound)
			}
		}
	}
	if deadline > 0 && top > deadline/2 {
		top = math.Max(top, deadline)
	}
	_, hi := svgplot.Nice(0, math.Max(top*1.08, 1), 5)
	return hi, deadline
}

// Long because it draws six kinds of mark from one pass over the points and
// keeps the numbers behind each in the same table rows.
func trendFigure(id string, t *history.Trend, s *history.Series) figure {
	top, deadline := trendTop(s)
	runs := len(t.Runs)
	c := &svgplot.Chart{ID: id + "-trend", Title: "ready_ms over runs: p50, p95 and the calibration's p50", Width: 1100, Height: 340,
		X: svgplot.Axis{Label: "run (UTC start date)", Min: 0.5, Max: float64(runs) + 0.5, Ticks: runTicks(runs),
			Format: func(v float64) string { return runLabel(t, v) }},
		Y: svgplot.Axis{Label: "ready_ms (ms)", Min: 0, Max: top}}
	data := &table{ID: c.ID + "-data", Numeric: true, Head: []string{"#", "run", "n", "misses", "p50 ms", "p95 ms", "p99 ms", "calibration p50 ms", "p50 − calibration ms", "verdict"}}
	var p50, p95, cal lineSet
	var cens svgplot.Above
	cens.Class = "tr-censored"
	shaded := map[string]bool{}
	for _, p := range s.Points {
		x := float64(p.Index + 1)
		when := runLabel(t, x)
		if p.Verdict != nil && (p.Verdict.Verdict == summary.Regressed || p.Verdict.Verdict == summary.Inconclusive) {
			class := "tr-regressed"
			if p.Verdict.Verdict == summary.Inconclusive {
				class = "tr-inconclusive"
			}
			shaded[class] = true
			c.Add(svgplot.Rect{X0: x - 0.45, X1: x + 0.45, Y0: 0, Y1: top, Class: class,
				Title: fmt.Sprintf("run %d (%s): %s", p.Index+1, p.Run, pointVerdict(p.Verdict))})
		}
		p50.add(x, p.P50, &cens, fmt.Sprintf("run %d (%s): p50 %s ms", p.Index+1, when, ms(p.P50)))
		p95.add(x, p.P95, &cens, fmt.Sprintf("run %d (%s): p95 %s ms", p.Index+1, when, ms(p.P95)))
		if !s.Calibration {
			cal.add(x, p.CalibrationP50, nil, fmt.Sprintf("run %d (%s): calibration p50 %s ms", p.Index+1, when, ms(p.CalibrationP50)))
		}
		row := trow{Key: p.Run, Cells: cells([]string{strconv.Itoa(p.Index + 1), p.Run, strconv.Itoa(p.N), missText(p),
			ms(p.P50), ms(p.P95), ms(p.P99), ms(p.CalibrationP50), ms(p.AppShareP50), pointVerdict(p.Verdict)})}
		if p.Verdict != nil && p.Verdict.Verdict == summary.Regressed {
			row.Class = "regressed"
		}
		data.Rows = append(data.Rows, row)
	}
	if deadline > 0 && deadline <= top {
		c.Add(svgplot.HRule{Y: deadline, Label: "deadline " + num(deadline) + " ms", Class: "deadline"})
	}
	c.Legend = trendLegend(len(cal.x) > 0, len(cens.X) > 0, shaded)
	cal.draw(c, "tr-cal")
	p95.draw(c, "tr-p95")
	p50.draw(c, "tr-p50")
	c.Add(cens)
	c.Desc = fmt.Sprintf("ready_ms of %s over %d of the %d runs: p50 %s, p95 %s. ", s.Arm, len(s.Points), runs, seriesRange(s, func(p history.Point) summary.Value { return p.P50 }),
		seriesRange(s, func(p history.Point) summary.Value { return p.P95 }))
	if !s.Calibration && t.Calibration != "" {
		c.Desc += "The calibration workload's p50 of the same runs is the dotted grey line: where it moves with the app, the platform moved. "
	}
	if n := len(cens.X); n > 0 {
		c.Desc += fmt.Sprintf("%d figure(s) are censored: misses decide them, so only a lower bound is known; they are drawn as open triangles at that bound. ", n)
	}
	c.Desc += "Runs whose paired verdict is regressed are shaded red."
	data.Caption = "One row per run of this arm; censored figures as > bound."
	f := figureOf(c, "Lines join runs whose figure is a number; a censored figure breaks the line and sits at its bound, pointing up.", data)
	f.Wide = true
	return f
}

// trendLegend names the kinds of mark a trend plot has.
func trendLegend(cal, censored bool, shaded map[string]bool) []svgplot.LegendItem {
	l := []svgplot.LegendItem{{Class: "tr-p50", Label: "p50", Line: true}, {Class: "tr-p95", Label: "p95", Line: true}}
	if cal {
		l = append(l, svgplot.LegendItem{Class: "tr-cal", Label: "calibration p50 (same run)", Line: true})
	}
	if censored {
		l = append(l, svgplot.LegendItem{Class: "tr-censored", Label: "censored: above this bound"})
	}
	if shaded["tr-regressed"] {
		l = append(l, svgplot.LegendItem{Class: "tr-regressed", Label: "regressed (paired verdict)"})
	}
	if shaded["tr-inconclusive"] {
		l = append(l, svgplot.LegendItem{Class: "tr-inconclusive", Label: "inconclusive (rerun)"})
	}
	return l
}

// lineSet collects a series' known values as line segments (a censored or
// absent value breaks the line) and its points.
type lineSet struct {
	segs   [][2][]float64
	x, y   []float64
	titles []string
	open   bool
}

func (l *lineSet) add(x float64, v summary.Value, cens *svgplot.Above, title string) {
	switch {
	case v.Known:
		if !l.open {
			l.segs = append(l.segs, [2][]float64{})
			l.open = true
		}
		s := &l.segs[len(l.segs)-1]
		s[0], s[1] = append(s[0], x), append(s[1], v.V)
		l.x, l.y, l.titles = append(l.x, x), append(l.y, v.V), append(l.titles, title)
		return
	case v.Censored && cens != nil:
		cens.X, cens.Y, cens.Titles = append(cens.X, x), append(cens.Y, v.Bound), append(cens.Titles, title+" (misses decide it)")
	}
	l.open = false
}

func (l *lineSet) draw(c *svgplot.Chart, class string) {
	for _, s := range l.segs {
		c.Add(svgplot.Line{X: s[0], Y: s[1], Class: class})
	}
	c.Add(svgplot.Points{X: l.x, Y: l.y, Titles: l.titles, Class: class, R: 2.6})
}

// runTicks labels at most about 12 runs, evenly.
func runTicks(runs int) []float64 {
	step := max(1, int(math.Ceil(float64(runs)/12)))
	var t []float64
	for i := 1; i <= runs; i += step {
		t = append(t, float64(i))
	}
	return t
}

func runLabel(t *history.Trend, v float64) string {
	i := int(math.Round(v)) - 1
	if i < 0 || i >= len(t.Runs) {
		return ""
	}
	return t.Runs[i].Started.UTC().Format("01-02")
}

// seriesRange is "a → b ms" over the first and last point.
func seriesRange(s *history.Series, f func(history.Point) summary.Value) string {
	if len(s.Points) == 0 {
		return "-"
	}
	return strings.TrimSpace(fmt.Sprintf("%s → %s ms", ms(f(s.Points[0])), ms(f(s.Points[len(s.Points)-1]))))
}
