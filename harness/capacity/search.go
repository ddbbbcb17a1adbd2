package capacity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/coldstart/coldstart/harness/result"
)

// DefaultCPUGrid is the quotas a search tries, in CPUs.
var DefaultCPUGrid = []float64{0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2}

// DefaultMemoryGrid is the memory limits a memory search tries, in bytes.
var DefaultMemoryGrid = []int64{16 << 20, 24 << 20, 32 << 20, 48 << 20, 64 << 20, 96 << 20, 128 << 20, 192 << 20, 256 << 20, 512 << 20}

// Defaults of Options.
const (
	DefaultConfidence  = 0.95
	DefaultBatch       = 5
	DefaultMaxPerProbe = 60
)

// Point is one place on the grids: a CPU quota and, in a memory search, a
// memory limit (0: the scenario's own).
type Point struct {
	CPUs   float64 `json:"cpus"`
	Memory int64   `json:"memory,omitempty"`
}

// Cell names the point the way a sweep's cell does: "cpus=0.2,memory=64m".
func (p Point) Cell() string {
	s := "cpus=" + fmtCPUs(p.CPUs)
	if p.Memory > 0 {
		s += ",memory=" + FormatMemory(p.Memory)
	}
	return s
}

// Sampler brings n more measured starts of a scenario at a point; a start
// that misses (deadline, crash, OOM kill) is a record like any other.
type Sampler interface {
	Sample(ctx context.Context, scenario string, p Point, n int) ([]result.Record, error)
}

// Options of a search.
type Options struct {
	Objective   Objective
	Confidence  float64   // of each probe's decision; default DefaultConfidence
	Batch       int       // starts per round of a probe; default DefaultBatch
	MaxPerProbe int       // cap on a probe's starts; undecided at the cap counts as misses
	CPUGrid     []float64 // ascending; default DefaultCPUGrid
	// MemoryGrid, when set, searches memory too, at the CPU answer.
	MemoryGrid []int64
	// Recheck re-measures the answer point at the end of a scenario's
	// search: a verdict that changed is a warning (the host drifted).
	Recheck bool
	// Progress, when set, hears of each decided probe.
	Progress func(scenario string, p Probe)
}

func (o *Options) defaults() {
	if o.Confidence == 0 {
		o.Confidence = DefaultConfidence
	}
	if o.Batch == 0 {
		o.Batch = DefaultBatch
	}
	if o.MaxPerProbe == 0 {
		o.MaxPerProbe = DefaultMaxPerProbe
	}
	if len(o.CPUGrid) == 0 {
		o.CPUGrid = DefaultCPUGrid
	}
}

// Check reports options that cannot give an answer.
func (o Options) Check() error {
	o.defaults()
	switch {
	case o.Objective.Level <= 0:
		return errors.New("no objective")
	case o.Confidence <= 0.5 || o.Confidence >= 1:
		return fmt.Errorf("confidence %v: want more than 0.5 and less than 1", o.Confidence)
	case o.Batch < 1 || o.MaxPerProbe < o.Batch:
		return fmt.Errorf("batch %d and cap %d: want 1 <= batch <= cap", o.Batch, o.MaxPerProbe)
	case !ascending(o.CPUGrid):
		return fmt.Errorf("CPU grid %v: want positive values in ascending order, each once", o.CPUGrid)
	case len(o.MemoryGrid) > 0 && !ascending(o.MemoryGrid):
		return fmt.Errorf("memory grid: want positive values in ascending order, each once")
	}
	return nil
}

func ascending[T int64 | float64](g []T) bool {
	for i, v := range g {
		if v <= 0 || (i > 0 && v <= g[i-1]) {
			return false
		}
	}
	return true
}

// Probe is one grid point's decision.
type Probe struct {
	Phase    string   `json:"phase"` // cpu, memory, recheck
	Point    Point    `json:"point"`
	Verdict  Verdict  `json:"verdict"`
	Count    Count    `json:"count"`
	Quantile Quantile `json:"quantile"` // the objective's percentile with its interval
	// Capped: the cap was reached before the test decided; the probe
	// counts as a miss (conservative) and says so.
	Capped bool    `json:"capped,omitempty"`
	WallMS float64 `json:"wall_ms"`
}

