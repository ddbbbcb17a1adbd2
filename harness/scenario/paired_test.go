package scenario

import (
	"strings"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/result"
)

func TestPairedScenario(t *testing.T) {
	in := `suite: s
defaults:
  slo: {p95: 2s, miss_rate: "1%"}
  env: {A: "1"}
scenarios:
  - name: app
    image: app:1
    env: {B: "2"}
    limits: {cpus: 0.2, memory: 64m}
    runs: 3
    candidate:
      image: app:2
      env: {B: "3", C: "4"}
      limits: {memory: 96m}
  - name: idle
    image: idle:1
    calibration: true
    runs: 2
    slo: {p99: 3s}
`
	s, err := Parse("f.yaml", []byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Scenarios) != 3 {
		t.Fatalf("%d entries, want baseline, candidate and null", len(s.Scenarios))
	}
	b, c, n := s.Scenarios[0], s.Scenarios[1], s.Scenarios[2]
	if b.Arm() != "app [baseline]" || c.Arm() != "app [candidate]" || n.Arm() != "idle" {
		t.Errorf("arms %q %q %q", b.Arm(), c.Arm(), n.Arm())
	}
	if b.Image != "app:1" || c.Image != "app:2" {
		t.Errorf("images %q %q", b.Image, c.Image)
	}
	if got := strings.Join(c.Env, ","); got != "A=1,B=3,C=4" {
		t.Errorf("candidate env %s", got)
	}
	if got := strings.Join(b.Env, ","); got != "A=1,B=2" {
		t.Errorf("baseline env %s", got)
	}
	// The candidate's memory, the scenario's CPU.
	if c.Limits.Memory != 96<<20 || c.Limits.MemorySwap != 96<<20 || c.Limits.CPUQuota != 20000 || b.Limits.Memory != 64<<20 {
		t.Errorf("limits %+v / %+v", b.Limits, c.Limits)
	}
	if b.SLO.P95 != 2*time.Second || !b.SLO.HasMissRate || b.SLO.MissRate != 0.01 || n.SLO.P99 != 3*time.Second || n.SLO.P95 != 2*time.Second {
		t.Errorf("SLOs %+v %+v", b.SLO, n.SLO)
	}
	if !s.Paired() {
		t.Error("not paired")
	}
	// Pairs are adjacent, their order drawn from the seed; the same seed
	// gives the same plan, and over many pairs both orders occur.
	for _, sc := range []*Scenario{&s.Scenarios[0], &s.Scenarios[1]} {
		sc.Runs = 40
	}
	plan := s.Plan(7)
	if again := s.Plan(7); len(again) != len(plan) || again[5] != plan[5] {
		t.Error("the same seed gave another plan")
	}
	firsts := map[int]int{}
	for i := 0; i < len(plan); i++ {
		st := plan[i]
		if st.Kind != result.KindMeasure || st.Scenario == 2 {
			continue
		}
		next := plan[i+1]
		if next.Scenario+st.Scenario != 1 || next.Iteration != st.Iteration {
			t.Fatalf("start %d (%+v) is not followed by its pair (%+v)", i, st, next)
		}
		firsts[st.Scenario]++
		i++
	}
	if firsts[0] == 0 || firsts[1] == 0 || firsts[0]+firsts[1] != 40 {
		t.Errorf("pair orders %v over 40 pairs", firsts)
	}
}

func TestPairFromFlags(t *testing.T) {
	s, err := Parse("f.yaml", []byte("suite: s\nscenarios:\n  - name: a\n    build: {context: .}\n  - name: cal\n    image: n\n    calibration: true\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Pair("app:1", "app:2"); err != nil {
		t.Fatal(err)
	}
	var arms []string
	for _, sc := range s.Scenarios {
		arms = append(arms, sc.Arm()+"="+sc.Image)
		if sc.Variant != "" && sc.Build != nil {
			t.Errorf("%s still builds", sc.Arm())
		}
	}
	if got := strings.Join(arms, ","); got != "a [baseline]=app:1,a [candidate]=app:2,cal=n" {
		t.Errorf("arms %s", got)
	}
	if err := s.Select([]string{"a"}); err != nil || len(s.Scenarios) != 2 {
		t.Errorf("selecting a paired scenario kept %d entries, %v", len(s.Scenarios), err)
	}
}

func TestPairedErrors(t *testing.T) {
	const head = "suite: s\nscenarios:\n  - name: a\n    image: a\n"
	for _, tc := range []struct{ name, in, want string }{
		{"variant key", head + "    candidate: {runs: 3}\n", "f.yaml:5:17: scenarios[0].candidate.runs: a variant sets only image, build, entrypoint, command, env, user, limits; runs is the scenario's, the same for both variants"},
		{"unknown variant key", head + "    candidate: {imgae: b}\n", `f.yaml:5:17: scenarios[0].candidate.imgae: unknown key; did you mean "image"?`},
		{"in defaults", "suite: s\ndefaults: {candidate: {image: b}}\nscenarios:\n  - name: a\n    image: a\n", "f.yaml:2:12: defaults.candidate: not allowed in defaults; set it per scenario"},
		{"calibration paired", head + "    calibration: true\n    candidate: {image: b}\n", "f.yaml:3:5: scenarios[0].candidate: a calibration scenario is not paired: it measures the platform for both variants"},
		{"miss rate without %", head + "    slo: {miss_rate: 1}\n", `f.yaml:5:22: scenarios[0].slo.miss_rate: want a percentage like "1%", got "1" (write the % sign: 1 would be ambiguous)`},
		{"slo duration", head + "    slo: {p95: fast}\n", `f.yaml:5:16: scenarios[0].slo.p95: bad duration "fast": want a number with a unit, like 3s or 500ms`},
		{"slo key", head + "    slo: {p96: 1s}\n", `f.yaml:5:11: scenarios[0].slo.p96: unknown key; did you mean "p90"?`},
		{"miss rate range", head + "    slo: {miss_rate: 120%}\n", "f.yaml:5:22: scenarios[0].slo.miss_rate: want 0% to 100%, got 120%"},
	} {
		_, err := Parse("f.yaml", []byte(tc.in), Options{})
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s:\n got %v\nwant %s", tc.name, err, tc.want)
		}
	}
}

func TestCPUShares(t *testing.T) {
	s, err := Parse("f.yaml", []byte("suite: s\ndefaults: {limits: {cpu_shares: 128}}\nscenarios:\n  - name: a\n    image: a\n    candidate: {limits: {cpu_shares: 1024}}\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if b, c := s.Scenarios[0].Limits.CPUShares, s.Scenarios[1].Limits.CPUShares; b != 128 || c != 1024 {
		t.Errorf("shares %d / %d", b, c)
	}
	_, err = Parse("f.yaml", []byte("suite: s\nscenarios:\n  - name: a\n    image: a\n    limits: {cpu_shares: 1}\n"), Options{})
	if err == nil || err.Error() != "f.yaml:5:26: scenarios[0].limits.cpu_shares: want 2..262144 (a relative CPU weight; the kernel's default is 1024), got 1" {
		t.Errorf("cpu_shares 1: %v", err)
	}
}
