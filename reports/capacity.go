package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/coldstart/coldstart/harness/capacity"
)

// CapacityFormat is one output format of a capacity search.
type CapacityFormat struct {
	Name   string
	Render func(w io.Writer, r *capacity.Result) error
}

var capacityFormats = []CapacityFormat{
	{Name: "text", Render: func(w io.Writer, r *capacity.Result) error { return writeText(w, capacityDoc(r)) }},
	{Name: "markdown", Render: func(w io.Writer, r *capacity.Result) error { return writeMarkdown(w, capacityDoc(r)) }},
	{Name: "json", Render: func(w io.Writer, r *capacity.Result) error {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		e.SetEscapeHTML(false)
		return e.Encode(r)
	}},
}

// LookupCapacity returns the capacity format called name.
func LookupCapacity(name string) (CapacityFormat, bool) {
	for _, f := range capacityFormats {
		if f.Name == name {
			return f, true
		}
	}
	return CapacityFormat{}, false
}

// CapacityNames lists the capacity formats.
func CapacityNames() []string {
	var n []string
	for _, f := range capacityFormats {
		n = append(n, f.Name)
	}
	return n
}

// capacityDoc is the search as a document: the answers, then each
// scenario's probes in the order they ran.
func capacityDoc(r *capacity.Result) []block {
	level := "p?"
	if o, err := capacity.ParseObjective(r.Objective); err == nil {
		level = "p" + strconv.FormatFloat(o.Level, 'f', -1, 64)
	}
	doc := []block{{heading: "coldstart plan: " + r.Objective},
		{para: fmt.Sprintf("The smallest CPU quota (and memory limit) of the grid under which each scenario meets %s, each probe decided at %.0f%% confidence "+
			"(batches of %d, at most %d starts per probe). Method: %s.", r.Objective, r.Confidence*100, r.Batch, r.MaxPerProbe, r.Method)}}
	main := block{numeric: true, header: []string{"scenario", "min cpus", level + " there (CI)", "next lower step", level + " there (CI)", "min memory", "starts", "wall s"}}
	for _, a := range r.Answers {
		row := []string{a.Scenario, "none", "-", "-", "-", "-", strconv.Itoa(a.Starts), fmt.Sprintf("%.0f", a.WallMS/1000)}
		if a.Found {
			row[1] = strconv.FormatFloat(a.CPUs, 'f', -1, 64)
			row[2] = quantCI(a.At)
		}
		if b := a.Below; b != nil {
			row[3] = strconv.FormatFloat(b.Point.CPUs, 'f', -1, 64) + ": " + string(b.Verdict)
			if b.Capped {
				row[3] += " (capped)"
			}
			row[4] = quantCI(b)
		}
		switch {
		case a.MemorySearched && a.MemoryFound:
			row[5] = capacity.FormatMemory(a.Memory)
			if mb := a.MemBelow; mb != nil {
				row[5] += fmt.Sprintf(" (%s: %s)", capacity.FormatMemory(mb.Point.Memory), mb.Verdict)
			}
		case a.MemorySearched:
			row[5] = "none"
		}
		main.rows = append(main.rows, row)
	}
	doc = append(doc, main)
	state := "complete"
	if r.Interrupted {
		state = "interrupted"
	}
	doc = append(doc, block{para: fmt.Sprintf("%d starts in %.0f s (%s).", r.Starts, r.WallMS/1000, state)})
	for _, a := range r.Answers {
		b := block{sub: a.Scenario + ": probes", numeric: true,
			header: []string{"phase", "cell", "verdict", "starts", "at or above bound", "oom", level + " (CI)", "wall s"}}
		for _, p := range a.Probes {
			v := string(p.Verdict)
			if p.Capped {
				v += " (capped: counted as misses)"
			}
			b.rows = append(b.rows, []string{p.Phase, p.Point.Cell(), v, strconv.Itoa(p.Count.N), strconv.Itoa(p.Count.K),
				strconv.Itoa(p.Count.OOM), quantCI(&p), fmt.Sprintf("%.1f", p.WallMS/1000)})
		}
		doc = append(doc, b)
		if len(a.Warnings) > 0 {
			ws := append([]string(nil), a.Warnings...)
			sort.Strings(ws)
			doc = append(doc, block{items: ws})
		}
	}
	return doc
}

// quantCI is a probe's observed percentile with its interval: "812.4 ms [640.1, 901.2]".
func quantCI(p *capacity.Probe) string {
	if p == nil {
		return "-"
	}
	q := p.Quantile
	return fmt.Sprintf("%s [%s, %s]", capacity.FormatMS(q.MS), capacity.FormatMS(q.LowMS), capacity.FormatMS(q.HighMS))
}
