// Package merge combines the shards of one plan, each an ordinary run
// directory measured on its own host, into one run directory: every record
// kept, stamped with the host it ran on; the starts of every shard that did
// not report (or stopped early) listed as missing, never silently dropped.
// Merging is reading several journals: nothing is started.
package merge

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
	"github.com/coldstart/coldstart/harness/summary"
)

// InputError is a merge refused: directories that are not shards of one
// plan, a shard given twice, an output directory in use.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

func inputf(format string, args ...any) error { return &InputError{fmt.Errorf(format, args...)} }

// Options of a merge.
type Options struct {
	Out   string // the merged run directory: new, or without a run in it
	RunID string // the merged run's id
	// MaxHostSpreadPct is the agreement bound (0: the default).
	MaxHostSpreadPct float64
	// Reasons say why a shard is incomplete, by shard index, as the
	// coordinator saw it (a node lost, a task failed).
	Reasons map[int]string
	Harness string
	Args    []string
}

// Result is the merged run.
type Result struct {
	Dir      string
	Manifest result.Manifest
	Records  []result.Record
	Summary  *summary.Summary
}

// Incomplete lists the shards that miss starts.
func (r *Result) Incomplete() []result.MergedShard {
	var out []result.MergedShard
	for _, sh := range r.Manifest.Merged.Shards {
		if !sh.Complete() {
			out = append(out, sh)
		}
	}
	return out
}

// shard is one shard directory read back.
type shard struct {
	run *journal.Run
	sh  result.Shard
}

// Dirs merges the shard run directories dirs into opt.Out and writes its
// manifest, journal and summary.
func Dirs(dirs []string, opt Options) (*Result, error) {
	shards, err := read(dirs)
	if err != nil {
		return nil, err
	}
	if len(shards) == 0 {
		return nil, inputf("no shard to merge")
	}
	suite, plan, err := replan(shards)
	if err != nil {
		return nil, err
	}
	base := shards[0].run.Manifest
	n := base.Shard.Count
	merged := &result.Merged{MaxHostSpreadPct: opt.MaxHostSpreadPct}
	if merged.MaxHostSpreadPct <= 0 {
		merged.MaxHostSpreadPct = summary.DefaultMaxHostSpreadPct
	}
	var recs []result.Record
	planned := 0
	for i := 1; i <= n; i++ {
		ms, rs, err := one(i, n, shards, suite, plan, opt.Reasons[i])
		if err != nil {
			return nil, err
		}
		planned += ms.Planned
		merged.Shards = append(merged.Shards, ms)
		recs = append(recs, rs...)
	}
	labels(merged.Shards, recs)
	order(recs)
	m := mergedManifest(base, shards, merged, planned, opt)
	return write(opt.Out, m, recs)
}

// read loads the shard directories and checks they are shards of one plan.
func read(dirs []string) ([]shard, error) {
	var out []shard
	seen := map[int]string{}
	for _, d := range dirs {
		r, err := journal.LoadRun(d)
		if err != nil {
			return nil, inputf("%s: %v", d, err)
		}
		m := r.Manifest
		if m.Shard == nil {
			return nil, inputf("%s: not a shard (its manifest has no shard: run with --shard i/N)", d)
		}
		if prev, dup := seen[m.Shard.Index]; dup {
			return nil, inputf("shard %s given twice: %s and %s", m.Shard, prev, d)
		}
		seen[m.Shard.Index] = d
		if len(out) > 0 {
			if err := sameplan(out[0].run, r); err != nil {
				return nil, err
			}
		}
		out = append(out, shard{run: r, sh: *m.Shard})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].sh.Index < out[j].sh.Index })
	return out, nil
}

