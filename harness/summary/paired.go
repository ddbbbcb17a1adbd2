package summary

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
)

// Verdicts of a paired comparison.
const (
	Regressed    = "regressed"
	Improved     = "improved"
	NoChange     = "no_change"
	Inconclusive = "inconclusive"
)

// PairedMethod names the statistics of the paired verdict; METRIC stands
// for the metric it is drawn on (ready_ms or serving_ms).
const PairedMethod = "per pair d = ln(candidate/baseline METRIC), a miss on one side only ±Inf, on both 0; " +
	"Hodges–Lehmann estimate with its signed-rank confidence interval (Bonferroni over the paired scenarios); " +
	"one-sided Wilcoxon signed-rank test (Holm over the scenarios); misses: McNemar's exact test on the discordant pairs"

// metricName is the record field a verdict metric reads.
func metricName(metric string) string {
	if metric == result.MetricServing {
		return "serving_ms"
	}
	return "ready_ms"
}

// metricValue is a measured start's value of the metric: +Inf for a miss
// (censored); ok is false when the start cannot be measured on it.
func metricValue(r *result.Record, metric string) (float64, bool) {
	if metric == result.MetricServing {
		return servingValue(r)
	}
	return readyValue(r)
}

// Paired is the paired comparison of a run: per paired scenario, the change
// of the candidate against the baseline with the host's drift cancelled
// pair by pair, and the run's stability guard.
type Paired struct {
	Method     string          `json:"method"`
	Metric     string          `json:"metric"` // ready_ms or serving_ms
	Options    result.Gate     `json:"options"`
	Confidence float64         `json:"confidence"` // per scenario, after the family-wise correction
	Guard      Guard           `json:"guard"`
	Verdict    string          `json:"verdict"` // the run's: regressed if any, else inconclusive if any, else improved if any, else no_change
	Scenarios  []PairedVerdict `json:"scenarios"`
}

// Guard is the stability guard: a run whose calibration workload drifted
// between its halves, or with too many contended starts, gives no verdict.
type Guard struct {
	OK              bool     `json:"ok"`
	Reasons         []string `json:"reasons,omitempty"`
	Calibration     string   `json:"calibration,omitempty"` // the calibration arm, "" if none
	DriftPct        Pct      `json:"calibration_drift_pct"` // p50 of the second half against the first
	ContendedShare  float64  `json:"contended_share"`       // of the paired measured starts
	PairedStarts    int      `json:"paired_starts"`
	ContendedStarts int      `json:"contended_starts"`
}

// PairedVerdict is one paired scenario's verdict.
type PairedVerdict struct {
	Name    string `json:"name"`
	Verdict string `json:"verdict"`
	Reason  string `json:"reason"`
	Pairs   int    `json:"pairs"`
	// Change is the Hodges–Lehmann estimate of candidate/baseline − 1 in
	// percent, with its interval.
	ChangePct Pct `json:"change_pct"`
	CILowPct  Pct `json:"ci_low_pct"`
	CIHighPct Pct `json:"ci_high_pct"`
	// P is the one-sided signed-rank p-value that the candidate is slower;
	// PHolm the same after Holm's correction over the paired scenarios.
	P     float64 `json:"p_slower"`
	PHolm float64 `json:"p_slower_holm"`
	// Misses on one side only: the baseline's (candidate got ready) and the
	// candidate's (baseline got ready); MissP is McNemar's one-sided exact p
	// that the candidate misses more, MissPHolm after Holm.
	BaselineOnlyMisses  int     `json:"baseline_only_misses"`
	CandidateOnlyMisses int     `json:"candidate_only_misses"`
	BothMissed          int     `json:"both_missed"`
	MissP               float64 `json:"miss_p"`
	MissPHolm           float64 `json:"miss_p_holm"`
	BaselineP50         Value   `json:"baseline_p50_ms"`
	CandidateP50        Value   `json:"candidate_p50_ms"`
	// Imports compares the variants' import profiles, when both have one.
	Imports *ImportDiff `json:"imports,omitempty"`
}

// Pct is a percentage that may be unbounded: JSON a number, or "+inf" /
// "-inf" where a miss decides it.
type Pct float64

// MarshalJSON implements json.Marshaler.
func (p Pct) MarshalJSON() ([]byte, error) {
	switch v := float64(p); {
	case math.IsInf(v, 1):
		return []byte(`"+inf"`), nil
	case math.IsInf(v, -1):
		return []byte(`"-inf"`), nil
	case math.IsNaN(v):
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, round(float64(p)), 'f', -1, 64), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (p *Pct) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case `"+inf"`:
		*p = Pct(math.Inf(1))
	case `"-inf"`:
		*p = Pct(math.Inf(-1))
	case "null":
		*p = Pct(math.NaN())
	default:
		var f float64
		if err := json.Unmarshal(b, &f); err != nil {
			return err
		}
		*p = Pct(f)
	}
	return nil
}

func pctOf(d float64) Pct { return Pct(100 * math.Expm1(d)) }

// pair is one pair's two measured starts and their values of the metric
// (+Inf for a miss).
type pair struct {
	base, cand *result.Record
	b, c       float64
}

