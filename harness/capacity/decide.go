package capacity

import (
	"encoding/json"
	"math"
	"slices"

	"github.com/coldstart/coldstart/harness/result"
)

// Verdict of a probe: whether the objective holds at one grid point.
type Verdict string

// Verdicts.
const (
	Meets     Verdict = "meets"
	Misses    Verdict = "misses"
	Undecided Verdict = "undecided" // the per-probe cap was reached first: treated as misses
	OOM       Verdict = "oom"       // a start was OOM-killed: the memory limit is too small
)

// Count is what a probe's records say about the objective: n starts, of
// which k reached the bound (a miss of any kind counts as reaching it:
// censored at the deadline, never dropped), oom of them OOM-killed.
type Count struct {
	N, K, OOM int
}

// Tally counts records against the objective: a start reaches the bound
// when it did not get ready (deadline, crash, OOM: censored) or got
// ready at or after it.
func Tally(recs []result.Record, o Objective) Count {
	var c Count
	bound := result.MS(o.Bound)
	for i := range recs {
		r := &recs[i]
		if r.Kind != result.KindMeasure {
			continue
		}
		c.N++
		if r.Outcome == result.OOMKilled || r.OOMKilled {
			c.OOM++
		}
		if r.Outcome != result.OK || r.ReadyMS == nil || *r.ReadyMS >= bound {
			c.K++
		}
	}
	return c
}

// Decide is the one-sided binomial test at a probe. With θ the share of
// starts that reach the bound, the objective holds when θ < tail. It
// meets when so few starts reached the bound that a θ of tail or more would
// give as few with probability at most 1-confidence; it misses when so many
// did that a θ of tail or less would give as many with probability at most
// 1-confidence; else it is not decided yet.
func Decide(c Count, tail, confidence float64) Verdict {
	if c.N == 0 {
		return Undecided
	}
	alpha := 1 - confidence
	if binomCDF(c.K, c.N, tail) <= alpha {
		return Meets
	}
	if c.K > 0 && 1-binomCDF(c.K-1, c.N, tail) <= alpha {
		return Misses
	}
	return Undecided
}

// MinStarts is the fewest starts that can decide "meets" (none of them
// reaching the bound): where a probe of fewer can only ever miss.
func MinStarts(tail, confidence float64) int {
	return int(math.Ceil(math.Log(1-confidence) / math.Log(1-tail)))
}

// binomCDF is P(X <= k) for X ~ Binomial(n, p).
func binomCDF(k, n int, p float64) float64 {
	if k < 0 {
		return 0
	}
	if k >= n {
		return 1
	}
	if p <= 0 {
		return 1
	}
	if p >= 1 {
		return 0
	}
	sum := 0.0
	lp, lq := math.Log(p), math.Log1p(-p)
	for i := 0; i <= k; i++ {
		sum += math.Exp(logChoose(n, i) + float64(i)*lp + float64(n-i)*lq)
	}
	return math.Min(sum, 1)
}

func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}

// Quantile is an observed percentile with a distribution-free confidence
// interval from order statistics; a value or bound that falls on a
// censored start is +Inf (above the deadline).
type Quantile struct {
	Level      float64 `json:"level"`
	MS         float64 `json:"ms"`      // type-7 interpolation; +Inf: censored
	LowMS      float64 `json:"low_ms"`  // NaN (null): too few starts for a lower bound
	HighMS     float64 `json:"high_ms"` // +Inf: the interval reaches a censored start; NaN (null): too few starts for an upper bound
	Confidence float64 `json:"confidence"`
	N          int     `json:"n"`
}

// QuantileOf is the level percentile of the measured starts' ready_ms,
// misses at +Inf, with its confidence interval: the order statistics
// l < u with P(X(l) <= q <= X(u)) >= confidence (binomial ranks).
func QuantileOf(recs []result.Record, level, confidence float64) Quantile {
	var xs []float64
	for i := range recs {
		r := &recs[i]
		if r.Kind != result.KindMeasure {
			continue
		}
		if r.Outcome == result.OK && r.ReadyMS != nil {
			xs = append(xs, *r.ReadyMS)
		} else {
			xs = append(xs, math.Inf(1))
		}
	}
	q := Quantile{Level: level, Confidence: confidence, N: len(xs)}
	if len(xs) == 0 {
		q.MS, q.LowMS, q.HighMS = math.NaN(), math.NaN(), math.NaN()
		return q
	}
	slices.Sort(xs)
	n := len(xs)
	h := (float64(n) - 1) * level / 100
	lo := int(math.Floor(h))
	q.MS = xs[lo]
	if lo+1 < n && h > float64(lo) {
		if math.IsInf(xs[lo+1], 1) {
			q.MS = math.Inf(1)
		} else {
			q.MS = xs[lo] + (h-float64(lo))*(xs[lo+1]-xs[lo])
		}
	}
	// Ranks (1-based) l and u: P(Bin(n,p) < l) <= a/2 and P(Bin(n,p) >= u) <= a/2.
	p, a := level/100, 1-confidence
	l := 0
	for j := 1; j <= n; j++ {
		if binomCDF(j-1, n, p) <= a/2 {
			l = j
		}
	}
	u := n + 1
	for j := n; j >= 1; j-- {
		if 1-binomCDF(j-1, n, p) > a/2 {
			break
		}
		u = j
	}
	// Too few starts for a bound on a side: NaN (no bound), not infinity.
	q.LowMS, q.HighMS = math.NaN(), math.NaN()
	if l >= 1 {
		q.LowMS = xs[l-1]
	}
	if u <= n {
		q.HighMS = xs[u-1]
	}
	return q
}

// MarshalJSON writes an infinite figure (censored) as the string "+Inf"
// or "-Inf", and a figure of no starts as null: JSON has no infinities.
func (q Quantile) MarshalJSON() ([]byte, error) {
	f := func(v float64) any {
		switch {
		case math.IsNaN(v):
			return nil
		case math.IsInf(v, 1):
			return "+Inf"
		case math.IsInf(v, -1):
			return "-Inf"
		}
		return math.Round(v*1000) / 1000
	}
	return json.Marshal(map[string]any{"level": q.Level, "ms": f(q.MS), "low_ms": f(q.LowMS), "high_ms": f(q.HighMS),
		"confidence": q.Confidence, "n": q.N})
}
