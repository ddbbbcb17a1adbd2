package summary

import (
	"fmt"
	"math"
	"math/rand"
	"slices"
	"strconv"

	"github.com/aclements/go-moremath/stats"
	"golang.org/x/perf/benchmath"

	"github.com/coldstart/coldstart/harness/result"
)

// Comparison of two runs of the same scenarios (old and new) taken at
// different times or on different hosts: the host's drift between them is
// not controlled, so a change can be the host's. The calibration workload's
// change, shown beside every scenario's, says how much the host moved; the
// paired comparison inside one run (Paired) is the verdict drift cannot fake.
type Comparison struct {
	Confidence float64         `json:"confidence"`
	Method     string          `json:"method"`
	Caveat     string          `json:"caveat"`
	Scenarios  []ScenarioDelta `json:"scenarios"`
	// Calibration is the calibration workload's delta, when both runs have one.
	Calibration *ScenarioDelta `json:"calibration,omitempty"`
}

// CompareCaveat labels what a comparison of two runs can and cannot say.
const CompareCaveat = "two separate runs: the host's speed may have drifted between them (10-40% within a day, 2x across days on shared VMs); read each change against the calibration workload's, and gate commits on a paired run (coldstart ab) instead"

// ScenarioDelta compares one scenario's ready_ms between two runs.
type ScenarioDelta struct {
	Name        string  `json:"name"`
	Calibration bool    `json:"calibration,omitempty"`
	OldN        int     `json:"old_n"`
	NewN        int     `json:"new_n"`
	OldMisses   int     `json:"old_misses"`
	NewMisses   int     `json:"new_misses"`
	P50         Delta   `json:"p50"`
	P95         Delta   `json:"p95"`
	P           float64 `json:"p_value"` // Mann-Whitney U, misses ranked at the top
	// MissP is the one-sided p-value of Fisher's exact test that the new
	// run's share of misses is larger.
	MissP    float64  `json:"miss_p"`
	Warnings []string `json:"warnings,omitempty"`
	// Serving compares serving_ms, when both runs sent the arm's work request.
	Serving *MetricDelta `json:"serving,omitempty"`
}

// MetricDelta compares one more metric of a scenario between two runs, as
// ScenarioDelta does ready_ms.
type MetricDelta struct {
	OldN      int     `json:"old_n"`
	NewN      int     `json:"new_n"`
	OldMisses int     `json:"old_misses"`
	NewMisses int     `json:"new_misses"`
	P50       Delta   `json:"p50"`
	P95       Delta   `json:"p95"`
	P         float64 `json:"p_value"`
	MissP     float64 `json:"miss_p"`
}

// Delta is a percentile in both runs and the bootstrap confidence interval of
// its change in percent of the old value. A bound that the data do not fix
// (too many resamples fell on censored starts on both sides) is null in
// JSON, and then the change is not significant.
type Delta struct {
	Old         Value `json:"old"`
	New         Value `json:"new"`
	Pct         Value `json:"pct"`
	CILow       Value `json:"ci_low_pct"`
	CIHigh      Value `json:"ci_high_pct"`
	Significant bool  `json:"significant"` // the CI is known and excludes 0
}

// bootstrapRounds: enough for a stable 95% interval, fast for thousands of starts.
const bootstrapRounds = 2000

// Compare compares the measured starts of old and new, scenario by scenario
// (those present in both, in old's order). Misses are +Inf: censored, never
// averaged away. The resampling uses a fixed seed so that a report is
// reproducible from its journals.
func Compare(old, new []result.Record, confidence float64) *Comparison {
	c := &Comparison{Confidence: confidence, Caveat: CompareCaveat,
		Method: "percentile bootstrap of the change in p50/p95 of ready_ms and of serving_ms (" + strconv.Itoa(bootstrapRounds) + " resamples, fixed seed); " +
			"Mann-Whitney U (golang.org/x/perf/benchmath) with misses ranked slowest; misses: Fisher's exact test"}
	a, order := startsByArm(old)
	b, _ := startsByArm(new)
	for _, name := range order {
		x, y := a[name], b[name]
		if len(y.ready) == 0 {
			continue
		}
		m := metricDelta(x.ready, y.ready, x.deadline, y.deadline, confidence)
		d := ScenarioDelta{Name: name, Calibration: x.calibration, OldN: m.OldN, NewN: m.NewN,
			OldMisses: m.OldMisses, NewMisses: m.NewMisses, P50: m.P50, P95: m.P95, P: m.P, MissP: m.MissP}
		if len(x.serving) > 0 && len(y.serving) > 0 {
			sm := metricDelta(x.serving, y.serving, x.deadline, y.deadline, confidence)
			d.Serving = &sm
		}
		d.Warnings = deltaWarnings(x, y)
		c.Scenarios = append(c.Scenarios, d)
		if d.Calibration && c.Calibration == nil {
			cal := d
			c.Calibration = &cal
		}
	}
	return c
}

