package result

import (
	"fmt"
	"time"
)

// Manifest describes a run: what was measured, with what, on what. It is
// manifest.json in the run directory.
type Manifest struct {
	Run           string    `json:"run"`
	Suite         string    `json:"suite"`
	SuiteFile     string    `json:"suite_file"`
	SuiteHash     string    `json:"suite_hash"`
	Harness       string    `json:"harness_version"`
	GoVersion     string    `json:"go_version"`
	GOARCH        string    `json:"goarch"`
	Started       time.Time `json:"started"`
	Args          []string  `json:"args"`
	Owner         string    `json:"owner"`
	Engine        Engine    `json:"engine"`
	CgroupVersion int       `json:"cgroup_version"` // as the harness reads it (hybrid counts as 1)
	Kernel        string    `json:"kernel"`
	CPUModel      string    `json:"cpu_model"`
	Cores         int       `json:"cores"`
	SocketBase    string    `json:"socket_base"`
	// SocketMount describes the socket base's file system, e.g. "tmpfs
	// nosuid,nodev,noexec (mounted by coldstart)".
	SocketMount string `json:"socket_mount,omitempty"`
	// Warnings are the run's findings before any start (a socket base that
	// is not a nosuid tmpfs, a build context outside the suite's directory).
	Warnings  []string          `json:"warnings,omitempty"`
	Planned   int               `json:"planned"`
	Scenarios []string          `json:"scenarios"`
	Overrides map[string]string `json:"overrides,omitempty"`
	PlanOrder string            `json:"plan_order"`
	PlanSeed  int64             `json:"plan_seed"`      // draws the order within each pair; a resume replans with it
	Gate      Gate              `json:"gate"`           // the paired verdict's rule
	SLOs      map[string]SLO    `json:"slos,omitempty"` // per arm
	// Serving names each arm's work request ("POST /work, 200 containing
	// work-done"), for the arms that have one.
	Serving     map[string]string `json:"serving,omitempty"`
	Detection   string            `json:"detection"`
	SuiteAbs    string            `json:"suite_abs"`
	Fingerprint string            `json:"host_fingerprint"`
	Resumes     []Resume          `json:"resumes,omitempty"`
	// Shard says which part of a plan this run measured, when the plan was
	// split across hosts (coldstart run --shard); nil for a whole plan.
	Shard *Shard `json:"shard,omitempty"`
	// InstanceType is the kind of host (a node label), for figures per type.
	InstanceType string `json:"instance_type,omitempty"`
	// Merged describes a run merged from shards (coldstart merge).
	Merged *Merged `json:"merged,omitempty"`
}

// Shard is one part of a plan: Index of Count (1..Count), all shards
// sharing the suite and the plan seed.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
	// Node is the swarm node that ran it, when a coordinator knows it.
	Node string `json:"node,omitempty"`
}

// String is "i/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Merged is what a merged run was made of: each shard of the plan, found
// or not, and the rule that decides which hosts' figures may be pooled.
type Merged struct {
	Shards []MergedShard `json:"shards"`
	// MaxHostSpreadPct: hosts agree when their reference arms' p50s are
	// within this percent of each other (slowest over fastest).
	MaxHostSpreadPct float64 `json:"max_host_spread_pct"`
}

// MergedShard is one shard of a merged run.
type MergedShard struct {
	Shard        Shard  `json:"shard"`
	Dir          string `json:"dir,omitempty"` // where it was read from; "" when it never reported
	Run          string `json:"run,omitempty"`
	Host         string `json:"host,omitempty"` // short name: the engine's host name
	Fingerprint  string `json:"host_fingerprint,omitempty"`
	InstanceType string `json:"instance_type,omitempty"`
	Planned      int    `json:"planned"`
	Completed    int    `json:"completed"`
	Interrupted  bool   `json:"interrupted,omitempty"`
	// Missing lists the planned starts the shard has no record of.
	Missing []Missing `json:"missing,omitempty"`
	// Reason says why the shard is incomplete, as far as known.
	Reason string `json:"reason,omitempty"`
}

// Complete reports whether every planned start of the shard has a record.
func (s MergedShard) Complete() bool { return s.Run != "" && len(s.Missing) == 0 }

// Missing are the iterations of one arm and kind that have no record.
type Missing struct {
	Arm        string `json:"arm"`
	Kind       Kind   `json:"kind"`
	Iterations []int  `json:"iterations"`
}

// Resume records one continuation of an interrupted run.
type Resume struct {
	Time    time.Time `json:"time"`
	Owner   string    `json:"owner"`
	Forced  bool      `json:"forced"`
	Reasons []string  `json:"reasons,omitempty"` // what changed, when forced
	Skipped int       `json:"skipped"`           // starts already in the journal
	// Tag names this session's containers and socket dirs: a fresh one per
	// resume, so that a copy of a run directory resumed beside the original
	// never touches the original's.
	Tag string `json:"tag,omitempty"`
}

