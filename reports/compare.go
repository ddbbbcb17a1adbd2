package reports

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/coldstart/coldstart/harness/summary"
)

// RenderComparison writes a comparison of two runs as text, markdown or json.
func RenderComparison(w io.Writer, c *summary.Comparison, format string) error {
	if format == "json" {
		b, err := json.MarshalIndent(c, "", "  ")
		if err != nil {
			return err
		}
		_, err = w.Write(append(b, '\n'))
		return err
	}
	header := []string{"scenario", "n old/new", "misses old/new", "p50 old", "p50 new", "Δp50", "CI", "calibration Δp50",
		"p95 old", "p95 new", "Δp95", "CI", "U-test p", "miss p"}
	cal := "none"
	if c.Calibration != nil {
		cal = pctVal(c.Calibration.P50.Pct, c.Calibration.P50.Significant)
	}
	var rows, serving [][]string
	for _, d := range c.Scenarios {
		name := d.Name
		if d.Calibration {
			name += " (calibration)"
		}
		rows = append(rows, deltaRow(name, summary.MetricDelta{OldN: d.OldN, NewN: d.NewN, OldMisses: d.OldMisses, NewMisses: d.NewMisses,
			P50: d.P50, P95: d.P95, P: d.P, MissP: d.MissP}, cal))
		if d.Serving != nil {
			serving = append(serving, deltaRow(name, *d.Serving, cal))
		}
	}
	note := fmt.Sprintf("ready_ms, old vs new; %.0f%% confidence intervals of the change: %s. * = the interval excludes 0, ? = the data do not bound it.\nCaveat: %s.",
		100*c.Confidence, c.Method, c.Caveat)
	if err := comparisonTable(w, format, header, rows); err != nil {
		return err
	}
	fmt.Fprintf(w, "\n%s\n", note)
	if len(serving) > 0 {
		fmt.Fprintf(w, "\nserving_ms (t0 → the first expected answer to the work request; a start not served is a miss), old vs new:\n\n")
		if err := comparisonTable(w, format, header, serving); err != nil {
			return err
		}
	}
	for _, d := range c.Scenarios {
		for _, wr := range d.Warnings {
			fmt.Fprintf(w, "- %s: %s\n", d.Name, wr)
		}
	}
	return nil
}

// deltaRow is one metric's comparison of one scenario.
func deltaRow(name string, d summary.MetricDelta, cal string) []string {
	return []string{name, fmt.Sprintf("%d/%d", d.OldN, d.NewN), fmt.Sprintf("%d/%d", d.OldMisses, d.NewMisses),
		cmpVal(d.P50.Old), cmpVal(d.P50.New), pctVal(d.P50.Pct, d.P50.Significant), ci(d.P50), cal,
		cmpVal(d.P95.Old), cmpVal(d.P95.New), pctVal(d.P95.Pct, d.P95.Significant), ci(d.P95), fmt.Sprintf("%.3g", d.P), fmt.Sprintf("%.3g", d.MissP)}
}

// comparisonTable writes a table as Markdown or aligned text.
func comparisonTable(w io.Writer, format string, header []string, rows [][]string) error {
	if format == "markdown" {
		fmt.Fprintf(w, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat(" --- |", len(header)))
		for _, r := range rows {
			fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func cmpVal(v summary.Value) string {
	switch {
	case v.Censored:
		return "> " + trim(fmt.Sprintf("%.1f", v.Bound))
	case v.Known:
		return fmt.Sprintf("%.1f", v.V)
	}
	return "-"
}

func pctVal(v summary.Value, sig bool) string {
	if !v.Known {
		return "?"
	}
	s := fmt.Sprintf("%+.1f%%", v.V)
	if sig {
		s += "*"
	}
	return s
}

func ci(d summary.Delta) string {
	b := func(v summary.Value) string {
		if !v.Known {
			return "?"
		}
		return fmt.Sprintf("%+.1f%%", v.V)
	}
	return "[" + b(d.CILow) + ", " + b(d.CIHigh) + "]"
}
