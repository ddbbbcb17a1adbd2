package bench

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// Point is limits a prober starts a scenario under instead of its own: a
// CPU quota (CPUs of a 100 ms period) and, when set, a memory limit with
// no swap. MemoryText is the memory as the cell names it ("64m").
type Point struct {
	CPUs       float64
	Memory     int64
	MemoryText string
}

// Prober runs lone measured starts of a session's scenarios at points the
// caller picks (the capacity search's probes), journaled like a run's:
// runs.jsonl and the WAL in the session's directory, each start with the
// point as its cell. Close it after use.
type Prober struct {
	sess   *Session
	closer []func()
	col    *Collector
	seq    int
	iters  map[string]int
	points map[string]*scenario.Scenario // a scenario per cell: the runner keys its read-backs by scenario
	warmed map[string]bool
}

// Prober prepares the session's directory for probes: the lock, the
// manifest, the journal and the WAL. The directory must not hold a run.
func (s *Session) Prober() (*Prober, error) {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("run dir: %w", err)
	}
	p := &Prober{sess: s, iters: map[string]int{}, points: map[string]*scenario.Scenario{}, warmed: map[string]bool{}}
	ok := false
	defer func() {
		if !ok {
			p.Close()
		}
	}()
	lock, err := lockDir(s.Dir)
	if err != nil {
		return nil, &InputError{err}
	}
	p.closer = append(p.closer, func() { lock.Close() })
	runs := filepath.Join(s.Dir, journal.RunsFile)
	if _, err := os.Stat(runs); err == nil {
		return nil, &InputError{fmt.Errorf("%s already holds a run: give another --out", s.Dir)}
	}
	s.Manifest.Planned = 0 // a search decides its starts as it goes
	if err := journal.WriteJSONAtomic(filepath.Join(s.Dir, journal.ManifestFile), &s.Manifest); err != nil {
		return nil, err
	}
	w, err := journal.Create(runs)
	if err != nil {
		return nil, err
	}
	p.closer = append(p.closer, func() { w.Close() })
	wal, err := journal.CreateWAL(filepath.Join(s.Dir, journal.WALFile))
	if err != nil {
		return nil, err
	}
	p.closer = append(p.closer, func() { wal.Close() })
	s.Runner.WAL = wal
	p.col = &Collector{W: w}
	s.Runner.Journal = p.col
	ok = true
	return p, nil
}

// Close closes the journal and releases the directory.
func (p *Prober) Close() {
	for i := len(p.closer) - 1; i >= 0; i-- {
		p.closer[i]()
	}
	p.closer = nil
}

// Records are every start the prober ran, warmups included.
func (p *Prober) Records() []result.Record { return p.col.Records }

// Starts runs n measured starts of the scenario called name at pt, one
// after the other, and returns their records; before the first start of a
// scenario, one warmup start at its own limits (journaled, not returned).
// An interrupt ends it with the starts measured so far and ctx's error.
func (p *Prober) Starts(ctx context.Context, name string, pt Point, n int) ([]result.Record, error) {
	base := p.scenario(name)
	if base == nil {
		return nil, &InputError{fmt.Errorf("suite %s has no scenario %q", p.sess.Suite.Name, name)}
	}
	if !p.warmed[name] {
		if _, err := p.run(ctx, base, result.KindWarmup); err != nil {
			return nil, err
		}
		p.warmed[name] = true
	}
	sc := p.at(base, pt)
	var out []result.Record
	for i := 0; i < n; i++ {
		rec, err := p.run(ctx, sc, result.KindMeasure)
		if err != nil {
			return out, err
		}
		out = append(out, *rec)
	}
	return out, nil
}

// run is one start of sc, journaled.
func (p *Prober) run(ctx context.Context, sc *scenario.Scenario, kind result.Kind) (*result.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := p.sess.Runner
	key := string(kind) + "\x00" + sc.Arm()
	st := scenario.Start{Kind: kind, Iteration: p.iters[key]}
	p.iters[key]++
	seq := p.seq
	p.seq++
	if r.WAL != nil {
		in := journal.Intent{Seq: seq, Scenario: sc.Name, Cell: sc.Cell, Kind: kind, Iteration: st.Iteration,
			Container: ContainerName(r.Tag, seq)}
		if err := r.WAL.Intend(in); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrJournal, err)
		}
	}
	rec := r.One(ctx, sc, st, seq)
	if rec == nil {
		return nil, ctx.Err()
	}
	if err := r.Journal.Append(rec); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrJournal, err)
	}
	if r.Progress != nil {
		r.Progress(seq+1, 0, rec)
	}
	if rec.Outcome == result.EngineError || len(r.Pending()) > 0 {
		if err := r.awaitEngine(ctx); err != nil {
			return nil, err
		}
		r.removePending(ctx)
	}
	return rec, nil
}

// scenario is the first entry of the suite called name (a swept scenario's
// first cell).
func (p *Prober) scenario(name string) *scenario.Scenario {
	for i := range p.sess.Suite.Scenarios {
		if sc := &p.sess.Suite.Scenarios[i]; sc.Name == name {
			return sc
		}
	}
	return nil
}

// at is the scenario base under the point's limits, one per cell.
func (p *Prober) at(base *scenario.Scenario, pt Point) *scenario.Scenario {
	cpus := strconv.FormatFloat(pt.CPUs, 'f', -1, 64)
	sweep := []result.CellValue{{Key: scenario.SweepCPUs, Text: cpus, Number: pt.CPUs}}
	if pt.Memory > 0 {
		sweep = append(sweep, result.CellValue{Key: scenario.SweepMemory, Text: pt.MemoryText, Number: float64(pt.Memory)})
	}
	cell := ""
	for i, v := range sweep {
		if i > 0 {
			cell += ","
		}
		cell += v.Key + "=" + v.Text
	}
	key := base.Name + "\x00" + cell
	if sc, ok := p.points[key]; ok {
		return sc
	}
	sc := *base
	sc.Cell, sc.Sweep, sc.Concurrency = cell, sweep, 0
	sc.Limits.CPUs, sc.Limits.CPUPeriod = pt.CPUs, scenario.DefaultCPUPeriod
	sc.Limits.CPUQuota = int64(math.Round(pt.CPUs * scenario.DefaultCPUPeriod))
	if pt.Memory > 0 {
		sc.Limits.Memory = pt.Memory
		if sc.Limits.MemorySwap != -1 {
			sc.Limits.MemorySwap = pt.Memory
		}
	}
	p.points[key] = &sc
	return &sc
}
