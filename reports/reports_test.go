package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/perf/benchfmt"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func limits(cpuOK bool) []result.Limit {
	return []result.Limit{
		{Name: "cpu", Unit: result.UnitCPU, Requested: result.CPU(10000, 100000), Observed: result.CPU(10000, 100000), Enforced: result.CPU(10000, 100000), OK: cpuOK},
		{Name: "memory", Unit: result.UnitBytes, Requested: result.Of(128 << 20), Observed: result.Of(128 << 20), Enforced: result.Of(128 << 20), OK: true},
		{Name: "memory_swap", Unit: result.UnitBytes, Requested: result.Of(128 << 20), Observed: result.Of(128 << 20), Enforced: result.Of(128 << 20), OK: true},
		{Name: "kernel_memory", Unit: result.UnitBytes, Requested: result.Of(128 << 20), Observed: result.Of(128 << 20), Enforced: result.Amount{State: result.NotEnforced}, OK: false},
	}
}

func exit(c int) *int { return &c }

// hardening is a start's hardening record; capsHeld false makes the
// bounding set hold more than the profile asked.
func hardening(profile string, capsHeld bool) *result.Hardening {
	caps, enforcedCaps := "engine default", "CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,SETGID,SETUID,SETPCAP,NET_BIND_SERVICE,NET_RAW,SYS_CHROOT,MKNOD,AUDIT_WRITE,SETFCAP"
	ro, tmpfs, tmpfsSeen, nofile, nofileSeen := "no", "none", "", "engine default", "1048576/1048576"
	if profile == "fn" {
		caps, enforcedCaps, ro, tmpfs, tmpfsSeen, nofile, nofileSeen = "none", "none", "yes", "/tmp size=64m", "/tmp tmpfs rw,nosuid,nodev,noexec,relatime,size=65536k", "1024/1024", "1024/1024"
		if !capsHeld {
			enforcedCaps = "NET_RAW"
		}
	}
	log := "json-file max-file=2 max-size=2m"
	return &result.Hardening{Profile: profile, Settings: []result.Setting{
		{Name: result.SetNoNewPrivileges, Requested: "yes", Observed: "yes", Enforced: "yes", OK: true},
		{Name: result.SetCapabilities, Requested: caps, Observed: caps, Enforced: enforcedCaps, OK: capsHeld},
		{Name: result.SetReadOnlyRoot, Requested: ro, Observed: ro, Enforced: ro, OK: true},
		{Name: result.SetTmpfs, Requested: tmpfs, Observed: tmpfs, Enforced: tmpfsSeen, OK: true},
		{Name: result.SetNoFile, Requested: nofile, Observed: nofile, Enforced: nofileSeen, OK: true},
		{Name: result.SetUser, Requested: "image default", Observed: "image default", Enforced: "uid 0 gid 0", OK: true},
		{Name: result.SetLog, Requested: log, Observed: log, OK: true},
		{Name: result.SetSocketDir, Requested: "tmpfs nosuid,nodev,noexec", Enforced: "tmpfs nosuid,nodev,noexec (mounted by coldstart)", OK: true},
	}}
}

