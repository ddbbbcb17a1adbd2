package journal

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// fuzzing reports whether this binary runs a fuzzer (-test.fuzz): the 10 MB
// seeds are for the plain test run, where each seed runs once; mutating them
// would only slow the fuzzer down.
func fuzzing() bool {
	f := flag.Lookup("test.fuzz")
	return f != nil && f.Value.String() != ""
}

func hugeSeeds() [][]byte {
	big := testRecord(3)
	big.LogTail = strings.Repeat("y", 10<<20)
	l, _ := json.Marshal(big)
	return [][]byte{
		append(l, '\n'),
		l[:len(l)-3], // torn 10 MB last line
		[]byte(`{"v":1,"error":"` + strings.Repeat("z", 10<<20) + "\n"),
	}
}

func FuzzDecode(f *testing.F) {
	// More seeds in testdata/fuzz/FuzzDecode: binary garbage, CRLF, BOM,
	// huge numbers, NUL-filled tails.
	l0, _ := json.Marshal(testRecord(0))
	l1, _ := json.Marshal(testRecord(1))
	f.Add(append(append(append(l0, '\n'), l1...), '\n'))
	f.Add(append(append(l0, '\n'), l1[:50]...))
	if !fuzzing() {
		for _, s := range hugeSeeds() {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		recs, warns, err := Decode(bytes.NewReader(data), "in")
		// Reading is independent of how the input arrives.
		recs2, warns2, err2 := Decode(iotest.OneByteReader(bytes.NewReader(data)), "in")
		if !reflect.DeepEqual(recs, recs2) || !reflect.DeepEqual(warns, warns2) || (err == nil) != (err2 == nil) {
			t.Fatalf("result depends on read sizes: %v / %v", err, err2)
		}
		if err != nil {
			if !strings.HasPrefix(err.Error(), "in:") {
				t.Fatalf("error %q does not name the input and line", err)
			}
			return
		}
		if len(warns) > 1 {
			t.Fatalf("%d warnings: only the last line can be torn", len(warns))
		}
		// What was read can be written again and reads back the same, with no
		// warning: a resume rewrites the journal from these records.
		var buf bytes.Buffer
		for i := range recs {
			b, err := json.Marshal(&recs[i])
			if err != nil {
				t.Fatalf("record %d reads but cannot be written again: %v", i, err)
			}
			buf.Write(append(b, '\n'))
		}
		again, warns3, err := Decode(&buf, "again")
		if err != nil || len(warns3) > 0 {
			t.Fatalf("rewritten journal: %v %q", err, warns3)
		}
		if len(again) != len(recs) {
			t.Fatalf("rewritten journal: %d records, want %d", len(again), len(recs))
		}
		for i := range recs {
			a, _ := json.Marshal(&recs[i])
			b, _ := json.Marshal(&again[i])
			if !bytes.Equal(a, b) {
				t.Fatalf("record %d changed on rewrite:\n%s\n%s", i, a, b)
			}
		}
	})
}

func FuzzReadWAL(f *testing.F) {
	in, _ := json.Marshal(Intent{Seq: 1, Scenario: "s", Kind: "measure", Iteration: 0, Container: "coldstart-0badcafe-000001"})
	f.Add(append(append(append(in, '\n'), in...), '\n'))
	f.Add(append(append(in, '\n'), in[:20]...))
	f.Add([]byte("\xef\xbb\xbf" + string(in) + "\r\n"))
	f.Add([]byte(`{"seq":1e999999}` + "\n"))
	f.Add([]byte("\x00\x00\x00\n\n"))
	if !fuzzing() {
		f.Add([]byte(`{"seq":1,"container":"` + strings.Repeat("c", 10<<20) + "\"}\n"))
	}
	dir := f.TempDir()
	if d, err := os.MkdirTemp("/dev/shm", "fuzzwal"); err == nil { // memory: faster
		dir = d
		f.Cleanup(func() { os.RemoveAll(d) })
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, WALFile)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadWAL(path)
		if err != nil {
			if !strings.HasPrefix(err.Error(), path+":") {
				t.Fatalf("error %q does not name the file and line", err)
			}
			return
		}
		// Intents read back the same when written again (as Intend writes
		// them, without its fsync: that would make the fuzzer crawl).
		var buf bytes.Buffer
		for _, in := range got {
			b, err := json.Marshal(in)
			if err != nil {
				t.Fatalf("intent %+v reads but cannot be written again: %v", in, err)
			}
			buf.Write(append(b, '\n'))
		}
		if err := os.WriteFile(path+".2", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		again, err := ReadWAL(path + ".2")
		if err != nil || len(again) != len(got) {
			t.Fatalf("rewritten WAL: %d intents, %v; want %d", len(again), err, len(got))
		}
	})
}