// Engine describes the container engine and the machine under it.
type Engine struct {
	Name          string   `json:"name,omitempty"` // the engine host's name
	ID            string   `json:"id,omitempty"`   // the engine's ID (engines sharing a key file share it)
	EngineVersion string   `json:"engine_version"`
	APIVersion    string   `json:"api_version"`
	ClientAPI     string   `json:"client_api_version"`
	Runtime       string   `json:"runtime"`
	CgroupVersion string   `json:"cgroup_version"`
	CgroupDriver  string   `json:"cgroup_driver"`
	Kernel        string   `json:"kernel"`
	OS            string   `json:"os"`
	CPUs          int      `json:"cpus"`
	MemoryBytes   int64    `json:"memory_bytes"`
	StorageDriver string   `json:"storage_driver"`
	SwapLimit     bool     `json:"swap_limit"`
	KernelMemory  bool     `json:"kernel_memory"`
	Warnings      []string `json:"warnings,omitempty"`
}

// Fingerprint identifies the host a run measured: resuming on another host
// (or after an engine or kernel upgrade) would mix two machines in one run.
// The engine's host name tells the machines of a fleet apart: they are
// otherwise often identical.
func Fingerprint(e Engine, kernel, cpu string, cores int) string {
	host := ""
	if e.Name != "" {
		host = "host " + e.Name + "; "
	}
	return fmt.Sprintf("%sengine %s; api %s; cgroup v%s %s; kernel %s; cpu %s x%d",
		host, e.EngineVersion, e.APIVersion, e.CgroupVersion, e.CgroupDriver, kernel, cpu, cores)
}

// Gate is the paired verdict's rule, recorded in the manifest so that a
// report of the run draws the same verdict. The zero value takes the defaults.
type Gate struct {
	// ThresholdPct: a change counts only beyond ±this percent.
	ThresholdPct float64 `json:"threshold_pct"`
	// Confidence of the intervals and tests, family-wise over the paired
	// scenarios (Bonferroni for the intervals, Holm for the p-values).
	Confidence float64 `json:"confidence"`
	// MaxDriftPct: the calibration workload's p50 may move this much between
	// the halves of the run before the verdict is inconclusive.
	MaxDriftPct float64 `json:"max_calibration_drift_pct"`
	// MaxContendedShare: the share of paired starts that may run under
	// contention before the verdict is inconclusive.
	MaxContendedShare float64 `json:"max_contended_share"`
	// Metric the verdict is drawn on: MetricReady (the default) or
	// MetricServing (the first work answer, for scenarios that send one).
	Metric string `json:"metric,omitempty"`
}

// Metrics a paired verdict can be drawn on.
const (
	MetricReady   = "ready"
	MetricServing = "serving"
)

// Default gate rule.
const (
	DefaultThresholdPct      = 5
	DefaultConfidence        = 0.95
	DefaultMaxDriftPct       = 25
	DefaultMaxContendedShare = 0.2
)

// WithDefaults fills the unset fields.
func (g Gate) WithDefaults() Gate {
	if g.ThresholdPct <= 0 {
		g.ThresholdPct = DefaultThresholdPct
	}
	if g.Confidence <= 0 || g.Confidence >= 1 {
		g.Confidence = DefaultConfidence
	}
	if g.MaxDriftPct <= 0 {
		g.MaxDriftPct = DefaultMaxDriftPct
	}
	if g.MaxContendedShare <= 0 {
		g.MaxContendedShare = DefaultMaxContendedShare
	}
	if g.Metric == "" {
		g.Metric = MetricReady
	}
	return g
}

// SLO are an arm's service-level objectives on its measured starts, as the
// suite set them: a percentile of ready_ms under a bound (ms, 0 = none), and
// the largest share of misses; the same on serving_ms and serving misses.
type SLO struct {
	P50MS       float64 `json:"p50_ms,omitempty"`
	P90MS       float64 `json:"p90_ms,omitempty"`
	P95MS       float64 `json:"p95_ms,omitempty"`
	P99MS       float64 `json:"p99_ms,omitempty"`
	MissRate    float64 `json:"miss_rate"`
	HasMissRate bool    `json:"has_miss_rate"`

	ServingP50MS       float64 `json:"serving_p50_ms,omitempty"`
	ServingP90MS       float64 `json:"serving_p90_ms,omitempty"`
	ServingP95MS       float64 `json:"serving_p95_ms,omitempty"`
	ServingP99MS       float64 `json:"serving_p99_ms,omitempty"`
	ServingMissRate    float64 `json:"serving_miss_rate,omitempty"`
	HasServingMissRate bool    `json:"has_serving_miss_rate,omitempty"`
}
