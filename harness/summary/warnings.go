package summary

import (
	"fmt"
	"slices"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
)

// Code classifies a warning so that tools can act on it.
type Code string

// Warning codes.
const (
	NoStarts         Code = "no_starts"          // a scenario without measured starts
	FewSamplesP95    Code = "few_samples_p95"    // n < 20
	FewSamplesP99    Code = "few_samples_p99"    // n < 100
	Misses           Code = "misses"             // measured starts that did not get ready
	LimitNotEnforced Code = "limit_not_enforced" // a limit row with OK false
	NoLimits         Code = "no_limits"          // no start recorded its enforced limits
	LimitsDiffer     Code = "limits_differ"      // starts of a scenario disagree on limits
	DeadlinesDiffer  Code = "deadlines_differ"
	Throttled        Code = "throttled"       // the median start hit the CPU quota
	UnknownOutcome   Code = "unknown_outcome" // an outcome not in result.Outcomes
	Interrupted      Code = "interrupted"
	Incomplete       Code = "incomplete" // fewer records than planned starts, not interrupted
	UnknownKind      Code = "unknown_kind"
	OtherRun         Code = "other_run" // records of another run id
	Contended        Code = "contended"
	Journal          Code = "journal"        // the journal was repaired (a torn last line dropped)
	Malformed        Code = "malformed"      // records that cannot be measured (ok without ready_ms)
	Resumed          Code = "resumed"        // the run was resumed after an interruption
	ServingMisses    Code = "serving_misses" // measured starts whose work request got no expected answer
	// Setup: a finding before any start (a socket base that is not a
	// nosuid tmpfs, a build context outside the suite's directory).
	Setup Code = "setup"
	// HardeningNotEnforced: a hardening setting the kernel (or engine) does
	// not hold as requested.
	HardeningNotEnforced Code = "hardening_not_enforced"
	ShardIncomplete      Code = "shard_incomplete" // a merged run's shard is missing starts
	NotPooled            Code = "not_pooled"       // a merged run's hosts disagree: figures per host
)

// Warning is a non-fatal finding, carried as data.
type Warning struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func warnf(code Code, format string, args ...any) Warning {
	return Warning{Code: code, Message: fmt.Sprintf(format, args...)}
}

// topTwo says which starts a tail percentile of n starts interpolates between.
func topTwo(level float64, n int) string {
	if n == 1 {
		return "it is the only start"
	}
	return fmt.Sprintf("type-7 rank %.2f·(n−1) = %.2f of 0..%d lies between the two slowest starts",
		level/100, level/100*float64(n-1), n-1)
}

