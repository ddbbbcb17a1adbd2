package reports

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports/svgplot"
)

// The text and Markdown reports share one document: a list of blocks that
// each renderer lays out its own way.
type block struct {
	heading string     // level-2 heading when set
	sub     string     // level-3 heading when set
	para    string     // a paragraph
	header  []string   // a table when set
	rows    [][]string // table rows
	items   []string   // a bullet list
	numeric bool       // right-align the columns after the first (Markdown)
}

func document(s *summary.Summary) []block {
	var doc []block
	doc = append(doc, block{heading: "coldstart " + s.Suite})
	state := "complete"
	if s.Interrupted {
		state = "interrupted"
	} else if s.Planned > 0 && s.Completed < s.Planned {
		state = "incomplete"
	}
	doc = append(doc, block{para: fmt.Sprintf("run %s: %d of %d planned starts (%s). ready_ms: t0 → first healthy response; "+
		"percentiles: %s; a start not ready by the deadline is censored and shows as > bound.",
		s.Run, s.Completed, s.Planned, state, s.PercentileMethod)})

	main := block{numeric: true, header: []string{"scenario", "n", "ok", "misses", "p50 ms", "p90 ms", "p95 ms", "p99 ms", "max ms",
		"socket p50 ms", "throttled p50 ms", "mem peak p50 MiB"}}
	for _, sc := range s.Scenarios {
		r := sc.ReadyMS
		main.rows = append(main.rows, []string{
			sc.Name, fmt.Sprint(sc.N), fmt.Sprint(sc.OK), fmt.Sprintf("%d (%s)", sc.Missed(), pct(sc.Missed(), sc.N)),
			ms(r.P50), ms(r.P90), ms(r.P95), ms(r.P99), ms(r.Max),
			ms(sc.SocketMS.P50), ms(sc.ThrottledMS.P50), mib(sc.MemoryPeak.P50),
		})
	}
	doc = append(doc, main)
	doc = append(doc, sweepBlocks(s)...)
	doc = append(doc, servingBlocks(s)...)
	doc = append(doc, mergedBlocks(s)...)
	doc = append(doc, verdictBlocks(s.Paired)...)
	doc = append(doc, sloBlocks(s.SLOs)...)

	for i := range s.Scenarios {
		doc = append(doc, textScenario(&s.Scenarios[i])...)
	}
	if len(s.Warnings) > 0 {
		doc = append(doc, block{heading: "run warnings", items: warnings(s.Warnings)})
	}
	if h := s.Harness; h != nil {
		doc = append(doc, block{para: fmt.Sprintf("harness: %.1f ms CPU for %d starts (%.2f ms per start), peak RSS %.1f MiB, wall %.1f s.",
			h.CPUMS, h.Starts, h.CPUMSPerStart, float64(h.MaxRSSBytes)/(1<<20), h.WallMS/1000)})
	}
	return doc
}

// textScenario is one scenario's part of the text document.
func textScenario(sc *summary.Scenario) []block {
	doc := []block{{heading: sc.Name}, overview(sc)}
	var extra []string
	if sc.Calibration {
		extra = append(extra, "calibration scenario: its ready time is the platform's share (engine + runtime + CFS) under these limits")
	}
	if sc.AppShareP50MS != nil {
		extra = append(extra, fmt.Sprintf("app share p50 = ready p50 − calibration p50 = %s ms", ms(*sc.AppShareP50MS)))
	}
	if sc.Cache != "" {
		extra = append(extra, "cache: "+sc.Cache)
	}
	if sc.Contended > 0 {
		extra = append(extra, fmt.Sprintf("%d of %d measured starts under contention", sc.Contended, sc.N))
	}
	if len(extra) > 0 {
		doc = append(doc, block{para: strings.Join(extra, "; ") + "."})
	}
	if sv := sc.Serving; sv != nil {
		doc = append(doc, block{para: servingOverview(sv)})
	}
	doc = append(doc, distributions(sc))
	doc = append(doc, limitBlocks(sc.Limits)...)
	doc = append(doc, hardeningBlocks(sc.Hardening)...)
	if sc.Imports != nil {
		doc = append(doc, importBlocks(sc.Imports)...)
	}
	if len(sc.Warnings) > 0 {
		doc = append(doc, block{sub: "warnings", items: warnings(sc.Warnings)})
	}
	return doc
}

