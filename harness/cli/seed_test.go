package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// One Python scenario of the seed suite end to end, with import-time
// attribution: builds the Debian base image when missing (debootstrap, a
// minute on a fresh machine; reused after), the aiohttp app image, runs the
// starts and checks that aiohttp's modules are in the profile.
func TestSeedAiohttpWithAttribution(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Debian base image on a fresh machine")
	}
	dir := filepath.Join(t.TempDir(), "run")
	out, stderr, err := run(t, "run", "--quiet", "--scenario", "python-aiohttp", "--runs", "2", "--out", dir, "../../scenarios/seed.yaml")
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, journal.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s summary.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.Scenarios) != 1 || s.Scenarios[0].Name != "python-aiohttp" {
		t.Fatalf("scenarios: %+v", s.Scenarios)
	}
	sc := s.Scenarios[0]
	if sc.N != 2 || sc.NDiagnostic != 3 {
		t.Errorf("n=%d diagnostic=%d, want 2 and 3", sc.N, sc.NDiagnostic)
	}
	if sc.Imports == nil || len(sc.Imports.Modules) == 0 {
		t.Fatalf("no import profile in the summary:\n%s", out)
	}
	found := map[string]bool{}
	for _, m := range sc.Imports.Modules {
		found[m.Name] = true
	}
	for _, want := range []string{"aiohttp", "aiohttp.web"} {
		if !found[want] {
			t.Errorf("module %s not in the profile's top modules", want)
		}
	}
	// Diagnostic starts are journaled but never part of the timing statistics.
	recs, _, err := journal.Read(filepath.Join(dir, journal.RunsFile))
	if err != nil {
		t.Fatal(err)
	}
	diag := 0
	for _, r := range recs {
		if r.Kind == result.KindDiagnostic {
			diag++
			if r.Imports == nil || r.Imports.TotalUS <= 0 {
				t.Errorf("diagnostic start %d has no import profile", r.Seq)
			}
		}
	}
	if diag != 3 || sc.ReadyMS.N != 2 {
		t.Errorf("%d diagnostic records, ready_ms over %d starts; want 3 and 2", diag, sc.ReadyMS.N)
	}
	if !strings.Contains(out, "import time") {
		t.Errorf("report lacks the import-time section:\n%s", out)
	}
}
