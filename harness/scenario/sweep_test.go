package scenario

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/result"
)

func TestSweepExpand(t *testing.T) {
	s, err := Parse("s.yaml", []byte(`suite: s
defaults:
  limits: {cpus: 0.1, memory: 128m, memory_swap: 128m}
  runs: 3
scenarios:
  - name: app
    image: x
    limits: {cpus: [0.05, 0.1, 0.2], memory: [64m, 256m]}
    deadline: [2s, 3s]
  - name: plain
    image: y
  - name: burst
    image: y
    concurrency: [1, 4]
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var cells []string
	for _, sc := range s.Scenarios {
		cells = append(cells, sc.Arm())
	}
	want := []string{
		"app {cpus=0.05,memory=64m,deadline=2s}", "app {cpus=0.05,memory=64m,deadline=3s}",
		"app {cpus=0.05,memory=256m,deadline=2s}", "app {cpus=0.05,memory=256m,deadline=3s}",
		"app {cpus=0.1,memory=64m,deadline=2s}", "app {cpus=0.1,memory=64m,deadline=3s}",
		"app {cpus=0.1,memory=256m,deadline=2s}", "app {cpus=0.1,memory=256m,deadline=3s}",
		"app {cpus=0.2,memory=64m,deadline=2s}", "app {cpus=0.2,memory=64m,deadline=3s}",
		"app {cpus=0.2,memory=256m,deadline=2s}", "app {cpus=0.2,memory=256m,deadline=3s}",
		"plain", "burst {concurrency=1}", "burst {concurrency=4}",
	}
	if !slices.Equal(cells, want) {
		t.Fatalf("cells:\n got %q\nwant %q", cells, want)
	}
	c := s.Scenarios[10] // cpus=0.2, memory=256m, deadline=2s
	if c.Limits.CPUQuota != 20000 || c.Limits.CPUPeriod != 100000 || c.Limits.CPUs != 0.2 {
		t.Errorf("cpu of %s: %+v", c.Cell, c.Limits)
	}
	// The defaults' memory_swap gives way to each cell's memory: no swap.
	if c.Limits.Memory != 256<<20 || c.Limits.MemorySwap != 256<<20 {
		t.Errorf("memory of %s: %d/%d", c.Cell, c.Limits.Memory, c.Limits.MemorySwap)
	}
	if c.Deadline != 2*time.Second {
		t.Errorf("deadline of %s: %v", c.Cell, c.Deadline)
	}
	if got := c.Sweep; len(got) != 3 || got[0] != (result.CellValue{Key: "cpus", Text: "0.2", Number: 0.2}) || got[1].Number != 256<<20 || got[2].Number != 2000 {
		t.Errorf("sweep values of %s: %+v", c.Cell, got)
	}
	if s.Scenarios[12].Cell != "" || s.Scenarios[12].Sweep != nil {
		t.Errorf("plain scenario got a cell: %q", s.Scenarios[12].Cell)
	}
	if s.Scenarios[14].Concurrency != 4 {
		t.Errorf("burst cell concurrency %d", s.Scenarios[14].Concurrency)
	}
}

func TestSweepDefaultsAndQuota(t *testing.T) {
	s, err := Parse("s.yaml", []byte(`suite: s
defaults:
  limits: {cpu_quota: [5000, 20000], cpu_period: 50000, cpu_shares: [512, 1024]}
scenarios:
  - {name: a, image: x}
  - {name: b, image: x, limits: {cpus: 1, cpu_shares: 256}}
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sc := range s.Scenarios {
		got = append(got, sc.Arm())
	}
	want := []string{"a {cpu_quota=5000,cpu_shares=512}", "a {cpu_quota=5000,cpu_shares=1024}",
		"a {cpu_quota=20000,cpu_shares=512}", "a {cpu_quota=20000,cpu_shares=1024}", "b"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if l := s.Scenarios[2].Limits; l.CPUQuota != 20000 || l.CPUPeriod != 50000 || l.CPUs != 0.4 || l.CPUShares != 512 {
		t.Errorf("limits %+v", l)
	}
	if l := s.Scenarios[4].Limits; l.CPUQuota != 100000 || l.CPUShares != 256 {
		t.Errorf("b's own limits hide the defaults' sweeps: %+v", l)
	}
}

func TestSweepErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body, want string
	}{
		{"empty", "limits: {cpus: []}", "s.yaml:4:23: scenarios[0].limits.cpus: empty list: give at least one value to sweep"},
		{"duplicate", "limits: {cpus: [0.1, 0.2, 0.10]}", "s.yaml:4:34: scenarios[0].limits.cpus[2]: \"0.10\" repeats scenarios[0].limits.cpus[0]: a sweep lists each value once"},
		{"bad item", "limits: {memory: [64m, 1k]}", "s.yaml:4:31: scenarios[0].limits.memory[1]: below docker's minimum of 6m, got 1k"},
		{"nested", "deadline: [[1s]]", "s.yaml:4:17: scenarios[0].deadline[0]: want one value, got a list"},
		{"concurrency", "concurrency: [2, 65]", "s.yaml:4:22: scenarios[0].concurrency[1]: want 1..64 containers started at once, got 65"},
		{"swap beside memory sweep", "limits: {memory: [64m, 128m], memory_swap: 1g}", "s.yaml:4:48: scenarios[0].limits.memory_swap: a memory sweep gives each cell memory_swap = memory"},
		{"paired", "limits: {cpus: [0.1, 0.2]}\n    candidate: {image: z}", "s.yaml:4:20: scenarios[0]: a paired scenario cannot sweep cpus"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("s.yaml", []byte("suite: s\nscenarios:\n  - name: a\n    image: x\n    "+tc.body+"\n"), Options{})
			// The scenario's keys start on line 4 after the image line; see the want lines.
			if err == nil {
				t.Fatalf("no error")
			}
			if !strings.Contains(err.Error(), tc.want[strings.Index(tc.want, ": ")+2:]) {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
			var errs *Errors
			if !errors.As(err, &errs) || (*errs)[0].Line != 5 {
				t.Errorf("want an error on line 5, got %v", err)
			}
		})
	}
}

func TestSweepTooLong(t *testing.T) {
	// 5 x 5 x 5 cells x 300 runs x (10 s + 1 s): about 4.8 days.
	suite := []byte(`suite: s
scenarios:
  - name: a
    image: x
    runs: 300
    deadline: 10s
    limits: {cpus: [0.1, 0.2, 0.3, 0.4, 0.5], memory: [64m, 96m, 128m, 192m, 256m], cpu_shares: [2, 4, 8, 16, 32]}
`)
	_, err := Parse("s.yaml", suite, Options{})
	if err == nil {
		t.Fatal("a sweep of days was accepted")
	}
	for _, want := range []string{"s.yaml:7:20: scenarios[0]: the suite's 125 scenario entries", "4d18h", "--allow-long"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	s, err := Parse("s.yaml", suite, Options{AllowLong: true})
	if err != nil {
		t.Fatalf("AllowLong: %v", err)
	}
	if len(s.Scenarios) != 125 {
		t.Errorf("%d cells, want 125", len(s.Scenarios))
	}
}

func TestPlanSweepShuffledAndBursts(t *testing.T) {
	s, err := Parse("s.yaml", []byte(`suite: s
scenarios:
  - {name: a, image: x, runs: 20, limits: {cpus: [0.05, 0.1, 0.2, 0.5]}}
  - {name: b, image: x, runs: 2, concurrency: 3, warmup: 1}
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	plan := s.Plan(7)
	if !slices.Equal(plan, s.Plan(7)) {
		t.Fatal("the same seed gave another plan")
	}
	if slices.Equal(plan, s.Plan(8)) {
		t.Error("another seed gave the same plan")
	}
	// Every cell runs its 20 starts; the rounds are not always in file order.
	count := map[int]int{}
	firsts := map[int]int{}
	for i, st := range plan {
		if st.Kind != result.KindMeasure {
			continue
		}
		count[st.Scenario]++
		if st.Scenario < 4 && st.Iteration%20 == st.Iteration {
			if _, ok := firsts[st.Iteration]; !ok {
				firsts[st.Iteration] = st.Scenario
			}
		}
		if st.Scenario == 4 && st.Index == 0 {
			// A burst's starts are adjacent, in index order, with unique iterations.
			for k := 0; k < 3; k++ {
				b := plan[i+k]
				if b.Scenario != 4 || b.Index != k || b.Burst != st.Burst || b.Iteration != (st.Burst-1)*3+k {
					t.Fatalf("burst at %d: %+v", i+k, b)
				}
			}
		}
	}
	for i := 0; i < 4; i++ {
		if count[i] != 20 {
			t.Errorf("cell %d: %d measured starts, want 20", i, count[i])
		}
	}
	if count[4] != 6 {
		t.Errorf("bursts: %d measured starts, want 2 x 3", count[4])
	}
	led := map[int]bool{}
	for _, sc := range firsts {
		led[sc] = true
	}
	if len(led) < 2 {
		t.Errorf("the same cell led every round: %v", firsts)
	}
}

func TestShardKeepsBurstsWhole(t *testing.T) {
	s := &Suite{Scenarios: []Scenario{{Name: "b", Runs: 4, Concurrency: 3}}}
	plan := s.Plan(1)
	seen := map[int]int{}
	for i := 1; i <= 2; i++ {
		sh := Shard{Index: i, Count: 2}
		for _, p := range sh.Positions(plan) {
			if b := plan[p].Burst; b > 0 {
				if other, ok := seen[b]; ok && other != i {
					t.Errorf("burst %d split over shards %d and %d", b, other, i)
				}
				seen[b] = i
			}
		}
	}
	if len(seen) != 4 {
		t.Errorf("bursts dealt: %v", seen)
	}
}
