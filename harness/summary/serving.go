package summary

import (
	"fmt"
	"math"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
)

// Serving is an arm's statistics of its work request: the first real call,
// sent at readiness. They cover the measured starts that were to send one;
// a start that did not get ready, or got no expected answer, is censored at
// the deadline in ServingMS, as a miss is in ready_ms.
type Serving struct {
	Request string `json:"request,omitempty"` // the work request, as the suite has it
	N       int    `json:"n"`
	OK      int    `json:"ok"`     // measured starts served
	Misses  Counts `json:"misses"` // by serving outcome, zeros included
	// ReadyNotServed counts the misses that did get ready: the health
	// answer came, the first call's answer did not.
	ReadyNotServed int          `json:"ready_not_served"`
	ServingMS      CensoredDist `json:"serving_ms"`
	// AfterReadyMS is serving_ms − ready_ms of the served starts: how long
	// the first caller waits once the app says it is ready.
	AfterReadyMS Dist `json:"after_ready_ms"`
	// CPUUsageMS and ThrottledMS are the cgroup's at the work answer.
	CPUUsageMS  Dist `json:"cpu_usage_ms"`
	ThrottledMS Dist `json:"throttled_ms"`
	Malformed   int  `json:"malformed,omitempty"` // served without serving_ms: left out
}

// Missed is the number of measured starts that were not served.
func (s *Serving) Missed() int { return s.N - s.OK }

// servingValue is a measured start's serving time: +Inf when it was not
// served (censored). ok is false when the start sends no work request, or
// says it was served without a time (a damaged journal).
func servingValue(r *result.Record) (v float64, ok bool) {
	switch {
	case !r.HasServing():
		return 0, false
	case r.ServingOutcome != result.OK:
		return math.Inf(1), true
	case r.ServingMS == nil:
		return 0, false
	}
	return *r.ServingMS, true
}

// servingOf summarizes the measured starts' work requests; nil when none
// of them was to send one.
func servingOf(measured []result.Record, deadline float64) *Serving {
	var sv *Serving
	misses := map[result.Outcome]int{}
	var vals, after, cpu, thr []float64
	for i := range measured {
		r := &measured[i]
		if !r.HasServing() {
			continue
		}
		if sv == nil {
			sv = &Serving{}
		}
		v, ok := servingValue(r)
		if !ok {
			sv.Malformed++
			continue
		}
		sv.N++
		vals = append(vals, v)
		if r.ServingOutcome != result.OK {
			misses[r.ServingOutcome]++
			if r.Outcome == result.OK {
				sv.ReadyNotServed++
			}
			continue
		}
		sv.OK++
		if r.ReadyMS != nil {
			after = append(after, v-*r.ReadyMS)
		}
		if c := r.ServingCgroup; c != nil {
			cpu, thr = append(cpu, c.CPUUsageMS), append(thr, c.ThrottledMS)
		}
	}
	if sv == nil {
		return nil
	}
	sv.Misses = counts(misses, result.ServingOutcomes)
	sv.ServingMS = censoredDist(vals, deadline)
	sv.AfterReadyMS, sv.CPUUsageMS, sv.ThrottledMS = dist(after), dist(cpu), dist(thr)
	return sv
}

// counts lists every outcome of order (zeros included), then any other in
// name order.
func counts(m map[result.Outcome]int, order []result.Outcome) Counts {
	out := Counts{}
	for _, o := range order {
		if o != result.OK {
			out = append(out, OutcomeCount{o, m[o]})
			delete(m, o)
		}
	}
	for _, o := range sortedKeys(m) {
		out = append(out, OutcomeCount{o, m[o]})
	}
	return out
}

// servingWarnings are the findings about an arm's work requests.
func servingWarnings(sv *Serving, deadline float64) []Warning {
	var w []Warning
	if sv.Malformed > 0 {
		w = append(w, warnf(Malformed, "%d measured records say served but have no serving_ms (a damaged journal?): left out of the serving statistics", sv.Malformed))
	}
	if m := sv.Missed(); m > 0 {
		var parts []string
		for _, oc := range sv.Misses {
			if oc.N > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", oc.Outcome, oc.N))
			}
		}
		w = append(w, warnf(ServingMisses, "%d of %d measured starts (%.1f%%) not served within %g ms, %d of them after getting ready: %s; their serving time is censored",
			m, sv.N, 100*float64(m)/float64(sv.N), deadline, sv.ReadyNotServed, strings.Join(parts, ", ")))
	}
	return w
}
