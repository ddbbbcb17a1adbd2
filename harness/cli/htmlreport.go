package cli

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/reports"
)

// HTMLReportFile is the HTML report a run leaves in its directory.
const HTMLReportFile = "report.html"

// writeHTMLReport writes the run's HTML report beside its journal. It is
// derived data: a failure is said on stderr and does not fail the run,
// whose journal and summary are already safe (`coldstart report --format
// html` renders it again).
func writeHTMLReport(dir string, in reports.Input, stderr io.Writer) {
	f, _ := reports.Lookup("html")
	var b bytes.Buffer
	err := f.Render(&b, in)
	if err == nil {
		err = journal.WriteFileAtomic(filepath.Join(dir, HTMLReportFile), b.Bytes())
	}
	if err != nil {
		fmt.Fprintf(stderr, "coldstart: %s not written: %v (render it with: coldstart report --format html %s)\n", HTMLReportFile, err, dir)
	}
}