// fixture is a fixed set of synthetic records: a fast static app, a slow
// Python app with misses of several outcomes and an import profile, and
// warmups. The run was interrupted.
func fixture() ([]result.Record, summary.Options) {
	var recs []result.Record
	seq := 0
	add := func(r result.Record) {
		r.V, r.Run, r.Seq = result.Version, "run-1", seq
		r.Time = t0.Add(time.Duration(seq) * time.Second)
		r.Container = fmt.Sprintf("c%04d", seq)
		if r.DeadlineMS == 0 {
			r.DeadlineMS = 3000
		}
		r.CreateMS, r.StartCallMS, r.RemoveMS = 20+float64(seq%3), 15.5, 40
		seq++
		recs = append(recs, r)
	}

	// go-static: 2 warmups, 20 measured starts, all ok.
	for i := range 22 {
		kind, iter := result.KindMeasure, i-2
		if i < 2 {
			kind, iter = result.KindWarmup, i
		}
		ready := 30 + float64((i*37)%50) + 0.25
		add(result.Record{
			Scenario: "go-static", Kind: kind, Iteration: iter, Image: "coldstart/go-static:1",
			Outcome: result.OK, SocketMS: result.F(ready - 2.5), ReadyMS: result.F(ready), Attempts: 1 + i%2,
			LastStatus: 200,
			Cgroup: &result.Sample{CgroupVersion: 1, CPUUsageMS: 24 + float64(i%5), Periods: 1,
				MemoryUsage: 3 << 20, MemoryPeak: 4<<20 + uint64(i)*4096},
			Limits: limits(true), Hardening: hardening("default", true),
		})
	}

	// py-aiohttp: 1 warmup, 10 measured (6 ok, 2 deadline_exceeded,
	// 1 oom_killed, 1 exited_before_ready), 2 diagnostic starts. Each
	// measured start sends a work request: 4 of the 6 ready ones are
	// served, one is not answered in time, one fails.
	add(result.Record{Scenario: "py-aiohttp", Kind: result.KindWarmup, Image: "coldstart/py-aiohttp:1",
		Outcome: result.OK, SocketMS: result.F(1800), ReadyMS: result.F(2100), Attempts: 4, Limits: limits(true),
		ServingOutcome: result.OK, ServingMS: result.F(2500), ServingAttempts: 1, ServingStatus: 200})
	outcomes := []result.Outcome{result.OK, result.DeadlineExceeded, result.OK, result.OK, result.OOMKilled,
		result.OK, result.ExitedBeforeReady, result.OK, result.DeadlineExceeded, result.OK}
	for i, o := range outcomes {
		r := result.Record{Scenario: "py-aiohttp", Kind: result.KindMeasure, Iteration: i, Image: "coldstart/py-aiohttp:1",
			Outcome: o, Attempts: 3 + i%3, Limits: limits(true), Hardening: hardening("fn", false),
			Cgroup: &result.Sample{CgroupVersion: 1, CPUUsageMS: 180 + float64(i), Periods: 20 + uint64(i),
				ThrottledPeriods: 18 + uint64(i), ThrottledMS: 1500 + 10*float64(i),
				MemoryUsage: 30 << 20, MemoryPeak: 34<<20 + uint64(i)<<16, KernelMemoryUsage: 512 << 10}}
		r.ServingOutcome = o
		switch o {
		case result.OK:
			r.SocketMS, r.ReadyMS, r.LastStatus = result.F(1700+float64(i)*20), result.F(1950+float64(i)*45.5), 200
			r.ServingOutcome, r.ServingMS, r.ServingAttempts, r.ServingStatus = result.OK, result.F(*r.ReadyMS+300+float64(i)), 1, 200
			r.ServingCgroup = &result.Sample{CgroupVersion: 1, CPUUsageMS: 230 + float64(i), ThrottledMS: 1800 + 10*float64(i)}
			switch i {
			case 7:
				r.ServingOutcome, r.ServingMS, r.ServingCgroup, r.ServingStatus = result.DeadlineExceeded, nil, nil, 0
				r.ServingError = "no answer to POST /work within 3s: context deadline exceeded"
			case 9:
				r.ServingOutcome, r.ServingMS, r.ServingCgroup, r.ServingStatus = result.CallFailed, nil, nil, 500
				r.ServingError = "POST /work: call failed: answered 500"
			}
		case result.DeadlineExceeded:
			r.SocketMS, r.LastStatus = result.F(2500), 0
			r.Error = "not healthy within 3s: connect: connection refused"
		case result.OOMKilled:
			r.ExitMS, r.ExitCode, r.OOMKilled = result.F(900), exit(137), true
			r.Error = "container exited before ready"
			r.LogTail = "Traceback (most recent call last):\n  File \"app.py\", line 3\nMemoryError\n\x1b[0m"
		case result.ExitedBeforeReady:
			r.ExitMS, r.ExitCode = result.F(450), exit(1)
			r.SocketMS = nil
			r.Error = "container exited before ready"
			r.LogTail = "ModuleNotFoundError: No module named 'aiohttp' <&>"
		}
		add(r)
	}
	for i := range 2 {
		add(result.Record{Scenario: "py-aiohttp", Kind: result.KindDiagnostic, Iteration: i, Image: "coldstart/py-aiohttp:1",
			Outcome: result.OK, SocketMS: result.F(2300), ReadyMS: result.F(2600 + 100*float64(i)), Attempts: 5, Limits: limits(true),
			Cgroup: &result.Sample{CgroupVersion: 1, CPUUsageMS: 200, ThrottledPeriods: 22, ThrottledMS: 1900 + 100*float64(i)},
			Imports: &result.Imports{TotalUS: 1300000 + 100000*int64(i), Malformed: i, Modules: []result.Module{
				{Name: "aiohttp", SelfUS: 4000, CumulativeUS: 900000 + 50000*int64(i), Depth: 1},
				{Name: "aiohttp.web", SelfUS: 2500 + 500*int64(i), CumulativeUS: 600000, Depth: 2},
				{Name: "asyncio", SelfUS: 3000, CumulativeUS: 250000, Depth: 1},
				{Name: "json", SelfUS: 800, CumulativeUS: 5000, Depth: 1},
				// An app writes its profile: a name can carry markup and a bidi override.
				{Name: "[evil](http://x.invalid)_\u202etxt.exe\x1b[31m", SelfUS: 700, CumulativeUS: 4000, Depth: 1},
			}}})
	}

	// py-http: 3 measured, one start_failed, and the limits of one start disagree.
	for i := range 3 {
		r := result.Record{Scenario: "py-http", Kind: result.KindMeasure, Iteration: i, Image: "coldstart/py-http:1",
			Outcome: result.OK, SocketMS: result.F(210), ReadyMS: result.F(260 + float64(i)), Attempts: 2, Limits: limits(true),
			Cgroup: &result.Sample{CgroupVersion: 1, CPUUsageMS: 65, ThrottledPeriods: 5, ThrottledMS: 180, MemoryPeak: 9 << 20}}
		if i == 1 {
			r.Outcome, r.SocketMS, r.ReadyMS, r.Cgroup = result.StartFailed, nil, nil, nil
			r.Error = "start: OCI runtime create failed"
			r.Limits = nil
		}
		if i == 2 {
			r.Limits = limits(false)
		}
		add(r)
	}
	return recs, summary.Options{Suite: "seed", Run: "run-1", Order: []string{"go-static", "py-aiohttp", "py-http"},
		Planned: 50, Interrupted: true}
}

