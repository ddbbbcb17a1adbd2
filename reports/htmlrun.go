package reports

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// runPage is the view of one run: a summary that answers which scenarios
// meet their deadline and by how much, a section per scenario (where the
// time goes), then the run's own details.
func runPage(in Input) page {
	s := in.Summary
	p := page{
		Title:    "coldstart report: " + s.Suite,
		Subtitle: fmt.Sprintf("run %s · %d of %d planned starts · %s", s.Run, s.Completed, s.Planned, runState(s)),
	}
	switch {
	case s.Interrupted:
		p.Status = fmt.Sprintf("Incomplete: the run was interrupted after %d of %d planned starts. Every statistic below covers only the starts taken.", s.Completed, s.Planned)
	case s.Planned > 0 && s.Completed < s.Planned:
		p.Status = fmt.Sprintf("Incomplete: %d of %d planned starts are in the journal. Every statistic below covers only the starts taken.", s.Completed, s.Planned)
	}
	p.Sections = runSections(in)
	return p
}

func runState(s *summary.Summary) string {
	switch {
	case s.Interrupted:
		return "interrupted"
	case s.Planned > 0 && s.Completed < s.Planned:
		return "incomplete"
	}
	return "complete"
}

// runSections is the run view's document.
func runSections(in Input) []section {
	s := in.Summary
	secs := []section{summarySection(s)}
	if sec, ok := mergedSection(s); ok {
		secs = append(secs, sec)
	}
	if sec, ok := pairedSection(s, in.Records); ok {
		secs = append(secs, sec)
	}
	if sec, ok := sloSection(s); ok {
		secs = append(secs, sec)
	}
	if sec, ok := capacitySection(s); ok {
		secs = append(secs, sec)
	}
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		secs = append(secs, scenarioSection(i, sc, measured(in, sc.Name)))
	}
	return append(secs, runInfoSection(in))
}

// scenarioID is a scenario section's anchor: its position (unique) and a
// readable slug of its name.
func scenarioID(i int, name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
		if b.Len() >= 40 {
			break
		}
	}
	slug := strings.Trim(b.String(), "-")
	if slug == "" {
		return fmt.Sprintf("s%d", i+1)
	}
	return fmt.Sprintf("s%d-%s", i+1, slug)
}

// A check is one promise a scenario is held to; it gives the scenario's
// badge and a column of the summary table. Only the deadline exists today.
// SLOs (p95 <= X, miss rate <= Y) will be further checks of this shape.
type check struct {
	Name string
	Eval func(sc *summary.Scenario) verdict
}

type verdict struct {
	State string // ok | miss | none
	Short string // the summary table's cell
	Text  string // the section's badge
}

var checks = []check{{Name: "deadline", Eval: deadlineVerdict}}

// servingCheck is the serving promise, for runs whose scenarios send a
// work request: every measured start served within the deadline.
var servingCheck = check{Name: "serving", Eval: servingVerdict}

// checksOf are the checks a run's scenarios are held to.
func checksOf(s *summary.Summary) []check {
	if anyServing(s) {
		return append(append([]check(nil), checks...), servingCheck)
	}
	return checks
}

func servingVerdict(sc *summary.Scenario) verdict {
	sv := sc.Serving
	d := num(sc.DeadlineMS)
	switch {
	case sv == nil:
		return verdict{"none", "-", "no work request"}
	case sv.N == 0:
		return verdict{"none", "no starts", "no measured starts"}
	case sv.Missed() == 0:
		return verdict{"ok", "✓ serves", fmt.Sprintf("✓ serves within the %s ms deadline: all %d starts", d, sv.N)}
	}
	return verdict{"miss", "✗ not served", fmt.Sprintf("✗ %d of %d starts (%s) not served within the %s ms deadline, %d of them after getting ready",
		sv.Missed(), sv.N, pct(sv.Missed(), sv.N), d, sv.ReadyNotServed)}
}

// sectionVerdict is a scenario's badge: the first check it fails, else
// the deadline's.
func sectionVerdict(sc *summary.Scenario) verdict {
	v := deadlineVerdict(sc)
	if v.State == "ok" && sc.Serving != nil {
		if sv := servingVerdict(sc); sv.State == "miss" {
			return sv
		}
	}
	return v
}

