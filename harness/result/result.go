// Package result holds the per-start record: the interchange format between
// the bench (which measures), the journal (which keeps) and the summaries and
// reports (which render). Measure once, render many times.
package result

import "time"

// Kind of start: only measured starts enter timing statistics.
type Kind string

// Kinds of start.
const (
	KindWarmup     Kind = "warmup"     // recorded, excluded from statistics
	KindMeasure    Kind = "measure"    // the statistics
	KindDiagnostic Kind = "diagnostic" // import profiling; perturbed, never in timing statistics
)

// Kinds lists every kind in plan order.
var Kinds = []Kind{KindWarmup, KindMeasure, KindDiagnostic}

// Outcome of one start.
type Outcome string

// Outcomes. Every start ends in exactly one of them and every one is journaled.
const (
	OK                Outcome = "ok"
	DeadlineExceeded  Outcome = "deadline_exceeded"
	ExitedBeforeReady Outcome = "exited_before_ready"
	OOMKilled         Outcome = "oom_killed"
	StartFailed       Outcome = "start_failed"
	EngineError       Outcome = "engine_error"
	// ContractViolation: under a platform contract (contract: fn) the app
	// signalled readiness in a way the platform rejects (Fn's agent: a
	// listener link that is not relative, leaves its directory, or does not
	// lead to a socket). The start fails at once, as on the platform.
	ContractViolation Outcome = "contract_violation"
)

// OOMSource is the evidence of an OOM kill.
type OOMSource string

// Where an OOM kill was learnt.
const (
	// OOMFromEngine: the engine's State.OOMKilled.
	OOMFromEngine OOMSource = "engine"
	// OOMFromCgroup: the container's cgroup counted an OOM kill (v1
	// memory.oom_control, v2 memory.events) when the harness sampled it.
	OOMFromCgroup OOMSource = "cgroup"
	// OOMFromKernel: the engine did not flag it; the kernel's log reported
	// an OOM kill of a process in the container's memory cgroup.
	OOMFromKernel OOMSource = "kernel_log"
)

// Outcomes lists every outcome of a start in report order.
var Outcomes = []Outcome{OK, DeadlineExceeded, ExitedBeforeReady, OOMKilled, StartFailed, EngineError, ContractViolation}

// Serving outcomes only, of a start that got ready.
const (
	// CallFailed: the work request got another answer than the expected one
	// (status, body), or its connection ended without an answer. It is
	// sent once: a failed call is a failed first call.
	CallFailed Outcome = "call_failed"
	// ExitedBeforeServing: the app exited before it answered the work request.
	ExitedBeforeServing Outcome = "exited_before_serving"
)

// ServingOutcomes lists every serving outcome in report order. A start
// that did not get ready has its own outcome as its serving outcome: the
// reason it has no serving time.
var ServingOutcomes = []Outcome{OK, DeadlineExceeded, CallFailed, ExitedBeforeServing, ExitedBeforeReady, OOMKilled, StartFailed, EngineError, ContractViolation}

// Contracts a scenario can run under: how the platform starts the app and
// learns it is ready.
const (
	ContractFn = "fn" // Fn's http-stream: FN_* environment, /tmp/iofs/lsnr.sock link, POST /call
)

// Version of the record schema. 2: limits are numbers (Amount), not text.
const Version = 2