func input() Input {
	recs, opt := fixture()
	s := summary.Compute(recs, opt)
	s.Scenarios[1].Serving.Request = `POST /work -> 200 containing "work-done"`
	return Input{Summary: s, Records: recs,
		// goarch of the measuring machine, not of the one rendering.
		Manifest: result.Manifest{Suite: "seed", Run: "run-1", GOARCH: "arm64"}}
}

func TestLookup(t *testing.T) {
	want := []string{"text", "markdown", "json", "csv", "benchfmt", "junit", "html"}
	if got := Names(); !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	for _, n := range want {
		f, ok := Lookup(n)
		if !ok || f.Name != n || f.Render == nil || f.Doc == "" || !strings.HasPrefix(f.Ext, ".") {
			t.Errorf("Lookup(%q) = %+v, %v", n, f, ok)
		}
	}
	if _, ok := Lookup("pdf"); ok {
		t.Error("Lookup(pdf) found a format")
	}
}

func render(t *testing.T, name string, in Input) []byte {
	t.Helper()
	f, ok := Lookup(name)
	if !ok {
		t.Fatalf("no format %q", name)
	}
	var b bytes.Buffer
	if err := f.Render(&b, in); err != nil {
		t.Fatalf("render %s: %v", name, err)
	}
	return b.Bytes()
}

