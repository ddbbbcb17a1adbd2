package main

import (
	"fmt"
	"math"
	"slices"

	"github.com/montanaflynn/stats"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// Percentiles. The harness's own per-start distributions (detect_lag_ms,
// probe_lag_ms) come from harness/summary, as in its summary.json. Every other
// distribution here (the loop's, sums and differences of record fields,
// per-batch costs, exec times) goes through percentile: the same method,
// type 7 (linear interpolation between closest ranks, NumPy's default) of
// montanaflynn/stats, not rounded.

// percentile is type 7; NaN when there is no data. It does not modify d.
func percentile(d []float64, p float64) float64 {
	switch len(d) {
	case 0:
		return math.NaN()
	case 1:
		return d[0] // stats.Percentile rejects some levels of one value
	}
	v, err := stats.Percentile(slices.Clone(d), p)
	if err != nil {
		return math.NaN()
	}
	return v
}

func median(d []float64) float64 { return percentile(d, 50) }

// maxOf is the largest value; NaN when there is none.
func maxOf(d []float64) float64 {
	if len(d) == 0 {
		return math.NaN()
	}
	return slices.Max(d)
}

func minOf(d []float64) float64 {
	if len(d) == 0 {
		return math.NaN()
	}
	return slices.Min(d)
}

// dist is one line of a lag table: n starts, ok of them with a value.
type dist struct {
	n, ok              int
	p50, p90, p99, max float64
}

func distOf(d []float64, n int) dist {
	return dist{n: n, ok: len(d), p50: percentile(d, 50), p90: percentile(d, 90), p99: percentile(d, 99), max: maxOf(d)}
}

// summaryDist is a harness/summary distribution as a dist.
func summaryDist(s summary.Dist, n int) dist {
	return dist{n: n, ok: s.N, p50: num(s.P50), p90: num(s.P90), p99: num(s.P99), max: num(s.Max)}
}

// num is a known summary value, else NaN (absent; a Dist is never censored).
func num(v summary.Value) float64 {
	if !v.Known {
		return math.NaN()
	}
	return v.V
}

// scenarioStats summarizes the measured records of one scenario with
// harness/summary; the zero Scenario when there are none.
func scenarioStats(recs []result.Record, name string) summary.Scenario {
	var mine []result.Record
	for _, r := range recs {
		if r.Scenario == name {
			mine = append(mine, r)
		}
	}
	s := summary.Compute(mine, summary.Options{Order: []string{name}})
	return s.Scenarios[0]
}

// f2 formats a figure with 2 decimals below 10, 1 below 100, none above;
// "–" for NaN.
func f2(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	switch {
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func mib(bytes float64) float64 { return bytes / (1 << 20) }
