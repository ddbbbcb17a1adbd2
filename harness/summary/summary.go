// Package summary turns per-start records into statistics: percentiles with
// misses right-censored at the deadline, cgroup distributions, enforced
// limits, import-time profiles and warnings. Computed once; reports render it.
package summary

import (
	"math"
	"slices"

	"github.com/coldstart/coldstart/harness/result"
)

// PercentileMethod names how every percentile here is computed.
const PercentileMethod = "linear interpolation between closest ranks (NumPy type 7, montanaflynn/stats v0.14.0 Percentile); misses right-censored"

// DefaultDeadlineMS is assumed when records carry no deadline.
const DefaultDeadlineMS = 3000

// Options describe the run the records come from.
type Options struct {
	Suite, Run  string
	Order       []string // scenario order; scenarios only in records follow in first-seen order
	Planned     int      // starts in the plan, all kinds; 0 if unknown
	Interrupted bool
	// Runs are the run ids of a merged run's shards: their records are
	// this run's, not another run's.
	Runs []string
}

// Summary is summary.json.
type Summary struct {
	Suite            string     `json:"suite"`
	Run              string     `json:"run"`
	PercentileMethod string     `json:"percentile_method"`
	Planned          int        `json:"planned"`
	Completed        int        `json:"completed"` // records, all kinds
	Interrupted      bool       `json:"interrupted"`
	Scenarios        []Scenario `json:"scenarios"`
	Warnings         []Warning  `json:"warnings"` // about the run as a whole
	Harness          *Cost      `json:"harness,omitempty"`
	Resumed          int        `json:"resumed,omitempty"` // times the run was resumed after an interruption
	// Paired is the paired comparison, when the run has paired scenarios.
	Paired *Paired `json:"paired,omitempty"`
	// SLOs are the suite's objectives checked on this run.
	SLOs []SLOCheck `json:"slos,omitempty"`

	// A merged run (coldstart merge): its shards (which are incomplete, and
	// which starts they miss), its figures per host, and the pooling
	// decisions. PerHost: the hosts do not agree, so Scenarios are one row
	// per arm and host and nothing is pooled across hosts.
	Shards  []result.MergedShard `json:"shards,omitempty"`
	Hosts   []Host               `json:"hosts,omitempty"`
	Pools   []Pool               `json:"pools,omitempty"`
	PerHost bool                 `json:"per_host,omitempty"`
}

// Cost is what the harness itself spent on the measured part of a run.
type Cost struct {
	Starts        int     `json:"starts"`
	CPUMS         float64 `json:"cpu_ms"`           // user+system CPU of the harness process
	CPUMSPerStart float64 `json:"cpu_ms_per_start"` // the target is <= 2 ms
	MaxRSSBytes   int64   `json:"max_rss_bytes"`
	WallMS        float64 `json:"wall_ms"`
}

