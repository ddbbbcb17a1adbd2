package journal

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/result"
)

func testRecord(seq int) result.Record {
	code := 0
	t := time.Date(2026, 11, 27, 3, 4, 5, 123456789, time.UTC)
	return result.Record{
		V: result.Version, Run: "20261127T030405Z-0badcafe", Scenario: "go-hello",
		Kind: "measure", Iteration: seq, Seq: seq + 1, Time: t.Add(time.Duration(seq) * time.Second),
		Container: fmt.Sprintf("%064d", seq), Image: "coldstart/go-hello:latest",
		Outcome: result.OK, CreateMS: 12.5, StartCallMS: 40.25, SocketMS: result.F(90.5),
		ReadyMS: result.F(91.75), RemoveMS: 33, Attempts: 2, LastStatus: 200, DeadlineMS: 3000,
		StartedAt: &t, StartedAtMS: result.F(-1.5), ExitCode: &code,
		LogTail: "line one\nline \"two\"\tütf-8\n",
		Cgroup:  &result.Sample{CgroupVersion: 1, CPUUsageMS: 25, Periods: 5, ThrottledPeriods: 2, MemoryPeak: 6 << 20},
		Limits:  []result.Limit{{Name: "cpu", Unit: result.UnitCPU, Requested: result.CPU(10000, 100000), Observed: result.CPU(10000, 100000), Enforced: result.CPU(10000, 100000), OK: true}},
	}
}

func writeJournal(t *testing.T, path string, recs ...result.Record) {
	t.Helper()
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range recs {
		if err := w.Append(&recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), RunsFile)
	want := []result.Record{testRecord(0), testRecord(1), {V: 1, Scenario: "s", Outcome: result.DeadlineExceeded, Error: "no healthy answer"}}
	writeJournal(t, path, want...)
	got, warns, err := Read(path)
	if err != nil || len(warns) > 0 {
		t.Fatalf("read: %v %v", err, warns)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip differs:\n got %+v\nwant %+v", got, want)
	}
	// One line per record, each ending in a newline.
	b, _ := os.ReadFile(path)
	if n := bytes.Count(b, []byte("\n")); n != len(want) || b[len(b)-1] != '\n' {
		t.Errorf("%d newlines for %d records", n, len(want))
	}

	// Create appends: a resumed run continues the same journal.
	more := testRecord(7)
	writeJournal(t, path, more)
	got, _, err = Read(path)
	if err != nil || len(got) != len(want)+1 || !reflect.DeepEqual(got[len(want)], more) {
		t.Fatalf("after reopen: %d records, %v; want %d with the new one last", len(got), err, len(want)+1)
	}
}

// A crash mid-write leaves a prefix of the last line: it is dropped with a
// warning naming the line, the rest is kept, and there is no error.
func TestTornLastLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), RunsFile)
	recs := []result.Record{testRecord(0), testRecord(1), testRecord(2)}
	writeJournal(t, path, recs...)
	b, _ := os.ReadFile(path)
	lastStart := bytes.LastIndexByte(b[:len(b)-1], '\n') + 1
	for _, cut := range []int{lastStart + 1, lastStart + (len(b)-lastStart)/2, len(b) - 2} {
		if err := os.WriteFile(path, b[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		got, warns, err := Read(path)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if !reflect.DeepEqual(got, recs[:2]) {
			t.Errorf("cut at %d: got %d records, want the first 2", cut, len(got))
		}
		if len(warns) != 1 || !strings.Contains(warns[0], path+":3:") || !strings.Contains(warns[0], "torn") {
			t.Errorf("cut at %d: warnings %q, want one naming %s:3 as torn", cut, warns, path)
		}
	}
}

// The last line lost only its newline: the JSON is whole, so it is kept.
func TestNoTrailingNewlineKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), RunsFile)
	recs := []result.Record{testRecord(0), testRecord(1)}
	writeJournal(t, path, recs...)
	b, _ := os.ReadFile(path)
	os.WriteFile(path, bytes.TrimSuffix(b, []byte("\n")), 0o644)
	got, warns, err := Read(path)
	if err != nil || len(warns) > 0 || !reflect.DeepEqual(got, recs) {
		t.Fatalf("got %d records, warnings %q, err %v; want both records, no warning", len(got), warns, err)
	}
}

