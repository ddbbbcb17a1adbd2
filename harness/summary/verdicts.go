package summary

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/coldstart/coldstart/harness/result"
)

// ImportDiff compares a paired scenario's import profiles (the diagnostic
// starts of each variant): the modules only the candidate imported, and
// those whose median cumulative time grew most. Each start's journal keeps
// its heaviest modules (60), so a light module may be missing from a side.
type ImportDiff struct {
	BaselineStarts  int            `json:"baseline_starts"`
	CandidateStarts int            `json:"candidate_starts"`
	New             []ModuleChange `json:"new"`
	Grown           []ModuleChange `json:"grown"`
}

// ModuleChange is one module's median cumulative import time in each variant.
type ModuleChange struct {
	Name        string  `json:"name"`
	BaselineUS  float64 `json:"baseline_us"`
	CandidateUS float64 `json:"candidate_us"`
	DeltaUS     float64 `json:"delta_us"`
}

// topChanges is how many new and grown modules a diff lists.
const topChanges = 10

func importDiff(recs []result.Record, scenario string) *ImportDiff {
	cum := map[string]map[string][]float64{"baseline": {}, "candidate": {}}
	starts := map[string]int{}
	for i := range recs {
		r := &recs[i]
		if r.Kind != result.KindDiagnostic || r.Scenario != scenario || r.Imports == nil || cum[r.Variant] == nil {
			continue
		}
		starts[r.Variant]++
		for _, m := range r.Imports.Modules {
			cum[r.Variant][m.Name] = append(cum[r.Variant][m.Name], float64(m.CumulativeUS))
		}
	}
	if starts["baseline"] == 0 || starts["candidate"] == 0 {
		return nil
	}
	d := &ImportDiff{BaselineStarts: starts["baseline"], CandidateStarts: starts["candidate"], New: []ModuleChange{}, Grown: []ModuleChange{}}
	for _, name := range slices.Sorted(maps.Keys(cum["candidate"])) {
		c := median(cum["candidate"][name])
		b, ok := cum["baseline"][name]
		if !ok {
			d.New = append(d.New, ModuleChange{Name: name, CandidateUS: c, DeltaUS: c})
			continue
		}
		if bm := median(b); c > bm {
			d.Grown = append(d.Grown, ModuleChange{Name: name, BaselineUS: bm, CandidateUS: c, DeltaUS: round(c - bm)})
		}
	}
	byDelta := func(a, b ModuleChange) int { return cmp.Compare(b.DeltaUS, a.DeltaUS) }
	slices.SortStableFunc(d.New, byDelta)
	slices.SortStableFunc(d.Grown, byDelta)
	d.New, d.Grown = d.New[:min(len(d.New), topChanges)], d.Grown[:min(len(d.Grown), topChanges)]
	return d
}

// SLOCheck is one objective of one arm, checked against its measured starts.
type SLOCheck struct {
	Arm       string  `json:"arm"`
	Objective string  `json:"objective"` // e.g. "p95 <= 2000 ms", "miss_rate <= 1%"
	Observed  Value   `json:"observed"`  // the statistic, censored where misses decide it
	Target    float64 `json:"target"`    // ms, or a share for miss_rate
	Met       bool    `json:"met"`
	Reason    string  `json:"reason,omitempty"`
}

// CheckSLOs checks every arm's objectives, censoring honoured: a percentile
// that misses decide (shown as > bound) cannot be shown to meet any bound,
// so it fails; an arm without measured starts fails too, and so does an
// objective on serving for an arm that sends no work request.
func CheckSLOs(s *Summary, slos map[string]result.SLO) []SLOCheck {
	var out []SLOCheck
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		o, ok := slos[sc.Name]
		if !ok {
			continue
		}
		ready := metricSLO{arm: sc.Name, n: sc.N, missed: sc.Missed(), dist: &sc.ReadyMS}
		serving := metricSLO{arm: sc.Name, name: "serving ", none: "no serving request"}
		if sv := sc.Serving; sv != nil {
			serving.n, serving.missed, serving.dist, serving.none = sv.N, sv.Missed(), &sv.ServingMS, ""
		}
		for _, m := range []struct {
			q  metricSLO
			ps [4]float64
			mr float64
			ok bool
		}{{ready, [4]float64{o.P50MS, o.P90MS, o.P95MS, o.P99MS}, o.MissRate, o.HasMissRate},
			{serving, [4]float64{o.ServingP50MS, o.ServingP90MS, o.ServingP95MS, o.ServingP99MS}, o.ServingMissRate, o.HasServingMissRate}} {
			for j, level := range Levels {
				if m.ps[j] > 0 {
					out = append(out, m.q.percentile(level, m.ps[j]))
				}
			}
			if m.ok {
				out = append(out, m.q.missRate(m.mr))
			}
		}
	}
	return out
}

// metricSLO is what an arm's objectives on one metric are checked against.
type metricSLO struct {
	arm, name string // name prefixes the objective: "" (ready_ms) or "serving "
	n, missed int
	dist      *CensoredDist
	none      string // why there is nothing to check, if so
}

func (m metricSLO) percentile(level, target float64) SLOCheck {
	c := SLOCheck{Arm: m.arm, Objective: fmt.Sprintf("%sp%g <= %g ms", m.name, level, target), Target: target}
	if m.none != "" {
		c.Reason = m.none
		return c
	}
	v := m.dist.At(level)
	c.Observed = v
	switch {
	case m.n == 0:
		c.Reason = "no measured starts"
	case v.Censored:
		c.Reason = fmt.Sprintf("%sp%g is censored (> %g ms): misses decide it, so it cannot be shown to be under %g ms", m.name, level, v.Bound, target)
	case !v.Known:
		c.Reason = "no value"
	default:
		c.Met = v.V <= target
		if !c.Met {
			c.Reason = fmt.Sprintf("%sp%g is %g ms", m.name, level, v.V)
		}
	}
	return c
}

func (m metricSLO) missRate(target float64) SLOCheck {
	c := SLOCheck{Arm: m.arm, Objective: fmt.Sprintf("%smiss_rate <= %g%%", m.name, 100*target), Target: target}
	switch {
	case m.none != "":
		c.Reason = m.none
		return c
	case m.n == 0:
		c.Reason = "no measured starts"
		return c
	}
	rate := float64(m.missed) / float64(m.n)
	c.Observed = Num(round(rate))
	c.Met = rate <= target+1e-12
	if !c.Met {
		c.Reason = fmt.Sprintf("%d of %d measured starts missed (%.1f%%)", m.missed, m.n, 100*rate)
		if m.name != "" {
			c.Reason = fmt.Sprintf("%d of %d measured starts not served (%.1f%%)", m.missed, m.n, 100*rate)
		}
	}
	return c
}

// SLOsMet reports whether every check passed.
func SLOsMet(cs []SLOCheck) bool {
	return !slices.ContainsFunc(cs, func(c SLOCheck) bool { return !c.Met })
}
