package bench

import (
	"context"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/scenario"
	"github.com/coldstart/coldstart/harness/summary"
)

// burstSuite is a suite of one scenario that starts n containers at once, runs times.
func burstSuite(sc *scenario.Scenario, n, runs int) (*scenario.Suite, []scenario.Start) {
	sc.Concurrency, sc.Runs = n, runs
	s := &scenario.Suite{Name: "burst", Scenarios: []scenario.Scenario{*sc}}
	return s, s.Plan(1)
}

func TestLiveBurst(t *testing.T) {
	r := newRunner(t)
	s, plan := burstSuite(testScenario("burst"), 8, 1)
	if len(plan) != 8 {
		t.Fatalf("plan of %d starts, want 8", len(plan))
	}
	done, err := r.Execute(context.Background(), s, plan, nil)
	if err != nil || done != 8 {
		t.Fatalf("execute: %d done, %v", done, err)
	}
	recs := r.Journal.(*memJournal).recs
	if len(recs) != 8 {
		t.Fatalf("%d records, want 8", len(recs))
	}
	ids := map[string]bool{}
	for i, rec := range recs {
		b := rec.Burst
		if b == nil || b.ID != 0 || b.Index != i || b.Size != 8 || b.Host == nil {
			t.Fatalf("record %d: burst %+v", i, b)
		}
		if rec.CreateMS <= 0 || rec.Time.IsZero() {
			t.Errorf("record %d: not created and started: create %v t0 %v", i, rec.CreateMS, rec.Time)
		}
		ids[rec.Container] = true
		t.Logf("start %d: %s offset %.1f ms ready %v create %.1f", i, rec.Outcome, b.OffsetMS, deref(rec.ReadyMS), rec.CreateMS)
	}
	if len(ids) != 8 {
		t.Errorf("%d distinct containers, want 8 fresh ones", len(ids))
	}
	// The starts went out together: their t0s lie within one start call's
	// time of each other, not one start after another (which would put the
	// last past the first's readiness).
	sum := summary.Compute(recs, summary.Options{})
	bs := sum.Scenarios[0].Bursts
	if bs == nil || bs.N != 1 || len(bs.ByBurst) != 1 {
		t.Fatalf("summary bursts: %+v", bs)
	}
	one := bs.ByBurst[0]
	t.Logf("makespan %.1f ms, spread %v, censored %v, host %+v", one.MakespanMS, bs.SpreadMS.Max, one.Censored, recs[0].Burst.Host)
	var lastEnd float64
	for _, rec := range recs {
		end := rec.Burst.OffsetMS + rec.DeadlineMS
		if rec.ReadyMS != nil {
			end = rec.Burst.OffsetMS + *rec.ReadyMS
		}
		lastEnd = max(lastEnd, end)
	}
	if d := one.MakespanMS - lastEnd; d > 0.001 || d < -0.001 {
		t.Errorf("makespan %.3f, the records say %.3f", one.MakespanMS, lastEnd)
	}
	if spread := bs.SpreadMS.Max.V; spread >= one.MakespanMS {
		t.Errorf("the last start call went out %.1f ms after the first, past the burst's makespan %.1f: not a burst", spread, one.MakespanMS)
	}
}

// An interrupt in the middle of a burst removes all its containers and
// socket dirs (newRunner's clean-up checks both) and journals no start that
// had no outcome.
func TestLiveBurstInterrupted(t *testing.T) {
	r := newRunner(t)
	sc := testScenario("burst-int", "MODE=nosocket") // never ready: the burst is in flight when cancelled
	// No start may reach its outcome before the cancel: with the usual 3 s,
	// a loaded engine (load average 6.6) took so long to start the fourth
	// container that five starts had met their deadline, rightly journaled.
	sc.Deadline = time.Minute
	s, plan := burstSuite(sc, 8, 1)
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan time.Time, 1)
	go func() {
		// Cancel once every container exists and the starts are out.
		for {
			cs, _ := live.List(context.Background(), map[string]string{"io.coldstart.run": r.RunID})
			running := 0
			for _, c := range cs {
				if c.State == "running" {
					running++
				}
			}
			if running >= 4 {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		cancelled <- time.Now()
		cancel()
	}()
	_, err := r.Execute(ctx, s, plan, nil)
	if err == nil {
		t.Fatal("no error from an interrupted burst")
	}
	if n := len(r.Journal.(*memJournal).recs); n != 0 {
		t.Errorf("%d records of starts interrupted before their outcome", n)
	}
	// The interrupt does not wait for the starts' deadlines: removing the
	// eight containers is all that is left.
	select {
	case at := <-cancelled:
		if el := time.Since(at); el > 20*time.Second {
			t.Errorf("interrupted burst ended %v after the cancel", el)
		}
	default:
		t.Errorf("the burst ended before the cancel: %v", err)
	}
}
