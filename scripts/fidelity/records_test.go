package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// The fidelity figures come from the harness's files read with the harness's
// types. These tests decode files the harness really wrote (testdata/trial,
// the current record version; testdata/side-by-side/cost-*-baseline, the
// pre-refactor binary's version 1) and fail when a JSON field the script
// reads would decode as zero: a renamed or removed field name, which a
// decoder silently skips.

// strictLines decodes every line of path into a new T, rejecting keys T does
// not know (a field renamed on the Go side leaves its recorded key unknown).
func strictLines[T any](t *testing.T, path string) []T {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []T
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var v T
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s:%d: %v", path, line, err)
		}
		out = append(out, v)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatalf("%s: no lines", path)
	}
	return out
}

func strictFile(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// someNonZero fails unless, for every named getter, at least one value is
// non-zero (a field may be legitimately zero in one record, not in all).
func someNonZero[T any](t *testing.T, what string, vs []T, fields map[string]func(T) any) {
	t.Helper()
	for name, get := range fields {
		ok := false
		for _, v := range vs {
			if x := reflect.ValueOf(get(v)); x.IsValid() && !x.IsZero() {
				ok = true
				break
			}
		}
		if !ok {
			t.Errorf("%s: %s is zero in every one of %d: renamed?", what, name, len(vs))
		}
	}
}

// recordFields are the record fields the script reads.
var recordFields = map[string]func(result.Record) any{
	"seq": func(r result.Record) any { return r.Seq }, "time": func(r result.Record) any { return r.Time },
	"scenario": func(r result.Record) any { return r.Scenario }, "kind": func(r result.Record) any { return r.Kind },
	"outcome": func(r result.Record) any { return r.Outcome }, "create_ms": func(r result.Record) any { return r.CreateMS },
	"start_call_ms": func(r result.Record) any { return r.StartCallMS }, "ready_ms": func(r result.Record) any { return r.ReadyMS },
	"remove_ms": func(r result.Record) any { return r.RemoveMS }, "detect_lag_ms": func(r result.Record) any { return r.DetectLagMS },
	"probe_lag_ms": func(r result.Record) any { return r.ProbeLagMS }, "deadline_ms": func(r result.Record) any { return r.DeadlineMS },
	"host": func(r result.Record) any { return r.Host }, "host.other_busy_pct": func(r result.Record) any {
		if r.Host == nil {
			return nil
		}
		return r.Host.OtherBusyPct
	},
}

func TestHarnessRecordFields(t *testing.T) {
	for _, path := range []string{"testdata/trial/cost/runs.jsonl", "testdata/trial/lag-harness-00/runs.jsonl", "testdata/side-by-side/cost-00-baseline/runs.jsonl"} {
		recs := strictLines[result.Record](t, path)
		someNonZero(t, path, recs, recordFields)
		// journal.Read (what the script uses) agrees with the line-by-line decode.
		read, warns, err := journal.Read(path)
		if err != nil || len(warns) > 0 || !reflect.DeepEqual(read, recs) {
			t.Errorf("%s: journal.Read: %d records, warnings %v, err %v; want the %d lines", path, len(read), warns, err, len(recs))
		}
		for _, r := range recs {
			if r.Kind != result.KindMeasure {
				t.Errorf("%s: seq %d: kind %q, want %q (the script keeps measured starts only)", path, r.Seq, r.Kind, result.KindMeasure)
			}
		}
	}
}

func TestHarnessSummaryCost(t *testing.T) {
	for _, dir := range []string{"testdata/trial/cost", "testdata/trial/overhead", "testdata/side-by-side/cost-00-baseline", "testdata/side-by-side/cost-00-measured"} {
		var s summary.Summary
		strictFile(t, filepath.Join(dir, journal.SummaryFile), &s)
		if s.Harness == nil {
			t.Fatalf("%s: summary.json has no harness cost", dir)
		}
		h := *s.Harness
		someNonZero(t, dir+"/summary.json harness", []summary.Cost{h}, map[string]func(summary.Cost) any{
			"starts": func(c summary.Cost) any { return c.Starts }, "cpu_ms": func(c summary.Cost) any { return c.CPUMS },
			"cpu_ms_per_start": func(c summary.Cost) any { return c.CPUMSPerStart },
			"max_rss_bytes":    func(c summary.Cost) any { return c.MaxRSSBytes }, "wall_ms": func(c summary.Cost) any { return c.WallMS },
		})
	}
}

func TestHarnessIntentsAndManifest(t *testing.T) {
	for _, dir := range []string{"testdata/trial/lag-harness-00", "testdata/side-by-side/cost-00-baseline"} {
		ins := strictLines[journal.Intent](t, filepath.Join(dir, journal.WALFile))
		someNonZero(t, dir+"/wal.jsonl", ins, map[string]func(journal.Intent) any{
			"seq": func(i journal.Intent) any { return i.Seq }, "time": func(i journal.Intent) any { return i.Time },
		})
		r, err := readRun(filepath.Dir(dir), suiteRun{Dir: filepath.Base(dir)})
		if err != nil {
			t.Fatal(err)
		}
		if r.Manifest.Harness == "" {
			t.Errorf("%s: manifest harness_version is empty", dir)
		}
		var withIntent int
		for _, rec := range r.Records {
			if d, ok := r.intentToT0(rec); ok && d > 0 {
				withIntent++
			}
		}
		if withIntent != len(r.Records) {
			t.Errorf("%s: %d of %d records matched to a write-ahead intent", dir, withIntent, len(r.Records))
		}
	}
}

func TestLoopRecordFields(t *testing.T) {
	recs := strictLines[loopRecord](t, "testdata/trial/loop.jsonl")
	someNonZero(t, "loop.jsonl", recs, map[string]func(loopRecord) any{
		"row": func(r loopRecord) any { return r.Row }, "batch": func(r loopRecord) any { return r.Batch },
		"ok": func(r loopRecord) any { return r.OK }, "run_ms": func(r loopRecord) any { return r.RunMS },
		"ready_ms": func(r loopRecord) any { return r.ReadyMS }, "lag_ms": func(r loopRecord) any { return r.LagMS },
		"probe_ms": func(r loopRecord) any { return r.ProbeMS }, "listen_ms": func(r loopRecord) any { return r.ListenMS },
		"attempts": func(r loopRecord) any { return r.Attempts }, "curl_ms": func(r loopRecord) any { return r.CurlMS },
		"remove_ms": func(r loopRecord) any { return r.RemoveMS }, "first_curl": func(r loopRecord) any { return r.FirstCurl },
	})
	got, err := readLoop("testdata/trial/loop.jsonl")
	if err != nil || !reflect.DeepEqual(got, recs) {
		t.Errorf("readLoop: %d records, err %v; want the %d lines", len(got), err, len(recs))
	}
}

// TestReportFields: report.json of both recordings decodes strictly, so a
// field of report renamed without re-recording fails here, not as a blank.
func TestReportFields(t *testing.T) {
	for _, dir := range []string{"testdata/trial", "testdata/side-by-side"} {
		var rep report
		strictFile(t, filepath.Join(dir, reportFile), &rep)
		if rep.V != reportVersion || rep.Measured.Version == "" || rep.Machine.Cores == 0 || len(rep.PhaseSeconds) == 0 {
			t.Errorf("%s: report.json decoded with blanks: %+v", dir, rep)
		}
	}
}
