// Package reports renders a run's records and summary: text, Markdown, JSON,
// CSV, the Go benchmark format, JUnit and a self-contained HTML page. A
// renderer never starts a container; formats are values looked up by name.
package reports

import (
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// Input is what every format renders from.
type Input struct {
	Summary  *summary.Summary
	Records  []result.Record
	Manifest result.Manifest
}

// row is the summary row a record belongs to: its arm, or "arm @host" when
// a merged run's hosts were not pooled.
func (in Input) row(r *result.Record) string {
	if in.Summary != nil && in.Summary.PerHost {
		return r.Arm() + " @" + r.Node
	}
	return r.Arm()
}

// Format is one output format.
type Format struct {
	Name   string
	Ext    string // file extension with the dot
	Doc    string
	Render func(w io.Writer, in Input) error
}

var formats = []Format{
	{Name: "text", Ext: ".txt", Doc: "aligned tables for a terminal: ready_ms percentiles, limits, imports, warnings", Render: renderText},
	{Name: "markdown", Ext: ".md", Doc: "the text report as GitHub Markdown tables", Render: renderMarkdown},
	{Name: "json", Ext: ".json", Doc: "the summary (summary.json), indented", Render: renderJSON},
	{Name: "csv", Ext: ".csv", Doc: "one row per start, all kinds, stable column order; empty cell for a missing value", Render: renderCSV},
	{Name: "benchfmt", Ext: ".bench", Doc: "Go benchmark format for benchstat: one line per measured start, a miss at its deadline with 1 miss/op", Render: renderBench},
	{Name: "junit", Ext: ".xml", Doc: "JUnit XML: a testsuite per scenario, a testcase per measured start, plus p95_within_deadline", Render: renderJUnit},
	{Name: "html", Ext: ".html", Doc: "one self-contained page (no script, no network): deadline verdicts, SVG plots of every scenario, the numbers behind each", Render: renderHTML},
}

// Lookup returns the format called name.
func Lookup(name string) (Format, bool) {
	for _, f := range formats {
		if f.Name == name {
			return f, true
		}
	}
	return Format{}, false
}

// Names lists the formats in a stable order.
func Names() []string {
	names := make([]string, len(formats))
	for i, f := range formats {
		names[i] = f.Name
	}
	return names
}

// ms formats milliseconds; a censored value prints as "> bound".
func ms(v summary.Value) string {
	switch {
	case v.Censored:
		return "> " + trim(strconv.FormatFloat(v.Bound, 'f', 1, 64))
	case v.Known:
		return strconv.FormatFloat(v.V, 'f', 1, 64)
	}
	return "-"
}

func trim(s string) string { return strings.TrimSuffix(s, ".0") }

// mib formats bytes as MiB.
func mib(v summary.Value) string {
	if !v.Known {
		return "-"
	}
	return strconv.FormatFloat(v.V/(1<<20), 'f', 1, 64)
}

// num formats a plain number with no more decimals than it needs.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func pct(part, whole int) string {
	if whole == 0 {
		return "-"
	}
	return strconv.FormatFloat(math.Round(1000*float64(part)/float64(whole))/10, 'f', -1, 64) + "%"
}
