package reports

import (
	"fmt"
	"strings"

	"github.com/coldstart/coldstart/harness/summary"
)

// servingNote says what serving_ms is, for every report that shows it.
const servingNote = "serving_ms: t0 → the first expected answer to the scenario's work request (the first real call), sent once at readiness " +
	"with the rest of the deadline as its timeout; a start not ready, or ready and not served by the deadline, is censored and shows as > bound."

// anyServing reports whether some arm sends a work request.
func anyServing(s *summary.Summary) bool {
	for i := range s.Scenarios {
		if s.Scenarios[i].Serving != nil {
			return true
		}
	}
	return false
}

// servingBlocks is the serving table of the text and Markdown reports: the
// arms that send a work request, ready beside serving.
func servingBlocks(s *summary.Summary) []block {
	if !anyServing(s) {
		return nil
	}
	t := block{numeric: true, header: []string{"scenario", "n", "served", "not served (after ready)", "ready p50 ms", "serving p50 ms", "p90 ms", "p95 ms",
		"p99 ms", "max ms", "serving − ready p50 ms"}}
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		sv := sc.Serving
		if sv == nil {
			continue
		}
		d := sv.ServingMS
		t.rows = append(t.rows, []string{sc.Name, fmt.Sprint(sv.N), fmt.Sprint(sv.OK),
			fmt.Sprintf("%d (%d)", sv.Missed(), sv.ReadyNotServed), ms(sc.ReadyMS.P50),
			ms(d.P50), ms(d.P90), ms(d.P95), ms(d.P99), ms(d.Max), ms(sv.AfterReadyMS.P50)})
	}
	return []block{{sub: "serving"}, {para: servingNote}, t}
}

// servingOverview is one arm's serving paragraph.
func servingOverview(sv *summary.Serving) string {
	var misses []string
	for _, oc := range sv.Misses {
		if oc.N > 0 {
			misses = append(misses, fmt.Sprintf("%s %d", oc.Outcome, oc.N))
		}
	}
	if len(misses) == 0 {
		misses = []string{"none"}
	}
	req := sv.Request
	if req == "" {
		req = "the work request"
	}
	return fmt.Sprintf("serving: %s; %d of %d measured starts served; not served: %s (%d of them after getting ready); serving p50 %s ms, p95 %s ms; the first call waited p50 %s ms after ready.",
		req, sv.OK, sv.N, strings.Join(misses, ", "), sv.ReadyNotServed, ms(sv.ServingMS.P50), ms(sv.ServingMS.P95), ms(sv.AfterReadyMS.P50))
}
