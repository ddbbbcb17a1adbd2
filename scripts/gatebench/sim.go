package main

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// pair is one recorded pair: the two starts of a paired scenario.
type pair struct{ base, cand result.Record }

// recordedPairs reads every complete pair of the A/A scenario (both variants
// the same image) of the given paired runs.
func recordedPairs(dirs []string, scenario string) ([]pair, error) {
	var out []pair
	for _, d := range dirs {
		r, err := journal.LoadRun(d)
		if err != nil {
			return nil, err
		}
		at := map[int]*pair{}
		for _, rec := range r.Records {
			if rec.Kind != result.KindMeasure || rec.Scenario != scenario || rec.Variant == "" {
				continue
			}
			p := at[rec.Iteration]
			if p == nil {
				p = &pair{}
				at[rec.Iteration] = p
			}
			if rec.Variant == "baseline" {
				p.base = rec
			} else {
				p.cand = rec
			}
		}
		its := make([]int, 0, len(at))
		for it := range at {
			its = append(its, it)
		}
		sort.Ints(its)
		for _, it := range its {
			if p := at[it]; p.base.Variant != "" && p.cand.Variant != "" {
				out = append(out, *p)
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no pairs of scenario %q in %s", scenario, strings.Join(dirs, ", "))
	}
	return out, nil
}

// trialRecords draws n pairs and makes the records of one simulated run;
// factor scales the candidate's ready time (a miss stays a miss).
func trialRecords(pool []pair, n int, factor float64, rng *rand.Rand) []result.Record {
	recs := make([]result.Record, 0, 2*n)
	for i := range n {
		p := pool[rng.IntN(len(pool))]
		b, c := p.base, p.cand
		// Which recorded start is the baseline is itself drawn: both halves
		// of an A/A pair come from the same distribution.
		if rng.IntN(2) == 1 {
			b, c = c, b
		}
		b.Variant, c.Variant = "baseline", "candidate"
		b.Iteration, c.Iteration = i, i
		b.Scenario, c.Scenario = "sim", "sim"
		if c.ReadyMS != nil {
			c.ReadyMS = result.F(*c.ReadyMS * factor)
		}
		b.Host, c.Host = nil, nil // the guard's contention share is the live runs' business
		recs = append(recs, b, c)
	}
	return recs
}

type rates struct {
	n                     int
	falseAlarm, detection float64 // regressed under A/A, under A/B
	aaNoChange, abUnsure  float64
	medianWidth           float64 // of the A/B interval, percentage points
	trials                int
}

func simulate(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	scenario := fs.String("scenario", "same", "the A/A paired scenario of the recorded runs")
	trials := fs.Int("trials", 400, "simulated runs per n and case")
	ns := fs.String("n", "10,20,30,40,60,80,100,150,200", "numbers of pairs to try")
	factor := fs.Float64("planted", 1.10, "the A/B candidate's ready time factor")
	threshold := fs.Float64("threshold", result.DefaultThresholdPct, "the gate's threshold (%)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pool, err := recordedPairs(fs.Args(), *scenario)
	if err != nil {
		return err
	}
	gate := result.Gate{ThresholdPct: *threshold}.WithDefaults()
	var rs []rates
	for _, s := range strings.Split(*ns, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 2 {
			return fmt.Errorf("-n %q: want numbers of pairs >= 2", s)
		}
		rs = append(rs, simulateN(pool, n, *trials, *factor, gate))
	}
	fmt.Fprintf(out, "Simulated from %d recorded A/A pairs of %q (%s); %d trials per n and case; planted ×%.2f; threshold ±%g%%, %.0f%% confidence.\n\n",
		len(pool), *scenario, strings.Join(fs.Args(), ", "), *trials, *factor, gate.ThresholdPct, 100*gate.Confidence)
	fmt.Fprintln(out, "| pairs n | A/A false alarm (regressed) | A/A no change | planted caught (regressed) | planted inconclusive | A/B interval width p50 |")
	fmt.Fprintln(out, "|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		fmt.Fprintf(out, "| %d | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f pp |\n", r.n, 100*r.falseAlarm, 100*r.aaNoChange, 100*r.detection, 100*r.abUnsure, r.medianWidth)
	}
	for _, r := range rs {
		if r.falseAlarm <= 0.05 && r.detection >= 0.95 {
			fmt.Fprintf(out, "\nSmallest n meeting both targets (false alarm <= 5%%, detection >= 95%%): %d pairs.\n", r.n)
			return nil
		}
	}
	fmt.Fprintln(out, "\nNo n tried meets both targets (false alarm <= 5%, detection >= 95%).")
	return nil
}

func simulateN(pool []pair, n, trials int, factor float64, gate result.Gate) rates {
	rng := rand.New(rand.NewPCG(uint64(n), 42))
	r := rates{n: n, trials: trials}
	var widths []float64
	for range trials {
		aa := summary.ComparePaired(trialRecords(pool, n, 1, rng), gate, "").Scenarios[0]
		ab := summary.ComparePaired(trialRecords(pool, n, factor, rng), gate, "").Scenarios[0]
		if aa.Verdict == summary.Regressed {
			r.falseAlarm++
		}
		if aa.Verdict == summary.NoChange {
			r.aaNoChange++
		}
		if ab.Verdict == summary.Regressed {
			r.detection++
		}
		if ab.Verdict == summary.Inconclusive {
			r.abUnsure++
		}
		widths = append(widths, float64(ab.CIHighPct)-float64(ab.CILowPct))
	}
	t := float64(trials)
	r.falseAlarm, r.aaNoChange, r.detection, r.abUnsure = r.falseAlarm/t, r.aaNoChange/t, r.detection/t, r.abUnsure/t
	sort.Float64s(widths)
	r.medianWidth = widths[len(widths)/2]
	return r
}