func TestGolden(t *testing.T) {
	in := input()
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			f, _ := Lookup(name)
			got := render(t, name, in)
			path := filepath.Join("testdata", "report"+f.Ext)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run go test -update and review the diff):\n%s", name, path, got)
			}
		})
	}
}

func TestTextCensored(t *testing.T) {
	out := string(render(t, "text", input()))
	for _, want := range []string{"> 3000", "kernel_memory", "not enforced", "[limit_not_enforced]", "[interrupted]", "aiohttp.web"} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q", want)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	in := input()
	var back summary.Summary
	if err := json.Unmarshal(render(t, "json", in), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&back, in.Summary) {
		t.Error("summary.json does not read back into the same Summary")
	}
}

func TestCSV(t *testing.T) {
	in := input()
	rows, err := csv.NewReader(bytes.NewReader(render(t, "csv", in))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	wantHead := []string{"run", "seq", "scenario", "kind", "iter", "outcome", "create_ms", "start_call_ms", "socket_ms",
		"ready_ms", "remove_ms", "attempts", "exit_code", "oom_killed", "cpu_usage_ms", "throttled_periods", "throttled_ms", "memory_peak"}
	if !slices.Equal(rows[0][:len(wantHead)], wantHead) {
		t.Errorf("header %v", rows[0])
	}
	if len(rows) != len(in.Records)+1 {
		t.Fatalf("%d rows for %d records", len(rows)-1, len(in.Records))
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for i, r := range in.Records {
		row := rows[i+1]
		if (r.ReadyMS == nil) != (row[col["ready_ms"]] == "") || (r.Cgroup == nil) != (row[col["memory_peak"]] == "") {
			t.Errorf("seq %d: nil fields not empty cells: %v", r.Seq, row)
		}
		if row[col["error"]] != r.Error {
			t.Errorf("seq %d: error %q", r.Seq, row[col["error"]])
		}
	}
}

func TestBenchfmtRoundTrip(t *testing.T) {
	in := input()
	out := render(t, "benchfmt", in)
	rd := benchfmt.NewReader(bytes.NewReader(out), "report.bench")
	got := map[string][]float64{}
	misses := map[string]int{}
	for rd.Scan() {
		switch rec := rd.Result().(type) {
		case *benchfmt.SyntaxError:
			t.Errorf("syntax error: %v", rec)
		case *benchfmt.Result:
			if rec.GetConfig("suite") != "seed" || rec.GetConfig("goos") != "linux" || rec.GetConfig("goarch") != "arm64" {
				t.Errorf("%s: config %v", rec.Name, rec.Config)
			}
			for _, k := range []string{"run", "misses"} {
				if rec.GetConfig(k) != "" {
					t.Errorf("%s: config key %q would split benchstat tables", rec.Name, k)
				}
			}
			if rec.Iters != 1 {
				t.Errorf("%s: iters %d", rec.Name, rec.Iters)
			}
			sec, ok := rec.Value("sec/op")
			if !ok {
				t.Errorf("%s: no sec/op", rec.Name)
			}
			miss, ok := rec.Value("miss/op")
			if !ok {
				t.Errorf("%s: no miss/op in %v", rec.Name, rec.Values)
			}
			if _, ok := rec.Value("peak-mem-B/op"); !ok && miss == 0 {
				t.Errorf("%s: no peak-mem-B/op in %v", rec.Name, rec.Values)
			}
			got[rec.Name.String()] = append(got[rec.Name.String()], sec*1000)
			misses[rec.Name.String()] += int(miss)
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	// Every measured start is a result, misses too: at the deadline (a
	// lower bound of their time) with 1 miss/op, so that benchstat sees a
	// change that turns starts into misses as slower, never faster.
	for _, sc := range in.Summary.Scenarios {
		name := "ColdStart/" + sc.Name
		var want []float64
		for _, r := range in.Records {
			if r.Scenario != sc.Name || r.Kind != result.KindMeasure {
				continue
			}
			if r.Outcome == result.OK {
				want = append(want, *r.ReadyMS)
			} else {
				want = append(want, r.DeadlineMS)
			}
		}
		if len(got[name]) != sc.N || len(want) != sc.N || misses[name] != sc.Missed() {
			t.Errorf("%s: %d results (%d misses), want %d measured starts (%d misses)", name, len(got[name]), misses[name], sc.N, sc.Missed())
			continue
		}
		for i := range want {
			if d := got[name][i] - want[i]; d > 1e-6 || d < -1e-6 {
				t.Errorf("%s #%d: %v ms, want %v", name, i, got[name][i], want[i])
			}
		}
	}
}

func TestJUnit(t *testing.T) {
	in := input()
	out := render(t, "junit", in)
	var doc junitSuites
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("invalid XML: %v", err)
	}
	if len(doc.Suites) != len(in.Summary.Scenarios) {
		t.Fatalf("%d suites", len(doc.Suites))
	}
	total := 0
	for i, s := range doc.Suites {
		sc := in.Summary.Scenarios[i]
		// A start case each, p95, and serving's p95 where the scenario has a work request.
		extra, missed := 1, sc.Missed()
		var servingP95 *junitCase
		if sv := sc.Serving; sv != nil {
			extra, missed = 2, sv.Missed() // a start not served fails, ready or not
			servingP95 = &s.Cases[len(s.Cases)-1]
			if servingP95.Name != "serving_p95_within_deadline" || (servingP95.Failure != nil) != sv.ServingMS.P95.Censored {
				t.Errorf("suite %s: serving p95 case %+v for %+v", s.Name, servingP95, sv.ServingMS.P95)
			}
		}
		if s.Name != sc.Name || s.Tests != sc.N+extra || len(s.Cases) != s.Tests {
			t.Errorf("suite %s: tests %d, cases %d, want %d", s.Name, s.Tests, len(s.Cases), sc.N+extra)
		}
		p95 := s.Cases[len(s.Cases)-extra]
		if p95.Name != "p95_within_deadline" || (p95.Failure != nil) != sc.ReadyMS.P95.Censored {
			t.Errorf("suite %s: p95 case %+v for p95 %+v", s.Name, p95, sc.ReadyMS.P95)
		}
		failures := 0
		for _, c := range s.Cases {
			if c.Failure != nil {
				failures++
			}
		}
		want := missed + btoi(p95.Failure != nil)
		if servingP95 != nil {
			want += btoi(servingP95.Failure != nil)
		}
		if failures != s.Failures || s.Failures != want {
			t.Errorf("suite %s: failures attr %d, counted %d, want %d", s.Name, s.Failures, failures, want)
		}
		total += s.Tests
	}
	if doc.Tests != total {
		t.Errorf("testsuites tests %d, want %d", doc.Tests, total)
	}
	if !bytes.Contains(out, []byte("MemoryError")) || !bytes.Contains(out, []byte("&lt;&amp;&gt;")) {
		t.Error("log tail missing or unescaped")
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestNoSummary(t *testing.T) {
	for _, name := range []string{"text", "markdown", "json", "junit"} {
		f, _ := Lookup(name)
		if err := f.Render(&bytes.Buffer{}, Input{}); err == nil {
			t.Errorf("%s rendered without a summary", name)
		}
	}
	// Records alone are enough for csv and benchfmt.
	recs, _ := fixture()
	for _, name := range []string{"csv", "benchfmt"} {
		f, _ := Lookup(name)
		if err := f.Render(&bytes.Buffer{}, Input{Records: recs}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestMarkdownEscape(t *testing.T) {
	for in, want := range map[string]string{
		"n=20 < 100":      "n=20 < 100",
		"a*b_c `x` <div>": "a\\*b_c \\`x\\` \\<div>",
		"[x](http://e)":   "\\[x\\](http://e)",
		"_x_ &lt; ~~s~~":  "\\_x\\_ \\&lt; \\~\\~s\\~\\~",
		"# h":             "\\# h",
		`C:\tmp`:          `C:\\tmp`,
	} {
		if got := mdEscape(in); got != want {
			t.Errorf("mdEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