// Damage before the last line is not a crash artefact: an error naming the
// file and line, never a silent skip.
func TestMiddleDamageIsError(t *testing.T) {
	path := filepath.Join(t.TempDir(), RunsFile)
	l0, _ := json.Marshal(testRecord(0))
	l2, _ := json.Marshal(testRecord(2))
	for name, bad := range map[string]string{
		"garbage":           "#!garbage{",
		"torn then resumed": string(l2[:40]) + string(l2), // a torn line appended to
		"nul bytes":         "\x00\x00\x00\x00",
		"wrong type":        `{"v":"one"}`,
	} {
		data := string(l0) + "\n" + bad + "\n" + string(l2) + "\n" + string(l2) + "\n"
		os.WriteFile(path, []byte(data), 0o644)
		got, _, err := Read(path)
		if err == nil {
			t.Errorf("%s: no error, %d records", name, len(got))
			continue
		}
		if !strings.Contains(err.Error(), path+":2:") {
			t.Errorf("%s: error %q does not name %s:2", name, err, path)
		}
	}
}

func TestEmptyAndMissing(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"empty": "", "blank lines": "\n\n  \n", "crlf blank": "\r\n"} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, []byte(data), 0o644)
		got, warns, err := Read(path)
		if err != nil || len(warns) > 0 || len(got) != 0 {
			t.Errorf("%s: %d records, %q, %v; want nothing at all", name, len(got), warns, err)
		}
	}
	// The session tells "no journal yet" from a real error with os.IsNotExist.
	if _, _, err := Read(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("missing journal: %v, want a not-exist error", err)
	}
}

func TestCRLFAndBlankLinesTolerated(t *testing.T) {
	l0, _ := json.Marshal(testRecord(0))
	l1, _ := json.Marshal(testRecord(1))
	data := string(l0) + "\r\n\r\n" + string(l1) + "\r\n"
	got, warns, err := Decode(strings.NewReader(data), "x")
	if err != nil || len(warns) > 0 || len(got) != 2 {
		t.Fatalf("%d records, %q, %v", len(got), warns, err)
	}
}

// A 10 MB line (a huge log tail) is read whole; torn, it is dropped.
func TestHugeLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), RunsFile)
	big := testRecord(1)
	big.LogTail = strings.Repeat("x", 10<<20)
	writeJournal(t, path, testRecord(0), big)
	got, warns, err := Read(path)
	if err != nil || len(warns) > 0 || len(got) != 2 || len(got[1].LogTail) != 10<<20 {
		t.Fatalf("%d records, %q, %v", len(got), warns, err)
	}
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-5<<20], 0o644)
	got, warns, err = Read(path)
	if err != nil || len(warns) != 1 || len(got) != 1 {
		t.Fatalf("torn huge line: %d records, %q, %v", len(got), warns, err)
	}
}

// Appending to a file that cannot be written reports the error (results not
// durable) instead of losing the record silently.
func TestAppendErrorReported(t *testing.T) {
	path := filepath.Join(t.TempDir(), RunsFile)
	w, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w.f.Close() // the descriptor is gone, as after EIO
	r := testRecord(0)
	if err := w.Append(&r); err == nil {
		t.Fatal("Append on a closed journal returned nil")
	}
}

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, SummaryFile)
	for _, data := range []string{"first\n", "second, longer\n", ""} {
		if err := WriteFileAtomic(path, []byte(data)); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(path); string(b) != data {
			t.Fatalf("content %q, want %q", b, data)
		}
	}
	// The rename fails (the target is a non-empty directory): an error, and no temp file left.
	blocked := filepath.Join(dir, "blocked")
	os.MkdirAll(filepath.Join(blocked, "x"), 0o755)
	if err := WriteFileAtomic(blocked, []byte("data")); err == nil {
		t.Error("write over a directory succeeded")
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temp file %s left behind", e.Name())
		}
	}
	if err := WriteFileAtomic(filepath.Join(dir, "no", "such", "dir"), []byte("x")); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

// A crash between the temp file's write and the rename (or anywhere else)
// leaves the old file or the new one, never a part. A child process rewrites
// a big file in a loop and is SIGKILLed at random moments.
const atomicChildEnv = "COLDSTART_JOURNAL_ATOMIC_CHILD"

