package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A run leaves report.html in its directory, the same page that `coldstart
// report --format html` renders from the journal; --html=false leaves none.
func TestRunWritesHTMLReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	_, stderr, err := run(t, "run", "--runs", "2", "--quiet", "--out", dir, "../../scenarios/quickstart.yaml")
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
	}
	if strings.Contains(stderr, "not written") {
		t.Errorf("stderr: %s", stderr)
	}
	page, err := os.ReadFile(filepath.Join(dir, HTMLReportFile))
	if err != nil {
		t.Fatalf("run left no %s: %v\nstderr:\n%s", HTMLReportFile, err, stderr)
	}
	for _, want := range []string{"<!DOCTYPE html>", "Content-Security-Policy", "coldstart report: quickstart", `id="s1-go-hello"`, "<svg"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("%s lacks %q", HTMLReportFile, want)
		}
	}
	again, _, err := run(t, "report", "--format", "html", dir)
	if err != nil {
		t.Fatal(err)
	}
	if again != string(page) {
		t.Errorf("report --format html differs from the run's %s", HTMLReportFile)
	}

	none := filepath.Join(t.TempDir(), "run")
	if _, stderr, err := run(t, "run", "--runs", "1", "--quiet", "--html=false", "--out", none, "../../scenarios/quickstart.yaml"); err != nil {
		t.Fatalf("run --html=false: %v\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(none, HTMLReportFile)); !os.IsNotExist(err) {
		t.Errorf("--html=false: %s exists (%v)", HTMLReportFile, err)
	}
}

// `coldstart report --format html` of the recorded runs in reports/testdata
// renders the golden pages the reports package checks: the command and the
// renderer's tests read a run directory the same way.
func TestReportHTMLGolden(t *testing.T) {
	for _, name := range []string{"quickstart", "seed-trimmed"} {
		dir := filepath.Join("..", "..", "reports", "testdata", "html", name)
		out, stderr, err := run(t, "report", "--format", "html", dir)
		if err != nil {
			t.Fatalf("%s: %v %s", name, err, stderr)
		}
		want, err := os.ReadFile(dir + ".html")
		if err != nil {
			t.Fatal(err)
		}
		if out != string(want) {
			t.Errorf("report --format html %s differs from %s.html", dir, dir)
		}
	}
}
