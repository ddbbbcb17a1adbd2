package reports

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports/svgplot"
)

// capacitySection is the sweep view: per swept scenario and swept key, the
// curves of the cells against that key: ready_ms p50/p95/p99 against the
// CPU quota (the deadline drawn), the miss and OOM rates against memory, and
// p95 and the makespan against the burst size. Cells that differ in other
// keys too are one curve per value of the others.
func capacitySection(s *summary.Summary) (section, bool) {
	byScenario := map[string][]*summary.Scenario{}
	var order []string
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		if len(sc.Sweep) == 0 {
			continue
		}
		if _, ok := byScenario[sc.Scenario]; !ok {
			order = append(order, sc.Scenario)
		}
		byScenario[sc.Scenario] = append(byScenario[sc.Scenario], sc)
	}
	if len(order) == 0 {
		return section{}, false
	}
	sec := section{ID: "capacity", Title: "Capacity: the sweep's cells", Class: "summary",
		Parts: []part{{Para: "Each cell of a sweep is a series of its own, and all of them ran interleaved in one run (the order shuffled with the plan's seed). " +
			"A point drawn in the hatched band beyond the deadline is censored: that percentile only is known to exceed it."}}}
	for n, name := range order {
		arms := byScenario[name]
		for _, key := range sweptKeys(arms) {
			id := fmt.Sprintf("cap%d-%s", n+1, key)
			var f figure
			switch key {
			case "memory":
				f = rateFigure(id, name, key, arms)
			case "concurrency":
				f = burstFigure(id, name, key, arms)
			default:
				f = curveFigure(id, name, key, arms)
			}
			sec.Parts = append(sec.Parts, part{Heading: name + ": against " + key, Figures: []figure{f}})
		}
	}
	return sec, true
}

// sweptKeys are the keys whose value differs between a scenario's cells.
func sweptKeys(arms []*summary.Scenario) []string {
	values := map[string]map[float64]bool{}
	var keys []string
	for _, a := range arms {
		for _, v := range a.Sweep {
			if values[v.Key] == nil {
				values[v.Key] = map[float64]bool{}
				keys = append(keys, v.Key)
			}
			values[v.Key][v.Number] = true
		}
	}
	var out []string
	for _, k := range keys {
		if len(values[k]) > 1 {
			out = append(out, k)
		}
	}
	return out
}

// series is the cells that share every swept value but key's, in key's order.
type series struct {
	label string
	x     []float64
	arms  []*summary.Scenario
}

func seriesOf(key string, arms []*summary.Scenario) []series {
	at := map[string]int{}
	var out []series
	for _, a := range arms {
		var others []string
		x, has := 0.0, false
		for _, v := range a.Sweep {
			if v.Key == key {
				x, has = v.Number, true
				continue
			}
			others = append(others, v.Key+"="+v.Text)
		}
		if !has {
			continue
		}
		label := strings.Join(others, ",")
		i, ok := at[label]
		if !ok {
			i = len(out)
			at[label] = i
			out = append(out, series{label: label})
		}
		out[i].x = append(out[i].x, x)
		out[i].arms = append(out[i].arms, a)
	}
	for i := range out {
		s := &out[i]
		idx := make([]int, len(s.x))
		for j := range idx {
			idx[j] = j
		}
		slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(s.x[a], s.x[b]) })
		x, arms := make([]float64, len(idx)), make([]*summary.Scenario, len(idx))
		for j, k := range idx {
			x[j], arms[j] = s.x[k], s.arms[k]
		}
		s.x, s.arms = x, arms
	}
	return out
}

