package reports

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"unicode"

	"github.com/coldstart/coldstart/harness/result"
)

// BenchPrefix is the benchmark name each scenario is a sub-benchmark of.
const BenchPrefix = "BenchmarkColdStart/"

// benchName makes an arm one benchfmt name field. A "/" or "key=value" in
// it becomes benchstat sub-name configuration, which is intended: a paired
// scenario's variants are "app/variant=baseline" and "app/variant=candidate",
// so that `benchstat -col /variant` compares them.
func benchName(arm string) string {
	if name, variant, ok := strings.Cut(arm, " ["); ok {
		arm = name + "/variant=" + strings.TrimSuffix(variant, "]")
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return '_'
		}
		return r
	}, arm)
}

func ns(v float64) string { return fmt.Sprint(int64(math.Round(v * 1e6))) }

// configValue keeps a value on its one line.
func configValue(s string) string { return strings.Join(strings.Fields(s), " ") }

// renderBench writes the Go benchmark format. Only file configuration that
// is the same across runs is written as config lines (suite, goos, goarch):
// benchstat splits tables by config, so a run id or a miss count there would
// keep two runs from being compared. Those go in comments, which the reader
// skips. benchstat cannot represent a censored start, so misses are left out
// and counted in a comment: its medians are of the ok starts only.
func renderBench(w io.Writer, in Input) error {
	bw := bufio.NewWriter(w)
	suite, run := in.Manifest.Suite, in.Manifest.Run
	if in.Summary != nil {
		suite, run = in.Summary.Suite, in.Summary.Run
	}
	// The machine that measured, not the one rendering; manifests from
	// before it was recorded fall back to this one's.
	goarch := in.Manifest.GOARCH
	if goarch == "" {
		goarch = runtime.GOARCH
	}
	fmt.Fprintf(bw, "# coldstart: one line per measured start; ns/op is ready time (t0 to first healthy response), a miss at its deadline with 1 miss/op\n")
	if in.Summary != nil && anyServing(in.Summary) {
		fmt.Fprintf(bw, "# serving-ns/op: t0 to the first expected answer to the work request; a start not served at its deadline with 1 serving-miss/op\n")
	}
	if run != "" {
		fmt.Fprintf(bw, "# run: %s\n", configValue(run))
	}
	if sm := in.Summary; sm != nil {
		// Comments, not config lines: benchstat would refuse to compare runs that differ in them.
		if sm.Interrupted {
			fmt.Fprintf(bw, "# interrupted: %d of %d planned starts\n", sm.Completed, sm.Planned)
		}
		if sm.Resumed > 0 {
			fmt.Fprintf(bw, "# resumed: %d time(s)\n", sm.Resumed)
		}
	}
	if suite != "" {
		fmt.Fprintf(bw, "suite: %s\n", configValue(suite))
	}
	fmt.Fprintf(bw, "goos: linux\ngoarch: %s\n", goarch)
	order, byName := measuredByScenario(in)
	for _, name := range order {
		benchScenario(bw, name, byName[name])
	}
	return bw.Flush()
}

// measuredByScenario groups the measured records by scenario, in the
// summary's order, then first seen.
func measuredByScenario(in Input) (order []string, byName map[string][]*result.Record) {
	byName = map[string][]*result.Record{}
	if in.Summary != nil {
		for _, sc := range in.Summary.Scenarios {
			order = append(order, sc.Name)
			byName[sc.Name] = nil
		}
	}
	for i := range in.Records {
		r := &in.Records[i]
		if r.Kind != result.KindMeasure {
			continue
		}
		arm := in.row(r)
		if _, ok := byName[arm]; !ok {
			order = append(order, arm)
		}
		byName[arm] = append(byName[arm], r)
	}
	return order, byName
}

// benchScenario writes one scenario's lines: one per measured start. A
// miss is written at its deadline (a lower bound of its time: benchstat
// cannot represent a censored value) with 1 miss/op; an ok start has
// 0 miss/op. A change that turns starts into misses so reads as slower,
// and miss/op's mean is the miss rate.
func benchScenario(bw *bufio.Writer, name string, recs []*result.Record) {
	misses := map[result.Outcome]int{}
	for _, r := range recs {
		if r.Outcome != result.OK || r.ReadyMS == nil {
			misses[r.Outcome]++
		}
	}
	var parts []string
	for _, o := range result.Outcomes {
		if misses[o] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", o, misses[o]))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(bw, "\n# %s%s misses, written at their deadline with 1 miss/op: %s\n", BenchPrefix[len("Benchmark"):], benchName(name), strings.Join(parts, ", "))
	} else {
		bw.WriteString("\n")
	}
	for _, r := range recs {
		if r.Outcome != result.OK || r.ReadyMS == nil {
			fmt.Fprintf(bw, "%s%s 1 %s ns/op 1 miss/op%s\n", BenchPrefix, benchName(name), ns(r.DeadlineMS), servingMetrics(r))
			continue
		}
		fmt.Fprintf(bw, "%s%s 1 %s ns/op 0 miss/op%s", BenchPrefix, benchName(name), ns(*r.ReadyMS), servingMetrics(r))
		if r.SocketMS != nil {
			fmt.Fprintf(bw, " %s socket-ns/op", ns(*r.SocketMS))
		}
		if c := r.Cgroup; c != nil {
			fmt.Fprintf(bw, " %s cpu-ns/op %s throttled-ns/op %d throttled-periods/op %d peak-mem-B/op",
				ns(c.CPUUsageMS), ns(c.ThrottledMS), c.ThrottledPeriods, c.MemoryPeak)
		}
		bw.WriteString("\n")
	}
}

// servingMetrics are a start's serving values on its benchmark line: its
// serving time with 0 serving-miss/op, or, not served, its deadline with 1.
func servingMetrics(r *result.Record) string {
	if !r.HasServing() {
		return ""
	}
	if v, ok := servingOf(r); ok {
		return fmt.Sprintf(" %s serving-ns/op 0 serving-miss/op", ns(v))
	}
	return fmt.Sprintf(" %s serving-ns/op 1 serving-miss/op", ns(r.DeadlineMS))
}
