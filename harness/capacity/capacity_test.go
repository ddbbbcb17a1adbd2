package capacity

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/result"
)

func TestParseObjective(t *testing.T) {
	for _, tc := range []struct {
		in    string
		level float64
		bound time.Duration
		bad   bool
	}{
		{in: "p95 < 3s", level: 95, bound: 3 * time.Second},
		{in: "p99.9<500ms", level: 99.9, bound: 500 * time.Millisecond},
		{in: "p100 < 3s", bad: true},
		{in: "p95 <= 3s", bad: true},
		{in: "p95 < 3", bad: true},
		{in: "p95 < -1s", bad: true},
		{in: "", bad: true},
	} {
		o, err := ParseObjective(tc.in)
		if (err != nil) != tc.bad || (!tc.bad && (o.Level != tc.level || o.Bound != tc.bound)) {
			t.Errorf("%q: %+v, %v", tc.in, o, err)
		}
	}
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		n, k       int
		tail, conf float64
		want       Verdict
	}{
		{59, 0, 0.05, 0.95, Meets},      // 0.95^59 = 0.048
		{58, 0, 0.05, 0.95, Undecided},  // 0.95^58 = 0.051
		{93, 1, 0.05, 0.95, Meets},      // one late start costs about 34 more
		{60, 1, 0.05, 0.95, Undecided},  //
		{5, 2, 0.05, 0.95, Misses},      // P(X >= 2 | 5, 0.05) = 0.023
		{5, 1, 0.05, 0.95, Undecided},   // P(X >= 1 | 5, 0.05) = 0.226
		{5, 0, 0.5, 0.95, Undecided},    // p50: 0.5^5 = 0.031 > 0.05? no: meets below
		{5, 5, 0.5, 0.95, Misses},       //
		{0, 0, 0.05, 0.95, Undecided},   // nothing measured
		{20, 20, 0.05, 0.95, Misses},    //
		{100, 5, 0.05, 0.95, Undecided}, // right at the tail: undecidable
	} {
		want := tc.want
		if tc.n == 5 && tc.k == 0 {
			want = Meets // 0.5^5 = 0.031 <= 0.05
		}
		if got := Decide(Count{N: tc.n, K: tc.k}, tc.tail, tc.conf); got != want {
			t.Errorf("n=%d k=%d tail=%v: %s, want %s", tc.n, tc.k, tc.tail, got, want)
		}
	}
	if m := MinStarts(0.05, 0.95); m != 59 {
		t.Errorf("MinStarts p95 = %d, want 59", m)
	}
	if m := MinStarts(0.5, 0.95); m != 5 {
		t.Errorf("MinStarts p50 = %d, want 5", m)
	}
}

func rec(ready float64, o result.Outcome) result.Record {
	r := result.Record{Kind: result.KindMeasure, Outcome: o, DeadlineMS: 3000}
	if o == result.OK {
		r.ReadyMS = result.F(ready)
	}
	return r
}

func TestTallyCensored(t *testing.T) {
	o := Objective{Level: 95, Bound: time.Second}
	recs := []result.Record{rec(999, result.OK), rec(1000, result.OK), rec(0, result.DeadlineExceeded),
		rec(0, result.OOMKilled), rec(0, result.ExitedBeforeReady), {Kind: result.KindWarmup, Outcome: result.DeadlineExceeded}}
	c := Tally(recs, o)
	// At the bound counts as reaching it; every kind of miss counts; warmups do not.
	if c != (Count{N: 5, K: 4, OOM: 1}) {
		t.Errorf("tally %+v", c)
	}
}