// xAxis is the swept key's axis: CPUs, MiB, containers, ms or shares.
func xAxis(key string, xs []float64) (svgplot.Axis, func(float64) float64) {
	scale, label := 1.0, key
	switch key {
	case "cpus":
		label = "CPU quota (CPUs)"
	case "cpu_quota":
		label = "cpu_quota (µs per period)"
	case "memory":
		scale, label = 1.0/(1<<20), "memory limit (MiB)"
	case "concurrency":
		label = "burst size (containers started at once)"
	case "deadline":
		label = "deadline (ms)"
	case "cpu_shares":
		label = "cpu_shares (relative weight)"
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range xs {
		lo, hi = math.Min(lo, v*scale), math.Max(hi, v*scale)
	}
	lo, hi = svgplot.Nice(0, hi*1.05, 6)
	return svgplot.Axis{Label: label, Min: lo, Max: hi}, func(v float64) float64 { return v * scale }
}

func allX(ss []series) []float64 {
	var xs []float64
	for _, s := range ss {
		xs = append(xs, s.x...)
	}
	return xs
}

// value is a percentile as a plot coordinate: +Inf when censored.
func value(v summary.Value) float64 {
	if v.Censored {
		return math.Inf(1)
	}
	return v.V
}

// curveFigure: ready_ms p50, p95 and p99 against the key, the deadline drawn.
func curveFigure(id, name, key string, arms []*summary.Scenario) figure {
	ss := seriesOf(key, arms)
	ax, sx := xAxis(key, allX(ss))
	deadline := arms[0].DeadlineMS
	c := &svgplot.Chart{ID: id, Title: name + ": ready_ms against " + key, Width: plotW, Height: plotH, X: ax,
		Y:      svgplot.Axis{Label: "ready_ms (ms)", Min: 0, Max: deadline * bandFactor, Cut: deadline, CutLabel: "> deadline"},
		Legend: []svgplot.LegendItem{{Class: "ecdf", Label: "p50", Line: true}, {Class: "ecdf-cand", Label: "p95", Line: true}, {Class: "whisker", Label: "p99", Line: true}}}
	c.Add(svgplot.HRule{Y: deadline, Label: "deadline " + num(deadline) + " ms", Class: "deadline"})
	data := &table{ID: id + "-data", Numeric: true, Head: []string{"cell", key, "n", "p50 ms", "p95 ms", "p99 ms", "misses"}}
	for _, s := range ss {
		for _, lv := range []struct {
			class string
			get   func(*summary.Scenario) summary.Value
		}{{"ecdf", func(a *summary.Scenario) summary.Value { return a.ReadyMS.P50 }},
			{"ecdf-cand", func(a *summary.Scenario) summary.Value { return a.ReadyMS.P95 }},
			{"whisker", func(a *summary.Scenario) summary.Value { return a.ReadyMS.P99 }}} {
			var lx, ly, px, py []float64
			var titles []string
			for i, a := range s.arms {
				y := value(lv.get(a))
				px, py = append(px, sx(s.x[i])), append(py, y)
				titles = append(titles, fmt.Sprintf("%s: %s ms", a.Cell, ms(lv.get(a))))
				if !math.IsInf(y, 1) {
					lx, ly = append(lx, sx(s.x[i])), append(ly, y)
				}
			}
			c.Add(svgplot.Line{X: lx, Y: ly, Class: lv.class}, svgplot.Points{X: px, Y: py, Titles: titles, Class: "ok", R: 2.5})
		}
		for i, a := range s.arms {
			data.Rows = append(data.Rows, trow{Key: a.Cell, Cells: cells([]string{a.Cell, num(s.x[i]), strconv.Itoa(a.N),
				ms(a.ReadyMS.P50), ms(a.ReadyMS.P95), ms(a.ReadyMS.P99), fmt.Sprintf("%d (%s)", a.Missed(), pct(a.Missed(), a.N))})})
		}
	}
	c.Desc = fmt.Sprintf("ready_ms p50, p95 and p99 of %s against %s, over %d cells; the deadline (%s ms) is drawn, and a censored percentile sits in the band beyond it.",
		name, key, len(arms), num(deadline))
	data.Caption = "The cells' percentiles; > marks a percentile censored at the deadline."
	return figureOf(c, "Where the p95 curve crosses under the deadline is the smallest quota that meets it.", data)
}

// rateFigure: the miss rate and the OOM-kill rate against the key (memory).
func rateFigure(id, name, key string, arms []*summary.Scenario) figure {
	ss := seriesOf(key, arms)
	ax, sx := xAxis(key, allX(ss))
	c := &svgplot.Chart{ID: id, Title: name + ": misses and OOM kills against " + key, Width: plotW, Height: plotH, X: ax,
		Y:      svgplot.Axis{Label: "share of measured starts (%)", Min: 0, Max: 100, Ticks: []float64{0, 25, 50, 75, 100}},
		Legend: []svgplot.LegendItem{{Class: "ecdf", Label: "miss rate (any outcome but ok)", Line: true}, {Class: "ecdf-cand", Label: "OOM-kill rate", Line: true}}}
	data := &table{ID: id + "-data", Numeric: true, Head: []string{"cell", key, "n", "misses", "oom kills", "p95 ms"}}
	for _, s := range ss {
		var x, miss, oom []float64
		for i, a := range s.arms {
			x = append(x, sx(s.x[i]))
			miss = append(miss, rate(a.Missed(), a.N))
			oom = append(oom, rate(a.Misses.Get(result.OOMKilled), a.N))
			data.Rows = append(data.Rows, trow{Key: a.Cell, Cells: cells([]string{a.Cell, num(s.x[i]), strconv.Itoa(a.N),
				fmt.Sprintf("%d (%s)", a.Missed(), pct(a.Missed(), a.N)), strconv.Itoa(a.Misses.Get(result.OOMKilled)), ms(a.ReadyMS.P95)})})
		}
		c.Add(svgplot.Line{X: x, Y: miss, Class: "ecdf"}, svgplot.Line{X: x, Y: oom, Class: "ecdf-cand"},
			svgplot.Points{X: x, Y: miss, Class: "ok", R: 2.5}, svgplot.Points{X: x, Y: oom, Class: "miss", R: 2.5})
	}
	c.Desc = fmt.Sprintf("Share of measured starts of %s that missed (any outcome but ok) and that were OOM-killed, against %s, over %d cells.", name, key, len(arms))
	data.Caption = "Misses and OOM kills per cell."
	return figureOf(c, "The smallest memory with no OOM kill is where the OOM curve reaches 0.", data)
}

// burstFigure: p95 ready_ms and the median makespan against the burst size.
func burstFigure(id, name, key string, arms []*summary.Scenario) figure {
	ss := seriesOf(key, arms)
	ax, sx := xAxis(key, allX(ss))
	deadline := arms[0].DeadlineMS
	c := &svgplot.Chart{ID: id, Title: name + ": p95 ready_ms and makespan against burst size", Width: plotW, Height: plotH, X: ax,
		Y:      svgplot.Axis{Label: "ms", Min: 0, Max: deadline * bandFactor, Cut: deadline, CutLabel: "> deadline"},
		Legend: []svgplot.LegendItem{{Class: "ecdf-cand", Label: "p95 ready_ms", Line: true}, {Class: "ecdf", Label: "makespan p50 (first t0 → last healthy)", Line: true}}}
	c.Add(svgplot.HRule{Y: deadline, Label: "deadline " + num(deadline) + " ms", Class: "deadline"})
	data := &table{ID: id + "-data", Numeric: true, Head: []string{"cell", key, "n", "p95 ms", "miss rate", "bursts", "makespan p50 ms", "makespan max ms"}}
	for _, s := range ss {
		var px, p95, mx, mk []float64
		for i, a := range s.arms {
			x := sx(s.x[i])
			px, p95 = append(px, x), append(p95, value(a.ReadyMS.P95))
			row := []string{a.Cell, num(s.x[i]), strconv.Itoa(a.N), ms(a.ReadyMS.P95), pct(a.Missed(), a.N), "-", "-", "-"}
			switch b := a.Bursts; {
			case b != nil:
				mx, mk = append(mx, x), append(mk, b.MakespanMS.P50.V)
				row[5], row[6], row[7] = fmt.Sprintf("%d x %d", b.N, b.Size), plain(b.MakespanMS.P50), plain(b.MakespanMS.Max)
			case a.ReadyMS.P50.Known: // a lone start's makespan is its ready time
				mx, mk = append(mx, x), append(mk, a.ReadyMS.P50.V)
			}
			data.Rows = append(data.Rows, trow{Key: a.Cell, Cells: cells(row)})
		}
		var lx, ly []float64
		for i := range px {
			if !math.IsInf(p95[i], 1) {
				lx, ly = append(lx, px[i]), append(ly, p95[i])
			}
		}
		c.Add(svgplot.Line{X: lx, Y: ly, Class: "ecdf-cand"}, svgplot.Points{X: px, Y: p95, Class: "miss", R: 2.5},
			svgplot.Line{X: mx, Y: mk, Class: "ecdf"}, svgplot.Points{X: mx, Y: mk, Class: "ok", R: 2.5})
	}
	c.Desc = fmt.Sprintf("p95 ready_ms of %s and the median makespan of its bursts against the burst size, over %d cells; the deadline (%s ms) is drawn.", name, len(arms), num(deadline))
	data.Caption = "Per burst size: p95 of the starts, and the bursts' makespans (a burst with a miss counts it at its deadline)."
	return figureOf(c, "How the slowest starts and the whole burst grow with the number of containers started at once.", data)
}

func rate(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}
