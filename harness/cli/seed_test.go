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
// attribution and its work request (serving): builds the Debian base image when missing (debootstrap, a
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
			if r.HasServing() {
				t.Errorf("diagnostic start %d sent the work request", r.Seq)
			}
			continue
		}
		// The seed's work request: every other start sends it when ready and
		// says how it went; a served one is served after it got ready.
		switch {
		case !r.HasServing():
			t.Errorf("start %d has no serving outcome", r.Seq)
		case r.Outcome != result.OK && r.ServingOutcome != r.Outcome:
			t.Errorf("start %d: %s, serving %s", r.Seq, r.Outcome, r.ServingOutcome)
		case r.ServingOutcome == result.OK && (r.ServingMS == nil || *r.ServingMS < *r.ReadyMS || r.ServingStatus != 200):
			t.Errorf("start %d: served at %v (ready %v), status %d", r.Seq, r.ServingMS, r.ReadyMS, r.ServingStatus)
		}
	}
	if sc.Serving == nil || sc.Serving.N != 2 || !strings.Contains(sc.Serving.Request, "POST /work") {
		t.Errorf("serving statistics %+v", sc.Serving)
	}
	if !strings.Contains(out, "serving p50 ms") {
		t.Errorf("report lacks the serving table:\n%s", out)
	}
	if diag != 3 || sc.ReadyMS.N != 2 {
		t.Errorf("%d diagnostic records, ready_ms over %d starts; want 3 and 2", diag, sc.ReadyMS.N)
	}
	if !strings.Contains(out, "import time") {
		t.Errorf("report lacks the import-time section:\n%s", out)
	}
}