func TestQuantileOf(t *testing.T) {
	var recs []result.Record
	for i := 1; i <= 100; i++ {
		recs = append(recs, rec(float64(i), result.OK))
	}
	q := QuantileOf(recs, 50, 0.95)
	if q.MS != 50.5 || q.LowMS < 38 || q.LowMS > 42 || q.HighMS < 59 || q.HighMS > 63 {
		t.Errorf("p50 of 1..100: %+v", q)
	}
	// A censored start in the upper ranks: the p95 and its upper bound are above the deadline.
	recs[99] = rec(0, result.DeadlineExceeded)
	recs[98] = rec(0, result.DeadlineExceeded)
	recs[97] = rec(0, result.DeadlineExceeded)
	recs[96] = rec(0, result.DeadlineExceeded)
	recs[95] = rec(0, result.DeadlineExceeded)
	q = QuantileOf(recs, 95, 0.95)
	if !math.IsInf(q.MS, 1) || !math.IsInf(q.HighMS, 1) || math.IsInf(q.LowMS, 0) {
		t.Errorf("censored p95: %+v", q)
	}
	if _, err := q.MarshalJSON(); err != nil {
		t.Errorf("JSON of a censored quantile: %v", err)
	}
}

// fake answers like an app whose ready time is work/cpus plus noise, that
// misses past the deadline and is OOM-killed below a memory floor.
type fake struct {
	work     float64 // ms of CPU
	floor    int64   // OOM below
	rng      *rand.Rand
	starts   map[Point]int
	failAt   int // return an error after this many starts (0: never)
	total    int
	deadline float64
}

func newFake(work float64, floor int64) *fake {
	return &fake{work: work, floor: floor, rng: rand.New(rand.NewPCG(1, 2)), starts: map[Point]int{}, deadline: 3000}
}

func (f *fake) Sample(ctx context.Context, _ string, p Point, n int) ([]result.Record, error) {
	var out []result.Record
	for i := 0; i < n; i++ {
		if f.failAt > 0 && f.total >= f.failAt {
			return out, context.Canceled
		}
		f.total++
		f.starts[p]++
		if p.Memory > 0 && p.Memory < f.floor {
			out = append(out, rec(0, result.OOMKilled))
			continue
		}
		v := 200 + f.work/p.CPUs*(0.8+0.4*f.rng.Float64())
		if v >= f.deadline {
			out = append(out, rec(0, result.DeadlineExceeded))
			continue
		}
		out = append(out, rec(v, result.OK))
	}
	return out, nil
}

func TestSearchCPU(t *testing.T) {
	// 200 + 250/cpus * [0.8, 1.2]: at 0.1 up to 3200 (misses), at 0.15 up to 2200 (meets p95 < 2.5s).
	f := newFake(250, 0)
	o := Options{Objective: Objective{Level: 95, Bound: 2500 * time.Millisecond}, CPUGrid: []float64{0.05, 0.1, 0.15, 0.2, 0.5, 1}, Recheck: true}
	res, err := Search(context.Background(), f, []string{"app"}, o)
	if err != nil {
		t.Fatal(err)
	}
	a := res.Answers[0]
	if !a.Found || a.CPUs != 0.15 {
		t.Fatalf("answer %+v", a)
	}
	if a.Below == nil || a.Below.Point.CPUs != 0.1 || a.Below.Verdict != Misses {
		t.Errorf("below: %+v", a.Below)
	}
	if a.At.Verdict != Meets || a.At.Count.N < 59 || a.At.Count.K != 0 {
		t.Errorf("at: %+v", a.At)
	}
	if a.Recheck == nil || a.Recheck.Verdict != Meets || len(a.Warnings) != 0 {
		t.Errorf("recheck %+v, warnings %v", a.Recheck, a.Warnings)
	}
	spent := 0
	for _, n := range f.starts {
		spent += n
	}
	if a.Starts != spent || res.Starts != spent {
		t.Errorf("starts %d (result %d), the sampler ran %d", a.Starts, res.Starts, spent)
	}
	// Bisection: the top, then halves; 0.2 and 0.5 lie between known answers.
	if f.starts[Point{CPUs: 0.2}]+f.starts[Point{CPUs: 0.5}] != 0 || len(f.starts) != 4 {
		t.Errorf("probed %v", f.starts)
	}
	// A miss is decided in one or two batches, not sampled to the cap.
	if n := f.starts[Point{CPUs: 0.1}]; n > 10 {
		t.Errorf("%d starts to decide a clear miss", n)
	}
}