func overview(sc *summary.Scenario) block {
	var misses []string
	for _, oc := range sc.Misses {
		if oc.N > 0 {
			misses = append(misses, fmt.Sprintf("%s %d", oc.Outcome, oc.N))
		}
	}
	if len(misses) == 0 {
		misses = []string{"none"}
	}
	return block{para: fmt.Sprintf("image %s, deadline %s ms, %d measured (%d ok), %d warmup, %d diagnostic; misses: %s; attempts p50 %s; "+
		"mean_ok %s ms, stddev_ok %s ms.",
		sc.Image, num(sc.DeadlineMS), sc.N, sc.OK, sc.NWarmup, sc.NDiagnostic, strings.Join(misses, ", "),
		plain(sc.AttemptsP50), ms(sc.ReadyMS.MeanOK), ms(sc.ReadyMS.StddevOK))}
}

func distributions(sc *summary.Scenario) block {
	dists := block{sub: "distributions", numeric: true, header: []string{"metric", "n", "min", "p50", "p90", "p95", "p99", "max"},
		rows: [][]string{
			quantRow("ready ms", sc.ReadyMS.N, sc.ReadyMS.Quantiles, ms),
			quantRow("socket ms", sc.SocketMS.N, sc.SocketMS.Quantiles, ms),
			quantRow("cpu usage ms", sc.CPUUsageMS.N, sc.CPUUsageMS.Quantiles, ms),
			quantRow("throttled ms", sc.ThrottledMS.N, sc.ThrottledMS.Quantiles, ms),
			quantRow("throttled periods", sc.ThrottledPeriods.N, sc.ThrottledPeriods.Quantiles, plain),
			quantRow("memory peak MiB", sc.MemoryPeak.N, sc.MemoryPeak.Quantiles, mib),
		}}
	if sv := sc.Serving; sv != nil {
		dists.rows = append(dists.rows, quantRow("serving ms", sv.ServingMS.N, sv.ServingMS.Quantiles, ms),
			quantRow("serving − ready ms", sv.AfterReadyMS.N, sv.AfterReadyMS.Quantiles, ms),
			quantRow("cpu at serving ms", sv.CPUUsageMS.N, sv.CPUUsageMS.Quantiles, ms))
	}
	if sc.DetectLagMS.N > 0 {
		// Only apps that stamp their listen time (go-hello) have these: the
		// stamps are the app's word, not a measurement of the harness.
		dists.rows = append(dists.rows, quantRow("detect lag ms (app-reported stamp)", sc.DetectLagMS.N, sc.DetectLagMS.Quantiles, ms))
		dists.rows = append(dists.rows, quantRow("probe lag ms (app-reported stamp)", sc.ProbeLagMS.N, sc.ProbeLagMS.Quantiles, ms))
	}
	return dists
}

// limitBlocks is the enforced-limits table and the notes on its readings.
func limitBlocks(limits []result.Limit) []block {
	if len(limits) == 0 {
		return []block{{sub: "enforced limits"}, {para: "no start recorded its enforced limits."}}
	}
	lim := block{sub: "enforced limits", header: []string{"limit", "requested", "observed (inspect)", "enforced (cgroup)", "ok"}}
	var notes []string
	for _, l := range limits {
		ok := "yes"
		if !l.OK {
			ok = "NO"
		}
		lim.rows = append(lim.rows, []string{l.Name, result.Format(l.Unit, l.Requested), result.Format(l.Unit, l.Observed), result.Format(l.Unit, l.Enforced), ok})
		if l.Note != "" {
			notes = append(notes, l.Name+": "+l.Note)
		}
	}
	if len(notes) == 0 {
		return []block{lim}
	}
	return []block{lim, {items: notes}}
}

