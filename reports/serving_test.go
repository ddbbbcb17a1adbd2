package reports

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/perf/benchfmt"
)

// Serving is in every format: the fixture's py-aiohttp sends a work
// request (4 of 10 starts served; one ready start not answered in time,
// one answered 500).
func TestServingInEveryFormat(t *testing.T) {
	in := input()
	want := map[string][]string{
		"text":     {"-- serving --", "py-aiohttp  10  4       6 (2)", "serving ms          10  2250.0  > 3000", `serving: POST /work -> 200 containing "work-done"; 4 of 10`},
		"markdown": {"### serving", "| py-aiohttp | 10 | 4 | 6 (2) |", "| serving − ready ms | 4 |"},
		"json":     {`"serving": {`, `"ready_not_served": 2`, `"call_failed": 1`, `"serving_ms": {`},
		"csv":      {"serving_ms,serving_outcome,serving_attempts,serving_status,serving_error,serving_cpu_usage_ms,contract,call_id", ",call_failed,1,500,POST /work: call failed: answered 500,"},
		"benchfmt": {"serving-ns/op", "1 serving-miss/op"},
		"junit":    {`name="serving_p95_within_deadline"`, `type="serving_call_failed"`, `type="serving_deadline_exceeded"`},
		"html":     {`id="s2-py-aiohttp-serving"`, `data-col="serving_p50"`, "serving call_failed", "✗ not served"},
	}
	for _, name := range Names() {
		out := string(render(t, name, in))
		for _, w := range want[name] {
			if !strings.Contains(out, w) {
				t.Errorf("%s lacks %q", name, w)
			}
		}
	}
	// benchstat sees serving as a unit of its own beside ns/op.
	r := benchfmt.NewReader(bytes.NewReader(render(t, "benchfmt", in)), "report.bench")
	units := map[string]int{}
	for r.Scan() {
		if res, ok := r.Result().(*benchfmt.Result); ok && strings.Contains(string(res.Name), "py-aiohttp") {
			for _, v := range res.Values {
				units[v.Unit]++
			}
		}
	}
	if units["serving-sec/op"] != 10 || units["serving-miss/op"] != 10 || units["sec/op"] != 10 {
		t.Errorf("py-aiohttp's units %v, want serving-sec/op (benchfmt reads serving-ns/op so) and serving-miss/op on each of 10 lines", units)
	}
}
