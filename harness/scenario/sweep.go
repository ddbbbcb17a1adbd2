package scenario

import (
	"fmt"
	"math"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/coldstart/coldstart/harness/result"
)

// MaxRunTime is the longest a suite may take, at its deadlines, before it
// needs Options.AllowLong: a sweep's product grows fast, and a typo in a
// list should not start a run of days.
const MaxRunTime = 24 * time.Hour

// MaxConcurrency bounds a burst: more containers at once than this is not a
// cold start on a small host but a fork bomb.
const MaxConcurrency = 64

// Sweep keys, in the order a cell names them.
const (
	SweepCPUs        = "cpus"
	SweepCPUQuota    = "cpu_quota"
	SweepMemory      = "memory"
	SweepCPUShares   = "cpu_shares"
	SweepDeadline    = "deadline"
	SweepConcurrency = "concurrency"
)

// sweep is a key written as a list: the values of a sweep, in file order.
// A nil vals is a key written as one value (or not at all).
type sweep struct {
	vals []sweepVal
	n    *yaml.Node // the list
}

type sweepVal struct {
	text string
	num  float64
}

func (s sweep) on() bool { return s.vals != nil }

// sweepOf reads a list of values, each checked by one (which reports its
// own errors): empty lists and repeated values are errors too. first is
// the first valid value, for the checks that look at one value.
func (p *parser) sweepOf(n *yaml.Node, field string, one func(n *yaml.Node, field string) (float64, bool)) (sw sweep, first *yaml.Node) {
	if len(n.Content) == 0 {
		p.errorf(n, field, "empty list: give at least one value to sweep")
		return sweep{}, nil
	}
	seen := map[float64]int{}
	ok := true
	var vals []sweepVal
	for i, item := range n.Content {
		v := p.deref(item)
		if v == nil {
			return sweep{}, nil
		}
		f := index(field, i)
		if v.Kind != yaml.ScalarNode {
			p.errorf(v, f, "want one value, got %s", describe(v))
			ok = false
			continue
		}
		num, good := one(v, f)
		if !good {
			ok = false
			continue
		}
		if j, dup := seen[num]; dup {
			p.errorf(v, f, "%s repeats %s[%d]: a sweep lists each value once", quote(v.Value), field, j)
			ok = false
			continue
		}
		seen[num] = i
		if first == nil {
			first = v
		}
		vals = append(vals, sweepVal{text: v.Value, num: num})
	}
	if !ok {
		return sweep{}, nil
	}
	return sweep{vals: vals, n: n}, first
}

// sweepable reads a key that takes one value or a list to sweep: one
// checks each value; the opt holds the value, or the list's first.
func sweepable[T any](p *parser, n *yaml.Node, f string, one func(*yaml.Node, string) (float64, bool), conv func(float64) T) (opt[T], sweep) {
	if n.Kind == yaml.SequenceNode {
		sw, first := p.sweepOf(n, f, one)
		if first == nil {
			return opt[T]{}, sweep{}
		}
		return some(conv(sw.vals[0].num), first, f), sw
	}
	v, ok := one(n, f)
	if !ok {
		return opt[T]{}, sweep{}
	}
	return some(conv(v), n, f), sweep{}
}

func toInt64(v float64) int64 { return int64(v) }

// cpusValue checks one cpus value.
func (p *parser) cpusValue(n *yaml.Node, f string) (float64, bool) {
	v, ok := p.number(n, f)
	switch {
	case !ok:
	case v <= 0:
		p.errorf(n, f, "must be positive, got %s", n.Value)
	case v > maxCPUs:
		p.errorf(n, f, "over the maximum of %d, got %s", maxCPUs, n.Value)
	case math.Round(v*DefaultCPUPeriod) < minCPUQuota:
		p.errorf(n, f, "must be at least 0.01: docker's minimum quota is 1000 µs of a 100000 µs period; got %s", n.Value)
	default:
		return v, true
	}
	return 0, false
}

