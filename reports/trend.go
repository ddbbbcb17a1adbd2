package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/history"
	"github.com/coldstart/coldstart/harness/summary"
)

// TrendFormats are the formats RenderTrend writes.
var TrendFormats = []string{"markdown", "json", "html"}

// RenderTrend writes the trends of a history as markdown, json or html.
func RenderTrend(w io.Writer, ts []history.Trend, format string) error {
	switch format {
	case "json":
		b, err := json.MarshalIndent(struct {
			Trends []history.Trend `json:"trends"`
		}{ts}, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	case "markdown":
		return writeMarkdown(w, trendDocument(ts))
	case "html":
		return writePage(w, trendPage(ts))
	}
	return fmt.Errorf("trend format %q: want one of %s", format, strings.Join(TrendFormats, ", "))
}

// trendIntro says how to read a trend.
const trendIntro = "ready_ms per arm and run: p50, p95 and p99, shown as > bound where misses decide them (censored). " +
	"The calibration workload's figures of the same run stand beside every point: when an arm and the calibration move together, " +
	"the platform moved (engine, kernel, host load), not the app; p50 − calibration is the arm's own share. " +
	"Each run's paired verdict was drawn inside that run, pair by pair; figures of different runs are context, never a verdict."

func trendDocument(ts []history.Trend) []block {
	title := "coldstart trend"
	if len(ts) == 1 {
		title += ": " + ts[0].Suite
	}
	doc := []block{{heading: title}}
	if len(ts) == 0 {
		return append(doc, block{para: "The history holds no runs for this query: a trend needs at least 2."})
	}
	doc = append(doc, block{para: trendIntro})
	for i := range ts {
		doc = append(doc, suiteBlocks(&ts[i], len(ts) > 1)...)
	}
	return doc
}

func suiteBlocks(t *history.Trend, named bool) []block {
	prefix := ""
	if named {
		prefix = t.Suite + ": "
	}
	runs := block{heading: prefix + "runs", numeric: false,
		header: []string{"#", "run", "started (UTC)", "meta", "harness", "host", "verdict"}}
	for i, r := range t.Runs {
		runs.rows = append(runs.rows, []string{strconv.Itoa(i + 1), r.Run, r.Started.UTC().Format("2006-01-02 15:04"),
			metaText(r.Meta), r.Harness, hostText(r), runVerdict(r)})
	}
	doc := []block{runs}
	if len(t.Notes) > 0 {
		doc = append(doc, block{items: t.Notes})
	}
	for k := range t.Series {
		doc = append(doc, seriesBlocks(t, &t.Series[k], prefix)...)
	}
	return doc
}

func seriesBlocks(t *history.Trend, s *history.Series, prefix string) []block {
	head := prefix + s.Arm
	if s.Calibration {
		head += " (calibration)"
	}
	verdicts := slices.ContainsFunc(s.Points, func(p history.Point) bool { return p.Verdict != nil })
	tb := block{numeric: true, header: []string{"#", "run", "n", "misses", "p50 ms", "p95 ms", "p99 ms"}}
	if !s.Calibration {
		tb.header = append(tb.header, "calibration p50 ms", "p50 − calibration ms")
	}
	if verdicts {
		tb.header = append(tb.header, "verdict")
	}
	tb.header = append(tb.header, "SLOs not met")
	for _, p := range s.Points {
		row := []string{strconv.Itoa(p.Index + 1), p.Run, strconv.Itoa(p.N), missText(p), ms(p.P50), ms(p.P95), ms(p.P99)}
		if !s.Calibration {
			row = append(row, ms(p.CalibrationP50), ms(p.AppShareP50))
		}
		if verdicts {
			row = append(row, pointVerdict(p.Verdict))
		}
		tb.rows = append(tb.rows, append(row, strings.Join(p.SLOsFailed, "; ")))
	}
	return []block{{heading: head, para: seriesSummary(t, s)}, tb}
}

// seriesSummary compares the first and the last point of a series with the
// calibration's over the same two runs.
func seriesSummary(t *history.Trend, s *history.Series) string {
	n := len(s.Points)
	if n == 0 {
		return "no points."
	}
	first, last := s.Points[0], s.Points[n-1]
	out := fmt.Sprintf("%d run(s); p50 %s → %s ms%s", n, ms(first.P50), ms(last.P50), change(first.P50, last.P50))
	if !s.Calibration && t.Calibration != "" {
		out += fmt.Sprintf("; calibration p50 over the same runs %s → %s ms%s", ms(first.CalibrationP50), ms(last.CalibrationP50), change(first.CalibrationP50, last.CalibrationP50))
	}
	regressed := 0
	for _, p := range s.Points {
		if p.Verdict != nil && p.Verdict.Verdict == summary.Regressed {
			regressed++
		}
	}
	if regressed > 0 {
		out += fmt.Sprintf("; regressed in %d run(s)", regressed)
	}
	return out + "."
}

// change is the relative change between two known values, "" otherwise.
func change(a, b summary.Value) string {
	if !a.Known || !b.Known || a.V == 0 {
		return ""
	}
	return fmt.Sprintf(" (%+.1f%%)", 100*(b.V-a.V)/a.V)
}

func missText(p history.Point) string {
	if p.N == 0 {
		return "-"
	}
	m := p.N - p.OK
	if m == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", m, pct(m, p.N))
}

// pointVerdict marks a regressed run so that it stands out in a column.
func pointVerdict(v *history.Verdict) string {
	if v == nil {
		return ""
	}
	w := verdictWord(v.Verdict)
	if v.Verdict == summary.Regressed {
		w = "✗ REGRESSED"
	}
	return fmt.Sprintf("%s %s [%s, %s]", w, pctText(v.ChangePct), pctText(v.CILowPct), pctText(v.CIHighPct))
}

func verdictWord(v string) string { return strings.ReplaceAll(v, "_", " ") }

// runVerdict is a run's paired verdict with its stability guard: the
// calibration's drift inside the run, and why the guard failed.
func runVerdict(r history.RunInfo) string {
	v := verdictWord(r.Verdict)
	g := r.Guard
	if g == nil {
		return v
	}
	var notes []string
	if d := float64(g.DriftPct); !math.IsNaN(d) {
		notes = append(notes, "calibration drift in the run "+pctText(g.DriftPct))
	}
	if !g.OK {
		notes = append(notes, "guard failed: "+strings.Join(g.Reasons, "; "))
	}
	if len(notes) > 0 {
		v += " (" + strings.Join(notes, "; ") + ")"
	}
	return v
}

func metaText(m map[string]string) string {
	var kv []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		kv = append(kv, k+"="+m[k])
	}
	return strings.Join(kv, ", ")
}

func hostText(r history.RunInfo) string {
	h := r.Host
	s := fmt.Sprintf("engine %s, kernel %s, %d cores", orDash(h.EngineVersion), orDash(h.Kernel), h.Cores)
	if r.HostChanged {
		s = "changed: " + s
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