// sameplan refuses shards of different plans.
func sameplan(a, b *journal.Run) error {
	x, y := a.Manifest, b.Manifest
	switch {
	case x.Shard.Count != y.Shard.Count:
		return inputf("%s is a shard of %d, %s of %d", a.Dir, x.Shard.Count, b.Dir, y.Shard.Count)
	case x.SuiteHash != y.SuiteHash:
		return inputf("%s and %s ran different suites (sha256 %.12s, %.12s)", a.Dir, b.Dir, x.SuiteHash, y.SuiteHash)
	case x.PlanSeed != y.PlanSeed:
		return inputf("%s and %s have different plan seeds (%d, %d): give every shard the same --seed", a.Dir, b.Dir, x.PlanSeed, y.PlanSeed)
	case !mapsEqual(x.Overrides, y.Overrides):
		return inputf("%s and %s were run with different overrides (%v, %v)", a.Dir, b.Dir, x.Overrides, y.Overrides)
	}
	return nil
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// replan reads the suite a shard kept and makes the plan every shard
// filtered, with the same selection and overrides.
func replan(shards []shard) (*scenario.Suite, []scenario.Start, error) {
	m := shards[0].run.Manifest
	var src []byte
	for _, s := range shards {
		if b, err := os.ReadFile(filepath.Join(s.run.Dir, journal.SuiteFile)); err == nil {
			src = b
			break
		}
	}
	if src == nil {
		return nil, nil, inputf("no shard directory holds %s (the suite every shard ran): cannot tell which starts are missing", journal.SuiteFile)
	}
	if sum := sha256.Sum256(src); hex.EncodeToString(sum[:]) != m.SuiteHash {
		return nil, nil, inputf("%s does not match the suite the shards ran (sha256 %.12s)", journal.SuiteFile, m.SuiteHash)
	}
	s, err := scenario.Parse(m.SuiteFile, src, scenario.Options{})
	if err != nil {
		return nil, nil, inputf("%s: %v", journal.SuiteFile, err)
	}
	if v := m.Overrides["scenario"]; v != "" {
		if err := s.Select(strings.Split(v, ",")); err != nil {
			return nil, nil, inputf("%v", err)
		}
	}
	if v, err := strconv.Atoi(m.Overrides["runs"]); err == nil {
		s.SetRuns(v)
	}
	if b, c := m.Overrides["baseline"], m.Overrides["candidate"]; b != "" && c != "" {
		if err := s.Pair(b, c); err != nil {
			return nil, nil, inputf("%v", err)
		}
	}
	return s, s.Plan(m.PlanSeed), nil
}

// key names a start across runs: arm, kind, iteration.
func key(arm string, kind result.Kind, it int) string {
	return arm + "\x00" + string(kind) + "\x00" + strconv.Itoa(it)
}

// one is shard i of n: what it planned, what it has, what it misses; its
// records stamped with the host they ran on.
func one(i, n int, shards []shard, suite *scenario.Suite, plan []scenario.Start, reason string) (result.MergedShard, []result.Record, error) {
	sh := scenario.Shard{Index: i, Count: n}
	ms := result.MergedShard{Shard: result.Shard{Index: i, Count: n}, Reason: reason}
	want := map[string]bool{}
	var order []scenario.Start
	for _, p := range sh.Positions(plan) {
		st := plan[p]
		want[key(suite.Scenarios[st.Scenario].Arm(), st.Kind, st.Iteration)] = true
		order = append(order, st)
	}
	ms.Planned = len(order)
	var recs []result.Record
	have := map[string]bool{}
	if s := find(shards, i); s != nil {
		m := s.run.Manifest
		ms.Dir, ms.Run, ms.Fingerprint, ms.InstanceType = s.run.Dir, m.Run, m.Fingerprint, m.InstanceType
		ms.Host, ms.Interrupted, ms.Completed = hostName(m), s.run.Interrupted, len(s.run.Records)
		for _, r := range s.run.Records {
			k := key(r.Arm(), r.Kind, r.Iteration)
			if !want[k] || have[k] {
				return ms, nil, inputf("%s: record %s %s#%d is not one of shard %s's planned starts (or is there twice)", s.run.Dir, r.Arm(), r.Kind, r.Iteration, sh)
			}
			have[k] = true
			r.Node, r.HostFingerprint, r.InstanceType, r.Shard = ms.Host, m.Fingerprint, m.InstanceType, sh.String()
			recs = append(recs, r)
		}
	}
	ms.Missing = missing(suite, order, have)
	if len(ms.Missing) > 0 && ms.Reason == "" {
		ms.Reason = defaultReason(ms)
	}
	return ms, recs, nil
}

func find(shards []shard, i int) *shard {
	for k := range shards {
		if shards[k].sh.Index == i {
			return &shards[k]
		}
	}
	return nil
}

// hostName is the shard's short host name: the swarm node, else the
// engine's host name.
func hostName(m result.Manifest) string {
	if m.Shard != nil && m.Shard.Node != "" {
		return m.Shard.Node
	}
	if m.Engine.Name != "" {
		return m.Engine.Name
	}
	return "shard " + m.Shard.String()
}

func defaultReason(ms result.MergedShard) string {
	switch {
	case ms.Run == "":
		return "no run directory of this shard was given"
	case ms.Interrupted:
		return "the shard's run was interrupted"
	}
	return "the shard's run ended early"
}

// missing groups the planned starts without a record by arm and kind.
func missing(suite *scenario.Suite, plan []scenario.Start, have map[string]bool) []result.Missing {
	var out []result.Missing
	at := map[string]int{}
	for _, st := range plan {
		arm := suite.Scenarios[st.Scenario].Arm()
		if have[key(arm, st.Kind, st.Iteration)] {
			continue
		}
		g := arm + "\x00" + string(st.Kind)
		i, ok := at[g]
		if !ok {
			i = len(out)
			at[g] = i
			out = append(out, result.Missing{Arm: arm, Kind: st.Kind})
		}
		out[i].Iterations = append(out[i].Iterations, st.Iteration)
	}
	for i := range out {
		slices.Sort(out[i].Iterations)
	}
	return out
}

// labels makes the host names unique in the run: two hosts of one name
// (but different fingerprints) get their shard appended.
func labels(shards []result.MergedShard, recs []result.Record) {
	fps := map[string][]string{}
	for _, s := range shards {
		if s.Run != "" && !slices.Contains(fps[s.Host], s.Fingerprint) {
			fps[s.Host] = append(fps[s.Host], s.Fingerprint)
		}
	}
	rename := map[string]string{} // fingerprint -> label
	for i := range shards {
		s := &shards[i]
		if s.Run != "" && len(fps[s.Host]) > 1 {
			if _, ok := rename[s.Fingerprint]; !ok {
				rename[s.Fingerprint] = s.Host + " (shard " + s.Shard.String() + ")"
			}
			s.Host = rename[s.Fingerprint]
		}
	}
	for i := range recs {
		if l, ok := rename[recs[i].HostFingerprint]; ok {
			recs[i].Node = l
		}
	}
}

// order puts the records in the order they were measured (hosts ran at
// once) and numbers them: a merged run's seq is the position in its
// journal (a shard's own seq is the position in the shard's plan).
func order(recs []result.Record) {
	sort.SliceStable(recs, func(i, j int) bool {
		if !recs[i].Time.Equal(recs[j].Time) {
			return recs[i].Time.Before(recs[j].Time)
		}
		return recs[i].Shard < recs[j].Shard
	})
	for i := range recs {
		recs[i].Seq = i
	}
}

// mergedManifest describes the merged run: the first shard's manifest
// (suite, plan, engine of that host) with the merge's own identity.
func mergedManifest(base result.Manifest, shards []shard, merged *result.Merged, planned int, opt Options) result.Manifest {
	m := base
	m.Run, m.Harness, m.Args, m.Owner = opt.RunID, opt.Harness, opt.Args, ""
	m.Shard, m.InstanceType, m.Resumes, m.Merged = nil, "", nil, merged
	m.Planned = planned
	for _, s := range shards {
		if t := s.run.Manifest.Started; t.Before(m.Started) {
			m.Started = t
		}
	}
	var hosts []string
	for _, s := range merged.Shards {
		if s.Run != "" && !slices.Contains(hosts, s.Host) {
			hosts = append(hosts, s.Host)
		}
	}
	m.Fingerprint = fmt.Sprintf("merged from %d of %d shards on %d hosts: %s (each host's fingerprint is in merged.shards)",
		len(shards), len(merged.Shards), len(hosts), strings.Join(hosts, ", "))
	return m
}

// write makes the merged run directory: manifest, journal, summary.
func write(dir string, m result.Manifest, recs []result.Record) (*Result, error) {
	if dir == "" {
		return nil, inputf("no output directory (--out)")
	}
	for _, f := range []string{journal.ManifestFile, journal.RunsFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return nil, inputf("%s already holds a run (%s): merge into a new directory", dir, f)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for i := range recs {
		l, err := json.Marshal(&recs[i])
		if err != nil {
			return nil, err
		}
		b.Write(l)
		b.WriteByte('\n')
	}
	if err := journal.WriteJSONAtomic(filepath.Join(dir, journal.ManifestFile), &m); err != nil {
		return nil, err
	}
	if err := journal.WriteFileAtomic(filepath.Join(dir, journal.RunsFile), b.Bytes()); err != nil {
		return nil, err
	}
	s := summary.OfRun(recs, m, false, nil)
	if err := journal.WriteJSONAtomic(filepath.Join(dir, journal.SummaryFile), s); err != nil {
		return nil, err
	}
	return &Result{Dir: dir, Manifest: m, Records: recs, Summary: s}, nil
}
