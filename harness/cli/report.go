package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/coldstart/coldstart/harness/bench"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports"
)

// cmdReport renders a run again from its journal: measure once, render many
// times. It never starts a container.
func cmdReport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	format := fs.String("format", "text", strings.Join(reports.Names(), ", "))
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: coldstart report [flags] RUN_DIR\n\nRecomputes the statistics of a run from its runs.jsonl and manifest.json and\nrenders them; nothing is started and nothing in RUN_DIR is changed.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return WithCode(ExitBadInput, errors.New("report takes one run directory"))
	}
	rf, ok := reports.Lookup(*format)
	if !ok {
		return WithCode(ExitBadInput, fmt.Errorf("--format %q: want one of %s", *format, strings.Join(reports.Names(), ", ")))
	}
	dir := fs.Arg(0)
	m, err := bench.ReadManifest(dir)
	if err != nil {
		return WithCode(ExitBadInput, err)
	}
	recs, warns, err := journal.Read(filepath.Join(dir, journal.RunsFile))
	if err != nil {
		return WithCode(ExitBadInput, err)
	}
	// Interrupted as the run recorded it; a run that died without writing
	// its summary is incomplete either way.
	interrupted := len(recs) < m.Planned
	var prev summary.Summary
	if b, err := os.ReadFile(filepath.Join(dir, journal.SummaryFile)); err == nil && json.Unmarshal(b, &prev) == nil {
		interrupted = prev.Interrupted
	}
	s := bench.Summarize(recs, m, m.Planned, interrupted, warns)
	s.Harness = prev.Harness // measured by the run itself, not recomputable
	return rf.Render(stdout, reports.Input{Summary: s, Records: recs, Manifest: m})
}