func atomicPayload(gen int) []byte {
	const size = 4 << 20
	b := bytes.Repeat([]byte{byte('a' + gen%26)}, size)
	copy(b, fmt.Sprintf("generation %d\n", gen))
	return b
}

// whole reports whether b is exactly one generation's payload, and which.
func whole(b []byte) (int, bool) {
	var gen int
	if _, err := fmt.Sscanf(string(b[:min(len(b), 32)]), "generation %d\n", &gen); err != nil {
		return 0, false
	}
	return gen, bytes.Equal(b, atomicPayload(gen))
}

func TestWriteFileAtomicChild(t *testing.T) {
	path := os.Getenv(atomicChildEnv)
	if path == "" {
		t.Skip("helper process for TestWriteFileAtomicSurvivesKill")
	}
	for gen := 1; ; gen++ {
		if err := WriteFileAtomic(path, atomicPayload(gen)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
	}
}

func TestWriteFileAtomicSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("kills a child process repeatedly")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, SummaryFile)
	if err := os.WriteFile(path, atomicPayload(0), 0o644); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	kills, newer := 0, 0
	for i := 0; i < 20 && time.Now().Before(deadline); i++ {
		cmd := exec.Command(os.Args[0], "-test.run=^TestWriteFileAtomicChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), atomicChildEnv+"="+path)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Duration(20+rand.IntN(180)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		err := cmd.Wait()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
			t.Fatalf("child ended on its own: %v", err)
		}
		kills++
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("after kill %d: %v", kills, err)
		}
		gen, ok := whole(b)
		if !ok {
			t.Fatalf("after kill %d: %s holds %d bytes that are neither an old nor a new version (starts %q)",
				kills, path, len(b), b[:min(len(b), 20)])
		}
		if gen != 0 {
			newer++
		}
		// The next child starts over at generation 1: back to 0.
		os.WriteFile(path, atomicPayload(0), 0o644)
	}
	t.Logf("%d kills, %d of them after at least one complete rewrite", kills, newer)
	if newer == 0 {
		t.Errorf("no child completed a rewrite before being killed: the test proved nothing")
	}
}

func TestWALRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), WALFile)
	if got, err := ReadWAL(path); err != nil || got != nil {
		t.Fatalf("missing WAL: %v %v, want nothing and no error", got, err)
	}
	want := []Intent{
		{Seq: 0, Scenario: "go-hello", Kind: "warmup", Iteration: 0, Container: "coldstart-0badcafe-000000", Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)},
		{Seq: 1, Scenario: "go-hello", Kind: "measure", Iteration: 0, Container: "coldstart-0badcafe-000001", Time: time.Date(2026, 1, 2, 3, 4, 6, 0, time.UTC)},
	}
	w, err := CreateWAL(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range want {
		if err := w.Intend(in); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	got, err := ReadWAL(path)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v %v, want %+v", got, err, want)
	}

	// Torn last line: dropped, no error.
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-10], 0o644)
	got, err = ReadWAL(path)
	if err != nil || !reflect.DeepEqual(got, want[:1]) {
		t.Fatalf("torn WAL: %+v %v, want the first intent only", got, err)
	}

	// Damage in the middle: an error naming the line.
	l, _ := json.Marshal(want[0])
	os.WriteFile(path, []byte(string(l)+"\n{\"seq\":\n"+string(l)+"\n"), 0o644)
	if _, err := ReadWAL(path); err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Fatalf("middle damage: %v, want an error naming %s:2", err, path)
	}
}

