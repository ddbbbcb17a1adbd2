package merge

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
	"github.com/coldstart/coldstart/harness/summary"
)

const suiteYAML = `suite: m
defaults: {runs: 15, warmup: 1}
scenarios:
  - name: app
    image: app:1
  - name: idle
    image: idle:1
    calibration: true
`

// host is one fake host: its name and how slow it is.
type host struct {
	name   string
	itype  string
	factor float64
}

// shardDirs writes n shard run directories as `coldstart run --shard i/n`
// would on the hosts given, with every planned start recorded except those
// drop says (by shard) to leave out. ready_ms is 100 ms (app) or 50 ms
// (null) times the host's factor, plus a little per iteration.
func shardDirs(t *testing.T, hosts []host, drop map[int]int) []string {
	t.Helper()
	s, err := scenario.Parse("m.yaml", []byte(suiteYAML), scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	plan := s.Plan(9)
	root := t.TempDir()
	var dirs []string
	n := len(hosts)
	for i := 1; i <= n; i++ {
		h := hosts[i-1]
		dir := filepath.Join(root, fmt.Sprintf("shard-%d", i))
		os.MkdirAll(dir, 0o755)
		run := fmt.Sprintf("20261130T0000%02dZ-%08d", i, i)
		eng := result.Engine{Name: h.name, EngineVersion: "20.10.24"}
		m := result.Manifest{Run: run, Suite: "m", SuiteFile: "m.yaml", SuiteHash: s.Hash, PlanSeed: 9, Engine: eng,
			Fingerprint: result.Fingerprint(eng, "6.18", "cpu", 2), Shard: &result.Shard{Index: i, Count: n}, InstanceType: h.itype,
			Scenarios: []string{"app", "idle"}, Started: time.Date(2026, 11, 30, 0, 0, i, 0, time.UTC)}
		sh := scenario.Shard{Index: i, Count: n}
		pos := sh.Positions(plan)
		m.Planned = len(pos)
		var b strings.Builder
		for k, p := range pos {
			if k >= len(pos)-drop[i] {
				break
			}
			st := plan[p]
			sc := s.Scenarios[st.Scenario]
			base := map[string]float64{"app": 100, "idle": 50}[sc.Name]
			r := result.Record{V: result.Version, Run: run, Scenario: sc.Name, Kind: st.Kind, Iteration: st.Iteration, Seq: k,
				Time: m.Started.Add(time.Duration(k) * time.Second), Image: sc.Image, Outcome: result.OK, DeadlineMS: 3000,
				ReadyMS: result.F(base*h.factor + float64(st.Iteration%4)), Calibration: sc.Calibration}
			fmt.Fprintf(&b, "%s\n", mustJSON(t, &r))
		}
		journal.WriteJSONAtomic(filepath.Join(dir, journal.ManifestFile), &m)
		journal.WriteFileAtomic(filepath.Join(dir, journal.RunsFile), []byte(b.String()))
		journal.WriteFileAtomic(filepath.Join(dir, journal.SuiteFile), []byte(suiteYAML))
		dirs = append(dirs, dir)
	}
	return dirs
}

func mustJSON(t *testing.T, r *result.Record) string {
	b, err := jsonMarshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMergeComplete(t *testing.T) {
	hosts := []host{{"n1", "small", 1}, {"n2", "small", 1.05}, {"n3", "large", 1.1}}
	dirs := shardDirs(t, hosts, nil)
	res, err := Dirs(dirs, Options{Out: filepath.Join(t.TempDir(), "merged"), RunID: "merged-1"})
	if err != nil {
		t.Fatal(err)
	}
	// 15 measured starts per arm once, 1 warmup per arm per shard.
	if got, want := len(res.Records), 2*15+2*3; got != want || res.Manifest.Planned != want {
		t.Errorf("%d records, %d planned; want %d", got, res.Manifest.Planned, want)
	}
	seen := map[string]int{}
	fps := map[string]bool{}
	for i, r := range res.Records {
		if r.Seq != i || r.Node == "" || r.HostFingerprint == "" || r.Shard == "" {
			t.Fatalf("record %d not stamped: %+v", i, r)
		}
		fps[r.HostFingerprint] = true
		if r.Kind == result.KindMeasure {
			seen[fmt.Sprintf("%s#%d", r.Arm(), r.Iteration)]++
		}
	}
	if len(seen) != 30 || len(fps) != 3 {
		t.Errorf("%d distinct measured starts on %d hosts, want 30 on 3", len(seen), len(fps))
	}
	for k, c := range seen {
		if c != 1 {
			t.Errorf("%s measured %d times", k, c)
		}
	}
	s := res.Summary
	if len(res.Incomplete()) != 0 || len(s.Hosts) != 3 || s.PerHost || !s.Pools[0].Agree {
		t.Fatalf("incomplete %v, %d hosts, per host %v, pools %+v", res.Incomplete(), len(s.Hosts), s.PerHost, s.Pools)
	}
	// The calibration workload is the reference; +10% is within 25%.
	if ref := s.Pools[0].Reference; len(ref) != 1 || ref[0].Arm != "idle" || !ref[0].SpreadPct.Known {
		t.Errorf("reference %+v", ref)
	}
	// Two instance types: a pool for "small" (two hosts); "large" has one.
	if len(s.Pools) != 2 || s.Pools[1].InstanceType != "small" || !s.Pools[1].Agree || len(s.Pools[1].Scenarios) != 2 {
		t.Errorf("pools %+v", s.Pools)
	}
	// Reports and a second reading give the same: the merged dir is a run.
	r, err := journal.LoadRun(res.Dir)
	if err != nil || len(r.Records) != len(res.Records) {
		t.Fatalf("LoadRun: %v, %d records", err, len(r.Records))
	}
	again := summary.OfRun(r.Records, r.Manifest, r.Interrupted, r.Warnings)
	if again.Scenarios[0].ReadyMS.P50 != s.Scenarios[0].ReadyMS.P50 || len(again.Warnings) != len(s.Warnings) {
		t.Errorf("the merged run reads back differently: %+v vs %+v", again.Warnings, s.Warnings)
	}
	for _, w := range s.Warnings {
		if w.Code == summary.OtherRun {
			t.Errorf("shard records taken for another run's: %s", w.Message)
		}
	}
}

// A slow host (+60% on the calibration) is not pooled: one row per arm
// and host, and the run says why.
func TestMergeHostsDisagree(t *testing.T) {
	dirs := shardDirs(t, []host{{"n1", "", 1}, {"n2", "", 1.6}}, nil)
	res, err := Dirs(dirs, Options{Out: filepath.Join(t.TempDir(), "m"), RunID: "m"})
	if err != nil {
		t.Fatal(err)
	}
	s := res.Summary
	if !s.PerHost || s.Pools[0].Agree || len(s.Pools[0].Scenarios) != 0 {
		t.Fatalf("per host %v, pool %+v", s.PerHost, s.Pools[0])
	}
	var names []string
	for _, sc := range s.Scenarios {
		names = append(names, sc.Name)
	}
	if got := strings.Join(names, ","); got != "app @n1,idle @n1,app @n2,idle @n2" {
		t.Errorf("rows %s", got)
	}
	if !strings.Contains(s.Pools[0].Reason, "idle p50") || !hasWarning(s, summary.NotPooled) {
		t.Errorf("reason %q, warnings %+v", s.Pools[0].Reason, s.Warnings)
	}
	// The bound is the merge's: 70% pools the same two hosts.
	res, err = Dirs(dirs, Options{Out: filepath.Join(t.TempDir(), "m"), RunID: "m", MaxHostSpreadPct: 70})
	if err != nil || res.Summary.PerHost || !res.Summary.Pools[0].Agree {
		t.Errorf("with a 70%% bound: %v, per host %v", err, res.Summary.PerHost)
	}
}

// A shard that stopped early, and one that never reported: both listed
// with the starts they miss; the records that exist are kept.
func TestMergeIncomplete(t *testing.T) {
	dirs := shardDirs(t, []host{{"n1", "", 1}, {"n2", "", 1}, {"n3", "", 1}}, map[int]int{2: 3})
	res, err := Dirs([]string{dirs[0], dirs[1]}, Options{Out: filepath.Join(t.TempDir(), "m"), RunID: "m",
		Reasons: map[int]string{3: "node n3 went down"}})
	if err != nil {
		t.Fatal(err)
	}
	inc := res.Incomplete()
	if len(inc) != 2 || inc[0].Shard.Index != 2 || inc[1].Shard.Index != 3 {
		t.Fatalf("incomplete %+v", inc)
	}
	if n := count(inc[0].Missing); n != 3 || inc[0].Completed != inc[0].Planned-3 {
		t.Errorf("shard 2 misses %d starts (%+v)", n, inc[0])
	}
	if inc[1].Run != "" || inc[1].Reason != "node n3 went down" || count(inc[1].Missing) != inc[1].Planned || inc[1].Planned == 0 {
		t.Errorf("shard 3: %+v", inc[1])
	}
	if !hasWarning(res.Summary, summary.ShardIncomplete) || res.Summary.Completed >= res.Summary.Planned {
		t.Errorf("summary does not say it: %+v", res.Summary.Warnings)
	}
}

func count(ms []result.Missing) int {
	n := 0
	for _, m := range ms {
		n += len(m.Iterations)
	}
	return n
}

func hasWarning(s *summary.Summary, c summary.Code) bool {
	for _, w := range s.Warnings {
		if w.Code == c {
			return true
		}
	}
	return false
}

func TestMergeRefuses(t *testing.T) {
	dirs := shardDirs(t, []host{{"n1", "", 1}, {"n2", "", 1}}, nil)
	out := filepath.Join(t.TempDir(), "m")
	cases := map[string][]string{"twice": {dirs[0], dirs[0]}, "not a run": {t.TempDir()}}
	// Another seed: not the same plan.
	other := shardDirs(t, []host{{"n1", "", 1}, {"n2", "", 1}}, nil)
	m, _ := journal.ReadManifest(other[1])
	m.PlanSeed = 10
	journal.WriteJSONAtomic(filepath.Join(other[1], journal.ManifestFile), &m)
	cases["seed"] = []string{dirs[0], other[1]}
	for name, ds := range cases {
		var in *InputError
		if _, err := Dirs(ds, Options{Out: out, RunID: "m"}); !errors.As(err, &in) {
			t.Errorf("%s: %v, want an InputError", name, err)
		}
	}
	// An output directory that holds a run is refused.
	os.MkdirAll(out, 0o755)
	os.WriteFile(filepath.Join(out, journal.RunsFile), nil, 0o644)
	if _, err := Dirs(dirs, Options{Out: out, RunID: "m"}); err == nil {
		t.Error("merged into a directory holding a run")
	}
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
