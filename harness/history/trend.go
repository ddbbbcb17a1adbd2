package history

import (
	"fmt"
	"slices"
	"time"

	"github.com/coldstart/coldstart/harness/summary"
)

// Trend is one suite's history as series: each arm's figures run by run,
// with the calibration workload's figures of the same run beside every
// point, so that a move of the platform shows as a move of both.
type Trend struct {
	Suite string    `json:"suite"`
	Runs  []RunInfo `json:"runs"` // oldest first; a point's Index is its run's position here
	// Calibration names the calibration arm(s) seen, "" when no run had one.
	Calibration string   `json:"calibration,omitempty"`
	Series      []Series `json:"series"`
	Notes       []string `json:"notes,omitempty"`
}

// RunInfo is what a trend says about each run.
type RunInfo struct {
	Run         string            `json:"run"`
	Started     time.Time         `json:"started"`
	Meta        map[string]string `json:"meta,omitempty"`
	Harness     string            `json:"harness_version"`
	Host        Host              `json:"host"`
	HostChanged bool              `json:"host_changed"` // the host fingerprint differs from the previous run's
	Verdict     string            `json:"verdict,omitempty"`
	Guard       *Guard            `json:"guard,omitempty"` // a paired run's stability guard
}

// Series is one arm across runs.
type Series struct {
	Arm         string  `json:"arm"`
	Scenario    string  `json:"scenario"`
	Variant     string  `json:"variant,omitempty"`
	Calibration bool    `json:"calibration,omitempty"`
	Points      []Point `json:"points"`
}

// Point is one arm in one run.
type Point struct {
	Index      int           `json:"index"`
	Run        string        `json:"run"`
	Image      string        `json:"image"`
	ImageID    string        `json:"image_id,omitempty"`
	N          int           `json:"n"`
	OK         int           `json:"ok"`
	MissRate   float64       `json:"miss_rate"`
	DeadlineMS float64       `json:"deadline_ms"`
	P50        summary.Value `json:"p50_ms"`
	P95        summary.Value `json:"p95_ms"`
	P99        summary.Value `json:"p99_ms"`
	// CalibrationP50 and CalibrationP95 are the calibration arm's in the
	// same run; absent when the run had none.
	CalibrationP50 summary.Value `json:"calibration_p50_ms"`
	CalibrationP95 summary.Value `json:"calibration_p95_ms"`
	// AppShareP50 is P50 minus CalibrationP50: the arm's own share, apart
	// from the platform's (censored when P50 is).
	AppShareP50 summary.Value `json:"app_share_p50_ms"`
	// Verdict is the paired verdict of the arm's scenario in this run, on
	// the candidate arm.
	Verdict *Verdict `json:"verdict,omitempty"`
	// SLOsFailed names the arm's objectives this run did not meet.
	SLOsFailed []string `json:"slos_failed,omitempty"`
}

// MinRuns is how many runs a trend needs to show a change.
const MinRuns = 2

// Trends turns runs (as the store returns them: by suite, oldest first)
// into one trend per suite. With scenarios set, only those scenarios' arms
// (by scenario or arm name) and the calibration arms are kept.
func Trends(runs []Run, scenarios []string) []Trend {
	var out []Trend
	for i := 0; i < len(runs); {
		j := i
		for j < len(runs) && runs[j].Suite == runs[i].Suite {
			j++
		}
		out = append(out, trendOf(runs[i:j], scenarios))
		i = j
	}
	return out
}

func trendOf(runs []Run, scenarios []string) Trend {
	t := Trend{Suite: runs[0].Suite, Runs: []RunInfo{}, Series: []Series{}}
	series := map[string]int{}
	var cals []string
	for i := range runs {
		r := &runs[i]
		info := RunInfo{Run: r.ID, Started: r.Started, Meta: r.Meta, Harness: r.Harness, Host: r.Host, Verdict: r.Verdict, Guard: r.Guard}
		info.HostChanged = i > 0 && r.Host.Fingerprint != runs[i-1].Host.Fingerprint
		t.Runs = append(t.Runs, info)
		cal := r.calibration()
		if cal != nil && !slices.Contains(cals, cal.Name) {
			cals = append(cals, cal.Name)
		}
		for k := range r.Arms {
			a := &r.Arms[k]
			if !a.Calibration && len(scenarios) > 0 && !slices.Contains(scenarios, a.Scenario) && !slices.Contains(scenarios, a.Name) {
				continue
			}
			at, ok := series[a.Name]
			if !ok {
				at = len(t.Series)
				series[a.Name] = at
				t.Series = append(t.Series, Series{Arm: a.Name, Scenario: a.Scenario, Variant: a.Variant, Calibration: a.Calibration})
			}
			t.Series[at].Points = append(t.Series[at].Points, pointOf(i, r, a, cal))
		}
	}
	for i, c := range cals {
		if i > 0 {
			t.Calibration += ", "
		}
		t.Calibration += c
	}
	switch {
	case len(runs) < MinRuns:
		t.Notes = append(t.Notes, fmt.Sprintf("the history holds %d run of suite %s: a trend needs at least %d", len(runs), t.Suite, MinRuns))
	case t.Calibration == "":
		t.Notes = append(t.Notes, "no run has a calibration workload: a change of the platform cannot be told from a change of the apps")
	}
	if changed := hostChanges(t.Runs); changed > 0 {
		t.Notes = append(t.Notes, fmt.Sprintf("the host changed %d time(s) (engine, kernel, CPU or cores): figures on either side of a change are from different machines", changed))
	}
	return t
}

func hostChanges(rs []RunInfo) int {
	n := 0
	for _, r := range rs {
		if r.HostChanged {
			n++
		}
	}
	return n
}

// calibration is the run's (first) calibration arm, nil if it has none.
func (r *Run) calibration() *Arm {
	for i := range r.Arms {
		if r.Arms[i].Calibration {
			return &r.Arms[i]
		}
	}
	return nil
}

func pointOf(index int, r *Run, a, cal *Arm) Point {
	p := Point{Index: index, Run: r.ID, Image: a.Image, ImageID: a.ImageID, N: a.N, OK: a.OK, MissRate: a.MissRate(), DeadlineMS: a.DeadlineMS,
		P50: a.P50, P95: a.P95, P99: a.P99}
	if cal != nil {
		p.CalibrationP50, p.CalibrationP95 = cal.P50, cal.P95
		if cal.P50.Known && !a.Calibration {
			switch {
			case a.P50.Known:
				p.AppShareP50 = summary.Num(roundMS(a.P50.V - cal.P50.V))
			case a.P50.Censored:
				p.AppShareP50 = summary.Above(roundMS(a.P50.Bound - cal.P50.V))
			}
		}
	}
	// The verdict is the candidate's, against the baseline of the same pairs.
	if v := r.VerdictOf(a.Scenario); v != nil && a.Variant == "candidate" {
		vv := *v
		p.Verdict = &vv
	}
	for _, c := range r.SLOs {
		if c.Arm == a.Name && !c.Met {
			p.SLOsFailed = append(p.SLOsFailed, c.Objective)
		}
	}
	return p
}

// roundMS keeps microseconds, as the summary does.
func roundMS(v float64) float64 {
	const us = 1000
	if v < 0 {
		return -roundMS(-v)
	}
	return float64(int64(v*us+0.5)) / us
}
