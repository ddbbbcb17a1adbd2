package scenario

import (
	"fmt"
	"testing"

	"github.com/coldstart/coldstart/harness/result"
)

func TestParseShard(t *testing.T) {
	for in, want := range map[string]Shard{"1/3": {1, 3}, "3/3": {3, 3}, "0/3": {3, 3}, " 2/5 ": {2, 5}, "1/1": {1, 1}, "0/1": {1, 1}} {
		got, err := ParseShard(in)
		if err != nil || got != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "3", "4/3", "-1/3", "1/0", "a/3", "1/b", "1/3/4", "1/10001"} {
		if sh, err := ParseShard(in); err == nil {
			t.Errorf("ParseShard(%q) = %v, want an error", in, sh)
		}
	}
	if s := (Shard{2, 3}).String(); s != "2/3" {
		t.Errorf("String %q", s)
	}
}

// shardSuite is a suite with a paired scenario, a calibration, arms of
// different run counts, warmups and diagnostics.
func shardSuite() *Suite {
	return &Suite{Name: "s", Scenarios: []Scenario{
		{Name: "app", Variant: VariantBaseline, Runs: 7, Warmup: 1},
		{Name: "app", Variant: VariantCandidate, Runs: 7, Warmup: 1},
		{Name: "null", Runs: 10, Warmup: 2, Calibration: true},
		{Name: "py", Runs: 4, ImportTime: 3},
	}}
}

// key names a start as a merge does: arm, kind, iteration.
func key(s *Suite, st Start) string {
	return fmt.Sprintf("%s %s#%d", s.Scenarios[st.Scenario].Arm(), st.Kind, st.Iteration)
}

// The union of the N shards is the plan: every measured and diagnostic start
// exactly once, every warmup once per shard; each shard keeps the plan's
// order; a pair stays in one shard; every arm is spread evenly.
func TestShardsCoverThePlan(t *testing.T) {
	s := shardSuite()
	plan := s.Plan(42)
	for n := 1; n <= 5; n++ {
		seen := map[string]int{}
		for i := 1; i <= n; i++ {
			sh := Shard{i, n}
			pos := sh.Positions(plan)
			perArm := map[string]int{}
			for j, p := range pos {
				if j > 0 && p <= pos[j-1] {
					t.Fatalf("shard %v: positions out of plan order: %v", sh, pos)
				}
				st := plan[p]
				seen[key(s, st)]++
				if st.Kind == result.KindMeasure {
					perArm[s.Scenarios[st.Scenario].Arm()]++
				}
				// The other half of a pair is right before or after, in the same shard.
				if v := s.Scenarios[st.Scenario].Variant; v != "" && st.Kind == result.KindMeasure {
					if !pairInShard(s, plan, p, sh) {
						t.Errorf("shard %v: the pair of %s is not in the shard", sh, key(s, st))
					}
				}
			}
			for arm, c := range perArm {
				runs := map[string]int{"app [baseline]": 7, "app [candidate]": 7, "null": 10, "py": 4}[arm]
				if lo, hi := runs/n, (runs+n-1)/n; c < lo || c > hi {
					t.Errorf("shard %v: %d measured starts of %s, want %d..%d", sh, c, arm, lo, hi)
				}
			}
		}
		for _, st := range plan {
			want := 1
			if st.Kind == result.KindWarmup {
				want = n
			}
			if got := seen[key(s, st)]; got != want {
				t.Errorf("N=%d: %s in %d shards, want %d", n, key(s, st), got, want)
			}
		}
		if len(seen) != len(plan) {
			t.Errorf("N=%d: the shards hold %d distinct starts, the plan %d", n, len(seen), len(plan))
		}
	}
}

func pairInShard(s *Suite, plan []Start, p int, sh Shard) bool {
	st := plan[p]
	for _, q := range []int{p - 1, p + 1} {
		if q < 0 || q >= len(plan) {
			continue
		}
		o := plan[q]
		if o.Kind == st.Kind && o.Iteration == st.Iteration && o.Scenario != st.Scenario &&
			s.Scenarios[o.Scenario].Name == s.Scenarios[st.Scenario].Name {
			return sh.Has(o)
		}
	}
	return false
}

// 0/N and N/N are the same shard: Swarm slots and Kubernetes indexes agree.
func TestShardModulo(t *testing.T) {
	s := shardSuite()
	plan := s.Plan(7)
	a, _ := ParseShard("0/3")
	b, _ := ParseShard("3/3")
	if fmt.Sprint(a.Positions(plan)) != fmt.Sprint(b.Positions(plan)) {
		t.Error("0/3 and 3/3 differ")
	}
	// One shard is the whole plan.
	if got := (Shard{1, 1}).Positions(plan); len(got) != len(plan) {
		t.Errorf("1/1 has %d of %d starts", len(got), len(plan))
	}
}