// Record is one line of runs.jsonl: one cold start, whatever its outcome.
// Durations are float milliseconds measured on the harness's monotonic clock
// from t0 (the instant before the start call); nil means "did not happen".
type Record struct {
	V        int    `json:"v"`
	Run      string `json:"run"`
	Scenario string `json:"scenario"`
	Variant  string `json:"variant,omitempty"` // baseline | candidate, for a paired scenario
	// Cell is the start's point of a sweep ("cpus=0.2,memory=128m"), and
	// Sweep its values; absent for a scenario that sweeps nothing.
	Cell  string      `json:"cell,omitempty"`
	Sweep []CellValue `json:"sweep,omitempty"`
	// Burst places a start of a burst (concurrency > 1); nil for a lone start.
	Burst     *Burst    `json:"burst,omitempty"`
	Kind      Kind      `json:"kind"`
	Iteration int       `json:"iter"`
	Seq       int       `json:"seq"`  // position in the run's plan
	Time      time.Time `json:"time"` // wall clock at t0
	Container string    `json:"container,omitempty"`
	Image     string    `json:"image"`

	Outcome Outcome `json:"outcome"`
	Error   string  `json:"error,omitempty"`

	CreateMS    float64  `json:"create_ms"`
	StartCallMS float64  `json:"start_call_ms"`
	SocketMS    *float64 `json:"socket_ms,omitempty"`
	ReadyMS     *float64 `json:"ready_ms,omitempty"`
	ExitMS      *float64 `json:"exit_ms,omitempty"` // t0 -> exit seen, for starts that ended early
	RemoveMS    float64  `json:"remove_ms"`
	Attempts    int      `json:"attempts"`
	LastStatus  int      `json:"last_status,omitempty"` // last HTTP status seen
	// DetectLagMS is the harness's healthy time minus the CLOCK_MONOTONIC
	// instant the app reported it started listening (apps that report it).
	// Both lags rest on a stamp the app wrote: app-reported, not measured.
	DetectLagMS *float64 `json:"detect_lag_ms,omitempty"`
	// ProbeLagMS is the healthy time minus the instant the app's handler
	// ran: the detector's own share, without the app being throttled
	// between listen() and answering.
	ProbeLagMS *float64 `json:"probe_lag_ms,omitempty"`
	DeadlineMS float64  `json:"deadline_ms"`

	// StartedAt is the engine's State.StartedAt; its meaning depends on the
	// engine version, so it is secondary data. StartedAtMS is it minus the wall t0.
	StartedAt   *time.Time `json:"started_at,omitempty"`
	StartedAtMS *float64   `json:"started_at_ms,omitempty"`
	ExitCode    *int       `json:"exit_code,omitempty"`
	OOMKilled   bool       `json:"oom_killed,omitempty"`
	// OOMFrom says who told of the OOM kill: the engine's flag, the
	// cgroup's own counter, or the kernel's log.
	OOMFrom OOMSource `json:"oom_from,omitempty"`
	LogTail string    `json:"log_tail,omitempty"`

	Cache       string    `json:"cache,omitempty"` // warm | drop: the coldness level
	Calibration bool      `json:"calibration,omitempty"`
	Host        *HostLoad `json:"host,omitempty"` // interference during the start

	// Serving is the scenario's work request (the first real call), sent
	// once the app is ready: absent when the scenario has none.
	// ServingOutcome is ok, or why there is no serving_ms: a start that did
	// not get ready has its own outcome here; a ready start deadline_exceeded,
	// call_failed, exited_before_serving, oom_killed or engine_error.
	// Outcome stays about readiness.
	ServingMS       *float64 `json:"serving_ms,omitempty"` // t0 -> the first expected answer to the work request
	ServingOutcome  Outcome  `json:"serving_outcome,omitempty"`
	ServingError    string   `json:"serving_error,omitempty"`
	ServingAttempts int      `json:"serving_attempts,omitempty"` // requests sent: 1, more only after a connection error
	ServingStatus   int      `json:"serving_status,omitempty"`   // status of the last answer to the work request
	// Contract is the platform contract the start ran under ("fn"), and
	// CallID the Fn-Call-Id its call carried.
	Contract string `json:"contract,omitempty"`
	CallID   string `json:"call_id,omitempty"`

	Cgroup        *Sample `json:"cgroup,omitempty"`         // at readiness (or at the end for a miss)
	ServingCgroup *Sample `json:"serving_cgroup,omitempty"` // at the work answer
	Limits        []Limit `json:"limits,omitempty"`         // requested vs observed vs enforced
	// Hardening is the confinement beyond the limits, requested vs observed vs enforced.
	Hardening *Hardening `json:"hardening,omitempty"`
	// VerifiedAt is the seq of the start of the same scenario whose
	// read-back of the enforced limits and hardening this healthy start
	// carries (see Runner.VerifyEveryStart); absent when it read its own.
	VerifiedAt *int     `json:"verified_at_seq,omitempty"`
	Imports    *Imports `json:"imports,omitempty"` // diagnostic starts only

	// Where the start ran, stamped by a merge of shards (coldstart merge):
	// the host's short name and fingerprint, its instance type, the shard.
	Node            string `json:"node,omitempty"`
	HostFingerprint string `json:"host_fingerprint,omitempty"`
	InstanceType    string `json:"instance_type,omitempty"`
	Shard           string `json:"shard,omitempty"` // "i/N"
}