// metricDelta compares one metric's values (+Inf for a miss) of two runs.
func metricDelta(x, y []float64, xdl, ydl, confidence float64) MetricDelta {
	m := MetricDelta{OldN: len(x), NewN: len(y), OldMisses: countInf(x), NewMisses: countInf(y)}
	rng := rand.New(rand.NewSource(1))
	m.P50 = delta(x, y, xdl, ydl, 50, confidence, rng)
	m.P95 = delta(x, y, xdl, ydl, 95, confidence, rng)
	m.P = uTest(x, y)
	m.MissP = fisherGreater(m.NewMisses, m.NewN, m.OldMisses, m.OldN)
	return m
}

// Gate is compare's regression rule: a scenario's p50 got slower by more
// than failAbove percent with the lower bound of its interval beyond it, or
// its misses grew (Fisher's exact test, p < 0.05). The calibration workload
// never fails the gate: it measures the host.
func (c *Comparison) Gate(failAbove float64) (bool, string) {
	for _, d := range c.Scenarios {
		if d.Calibration {
			continue
		}
		if d.P50.CILow.Known && d.P50.CILow.V > failAbove {
			return true, fmt.Sprintf("%s: p50 ready_ms %s%%, interval [%s%%, %s%%] above %g%%", d.Name,
				signed(d.P50.Pct), signed(d.P50.CILow), signed(d.P50.CIHigh), failAbove)
		}
		if d.MissP < 0.05 {
			return true, fmt.Sprintf("%s: misses %d of %d -> %d of %d (Fisher exact p = %.3g)", d.Name, d.OldMisses, d.OldN, d.NewMisses, d.NewN, d.MissP)
		}
		if v := d.Serving; v != nil && v.P50.CILow.Known && v.P50.CILow.V > failAbove {
			return true, fmt.Sprintf("%s: p50 serving_ms %s%%, interval [%s%%, %s%%] above %g%%", d.Name,
				signed(v.P50.Pct), signed(v.P50.CILow), signed(v.P50.CIHigh), failAbove)
		}
		if v := d.Serving; v != nil && v.MissP < 0.05 {
			return true, fmt.Sprintf("%s: serving misses %d of %d -> %d of %d (Fisher exact p = %.3g)", d.Name, v.OldMisses, v.OldN, v.NewMisses, v.NewN, v.MissP)
		}
	}
	return false, ""
}

func signed(v Value) string {
	if !v.Known {
		return "?"
	}
	return fmt.Sprintf("%+.1f", v.V)
}

// armStarts are one arm's measured ready times (+Inf for a miss) and what
// the comparison checks is alike between the runs.
type armStarts struct {
	ready       []float64
	serving     []float64 // of the starts that sent a work request
	deadline    float64
	limits      []result.Limit
	calibration bool
}

func startsByArm(recs []result.Record) (map[string]*armStarts, []string) {
	out := map[string]*armStarts{}
	var order []string
	for i := range recs {
		r := &recs[i]
		if r.Kind != result.KindMeasure {
			continue
		}
		v, ok := readyValue(r)
		if !ok {
			continue // malformed: left out of every statistic, as the summary does
		}
		arm := r.Arm()
		s := out[arm]
		if s == nil {
			s = &armStarts{deadline: r.DeadlineMS}
			out[arm] = s
			order = append(order, arm)
		}
		s.ready = append(s.ready, v)
		if sv, ok := servingValue(r); ok {
			s.serving = append(s.serving, sv)
		}
		s.calibration = s.calibration || r.Calibration
		if s.limits == nil && len(r.Limits) > 0 {
			s.limits = r.Limits
		}
	}
	return out, order
}

// readyValue is a measured start's ready time: +Inf for a miss (censored).
// An ok record without ready_ms cannot be measured (a damaged journal):
// ok is false, and every statistic leaves it out.
func readyValue(r *result.Record) (v float64, ok bool) {
	switch {
	case r.Outcome != result.OK:
		return math.Inf(1), true
	case r.ReadyMS == nil:
		return 0, false
	}
	return *r.ReadyMS, true
}

// deltaWarnings says where the two runs are not alike.
func deltaWarnings(x, y *armStarts) []string {
	var w []string
	if len(x.ready) < 20 || len(y.ready) < 20 {
		w = append(w, "fewer than 20 starts on a side: the p95 interval is wide")
	}
	if x.deadline != y.deadline {
		w = append(w, fmt.Sprintf("deadlines differ (%g ms vs %g ms): misses are censored at different bounds, so the runs are not alike", x.deadline, y.deadline))
	}
	if x.limits != nil && y.limits != nil && !slices.Equal(x.limits, y.limits) {
		w = append(w, "the enforced limits differ between the runs: "+limitsText(x.limits)+" vs "+limitsText(y.limits))
	}
	return w
}

func limitsText(ls []result.Limit) string {
	s := ""
	for i, l := range ls {
		if i > 0 {
			s += ", "
		}
		s += l.Name + " " + result.Format(l.Unit, l.Enforced)
	}
	return s
}

func countInf(v []float64) int {
	n := 0
	for _, x := range v {
		if math.IsInf(x, 1) {
			n++
		}
	}
	return n
}

