// Package scenario parses and validates suite files into a Plan. It knows
// nothing of Docker: a Plan is data that the bench package executes.
package scenario

import (
	"strconv"
	"time"

	"github.com/coldstart/coldstart/harness/result"
)

// Seed defaults: the limits of the study this project comes from.
const (
	DefaultCPUQuota      = 10000  // microseconds per period: 10% of one CPU
	DefaultCPUPeriod     = 100000 // microseconds
	DefaultMemory        = 128 << 20
	DefaultMemorySwap    = 128 << 20
	DefaultKernelMemory  = 128 << 20
	DefaultDeadline      = 3 * time.Second
	DefaultSocket        = "/run/app/app.sock"
	DefaultRuns          = 20
	DefaultHealthPath    = "/"
	DefaultHealthMethod  = "GET"
	DefaultHealthStatus  = 200
	DefaultHealthTimeout = 500 * time.Millisecond
	DefaultServingStatus = 200
	// Fn's http-stream contract (contract: fn), as Fn's agent has it
	// (fnproject/fn api/agent: call.go, agent.go, config.go).
	FnSocket   = "/tmp/iofs/lsnr.sock" // FN_LISTENER's path; the host dir is mounted at /tmp/iofs
	FnDeadline = 5 * time.Second       // a function must listen within 5 s (FN_HOT_START_TIMEOUT_MSECS)
	FnMethod   = "POST"
	FnPath     = "/call"
	// fnSocketTarget is the private socket both FDKs bind beside the link
	// ("phony" + "lsnr.sock"): the longest host path the harness connects to.
	fnSocketTarget = "phonylsnr.sock"
	// MaxSunPath is the usable length of sun_path on Linux (108 bytes with the NUL).
	MaxSunPath = 107
)

// Suite is a validated suite file with defaults merged into every scenario.
type Suite struct {
	Name      string
	File      string // path as given
	Dir       string // absolute directory of the file: relative paths resolve against it
	Hash      string // sha256 of the file's bytes, hex
	Source    []byte // the file's bytes (a shard keeps a copy: a merge replans from it)
	Scenarios []Scenario
}

// Scenario is one app image and how to start and probe it.
type Scenario struct {
	Name  string
	Image string // image to run; with Build set, the tag the build produces
	Build *Build
	// Setup commands run once, in order, with `sh -c` in the suite's directory,
	// before any start of this scenario (e.g. compile a static binary).
	Setup      []string
	Entrypoint []string
	Command    []string
	Env        []string // KEY=VALUE, in file order
	User       string
	Security   Security
	Socket     string // absolute path of the app's Unix socket inside the container
	Health     Health
	// Serving is the work request sent once the app is ready (the first
	// real call); nil when the scenario has none.
	Serving *Serving
	// Contract is the platform contract the app is started under: "" (the
	// harness's own: health request on the socket) or result.ContractFn.
	Contract string
	Limits   Limits
	Deadline time.Duration
	Runs     int
	Warmup   int
	// ImportTime asks for this many extra diagnostic starts with
	// PYTHONPROFILEIMPORTTIME=1; they are journaled, never part of timing statistics.
	ImportTime int
	// Cache is the coldness level: CacheWarm leaves the page cache alone;
	// CacheDrop drops it before each start (needs root).
	Cache string
	// Calibration marks the null workload whose ready time is the
	// platform's share (engine + runtime + CFS) under these limits.
	Calibration bool
	// Variant is "" for a plain scenario; a paired scenario is two entries
	// of the same Name, VariantBaseline and VariantCandidate, whose measured
	// starts run in adjacent pairs.
	Variant string
	SLO     SLO
	Line    int // line of the scenario in the suite file
	// Concurrency is the burst size: each measured iteration starts this
	// many fresh containers at the same moment (0 or 1: one at a time).
	Concurrency int
	// Cell names this entry's point of a sweep ("cpus=0.2,memory=128m"):
	// "" for a scenario that sweeps nothing. A swept scenario is one entry
	// per cell, each with its concrete limits, deadline and concurrency.
	Cell string
	// Sweep is the cell's swept values in Cell's order, for reports that
	// plot against one of them.
	Sweep []result.CellValue
}

// Arm is the series this entry's starts form: "app", "app {cpus=0.2}", or
// "app [candidate]".
func (sc *Scenario) Arm() string { return result.ArmOf(sc.Name, sc.Cell, sc.Variant) }

// Swept reports whether the suite has a sweep or a burst.
func (s *Suite) Swept() bool {
	for _, sc := range s.Scenarios {
		if sc.Cell != "" || sc.Concurrency > 1 {
			return true
		}
	}
	return false
}

// Variants of a paired scenario.
const (
	VariantBaseline  = "baseline"
	VariantCandidate = "candidate"
)

