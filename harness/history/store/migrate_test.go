package store

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var writeFixture = flag.Bool("write-fixture", false, "write testdata/history-v<Version>.db, a history as this version writes it")

// fixtureRun is the run every fixture history holds.
func fixtureRun() string { return "20261130T030405Z-f1x7" }

func fixtureStarted() time.Time { return time.Date(2026, 11, 30, 3, 4, 5, 0, time.UTC) }

// TestWriteFixture keeps, per schema version, a history written by the code
// of that version (go test ./harness/history/store -run WriteFixture
// -write-fixture, once, when a migration is added): the upgrade test opens
// each with the current code.
func TestWriteFixture(t *testing.T) {
	if !*writeFixture {
		t.Skip("-write-fixture not set")
	}
	path := filepath.Join("testdata", fmt.Sprintf("history-v%d.db", Version))
	os.MkdirAll("testdata", 0o755)
	os.Remove(path)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Record(ctx, sampleRun(fixtureRun(), fixtureStarted(), 3)); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err == nil {
		t.Fatalf("%s-wal left behind: the fixture is not one file", path)
	}
}
