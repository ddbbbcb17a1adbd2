package bench

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// Burst runs the starts of one burst: every container is created first
// (outside the timed window, one after the other), then all the start calls
// go at once, each start with its own socket dir, probe and t0. It returns
// the records in the order of sts, nil for a start that was interrupted
// before it had an outcome. Every container is removed before it returns,
// interrupted or not; the removals wait for the burst's end, so that
// removing the early ones does not load the engine under the late ones.
func (r *Runner) Burst(ctx context.Context, sc *scenario.Scenario, sts []scenario.Start, seqs []int) []*result.Record {
	r.engine() // found once, before the starts share it
	n := len(sts)
	starts := make([]*start, 0, n)
	recs := make([]*result.Record, n)
	fire := make([]bool, n)
	defer func() {
		for _, s := range starts {
			s.release()
		}
		for i, rec := range recs {
			if rec != nil {
				starts[i].settleServing()
			}
		}
	}()
	for i := range sts {
		if ctx.Err() != nil {
			return recs // the ones created are removed; none was started
		}
		s := r.newStart(ctx, sc, sts[i], seqs[i])
		starts = append(starts, s)
		recs[i], fire[i] = s.prepare(ctx)
	}
	gate := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range starts {
		if !fire[i] {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gate
			recs[i] = s.fire(ctx)
		}()
	}
	before := readHostState()
	released := time.Now()
	close(gate)
	wg.Wait()
	after := readHostState()
	host := &result.BurstHost{Load1Before: before.load1, Load1After: after.load1, WallMS: result.MS(time.Since(released))}
	if after.psi {
		host.CPUSomeAvg10 = result.F(after.someAvg10)
		if before.psi {
			host.CPUSomeUS = result.F(after.someTotal - before.someTotal)
		}
	}
	var first time.Time
	for _, s := range starts {
		if !s.t0.IsZero() && (first.IsZero() || s.t0.Before(first)) {
			first = s.t0
		}
	}
	for i, rec := range recs {
		if rec == nil {
			continue
		}
		b := &result.Burst{ID: seqs[0], Index: sts[i].Index, Size: n, Host: host}
		if t0 := starts[i].t0; !t0.IsZero() {
			b.OffsetMS = result.MS(t0.Sub(first))
		}
		rec.Burst = b
	}
	return recs
}

// hostState is the host's load and CPU pressure at one instant.
type hostState struct {
	load1                float64
	psi                  bool // /proc/pressure/cpu was read
	someAvg10, someTotal float64
}

func readHostState() hostState {
	var h hostState
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			h.load1, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	if b, err := os.ReadFile("/proc/pressure/cpu"); err == nil {
		h.someAvg10, h.someTotal, h.psi = parsePressure(string(b))
	}
	return h
}

// parsePressure reads the "some" line of a PSI file:
// "some avg10=8.06 avg60=22.03 avg300=25.44 total=161442885".
func parsePressure(s string) (avg10, total float64, ok bool) {
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != "some" {
			continue
		}
		var a, t bool
		for _, kv := range f[1:] {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "avg10":
				avg10, _ = strconv.ParseFloat(v, 64)
				a = true
			case "total":
				total, _ = strconv.ParseFloat(v, 64)
				t = true
			}
		}
		return avg10, total, a && t
	}
	return 0, 0, false
}