// quotaValue checks one cpu_quota value.
func (p *parser) quotaValue(n *yaml.Node, f string) (float64, bool) {
	v, ok := p.integer(n, f)
	switch {
	case !ok:
	case v < minCPUQuota:
		p.errorf(n, f, "must be at least %d (µs), got %d", minCPUQuota, v)
	case v > maxCPUs*maxCPUPeriod:
		p.errorf(n, f, "over the maximum of %d (µs), got %d", maxCPUs*maxCPUPeriod, v)
	default:
		return float64(v), true
	}
	return 0, false
}

func (p *parser) memoryValue(n *yaml.Node, f string) (float64, bool) {
	o := p.minSize(n, f, minMemory, "6m")
	return float64(o.v), o.set
}

func (p *parser) sharesValue(n *yaml.Node, f string) (float64, bool) {
	o := p.bounded(n, f, minCPUShares, maxCPUShares,
		fmt.Sprintf("want %d..%d (a relative CPU weight; the kernel's default is 1024)", minCPUShares, maxCPUShares))
	return float64(o.v), o.set
}

func (p *parser) deadlineValue(n *yaml.Node, f string) (float64, bool) {
	o := p.deadline(n, f)
	return float64(o.v) / float64(time.Millisecond), o.set
}

func (p *parser) concurrencyValue(n *yaml.Node, f string) (float64, bool) {
	v, ok := p.integer(n, f)
	switch {
	case !ok:
	case v < 1 || v > MaxConcurrency:
		p.errorf(n, f, "want 1..%d containers started at once, got %d", MaxConcurrency, v)
	default:
		return float64(v), true
	}
	return 0, false
}

// concurrency reads the burst size: one number, or a list to sweep.
func (p *parser) concurrency(n *yaml.Node, f string) (opt[int], sweep) {
	if n.Kind == yaml.SequenceNode {
		sw, first := p.sweepOf(n, f, p.concurrencyValue)
		if first == nil {
			return opt[int]{}, sweep{}
		}
		return some(int(sw.vals[0].num), first, f), sw
	}
	v, ok := p.concurrencyValue(n, f)
	if !ok {
		return opt[int]{}, sweep{}
	}
	return some(int(v), n, f), sweep{}
}

// deadlines reads the deadline: one duration, or a list to sweep.
func (p *parser) deadlines(n *yaml.Node, f string) (opt[time.Duration], sweep) {
	if n.Kind != yaml.SequenceNode {
		return p.deadline(n, f), sweep{}
	}
	sw, first := p.sweepOf(n, f, p.deadlineValue)
	if first == nil {
		return opt[time.Duration]{}, sweep{}
	}
	return some(time.Duration(sw.vals[0].num*float64(time.Millisecond)), first, f), sw
}

// dim is one swept key of a scenario and how a cell applies its value.
type dim struct {
	key   string
	sw    sweep
	apply func(sc *Scenario, v float64)
}

// dims lists a scenario's swept keys in cell order; the scenario's own
// setting of a key (one value or a list) hides the defaults'.
func dims(d, c *spec) []dim {
	pick := func(cset bool, cs, ds sweep) sweep {
		if cset {
			return cs
		}
		return ds
	}
	cpu := d.limits
	if c.limits.cpuGiven {
		cpu = c.limits
	}
	var out []dim
	add := func(key string, sw sweep, apply func(sc *Scenario, v float64)) {
		if sw.on() {
			out = append(out, dim{key, sw, apply})
		}
	}
	add(SweepCPUs, cpu.cpuSweep, func(sc *Scenario, v float64) {
		sc.Limits.CPUs, sc.Limits.CPUQuota, sc.Limits.CPUPeriod = v, int64(math.Round(v*DefaultCPUPeriod)), DefaultCPUPeriod
	})
	add(SweepCPUQuota, cpu.quotaSweep, func(sc *Scenario, v float64) {
		sc.Limits.CPUQuota = int64(v)
		sc.Limits.CPUs = v / float64(sc.Limits.CPUPeriod)
	})
	add(SweepMemory, pick(c.limits.memory.set, c.limits.memSweep, d.limits.memSweep), func(sc *Scenario, v float64) {
		sc.Limits.Memory = int64(v)
		if sc.Limits.MemorySwap != -1 {
			sc.Limits.MemorySwap = int64(v) // no swap in any cell
		}
	})
	add(SweepCPUShares, pick(c.limits.shares.set, c.limits.sharesSweep, d.limits.sharesSweep), func(sc *Scenario, v float64) {
		sc.Limits.CPUShares = int64(v)
	})
	add(SweepDeadline, pick(c.deadline.set, c.deadlineSweep, d.deadlineSweep), func(sc *Scenario, v float64) {
		sc.Deadline = time.Duration(v * float64(time.Millisecond))
	})
	add(SweepConcurrency, pick(c.concurrency.set, c.concurrencySweep, d.concurrencySweep), func(sc *Scenario, v float64) {
		sc.Concurrency = int(v)
	})
	return out
}