// deadlineVerdict: a scenario meets its deadline when every measured start
// got ready within it. A miss is a user-visible failed cold start, whatever
// the percentiles say.
func deadlineVerdict(sc *summary.Scenario) verdict {
	d := num(sc.DeadlineMS)
	switch {
	case sc.N == 0:
		return verdict{"none", "no starts", "no measured starts"}
	case sc.Missed() == 0:
		return verdict{"ok", "✓ meets", fmt.Sprintf("✓ meets the %s ms deadline: all %d starts", d, sc.N)}
	}
	return verdict{"miss", "✗ misses", fmt.Sprintf("✗ %d of %d starts (%s) missed the %s ms deadline", sc.Missed(), sc.N, pct(sc.Missed(), sc.N), d)}
}

// headroom says by how much p95 meets the deadline.
func headroom(sc *summary.Scenario) string {
	p := sc.ReadyMS.P95
	switch {
	case p.Censored:
		return "none: p95 " + ms(p)
	case !p.Known:
		return "-"
	}
	d := sc.DeadlineMS - p.V
	return fmt.Sprintf("%s ms (%s)", strconv.FormatFloat(d, 'f', 1, 64), pctF(d/sc.DeadlineMS))
}

func pctF(f float64) string {
	return strconv.FormatFloat(math.Round(1000*f)/10, 'f', -1, 64) + "%"
}

func summarySection(s *summary.Summary) section {
	sec := section{ID: "summary", Title: "Summary", Class: "summary"}
	met, total := 0, 0
	for i := range s.Scenarios {
		if s.Scenarios[i].N > 0 {
			total++
			if deadlineVerdict(&s.Scenarios[i]).State == "ok" {
				met++
			}
		}
	}
	if len(s.Scenarios) == 0 {
		sec.Parts = append(sec.Parts, part{Para: "No scenarios: the run recorded no starts and its manifest names none."})
		return sec
	}
	intro := fmt.Sprintf(
		"%d of %d scenarios with measured starts met their deadline on every start. ready_ms is t0 (just before the start call) → first healthy answer; a start not ready by the deadline is a miss, counted and shown beyond the deadline (censored), never dropped.",
		met, total)
	serving := anyServing(s)
	if serving {
		intro += " " + servingNote
	}
	sec.Parts = append(sec.Parts, part{Para: intro})

	head := []string{"scenario", "deadline"}
	if serving {
		head = append(head, "serving")
	}
	head = append(head, "n", "misses", "p50 ms", "p95 ms", "p95 headroom")
	if serving {
		head = append(head, "serving p50 ms", "serving p95 ms")
	}
	t := &table{ID: "summary-table", Numeric: true, Head: append(head, "socket p50 ms", "throttled p50 ms", "imports / p50")}
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		row := trow{Key: sc.Name, Cells: []tcell{{Text: sc.Name, Key: "scenario", Href: "#" + scenarioID(i, sc.Name)}}}
		for _, c := range checksOf(s) {
			v := c.Eval(sc)
			row.Cells = append(row.Cells, tcell{Text: v.Short, Key: c.Name, Class: v.State})
		}
		imports := "-"
		if im := sc.Imports; im != nil && im.ShareOfReadyP50.Known {
			imports = pctF(im.ShareOfReadyP50.V)
		}
		row.Cells = append(row.Cells,
			tcell{Text: strconv.Itoa(sc.N), Key: "n"},
			tcell{Text: missCount(sc), Key: "misses"},
			tcell{Text: ms(sc.ReadyMS.P50), Key: "p50"},
			tcell{Text: ms(sc.ReadyMS.P95), Key: "p95"},
			tcell{Text: headroom(sc), Key: "headroom"})
		if serving {
			p50, p95 := "-", "-"
			if sv := sc.Serving; sv != nil {
				p50, p95 = ms(sv.ServingMS.P50), ms(sv.ServingMS.P95)
			}
			row.Cells = append(row.Cells, tcell{Text: p50, Key: "serving_p50"}, tcell{Text: p95, Key: "serving_p95"})
		}
		row.Cells = append(row.Cells,
			tcell{Text: ms(sc.SocketMS.P50), Key: "socket_p50"},
			tcell{Text: ms(sc.ThrottledMS.P50), Key: "throttled_p50"},
			tcell{Text: imports, Key: "imports_share"},
		)
		t.Rows = append(t.Rows, row)
	}
	legend := "deadline: met when every measured start got ready in time. "
	if serving {
		legend += "serving: every start that sends a work request was served in time; serving p50/p95 are of serving_ms. "
	}
	sec.Parts = append(sec.Parts, part{Table: t}, part{Para: legend +
		"p95 headroom: deadline − p95, in ms and as a share of the deadline. Where the time goes at the median: the socket file appears once the app has started up (runtime, imports) and binds; " +
		"throttled is the time the CPU quota held the container back; imports / p50 is the profiled import total as a share of p50 (Python apps with import_time)."},
		part{Figures: []figure{overviewFigure(s)}})
	return sec
}

