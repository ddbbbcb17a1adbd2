package summary

import (
	"math"
	"slices"

	"github.com/montanaflynn/stats"
)

// Levels are the percentiles every distribution reports.
var Levels = []float64{50, 90, 95, 99}

// Quantiles are the order statistics of one distribution.
type Quantiles struct {
	Min Value `json:"min"`
	P50 Value `json:"p50"`
	P90 Value `json:"p90"`
	P95 Value `json:"p95"`
	P99 Value `json:"p99"`
	Max Value `json:"max"`
}

// At returns the quantile for a level in Levels.
func (q Quantiles) At(level float64) Value {
	switch level {
	case 50:
		return q.P50
	case 90:
		return q.P90
	case 95:
		return q.P95
	case 99:
		return q.P99
	}
	return Value{}
}

// CensoredDist is a timing over all measured starts where a start that never
// got there counts as +Inf: right-censored at the deadline. A percentile whose
// type-7 rank touches a censored start is reported censored, never computed
// from the survivors. Mean and stddev cover the uncensored starts only.
type CensoredDist struct {
	N        int `json:"n"`        // starts in the distribution, censored included
	Censored int `json:"censored"` // of which censored
	Quantiles
	MeanOK   Value `json:"mean_ok"`   // over uncensored starts
	StddevOK Value `json:"stddev_ok"` // sample stddev (n-1) over uncensored starts
}

// Dist is a distribution without censoring.
type Dist struct {
	N int `json:"n"`
	Quantiles
	Mean   Value `json:"mean"`
	Stddev Value `json:"stddev"` // sample stddev (n-1)
}

// percentile is type 7 through montanaflynn/stats; +Inf when the rank touches a +Inf sample.
func percentile(sorted []float64, level float64) float64 {
	v, err := stats.Percentile(sorted, level)
	if err != nil {
		return math.NaN()
	}
	return v
}

// round keeps microseconds of a millisecond value (or thousandths of a byte):
// the clock says no more, and goldens stay readable.
func round(v float64) float64 { return math.Round(v*1000) / 1000 }

func quantiles(sorted []float64, bound float64) Quantiles {
	// The lower bound of a censored quantile: the same interpolation with
	// every censored start placed at the deadline, which it exceeded.
	atBound := make([]float64, len(sorted))
	for i, v := range sorted {
		atBound[i] = v
		if math.IsInf(v, 1) {
			atBound[i] = bound
		}
	}
	val := func(v, b float64) Value {
		if math.IsInf(v, 1) {
			return Above(round(b))
		}
		return Num(round(v))
	}
	q := Quantiles{
		Min: val(sorted[0], bound),
		Max: val(sorted[len(sorted)-1], bound),
	}
	q.P50 = val(percentile(sorted, 50), percentile(atBound, 50))
	q.P90 = val(percentile(sorted, 90), percentile(atBound, 90))
	q.P95 = val(percentile(sorted, 95), percentile(atBound, 95))
	q.P99 = val(percentile(sorted, 99), percentile(atBound, 99))
	return q
}

func meanStddev(finite []float64) (mean, sd Value) {
	if len(finite) == 0 {
		return Value{}, Value{}
	}
	m, err := stats.Mean(finite)
	if err == nil {
		mean = Num(round(m))
	}
	if s, err := stats.StandardDeviationSample(finite); err == nil {
		sd = Num(round(s))
	}
	return mean, sd
}

// censoredDist summarizes vals where +Inf marks a censored start; bound is
// the deadline they missed.
func censoredDist(vals []float64, bound float64) CensoredDist {
	d := CensoredDist{N: len(vals)}
	if len(vals) == 0 {
		return d
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	var finite []float64
	for _, v := range sorted {
		if math.IsInf(v, 1) {
			d.Censored++
		} else {
			finite = append(finite, v)
		}
	}
	d.Quantiles = quantiles(sorted, bound)
	d.MeanOK, d.StddevOK = meanStddev(finite)
	return d
}

func dist(vals []float64) Dist {
	d := Dist{N: len(vals)}
	if len(vals) == 0 {
		return d
	}
	sorted := slices.Clone(vals)
	slices.Sort(sorted)
	d.Quantiles = quantiles(sorted, 0)
	d.Mean, d.Stddev = meanStddev(sorted)
	return d
}
