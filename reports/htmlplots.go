package reports

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports/svgplot"
)

// Plot sizes in SVG units; the page scales them to its column.
const (
	plotW      = 560.0
	plotH      = 300.0
	maxGantt   = 100 // starts drawn in the phases plot; the table has all
	bandFactor = 1.14
)

// readySample is one measured start's ready time; censored starts (misses)
// are +Inf, as in the summary.
type readySample struct {
	r     *result.Record
	ready float64
	ok    bool
}

// readySamples returns the starts the ready_ms statistics cover, fastest
// first, misses last in run order.
func readySamples(recs []*result.Record) (all []readySample, ok, missed int) {
	for _, r := range recs {
		v, isOK := readyOf(r)
		if r.Outcome == result.OK && !isOK {
			continue // an ok record without a ready time: not in the statistics either
		}
		all = append(all, readySample{r, v, isOK})
		if isOK {
			ok++
		} else {
			missed++
		}
	}
	slices.SortStableFunc(all, func(a, b readySample) int {
		switch {
		case a.ready < b.ready:
			return -1
		case a.ready > b.ready:
			return 1
		}
		return a.r.Seq - b.r.Seq
	})
	return all, ok, missed
}

func slowestOK(s []readySample) float64 {
	m := 0.0
	for _, x := range s {
		if x.ok {
			m = math.Max(m, x.ready)
		}
	}
	return m
}

// readyAxis is the ready_ms axis of a scenario's plots. When a start missed,
// or the slowest came past half the deadline, it runs a little past the
// deadline and the region beyond is the censored band where misses are
// drawn. Otherwise it ends just past the slowest start, so that the shape of
// the distribution shows, and the deadline is noted off the scale.
func readyAxis(label string, deadline, slowest float64, missed int) (ax svgplot.Axis, onScale bool) {
	if missed > 0 || slowest > deadline/2 {
		cut := "none missed"
		if missed > 0 {
			cut = fmt.Sprintf("%d missed: > %s ms", missed, num(deadline))
		}
		return svgplot.Axis{Label: label, Min: 0, Max: deadline * bandFactor, Cut: deadline, CutLabel: cut}, true
	}
	_, hi := svgplot.Nice(0, math.Max(slowest*1.04, 1), 6)
	return svgplot.Axis{Label: label, Min: 0, Max: hi}, false
}

// offScale notes a deadline beyond the right edge of a plot.
func offScale(deadline, slowest float64) string {
	return fmt.Sprintf("deadline %s ms: off the scale → (slowest start: %s%% of it)", num(deadline), strconv.FormatFloat(math.Round(100*slowest/deadline), 'f', -1, 64))
}

func figureOf(c *svgplot.Chart, caption string, data *table) figure {
	return figure{ID: c.ID + "-fig", SVG: c.SVG(), Caption: caption, Data: data}
}

func intTicks(maxCount int) (float64, []float64) {
	step := math.Max(1, svgplot.TickStep(0, float64(maxCount), 4))
	hi := math.Ceil(float64(max(maxCount, 1))/step) * step
	var t []float64
	for v := 0.0; v <= hi+1e-9; v += step {
		t = append(t, v)
	}
	return hi, t
}

