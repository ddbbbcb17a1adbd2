package summary

import (
	"testing"

	"github.com/coldstart/coldstart/harness/result"
)

func TestBursts(t *testing.T) {
	host := &result.BurstHost{Load1After: 2.5, CPUSomeAvg10: result.F(40), CPUSomeUS: result.F(120000)}
	rec := func(id, idx int, off float64, ready *float64) result.Record {
		r := result.Record{Scenario: "a", Cell: "concurrency=3", Kind: result.KindMeasure, DeadlineMS: 3000,
			Burst: &result.Burst{ID: id, Index: idx, Size: 3, OffsetMS: off, Host: host}, Outcome: result.OK, ReadyMS: ready}
		if ready == nil {
			r.Outcome = result.DeadlineExceeded
		}
		return r
	}
	recs := []result.Record{
		rec(10, 0, 0, result.F(400)), rec(10, 1, 0.5, result.F(900)), rec(10, 2, 1, result.F(650)),
		rec(20, 0, 0, result.F(500)), rec(20, 1, 2, nil), // interrupted: two of three, one missed
	}
	s := Compute(recs, Options{})
	if len(s.Scenarios) != 1 || s.Scenarios[0].Name != "a {concurrency=3}" || s.Scenarios[0].Cell != "concurrency=3" {
		t.Fatalf("arms: %+v", s.Scenarios)
	}
	b := s.Scenarios[0].Bursts
	if b == nil || b.N != 2 || b.Size != 3 {
		t.Fatalf("bursts: %+v", b)
	}
	if got := b.ByBurst[0]; got.MakespanMS != 900.5 || got.Censored || got.Starts != 3 {
		t.Errorf("burst 10: %+v", got)
	}
	if got := b.ByBurst[1]; got.MakespanMS != 3002 || !got.Censored || got.Missed != 1 {
		t.Errorf("burst 20: %+v (a miss counts at its offset plus the deadline)", got)
	}
	if b.Censored != 1 || b.IncompleteBursts != 1 || b.MaxLoad1 != 2.5 || *b.MaxCPUSomeAvg10 != 40 || *b.MeanCPUStallMS != 120 {
		t.Errorf("bursts: %+v", b)
	}
	if b.SpreadMS.Max.V != 2 {
		t.Errorf("spread max %v, want 2", b.SpreadMS.Max)
	}
	if s.Scenarios[0].Missed() != 1 || s.Scenarios[0].N != 5 {
		t.Errorf("starts %d, missed %d", s.Scenarios[0].N, s.Scenarios[0].Missed())
	}
}