// Answer is a scenario's smallest limits that meet the objective.
type Answer struct {
	Scenario string `json:"scenario"`
	// CPUs is the smallest grid quota whose probe met the objective; 0:
	// none of the grid's did (Found false).
	Found bool    `json:"found"`
	CPUs  float64 `json:"cpus,omitempty"`
	// At is the probe at the answer, Below at the next lower grid step (nil
	// at the grid's lowest step); without an answer, Below is the top's.
	At    *Probe `json:"at,omitempty"`
	Below *Probe `json:"below,omitempty"`
	// The memory answer at CPUs, when searched: the smallest limit with no
	// OOM kill and the objective met over the starts tried.
	MemorySearched bool   `json:"memory_searched,omitempty"`
	MemoryFound    bool   `json:"memory_found,omitempty"`
	Memory         int64  `json:"memory,omitempty"`
	MemAt          *Probe `json:"memory_at,omitempty"`
	MemBelow       *Probe `json:"memory_below,omitempty"`
	// Recheck is the answer point measured again at the end.
	Recheck  *Probe   `json:"recheck,omitempty"`
	Probes   []Probe  `json:"probes"` // in the order they ran
	Starts   int      `json:"starts"` // measured starts spent
	WallMS   float64  `json:"wall_ms"`
	Warnings []string `json:"warnings,omitempty"`
}

// Result is a whole search: the answers and what they rest on.
type Result struct {
	Objective   string    `json:"objective"`
	Confidence  float64   `json:"confidence"`
	Batch       int       `json:"batch"`
	MaxPerProbe int       `json:"max_per_probe"`
	CPUGrid     []float64 `json:"cpu_grid"`
	MemoryGrid  []int64   `json:"memory_grid,omitempty"`
	Method      string    `json:"method"`
	Answers     []Answer  `json:"answers"`
	Starts      int       `json:"starts"`
	WallMS      float64   `json:"wall_ms"`
	Run         string    `json:"run,omitempty"` // the run directory's journal holds every start
	Interrupted bool      `json:"interrupted,omitempty"`
}

// Method describes the search, for the reports.
const Method = "bisection over the grid, assuming more CPU (memory) is never slower; at each probe, starts in batches until a one-sided " +
	"binomial test on the share of starts at or above the bound (misses of any kind counted there: censored, never dropped) decides " +
	"meets or misses at the stated confidence, or the cap is reached (undecided: counted as misses); memory at the CPU answer, an OOM kill deciding misses"

// Found reports whether every answer has a CPU quota (and, when searched, a memory limit).
func (r *Result) Found() bool {
	for _, a := range r.Answers {
		if !a.Found || (a.MemorySearched && !a.MemoryFound) {
			return false
		}
	}
	return true
}

// Search finds each scenario's answer in turn.
func Search(ctx context.Context, s Sampler, scenarios []string, o Options) (*Result, error) {
	o.defaults()
	if err := o.Check(); err != nil {
		return nil, err
	}
	res := &Result{Objective: o.Objective.String(), Confidence: o.Confidence, Batch: o.Batch, MaxPerProbe: o.MaxPerProbe,
		CPUGrid: o.CPUGrid, MemoryGrid: o.MemoryGrid, Method: Method, Answers: []Answer{}}
	t0 := time.Now()
	defer func() { res.WallMS = result.MS(time.Since(t0)) }()
	for _, name := range scenarios {
		se := &search{s: s, o: o, name: name, a: Answer{Scenario: name, Probes: []Probe{}}}
		err := se.run(ctx)
		res.Answers = append(res.Answers, se.a)
		res.Starts += se.a.Starts
		if err != nil {
			res.Interrupted = ctx.Err() != nil
			return res, err
		}
	}
	return res, nil
}

type search struct {
	s    Sampler
	o    Options
	name string
	a    Answer
}

