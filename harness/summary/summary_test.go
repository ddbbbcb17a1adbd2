package summary

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"testing"

	"github.com/coldstart/coldstart/harness/result"
)

// measured returns n measured starts of scenario "s": the first n-m ok with
// ready_ms 10, 20, ..., the last m deadline_exceeded.
func measured(n, m int) []result.Record {
	var recs []result.Record
	for i := range n {
		r := result.Record{Run: "r1", Scenario: "s", Kind: result.KindMeasure, Iteration: i, Seq: i, Image: "img", DeadlineMS: 3000, Attempts: 2}
		if i < n-m {
			r.Outcome = result.OK
			r.ReadyMS = result.F(float64(10 * (i + 1)))
			r.SocketMS = result.F(float64(i + 1))
		} else {
			r.Outcome = result.DeadlineExceeded
			r.Error = "deadline"
		}
		recs = append(recs, r)
	}
	return recs
}

func TestCensoredPercentiles(t *testing.T) {
	// c is the set of reported quantiles expected to be censored. With type 7
	// a level is censored when its rank p·(n−1) exceeds n−m−1, the index of
	// the slowest ok start: the interpolation then touches a miss.
	tests := []struct {
		n, m int
		c    []string
	}{
		{0, 0, nil},
		{1, 0, nil},
		{1, 1, []string{"min", "p50", "p90", "p95", "p99", "max"}},
		{2, 0, nil},
		{2, 1, []string{"p50", "p90", "p95", "p99", "max"}}, // rank 0.5 touches index 1
		{2, 2, []string{"min", "p50", "p90", "p95", "p99", "max"}},
		{10, 0, nil},
		{10, 1, []string{"p90", "p95", "p99", "max"}},        // 10%: p90 rank 8.1 touches index 9
		{10, 5, []string{"p50", "p90", "p95", "p99", "max"}}, // 50%: p50 rank 4.5 touches index 5
		{10, 10, []string{"min", "p50", "p90", "p95", "p99", "max"}},
		{100, 0, nil},
		{100, 4, []string{"p99", "max"}},                // 4%: p95 rank 94.05 uses 94, 95 (ok); p99 rank 98.01
		{100, 10, []string{"p90", "p95", "p99", "max"}}, // 10%: p90 rank 89.1 touches index 90
		{100, 50, []string{"p50", "p90", "p95", "p99", "max"}},
		{100, 100, []string{"min", "p50", "p90", "p95", "p99", "max"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("n=%d/miss=%d", tt.n, tt.m), func(t *testing.T) {
			s := Compute(measured(tt.n, tt.m), Options{Order: []string{"s"}})
			sc := s.Scenarios[0]
			if sc.N != tt.n || sc.OK != tt.n-tt.m || sc.Misses.Get(result.DeadlineExceeded) != tt.m {
				t.Fatalf("n=%d ok=%d misses=%v", sc.N, sc.OK, sc.Misses)
			}
			d := sc.ReadyMS
			if d.N != tt.n || d.Censored != tt.m {
				t.Errorf("dist n=%d censored=%d", d.N, d.Censored)
			}
			got := map[string]Value{"min": d.Min, "p50": d.P50, "p90": d.P90, "p95": d.P95, "p99": d.P99, "max": d.Max}
			for name, v := range got {
				want := slices.Contains(tt.c, name)
				if v.Censored != want {
					t.Errorf("%s censored=%v, want %v (%+v)", name, v.Censored, want, v)
				}
				if tt.n == 0 && (v.Known || v.Censored) {
					t.Errorf("%s = %+v with no starts, want absent", name, v)
				}
				if tt.n > 0 && !v.Censored && !v.Known {
					t.Errorf("%s absent", name)
				}
				if v.Censored && (v.Bound > 3000 || v.Bound <= 0) {
					t.Errorf("%s bound %v outside (0, deadline]", name, v.Bound)
				}
			}
			if tt.m == tt.n {
				if d.MeanOK.Known || d.StddevOK.Known {
					t.Errorf("mean/stddev over no ok starts: %+v %+v", d.MeanOK, d.StddevOK)
				}
			} else if !d.MeanOK.Known || d.MeanOK.V != round(5*float64(tt.n-tt.m+1)) {
				t.Errorf("mean_ok = %+v, want mean of ok starts", d.MeanOK)
			}
		})
	}
}

func TestPercentileValues(t *testing.T) {
	// n=10, ready 10..100 ms, no misses.
	d := Compute(measured(10, 0), Options{}).Scenarios[0].ReadyMS
	want := Quantiles{Min: Num(10), P50: Num(55), P90: Num(91), P95: Num(95.5), P99: Num(99.1), Max: Num(100)}
	if d.Quantiles != want {
		t.Errorf("got %+v\nwant %+v", d.Quantiles, want)
	}
	if d.StddevOK != Num(round(math.Sqrt(825*10/9.0))) {
		t.Errorf("stddev_ok = %+v", d.StddevOK)
	}

	// One miss of ten: p90 interpolates between 90 ms and a miss, so it is
	// only known to exceed 90 + 0.1·(3000−90) = 381 ms.
	d = Compute(measured(10, 1), Options{}).Scenarios[0].ReadyMS
	want = Quantiles{Min: Num(10), P50: Num(55), P90: Above(381), P95: Above(1690.5), P99: Above(2738.1), Max: Above(3000)}
	if d.Quantiles != want {
		t.Errorf("got %+v\nwant %+v", d.Quantiles, want)
	}
}

func TestSocketCensoring(t *testing.T) {
	recs := measured(4, 2)
	recs[2].SocketMS = result.F(50) // a miss whose socket appeared
	d := Compute(recs, Options{}).Scenarios[0].SocketMS
	if d.N != 4 || d.Censored != 1 {
		t.Fatalf("socket n=%d censored=%d, want 4, 1", d.N, d.Censored)
	}
	if d.Max != Above(3000) || d.P50 != Num(26) {
		t.Errorf("socket max=%+v p50=%+v", d.Max, d.P50)
	}
}

func TestKindsExcluded(t *testing.T) {
	recs := measured(5, 1)
	for i := range 3 {
		recs = append(recs, result.Record{Scenario: "s", Kind: result.KindWarmup, Outcome: result.OK, ReadyMS: result.F(9000), Seq: 10 + i,
			Cgroup: &result.Sample{ThrottledMS: 999}})
	}
	recs = append(recs, result.Record{Scenario: "s", Kind: result.KindDiagnostic, Outcome: result.OOMKilled, Seq: 20,
		Imports: &result.Imports{TotalUS: 1000}})
	recs = append(recs, result.Record{Scenario: "s", Kind: result.KindWarmup, Outcome: result.StartFailed, Seq: 21})
	s := Compute(recs, Options{Order: []string{"s"}, Planned: 10})
	sc := s.Scenarios[0]
	if sc.N != 5 || sc.OK != 4 || sc.NWarmup != 4 || sc.NDiagnostic != 1 {
		t.Errorf("n=%d ok=%d warmup=%d diagnostic=%d", sc.N, sc.OK, sc.NWarmup, sc.NDiagnostic)
	}
	if sc.Misses.Get(result.OOMKilled) != 0 || sc.Misses.Get(result.StartFailed) != 0 || sc.Misses.Total() != 1 {
		t.Errorf("misses %v count non-measured starts", sc.Misses)
	}
	if sc.ReadyMS.Min != Num(10) || sc.ThrottledMS.N != 0 {
		t.Errorf("warmup leaked into ready %+v or cgroup n=%d", sc.ReadyMS.Min, sc.ThrottledMS.N)
	}
	if s.Completed != len(recs) {
		t.Errorf("completed %d, want %d", s.Completed, len(recs))
	}
	var order []result.Outcome
	for _, oc := range sc.Misses {
		order = append(order, oc.Outcome)
	}
	if !slices.Equal(order, result.Outcomes[1:]) {
		t.Errorf("misses order %v", order)
	}
}

func codes(ws []Warning) []Code {
	var c []Code
	for _, w := range ws {
		c = append(c, w.Code)
	}
	return c
}

func TestWarnings(t *testing.T) {
	recs := measured(10, 1)
	for i := range recs {
		recs[i].Limits = []result.Limit{
			{Name: "cpu", Unit: result.UnitCPU, Requested: result.CPU(10000, 100000), Observed: result.CPU(10000, 100000), Enforced: result.CPU(10000, 100000), OK: true},
			{Name: "kernel_memory", Unit: result.UnitBytes, Requested: result.Of(128 << 20), Observed: result.Of(128 << 20), Enforced: result.Amount{State: result.NotEnforced}},
		}
		recs[i].Cgroup = &result.Sample{ThrottledPeriods: 5, ThrottledMS: 400}
	}
	recs[3].Limits = recs[3].Limits[:1]
	s := Compute(recs, Options{Order: []string{"s", "never-ran"}, Planned: 40, Interrupted: true, Run: "r1"})
	got := codes(s.Scenarios[0].Warnings)
	want := []Code{Misses, FewSamplesP95, FewSamplesP99, Throttled, LimitNotEnforced, LimitsDiffer}
	if !slices.Equal(got, want) {
		t.Errorf("scenario warnings %v, want %v\n%+v", got, want, s.Scenarios[0].Warnings)
	}
	if m := s.Scenarios[0].Warnings[0].Message; m != "1 of 10 measured starts (10.0%) not ready within 3000 ms: deadline_exceeded 1; their ready time is censored" {
		t.Errorf("misses message %q", m)
	}
	if got := codes(s.Scenarios[1].Warnings); !slices.Equal(got, []Code{NoStarts}) {
		t.Errorf("empty scenario warnings %v", got)
	}
	if got := codes(s.Warnings); !slices.Equal(got, []Code{Interrupted}) {
		t.Errorf("run warnings %v", got)
	}
	if s.Warnings[0].Message != "run interrupted: completed 10 of 40 planned starts" {
		t.Errorf("interrupted message %q", s.Warnings[0].Message)
	}

	many := Compute(measured(100, 0), Options{Planned: 100}).Scenarios[0]
	if got := codes(many.Warnings); !slices.Equal(got, []Code{NoLimits}) {
		t.Errorf("n=100 warnings %v", got)
	}
	mid := Compute(measured(50, 0), Options{}).Scenarios[0]
	if got := codes(mid.Warnings); !slices.Equal(got, []Code{FewSamplesP99, NoLimits}) {
		t.Errorf("n=50 warnings %v", got)
	}
}

func TestImports(t *testing.T) {
	recs := measured(3, 0)
	for i := range recs {
		recs[i].ReadyMS = result.F(float64(100 * (i + 1))) // p50 200 ms
	}
	prof := func(total int64, mods ...result.Module) *result.Imports {
		return &result.Imports{TotalUS: total, Modules: mods}
	}
	diag := []struct {
		ready     float64
		throttled float64
		imp       *result.Imports
	}{
		{1000, 500, prof(100000, result.Module{Name: "aiohttp", SelfUS: 10, CumulativeUS: 80000}, result.Module{Name: "json", SelfUS: 5, CumulativeUS: 900})},
		{2000, 800, prof(300000, result.Module{Name: "aiohttp", SelfUS: 30, CumulativeUS: 90000})},
		{1500, 600, prof(150000, result.Module{Name: "aiohttp", SelfUS: 20, CumulativeUS: 100000}, result.Module{Name: "json", SelfUS: 7, CumulativeUS: 1100})},
	}
	for i, d := range diag {
		recs = append(recs, result.Record{Scenario: "s", Kind: result.KindDiagnostic, Outcome: result.OK, Seq: 100 + i,
			ReadyMS: result.F(d.ready), Cgroup: &result.Sample{ThrottledMS: d.throttled}, Imports: d.imp})
	}
	im := Compute(recs, Options{}).Scenarios[0].Imports
	if im == nil {
		t.Fatal("no import summary")
	}
	// Estimates per start: 500·0.1=50, 800·0.15=120, 600·0.1=60 → median 60.
	want := &Imports{
		Starts: 3, TotalUSP50: 150000,
		ReadyMSP50: Num(200), ShareOfReadyP50: Num(0.75), DiagReadyMSP50: Num(1500),
		EstThrottledMS: Num(60), EstimateNote: EstimateNote,
		Modules: []Module{
			{Name: "aiohttp", Starts: 3, SelfUSP50: 20, CumulativeUSP50: 90000},
			{Name: "json", Starts: 2, SelfUSP50: 6, CumulativeUSP50: 1000},
		},
	}
	if !reflect.DeepEqual(im, want) {
		t.Errorf("got  %+v\nwant %+v", im, want)
	}
	if Compute(measured(3, 0), Options{}).Scenarios[0].Imports != nil {
		t.Error("import summary without diagnostic starts")
	}
}

func TestJSONRoundTrip(t *testing.T) {
	recs := measured(10, 2)
	recs[9].Outcome = result.OOMKilled
	recs = append(recs, result.Record{Scenario: "s", Kind: result.KindDiagnostic, Outcome: result.OK, ReadyMS: result.F(800),
		Imports: &result.Imports{TotalUS: 5000, Modules: []result.Module{{Name: "m", SelfUS: 1, CumulativeUS: 2}}}})
	recs = append(recs, result.Record{Scenario: "t", Kind: result.KindMeasure, Outcome: "weird"})
	for i := range recs {
		recs[i].Cgroup = &result.Sample{ThrottledMS: float64(i), MemoryPeak: uint64(i) << 20, CPUUsageMS: 3.25}
		recs[i].Limits = []result.Limit{{Name: "kernel_memory", Unit: result.UnitBytes, Requested: result.Of(128 << 20), Enforced: result.Amount{State: result.NotEnforced}}}
	}
	s := Compute(recs, Options{Suite: "x", Run: "r1", Order: []string{"s"}, Planned: 30, Interrupted: true})
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, &back) {
		t.Errorf("round trip differs:\n%s", b)
	}
	for _, frag := range []string{
		`"percentile_method": "` + PercentileMethod + `"`,
		`"max": {"value": null, "censored": true, "bound_ms": 3000}`,
		`"misses": {"deadline_exceeded":1,"exited_before_ready":0,"oom_killed":1,"start_failed":0,"engine_error":0,"contract_violation":0}`,
		`"weird":1}`,
		`"stddev_ok": `,
	} {
		if !bytes.Contains(normalize(b), normalize([]byte(frag))) {
			t.Errorf("summary.json lacks %s", frag)
		}
	}
}

// normalize strips whitespace outside strings well enough for the fragments above.
func normalize(b []byte) []byte {
	var out []byte
	in := false
	for _, c := range b {
		if c == '"' {
			in = !in
		}
		if !in && (c == ' ' || c == '\n') {
			continue
		}
		out = append(out, c)
	}
	return out
}

func TestValueJSON(t *testing.T) {
	for _, v := range []Value{{}, Num(0), Num(12.5), Above(3000), Above(1110.5)} {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var back Value
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if back != v {
			t.Errorf("%s: %+v != %+v", b, back, v)
		}
	}
	if _, err := json.Marshal(Num(math.Inf(1))); err == nil {
		t.Error("+Inf marshalled")
	}
}
