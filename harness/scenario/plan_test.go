package scenario

import (
	"reflect"
	"testing"

	"github.com/coldstart/coldstart/harness/result"
)

func suiteOf(runs ...[3]int) *Suite {
	s := &Suite{Name: "p"}
	for i, r := range runs {
		s.Scenarios = append(s.Scenarios, Scenario{Name: string(rune('a' + i)), Warmup: r[0], Runs: r[1], ImportTime: r[2]})
	}
	return s
}

func TestPlan(t *testing.T) {
	w := func(s, i int) Start { return Start{Scenario: s, Iteration: i, Kind: result.KindWarmup} }
	m := func(s, i int) Start { return Start{Scenario: s, Iteration: i, Kind: result.KindMeasure} }
	d := func(s, i int) Start { return Start{Scenario: s, Iteration: i, Kind: result.KindDiagnostic} }
	for _, tc := range []struct {
		name  string
		suite *Suite
		want  []Start
	}{
		{"interleaved", suiteOf([3]int{1, 3, 0}, [3]int{2, 1, 1}, [3]int{0, 2, 2}),
			[]Start{w(0, 0), w(1, 0), w(1, 1), m(0, 0), m(1, 0), m(2, 0), m(0, 1), m(2, 1), m(0, 2), d(1, 0), d(2, 0), d(2, 1)}},
		{"two alike", suiteOf([3]int{0, 2, 0}, [3]int{0, 2, 0}),
			[]Start{m(0, 0), m(1, 0), m(0, 1), m(1, 1)}},
		{"empty", suiteOf(), nil},
	} {
		if got := tc.suite.Plan(1); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s:\n got %v\nwant %v", tc.name, got, tc.want)
		}
	}
}

func TestSelect(t *testing.T) {
	s := suiteOf([3]int{0, 1, 0}, [3]int{0, 1, 0}, [3]int{0, 1, 0})
	if err := s.Select([]string{"c", "a", "c"}); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, sc := range s.Scenarios {
		names = append(names, sc.Name)
	}
	if !reflect.DeepEqual(names, []string{"a", "c"}) {
		t.Errorf("kept %v, want [a c] in file order", names)
	}

	s = suiteOf([3]int{0, 1, 0}, [3]int{0, 1, 0})
	err := s.Select([]string{"x", "a", "y", "x"})
	if err == nil || err.Error() != `suite p has no scenario "x", "y" (have a, b)` {
		t.Errorf("got %v", err)
	}
	if len(s.Scenarios) != 2 {
		t.Errorf("a failed Select changed the suite: %d scenarios", len(s.Scenarios))
	}
	if err := s.Select(nil); err != nil || len(s.Scenarios) != 2 {
		t.Errorf("Select(nil): %v, %d scenarios", err, len(s.Scenarios))
	}
}

func TestSetRuns(t *testing.T) {
	s := suiteOf([3]int{0, 1, 0}, [3]int{0, 7, 0})
	s.SetRuns(3)
	if s.Scenarios[0].Runs != 3 || s.Scenarios[1].Runs != 3 {
		t.Errorf("runs %d, %d; want 3, 3", s.Scenarios[0].Runs, s.Scenarios[1].Runs)
	}
	s.SetRuns(0)
	if s.Scenarios[0].Runs != 3 {
		t.Errorf("SetRuns(0) changed runs to %d", s.Scenarios[0].Runs)
	}
}
