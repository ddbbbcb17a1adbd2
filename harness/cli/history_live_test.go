package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/summary"
)

const seedSuite = "../../scenarios/seed.yaml"

// liveArgs runs go-hello and the calibration workload of the seed suite, a
// few starts each.
func liveArgs(cmd, out, hist string, extra ...string) []string {
	a := []string{cmd, "--quiet", "--format", "json", "--runs", "3", "--scenario", "go-hello,null-workload", "--out", out, "--history", hist}
	return append(append(a, extra...), seedSuite)
}

// expectedCode is the exit code a finished run's summary calls for (no
// --fail-on-miss): what the run must exit with whatever the history did.
func expectedCode(t *testing.T, dir string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, journal.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s summary.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return Code(gateErr(&s, false))
}

// Five real runs on the engine (three plain, two paired A/A with ab) go
// into one history, each with its commit; `coldstart trend` shows all five,
// the calibration workload beside every point and the paired verdicts. A
// run whose history is a garbage file keeps its files and its exit code,
// says why on stderr and how to record it later, and that command then
// records it.
func TestHistoryLive(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the harness against the engine")
	}
	root := t.TempDir()
	hist := filepath.Join(root, "history.db")
	ab := []string{"--baseline", "coldstart/go-hello:latest", "--candidate", "coldstart/go-hello:latest"}
	for i, cmd := range []string{"run", "ab", "run", "ab", "run"} {
		dir := filepath.Join(root, "run"+string(rune('1'+i)))
		extra := []string{"--meta", "commit=c" + string(rune('1'+i))}
		if cmd == "ab" {
			extra = append(extra, ab...)
		}
		_, stderr, err := run(t, liveArgs(cmd, dir, hist, extra...)...)
		if Code(err) != expectedCode(t, dir) {
			t.Fatalf("%s %d: exit %d (%v), the summary calls for %d\n%s", cmd, i+1, Code(err), err, expectedCode(t, dir), stderr)
		}
		if !strings.Contains(stderr, "recorded in history "+hist) {
			t.Fatalf("%s %d: not recorded:\n%s", cmd, i+1, stderr)
		}
	}

	out, stderr, err := run(t, "trend", "--history", hist, "--format", "json")
	if err != nil {
		t.Fatalf("trend: %v\n%s", err, stderr)
	}
	var doc struct {
		Trends []struct {
			Suite       string `json:"suite"`
			Calibration string `json:"calibration"`
			Runs        []struct {
				Meta    map[string]string `json:"meta"`
				Verdict string            `json:"verdict"`
			} `json:"runs"`
			Series []struct {
				Arm    string `json:"arm"`
				Points []struct {
					Index          int           `json:"index"`
					ImageID        string        `json:"image_id"`
					P50            summary.Value `json:"p50_ms"`
					CalibrationP50 summary.Value `json:"calibration_p50_ms"`
					Verdict        *struct {
						Verdict string `json:"verdict"`
						Pairs   int    `json:"pairs"`
					} `json:"verdict"`
				} `json:"points"`
			} `json:"series"`
		} `json:"trends"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Trends) != 1 || len(doc.Trends[0].Runs) != 5 {
		t.Fatalf("trend: %s", out)
	}
	tr := doc.Trends[0]
	arms := map[string]int{}
	for _, s := range tr.Series {
		arms[s.Arm] = len(s.Points)
		for _, p := range s.Points {
			if !p.CalibrationP50.Known {
				t.Errorf("%s run %d: no calibration figure beside it", s.Arm, p.Index+1)
			}
			if !strings.HasPrefix(p.ImageID, "sha256:") {
				t.Errorf("%s run %d: image id %q, want the engine's", s.Arm, p.Index+1, p.ImageID)
			}
			if s.Arm == "go-hello [candidate]" && (p.Verdict == nil || p.Verdict.Pairs != 3) {
				t.Errorf("run %d: paired verdict %+v, want one over 3 pairs", p.Index+1, p.Verdict)
			}
		}
	}
	want := map[string]int{"go-hello": 3, "go-hello [baseline]": 2, "go-hello [candidate]": 2, "null-workload": 5}
	for a, n := range want {
		if arms[a] != n {
			t.Errorf("arm %s has %d points, want %d (arms %v)", a, arms[a], n, arms)
		}
	}
	if tr.Calibration != "null-workload" || tr.Runs[1].Verdict == "" || tr.Runs[0].Verdict != "" || tr.Runs[4].Meta["commit"] != "c5" {
		t.Errorf("trend runs %+v, calibration %q", tr.Runs, tr.Calibration)
	}
	page, _, err := run(t, "trend", "--history", hist, "--format", "html")
	if err != nil || strings.Count(page, "<svg ") != 4 {
		t.Errorf("trend html: %v, %d plots, want 4", err, strings.Count(page, "<svg "))
	}
	t.Logf("trend of 5 live runs:\n%s", mustRun(t, "trend", "--history", hist))

	historyBroken(t, root, hist, ab)
}

// historyBroken: a garbage file as the history.
func historyBroken(t *testing.T, root, hist string, ab []string) {
	garbage := filepath.Join(root, "garbage.db")
	junk := bytes.Repeat([]byte("coldstart history? no: garbage\n"), 200)
	if err := os.WriteFile(garbage, junk, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"run", "ab"} {
		dir := filepath.Join(root, "broken-"+cmd)
		var extra []string
		if cmd == "ab" {
			extra = ab
		}
		_, stderr, err := run(t, liveArgs(cmd, dir, garbage, append(extra, "--meta", "commit=broken")...)...)
		if Code(err) != expectedCode(t, dir) {
			t.Errorf("%s with a garbage history: exit %d (%v), the summary calls for %d", cmd, Code(err), err, expectedCode(t, dir))
		}
		for _, want := range []string{"history not recorded", "not a coldstart history: the file is not SQLite or is corrupt",
			"the run's files are kept in " + dir, "record it later with: coldstart record --history " + garbage + " --meta commit=broken " + dir} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%s: stderr lacks %q:\n%s", cmd, want, stderr)
			}
		}
		for _, f := range []string{journal.ManifestFile, journal.RunsFile, journal.SummaryFile, HTMLReportFile} {
			if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
				t.Errorf("%s: %s not kept: %v", cmd, f, err)
			}
		}
		if _, _, err := run(t, "record", "--history", hist, "--meta", "commit=broken", dir); err != nil {
			t.Errorf("recording %s later: %v", dir, err)
		}
	}
	if b, _ := os.ReadFile(garbage); !bytes.Equal(b, junk) {
		t.Error("the garbage history was changed")
	}
	out, _, err := run(t, "trend", "--history", hist)
	if err != nil || strings.Count(out, "commit=broken") != 2 || !strings.Contains(out, "| 7 |") {
		t.Errorf("the runs recorded later are not in the trend (%v):\n%s", err, out)
	}
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, stderr, err := run(t, args...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, stderr)
	}
	return out
}