func TestSearchNoneMeets(t *testing.T) {
	f := newFake(2000, 0)
	res, err := Search(context.Background(), f, []string{"slow"}, Options{Objective: Objective{Level: 95, Bound: time.Second}, CPUGrid: []float64{0.1, 0.5, 1}})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Answers[0]
	if a.Found || res.Found() || a.Below == nil || a.Below.Point.CPUs != 1 || len(a.Warnings) != 1 {
		t.Errorf("answer %+v", a)
	}
	if len(f.starts) != 1 {
		t.Errorf("probed %v: when the top misses, nothing below can meet", f.starts)
	}
}

func TestSearchMemory(t *testing.T) {
	f := newFake(50, 40<<20)
	o := Options{Objective: Objective{Level: 95, Bound: 3 * time.Second}, CPUGrid: []float64{0.05, 0.1, 1}, MemoryGrid: DefaultMemoryGrid}
	res, err := Search(context.Background(), f, []string{"app"}, o)
	if err != nil {
		t.Fatal(err)
	}
	a := res.Answers[0]
	if !a.Found || a.CPUs != 0.05 || !a.MemoryFound || a.Memory != 48<<20 {
		t.Fatalf("answer cpus %v memory %v: %+v", a.CPUs, a.Memory, a)
	}
	if a.MemBelow == nil || a.MemBelow.Verdict != OOM || a.MemBelow.Count.N > DefaultBatch {
		t.Errorf("memory below: %+v (an OOM kill decides at once)", a.MemBelow)
	}
	if !res.Found() {
		t.Error("Found false")
	}
}

func TestSearchCappedIsConservative(t *testing.T) {
	// 1..2000 uniform-ish at every quota with bound 1900: about 5% reach it, right at the tail.
	f := newFake(0, 0)
	f.work = 0
	s := samplerFunc(func(n int) []result.Record {
		var out []result.Record
		for i := 0; i < n; i++ {
			out = append(out, rec(float64(f.rng.IntN(2000)), result.OK))
		}
		return out
	})
	res, err := Search(context.Background(), s, []string{"edge"}, Options{Objective: Objective{Level: 95, Bound: 1900 * time.Millisecond},
		CPUGrid: []float64{1}, MaxPerProbe: 20, Batch: 5})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Answers[0]
	if a.Found {
		t.Errorf("an undecided probe was taken as meeting: %+v", a.Below)
	}
	if a.Below == nil || !a.Below.Capped || a.Below.Count.N != 20 {
		t.Errorf("probe %+v: want capped at 20", a.Below)
	}
}

type samplerFunc func(n int) []result.Record

func (f samplerFunc) Sample(_ context.Context, _ string, _ Point, n int) ([]result.Record, error) {
	return f(n), nil
}

func TestSearchInterrupted(t *testing.T) {
	f := newFake(250, 0)
	f.failAt = 12
	res, err := Search(context.Background(), f, []string{"a", "b"}, Options{Objective: Objective{Level: 95, Bound: 2500 * time.Millisecond}})
	if !errors.Is(err, context.Canceled) || res == nil || len(res.Answers) != 1 || res.Starts != 12 {
		t.Errorf("interrupted search: %v, %+v", err, res)
	}
}

func TestOptionsCheck(t *testing.T) {
	ok := Options{Objective: Objective{Level: 95, Bound: time.Second}}
	if err := ok.Check(); err != nil {
		t.Errorf("defaults: %v", err)
	}
	for _, bad := range []Options{
		{Objective: ok.Objective, CPUGrid: []float64{0.2, 0.1}},
		{Objective: ok.Objective, CPUGrid: []float64{0.1, 0.1}},
		{Objective: ok.Objective, Confidence: 1},
		{Objective: ok.Objective, Batch: 10, MaxPerProbe: 5},
		{Objective: ok.Objective, MemoryGrid: []int64{64 << 20, 32 << 20}},
		{},
	} {
		if bad.Check() == nil {
			t.Errorf("accepted %+v", bad)
		}
	}
}