func scenarioWarnings(sc *Scenario, recs []result.Record, limitsFrom int) []Warning {
	w := []Warning{}
	n := sc.N
	if n == 0 {
		w = append(w, warnf(NoStarts, "no measured starts"))
	}
	if sc.Malformed > 0 {
		w = append(w, warnf(Malformed, "%d measured records say ok but have no ready_ms (a damaged journal?): left out of every statistic", sc.Malformed))
	}
	if sc.Contended > 0 {
		w = append(w, warnf(Contended, "%d of %d measured starts ran under contention (other work above half the host's CPUs, or steal above 10%%): their times include interference", sc.Contended, n))
	}
	if m := sc.Missed(); m > 0 {
		var parts []string
		for _, oc := range sc.Misses {
			if oc.N > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", oc.Outcome, oc.N))
			}
		}
		w = append(w, warnf(Misses, "%d of %d measured starts (%.1f%%) not ready within %g ms: %s; their ready time is censored",
			m, n, 100*float64(m)/float64(n), sc.DeadlineMS, strings.Join(parts, ", ")))
	}
	if sc.Serving != nil {
		w = append(w, servingWarnings(sc.Serving, sc.DeadlineMS)...)
	}
	for _, oc := range sc.Misses {
		if oc.N > 0 && !slices.Contains(result.Outcomes, oc.Outcome) {
			w = append(w, warnf(UnknownOutcome, "%d measured starts have unknown outcome %q, counted as misses", oc.N, oc.Outcome))
		}
	}
	if n > 0 && n < 20 {
		w = append(w, warnf(FewSamplesP95, "n=%d < 20: p95 is not meaningful: %s", n, topTwo(95, n)))
	}
	if n > 0 && n < 100 {
		w = append(w, warnf(FewSamplesP99, "n=%d < 100: p99 is an extrapolation of the tail: %s", n, topTwo(99, n)))
	}
	if sc.ThrottledPeriods.N > 0 && sc.ThrottledPeriods.P50.Known && sc.ThrottledPeriods.P50.V > 0 {
		w = append(w, warnf(Throttled, "CPU quota throttled the start: the median start was throttled in %g CFS periods (p50 throttled %g ms)",
			sc.ThrottledPeriods.P50.V, sc.ThrottledMS.P50.V))
	}
	for _, l := range sc.Limits {
		if !l.OK {
			w = append(w, warnf(LimitNotEnforced, "limit %s is not enforced as requested: requested %s; inspect %s; cgroup %s",
				l.Name, result.Format(l.Unit, l.Requested), result.Format(l.Unit, l.Observed), result.Format(l.Unit, l.Enforced)))
		}
	}
	if h := sc.Hardening; h != nil {
		for _, s := range h.Settings {
			if !s.OK {
				w = append(w, warnf(HardeningNotEnforced, "hardening %s is not held as requested: requested %s; inspect %s; kernel %s",
					s.Name, s.Requested, orDash(s.Observed), orDash(s.Enforced)))
			}
		}
	}
	if limitsFrom < 0 && len(recs) > 0 {
		w = append(w, warnf(NoLimits, "no start recorded its enforced limits"))
	}
	if limitsFrom >= 0 {
		first := recs[limitsFrom]
		for _, r := range recs[limitsFrom+1:] {
			if len(r.Limits) > 0 && !slices.Equal(r.Limits, first.Limits) {
				w = append(w, warnf(LimitsDiffer, "enforced limits differ between starts: seq %d and seq %d (table shows seq %d)",
					first.Seq, r.Seq, first.Seq))
				break
			}
		}
	}
	for _, r := range recs {
		// Diagnostic starts run with a stretched deadline on purpose (the
		// profiler slows them) and never enter the statistics.
		if r.Kind != result.KindDiagnostic && r.DeadlineMS > 0 && r.DeadlineMS != sc.DeadlineMS {
			w = append(w, warnf(DeadlinesDiffer, "deadlines differ between starts: %g ms (seq %d) and %g ms; censoring bound uses %g ms",
				r.DeadlineMS, r.Seq, sc.DeadlineMS, sc.DeadlineMS))
			break
		}
	}
	return w
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func runWarnings(recs []result.Record, opt Options) []Warning {
	w := []Warning{}
	switch {
	case opt.Interrupted:
		w = append(w, warnf(Interrupted, "run interrupted: completed %d of %d planned starts", len(recs), opt.Planned))
	case opt.Planned > 0 && len(recs) < opt.Planned:
		w = append(w, warnf(Incomplete, "completed %d of %d planned starts", len(recs), opt.Planned))
	}
	kinds := map[result.Kind]int{}
	runs := map[string]int{}
	for _, r := range recs {
		switch r.Kind {
		case result.KindMeasure, result.KindWarmup, result.KindDiagnostic:
		default:
			kinds[r.Kind]++
		}
		if opt.Run != "" && r.Run != opt.Run && !slices.Contains(opt.Runs, r.Run) {
			runs[r.Run]++
		}
	}
	for _, k := range sortedKeys(kinds) {
		w = append(w, warnf(UnknownKind, "%d records of unknown kind %q, left out of all statistics", kinds[k], k))
	}
	for _, id := range sortedKeys(runs) {
		w = append(w, warnf(OtherRun, "%d records belong to run %q, not %q", runs[id], id, opt.Run))
	}
	return w
}