// pairsOf joins the measured starts of each paired scenario by iteration;
// order lists every paired scenario, pairs only the starts measurable on
// the metric.
func pairsOf(recs []result.Record, metric string) (order []string, pairs map[string][]pair) {
	pairs = map[string][]pair{}
	at := map[string]map[int]*pair{}
	for i := range recs {
		r := &recs[i]
		if r.Kind != result.KindMeasure || r.Variant == "" {
			continue
		}
		if at[r.Scenario] == nil {
			at[r.Scenario] = map[int]*pair{}
			order = append(order, r.Scenario)
		}
		v, ok := metricValue(r, metric)
		if !ok {
			continue // malformed, or no work request: left out, as everywhere
		}
		p := at[r.Scenario][r.Iteration]
		if p == nil {
			p = &pair{}
			at[r.Scenario][r.Iteration] = p
		}
		if r.Variant == "baseline" {
			p.base, p.b = r, v
		} else {
			p.cand, p.c = r, v
		}
	}
	for _, name := range order {
		its := slices.Sorted(maps.Keys(at[name]))
		for _, it := range its {
			if p := at[name][it]; p.base != nil && p.cand != nil {
				pairs[name] = append(pairs[name], *p)
			}
		}
	}
	return order, pairs
}

// readyOrInf is a start's ready time, +Inf for a miss (censored).
func readyOrInf(r *result.Record) float64 {
	if r.Outcome == result.OK && r.ReadyMS != nil {
		return *r.ReadyMS
	}
	return math.Inf(1)
}

// logRatio is d for one pair: a miss on one side is ±Inf, on both 0.
func logRatio(p pair) float64 {
	b, c := p.b, p.c
	switch {
	case math.IsInf(b, 1) && math.IsInf(c, 1):
		return 0
	case math.IsInf(c, 1):
		return math.Inf(1)
	case math.IsInf(b, 1):
		return math.Inf(-1)
	}
	return math.Log(c / b)
}

// ComparePaired computes the paired verdict of a run's records; nil when
// the run has no paired scenario. calibration names the calibration arm.
func ComparePaired(recs []result.Record, opt result.Gate, calibration string) *Paired {
	opt = opt.WithDefaults()
	order, pairs := pairsOf(recs, opt.Metric)
	if len(order) == 0 {
		return nil
	}
	m := float64(len(order))
	metric := metricName(opt.Metric)
	p := &Paired{Method: strings.ReplaceAll(PairedMethod, "METRIC", metric), Metric: metric, Options: opt, Confidence: 1 - (1-opt.Confidence)/m}
	p.Guard = guard(recs, pairs, calibration, opt)
	for _, name := range order {
		v := verdictOf(name, pairs[name], p.Confidence, opt)
		if len(pairs[name]) == 0 && opt.Metric == result.MetricServing {
			v.Reason = "no pair measured on serving_ms: the scenario sends no work request"
		}
		v.Imports = importDiff(recs, name)
		p.Scenarios = append(p.Scenarios, v)
	}
	holm(p.Scenarios, func(v *PairedVerdict) *float64 { return &v.P }, func(v *PairedVerdict) *float64 { return &v.PHolm })
	holm(p.Scenarios, func(v *PairedVerdict) *float64 { return &v.MissP }, func(v *PairedVerdict) *float64 { return &v.MissPHolm })
	alpha := 1 - opt.Confidence
	for i := range p.Scenarios {
		v := &p.Scenarios[i]
		if v.MissPHolm < alpha/2 && v.Verdict != Regressed {
			v.Verdict, v.Reason = Regressed, fmt.Sprintf("the candidate missed where the baseline did not in %d pairs, the reverse in %d (McNemar exact p = %.3g after Holm)",
				v.CandidateOnlyMisses, v.BaselineOnlyMisses, v.MissPHolm)
		}
		if !p.Guard.OK {
			v.Verdict, v.Reason = Inconclusive, "stability guard: "+joinReasons(p.Guard.Reasons)+" (the figures are shown, no verdict is drawn; rerun)"
		}
	}
	p.Verdict = runVerdict(p.Scenarios)
	return p
}

