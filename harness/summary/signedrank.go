package summary

import (
	"math"
	"slices"

	"github.com/aclements/go-moremath/stats"
)

// The paired verdict's statistics: the Wilcoxon signed-rank test and the
// Hodges–Lehmann estimate with its confidence interval, both on per-pair
// differences d that may be ±Inf (a miss on one side only). No Go library
// at hand has the signed-rank test (x/perf and go-moremath offer the
// Mann-Whitney U test and the binomial distribution, used here for the
// exact miss test); this file is checked against values computed by hand
// and against its own exact/normal agreement in signedrank_test.go.

// exactMax is the largest number of non-zero differences for which the
// exact null distribution of W+ is used (no ties); above it, or with ties,
// the normal approximation with tie and continuity corrections.
const exactMax = 60

// signedRanks ranks |d| over the non-zero differences, averaging ties (two
// +Inf or two -Inf tie at the top), and returns W+ (the sum of the ranks of
// the positive ones), the count n of non-zero differences, and the tie
// correction Σ(t³−t) over groups of tied ranks.
func signedRanks(d []float64) (wPlus float64, n int, tieSum float64) {
	type item struct {
		abs float64
		pos bool
	}
	var xs []item
	for _, v := range d {
		if v != 0 && !math.IsNaN(v) {
			xs = append(xs, item{math.Abs(v), v > 0})
		}
	}
	slices.SortFunc(xs, func(a, b item) int {
		switch {
		case a.abs < b.abs:
			return -1
		case a.abs > b.abs:
			return 1
		}
		return 0
	})
	n = len(xs)
	for i := 0; i < n; {
		j := i
		for j < n && xs[j].abs == xs[i].abs {
			j++
		}
		rank := float64(i+1+j) / 2 // the mean of ranks i+1..j
		if t := float64(j - i); t > 1 {
			tieSum += t*t*t - t
		}
		for k := i; k < j; k++ {
			if xs[k].pos {
				wPlus += rank
			}
		}
		i = j
	}
	return wPlus, n, tieSum
}

// exactCounts is the null distribution of W+ for n untied differences:
// counts[w] is how many of the 2^n sign patterns give W+ = w.
func exactCounts(n int) []float64 {
	max := n * (n + 1) / 2
	counts := make([]float64, max+1)
	counts[0] = 1
	for r := 1; r <= n; r++ {
		for w := max; w >= r; w-- {
			counts[w] += counts[w-r]
		}
	}
	return counts
}

// SignedRankGreater is the one-sided p-value of the Wilcoxon signed-rank
// test that the differences are shifted above 0 (zeros dropped). It is 1
// with no non-zero difference.
func SignedRankGreater(d []float64) float64 {
	w, n, ties := signedRanks(d)
	if n == 0 {
		return 1
	}
	if ties == 0 && n <= exactMax {
		counts := exactCounts(n)
		total := math.Ldexp(1, n)
		p := 0.0
		for k := int(math.Ceil(w)); k < len(counts); k++ {
			p += counts[k]
		}
		return math.Min(1, p/total)
	}
	nf := float64(n)
	mean := nf * (nf + 1) / 4
	sd := math.Sqrt(nf*(nf+1)*(2*nf+1)/24 - ties/48)
	if sd == 0 {
		return 1
	}
	z := (w - mean - 0.5) / sd // continuity-corrected
	return 1 - stats.StdNormal.CDF(z)
}

// critical is k, the number of Walsh averages cut from each end of their
// sorted list for a two-sided interval at level conf: the largest k with
// P(W+ <= k−1) <= (1−conf)/2 under the null (exact for small n, normal
// otherwise). 0 means the data cannot support that level.
func critical(n int, conf float64) int {
	alpha := (1 - conf) / 2
	if n <= exactMax {
		counts := exactCounts(n)
		total := math.Ldexp(1, n)
		cum, k := 0.0, 0
		for w := 0; w < len(counts); w++ {
			cum += counts[w]
			if cum/total > alpha {
				break
			}
			k = w + 1
		}
		return k
	}
	nf := float64(n)
	z := stats.StdNormal.InvCDF(1 - alpha)
	k := int(math.Floor(nf*(nf+1)/4 - z*math.Sqrt(nf*(nf+1)*(2*nf+1)/24)))
	return max(k, 0)
}

// walsh returns the sorted Walsh averages (d_i + d_j)/2, i <= j. A +Inf and
// a −Inf average to 0: a miss on each side cancels.
func walsh(d []float64) []float64 {
	out := make([]float64, 0, len(d)*(len(d)+1)/2)
	for i := range d {
		for j := i; j < len(d); j++ {
			a := (d[i] + d[j]) / 2
			if math.IsNaN(a) {
				a = 0
			}
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// HodgesLehmann is the median of the Walsh averages of d, with the
// distribution-free confidence interval from the signed-rank distribution
// at level conf. The bounds are ±Inf where the data do not bound them.
func HodgesLehmann(d []float64, conf float64) (est, lo, hi float64) {
	if len(d) == 0 {
		return math.NaN(), math.Inf(-1), math.Inf(1)
	}
	w := walsh(d)
	n := len(w)
	if n%2 == 1 {
		est = w[n/2]
	} else {
		est = (w[n/2-1] + w[n/2]) / 2
		if math.IsNaN(est) {
			est = 0
		}
	}
	k := critical(len(d), conf)
	if k == 0 {
		return est, math.Inf(-1), math.Inf(1)
	}
	return est, w[k-1], w[n-k]
}

// exactGreater is the one-sided p-value of an exact binomial (sign) test
// that, of n discordant pairs, b or more went the candidate's way by
// chance: McNemar's exact test.
func exactGreater(b, n int) float64 {
	if n == 0 {
		return 1
	}
	d := stats.BinomialDist{N: n, P: 0.5}
	return 1 - d.CDF(float64(b-1))
}
