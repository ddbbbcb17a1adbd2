package summary

import (
	"github.com/coldstart/coldstart/harness/result"
)

// OfRun computes a run's summary from its records and manifest: the
// statistics plus the run-level warnings (journal repairs, resumes). The run
// and `coldstart report` share it, so a report renders what the run printed.
func OfRun(recs []result.Record, m result.Manifest, interrupted bool, journalWarnings []string) *Summary {
	opt := Options{Suite: m.Suite, Run: m.Run, Order: m.Scenarios, Planned: m.Planned, Interrupted: interrupted}
	if m.Merged != nil {
		for _, sh := range m.Merged.Shards {
			opt.Runs = append(opt.Runs, sh.Run)
		}
	}
	s := Compute(recs, opt)
	if m.Merged != nil {
		mergedViews(s, recs, m, opt)
	}
	withRequests(s, m.Serving)
	for _, w := range journalWarnings {
		s.Warnings = append(s.Warnings, Warning{Code: Journal, Message: w})
	}
	cal := ""
	for _, sc := range s.Scenarios {
		if sc.Calibration {
			cal = sc.Name
			break
		}
	}
	s.Paired = ComparePaired(recs, m.Gate, cal)
	s.SLOs = CheckSLOs(s, perHostSLOs(s, m.SLOs))
	for _, w := range m.Warnings {
		s.Warnings = append(s.Warnings, Warning{Code: Setup, Message: w})
	}
	if n := len(m.Resumes); n > 0 {
		forced := 0
		for _, r := range m.Resumes {
			if r.Forced {
				forced++
			}
		}
		s.Resumed = n
		s.Warnings = append(s.Warnings, warnf(Resumed,
			"run resumed %d time(s) (%d forced past a changed suite, harness or host): its starts were not all taken in one go", n, forced))
	}
	return s
}
