package reports

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

func TestCapacitySection(t *testing.T) {
	var recs []result.Record
	add := func(cpus, mem float64, cpuText, memText string, ready []float64, oom int) {
		sweep := []result.CellValue{{Key: "cpus", Text: cpuText, Number: cpus}, {Key: "memory", Text: memText, Number: mem}}
		cell := "cpus=" + cpuText + ",memory=" + memText
		for _, v := range ready {
			recs = append(recs, result.Record{Scenario: "app", Cell: cell, Sweep: sweep, Kind: result.KindMeasure, DeadlineMS: 3000,
				Outcome: result.OK, ReadyMS: result.F(v)})
		}
		for i := 0; i < oom; i++ {
			recs = append(recs, result.Record{Scenario: "app", Cell: cell, Sweep: sweep, Kind: result.KindMeasure, DeadlineMS: 3000,
				Outcome: result.OOMKilled})
		}
	}
	add(0.1, 64<<20, "0.1", "64m", []float64{2500, 2600, 2700}, 1)
	add(0.1, 128<<20, "0.1", "128m", []float64{2400, 2500, 2600, 2700}, 0)
	add(0.5, 64<<20, "0.5", "64m", []float64{500, 600, 700}, 1)
	add(0.5, 128<<20, "0.5", "128m", []float64{400, 500, 600, 700}, 0)
	recs = append(recs, result.Record{Scenario: "plain", Kind: result.KindMeasure, DeadlineMS: 3000, Outcome: result.OK, ReadyMS: result.F(100)})
	s := summary.Compute(recs, summary.Options{Suite: "s", Run: "r"})
	var b bytes.Buffer
	if err := renderHTML(&b, Input{Summary: s}); err != nil {
		t.Fatal(err)
	}
	page := b.String()
	for _, want := range []string{`id="capacity"`, "app: against cpus", "app: against memory", "ready_ms against cpus",
		"misses and OOM kills against memory", `data-row="cpus=0.5,memory=128m"`, "deadline 3000 ms"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, "plain: against") {
		t.Error("a scenario without a sweep got a capacity plot")
	}
	// A plain run has no capacity section.
	b.Reset()
	s = summary.Compute(recs[len(recs)-1:], summary.Options{Suite: "s", Run: "r"})
	if err := renderHTML(&b, Input{Summary: s}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), `id="capacity"`) {
		t.Error("a run without sweeps got a capacity section")
	}
	// The text report's sweep table: one row per cell.
	b.Reset()
	if err := renderText(&b, Input{Summary: summary.Compute(recs, summary.Options{})}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "app       cpus="); n != 4 {
		t.Errorf("text sweep table: %d cell rows, want 4\n%s", n, b.String())
	}
}
