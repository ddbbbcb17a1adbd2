package summary

import (
	"math"
	"math/rand"
	"slices"
	"strconv"

	"golang.org/x/perf/benchmath"

	"github.com/coldstart/coldstart/harness/result"
)

// Comparison of two runs of the same scenarios (old and new), for
// reproducibility checks and regression gates.
type Comparison struct {
	Confidence float64         `json:"confidence"`
	Method     string          `json:"method"`
	Scenarios  []ScenarioDelta `json:"scenarios"`
}

// ScenarioDelta compares one scenario's ready_ms between two runs.
type ScenarioDelta struct {
	Name      string   `json:"name"`
	OldN      int      `json:"old_n"`
	NewN      int      `json:"new_n"`
	OldMisses int      `json:"old_misses"`
	NewMisses int      `json:"new_misses"`
	P50       Delta    `json:"p50"`
	P95       Delta    `json:"p95"`
	P         float64  `json:"p_value"` // Mann-Whitney U, misses ranked at the top
	Warnings  []string `json:"warnings,omitempty"`
}

// Delta is a percentile in both runs and the bootstrap confidence interval of
// its change in percent of the old value. An unknown bound (a resample hit a
// censored start) is null in JSON.
type Delta struct {
	Old         Value `json:"old"`
	New         Value `json:"new"`
	Pct         Value `json:"pct"`
	CILow       Value `json:"ci_low_pct"`
	CIHigh      Value `json:"ci_high_pct"`
	Significant bool  `json:"significant"` // the CI excludes 0
}

// bootstrapRounds: enough for a stable 95% interval, fast for thousands of starts.
const bootstrapRounds = 2000

// Compare compares the measured starts of old and new, scenario by scenario
// (those present in both, in old's order). Misses are +Inf: censored, never
// averaged away. The resampling uses a fixed seed so that a report is
// reproducible from its journals.
func Compare(old, new []result.Record, confidence float64) *Comparison {
	c := &Comparison{Confidence: confidence,
		Method: "percentile bootstrap of the change in p50/p95 (" + strconv.Itoa(bootstrapRounds) + " resamples, fixed seed); Mann-Whitney U (golang.org/x/perf/benchmath) with misses ranked slowest"}
	a, order := readyByScenario(old)
	b, _ := readyByScenario(new)
	for _, name := range order {
		x, y := a[name], b[name]
		if len(y) == 0 {
			continue
		}
		d := ScenarioDelta{Name: name, OldN: len(x), NewN: len(y), OldMisses: countInf(x), NewMisses: countInf(y)}
		rng := rand.New(rand.NewSource(1))
		d.P50 = delta(x, y, 50, confidence, rng)
		d.P95 = delta(x, y, 95, confidence, rng)
		d.P = uTest(x, y)
		if len(x) < 20 || len(y) < 20 {
			d.Warnings = append(d.Warnings, "fewer than 20 starts on a side: the p95 interval is wide")
		}
		c.Scenarios = append(c.Scenarios, d)
	}
	return c
}

func readyByScenario(recs []result.Record) (map[string][]float64, []string) {
	out := map[string][]float64{}
	var order []string
	for _, r := range recs {
		if r.Kind != result.KindMeasure {
			continue
		}
		arm := r.Arm()
		if _, ok := out[arm]; !ok {
			order = append(order, arm)
		}
		v := math.Inf(1)
		if r.Outcome == result.OK && r.ReadyMS != nil {
			v = *r.ReadyMS
		}
		out[arm] = append(out[arm], v)
	}
	return out, order
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
		return math.NaN()
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

func delta(x, y []float64, level, confidence float64, rng *rand.Rand) Delta {
	sx, sy := slices.Sorted(slices.Values(x)), slices.Sorted(slices.Values(y))
	o, n := percentile(sx, level), percentile(sy, level)
	d := Delta{Old: censoredAt(o), New: censoredAt(n), Pct: known(pctChange(o, n))}
	if len(x) < 2 || len(y) < 2 {
		return d
	}
	diffs := make([]float64, 0, bootstrapRounds)
	rx, ry := make([]float64, len(x)), make([]float64, len(y))
	for i := 0; i < bootstrapRounds; i++ {
		for j := range rx {
			rx[j] = x[rng.Intn(len(x))]
		}
		for j := range ry {
			ry[j] = y[rng.Intn(len(y))]
		}
		slices.Sort(rx)
		slices.Sort(ry)
		v := pctChange(percentile(rx, level), percentile(ry, level))
		if math.IsNaN(v) {
			v = math.Inf(1) // both censored: the change is unknown; count it as unbounded
		}
		diffs = append(diffs, v)
	}
	slices.Sort(diffs)
	alpha := (1 - confidence) / 2
	lo, hi := percentile(diffs, 100*alpha), percentile(diffs, 100*(1-alpha))
	d.CILow, d.CIHigh = known(lo), known(hi)
	d.Significant = (lo > 0 || hi < 0) && !math.IsNaN(lo) && !math.IsNaN(hi)
	return d
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
	return round(benchmath.AssumeNothing.Compare(benchmath.NewSample(fin(x), th), benchmath.NewSample(fin(y), th)).P)
}
