package store

// Tests with writer processes: this test binary, re-executed as a writer
// (TestHelperWriter), records runs into a history while the test kills it
// with SIGKILL at random moments, or while a second writer records into the
// same file.

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/history"
)

// helperEnv holds "PATH|PREFIX|COUNT|START" for a writer process: START,
// when not 0, is the Unix time in ns at which it begins writing, after
// opening the history.
const helperEnv = "COLDSTART_HISTORY_WRITER"

// writerArms makes each transaction a few hundred rows, so that a kill
// often lands inside one.
const writerArms = 60

// TestHelperWriter is the writer process, not a test. It records COUNT runs
// PREFIX-0, PREFIX-1, ... each in its own transaction, printing "begin ID
// NS" before and "committed ID NS" after each one (NS: Unix time in ns),
// unbuffered.
func TestHelperWriter(t *testing.T) {
	spec := os.Getenv(helperEnv)
	if spec == "" {
		t.Skip("the writer process of the process tests")
	}
	f := strings.Split(spec, "|")
	count, _ := strconv.Atoi(f[2])
	s, err := Open(ctx, f[0])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	if start, _ := strconv.ParseInt(f[3], 10, 64); start > 0 {
		time.Sleep(time.Until(time.Unix(0, start)))
	}
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for i := range count {
		id := fmt.Sprintf("%s-%d", f[1], i)
		fmt.Fprintf(os.Stdout, "begin %s %d\n", id, time.Now().UnixNano())
		if err := s.Record(ctx, sampleRun(id, t0.Add(time.Duration(i)*time.Minute), writerArms)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		fmt.Fprintf(os.Stdout, "committed %s %d\n", id, time.Now().UnixNano())
	}
	s.Close()
	os.Exit(0)
}

func writer(t *testing.T, path, prefix string, count int, start time.Time) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	at := int64(0)
	if !start.IsZero() {
		at = start.UnixNano()
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperWriter$", "-test.count=1")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|%s|%d|%d", helperEnv, path, prefix, count, at))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr
}

// journalOf reads a writer's output: the runs it saw committed, and the one
// it had begun and not finished when it died ("" if none).
func journalOf(out string) (committed []string, inFlight string) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		verb, id := f[0], f[1]
		switch verb {
		case "begin":
			inFlight = id
		case "committed":
			committed = append(committed, id)
			inFlight = ""
		}
	}
	return committed, inFlight
}

// checkHistory opens the history as the next harness would and checks it
// is sound, holds every committed run whole, and holds nothing else but
// perhaps the run in flight (committed, then killed before it said so).
func checkHistory(t *testing.T, path string, committed []string, inFlight string) (present map[string]bool) {
	t.Helper()
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("the history does not open after the kill: %v", err)
	}
	defer s.Close()
	var ok string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&ok); err != nil || ok != "ok" {
		t.Fatalf("integrity_check: %q, %v", ok, err)
	}
	runs, err := s.Runs(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	present = map[string]bool{}
	for _, r := range runs {
		if r.ID == fixtureRun() {
			continue // a fixture the test started from
		}
		present[r.ID] = true
		if len(r.Arms) != writerArms || len(r.Verdicts) != 2 || len(r.SLOs) != 3 || len(r.Meta) != 2 {
			t.Errorf("run %s is partial: %d arms, %d verdicts, %d SLOs, %d meta", r.ID, len(r.Arms), len(r.Verdicts), len(r.SLOs), len(r.Meta))
		}
	}
	for _, id := range committed {
		if !present[id] {
			t.Errorf("run %s was committed but is not in the history", id)
		}
	}
	if extra := len(present) - len(committed); extra > 1 || extra == 1 && !present[inFlight] {
		t.Errorf("history holds %d runs, %d committed (in flight: %q)", len(present), len(committed), inFlight)
	}
	return present
}