func missCount(sc *summary.Scenario) string {
	if sc.N == 0 {
		return "-"
	}
	if sc.Missed() == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", sc.Missed(), pct(sc.Missed(), sc.N))
}

func scenarioSection(i int, sc *summary.Scenario, recs []*result.Record) section {
	id := scenarioID(i, sc.Name)
	v := sectionVerdict(sc)
	sec := section{ID: id, Title: sc.Name, Class: "scenario", Badge: &badge{Text: v.Text, Short: v.Short, Class: v.State}}

	misses := []string{}
	for _, oc := range sc.Misses {
		if oc.N > 0 {
			misses = append(misses, fmt.Sprintf("%s %d", oc.Outcome, oc.N))
		}
	}
	if len(misses) == 0 {
		misses = []string{"none"}
	}
	para := fmt.Sprintf("Image %s, deadline %s ms: %d measured starts (%d ok), %d warmup and %d diagnostic starts left out of the statistics. Misses: %s. p50 %s ms, p95 %s ms (headroom %s).",
		sc.Image, num(sc.DeadlineMS), sc.N, sc.OK, sc.NWarmup, sc.NDiagnostic, strings.Join(misses, ", "),
		ms(sc.ReadyMS.P50), ms(sc.ReadyMS.P95), headroom(sc))
	var extra []string
	if sc.Calibration {
		extra = append(extra, "This is the calibration scenario: its ready time is the platform's share (engine, runtime, CFS) under these limits.")
	}
	if sc.AppShareP50MS != nil {
		extra = append(extra, fmt.Sprintf("App share at p50 (ready p50 − calibration p50): %s ms.", ms(*sc.AppShareP50MS)))
	}
	if sc.Contended > 0 {
		extra = append(extra, fmt.Sprintf("%d of %d measured starts ran while other work kept the host busy.", sc.Contended, sc.N))
	}
	if sv := sc.Serving; sv != nil {
		extra = append(extra, strings.ToUpper(servingOverview(sv)[:1])+servingOverview(sv)[1:])
	}
	if len(extra) > 0 {
		para += " " + strings.Join(extra, " ")
	}
	sec.Parts = append(sec.Parts, part{Para: para})

	sec.Parts = append(sec.Parts, plotParts(id, sc, recs)...)
	sec.Parts = append(sec.Parts, part{Heading: "Distributions"}, part{Table: distTable(id, sc)})
	sec.Parts = append(sec.Parts, part{Heading: "Enforced limits"})
	if len(sc.Limits) == 0 {
		sec.Parts = append(sec.Parts, part{Para: "No start recorded its enforced limits."})
	} else {
		sec.Parts = append(sec.Parts, part{Table: limitsTable(id, sc.Limits)})
	}
	if h := sc.Hardening; h != nil {
		sec.Parts = append(sec.Parts, part{Heading: "Hardening"}, part{Table: hardeningTable(id, h)})
	}
	if t, logs := missesTable(id, recs); t != nil {
		sec.Parts = append(sec.Parts, part{Heading: "Misses"}, part{Table: t})
		if len(logs) > 0 {
			sec.Parts = append(sec.Parts, part{Logs: logs})
		}
	}
	if len(sc.Warnings) > 0 {
		sec.Parts = append(sec.Parts, part{Heading: "Warnings"}, part{List: warnings(sc.Warnings)})
	}
	return sec
}