// hardeningBlocks is the hardening table: each setting as requested, as
// inspect recorded it, and as the kernel holds it for the container's process.
func hardeningBlocks(h *result.Hardening) []block {
	if h == nil {
		return nil
	}
	t := block{sub: "hardening (profile " + h.Profile + ")", header: []string{"setting", "requested", "observed (inspect)", "enforced (kernel)", "ok"}}
	for _, s := range h.Settings {
		t.rows = append(t.rows, settingCells(s))
	}
	return []block{t}
}

func settingCells(s result.Setting) []string {
	ok := "yes"
	if !s.OK {
		ok = "NO"
	}
	return []string{s.Name, s.Requested, dash(s.Observed), dash(s.Enforced), ok}
}

func importBlocks(im *summary.Imports) []block {
	share := "-"
	if im.ShareOfReadyP50.Known {
		share = fmt.Sprintf("%.1f%%", 100*im.ShareOfReadyP50.V)
	}
	mods := block{numeric: true, header: []string{"module", "cumulative p50 ms", "self p50 ms", "starts"}}
	for _, m := range im.Modules {
		mods.rows = append(mods.rows, []string{m.Name, fmt.Sprintf("%.1f", m.CumulativeUSP50/1000),
			fmt.Sprintf("%.1f", m.SelfUSP50/1000), fmt.Sprint(m.Starts)})
	}
	return []block{
		{sub: "import time (diagnostic starts; module names and times app-reported by the interpreter)"},
		{para: fmt.Sprintf("%d starts with PYTHONPROFILEIMPORTTIME: median import total %.1f ms = %s of the measured p50 ready %s ms "+
			"(diagnostic starts: p50 ready %s ms); throttled inside imports ≈ %s ms (%s).",
			im.Starts, im.TotalUSP50/1000, share, ms(im.ReadyMSP50), ms(im.DiagReadyMSP50), ms(im.EstThrottledMS), im.EstimateNote)},
		mods,
	}
}

func quantRow(name string, n int, q summary.Quantiles, f func(summary.Value) string) []string {
	return []string{name, fmt.Sprint(n), f(q.Min), f(q.P50), f(q.P90), f(q.P95), f(q.P99), f(q.Max)}
}

func plain(v summary.Value) string {
	if v.Censored {
		return "> " + num(v.Bound)
	}
	if v.Known {
		return num(v.V)
	}
	return "-"
}

func warnings(ws []summary.Warning) []string {
	items := make([]string, len(ws))
	for i, w := range ws {
		items[i] = fmt.Sprintf("[%s] %s", w.Code, w.Message)
	}
	return items
}

var errNoSummary = errors.New("no summary to render")

func renderText(w io.Writer, in Input) error {
	if in.Summary == nil {
		return errNoSummary
	}
	return writeText(w, document(in.Summary))
}