// CellValue is one swept key's value: the key (cpus, cpu_quota, memory,
// cpu_shares, deadline, concurrency), the value as written, and as a number
// (CPUs, µs, bytes, shares, milliseconds, containers).
type CellValue struct {
	Key    string  `json:"key"`
	Text   string  `json:"text"`
	Number float64 `json:"number"`
}

// Burst is a start's place in a burst: Size containers created beforehand
// and started at the same moment.
type Burst struct {
	ID    int `json:"id"` // the seq of the burst's first start: unique in a run
	Index int `json:"index"`
	Size  int `json:"size"`
	// OffsetMS is this start's t0 minus the burst's first t0 (monotonic):
	// the burst's makespan is the largest OffsetMS + ready_ms (or deadline).
	OffsetMS float64 `json:"offset_ms"`
	// Host is the host's state over the burst (the same on every start of it).
	Host *BurstHost `json:"host,omitempty"`
}

// BurstHost is the host's state sampled when a burst was released and when
// its last start ended.
type BurstHost struct {
	Load1Before float64 `json:"load1_before"`
	Load1After  float64 `json:"load1_after"`
	// CPUSomeAvg10 is /proc/pressure/cpu "some avg10" at the end (% of time
	// some task waited for a CPU over 10 s); nil where the kernel has no PSI.
	CPUSomeAvg10 *float64 `json:"cpu_some_avg10,omitempty"`
	// CPUSomeUS is the growth of the "some" stall total over the burst, µs.
	CPUSomeUS *float64 `json:"cpu_some_us,omitempty"`
	WallMS    float64  `json:"wall_ms"` // release to the last start's end
}

// Sample is what the container's cgroup held at one instant.
type Sample struct {
	CgroupVersion     int     `json:"cgroup_version"`
	CPUUsageMS        float64 `json:"cpu_usage_ms"`
	Periods           uint64  `json:"periods"`
	ThrottledPeriods  uint64  `json:"throttled_periods"`
	ThrottledMS       float64 `json:"throttled_ms"`
	MemoryUsage       uint64  `json:"memory_usage"`
	MemoryPeak        uint64  `json:"memory_peak"`
	MemSwapPeak       uint64  `json:"memsw_peak,omitempty"`
	KernelMemoryUsage uint64  `json:"kmem_usage,omitempty"`
	OOMKills          uint64  `json:"oom_kills"`
}

// HostLoad is what else the host was doing during a start (create to
// readiness or the end).
type HostLoad struct {
	Load1           float64 `json:"load1"`
	OtherBusyPct    float64 `json:"other_busy_pct"`  // CPU used by neither the container, the harness nor the engine, % of all cores
	EngineBusyPct   float64 `json:"engine_busy_pct"` // the engine's (dockerd, containerd, the start's shim and runc), % of all cores
	StealPct        float64 `json:"steal_pct"`
	OtherContainers int     `json:"other_containers"` // container cgroups beside this one
	Contended       bool    `json:"contended"`
}

// Imports is the parsed PYTHONPROFILEIMPORTTIME output of a diagnostic
// start: app-reported (the app's interpreter wrote it on stderr).
type Imports struct {
	TotalUS   int64    `json:"total_us"` // sum of self times
	Modules   []Module `json:"modules"`  // top modules by cumulative time
	Malformed int      `json:"malformed,omitempty"`
}

// Module is one line of the import profile.
type Module struct {
	Name         string `json:"name"`
	SelfUS       int64  `json:"self_us"`
	CumulativeUS int64  `json:"cumulative_us"`
	Depth        int    `json:"depth"`
}

// Arm names a series of starts: a scenario, or one variant of a paired
// scenario ("app [candidate]"). Statistics are per arm.
func Arm(scenario, variant string) string {
	if variant == "" {
		return scenario
	}
	return scenario + " [" + variant + "]"
}

// ArmOf names the series of a scenario's cell and variant: "app",
// "app {cpus=0.2}", "app [candidate]".
func ArmOf(scenario, cell, variant string) string {
	if cell != "" {
		scenario += " {" + cell + "}"
	}
	return Arm(scenario, variant)
}

// Arm is the series the record belongs to.
func (r *Record) Arm() string { return ArmOf(r.Scenario, r.Cell, r.Variant) }

// HasServing reports whether the start was to send a work request: the
// serving statistics cover only such starts.
func (r *Record) HasServing() bool { return r.ServingOutcome != "" }

// F returns a pointer to v, for the optional fields.
func F(v float64) *float64 { return &v }

// MS is a duration in float milliseconds, the unit of every record field.
func MS(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