// plotParts are a scenario's figures: the ready_ms distribution, where the
// time goes, memory and imports.
func plotParts(id string, sc *summary.Scenario, recs []*result.Record) []part {
	if len(recs) == 0 {
		return []part{{Para: "No measured starts: nothing to plot."}}
	}
	var parts []part
	parts = append(parts,
		part{Heading: "ready_ms distribution"},
		part{Figures: []figure{ecdfFigure(id, sc, recs), histogramFigure(id, sc, recs)}},
	)
	if sc.Serving != nil {
		parts = append(parts, part{Heading: "serving_ms: the first real call"}, part{Figures: []figure{servingFigure(id, sc, recs)}})
	}
	parts = append(parts, part{Heading: "Where the time goes"})
	figs := []figure{phasesFigure(id, sc, recs)}
	if f, ok := throttleFigure(id, sc, recs); ok {
		figs = append(figs, f)
	} else {
		parts = append(parts, part{Para: "No start has a cgroup sample: no throttling to plot."})
	}
	parts = append(parts, part{Figures: figs})
	figs = []figure{memoryFigure(id, sc, recs)}
	if sc.Imports != nil && len(sc.Imports.Modules) > 0 {
		figs = append(figs, importsFigure(id, sc))
	}
	parts = append(parts, part{Heading: "Memory and imports"}, part{Figures: figs})
	if sc.Imports != nil {
		im := sc.Imports
		share := fmt.Sprintf("against a measured p50 ready of %s ms", ms(im.ReadyMSP50))
		if im.ShareOfReadyP50.Known {
			share = fmt.Sprintf("= %s of the measured p50 ready %s ms", pctF(im.ShareOfReadyP50.V), ms(im.ReadyMSP50))
		}
		parts = append(parts, part{Para: fmt.Sprintf(
			"Import profile (PYTHONPROFILEIMPORTTIME) of %d diagnostic starts: median import total %.1f ms %s (the profiled starts themselves, slowed by the profiler: p50 ready %s ms); throttled inside imports ≈ %s ms (%s).",
			im.Starts, im.TotalUSP50/1000, share, ms(im.DiagReadyMSP50), ms(im.EstThrottledMS), im.EstimateNote)})
	}
	return parts
}

func distTable(id string, sc *summary.Scenario) *table {
	t := &table{ID: id + "-dists", Numeric: true, Head: []string{"metric", "n", "min", "p50", "p90", "p95", "p99", "max"}}
	add := func(key string, r []string) { t.Rows = append(t.Rows, trow{Key: key, Cells: cells(r)}) }
	add("ready_ms", quantRow("ready ms", sc.ReadyMS.N, sc.ReadyMS.Quantiles, ms))
	add("socket_ms", quantRow("socket ms", sc.SocketMS.N, sc.SocketMS.Quantiles, ms))
	add("cpu_usage_ms", quantRow("cpu usage ms", sc.CPUUsageMS.N, sc.CPUUsageMS.Quantiles, ms))
	add("throttled_ms", quantRow("throttled ms", sc.ThrottledMS.N, sc.ThrottledMS.Quantiles, ms))
	add("throttled_periods", quantRow("throttled periods", sc.ThrottledPeriods.N, sc.ThrottledPeriods.Quantiles, plain))
	add("memory_peak", quantRow("memory peak MiB", sc.MemoryPeak.N, sc.MemoryPeak.Quantiles, mib))
	if sv := sc.Serving; sv != nil {
		add("serving_ms", quantRow("serving ms", sv.ServingMS.N, sv.ServingMS.Quantiles, ms))
		add("serving_after_ready_ms", quantRow("serving − ready ms", sv.AfterReadyMS.N, sv.AfterReadyMS.Quantiles, ms))
		add("serving_cpu_usage_ms", quantRow("cpu at serving ms", sv.CPUUsageMS.N, sv.CPUUsageMS.Quantiles, ms))
	}
	if sc.DetectLagMS.N > 0 {
		add("detect_lag_ms", quantRow("detect lag ms (app-reported stamp)", sc.DetectLagMS.N, sc.DetectLagMS.Quantiles, ms))
		add("probe_lag_ms", quantRow("probe lag ms (app-reported stamp)", sc.ProbeLagMS.N, sc.ProbeLagMS.Quantiles, ms))
	}
	t.Caption = fmt.Sprintf("Measured starts; a censored percentile prints as > bound. mean_ok %s ms, stddev_ok %s ms (ok starts only).", ms(sc.ReadyMS.MeanOK), ms(sc.ReadyMS.StddevOK))
	return t
}