// writeText lays out a document for a terminal.
func writeText(w io.Writer, doc []block) error {
	bw := bufio.NewWriter(w)
	for i, b := range doc {
		b = b.clean(" ")
		if i > 0 && (b.heading != "" || b.sub != "" || b.header != nil) {
			bw.WriteString("\n")
		}
		switch {
		case b.heading != "":
			fmt.Fprintf(bw, "== %s ==\n", b.heading)
		case b.sub != "":
			fmt.Fprintf(bw, "-- %s --\n", b.sub)
		}
		if b.para != "" {
			fmt.Fprintln(bw, b.para)
		}
		if b.header != nil {
			tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, strings.Join(b.header, "\t"))
			for _, r := range b.rows {
				fmt.Fprintln(tw, strings.Join(r, "\t"))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		for _, it := range b.items {
			fmt.Fprintf(bw, "- %s\n", it)
		}
	}
	return bw.Flush()
}

func renderMarkdown(w io.Writer, in Input) error {
	if in.Summary == nil {
		return errNoSummary
	}
	return writeMarkdown(w, document(in.Summary))
}

// writeMarkdown lays out a document as GitHub Markdown: the first heading
// is the title, later ones sections.
func writeMarkdown(w io.Writer, doc []block) error {
	bw := bufio.NewWriter(w)
	for i, b := range doc {
		b = b.clean("")
		if i > 0 {
			bw.WriteString("\n")
		}
		switch {
		case b.heading != "" && i == 0:
			fmt.Fprintf(bw, "# %s\n", mdEscape(b.heading))
		case b.heading != "":
			fmt.Fprintf(bw, "## %s\n", mdEscape(b.heading))
		case b.sub != "":
			fmt.Fprintf(bw, "### %s\n", mdEscape(b.sub))
		}
		if b.para != "" {
			if b.heading != "" || b.sub != "" {
				bw.WriteString("\n")
			}
			fmt.Fprintln(bw, mdEscape(b.para))
		}
		if b.header != nil {
			if b.heading != "" || b.sub != "" {
				bw.WriteString("\n")
			}
			mdRow(bw, b.header)
			sep := make([]string, len(b.header))
			for i := range sep {
				sep[i] = "---"
				if i > 0 && b.numeric {
					sep[i] = "---:"
				}
			}
			fmt.Fprintf(bw, "|%s|\n", strings.Join(sep, "|"))
			for _, r := range b.rows {
				mdRow(bw, r)
			}
		}
		if len(b.items) > 0 {
			if b.heading != "" || b.sub != "" {
				bw.WriteString("\n")
			}
			for _, it := range b.items {
				fmt.Fprintf(bw, "- %s\n", mdEscape(it))
			}
		}
	}
	return bw.Flush()
}

func mdRow(w io.Writer, cells []string) {
	esc := make([]string, len(cells))
	for i, c := range cells {
		c = strings.ReplaceAll(c, "\n", " ") // a line break would end the table
		esc[i] = strings.ReplaceAll(mdEscape(c), "|", `\|`)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(esc, " | "))
}

// clean strips what an app could hide in text (control characters,
// terminal escapes, bidirectional overrides: svgplot.Clean) from every
// string of the block; tab, which would shift a text table's columns,
// becomes tab.
func (b block) clean(tab string) block {
	c := func(s string) string {
		s = svgplot.Clean(s)
		if tab != "" {
			s = strings.ReplaceAll(s, "\t", tab)
		}
		return s
	}
	each := func(ss []string) []string {
		if ss == nil {
			return nil
		}
		out := make([]string, len(ss))
		for i, s := range ss {
			out[i] = c(s)
		}
		return out
	}
	b.heading, b.sub, b.para = c(b.heading), c(b.sub), c(b.para)
	b.header, b.items = each(b.header), each(b.items)
	if b.rows != nil {
		rows := make([][]string, len(b.rows))
		for i, r := range b.rows {
			rows[i] = each(r)
		}
		b.rows = rows
	}
	return b
}

// mdEscape keeps text such as a*b, <x>, [text](url), &amp; or _x_ from
// turning into markup or links. GFM leaves intraword underscores alone,
// and "<" before a space is text.
func mdEscape(s string) string {
	var b strings.Builder
	word := func(i int) bool {
		if i < 0 || i >= len(s) {
			return false
		}
		c := s[i]
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
	}
	for i, r := range s {
		switch {
		case r == '\\' || r == '*' || r == '`' || r == '[' || r == ']' || r == '~':
			b.WriteByte('\\')
		case r == '<' && i+1 < len(s) && s[i+1] != ' ' && s[i+1] != '=':
			b.WriteByte('\\')
		case r == '&' && i+1 < len(s) && s[i+1] != ' ':
			b.WriteByte('\\')
		case r == '_' && !(word(i-1) && word(i+1)):
			b.WriteByte('\\')
		case r == '#' && i == 0:
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
