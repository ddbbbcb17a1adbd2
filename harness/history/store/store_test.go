package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/history"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

var ctx = context.Background()

// sampleRun is a run with every kind of figure the history keeps: known,
// censored and absent percentiles, a calibration arm, a paired verdict whose
// change a miss decides (+Inf), one nothing decides (NaN), and SLO checks.
func sampleRun(id string, started time.Time, arms int) history.Run {
	r := history.Run{
		ID: id, Suite: "nightly", SuiteFile: "scenarios/nightly.yaml", SuiteHash: "abc123",
		Started: started.UTC(), Recorded: started.Add(10 * time.Minute).UTC(),
		Harness: "0.2.0+test", GoVersion: "go1.26.8",
		Host: history.Host{Fingerprint: "engine 20.10.24; kernel 6.18", EngineVersion: "20.10.24", APIVersion: "1.41",
			Runtime: "runc", CgroupVersion: "1", CgroupDriver: "cgroupfs", Kernel: "6.18.0", CPUModel: "Test CPU", Cores: 2},
		Meta:    map[string]string{"commit": "abc123", "image.candidate": "sha256:feed"},
		Planned: 100, Completed: 100, Resumed: 1,
		Verdict: summary.Regressed,
		Gate:    &result.Gate{ThresholdPct: 5, Confidence: 0.95, MaxDriftPct: 25, MaxContendedShare: 0.2},
		Guard:   &history.Guard{OK: false, DriftPct: summary.Pct(31.25), ContendedShare: 0.05, Reasons: []string{"the calibration drifted +31.2%"}},
		Arms: []history.Arm{
			{Name: "null", Scenario: "null", Image: "coldstart/null:latest", Calibration: true, DeadlineMS: 3000, N: 20, OK: 20,
				P50: summary.Num(180.5), P95: summary.Num(201.25), P99: summary.Value{}},
			{Name: "app [baseline]", Scenario: "app", Variant: "baseline", Image: "app:1.4", ImageID: "sha256:b45e", DeadlineMS: 3000, N: 40, OK: 39, Contended: 2,
				P50: summary.Num(310), P95: summary.Num(2900.125), P99: summary.Above(2990.5),
				Limits: []result.Limit{{Name: "cpu", Unit: result.UnitCPU, Requested: result.CPU(10000, 100000), Enforced: result.CPU(10000, 100000), OK: true},
					{Name: "kernel_memory", Unit: result.UnitBytes, Requested: result.Of(64 << 20), Enforced: result.Amount{State: result.NotEnforced}}}},
			{Name: "app [candidate]", Scenario: "app", Variant: "candidate", Image: "app:1.5", DeadlineMS: 3000, N: 40, OK: 30,
				P50: summary.Num(420), P95: summary.Above(2500), P99: summary.Above(3000)},
		},
		Verdicts: []history.Verdict{
			{Scenario: "app", Verdict: summary.Regressed, Reason: "lower bound +12.0% > +5%", Pairs: 40,
				ChangePct: summary.Pct(35.5), CILowPct: summary.Pct(12), CIHighPct: summary.Pct(math.Inf(1)),
				PSlower: 0.0001, PSlowerHolm: 0.0002, BaselineOnlyMisses: 1, CandidateOnlyMisses: 10, BothMissed: 0, MissP: 0.006, MissPHolm: 0.012},
			{Scenario: "other", Verdict: summary.Inconclusive, Reason: "no pairs", Pairs: 0,
				ChangePct: summary.Pct(math.NaN()), CILowPct: summary.Pct(math.Inf(-1)), CIHighPct: summary.Pct(math.NaN()), PSlower: 1, PSlowerHolm: 1, MissP: 1, MissPHolm: 1},
		},
		SLOs: []history.SLO{
			{Arm: "app [candidate]", Objective: "p95 <= 2000 ms", Observed: summary.Above(2500), Target: 2000, Met: false, Reason: "p95 > 2500 ms"},
			{Arm: "app [candidate]", Objective: "miss_rate <= 1%", Observed: summary.Num(0.25), Target: 0.01, Met: false, Reason: "25.0% missed"},
			{Arm: "null", Objective: "p50 <= 500 ms", Observed: summary.Num(180.5), Target: 500, Met: true},
		},
	}
	for i := 3; i < arms; i++ {
		r.Arms = append(r.Arms, history.Arm{Name: fmt.Sprintf("extra-%02d", i), Scenario: fmt.Sprintf("extra-%02d", i), Image: "x:1",
			DeadlineMS: 3000, N: 10, OK: 9, P50: summary.Num(float64(100 + i)), P95: summary.Above(2000), P99: summary.Above(3000)})
	}
	return r
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func openTemp(t *testing.T, opts ...Option) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "history.db")
	s, err := Open(ctx, path, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

// Every figure comes back as it went in: censored values with their bound,
// absent ones absent, ±Inf and undecided changes, meta, limits, verdicts and
// SLO checks, in order.
func TestRoundTrip(t *testing.T) {
	s, _ := openTemp(t)
	t0 := time.Date(2026, 11, 30, 3, 4, 5, 123456789, time.UTC)
	want := sampleRun("20261130T030405Z-aaaa", t0, 3)
	if err := s.Record(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := s.Runs(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("%d runs, want 1", len(got))
	}
	if g, w := jsonOf(t, got[0]), jsonOf(t, want); g != w {
		t.Errorf("round trip differs:\ngot  %s\nwant %s", g, w)
	}
	v := got[0].Verdicts
	if !math.IsInf(float64(v[0].CIHighPct), 1) || !math.IsInf(float64(v[1].CILowPct), -1) || !math.IsNaN(float64(v[1].ChangePct)) {
		t.Errorf("unbounded changes: %v %v %v", v[0].CIHighPct, v[1].CILowPct, v[1].ChangePct)
	}
	if a := got[0].Arms[2]; !a.P95.Censored || a.P95.Bound != 2500 || a.P95.Known || a.MissRate() != 0.25 {
		t.Errorf("censored p95: %+v, miss rate %v", a.P95, a.MissRate())
	}
	if a := got[0].Arms[0]; a.P99.Known || a.P99.Censored {
		t.Errorf("absent p99 came back as %+v", a.P99)
	}
}

// Recording a run again replaces its entry: no duplicate, no leftover rows.
func TestRecordReplaces(t *testing.T) {
	s, _ := openTemp(t)
	t0 := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	r := sampleRun("run-1", t0, 5)
	if err := s.Record(ctx, r); err != nil {
		t.Fatal(err)
	}
	r.Arms, r.Verdicts, r.SLOs, r.Meta = r.Arms[:1], nil, nil, map[string]string{"commit": "def456"}
	if err := s.Record(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Runs(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || len(got[0].Arms) != 1 || len(got[0].Verdicts) != 0 || len(got[0].SLOs) != 0 || got[0].Meta["commit"] != "def456" || len(got[0].Meta) != 1 {
		t.Fatalf("after re-recording: %s", jsonOf(t, got))
	}
	for _, table := range []string{"arms", "verdicts", "slo_checks", "run_meta"} {
		var n int
		s.db.QueryRow("SELECT count(*) FROM " + table).Scan(&n)
		if want := map[string]int{"arms": 1, "run_meta": 1}[table]; n != want {
			t.Errorf("%s holds %d rows, want %d", table, n, want)
		}
	}
}

// The last n runs of each suite, oldest first; a suite filter.
func TestRunsLastPerSuite(t *testing.T) {
	s, _ := openTemp(t)
	t0 := time.Date(2026, 11, 1, 3, 0, 0, 0, time.UTC)
	for i := range 6 {
		for _, suite := range []string{"a", "b"} {
			r := sampleRun(fmt.Sprintf("%s-%d", suite, i), t0.Add(time.Duration(i)*24*time.Hour), 3)
			r.Suite = suite
			if err := s.Record(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
	}
	ids := func(suite string, n int) string {
		rs, err := s.Runs(ctx, suite, n)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return fmt.Sprint(out)
	}
	for _, c := range []struct {
		suite string
		n     int
		want  string
	}{
		{"", 2, "[a-4 a-5 b-4 b-5]"},
		{"b", 3, "[b-3 b-4 b-5]"},
		{"a", 0, "[a-0 a-1 a-2 a-3 a-4 a-5]"},
		{"c", 5, "[]"},
	} {
		if got := ids(c.suite, c.n); got != c.want {
			t.Errorf("Runs(%q, %d) = %s, want %s", c.suite, c.n, got, c.want)
		}
	}
}

func TestOpenNew(t *testing.T) {
	s, path := openTemp(t)
	v, err := s.Version(ctx)
	if err != nil || v != Version {
		t.Fatalf("version %d, %v; want %d", v, err, Version)
	}
	var app int
	var mode string
	s.db.QueryRow("PRAGMA application_id").Scan(&app)
	s.db.QueryRow("PRAGMA journal_mode").Scan(&mode)
	if app != appID || mode != "wal" {
		t.Errorf("application_id %#x, journal_mode %q", app, mode)
	}
	if _, err := os.Stat(path); err != nil {
		t.Error(err)
	}
	// Opening again changes nothing.
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
}

// A reader does not create a history where there is none.
func TestOpenMustExist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.db")
	_, err := Open(ctx, path, MustExist())
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("err %v, want not exist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("MustExist created %s", path)
	}
}

// A garbage file, a truncated history and another program's database are
// refused with ErrNotHistory, and left exactly as they were.
func TestOpenNotHistory(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	os.WriteFile(garbage, bytes.Repeat([]byte("not a database, just bytes\n"), 400), 0o644)

	foreign := filepath.Join(dir, "foreign.db")
	f, err := Open(ctx, filepath.Join(dir, "seed.db"))
	if err != nil {
		t.Fatal(err)
	}
	f.db.Exec("CREATE TABLE other (x)")
	f.db.Exec("PRAGMA application_id = 42")
	f.db.Exec("PRAGMA wal_checkpoint(TRUNCATE)")
	f.Close()
	os.Rename(filepath.Join(dir, "seed.db"), foreign)

	for _, path := range []string{garbage, foreign} {
		before, _ := os.ReadFile(path)
		_, err := Open(ctx, path)
		if !errors.Is(err, ErrNotHistory) {
			t.Errorf("%s: err %v, want ErrNotHistory", filepath.Base(path), err)
		} else {
			t.Logf("%s: %v", filepath.Base(path), err)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(before, after) {
			t.Errorf("%s was changed by a refused open", filepath.Base(path))
		}
	}
}

// A history written by a newer coldstart is refused, not downgraded.
func TestOpenNewer(t *testing.T) {
	s, path := openTemp(t)
	s.db.Exec(fmt.Sprintf("PRAGMA user_version = %d", Version+1))
	s.Close()
	_, err := Open(ctx, path)
	if !errors.Is(err, ErrNewer) {
		t.Fatalf("err %v, want ErrNewer", err)
	}
}

// A writer that holds the database past the busy timeout gives ErrLocked;
// once it lets go, the same write succeeds.
func TestRecordLocked(t *testing.T) {
	_, path := openTemp(t)
	holder, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	tx, err := holder.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	w, err := Open(ctx, path, WithBusyTimeout(300*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r := sampleRun("locked", time.Now(), 3)
	t0 := time.Now()
	err = w.Record(ctx, r)
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("err %v, want ErrLocked", err)
	}
	if d := time.Since(t0); d < 250*time.Millisecond || d > 5*time.Second {
		t.Errorf("gave up after %v, want about the busy timeout", d)
	}
	t.Log(err)
	tx.Rollback()
	if err := w.Record(ctx, r); err != nil {
		t.Fatalf("after the lock was released: %v", err)
	}
}

// TestOpenWaitsForWALConversion: a new history that another connection
// holds locked while this one opens it. Open waits for the switch to WAL
// within the busy timeout and gives up as ErrLocked after it. (The opens
// at once that failed without waiting are TestConcurrentOpenNew's.)
func TestOpenWaitsForWALConversion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	holder, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	conn, err := holder.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	if _, err := Open(ctx, path, WithBusyTimeout(300*time.Millisecond)); !errors.Is(err, ErrLocked) {
		t.Fatalf("open of a history locked throughout: err %v, want ErrLocked", err)
	} else if d := time.Since(t0); d < 250*time.Millisecond {
		t.Errorf("gave up after %v, want about the busy timeout (300ms): %v", d, err)
	}
	released := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, err := conn.ExecContext(ctx, "COMMIT")
		released <- err
	}()
	s, err := Open(ctx, path, WithBusyTimeout(10*time.Second))
	if err != nil {
		t.Fatalf("open while the lock was held for 300 ms: %v", err)
	}
	defer s.Close()
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Errorf("journal mode %q (%v), want wal", mode, err)
	}
	if err := s.Record(ctx, sampleRun("after", time.Now(), 3)); err != nil {
		t.Error(err)
	}
}

// TestConcurrentOpenNew: four opens of one new history at the same instant,
// 100 times over, all succeed. With the journal mode set as a connection
// pragma, 16 of 800 such opens failed with SQLITE_BUSY on this machine
// (2026-12-08): SQLite runs no busy handler for the conversion to WAL. With
// the schema check as three reads, 3 of 1,600 read another process's
// migration half done, as another program's database.
func TestConcurrentOpenNew(t *testing.T) {
	const rounds, opens = 100, 4
	var fails atomic.Int32
	for range rounds {
		path := filepath.Join(t.TempDir(), "history.db")
		var wg sync.WaitGroup
		at := time.Now().Add(5 * time.Millisecond)
		for range opens {
			wg.Go(func() {
				time.Sleep(time.Until(at))
				s, err := Open(ctx, path)
				if err != nil {
					if fails.Add(1) <= 3 {
						t.Error(err)
					}
					return
				}
				s.Close()
			})
		}
		wg.Wait()
	}
	if n := fails.Load(); n > 0 {
		t.Errorf("%d of %d opens failed", n, rounds*opens)
	}
}