func pctChange(o, n float64) float64 {
	switch {
	case math.IsInf(o, 1) && math.IsInf(n, 1):
		return math.NaN() // both censored: the change is unknown
	case math.IsInf(n, 1):
		return math.Inf(1)
	case math.IsInf(o, 1):
		return math.Inf(-1)
	}
	return 100 * (n - o) / o
}

func known(v float64) Value {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Value{}
	}
	return Num(round(v))
}

// delta compares one percentile. Resamples whose change is unknown (both
// sides censored) are kept as unknown: a bound that falls on them is
// unknown, and an unknown bound is never significant.
func delta(x, y []float64, xdl, ydl, level, confidence float64, rng *rand.Rand) Delta {
	sx, sy := slices.Sorted(slices.Values(x)), slices.Sorted(slices.Values(y))
	o, n := percentile(sx, level), percentile(sy, level)
	d := Delta{Old: censoredWithBound(sx, level, xdl), New: censoredWithBound(sy, level, ydl), Pct: known(pctChange(o, n))}
	if len(sx) < 2 || len(sy) < 2 {
		return d
	}
	diffs := make([]float64, 0, bootstrapRounds)
	rx, ry := make([]float64, len(sx)), make([]float64, len(sy))
	for i := 0; i < bootstrapRounds; i++ {
		for j := range rx {
			rx[j] = sx[rng.Intn(len(sx))]
		}
		for j := range ry {
			ry[j] = sy[rng.Intn(len(sy))]
		}
		slices.Sort(rx)
		slices.Sort(ry)
		diffs = append(diffs, pctChange(percentile(rx, level), percentile(ry, level)))
	}
	alpha := (1 - confidence) / 2
	lo, hi := orderedBound(diffs, alpha), orderedBound(diffs, 1-alpha)
	d.CILow, d.CIHigh = known(lo), known(hi)
	d.Significant = d.CILow.Known && d.CIHigh.Known && (lo > 0 || hi < 0)
	return d
}

// orderedBound is the q-quantile of the resampled changes with the unknown
// ones (NaN) placed where they could be anything: if q falls among them, or
// they are too many to place it, the bound is unknown (NaN).
func orderedBound(diffs []float64, q float64) float64 {
	var kn []float64
	for _, v := range diffs {
		if !math.IsNaN(v) {
			kn = append(kn, v)
		}
	}
	unknown := len(diffs) - len(kn)
	if unknown == 0 {
		slices.Sort(kn)
		return percentile(kn, 100*q)
	}
	// An unknown change could lie anywhere: the bound is known only if it is
	// the same whether they all sit below or all above the known ones.
	slices.Sort(kn)
	pos := q * float64(len(diffs)-1)
	if pos < float64(unknown) || pos > float64(len(kn)-1) {
		return math.NaN()
	}
	lowPlacement := percentileAt(kn, pos-float64(unknown))
	highPlacement := percentileAt(kn, pos)
	if lowPlacement != highPlacement {
		return math.NaN()
	}
	return lowPlacement
}

// percentileAt interpolates sorted at a fractional index.
func percentileAt(sorted []float64, pos float64) float64 {
	i := int(math.Floor(pos))
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	f := pos - float64(i)
	return sorted[i] + f*(sorted[i+1]-sorted[i])
}

// censoredWithBound is a percentile that may be censored: then its lower
// bound is the same interpolation with every miss at the deadline.
func censoredWithBound(sorted []float64, level, deadline float64) Value {
	v := percentile(sorted, level)
	if !math.IsInf(v, 1) {
		return known(v)
	}
	at := make([]float64, len(sorted))
	for i, x := range sorted {
		at[i] = math.Min(x, deadline)
	}
	return Above(round(percentile(at, level)))
}

// censoredAt is a percentile that may be +Inf: censored, with no bound known here.
func censoredAt(v float64) Value {
	if math.IsInf(v, 1) {
		return Value{Censored: true}
	}
	return known(v)
}

// uTest is the Mann-Whitney U test's p-value; misses (+Inf) tie at the top,
// which is exactly what the rank test needs of a right-censored start.
func uTest(x, y []float64) float64 {
	fin := func(v []float64) []float64 {
		out := make([]float64, len(v))
		for i, f := range v {
			if math.IsInf(f, 1) {
				f = math.MaxFloat64
			}
			out[i] = f
		}
		return out
	}
	th := &benchmath.Thresholds{CompareAlpha: 0.05}
	return benchmath.AssumeNothing.Compare(benchmath.NewSample(fin(x), th), benchmath.NewSample(fin(y), th)).P
}

// fisherGreater is the one-sided p-value of Fisher's exact test that the new
// run's share of misses (nm of nn) is larger than the old run's (om of on).
func fisherGreater(nm, nn, om, on int) float64 {
	if nm == 0 {
		return 1
	}
	d := stats.HypergeometicDist{N: nn + on, K: nm + om, Draws: nn}
	return 1 - d.CDF(float64(nm-1))
}