func (se *search) run(ctx context.Context) error {
	t0 := time.Now()
	defer func() { se.a.WallMS = result.MS(time.Since(t0)) }()
	cpu := func(i int) Point { return Point{CPUs: se.o.CPUGrid[i]} }
	at, below, found, err := se.bisect(ctx, len(se.o.CPUGrid), "cpu", cpu)
	se.a.At, se.a.Below, se.a.Found = at, below, found
	if err != nil || !found {
		if err == nil {
			se.a.Warnings = append(se.a.Warnings, fmt.Sprintf("no quota of the grid meets %s, not even %s CPUs", se.o.Objective, fmtCPUs(se.o.CPUGrid[len(se.o.CPUGrid)-1])))
		}
		return err
	}
	se.a.CPUs = at.Point.CPUs
	if len(se.o.MemoryGrid) > 0 {
		se.a.MemorySearched = true
		mem := func(i int) Point { return Point{CPUs: se.a.CPUs, Memory: se.o.MemoryGrid[i]} }
		mat, mbelow, mfound, err := se.bisect(ctx, len(se.o.MemoryGrid), "memory", mem)
		se.a.MemAt, se.a.MemBelow, se.a.MemoryFound = mat, mbelow, mfound
		if err != nil {
			return err
		}
		if mfound {
			se.a.Memory = mat.Point.Memory
		} else {
			se.a.Warnings = append(se.a.Warnings, fmt.Sprintf("no memory limit of the grid meets %s without an OOM kill at %s CPUs, not even %s",
				se.o.Objective, fmtCPUs(se.a.CPUs), FormatMemory(se.o.MemoryGrid[len(se.o.MemoryGrid)-1])))
		}
	}
	if se.o.Recheck {
		p := se.a.At.Point
		if se.a.MemoryFound {
			p = se.a.MemAt.Point
		}
		re, err := se.probe(ctx, "recheck", p)
		if err != nil {
			return err
		}
		se.a.Recheck = &re
		if re.Verdict != Meets {
			se.a.Warnings = append(se.a.Warnings, fmt.Sprintf("the answer %s, measured again at the end, %s (observed p%v %s): the host drifted during the search, or the answer sits on the edge; run it again",
				p.Cell(), re.Verdict, se.o.Objective.Level, FormatMS(re.Quantile.MS)))
		}
	}
	return nil
}

// bisect finds the smallest index of an ascending grid of n points whose
// probe meets: first the top (if it misses, nothing does), then halving
// the range between the highest known miss and the lowest known meet.
func (se *search) bisect(ctx context.Context, n int, phase string, at func(int) Point) (answer, below *Probe, found bool, err error) {
	probes := map[int]*Probe{}
	decide := func(i int) (bool, error) {
		p, err := se.probe(ctx, phase, at(i))
		if err != nil {
			return false, err
		}
		probes[i] = &p
		return p.Verdict == Meets, nil
	}
	ok, err := decide(n - 1)
	if err != nil || !ok {
		return nil, probes[n-1], false, err
	}
	lo, hi := -1, n-1
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		ok, err := decide(mid)
		if err != nil {
			return nil, nil, false, err
		}
		if ok {
			hi = mid
		} else {
			lo = mid
		}
	}
	return probes[hi], probes[lo], true, nil // probes[-1] is nil: no lower step
}

// probe samples at one point in batches until the test decides or the cap.
func (se *search) probe(ctx context.Context, phase string, p Point) (Probe, error) {
	t0 := time.Now()
	o := se.o
	var recs []result.Record
	pr := Probe{Phase: phase, Point: p}
	for {
		n := min(o.Batch, o.MaxPerProbe-len(recs))
		got, err := se.s.Sample(ctx, se.name, p, n)
		recs = append(recs, got...)
		se.a.Starts += len(got)
		if err != nil {
			return pr, err
		}
		pr.Count = Tally(recs, o.Objective)
		switch {
		case phase == "memory" && pr.Count.OOM > 0:
			pr.Verdict = OOM
		default:
			pr.Verdict = Decide(pr.Count, o.Objective.Tail(), o.Confidence)
		}
		if pr.Verdict == Undecided && len(recs) >= o.MaxPerProbe {
			pr.Capped = true
		}
		if pr.Verdict != Undecided || pr.Capped {
			break
		}
	}
	pr.Quantile = QuantileOf(recs, o.Objective.Level, o.Confidence)
	pr.WallMS = result.MS(time.Since(t0))
	se.a.Probes = append(se.a.Probes, pr)
	if o.Progress != nil {
		o.Progress(se.name, pr)
	}
	return pr, nil
}
