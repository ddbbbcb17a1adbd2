package main

import (
	"context"
	"math"

	"github.com/coldstart/coldstart/harness/result"
)

// overheadPhase is one run of the overhead suite with the measured binary.
func overheadPhase(ctx context.Context, c *config) (*suiteRun, error) {
	s, err := runHarness(ctx, c.bin, overheadSuite, c.overheadRuns, c.out, "overhead")
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// startsMS is Σ over the starts of create + max(start call, ready) + remove:
// the time the engine and the app themselves take (the harness waits for both
// the start call and readiness; a start that missed waited its deadline).
func startsMS(recs []result.Record) float64 {
	var sum float64
	for _, x := range recs {
		wait := x.StartCallMS
		if x.ReadyMS != nil {
			wait = math.Max(wait, *x.ReadyMS)
		} else if x.Outcome == result.DeadlineExceeded {
			wait = math.Max(wait, x.DeadlineMS)
		}
		sum += x.CreateMS + wait + x.RemoveMS
	}
	return sum
}

// overhead is a suite's wall time beyond its starts' own: per start (ms) and
// as a percentage of Σ starts, for the scheduling loop (summary.json
// `harness.wall_ms`) and for the whole process.
type overhead struct {
	n                         int
	wallMS, sumMS, procWallMS float64
	perStartMS, pct, procPct  float64
}

func overheadOf(r *harnessRun) (overhead, bool) {
	h := r.cost()
	if h == nil {
		return overhead{}, false
	}
	o := overhead{n: len(r.Records), wallMS: h.WallMS, sumMS: startsMS(r.Records), procWallMS: r.Process.WallMS}
	o.perStartMS = (o.wallMS - o.sumMS) / float64(o.n)
	o.pct = (o.wallMS - o.sumMS) / o.sumMS * 100
	o.procPct = (o.procWallMS - o.sumMS) / o.sumMS * 100
	return o, true
}
