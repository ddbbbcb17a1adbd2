package scenario

import (
	"fmt"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
)

// PlanOrder describes the order Plan produces, for the run manifest.
const PlanOrder = "warmups, then measured starts round-robin across scenarios, then diagnostic starts"

// Plan lists every start of the suite: each scenario's warmups first, then the
// measured starts round-robin across scenarios (a, b, c, a, b, c, ...), so
// that drift in the host (thermal, page cache, other load) spreads evenly
// over the scenarios instead of biasing whichever ran last, then the
// diagnostic starts. Iteration counts within a scenario and kind.
func (s *Suite) Plan() []Start {
	var plan []Start
	for i, sc := range s.Scenarios {
		for it := 0; it < sc.Warmup; it++ {
			plan = append(plan, Start{Scenario: i, Iteration: it, Kind: result.KindWarmup})
		}
	}
	most := 0
	for _, sc := range s.Scenarios {
		most = max(most, sc.Runs)
	}
	for it := 0; it < most; it++ {
		for i, sc := range s.Scenarios {
			if it < sc.Runs {
				plan = append(plan, Start{Scenario: i, Iteration: it, Kind: result.KindMeasure})
			}
		}
	}
	for i, sc := range s.Scenarios {
		for it := 0; it < sc.ImportTime; it++ {
			plan = append(plan, Start{Scenario: i, Iteration: it, Kind: result.KindDiagnostic})
		}
	}
	return plan
}

// Select keeps only the named scenarios, in file order. Unknown names are an
// error that names them all, and leave the suite as it was.
func (s *Suite) Select(names []string) error {
	if len(names) == 0 {
		return nil
	}
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var kept []Scenario
	for _, sc := range s.Scenarios {
		if want[sc.Name] {
			kept = append(kept, sc)
			delete(want, sc.Name)
		}
	}
	if len(want) > 0 {
		var unknown, have []string
		for _, n := range names {
			if want[n] {
				unknown = append(unknown, fmt.Sprintf("%q", n))
				delete(want, n) // name each once
			}
		}
		for _, sc := range s.Scenarios {
			have = append(have, sc.Name)
		}
		return fmt.Errorf("suite %s has no scenario %s (have %s)", s.Name, strings.Join(unknown, ", "), strings.Join(have, ", "))
	}
	s.Scenarios = kept
	return nil
}

// SetRuns sets the number of measured starts of every scenario; n < 1 changes nothing.
func (s *Suite) SetRuns(n int) {
	if n < 1 {
		return
	}
	for i := range s.Scenarios {
		s.Scenarios[i].Runs = n
	}
}