// A writer killed with SIGKILL at random moments, again and again on the
// same history (a new one every fifth round, so that some kills land in its
// creation): every time the history opens, passes SQLite's integrity
// check, and holds every run the writer saw committed, each whole.
func TestKilledMidWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("kills writer processes")
	}
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 9))
	t.Logf("seed %d", seed)
	var path string
	var all []string
	midWrite, total := 0, 0
	const rounds = 30
	for round := range rounds {
		if round%5 == 0 {
			path = filepath.Join(t.TempDir(), "history.db")
			all = nil
		}
		cmd, stdout, stderr := writer(t, path, fmt.Sprintf("r%02d", round), 1000, time.Time{})
		// From before the open (the process is still starting) to a few
		// dozen transactions in.
		time.Sleep(time.Duration(rng.IntN(150)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("round %d: writer ended before the kill: %v\n%s", round, err, stderr)
		}
		committed, inFlight := journalOf(stdout.String())
		if inFlight != "" {
			midWrite++
		}
		all = append(all, committed...)
		total += len(committed)
		present := checkHistory(t, path, all, inFlight)
		if present[inFlight] {
			all = append(all, inFlight)
		}
		if t.Failed() {
			t.Fatalf("round %d", round)
		}
	}
	t.Logf("%d rounds, %d killed inside a Record call, %d runs committed", rounds, midWrite, total)
	if midWrite < rounds/4 {
		t.Errorf("only %d of %d kills landed inside a Record call: the test did not test mid-write kills", midWrite, rounds)
	}
}

// Two writer processes recording into one history at once, a new one (both
// may create it) and a v1 one (both may upgrade it): both succeed (the
// later waits for the earlier's short transactions) and every run of both
// is there.
func TestTwoWriters(t *testing.T) {
	if testing.Short() {
		t.Skip("runs writer processes")
	}
	t.Run("new", func(t *testing.T) { twoWriters(t, filepath.Join(t.TempDir(), "history.db")) })
	t.Run("upgrade-v1", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "history.db")
		copyFile(t, filepath.Join("testdata", "history-v1.db"), path)
		twoWriters(t, path)
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if v, _ := s.Version(ctx); v != Version {
			t.Errorf("version %d, want %d", v, Version)
		}
		runs, _ := s.Runs(ctx, "", 0)
		if !slices.ContainsFunc(runs, func(r history.Run) bool { return r.ID == fixtureRun() }) {
			t.Error("the v1 run is gone")
		}
	})
}

func twoWriters(t *testing.T, path string) {
	const n, m = 150, 120
	// Both open the new history at once (both may create it), then write
	// from the same instant.
	start := time.Now().Add(500 * time.Millisecond)
	a, aout, aerr := writer(t, path, "a", n, start)
	b, bout, berr := writer(t, path, "b", m, start)
	errA, errB := a.Wait(), b.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("writers: %v, %v\n%s\n%s", errA, errB, aerr, berr)
	}
	ca, _ := journalOf(aout.String())
	cb, _ := journalOf(bout.String())
	if len(ca) != n || len(cb) != m {
		t.Fatalf("writers committed %d and %d runs, want %d and %d", len(ca), len(cb), n, m)
	}
	present := checkHistory(t, path, append(ca, cb...), "")
	if len(present) != n+m {
		t.Errorf("history holds %d runs, want %d", len(present), n+m)
	}
	// They did write at once: each began a run while the other was between
	// its first begin and its last commit.
	ta0, ta1 := span(aout.String())
	tb0, tb1 := span(bout.String())
	overlap := min(ta1, tb1) - max(ta0, tb0)
	t.Logf("writer a %v, writer b %v, overlapping %v", time.Duration(ta1-ta0), time.Duration(tb1-tb0), time.Duration(overlap))
	if overlap <= 0 {
		t.Errorf("the writers did not write at once: the test did not test concurrency")
	}
}

// span is the first begin and the last commit a writer printed (Unix ns).
func span(out string) (first, last int64) {
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		ns, _ := strconv.ParseInt(f[2], 10, 64)
		if f[0] == "begin" && first == 0 {
			first = ns
		}
		if f[0] == "committed" {
			last = ns
		}
	}
	return first, last
}
