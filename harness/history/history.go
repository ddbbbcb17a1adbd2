// Package history is the vocabulary of the run history that nightly jobs
// keep: what a finished run leaves in it (its metadata, each arm's figures
// with censoring, the paired verdicts and the SLO checks) and the trends
// drawn from it. It is data only; the store (harness/history/store) keeps
// it in SQLite, and a run's own files stay the source of truth: an entry is
// derived from them and can be derived again.
package history

import (
	"maps"
	"time"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// Run is one finished run as the history keeps it.
type Run struct {
	ID        string            `json:"run"`
	Suite     string            `json:"suite"`
	SuiteFile string            `json:"suite_file"`
	SuiteHash string            `json:"suite_hash"`
	Started   time.Time         `json:"started"`
	Recorded  time.Time         `json:"recorded"` // when the entry was written
	Harness   string            `json:"harness_version"`
	GoVersion string            `json:"go_version"`
	Host      Host              `json:"host"`
	Meta      map[string]string `json:"meta,omitempty"` // what the job passed in: commit, image digests, ...
	Planned   int               `json:"planned"`
	Completed int               `json:"completed"`
	Resumed   int               `json:"resumed"`
	// Verdict is the paired comparison's verdict of the whole run, "" for a
	// run without paired scenarios.
	Verdict string       `json:"verdict,omitempty"`
	Gate    *result.Gate `json:"gate,omitempty"` // the rule the verdicts were drawn with
	// Guard is the paired run's stability guard, nil for a run without pairs.
	Guard    *Guard    `json:"guard,omitempty"`
	Arms     []Arm     `json:"arms"`
	Verdicts []Verdict `json:"verdicts,omitempty"`
	SLOs     []SLO     `json:"slos,omitempty"`
}

// Host is the machine and engine a run measured on.
type Host struct {
	Fingerprint   string `json:"fingerprint"`
	EngineVersion string `json:"engine_version"`
	APIVersion    string `json:"api_version"`
	Runtime       string `json:"runtime"`
	CgroupVersion string `json:"cgroup_version"`
	CgroupDriver  string `json:"cgroup_driver"`
	Kernel        string `json:"kernel"`
	CPUModel      string `json:"cpu_model"`
	Cores         int    `json:"cores"`
}

// Guard is the stability guard of a paired run: the calibration's drift
// between the halves of the run and the share of contended paired starts.
type Guard struct {
	OK             bool        `json:"ok"`
	DriftPct       summary.Pct `json:"calibration_drift_pct"` // NaN without a calibration workload
	ContendedShare float64     `json:"contended_share"`
	Reasons        []string    `json:"reasons,omitempty"`
}

// Arm is one series of a run's starts (a scenario, or one variant of a
// paired scenario): its ready_ms figures, censored where misses decide
// them, and the limits it ran under.
type Arm struct {
	Name        string  `json:"name"`
	Scenario    string  `json:"scenario"`
	Variant     string  `json:"variant,omitempty"`
	Image       string  `json:"image"`
	ImageID     string  `json:"image_id,omitempty"` // the engine's id of Image when the run recorded it
	Calibration bool    `json:"calibration,omitempty"`
	DeadlineMS  float64 `json:"deadline_ms"`
	N           int     `json:"n"`  // measured starts
	OK          int     `json:"ok"` // of which got ready
	Contended   int     `json:"contended"`
	// P50, P95 and P99 of ready_ms: a number, censored (> bound), or absent.
	P50 summary.Value `json:"p50_ms"`
	P95 summary.Value `json:"p95_ms"`
	P99 summary.Value `json:"p99_ms"`
	// Limits are the enforced limits of the arm's first start that has them.
	Limits []result.Limit `json:"limits,omitempty"`
}

// Missed is the number of measured starts that did not get ready.
func (a *Arm) Missed() int { return a.N - a.OK }

// MissRate is the share of measured starts that missed, 0 without starts.
func (a *Arm) MissRate() float64 {
	if a.N == 0 {
		return 0
	}
	return float64(a.Missed()) / float64(a.N)
}

// Verdict is one paired scenario's verdict.
type Verdict struct {
	Scenario            string      `json:"scenario"`
	Verdict             string      `json:"verdict"`
	Reason              string      `json:"reason"`
	Pairs               int         `json:"pairs"`
	ChangePct           summary.Pct `json:"change_pct"`
	CILowPct            summary.Pct `json:"ci_low_pct"`
	CIHighPct           summary.Pct `json:"ci_high_pct"`
	PSlower             float64     `json:"p_slower"`
	PSlowerHolm         float64     `json:"p_slower_holm"`
	BaselineOnlyMisses  int         `json:"baseline_only_misses"`
	CandidateOnlyMisses int         `json:"candidate_only_misses"`
	BothMissed          int         `json:"both_missed"`
	MissP               float64     `json:"miss_p"`
	MissPHolm           float64     `json:"miss_p_holm"`
}

// SLO is one objective of one arm, checked on the run.
type SLO struct {
	Arm       string        `json:"arm"`
	Objective string        `json:"objective"`
	Observed  summary.Value `json:"observed"`
	Target    float64       `json:"target"`
	Met       bool          `json:"met"`
	Reason    string        `json:"reason,omitempty"`
}

// FromRun is the history entry of a finished run: its manifest and summary,
// and what the job passed in (meta). Nothing is measured here.
func FromRun(m result.Manifest, s *summary.Summary, meta map[string]string) Run {
	r := Run{
		ID: m.Run, Suite: m.Suite, SuiteFile: m.SuiteFile, SuiteHash: m.SuiteHash,
		Started: m.Started, Harness: m.Harness, GoVersion: m.GoVersion,
		Host: Host{
			Fingerprint: m.Fingerprint, EngineVersion: m.Engine.EngineVersion, APIVersion: m.Engine.APIVersion,
			Runtime: m.Engine.Runtime, CgroupVersion: m.Engine.CgroupVersion, CgroupDriver: m.Engine.CgroupDriver,
			Kernel: m.Kernel, CPUModel: m.CPUModel, Cores: m.Cores,
		},
		Meta:    maps.Clone(meta),
		Planned: s.Planned, Completed: s.Completed, Resumed: s.Resumed,
		Arms: []Arm{},
	}
	if r.ID == "" {
		r.ID = s.Run
	}
	if r.Suite == "" {
		r.Suite = s.Suite
	}
	for i := range s.Scenarios {
		r.Arms = append(r.Arms, armOf(&s.Scenarios[i]))
	}
	if p := s.Paired; p != nil {
		g := p.Options
		r.Verdict, r.Gate = p.Verdict, &g
		r.Guard = &Guard{OK: p.Guard.OK, DriftPct: p.Guard.DriftPct, ContendedShare: p.Guard.ContendedShare, Reasons: p.Guard.Reasons}
		for _, v := range p.Scenarios {
			r.Verdicts = append(r.Verdicts, Verdict{
				Scenario: v.Name, Verdict: v.Verdict, Reason: v.Reason, Pairs: v.Pairs,
				ChangePct: v.ChangePct, CILowPct: v.CILowPct, CIHighPct: v.CIHighPct,
				PSlower: v.P, PSlowerHolm: v.PHolm,
				BaselineOnlyMisses: v.BaselineOnlyMisses, CandidateOnlyMisses: v.CandidateOnlyMisses, BothMissed: v.BothMissed,
				MissP: v.MissP, MissPHolm: v.MissPHolm,
			})
		}
	}
	for _, c := range s.SLOs {
		r.SLOs = append(r.SLOs, SLO{Arm: c.Arm, Objective: c.Objective, Observed: c.Observed, Target: c.Target, Met: c.Met, Reason: c.Reason})
	}
	return r
}

func armOf(sc *summary.Scenario) Arm {
	a := Arm{
		Name: sc.Name, Scenario: sc.Scenario, Variant: sc.Variant, Image: sc.Image, Calibration: sc.Calibration,
		DeadlineMS: sc.DeadlineMS, N: sc.N, OK: sc.OK, Contended: sc.Contended,
		P50: sc.ReadyMS.P50, P95: sc.ReadyMS.P95, P99: sc.ReadyMS.P99,
		Limits: sc.Limits,
	}
	if a.Scenario == "" {
		a.Scenario = sc.Name
	}
	return a
}

// SetImageIDs fills each arm's image id from ids (image reference → id).
func (r *Run) SetImageIDs(ids map[string]string) {
	for i := range r.Arms {
		if id := ids[r.Arms[i].Image]; id != "" {
			r.Arms[i].ImageID = id
		}
	}
}

// VerdictOf returns the paired verdict of a scenario, nil if it has none.
func (r *Run) VerdictOf(scenario string) *Verdict {
	for i := range r.Verdicts {
		if r.Verdicts[i].Scenario == scenario {
			return &r.Verdicts[i]
		}
	}
	return nil
}
