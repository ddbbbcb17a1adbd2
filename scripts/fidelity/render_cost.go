package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
)

// binCost is one binary's batches of the side-by-side cost phase.
type binCost struct {
	batches, starts, ok int
	versions            []string  // harness_version of its runs' manifests, distinct
	cpu                 []float64 // summary.json harness.cpu_ms_per_start, per batch
	proc                []float64 // whole process (wait4) user+sys per measured start, per batch
	rss                 []float64 // summary.json harness.max_rss_bytes, per batch
	lag                 dist      // detect_lag_ms over all its starts
}

// binCostOf gathers one role's batches. A batch whose summary has no
// harness cost counts in starts but not in the cost figures.
func binCostOf(sides []sideBatch, role string) binCost {
	var b binCost
	var recs []result.Record
	for _, s := range sides {
		if s.Role != role {
			continue
		}
		b.batches++
		recs = append(recs, s.run.Records...)
		if v := s.run.Manifest.Harness; !contains(b.versions, v) {
			b.versions = append(b.versions, v)
		}
		h := s.run.cost()
		if h == nil || h.Starts == 0 {
			continue
		}
		b.cpu = append(b.cpu, h.CPUMSPerStart)
		b.proc = append(b.proc, s.run.Process.wait4CPUMS()/float64(h.Starts))
		b.rss = append(b.rss, float64(h.MaxRSSBytes))
	}
	sc := scenarioStats(recs, costScenario)
	b.starts, b.ok = len(recs), sc.OK
	b.lag = summaryDist(sc.DetectLagMS, len(recs))
	return b
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// pairRatios is measured / baseline CPU per start (summary.json) within each
// pair, in pair order; NaN for a pair that lacks either.
func pairRatios(sides []sideBatch, pairs int) (base, meas, ratio []float64) {
	base, meas = make([]float64, pairs), make([]float64, pairs)
	for i := range base {
		base[i], meas[i] = math.NaN(), math.NaN()
	}
	for _, s := range sides {
		h := s.run.cost()
		if h == nil || s.Pair < 0 || s.Pair >= pairs {
			continue
		}
		if s.Role == roleBaseline {
			base[s.Pair] = h.CPUMSPerStart
		} else {
			meas[s.Pair] = h.CPUMSPerStart
		}
	}
	ratio = make([]float64, pairs)
	for i := range ratio {
		ratio[i] = meas[i] / base[i]
	}
	return base, meas, ratio
}

// finite drops NaNs (pairs with a batch missing).
func finite(d []float64) []float64 {
	var out []float64
	for _, v := range d {
		if !math.IsNaN(v) {
			out = append(out, v)
		}
	}
	return out
}

// sideBySideTables is phase 3 with a baseline: per binary, then per pair.
func (l *loaded) sideBySideTables(w io.Writer, t *targets) {
	sb := l.SideBySide
	if len(l.sides) == 0 {
		return
	}
	old, cur := binCostOf(l.sides, roleBaseline), binCostOf(l.sides, roleMeasured)
	fmt.Fprintf(w, "#### Harness CPU per start, side by side (cost suite: go-hello, seed limits; %d pairs of batches of %d starts, one batch per binary, order random per pair, seed %d)\n\n", sb.Pairs, sb.Batch, sb.Seed)
	fmt.Fprintf(w, "Baseline: `%s` (%s, sha256 %.12s). Measured: `%s` (%s, sha256 %.12s). Both invoked as `coldstart run [flags] SUITE`, on the machine above, in one run.\n\n",
		sb.Baseline.Path, sb.Baseline.Version, sb.Baseline.SHA256, sb.Measured.Path, sb.Measured.Version, sb.Measured.SHA256)
	fmt.Fprintf(w, "| binary | manifest harness_version | batches | starts (ok) | CPU per start, summary.json: median (min–max) | whole process (wait4) user+sys per start: median | peak RSS, summary.json: median | detect lag p50 / p99 |\n|---|---|---|---|---|---|---|---|\n")
	for _, x := range []struct {
		name string
		b    binCost
	}{{roleBaseline, old}, {roleMeasured, cur}} {
		b := x.b
		fmt.Fprintf(w, "| %s | %s | %d | %d (%d) | %s ms (%s–%s) | %s ms | %s MiB | %s / %s ms |\n", x.name, strings.Join(b.versions, ", "), b.batches, b.starts, b.ok,
			f2(median(b.cpu)), f2(minOf(b.cpu)), f2(maxOf(b.cpu)), f2(median(b.proc)), f2(mib(median(b.rss))), f2(b.lag.p50), f2(b.lag.p99))
	}
	_, _, ratio := pairRatios(l.sides, sb.Pairs)
	fmt.Fprintf(w, "| measured / baseline | | | | %s× (median of per-pair ratios %s×) | %s× | %s× | |\n\n",
		f2(median(cur.cpu)/median(old.cpu)), f2(median(finite(ratio))), f2(median(cur.proc)/median(old.proc)), f2(median(cur.rss)/median(old.rss)))
	fmt.Fprintf(w, "The whole-process figure (wait4 rusage of the child, µs resolution; `/usr/bin/time -v`'s 10 ms is too coarse for a batch, its figures are in report.json) adds each run's start-up, engine checks and summary, spread over a batch's %d starts.\n\n", sb.Batch)
	l.pairTable(w)
	cpu := median(cur.cpu)
	t.add(fmt.Sprintf("harness CPU per start (median of %d batches, side by side)", len(cur.cpu)), "≤ 2 ms",
		fmt.Sprintf("%s ms (baseline %s ms)", f2(cpu), f2(median(old.cpu))), cpu <= 2)
	rss := mib(maxOf(cur.rss))
	t.add("harness peak RSS (largest batch)", "≤ 50 MB", f2(rss)+" MiB", rss*(1<<20) <= 50e6)
}

// pairTable lists each pair's batches in run order.
func (l *loaded) pairTable(w io.Writer) {
	sb := l.SideBySide
	base, meas, ratio := pairRatios(l.sides, sb.Pairs)
	order := make([][]string, sb.Pairs)
	for _, s := range l.sides {
		if s.Pair >= 0 && s.Pair < sb.Pairs {
			order[s.Pair] = append(order[s.Pair], s.Role)
		}
	}
	fmt.Fprintf(w, "| pair | order | baseline CPU per start (ms) | measured CPU per start (ms) | measured / baseline |\n|---|---|---|---|---|\n")
	for p := 0; p < sb.Pairs; p++ {
		fmt.Fprintf(w, "| %d | %s | %s | %s | %s× |\n", p+1, strings.Join(order[p], " → "), f2(base[p]), f2(meas[p]), f2(ratio[p]))
	}
	fmt.Fprintln(w)
}
