package summary

import (
	"math"
	"slices"

	"github.com/coldstart/coldstart/harness/result"
)

// Bursts are the statistics of an arm's bursts (concurrency > 1): how long
// each took from its first t0 to its last healthy answer.
type Bursts struct {
	Size int `json:"size"` // containers per burst
	N    int `json:"n"`    // measured bursts
	// MakespanMS is first t0 -> last healthy answer per burst; a burst with
	// a miss counts that start at its deadline, so its makespan is a lower
	// bound (Censored counts such bursts).
	MakespanMS Dist `json:"makespan_ms"`
	Censored   int  `json:"censored"`
	// SpreadMS is the last t0 minus the first: how far apart the start
	// calls went out (goroutines released together).
	SpreadMS Dist `json:"spread_ms"`
	// The host over the bursts: the largest 1-minute load at a burst's end
	// and the largest CPU pressure (PSI some avg10, %), where read.
	MaxLoad1         float64  `json:"max_load1"`
	MaxCPUSomeAvg10  *float64 `json:"max_cpu_some_avg10,omitempty"`
	MeanCPUStallMS   *float64 `json:"mean_cpu_stall_ms,omitempty"` // PSI some total's growth per burst
	ByBurst          []Burst  `json:"bursts"`
	IncompleteBursts int      `json:"incomplete_bursts,omitempty"` // bursts with fewer measured starts than Size (interrupted)
}

// Burst is one burst's figures.
type Burst struct {
	ID         int     `json:"id"`
	Starts     int     `json:"starts"`
	Missed     int     `json:"missed"`
	MakespanMS float64 `json:"makespan_ms"`
	Censored   bool    `json:"censored"`
}

// burstsOf groups an arm's measured records by burst; nil when none is
// part of a burst.
func burstsOf(measured []result.Record) *Bursts {
	by := map[int][]*result.Record{}
	var ids []int
	size := 0
	for i := range measured {
		r := &measured[i]
		if r.Burst == nil {
			continue
		}
		if _, ok := by[r.Burst.ID]; !ok {
			ids = append(ids, r.Burst.ID)
		}
		by[r.Burst.ID] = append(by[r.Burst.ID], r)
		size = max(size, r.Burst.Size)
	}
	if len(ids) == 0 {
		return nil
	}
	slices.Sort(ids)
	b := &Bursts{Size: size, N: len(ids), ByBurst: []Burst{}}
	var spans, spreads, stalls []float64
	for _, id := range ids {
		recs := by[id]
		one := Burst{ID: id, Starts: len(recs)}
		spread := 0.0
		for _, r := range recs {
			end := r.Burst.OffsetMS + r.DeadlineMS
			if r.Outcome == result.OK && r.ReadyMS != nil {
				end = r.Burst.OffsetMS + *r.ReadyMS
			} else {
				one.Missed++
				one.Censored = true
			}
			one.MakespanMS = math.Max(one.MakespanMS, end)
			spread = math.Max(spread, r.Burst.OffsetMS)
		}
		if one.Starts < size {
			b.IncompleteBursts++
		}
		if one.Censored {
			b.Censored++
		}
		one.MakespanMS = round(one.MakespanMS)
		spans = append(spans, one.MakespanMS)
		spreads = append(spreads, spread)
		if h := recs[0].Burst.Host; h != nil {
			b.MaxLoad1 = math.Max(b.MaxLoad1, h.Load1After)
			if h.CPUSomeAvg10 != nil && (b.MaxCPUSomeAvg10 == nil || *h.CPUSomeAvg10 > *b.MaxCPUSomeAvg10) {
				b.MaxCPUSomeAvg10 = result.F(*h.CPUSomeAvg10)
			}
			if h.CPUSomeUS != nil {
				stalls = append(stalls, *h.CPUSomeUS/1000)
			}
		}
		b.ByBurst = append(b.ByBurst, one)
	}
	b.MakespanMS = dist(spans)
	b.SpreadMS = dist(spreads)
	if len(stalls) > 0 {
		sum := 0.0
		for _, s := range stalls {
			sum += s
		}
		b.MeanCPUStallMS = result.F(round(sum / float64(len(stalls))))
	}
	return b
}