// verdictOf applies the rule to one scenario's pairs: regressed when the
// interval's lower bound exceeds the threshold, improved when its upper bound
// is below −threshold, no change when it lies within ±threshold, else
// inconclusive (too few pairs for that precision).
func verdictOf(name string, ps []pair, conf float64, opt result.Gate) PairedVerdict {
	v := PairedVerdict{Name: name, Pairs: len(ps), P: 1, MissP: 1}
	d := make([]float64, len(ps))
	var base, cand []float64
	for i, p := range ps {
		d[i] = logRatio(p)
		base, cand = append(base, p.b), append(cand, p.c)
		bm, cm := math.IsInf(p.b, 1), math.IsInf(p.c, 1)
		switch {
		case bm && cm:
			v.BothMissed++
		case bm:
			v.BaselineOnlyMisses++
		case cm:
			v.CandidateOnlyMisses++
		}
	}
	v.BaselineP50 = censoredAt(percentileOf(base, 50))
	v.CandidateP50 = censoredAt(percentileOf(cand, 50))
	if len(ps) < 2 {
		v.Verdict, v.Reason = Inconclusive, fmt.Sprintf("%d complete pair(s): too few to compare", len(ps))
		v.ChangePct, v.CILowPct, v.CIHighPct = Pct(math.NaN()), Pct(math.Inf(-1)), Pct(math.Inf(1))
		return v
	}
	est, lo, hi := HodgesLehmann(d, conf)
	v.ChangePct, v.CILowPct, v.CIHighPct = pctOf(est), pctOf(lo), pctOf(hi)
	v.P = SignedRankGreater(d)
	v.MissP = exactGreater(v.CandidateOnlyMisses, v.CandidateOnlyMisses+v.BaselineOnlyMisses)
	t := opt.ThresholdPct
	switch {
	case float64(v.CILowPct) > t:
		v.Verdict = Regressed
	case float64(v.CIHighPct) < -t:
		v.Verdict = Improved
	case float64(v.CILowPct) >= -t && float64(v.CIHighPct) <= t:
		v.Verdict = NoChange
	default:
		v.Verdict = Inconclusive
	}
	v.Reason = fmt.Sprintf("change %s, %.4g%% interval [%s, %s] against a threshold of ±%g%%", fmtPct(v.ChangePct), 100*conf, fmtPct(v.CILowPct), fmtPct(v.CIHighPct), t)
	if v.Verdict == Inconclusive {
		v.Reason += ": the interval straddles the threshold; more pairs would narrow it"
	}
	return v
}

func percentileOf(v []float64, level float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return percentile(s, level)
}

// fmtPct renders a change for a reason: "+3.1%", "+inf%".
func fmtPct(p Pct) string {
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

// holm sets each adjusted p-value: Holm's step-down correction over the
// scenarios, which keeps the family-wise error rate.
func holm(vs []PairedVerdict, p, adj func(*PairedVerdict) *float64) {
	idx := make([]int, len(vs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		pa, pb := *p(&vs[a]), *p(&vs[b])
		switch {
		case pa < pb:
			return -1
		case pa > pb:
			return 1
		}
		return 0
	})
	m, run := len(vs), 0.0
	for rank, i := range idx {
		run = math.Max(run, math.Min(1, float64(m-rank)*(*p(&vs[i]))))
		*adj(&vs[i]) = run
	}
}

func runVerdict(vs []PairedVerdict) string {
	has := func(s string) bool {
		return slices.ContainsFunc(vs, func(v PairedVerdict) bool { return v.Verdict == s })
	}
	switch {
	case has(Regressed):
		return Regressed
	case has(Inconclusive):
		return Inconclusive
	case has(Improved):
		return Improved
	}
	return NoChange
}

func joinReasons(rs []string) string {
	out := ""
	for i, r := range rs {
		if i > 0 {
			out += "; "
		}
		out += r
	}
	return out
}

// guard checks the run's stability: the calibration workload's p50 in the
// second half of its measured starts against the first, and the share of
// contended paired starts.
func guard(recs []result.Record, pairs map[string][]pair, calibration string, opt result.Gate) Guard {
	g := Guard{OK: true, Calibration: calibration, DriftPct: Pct(math.NaN())}
	for _, ps := range pairs {
		for _, p := range ps {
			for _, r := range []*result.Record{p.base, p.cand} {
				g.PairedStarts++
				if r.Host != nil && r.Host.Contended {
					g.ContendedStarts++
				}
			}
		}
	}
	if g.PairedStarts > 0 {
		g.ContendedShare = float64(g.ContendedStarts) / float64(g.PairedStarts)
	}
	if g.ContendedShare > opt.MaxContendedShare {
		g.OK = false
		g.Reasons = append(g.Reasons, fmt.Sprintf("%d of %d paired starts (%.0f%%) ran under contention, above %.0f%%",
			g.ContendedStarts, g.PairedStarts, 100*g.ContendedShare, 100*opt.MaxContendedShare))
	}
	if calibration == "" {
		return g
	}
	var cal []float64
	for i := range recs {
		if r := &recs[i]; r.Kind == result.KindMeasure && r.Arm() == calibration {
			cal = append(cal, readyOrInf(r))
		}
	}
	if len(cal) < 4 {
		return g
	}
	first, second := percentileOf(cal[:len(cal)/2], 50), percentileOf(cal[len(cal)/2:], 50)
	if math.IsInf(first, 1) || math.IsInf(second, 1) {
		g.OK = false
		g.Reasons = append(g.Reasons, "the calibration workload missed its deadline at the median in a half of the run")
		return g
	}
	g.DriftPct = Pct(100 * (second/first - 1))
	if math.Abs(math.Log(second/first)) > math.Log1p(opt.MaxDriftPct/100) {
		g.OK = false
		g.Reasons = append(g.Reasons, fmt.Sprintf("the calibration workload's p50 drifted %s between the halves of the run (%.1f -> %.1f ms), beyond ±%g%%",
			fmtPct(g.DriftPct), first, second, opt.MaxDriftPct))
	}
	return g
}