// Scenario is the statistics of one scenario.
type Scenario struct {
	Name     string `json:"name"`               // the arm: "app", or "app [candidate]" for a paired scenario's variant
	Scenario string `json:"scenario,omitempty"` // of a variant: its scenario ("app")
	Variant  string `json:"variant,omitempty"`
	// Cell is the arm's point of a sweep ("cpus=0.2"), Sweep its values.
	Cell        string             `json:"cell,omitempty"`
	Sweep       []result.CellValue `json:"sweep,omitempty"`
	Host        string             `json:"host,omitempty"` // of a merged run's per-host row
	Image       string             `json:"image"`
	DeadlineMS  float64            `json:"deadline_ms"`
	N           int                `json:"n"`      // measured starts
	OK          int                `json:"ok"`     // measured starts that got ready
	Misses      Counts             `json:"misses"` // measured starts by non-ok outcome, zeros included
	NWarmup     int                `json:"n_warmup"`
	Malformed   int                `json:"malformed,omitempty"` // measured records that cannot be measured (ok without ready_ms), left out
	NDiagnostic int                `json:"n_diagnostic"`

	// Bursts are the arm's bursts (concurrency > 1): makespans and host.
	Bursts *Bursts `json:"bursts,omitempty"`

	ReadyMS  CensoredDist `json:"ready_ms"`
	SocketMS CensoredDist `json:"socket_ms"` // a miss whose socket appeared has a number
	// Serving is the work request's statistics (serving_ms), for an arm
	// whose starts send one.
	Serving *Serving `json:"serving,omitempty"`
	// Cgroup metrics over the measured starts that have a sample: at
	// readiness, or at the end for a miss.
	ThrottledMS      Dist  `json:"throttled_ms"`
	ThrottledPeriods Dist  `json:"throttled_periods"`
	CPUUsageMS       Dist  `json:"cpu_usage_ms"`
	MemoryPeak       Dist  `json:"memory_peak"` // bytes
	AttemptsP50      Value `json:"attempts_p50"`
	// DetectLagMS: healthy time seen by the harness minus the app's own
	// listen stamp, over the starts whose app reports one (ground truth).
	DetectLagMS Dist `json:"detect_lag_ms"`
	ProbeLagMS  Dist `json:"probe_lag_ms"` // healthy time minus the app's handler stamp: the detector alone
	// Contended counts measured starts taken while other work kept the host busy.
	Contended   int    `json:"contended"`
	Cache       string `json:"cache,omitempty"`
	Calibration bool   `json:"calibration,omitempty"`
	// AppShareP50MS is this scenario's p50 ready time minus the calibration
	// (null workload) scenario's: the app's share apart from the platform's.
	AppShareP50MS *Value `json:"app_share_p50_ms,omitempty"`

	Limits []result.Limit `json:"limits"` // enforced limits of the first start that has them
	// Hardening of the first start whose process was read back (else the
	// first that has one): its profile and each setting.
	Hardening *result.Hardening `json:"hardening,omitempty"`
	Imports   *Imports          `json:"imports,omitempty"`
	Warnings  []Warning         `json:"warnings"`
}

// Missed is the number of measured starts that did not get ready.
func (s *Scenario) Missed() int { return s.N - s.OK }

// Compute summarizes recs. Only Kind "measure" enters timing statistics.
func Compute(recs []result.Record, opt Options) *Summary {
	s := &Summary{
		Suite:            opt.Suite,
		Run:              opt.Run,
		PercentileMethod: PercentileMethod,
		Planned:          opt.Planned,
		Completed:        len(recs),
		Interrupted:      opt.Interrupted,
		Scenarios:        []Scenario{},
		Warnings:         []Warning{},
	}

	byName := map[string][]result.Record{}
	order := slices.Clone(opt.Order)
	for _, r := range recs {
		arm := r.Arm()
		if _, ok := byName[arm]; !ok && !slices.Contains(order, arm) {
			order = append(order, arm)
		}
		byName[arm] = append(byName[arm], r)
	}
	seen := map[string]bool{}
	for _, name := range order {
		if seen[name] {
			continue
		}
		seen[name] = true
		s.Scenarios = append(s.Scenarios, scenario(name, byName[name]))
	}
	appShare(s.Scenarios)
	s.Warnings = runWarnings(recs, opt)
	return s
}

func scenario(name string, recs []result.Record) Scenario {
	sc := Scenario{
		Name:     name,
		Limits:   []result.Limit{},
		Warnings: []Warning{},
	}
	var measured, diagnostic []result.Record
	for _, r := range recs {
		if sc.Image == "" {
			sc.Image = r.Image
		}
		if r.Variant != "" {
			sc.Scenario, sc.Variant = r.Scenario, r.Variant
		}
		if r.Cell != "" && sc.Cell == "" {
			sc.Scenario, sc.Cell, sc.Sweep = r.Scenario, r.Cell, r.Sweep
		}
		switch r.Kind {
		case result.KindMeasure:
			if _, ok := readyValue(&r); !ok {
				sc.Malformed++ // left out of every statistic, as compare does
				continue
			}
			measured = append(measured, r)
		case result.KindWarmup:
			sc.NWarmup++
		case result.KindDiagnostic:
			sc.NDiagnostic++
			diagnostic = append(diagnostic, r)
		}
	}
	sc.N = len(measured)
	sc.DeadlineMS = deadline(recs)

	var v samples
	sc.Misses = counts(v.collect(&sc, measured), result.Outcomes)
	sc.Serving = servingOf(measured, sc.DeadlineMS)
	sc.Bursts = burstsOf(measured)

	sc.ReadyMS = censoredDist(v.ready, sc.DeadlineMS)
	sc.SocketMS = censoredDist(v.socket, sc.DeadlineMS)
	sc.ThrottledMS = dist(v.throttled)
	sc.ThrottledPeriods = dist(v.periods)
	sc.CPUUsageMS = dist(v.cpu)
	sc.MemoryPeak = dist(v.mem)
	sc.DetectLagMS = dist(v.lag)
	sc.ProbeLagMS = dist(v.plag)
	if len(v.attempts) > 0 {
		sc.AttemptsP50 = Num(round(percentile(v.attempts, 50)))
	}

	limitsFrom := -1
	for i, r := range recs {
		if len(r.Limits) > 0 {
			sc.Limits = slices.Clone(r.Limits)
			limitsFrom = i
			break
		}
	}
	sc.Hardening = hardeningOf(recs)
	sc.Imports = imports(diagnostic, sc.ReadyMS.P50)
	sc.Warnings = scenarioWarnings(&sc, recs, limitsFrom)
	return sc
}