// limitsTable shows what was requested, what the engine says it set and
// what the cgroup holds, through limitCells.
func limitsTable(id string, ls []result.Limit) *table {
	t := &table{ID: id + "-limits", Head: []string{"limit", "requested", "observed (inspect)", "enforced (cgroup)", "ok"}}
	for _, l := range ls {
		c := limitCells(l)
		row := trow{Key: l.Name, Cells: cells(c)}
		if !l.OK {
			row.Cells[len(row.Cells)-1].Class = "miss"
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// hardeningTable shows each hardening setting as requested, as inspect
// recorded it and as the kernel holds it for the container's process.
func hardeningTable(id string, h *result.Hardening) *table {
	t := &table{ID: id + "-hardening", Head: []string{"setting", "requested", "observed (inspect)", "enforced (kernel)", "ok"},
		Caption: "Profile " + h.Profile + ". Enforced values are read back from the container's process (/proc) and the host side of its socket dir; - where they could not be read."}
	for _, s := range h.Settings {
		row := trow{Key: s.Name, Cells: cells(settingCells(s))}
		if !s.OK {
			row.Cells[len(row.Cells)-1].Class = "miss"
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// limitCells formats one limit row: the one place that knows how a limit
// reads.
func limitCells(l result.Limit) []string {
	ok := "yes"
	if !l.OK {
		ok = "NO"
	}
	return []string{l.Name, result.Format(l.Unit, l.Requested), result.Format(l.Unit, l.Observed), result.Format(l.Unit, l.Enforced), ok}
}

// memoryLimit is the memory limit the cgroup enforced, in bytes, and how it
// reads; ok is false when there is none.
func memoryLimit(ls []result.Limit) (bytes float64, label string, ok bool) {
	for _, l := range ls {
		if l.Name == "memory" && l.Enforced.IsSet() && l.Enforced.Value > 0 {
			return float64(l.Enforced.Value), result.Format(l.Unit, l.Enforced), true
		}
	}
	return 0, "", false
}

// maxMissRows bounds the misses table; the journal has every one.
const maxMissRows = 25

func missesTable(id string, recs []*result.Record) (*table, []logTail) {
	t := &table{ID: id + "-misses", Head: []string{"seq", "iter", "outcome", "socket seen ms", "exit code", "error"}}
	var logs []logTail
	n, notServed := 0, 0
	for _, r := range recs {
		if r.Outcome == result.OK && (!r.HasServing() || r.ServingOutcome == result.OK) {
			continue
		}
		outcome, errText := string(r.Outcome), r.Error
		if r.Outcome == result.OK { // ready, not served
			outcome, errText = "serving "+string(r.ServingOutcome), r.ServingError
			notServed++
		}
		n++
		if n > maxMissRows {
			continue
		}
		code := "-"
		if r.ExitCode != nil {
			code = strconv.Itoa(*r.ExitCode)
		}
		t.Rows = append(t.Rows, trow{Key: strconv.Itoa(r.Seq), Cells: cells([]string{
			strconv.Itoa(r.Seq), strconv.Itoa(r.Iteration), outcome, optMS(r.SocketMS), code, dash(errText)})})
		if r.LogTail != "" {
			logs = append(logs, logTail{Title: fmt.Sprintf("log tail of seq %d (%s)", r.Seq, outcome), Text: r.LogTail})
		}
	}
	if n == 0 {
		return nil, nil
	}
	t.Caption = fmt.Sprintf("%d measured starts did not get ready.", n-notServed)
	if notServed > 0 {
		t.Caption += fmt.Sprintf(" %d got ready and were not served (outcome \"serving ...\").", notServed)
	}
	if n > maxMissRows {
		t.Caption += fmt.Sprintf(" The first %d are listed; runs.jsonl has them all.", maxMissRows)
	}
	return t, logs
}

func optMS(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'f', 1, 64)
}

func cells(texts []string) []tcell {
	c := make([]tcell, len(texts))
	for i, s := range texts {
		c[i] = tcell{Text: s}
	}
	return c
}

// runInfoSection: where and how the run was measured, its own warnings and
// what the harness cost.
func runInfoSection(in Input) section {
	s := in.Summary
	sec := section{ID: "run", Title: "The run", Class: "run"}
	t := &table{ID: "run-facts", Head: []string{"", "value"}}
	add := func(k, v string) {
		if v != "" {
			t.Rows = append(t.Rows, trow{Key: k, Cells: cells([]string{k, v})})
		}
	}
	m := in.Manifest
	add("suite", s.Suite)
	add("suite file", m.SuiteFile)
	add("run", s.Run)
	if !m.Started.IsZero() {
		add("started", m.Started.UTC().Format(time.RFC3339))
	}
	add("starts", fmt.Sprintf("%d of %d planned (%s)", s.Completed, s.Planned, runState(s)))
	if s.Resumed > 0 {
		add("resumed", fmt.Sprintf("%d time(s)", s.Resumed))
	}
	add("harness", m.Harness)
	add("go", m.GoVersion)
	if e := m.Engine; e.EngineVersion != "" {
		add("engine", fmt.Sprintf("%s (API %s), cgroup v%s %s", e.EngineVersion, e.APIVersion, e.CgroupVersion, e.CgroupDriver))
	}
	add("kernel", m.Kernel)
	if m.CPUModel != "" {
		add("cpu", fmt.Sprintf("%s × %d", m.CPUModel, m.Cores))
	}
	add("plan order", m.PlanOrder)
	add("detection", m.Detection)
	if m.SocketBase != "" {
		add("socket base", strings.TrimSpace(m.SocketBase+" "+paren(m.SocketMount)))
	}
	if len(m.Overrides) > 0 {
		var kv []string
		for _, k := range slices.Sorted(maps.Keys(m.Overrides)) {
			kv = append(kv, k+"="+m.Overrides[k])
		}
		add("overrides", strings.Join(kv, ", "))
	}
	add("percentiles", s.PercentileMethod)
	sec.Parts = append(sec.Parts, part{Table: t})
	if len(s.Warnings) > 0 {
		sec.Parts = append(sec.Parts, part{Heading: "Run warnings"}, part{List: warnings(s.Warnings)})
	}
	if h := s.Harness; h != nil {
		sec.Parts = append(sec.Parts, part{Para: fmt.Sprintf("The harness itself: %.1f ms CPU for %d starts (%.2f ms per start), peak RSS %.1f MiB, wall %.1f s.",
			h.CPUMS, h.Starts, h.CPUMSPerStart, float64(h.MaxRSSBytes)/(1<<20), h.WallMS/1000)})
	}
	return sec
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return "(" + s + ")"
}

func str(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// measured returns a scenario's measured starts in run order: the starts
// its statistics cover.
func measured(in Input, name string) []*result.Record {
	var out []*result.Record
	for i := range in.Records {
		r := &in.Records[i]
		if in.row(r) == name && isMeasured(r) {
			out = append(out, r)
		}
	}
	slices.SortStableFunc(out, func(a, b *result.Record) int { return a.Seq - b.Seq })
	return out
}

func isMeasured(r *result.Record) bool { return r.Kind == result.KindMeasure }

// servingOf is a start's serving time; ok is false for a miss (censored)
// and for a start without a work request.
func servingOf(r *result.Record) (float64, bool) {
	if r.ServingOutcome != result.OK || r.ServingMS == nil {
		return math.Inf(1), false
	}
	return *r.ServingMS, true
}

// readyOf is a start's ready time; ok is false for a miss (censored).
func readyOf(r *result.Record) (float64, bool) {
	if r.Outcome != result.OK || r.ReadyMS == nil {
		return math.Inf(1), false
	}
	return *r.ReadyMS, true
}

// dash shows an empty cell as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