// memorySwapCheck refuses a number for memory_swap beside a memory sweep
// in the same scenario: each cell gets memory_swap = memory (no swap), or
// -1 (unlimited) when that is what is written.
func (p *parser) memorySwapCheck(d, c *spec) {
	sw := c.limits.memSweep
	if !c.limits.memory.set {
		sw = d.limits.memSweep
	}
	if !sw.on() {
		return
	}
	for _, s := range []opt[int64]{c.limits.swap, d.limits.swap} {
		if s.set && s.v != -1 && strings.HasPrefix(s.field, c.field) {
			p.errorf(s.n, s.field, "a memory sweep gives each cell memory_swap = memory (no swap); write -1 for unlimited swap or leave it out")
			return
		}
	}
}

// expand turns a scenario into its cells: the product of its swept keys,
// in file order (the first key varies slowest). A scenario that sweeps
// nothing is itself.
func expand(sc Scenario, ds []dim) []Scenario {
	if len(ds) == 0 {
		return []Scenario{sc}
	}
	out := []Scenario{sc}
	for _, d := range ds {
		var next []Scenario
		for _, base := range out {
			for _, v := range d.sw.vals {
				c := base
				c.Limits = base.Limits
				d.apply(&c, v.num)
				c.Sweep = append(append([]result.CellValue(nil), base.Sweep...), result.CellValue{Key: d.key, Text: v.text, Number: v.num})
				next = append(next, c)
			}
		}
		out = next
	}
	for i := range out {
		parts := make([]string, len(out[i].Sweep))
		for j, v := range out[i].Sweep {
			parts[j] = v.Key + "=" + v.Text
		}
		out[i].Cell = strings.Join(parts, ",")
	}
	return out
}

// Estimate is how long a scenario entry could take at most: every start
// (bursts count once) running to its deadline, plus a second of engine
// work per start; diagnostic starts at their stretched deadline.
func (sc *Scenario) Estimate() time.Duration {
	per := sc.Deadline + time.Second
	n := time.Duration(sc.Warmup + sc.Runs)
	return n*per + time.Duration(sc.ImportTime)*(3*sc.Deadline+time.Second)
}

// Estimate is how long the suite could take at most (Scenario.Estimate).
func (s *Suite) Estimate() time.Duration {
	var t time.Duration
	for i := range s.Scenarios {
		t += s.Scenarios[i].Estimate()
	}
	return t
}

// longCheck refuses a suite that could take more than MaxRunTime, unless
// the options allow it; the error is at the largest sweep (else the first
// scenario) and says how long the run could take.
func (p *parser) longCheck(s *Suite, at *yaml.Node, field string) {
	if p.opt.AllowLong {
		return
	}
	total := s.Estimate()
	if total <= MaxRunTime {
		return
	}
	p.errorf(at, field, "the suite's %d scenario entries (sweep cells) could take up to %s (each start at its deadline plus 1s of engine work), over the %gh limit: shorten the lists or runs, or allow it (--allow-long)",
		len(s.Scenarios), HumanDuration(total), MaxRunTime.Hours())
}

// HumanDuration writes a long duration in days, hours and minutes.
func HumanDuration(d time.Duration) string {
	d = d.Round(time.Minute)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	m := (d - h*time.Hour) / time.Minute
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh%dm", days, h, m)
	case h > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	}
	return fmt.Sprintf("%dm", m)
}