func ms1(v float64) string {
	if math.IsInf(v, 1) {
		return "censored"
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

func fraction(v float64) string { return strconv.FormatFloat(v, 'f', 3, 64) }

func ecdfFigure(id string, sc *summary.Scenario, recs []*result.Record) figure {
	samples, nOK, missed := readySamples(recs)
	n := len(samples)
	slowest := slowestOK(samples)
	ax, on := readyAxis("ready_ms (ms from t0)", sc.DeadlineMS, slowest, missed)
	c := &svgplot.Chart{ID: id + "-ecdf", Title: "ready_ms: cumulative distribution (ECDF)", Width: plotW, Height: plotH, X: ax,
		Y: svgplot.Axis{Label: "fraction of measured starts ready", Min: 0, Max: 1, Ticks: []float64{0, .25, .5, .75, 1}}}
	xs, ys := []float64{0}, []float64{0}
	var okX, okY, missX, missY []float64
	var okT, missT []string
	data := &table{ID: c.ID + "-data", Numeric: true, Head: []string{"rank", "seq", "outcome", "ready ms", "fraction ≤"}}
	for i, s := range samples {
		f := float64(i+1) / float64(n)
		xs, ys = append(xs, s.ready), append(ys, f)
		if s.ok {
			okX, okY = append(okX, s.ready), append(okY, f)
			okT = append(okT, fmt.Sprintf("seq %d: ready %s ms; %s of starts ready by then", s.r.Seq, ms1(s.ready), fraction(f)))
		} else {
			missX, missY = append(missX, s.ready), append(missY, f)
			missT = append(missT, fmt.Sprintf("seq %d: %s, not ready within %s ms (censored)", s.r.Seq, s.r.Outcome, num(sc.DeadlineMS)))
		}
		ready := ms1(s.ready)
		if !s.ok {
			ready = "> " + num(sc.DeadlineMS)
		}
		data.Rows = append(data.Rows, trow{Key: strconv.Itoa(s.r.Seq), Cells: cells([]string{strconv.Itoa(i + 1), strconv.Itoa(s.r.Seq), string(s.r.Outcome), ready, fraction(f)})})
	}
	if missed == 0 && n > 0 {
		end := ax.Max
		if ax.Censored() {
			end = ax.Cut
		}
		xs, ys = append(xs, end), append(ys, 1)
	}
	c.Add(svgplot.HRule{Y: 0.5, Label: "p50", Class: "level"}, svgplot.HRule{Y: 0.95, Label: "p95", Class: "level"})
	if on {
		c.Add(svgplot.VRule{X: sc.DeadlineMS, Label: "deadline " + num(sc.DeadlineMS) + " ms", Class: "deadline"})
	} else {
		c.Note = offScale(sc.DeadlineMS, slowest)
	}
	c.Add(svgplot.Step{X: xs, Y: ys, Class: "ecdf"},
		svgplot.Points{X: okX, Y: okY, Titles: okT, Class: "ok", R: 2.2},
		svgplot.Points{X: missX, Y: missY, Titles: missT, Class: "miss", R: 3.5})
	c.Desc = fmt.Sprintf("Empirical cumulative distribution of ready_ms over %d measured starts of %s: %d ready, p50 %s ms, p95 %s ms, deadline %s ms. ",
		n, sc.Name, nOK, ms(sc.ReadyMS.P50), ms(sc.ReadyMS.P95), num(sc.DeadlineMS))
	switch {
	case missed > 0:
		c.Desc += fmt.Sprintf("%d starts missed the deadline; they are drawn in the hatched band beyond it, where the curve rises to 1: their ready time is only known to exceed %s ms.", missed, num(sc.DeadlineMS))
	case !on:
		c.Desc += fmt.Sprintf("No start missed; the slowest took %s ms, so the deadline lies off the right edge.", ms1(slowest))
	default:
		c.Desc += "No start missed."
	}
	data.Caption = "Every measured start by rank; a miss is censored at the deadline."
	return figureOf(c, "Read the p50 and p95 where the curve crosses the dotted lines. Hover a point for its start.", data)
}

func histogramFigure(id string, sc *summary.Scenario, recs []*result.Record) figure {
	samples, _, missed := readySamples(recs)
	slowest := slowestOK(samples)
	ax, on := readyAxis("ready_ms (ms from t0)", sc.DeadlineMS, slowest, missed)
	hi := ax.Max
	if ax.Censored() {
		hi = ax.Cut
	}
	width := svgplot.TickStep(0, hi, 30)
	nb := max(1, int(math.Ceil(hi/width-1e-9)))
	counts := make([]int, nb)
	for _, s := range samples {
		if s.ok {
			counts[min(nb-1, max(0, int(s.ready/width)))]++
		}
	}
	top, ticks := intTicks(max(slices.Max(counts), missed))
	c := &svgplot.Chart{ID: id + "-hist", Title: fmt.Sprintf("ready_ms: histogram (%s ms bins)", num(width)), Width: plotW, Height: plotH, X: ax,
		Y: svgplot.Axis{Label: "measured starts", Min: 0, Max: top, Ticks: ticks, Format: func(v float64) string { return strconv.Itoa(int(v)) }}}
	data := &table{ID: c.ID + "-data", Numeric: true, Head: []string{"from ms", "to ms", "starts"}}
	for i, k := range counts {
		lo, up := float64(i)*width, math.Min(float64(i+1)*width, hi)
		if k > 0 {
			c.Add(svgplot.Rect{X0: lo, X1: up, Y0: 0, Y1: float64(k), Class: "bin",
				Title: fmt.Sprintf("%d starts ready in [%s, %s) ms", k, num(lo), num(up))})
			data.Rows = append(data.Rows, trow{Key: num(lo), Cells: cells([]string{num(lo), num(up), strconv.Itoa(k)})})
		}
	}
	if missed > 0 {
		c.Add(svgplot.Rect{X0: sc.DeadlineMS, X1: math.Inf(1), Y0: 0, Y1: float64(missed), Class: "bin-miss",
			Title: fmt.Sprintf("%d starts missed the %s ms deadline (censored)", missed, num(sc.DeadlineMS))},
			svgplot.Text{X: math.Inf(1), Y: float64(missed), S: strconv.Itoa(missed), Class: "count", Anchor: "middle", DY: -4})
		data.Rows = append(data.Rows, trow{Key: "missed", Class: "miss", Cells: cells([]string{"> " + num(sc.DeadlineMS), "censored", strconv.Itoa(missed)})})
	}
	if on {
		c.Add(svgplot.VRule{X: sc.DeadlineMS, Label: "deadline " + num(sc.DeadlineMS) + " ms", Class: "deadline"})
	} else {
		c.Note = offScale(sc.DeadlineMS, slowest)
	}
	c.Desc = fmt.Sprintf("Histogram of ready_ms of %s in %s ms bins: %d measured starts, %d missed the %s ms deadline", sc.Name, num(width), len(samples), missed, num(sc.DeadlineMS))
	if missed > 0 {
		c.Desc += " and are counted in the bar in the hatched band beyond it."
	} else {
		c.Desc += "."
	}
	data.Caption = "Bins with at least one start; misses in the last row."
	return figureOf(c, "Clusters a CFS period (100 ms) apart show a start that waited for the next quota.", data)
}

// phasesFigure draws every measured start as a bar: create (before t0),
// t0 → socket file, socket → first healthy answer, with the start call
// (which runs concurrently with readiness) as a thin dark bar inside.
func phasesFigure(id string, sc *summary.Scenario, recs []*result.Record) figure {
	samples, _, missed := readySamples(recs)
	// Starts that are in no ready statistic still have phases.
	rows := samples
	shown := rows
	if len(rows) > maxGantt {
		shown = make([]readySample, maxGantt)
		for i := range shown {
			shown[i] = rows[int(math.Round(float64(i)*float64(len(rows)-1)/float64(maxGantt-1)))]
		}
	}
	slowest, maxCreate := slowestOK(samples), 0.0
	for _, s := range rows {
		maxCreate = math.Max(maxCreate, s.r.CreateMS)
		if s.r.ExitMS != nil {
			slowest = math.Max(slowest, math.Min(*s.r.ExitMS, sc.DeadlineMS))
		}
		if s.r.SocketMS != nil {
			slowest = math.Max(slowest, math.Min(*s.r.SocketMS, sc.DeadlineMS))
		}
	}
	ax, on := readyAxis("ms from t0 (create runs before 0)", sc.DeadlineMS, slowest, missed)
	ax.Min = -maxCreate
	h := math.Min(math.Max(110+float64(len(shown))*5, 260), 640)
	c := &svgplot.Chart{ID: id + "-phases", Title: "Phases of each start", Width: plotW, Height: h, X: ax,
		Y: svgplot.Axis{Label: "starts, by ready time", Min: -0.5, Max: float64(len(shown)) - 0.5, Ticks: []float64{}},
		Legend: []svgplot.LegendItem{{Class: "ph-create", Label: "create"}, {Class: "ph-socket", Label: "t0 → socket"},
			{Class: "ph-healthy", Label: "socket → healthy"}, {Class: "ph-call", Label: "start call"}, {Class: "ph-miss", Label: "missed"}}}
	data := &table{ID: c.ID + "-data", Numeric: true, Head: []string{"seq", "outcome", "create ms", "start call ms", "socket ms", "ready ms", "socket → ready ms"}}
	var creates, calls, sockets, tails []float64
	c.Add(svgplot.VRule{X: 0, Class: "level"})
	for i, s := range shown {
		phaseBars(c, sc, s, float64(i))
	}
	for _, s := range rows {
		r := s.r
		tail := "-"
		if s.ok && r.SocketMS != nil {
			tail = ms1(s.ready - *r.SocketMS)
			tails = append(tails, s.ready-*r.SocketMS)
		}
		ready := ms1(s.ready)
		if !s.ok {
			ready = "> " + num(sc.DeadlineMS)
		}
		creates, calls = append(creates, r.CreateMS), append(calls, r.StartCallMS)
		if r.SocketMS != nil {
			sockets = append(sockets, *r.SocketMS)
		}
		data.Rows = append(data.Rows, trow{Key: strconv.Itoa(r.Seq), Cells: cells([]string{strconv.Itoa(r.Seq), string(r.Outcome),
			ms1(r.CreateMS), ms1(r.StartCallMS), optMS(r.SocketMS), ready, tail})})
	}
	if on {
		c.Add(svgplot.VRule{X: sc.DeadlineMS, Label: "deadline", Class: "deadline"})
	} else {
		c.Note = offScale(sc.DeadlineMS, slowest)
	}
	c.Desc = fmt.Sprintf("One bar per measured start of %s, sorted by ready time: create took p50 %s ms before t0; the socket file appeared at p50 %s ms; the first healthy answer came p50 %s ms after the socket; the start call returned after p50 %s ms, concurrently with readiness.",
		sc.Name, med(creates), med(sockets), med(tails), med(calls))
	caption := "Where a start's time goes: the gap before the socket is the app starting (imports, runtime init); the gap after it is listen → first answer."
	if len(shown) < len(rows) {
		caption += fmt.Sprintf(" %d of %d starts drawn, evenly by rank; the table has all.", len(shown), len(rows))
	}
	return figureOf(c, caption, data)
}

// phaseBars draws one start's row of the phases chart at y.
func phaseBars(c *svgplot.Chart, sc *summary.Scenario, s readySample, y float64) {
	r := s.r
	c.Add(svgplot.Rect{X0: -r.CreateMS, X1: 0, Y0: y - 0.4, Y1: y + 0.4, Class: "ph-create", Title: fmt.Sprintf("seq %d: create %s ms", r.Seq, ms1(r.CreateMS))})
	from := 0.0
	if r.SocketMS != nil {
		c.Add(svgplot.Rect{X0: 0, X1: *r.SocketMS, Y0: y - 0.4, Y1: y + 0.4, Class: "ph-socket", Title: fmt.Sprintf("seq %d: socket after %s ms", r.Seq, ms1(*r.SocketMS))})
		from = *r.SocketMS
	}
	switch {
	case s.ok:
		c.Add(svgplot.Rect{X0: from, X1: s.ready, Y0: y - 0.4, Y1: y + 0.4, Class: "ph-healthy", Title: fmt.Sprintf("seq %d: healthy at %s ms", r.Seq, ms1(s.ready))})
	case r.Outcome == result.StartFailed || r.Outcome == result.EngineError && r.SocketMS == nil:
		// It never ran: a mark at t0, not a bar to the deadline.
		c.Add(svgplot.Points{X: []float64{0}, Y: []float64{y}, Class: "miss", R: 3.5, Titles: []string{fmt.Sprintf("seq %d: %s: %s", r.Seq, r.Outcome, r.Error)}})
	case r.ExitMS != nil:
		c.Add(svgplot.Rect{X0: from, X1: *r.ExitMS, Y0: y - 0.4, Y1: y + 0.4, Class: "ph-miss", Title: fmt.Sprintf("seq %d: %s at %s ms", r.Seq, r.Outcome, ms1(*r.ExitMS))})
	default:
		c.Add(svgplot.Rect{X0: from, X1: math.Inf(1), Y0: y - 0.4, Y1: y + 0.4, Class: "ph-miss", Title: fmt.Sprintf("seq %d: %s, not ready within %s ms", r.Seq, r.Outcome, num(sc.DeadlineMS))})
	}
	if r.StartCallMS > 0 {
		c.Add(svgplot.Rect{X0: 0, X1: r.StartCallMS, Y0: y - 0.13, Y1: y + 0.13, Class: "ph-call", Title: fmt.Sprintf("seq %d: start call returned after %s ms", r.Seq, ms1(r.StartCallMS))})
	}
}

// med is a median for a caption: the same type-7 interpolation as the summary.
func med(v []float64) string {
	if len(v) == 0 {
		return "-"
	}
	s := slices.Clone(v)
	slices.Sort(s)
	pos := 0.5 * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return ms1(s[lo] + (pos-float64(lo))*(s[hi]-s[lo]))
}

func throttleFigure(id string, sc *summary.Scenario, recs []*result.Record) (figure, bool) {
	samples, _, missed := readySamples(recs)
	var okX, okY, missX, missY []float64
	var okT, missT []string
	maxT := 0.0
	data := &table{ID: id + "-throttle-data", Numeric: true, Head: []string{"seq", "throttled ms", "throttled periods", "cpu usage ms", "ready ms"}}
	for _, s := range samples {
		cg := s.r.Cgroup
		if cg == nil {
			continue
		}
		maxT = math.Max(maxT, cg.ThrottledMS)
		t := fmt.Sprintf("seq %d: throttled %s ms in %d periods, CPU %s ms, ready %s ms", s.r.Seq, ms1(cg.ThrottledMS), cg.ThrottledPeriods, ms1(cg.CPUUsageMS), ms1(s.ready))
		ready := ms1(s.ready)
		if s.ok {
			okX, okY, okT = append(okX, cg.ThrottledMS), append(okY, s.ready), append(okT, t)
		} else {
			ready = "> " + num(sc.DeadlineMS)
			missX, missY = append(missX, cg.ThrottledMS), append(missY, math.Inf(1))
			missT = append(missT, fmt.Sprintf("seq %d: %s; throttled %s ms in %d periods before the end", s.r.Seq, s.r.Outcome, ms1(cg.ThrottledMS), cg.ThrottledPeriods))
		}
		data.Rows = append(data.Rows, trow{Key: strconv.Itoa(s.r.Seq), Cells: cells([]string{strconv.Itoa(s.r.Seq), ms1(cg.ThrottledMS),
			strconv.FormatUint(cg.ThrottledPeriods, 10), ms1(cg.CPUUsageMS), ready})})
	}
	if len(data.Rows) == 0 {
		return figure{}, false
	}
	yAx, on := readyAxis("ready_ms (ms from t0)", sc.DeadlineMS, slowestOK(samples), missed)
	_, xHi := svgplot.Nice(0, math.Max(maxT*1.04, 1), 5)
	c := &svgplot.Chart{ID: id + "-throttle", Title: "CPU throttled time vs ready_ms", Width: plotW, Height: plotH,
		X: svgplot.Axis{Label: "CPU throttled time before ready (ms)", Min: 0, Max: xHi}, Y: yAx}
	if on {
		c.Add(svgplot.HRule{Y: sc.DeadlineMS, Label: "deadline " + num(sc.DeadlineMS) + " ms", Class: "deadline"})
	} else {
		c.Note = offScale(sc.DeadlineMS, slowestOK(samples))
	}
	c.Add(svgplot.Points{X: okX, Y: okY, Titles: okT, Class: "ok", R: 3},
		svgplot.Points{X: missX, Y: missY, Titles: missT, Class: "miss", R: 3.5})
	c.Desc = fmt.Sprintf("Scatter of CPU-quota throttled time (x) against ready_ms (y) for %d measured starts of %s with a cgroup sample; throttled p50 %s ms. ",
		len(data.Rows), sc.Name, ms(sc.ThrottledMS.P50))
	if len(missX) > 0 {
		c.Desc += fmt.Sprintf("%d misses sit in the hatched band above the deadline at the throttled time sampled when they ended.", len(missX))
	} else {
		c.Desc += "No start missed."
	}
	return figureOf(c, "Points rising with throttled time: the CPU quota, not the app's work, sets the ready time.", data), true
}

func memoryFigure(id string, sc *summary.Scenario, recs []*result.Record) figure {
	limit, limitLabel, hasLimit := memoryLimit(sc.Limits)
	var okX, okY, missX, missY []float64
	var okT, missT []string
	maxPeak := 0.0
	data := &table{ID: id + "-memory-data", Numeric: true, Head: []string{"start", "seq", "outcome", "memory peak MiB", "of the limit"}}
	for i, r := range recs {
		cg := r.Cgroup
		if cg == nil {
			continue
		}
		peak := float64(cg.MemoryPeak) / (1 << 20)
		maxPeak = math.Max(maxPeak, peak)
		share := "-"
		if hasLimit {
			share = pctF(float64(cg.MemoryPeak) / limit)
		}
		t := fmt.Sprintf("start %d (seq %d, %s): memory peak %s MiB", i+1, r.Seq, r.Outcome, strconv.FormatFloat(peak, 'f', 1, 64))
		if r.Outcome == result.OK {
			okX, okY, okT = append(okX, float64(i+1)), append(okY, peak), append(okT, t)
		} else {
			missX, missY, missT = append(missX, float64(i+1)), append(missY, peak), append(missT, t)
		}
		data.Rows = append(data.Rows, trow{Key: strconv.Itoa(r.Seq), Cells: cells([]string{strconv.Itoa(i + 1), strconv.Itoa(r.Seq), string(r.Outcome),
			strconv.FormatFloat(peak, 'f', 1, 64), share})})
	}
	top := maxPeak * 1.1
	if hasLimit {
		top = math.Max(top, limit/(1<<20)*1.08)
	}
	_, yHi := svgplot.Nice(0, math.Max(top, 1), 5)
	c := &svgplot.Chart{ID: id + "-memory", Title: "Memory peak vs the memory limit", Width: plotW, Height: plotH,
		X: svgplot.Axis{Label: "measured start, in run order", Min: 0.5, Max: float64(len(recs)) + 0.5},
		Y: svgplot.Axis{Label: "memory peak (MiB)", Min: 0, Max: yHi}}
	if len(recs) <= 12 {
		c.X.Ticks = make([]float64, len(recs))
		for i := range recs {
			c.X.Ticks[i] = float64(i + 1)
		}
	}
	if hasLimit {
		c.Add(svgplot.HRule{Y: limit / (1 << 20), Label: "memory limit " + limitLabel, Class: "limit"})
	}
	c.Add(svgplot.Points{X: okX, Y: okY, Titles: okT, Class: "ok", R: 3},
		svgplot.Points{X: missX, Y: missY, Titles: missT, Class: "miss", R: 3.5})
	c.Desc = fmt.Sprintf("Memory peak of each measured start of %s with a cgroup sample (%d), in run order; p50 %s MiB, max %s MiB. ",
		sc.Name, len(data.Rows), mib(sc.MemoryPeak.P50), mib(sc.MemoryPeak.Max))
	if hasLimit {
		c.Desc += fmt.Sprintf("The enforced memory limit, %s, is the dashed line.", limitLabel)
	} else {
		c.Desc += "No enforced memory limit was recorded."
	}
	if len(data.Rows) == 0 {
		c.Add(svgplot.Text{X: float64(len(recs)+1) / 2, Y: yHi / 2, S: "no cgroup samples", Anchor: "middle", Class: "note"})
		c.Desc += " No start has a cgroup sample."
	}
	caption := "Misses are sampled when they ended (an OOM kill sits at the limit)."
	return figureOf(c, caption, data)
}

func importsFigure(id string, sc *summary.Scenario) figure {
	im := sc.Imports
	names := make([]string, len(im.Modules))
	maxCum := 0.0
	for i, m := range im.Modules {
		names[i] = m.Name
		maxCum = math.Max(maxCum, m.CumulativeUSP50/1000)
	}
	top := maxCum
	if im.ReadyMSP50.Known {
		top = math.Max(top, im.ReadyMSP50.V)
	}
	_, xHi := svgplot.Nice(0, math.Max(top*1.03, 1), 6)
	c := &svgplot.Chart{ID: id + "-imports", Title: "Import time of the top modules (median of profiled starts)", Width: plotW,
		Height: 90 + 19*float64(len(names)),
		X:      svgplot.Axis{Label: "import time (ms)", Min: 0, Max: xHi},
		Y:      svgplot.Axis{Categories: names},
		Legend: []svgplot.LegendItem{{Class: "imp-cum", Label: "cumulative (with its imports)"}, {Class: "imp-self", Label: "self"}}}
	data := &table{ID: c.ID + "-data", Numeric: true, Head: []string{"module", "cumulative p50 ms", "self p50 ms", "starts"}}
	for i, m := range im.Modules {
		y := float64(i)
		c.Add(svgplot.Rect{X0: 0, X1: m.CumulativeUSP50 / 1000, Y0: y - 0.38, Y1: y + 0.38, Class: "imp-cum",
			Title: fmt.Sprintf("%s: cumulative %.1f ms", m.Name, m.CumulativeUSP50/1000)},
			svgplot.Rect{X0: 0, X1: m.SelfUSP50 / 1000, Y0: y - 0.16, Y1: y + 0.16, Class: "imp-self",
				Title: fmt.Sprintf("%s: self %.1f ms", m.Name, m.SelfUSP50/1000)})
		data.Rows = append(data.Rows, trow{Key: m.Name, Cells: cells([]string{m.Name, fmt.Sprintf("%.1f", m.CumulativeUSP50/1000),
			fmt.Sprintf("%.1f", m.SelfUSP50/1000), strconv.Itoa(m.Starts)})})
	}
	if im.ReadyMSP50.Known {
		c.Add(svgplot.VRule{X: im.ReadyMSP50.V, Label: "measured p50 ready " + ms(im.ReadyMSP50) + " ms", Class: "ready-rule"})
	}
	c.Desc = fmt.Sprintf("Horizontal bars of the %d modules of %s with the largest median cumulative import time over %d profiled starts; the largest is %s at %.1f ms. Median import total %.1f ms; measured p50 ready %s ms.",
		len(names), sc.Name, im.Starts, firstName(names), maxCum, im.TotalUSP50/1000, ms(im.ReadyMSP50))
	return figureOf(c, "Module names and times are app-reported (the app's interpreter writes the profile). Profiled starts run slower than measured ones (the profiler's cost): compare shapes, not sums.", data)
}

func firstName(s []string) string {
	if len(s) == 0 {
		return "-"
	}
	return s[0]
}

// overviewFigure puts every scenario on one axis against its deadline: the
// median split at the socket, the whisker to p95, the misses beyond.
func overviewFigure(s *summary.Summary) figure {
	names := make([]string, len(s.Scenarios))
	maxDeadline := 0.0
	for i, sc := range s.Scenarios {
		names[i] = sc.Name
		maxDeadline = math.Max(maxDeadline, sc.DeadlineMS)
	}
	c := &svgplot.Chart{ID: "overview", Title: "ready_ms against the deadline, per scenario", Width: 1100,
		Height: 96 + 30*float64(len(names)),
		X:      svgplot.Axis{Label: "ready_ms (ms from t0)", Min: 0, Max: maxDeadline * 1.2, Cut: maxDeadline, CutLabel: ""},
		Y:      svgplot.Axis{Categories: names},
		Legend: []svgplot.LegendItem{{Class: "ph-socket", Label: "t0 → socket (p50)"}, {Class: "ph-healthy", Label: "socket → healthy (p50)"},
			{Class: "whisker", Label: "p50 → p95", Line: true}, {Class: "deadline", Label: "deadline", Line: true}, {Class: "censored", Label: "missed (censored beyond the deadline)"}}}
	data := &table{ID: "overview-data", Numeric: true, Head: []string{"scenario", "socket p50 ms", "ready p50 ms", "ready p95 ms", "deadline ms", "misses"}}
	serving := anyServing(s)
	if serving {
		c.Title, c.X.Label = "ready_ms and serving_ms against the deadline, per scenario", "ms from t0"
		c.Legend = append(c.Legend, svgplot.LegendItem{Class: "ph-serving", Label: "ready → served (serving p50)"})
		data.Head = append(data.Head, "serving p50 ms", "not served")
	}
	var met, missing []string
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		y := float64(i)
		row := []string{sc.Name, ms(sc.SocketMS.P50), ms(sc.ReadyMS.P50), ms(sc.ReadyMS.P95), num(sc.DeadlineMS), missCount(sc)}
		if serving {
			row = append(row, "-", "-")
			if sv := sc.Serving; sv != nil {
				row[len(row)-2], row[len(row)-1] = ms(sv.ServingMS.P50), strconv.Itoa(sv.Missed())
			}
		}
		data.Rows = append(data.Rows, trow{Key: sc.Name, Cells: cells(row)})
		c.Add(svgplot.Line{X: []float64{sc.DeadlineMS, sc.DeadlineMS}, Y: []float64{y - 0.45, y + 0.45}, Class: "deadline"})
		if sc.N == 0 {
			c.Add(svgplot.Text{X: 0, Y: y, DX: 6, DY: 4, S: "no measured starts", Class: "note"})
			continue
		}
		if sc.Missed() == 0 {
			met = append(met, sc.Name)
		} else {
			missing = append(missing, sc.Name)
		}
		p50, p95, sock := sc.ReadyMS.P50, sc.ReadyMS.P95, sc.SocketMS.P50
		switch {
		case p50.Censored:
			c.Add(svgplot.Rect{X0: 0, X1: sc.DeadlineMS, Y0: y - 0.3, Y1: y + 0.3, Class: "ph-miss",
				Title: fmt.Sprintf("%s: p50 %s ms: at least half the starts missed", sc.Name, ms(p50))})
		case p50.Known:
			split := 0.0
			if sock.Known {
				split = math.Min(sock.V, p50.V)
				c.Add(svgplot.Rect{X0: 0, X1: split, Y0: y - 0.3, Y1: y + 0.3, Class: "ph-socket",
					Title: fmt.Sprintf("%s: socket p50 %s ms", sc.Name, ms(sock))})
			}
			c.Add(svgplot.Rect{X0: split, X1: p50.V, Y0: y - 0.3, Y1: y + 0.3, Class: "ph-healthy",
				Title: fmt.Sprintf("%s: ready p50 %s ms", sc.Name, ms(p50))})
			if p95.Known {
				c.Add(svgplot.Line{X: []float64{p50.V, p95.V}, Y: []float64{y, y}, Class: "whisker"},
					svgplot.Line{X: []float64{p95.V, p95.V}, Y: []float64{y - 0.18, y + 0.18}, Class: "whisker"})
			} else { // p95 is censored: the whisker runs on into the band, capless
				c.Add(svgplot.Line{X: []float64{p50.V, math.Inf(1)}, Y: []float64{y, y}, Class: "whisker"})
			}
		}
		overviewServing(c, sc, y)
		if m := sc.Missed(); m > 0 {
			c.Add(svgplot.Text{X: math.Inf(1), Y: y, DX: 6, DY: 4, Class: "count", S: fmt.Sprintf("%d missed", m)})
		} else if sv := sc.Serving; sv != nil && sv.Missed() > 0 {
			c.Add(svgplot.Text{X: math.Inf(1), Y: y, DX: 6, DY: 4, Class: "count", S: fmt.Sprintf("%d not served", sv.Missed())})
		}
	}
	c.Desc = fmt.Sprintf("One row per scenario on a common ready_ms axis up to a little past the deadline (%s ms). Meet their deadline on every start: %s. Miss it at least once: %s.",
		num(maxDeadline), listOrNone(met), listOrNone(missing))
	f := figureOf(c, "A bar that stops short of the dashed deadline with room to spare meets it; a count in the hatched band is starts that missed.", data)
	f.Wide = true
	return f
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	out := s[0]
	for _, x := range s[1:] {
		out += ", " + x
	}
	return out
}
