package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/history/store"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"

	_ "modernc.org/sqlite" // the test holds the history's lock itself
)

// The run history is off for this package's tests (and the harness
// processes they start), so that a test run records nothing into ./results
// or a history named in the developer's environment; the history tests name
// theirs with --history. An init rather than a TestMain, so as not to claim
// the package's one TestMain.
func init() { os.Setenv("COLDSTART_HISTORY", HistoryOff) }

// nightlyRun writes the run directory of night i of a synthetic nightly
// job: a calibration workload (10 starts) and a paired app (12 pairs). The
// platform is slower on night 2 (calibration and app alike); the candidate
// is 30% slower on night 3, misses a third of its starts on night 4, and
// the host's kernel changes from night 4 on. Deterministic: the same
// directories every time.
func nightlyRun(t *testing.T, root string, i int) string {
	t.Helper()
	return nightlyRunAs(t, root, i, fmt.Sprintf("202611%02dT020000Z-%08x", 20+i, 0xbeef0+i), time.Date(2026, 11, 20+i, 2, 0, 0, 0, time.UTC))
}

// nightlyRunAs is night i's run under another id and start time.
func nightlyRunAs(t *testing.T, root string, i int, id string, started time.Time) string {
	t.Helper()
	platform := []float64{1, 1.02, 1.3, 1.01, 0.99, 1}[i]
	candidate := []float64{1.01, 0.995, 1.005, 1.3, 1.0, 1.002}[i]
	m := result.Manifest{Run: id, Suite: "nightly", SuiteFile: "nightly.yaml", SuiteHash: "5u17e", Harness: "0.2.0", GoVersion: "go1.26.8",
		Started: started, Engine: result.Engine{EngineVersion: "20.10.24", APIVersion: "1.41", Runtime: "runc", CgroupVersion: "1", CgroupDriver: "cgroupfs"},
		Kernel: "6.18.0", CPUModel: "Test CPU", Cores: 2}
	if i >= 4 {
		m.Kernel = "6.18.2"
	}
	m.Fingerprint = result.Fingerprint(m.Engine, m.Kernel, m.CPUModel, m.Cores)
	var recs []result.Record
	add := func(scenario, variant string, iter int, ready float64, calibration bool) {
		r := result.Record{V: result.Version, Run: id, Scenario: scenario, Variant: variant, Kind: result.KindMeasure, Iteration: iter,
			Seq: len(recs), Time: started.Add(time.Duration(len(recs)) * time.Second), Image: scenario + ":" + variant, DeadlineMS: 3000,
			Calibration: calibration, Outcome: result.OK, Attempts: 1}
		if ready >= 3000 {
			r.Outcome, r.Error = result.DeadlineExceeded, "not ready within 3000 ms"
		} else {
			r.ReadyMS = result.F(ready)
		}
		recs = append(recs, r)
	}
	for k := range 12 {
		if k%6 == 0 {
			for c := range 5 {
				add("null", "", k/6*5+c, platform*(180+float64((c*7)%11)), true)
			}
		}
		base := platform * (300 + float64((k*37)%23))
		cand := base * candidate * (1 + 0.004*float64(k%3-1))
		if i == 4 && k%3 == 0 {
			cand = 3000
		}
		add("app", "baseline", k, base, false)
		add("app", "candidate", k, cand, false)
	}
	m.Planned = len(recs)
	dir := filepath.Join(root, id)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := journal.WriteJSONAtomic(filepath.Join(dir, journal.ManifestFile), m); err != nil {
		t.Fatal(err)
	}
	w, err := journal.Create(filepath.Join(dir, journal.RunsFile))
	if err != nil {
		t.Fatal(err)
	}
	for k := range recs {
		if err := w.Append(&recs[k]); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	return dir
}

// The history end to end without an engine: six run directories recorded
// with `coldstart record`, then `coldstart trend` in markdown and json,
// against golden files (go test ./harness/cli -run TestTrendCommand -update).
func TestTrendCommand(t *testing.T) {
	root := t.TempDir()
	hist := filepath.Join(root, "h", "history.db")
	var dirs []string
	for i := range 6 {
		dirs = append(dirs, nightlyRun(t, root, i))
	}
	// Recorded in two calls, one of them again: a re-recorded run replaces itself.
	if _, stderr, err := run(t, "record", "--history", hist, "--meta", "commit=c0ffee", dirs[0], dirs[1], dirs[2]); err != nil {
		t.Fatalf("record: %v\n%s", err, stderr)
	}
	if _, stderr, err := run(t, "record", "--history", hist, "--meta", "commit=c0ffee", "--meta", "job=nightly-7", dirs[2], dirs[3], dirs[4], dirs[5]); err != nil {
		t.Fatalf("record: %v\n%s", err, stderr)
	}
	for _, f := range []string{"markdown", "json"} {
		out, stderr, err := run(t, "trend", "--history", hist, "--format", f)
		if err != nil {
			t.Fatalf("trend --format %s: %v\n%s", f, err, stderr)
		}
		golden(t, filepath.Join("testdata", "trend."+map[string]string{"markdown": "md", "json": "json"}[f]), out)
	}
	out, _, err := run(t, "trend", "--history", hist, "--format", "json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Trends []struct {
			Runs   []struct{ Run string } `json:"runs"`
			Series []struct {
				Arm    string `json:"arm"`
				Points []struct {
					P95            summary.Value `json:"p95_ms"`
					CalibrationP50 summary.Value `json:"calibration_p50_ms"`
					Verdict        *struct {
						Verdict string `json:"verdict"`
					} `json:"verdict"`
				} `json:"points"`
			} `json:"series"`
		} `json:"trends"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	tr := doc.Trends[0]
	if len(tr.Runs) != 6 || len(tr.Series) != 3 || tr.Series[2].Arm != "app [candidate]" {
		t.Fatalf("trend: %d runs, series %+v", len(tr.Runs), tr.Series)
	}
	cand := tr.Series[2].Points
	if v := cand[3].Verdict; v == nil || v.Verdict != summary.Regressed {
		t.Errorf("night 4 (+30%%): verdict %+v, want regressed", v)
	}
	if !cand[4].P95.Censored {
		t.Errorf("night 5 (a third missed): p95 %+v, want censored", cand[4].P95)
	}
	if !cand[2].CalibrationP50.Known || cand[2].CalibrationP50.V < 1.2*cand[0].CalibrationP50.V {
		t.Errorf("night 3's platform slowdown is not in the calibration beside the app: %+v vs %+v", cand[2].CalibrationP50, cand[0].CalibrationP50)
	}

	// --last, --suite, --scenario, html.
	out, _, err = run(t, "trend", "--history", hist, "--last", "2", "--scenario", "null", "--suite", "nightly")
	if err != nil || strings.Count(out, "| 202611") != 4 || strings.Contains(out, "app [") {
		t.Errorf("--last 2 --scenario null: %v\n%s", err, out)
	}
	out, _, err = run(t, "trend", "--history", hist, "--format", "html")
	if err != nil || strings.Count(out, "<svg ") != 3 || !strings.Contains(out, "tr-regressed") {
		t.Errorf("html: %v, %d plots", err, strings.Count(out, "<svg "))
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./harness/cli -run TestTrendCommand -update)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./harness/cli -run TestTrendCommand -update, and review the diff):\n%s", path, got)
	}
}

// One run says a trend needs two; no history, a garbage file and a bad
// flag are bad input (exit 2), and the garbage is left as it was.
func TestTrendEdges(t *testing.T) {
	root := t.TempDir()
	hist := filepath.Join(root, "history.db")
	if _, _, err := run(t, "record", "--history", hist, nightlyRun(t, root, 0)); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "trend", "--history", hist)
	if err != nil || !strings.Contains(out, "the history holds 1 run of suite nightly: a trend needs at least 2") {
		t.Errorf("one run: %v\n%s", err, out)
	}
	garbage := filepath.Join(root, "garbage.db")
	junk := bytes.Repeat([]byte("this is not a database\n"), 300)
	os.WriteFile(garbage, junk, 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"trend", "--history", filepath.Join(root, "none.db")}, "no history at"},
		{[]string{"trend", "--history", garbage}, "not a coldstart history: the file is not SQLite or is corrupt"},
		{[]string{"trend", "--history", "off"}, "nothing to read"},
		{[]string{"trend", "--history", hist, "--format", "csv"}, "--format"},
		{[]string{"record", "--history", garbage, filepath.Join(root, "202611"+"20T020000Z-000beef0")}, "not a coldstart history"},
		{[]string{"record", "--history", hist, "--meta", "novalue", root}, "--meta"},
		{[]string{"run", "--history", hist, "--meta", "=x", "../../scenarios/quickstart.yaml"}, "--meta"},
	} {
		_, _, err := run(t, c.args...)
		if Code(err) != ExitBadInput || err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: exit %d, %v; want exit 2 with %q", c.args, Code(err), err, c.want)
		}
	}
	if b, _ := os.ReadFile(garbage); !bytes.Equal(b, junk) {
		t.Error("the garbage file was changed")
	}
	if _, err := os.Stat(filepath.Join(root, "none.db")); !errors.Is(err, os.ErrNotExist) {
		t.Error("trend created a history")
	}
}

// An incomplete run is not recorded: its figures are not the suite's.
func TestRecordRefusesIncomplete(t *testing.T) {
	root := t.TempDir()
	dir := nightlyRun(t, root, 1)
	m, _ := journal.ReadManifest(dir)
	m.Planned += 10
	journal.WriteJSONAtomic(filepath.Join(dir, journal.ManifestFile), m)
	_, _, err := run(t, "record", "--history", filepath.Join(root, "h.db"), dir)
	if Code(err) != ExitBadInput || !strings.Contains(err.Error(), "resume it first") {
		t.Errorf("exit %d, %v", Code(err), err)
	}
}

func TestRecordCommandLine(t *testing.T) {
	h := historyTarget{path: "/srv/hist ory.db", meta: map[string]string{"commit": "abc123", "note": "it's"}}
	got := h.recordCommand("results/app/2026")
	want := `coldstart record --history '/srv/hist ory.db' --meta commit=abc123 --meta 'note=it'\''s' results/app/2026`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// Two harness processes recording into one history at once (each a
// `coldstart record` of 60 runs, one transaction per run) while the test
// holds the history's write lock, then lets go: both were waiting on the
// same lock at the release, both exit 0, and the history holds all 120 runs.
func TestTwoHarnessesRecord(t *testing.T) {
	if testing.Short() {
		t.Skip("starts harness processes")
	}
	root := t.TempDir()
	hist := filepath.Join(root, "history.db")
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var dirs [2][]string
	for w := range 2 {
		for k := range 60 {
			id := fmt.Sprintf("w%d-%03d", w, k)
			dirs[w] = append(dirs[w], nightlyRunAs(t, filepath.Join(root, "w"+strconv.Itoa(w)), k%6, id, t0.Add(time.Duration(2*k+w)*time.Minute)))
		}
	}
	// A history with the schema in place, and its write lock held.
	if _, _, err := run(t, "record", "--history", hist, nightlyRun(t, root, 0)); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", hist+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	a := startHarness(t, append([]string{"record", "--history", hist, "--meta", "writer=a"}, dirs[0]...)...)
	b := startHarness(t, append([]string{"record", "--history", hist, "--meta", "writer=b"}, dirs[1]...)...)
	time.Sleep(3 * time.Second) // both load their runs and wait for the lock (busy timeout 10 s)
	release := time.Now()
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if ca, cb := a.wait(t, 2*time.Minute), b.wait(t, 2*time.Minute); ca != 0 || cb != 0 {
		t.Fatalf("exit codes %d and %d\n%s\n%s", ca, cb, a.stderr, b.stderr)
	}
	st, err := store.Open(context.Background(), hist, store.MustExist())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var first, last [2]time.Time
	n := 0
	for _, r := range runs {
		if r.ID[0] != 'w' {
			continue
		}
		n++
		w := int(r.ID[1] - '0')
		if want := []string{"a", "b"}[w]; r.Meta["writer"] != want {
			t.Errorf("run %s recorded by writer %q, want %q", r.ID, r.Meta["writer"], want)
		}
		if first[w].IsZero() || r.Recorded.Before(first[w]) {
			first[w] = r.Recorded
		}
		last[w] = maxTime(last[w], r.Recorded)
	}
	if n != 120 {
		t.Errorf("history holds %d of the 120 runs", n)
	}
	// A run's Recorded is stamped before its transaction waits for the lock.
	t.Logf("released at +0; writer a began its first run at %v, b at %v; last runs at %v and %v",
		first[0].Sub(release), first[1].Sub(release), last[0].Sub(release), last[1].Sub(release))
	if !first[0].Before(release) || !first[1].Before(release) {
		t.Error("a harness had not reached its first write when the lock was released: they did not write at once")
	}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// The harness killed with SIGKILL while it records: 200 runs are recorded
// once, then recorded again (each run replaced in its own transaction) by
// harness processes killed at random moments, 20 times. After every kill the
// history opens and passes SQLite's integrity check, still holds all 200
// runs, each whole, and the rounds' marks run down the recording order (a
// prefix from the killed round, the rest from earlier ones): no run lost,
// half-replaced or out of order.
func TestHarnessKilledWhileRecording(t *testing.T) {
	if testing.Short() {
		t.Skip("kills harness processes")
	}
	root := t.TempDir()
	hist := filepath.Join(root, "history.db")
	t0 := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	var dirs []string
	for k := range 200 {
		dirs = append(dirs, nightlyRunAs(t, root, k%6, fmt.Sprintf("k%03d", k), t0.Add(time.Duration(k)*time.Minute)))
	}
	if _, stderr, err := run(t, append([]string{"record", "--history", hist, "--meta", "round=00"}, dirs...)...); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	// The first kill falls anywhere from the process's start to a little
	// past the time a whole round of a harness process takes; later ones
	// within the window that kills have not yet shown to fall before the
	// first write (lo) or after the last (hi): on a busy machine a fixed
	// window misses the writes.
	t1 := time.Now()
	h := startHarness(t, append([]string{"record", "--history", hist, "--meta", "round=00"}, dirs...)...)
	h.wait(t, time.Minute)
	lo, hi := time.Duration(0), time.Since(t1)+50*time.Millisecond
	seed := time.Now().UnixNano()
	t.Logf("seed %d, first kills within %v", seed, hi)
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	midWrite, dones := 0, []int{}
	for round := 1; round <= 20; round++ {
		h := startHarness(t, append([]string{"record", "--history", hist, "--meta", fmt.Sprintf("round=%02d", round)}, dirs...)...)
		at := lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
		time.Sleep(at)
		h.cmd.Process.Signal(syscall.SIGKILL) // it may have finished: a round with nothing to kill
		h.wait(t, time.Minute)
		rounds := checkKilledHistory(t, hist, len(dirs))
		done := strings.Count(rounds, fmt.Sprintf("%02d,", round))
		switch {
		case done == 0:
			lo = at
		case done == len(dirs):
			hi = at
		default:
			midWrite++
		}
		if hi-lo < 5*time.Millisecond { // the machine's pace changed: widen again
			lo, hi = lo/2, 2*hi
		}
		dones = append(dones, done)
		if t.Failed() {
			t.Fatalf("round %d: %s", round, rounds)
		}
	}
	t.Logf("20 kills, %d of them between the first and the last run of a round (runs re-recorded per round: %v)", midWrite, dones)
	if midWrite < 5 {
		t.Errorf("only %d kills landed while runs were being written: the test did not test kills mid-write", midWrite)
	}
}

// checkKilledHistory checks the history after a kill and returns each run's
// round mark in recording order, "03,03,02,...".
func checkKilledHistory(t *testing.T, hist string, want int) string {
	t.Helper()
	db, err := sql.Open("sqlite", hist+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	var ok string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Errorf("integrity_check: %q, %v", ok, err)
	}
	db.Close()
	st, err := store.Open(context.Background(), hist, store.MustExist())
	if err != nil {
		t.Fatalf("the history does not open after the kill: %v", err)
	}
	defer st.Close()
	runs, err := st.Runs(context.Background(), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != want {
		t.Errorf("%d runs after the kill, want %d", len(runs), want)
	}
	var marks []string
	for _, r := range runs {
		if len(r.Arms) != 3 || len(r.Verdicts) != 1 || r.Meta["round"] == "" {
			t.Errorf("run %s is partial: %d arms, %d verdicts, meta %v", r.ID, len(r.Arms), len(r.Verdicts), r.Meta)
		}
		if n := len(marks); n > 0 && r.Meta["round"] > marks[n-1] {
			t.Errorf("run %s is from round %s, after a run from round %s: out of order", r.ID, r.Meta["round"], marks[n-1])
		}
		marks = append(marks, r.Meta["round"])
	}
	return strings.Join(marks, ",") + ","
}