// After a crash tore the WAL's last line, the resumed run appends to the same
// WAL. The torn bytes must not glue onto the next intent and turn into damage
// in the middle: the next resume would then be refused forever.
func TestWALAppendAfterTornTail(t *testing.T) {
	path := filepath.Join(t.TempDir(), WALFile)
	in := func(seq int) Intent {
		return Intent{Seq: seq, Scenario: "s", Kind: "measure", Iteration: seq, Container: fmt.Sprintf("coldstart-0badcafe-%06d", seq)}
	}
	w, _ := CreateWAL(path)
	w.Intend(in(0))
	w.Intend(in(1))
	w.Close()
	b, _ := os.ReadFile(path)
	os.WriteFile(path, b[:len(b)-15], 0o644) // crash while writing intent 1

	if _, err := ReadWAL(path); err != nil { // the first resume reads it fine
		t.Fatal(err)
	}
	w, err := CreateWAL(path) // ... and appends the intents of the starts it runs
	if err != nil {
		t.Fatal(err)
	}
	w.Intend(in(1))
	w.Intend(in(2))
	w.Close()

	got, err := ReadWAL(path) // the second resume
	if err != nil {
		t.Fatalf("WAL unreadable after appending to a torn tail: %v", err)
	}
	var seqs []int
	for _, i := range got {
		seqs = append(seqs, i.Seq)
	}
	if !reflect.DeepEqual(seqs, []int{0, 1, 2}) {
		t.Errorf("intents %v, want [0 1 2]", seqs)
	}
}

// A version-1 journal (limits as formatted text) still reads: its limits keep
// their text, the rest decodes as before.
func TestVersion1Record(t *testing.T) {
	line := `{"v":1,"run":"r","scenario":"s","kind":"measure","iter":0,"seq":0,"time":"2026-11-27T03:04:05Z","image":"i","outcome":"ok","create_ms":1,"start_call_ms":2,"ready_ms":3,"remove_ms":4,"attempts":1,"deadline_ms":3000,` +
		`"limits":[{"name":"kernel_memory","requested":"128 MiB","observed":"128 MiB","enforced":"not enforced","ok":false}]}` + "\n"
	recs, warns, err := Decode(strings.NewReader(line), "v1.jsonl")
	if err != nil || len(warns) > 0 || len(recs) != 1 {
		t.Fatalf("%d records, %q, %v", len(recs), warns, err)
	}
	l := recs[0].Limits[0]
	if got := result.Format(l.Unit, l.Enforced); got != "not enforced" || result.Format(l.Unit, l.Requested) != "128 MiB" {
		t.Errorf("v1 limit reads %+v", l)
	}
	if _, _, err := Decode(strings.NewReader(`{"v":3}`+"\n"+line), "v3.jsonl"); err == nil {
		t.Error("a record version from the future was accepted")
	}
}

// Every file a run writes has the one mode, FileMode; an older file is
// brought to it.
func TestFileModes(t *testing.T) {
	dir := t.TempDir()
	old := filepath.Join(dir, RunsFile)
	os.WriteFile(old, nil, 0o644)
	os.Chmod(old, 0o644)
	w, err := Create(old)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	wal, err := CreateWAL(filepath.Join(dir, WALFile))
	if err != nil {
		t.Fatal(err)
	}
	wal.Close()
	if err := WriteJSONAtomic(filepath.Join(dir, ManifestFile), map[string]int{"a": 1}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{RunsFile, WALFile, ManifestFile} {
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || st.Mode().Perm() != FileMode {
			t.Errorf("%s: mode %v (%v), want %v", f, st.Mode().Perm(), err, FileMode)
		}
	}
}

// A symlink planted as the WAL is refused: the torn-tail trim must not
// truncate its target; nor may the journal append to one, or hang on a FIFO.
func TestResultFilesRefuseLinksAndFIFOs(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("line one\nline two, no newline"), 0o644)
	os.Symlink(victim, filepath.Join(dir, WALFile))
	os.Symlink(victim, filepath.Join(dir, RunsFile))
	if _, err := CreateWAL(filepath.Join(dir, WALFile)); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("WAL through a symlink: %v, want refused", err)
	}
	if _, err := Create(filepath.Join(dir, RunsFile)); err == nil || !strings.Contains(err.Error(), "symlink") {
		t.Errorf("journal through a symlink: %v, want refused", err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "line one\nline two, no newline" {
		t.Errorf("the symlink's target changed: %q", b)
	}
	fifo := filepath.Join(t.TempDir(), RunsFile)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan error, 1)
	go func() { _, err := Create(fifo); done <- err }()
	select {
	case err := <-done:
		// Refused as not a regular file, or by the kernel (ENXIO: no reader).
		if err == nil {
			t.Error("journal on a FIFO: opened, want refused")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("opening a FIFO as the journal hung")
	}
}
