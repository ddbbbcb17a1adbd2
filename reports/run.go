package reports

import (
	"encoding/json"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/summary"
)

// LoadRun reads a run directory and recomputes its summary from the journal,
// as the run itself did: measure once, render many times. Nothing in the
// directory is changed and nothing is started.
func LoadRun(dir string) (Input, error) {
	r, err := journal.LoadRun(dir)
	if err != nil {
		return Input{}, err
	}
	s := summary.OfRun(r.Records, r.Manifest, r.Interrupted, r.Warnings)
	if len(r.Summary) > 0 {
		// Measured by the run itself, not recomputable.
		var prev summary.Summary
		if json.Unmarshal(r.Summary, &prev) == nil {
			s.Harness = prev.Harness
		}
	}
	return Input{Summary: s, Records: r.Records, Manifest: r.Manifest}, nil
}
