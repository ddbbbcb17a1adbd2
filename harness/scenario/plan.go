package scenario

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
)

// PlanOrder describes the order Plan produces, for the run manifest.
const PlanOrder = "warmups, then measured starts round-robin across scenarios (a paired scenario's baseline and candidate in adjacent pairs, their order within each pair drawn with the recorded seed; in a suite with sweeps or bursts, the order of the turns within each round shuffled with the recorded seed; a burst's starts adjacent), then diagnostic starts"

// Plan lists every start of the suite: each scenario's warmups first, then
// the measured starts round-robin across scenarios (a, b, c, a, b, c, ...),
// so that drift in the host (thermal, page cache, other load) spreads evenly
// over the scenarios instead of biasing whichever ran last, then the
// diagnostic starts. A paired scenario's baseline and candidate take their
// turn together, as an adjacent pair in an order drawn from seed (A B or
// B A), so that both halves of a pair see the same host. Iteration counts
// within a scenario entry and kind; the two starts of a pair share it.
//
// In a suite with sweeps or bursts the turns of each round are shuffled
// with seed too: cells listed in order (cpus 0.05, 0.1, ...) would otherwise
// always run in that order, and a drift within a round would look like an
// effect of the swept key. A burst (Concurrency N > 1) is one turn of N
// adjacent starts with iterations it*N .. it*N+N-1.
func (s *Suite) Plan(seed int64) []Start {
	var plan []Start
	for i, sc := range s.Scenarios {
		for it := 0; it < sc.Warmup; it++ {
			plan = append(plan, Start{Scenario: i, Iteration: it, Kind: result.KindWarmup})
		}
	}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x636f6c64))
	groups := s.turns()
	most := 0
	for _, sc := range s.Scenarios {
		most = max(most, sc.Runs)
	}
	shuffle := s.Swept()
	for it := 0; it < most; it++ {
		var round [][]Start
		for _, g := range groups {
			if it >= s.Scenarios[g[0]].Runs {
				continue
			}
			if len(g) == 2 && rng.IntN(2) == 1 {
				g = []int{g[1], g[0]}
			}
			var turn []Start
			for _, i := range g {
				n := s.Scenarios[i].Concurrency
				if n <= 1 {
					turn = append(turn, Start{Scenario: i, Iteration: it, Kind: result.KindMeasure})
					continue
				}
				for k := 0; k < n; k++ {
					turn = append(turn, Start{Scenario: i, Iteration: it*n + k, Kind: result.KindMeasure, Burst: it + 1, Index: k})
				}
			}
			round = append(round, turn)
		}
		if shuffle {
			rng.Shuffle(len(round), func(a, b int) { round[a], round[b] = round[b], round[a] })
		}
		for _, turn := range round {
			plan = append(plan, turn...)
		}
	}
	for i, sc := range s.Scenarios {
		for it := 0; it < sc.ImportTime; it++ {
			plan = append(plan, Start{Scenario: i, Iteration: it, Kind: result.KindDiagnostic})
		}
	}
	return plan
}

// turns groups the scenario entries that take a turn together: one plain
// scenario, or a paired scenario's baseline and candidate.
func (s *Suite) turns() [][]int {
	var groups [][]int
	at := map[string]int{}
	for i, sc := range s.Scenarios {
		if sc.Variant == "" {
			groups = append(groups, []int{i})
			continue
		}
		if g, ok := at[sc.Name]; ok {
			groups[g] = append(groups[g], i)
			continue
		}
		at[sc.Name] = len(groups)
		groups = append(groups, []int{i})
	}
	return groups
}

// Paired reports whether the suite has a paired scenario.
func (s *Suite) Paired() bool {
	for _, sc := range s.Scenarios {
		if sc.Variant != "" {
			return true
		}
	}
	return false
}

// Pair turns every selected scenario that is not a calibration into a paired
// one: the baseline runs image baseline, the candidate image candidate, and
// neither builds (the images must be on the engine). It is the command
// line's way to a paired comparison: a CI job has two image tags.
func (s *Suite) Pair(baseline, candidate string) error {
	var out []Scenario
	paired := 0
	for _, sc := range s.Scenarios {
		if sc.Calibration || sc.Variant != "" {
			out = append(out, sc)
			continue
		}
		paired++
		for _, v := range []struct{ name, image string }{{VariantBaseline, baseline}, {VariantCandidate, candidate}} {
			c := sc
			c.Variant, c.Image, c.Build = v.name, v.image, nil
			out = append(out, c)
		}
	}
	if paired == 0 {
		return fmt.Errorf("suite %s has no scenario to pair (calibration scenarios and paired ones are left as they are)", s.Name)
	}
	s.Scenarios = out
	return nil
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
	found := map[string]bool{}
	for _, sc := range s.Scenarios {
		if want[sc.Name] {
			kept = append(kept, sc) // both variants of a paired scenario
			found[sc.Name] = true
		}
	}
	if len(found) < len(want) {
		var unknown, have []string
		for _, n := range names {
			if !found[n] {
				unknown = append(unknown, fmt.Sprintf("%q", n))
				found[n] = true // name each once
			}
		}
		for _, sc := range s.Scenarios {
			if !slices.Contains(have, sc.Name) {
				have = append(have, sc.Name)
			}
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