// SLO are a scenario's service-level objectives on its measured starts.
// A zero duration is no objective on that percentile.
type SLO struct {
	P50, P90, P95, P99 time.Duration
	MissRate           float64 // largest share of misses, 0..1
	HasMissRate        bool    // a miss_rate objective was given (0% is one)
	// The same objectives on serving_ms and on serving misses.
	ServingP50, ServingP90, ServingP95, ServingP99 time.Duration
	ServingMissRate                                float64
	HasServingMissRate                             bool
}

// Any reports whether there is at least one objective.
func (o SLO) Any() bool {
	return o.P50 > 0 || o.P90 > 0 || o.P95 > 0 || o.P99 > 0 || o.HasMissRate || o.AnyServing()
}

// AnyServing reports whether there is an objective on serving.
func (o SLO) AnyServing() bool {
	return o.ServingP50 > 0 || o.ServingP90 > 0 || o.ServingP95 > 0 || o.ServingP99 > 0 || o.HasServingMissRate
}

// Build describes an image built locally through the engine API, never pulled.
type Build struct {
	Context    string            // absolute directory
	Dockerfile string            // relative to Context; default "Dockerfile"
	Args       map[string]string // build args
}

// Health is the request that decides readiness.
type Health struct {
	Method  string
	Path    string
	Status  int           // expected status code
	Body    string        // optional substring the body must contain
	Timeout time.Duration // per attempt; must exceed the 100 ms CFS period
}

// Serving is the work request: what a real caller sends first. It is sent
// once, with what remains of the deadline as its timeout (the first call may
// wait for an import; a retry would only queue behind it), and sent again
// only when the connection could not be made.
type Serving struct {
	Method   string
	Path     string
	Body     string   // request body, sent with Content-Length
	Headers  []Header // in file order
	Status   int      // expected status code
	Contains string   // substring the answer's body must contain; "" = any
}

// Header is one request header.
type Header struct{ Name, Value string }

// String describes the request for reports: "POST /work -> 200 containing \"work-done\"".
func (s *Serving) String() string {
	out := s.Method + " " + s.Path + " -> " + strconv.Itoa(s.Status)
	if s.Contains != "" {
		out += " containing " + strconv.Quote(s.Contains)
	}
	return out
}

// Limits are the resources requested for every start of a scenario. Zero means unset.
type Limits struct {
	CPUs         float64 // as written (or quota/period), for display
	CPUQuota     int64   // microseconds
	CPUPeriod    int64   // microseconds
	Memory       int64   // bytes
	MemorySwap   int64   // bytes, memory+swap; -1 unlimited
	KernelMemory int64   // bytes (requested; not enforced on cgroup v1 with kernel >= 5.x / runc >= 1.0)
	Pids         int64   // -1 unlimited; unset in the file: the profile's default (DefaultPids, FnPids)
	CPUShares    int64   // relative CPU weight (cpu.shares on v1; cpu.weight on v2); 0 = the engine's default
	CPUSet       string  // optional cpuset, e.g. "1"
}

// Confinement profiles a suite selects with security.profile.
const (
	// ProfileDefault is every start's baseline: no-new-privileges, a pids
	// limit, a capped log (bench), the engine's default capabilities and a
	// writable root filesystem, so that real servers (nginx dropping to its
	// worker user, say) start as they would anywhere.
	ProfileDefault = "default"
	// ProfileFn is the study's platform (Fn's agent): a read-only root
	// filesystem with a tmpfs /tmp, all capabilities dropped, a pids limit
	// of 50 and a limit on open files.
	ProfileFn = "fn"
)

// Profiles lists the profiles in documentation order.
var Profiles = []string{ProfileDefault, ProfileFn}

// What the profiles set.
const (
	DefaultPids = 256 // pids limit of every start whose suite sets none
	FnPids      = 50
	FnNoFile    = 1024       // RLIMIT_NOFILE, soft and hard
	FnTmpfs     = "size=64m" // options of the tmpfs at /tmp
	tmpfsTarget = "/tmp"     // where the fn profile mounts its tmpfs
)

// Security is how a scenario's containers are confined beyond the limits:
// its profile and what the suite adds to it. Every start also gets
// no-new-privileges; the bench records each setting as requested, as the
// engine recorded it and as the kernel holds it.
type Security struct {
	Profile      string
	ReadOnlyRoot bool
	Tmpfs        map[string]string // mount point -> tmpfs options
	CapDropAll   bool
	CapAdd       []string // capability names without CAP_, upper case, in file order
	NoFile       int64    // RLIMIT_NOFILE (soft = hard); 0 = the engine's default
}

// Coldness levels.
const (
	CacheWarm = "warm"
	CacheDrop = "drop"
)

// Start is one planned cold start.
type Start struct {
	Scenario  int // index in Suite.Scenarios
	Iteration int // 0-based within its kind
	Kind      result.Kind
	// Burst is, for a start of a burst (Concurrency > 1), the burst's number
	// within its scenario entry, from 1, and Index its place in the burst;
	// the starts of one burst are adjacent in the plan. 0: a lone start.
	Burst, Index int
}