// hardeningOf picks the record that shows the most: the first whose
// container's process was read back, else the first with any.
func hardeningOf(recs []result.Record) *result.Hardening {
	var first *result.Hardening
	for i := range recs {
		h := recs[i].Hardening
		if h == nil {
			continue
		}
		if first == nil {
			first = h
		}
		for _, s := range h.Settings {
			if s.Name == result.SetNoNewPrivileges && s.Enforced != "" {
				return h
			}
		}
	}
	return first
}

// samples are a scenario's measured values, one slice per metric; +Inf
// marks a start censored at the deadline.
type samples struct {
	ready, socket, throttled, periods, cpu, mem, attempts, lag, plag []float64
}

// collect gathers the measured starts' values and counts into sc, and
// returns the misses by outcome.
func (v *samples) collect(sc *Scenario, measured []result.Record) map[result.Outcome]int {
	misses := map[result.Outcome]int{}
	for _, r := range measured {
		ok := r.Outcome == result.OK
		if ok {
			sc.OK++
		} else {
			misses[r.Outcome]++
		}
		switch {
		case ok && r.ReadyMS != nil:
			v.ready = append(v.ready, *r.ReadyMS)
		case !ok:
			v.ready = append(v.ready, math.Inf(1))
		}
		switch {
		case r.SocketMS != nil:
			v.socket = append(v.socket, *r.SocketMS)
		case !ok:
			v.socket = append(v.socket, math.Inf(1))
		}
		if c := r.Cgroup; c != nil {
			v.throttled = append(v.throttled, c.ThrottledMS)
			v.periods = append(v.periods, float64(c.ThrottledPeriods))
			v.cpu = append(v.cpu, c.CPUUsageMS)
			v.mem = append(v.mem, float64(c.MemoryPeak))
		}
		v.attempts = append(v.attempts, float64(r.Attempts))
		if r.DetectLagMS != nil {
			v.lag = append(v.lag, *r.DetectLagMS)
		}
		if r.ProbeLagMS != nil {
			v.plag = append(v.plag, *r.ProbeLagMS)
		}
		if r.Host != nil && r.Host.Contended {
			sc.Contended++
		}
		sc.Cache = r.Cache
		sc.Calibration = sc.Calibration || r.Calibration
	}
	return misses
}

// deadline is the first measured start's deadline, else any start's.
func deadline(recs []result.Record) float64 {
	for _, kind := range []result.Kind{result.KindMeasure, ""} {
		for _, r := range recs {
			if (kind == "" || r.Kind == kind) && r.DeadlineMS > 0 {
				return r.DeadlineMS
			}
		}
	}
	return DefaultDeadlineMS
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appShare sets, when the run has a calibration scenario, every other
// scenario's p50 ready time minus the calibration's. A censored p50 on either
// side leaves it unknown rather than a made-up number.
func appShare(scs []Scenario) {
	var cal *Scenario
	for i := range scs {
		if scs[i].Calibration {
			cal = &scs[i]
			break
		}
	}
	if cal == nil || !cal.ReadyMS.P50.Known {
		return
	}
	for i := range scs {
		sc := &scs[i]
		if sc.Calibration {
			continue
		}
		switch p := sc.ReadyMS.P50; {
		case p.Known:
			v := Num(round(p.V - cal.ReadyMS.P50.V))
			sc.AppShareP50MS = &v
		case p.Censored:
			v := Above(round(p.Bound - cal.ReadyMS.P50.V))
			sc.AppShareP50MS = &v
		}
	}
}
