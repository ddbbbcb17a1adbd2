package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// The two sample functions, Go and Python, under contract: fn and the
// seed's limits, as a user runs scenarios/fn.yaml (setup, build, the base
// image reused or made): every measured start ready at its link and served
// by its first POST /call (--fail-on-miss would exit 4 otherwise), each with
// its own call id, and nothing left on the engine or in the socket base.
func TestFnSuiteServes(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Debian base image on a fresh machine")
	}
	dir := filepath.Join(t.TempDir(), "run")
	base := shortBase(t)
	out, stderr, err := run(t, "run", "--quiet", "--fail-on-miss", "--runs", "3", "--socket-dir", base, "--out", dir, "../../scenarios/fn.yaml")
	if err != nil {
		t.Fatalf("run: exit %d: %v\nstderr:\n%s\n%s", Code(err), err, stderr, out)
	}
	b, err := os.ReadFile(filepath.Join(dir, journal.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s summary.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	for _, sc := range s.Scenarios {
		sv := sc.Serving
		if sv == nil || sc.N != 3 || sv.N != 3 || sv.OK != 3 || !sv.ServingMS.P50.Known || sc.DeadlineMS != 5000 {
			t.Errorf("%s: n %d deadline %g serving %+v", sc.Name, sc.N, sc.DeadlineMS, sv)
		}
		if sv != nil && !strings.Contains(sv.Request, "POST /call") {
			t.Errorf("%s: request %q", sc.Name, sv.Request)
		}
	}
	recs, _, err := journal.Read(filepath.Join(dir, journal.RunsFile))
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range recs {
		if r.Contract != result.ContractFn {
			t.Errorf("seq %d: contract %q", r.Seq, r.Contract)
		}
		if r.Kind == result.KindDiagnostic {
			continue // no call: the import profile ends at the link
		}
		if r.CallID == "" || ids[r.CallID] || r.ServingMS == nil || *r.ServingMS < *r.ReadyMS {
			t.Errorf("seq %d: call id %q (seen %v), ready %v serving %v", r.Seq, r.CallID, ids[r.CallID], r.ReadyMS, r.ServingMS)
		}
		ids[r.CallID] = true
	}
	for _, c := range ownContainers(t) {
		if c.Labels[engine.LabelRun] == recs[0].Run {
			t.Errorf("container %s of the run left behind", c.Name)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(base, "*", "[0-9]*")); len(left) > 0 {
		t.Errorf("socket dirs left behind: %v", left)
	}
}

// --metric takes ready or serving; anything else is refused before the engine.
func TestRunBadMetric(t *testing.T) {
	_, _, err := run(t, "ab", "--quiet", "--metric", "fastest", "../../scenarios/quickstart.yaml")
	if Code(err) != ExitBadInput || !strings.Contains(err.Error(), `--metric "fastest": want ready or serving`) {
		t.Fatalf("exit %d: %v", Code(err), err)
	}
}

// --fail-on-miss counts a start that got ready and was not served.
func TestFailOnMissServing(t *testing.T) {
	s := &summary.Summary{Scenarios: []summary.Scenario{{Name: "app", N: 3, OK: 3,
		Serving: &summary.Serving{N: 3, OK: 2, ReadyNotServed: 1}}}}
	if err := gateErr(s, false); err != nil {
		t.Errorf("without --fail-on-miss: %v", err)
	}
	err := gateErr(s, true)
	if Code(err) != ExitMisses || !strings.Contains(err.Error(), "app: 1 of 3 measured starts not served (1 of them after getting ready)") {
		t.Errorf("exit %d: %v", Code(err), err)
	}
}
