package store

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/history"
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

// fixtureWant is the fixture run as a history of version v holds it: the
// fields later versions added are empty.
func fixtureWant(v int) history.Run {
	r := sampleRun(fixtureRun(), fixtureStarted(), 3)
	if v < 2 {
		r.Guard = nil
		for i := range r.Arms {
			r.Arms[i].ImageID = ""
		}
	}
	return r
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// Every fixture, each written by the code of its version, opens with this
// code: upgraded to Version in place, its run read back whole, and
// writable; opening it again migrates nothing.
func TestUpgradeFixtures(t *testing.T) {
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "history-v*.db"))
	if len(fixtures) < Version {
		t.Fatalf("%d fixtures for schema v%d: write one per version (-write-fixture)", len(fixtures), Version)
	}
	for _, f := range fixtures {
		v, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "history-v"), ".db"))
		t.Run(filepath.Base(f), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "history.db")
			copyFile(t, f, path)
			s, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if got, _ := s.Version(ctx); got != Version {
				t.Fatalf("version %d after opening a v%d history, want %d", got, v, Version)
			}
			runs, err := s.Runs(ctx, "", 0)
			if err != nil || len(runs) != 1 {
				t.Fatalf("%d runs, %v", len(runs), err)
			}
			if g, w := jsonOf(t, runs[0]), jsonOf(t, fixtureWant(v)); g != w {
				t.Errorf("the v%d run reads back as\n%s\nwant\n%s", v, g, w)
			}
			next := sampleRun("after-upgrade", fixtureStarted().Add(time.Hour), 3)
			if err := s.Record(ctx, next); err != nil {
				t.Fatal(err)
			}
			runs, _ = s.Runs(ctx, "", 0)
			if len(runs) != 2 || jsonOf(t, runs[1]) != jsonOf(t, next) {
				t.Errorf("a run recorded after the upgrade reads back differently")
			}
		})
	}
}

// The upgrade runs once, in one transaction: the schema's objects after
// upgrading a v1 history are exactly those of a new history.
func TestUpgradeMatchesNew(t *testing.T) {
	schema := func(path string) string {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		rows, err := s.db.Query(`SELECT type, name, tbl_name FROM sqlite_schema ORDER BY type, name`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var a, b, c string
			rows.Scan(&a, &b, &c)
			out = append(out, a+" "+b+" "+c)
		}
		cols, _ := s.db.Query(`SELECT m.name, p.name, p.type, p."notnull", coalesce(p.dflt_value, '') FROM sqlite_schema m, pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.name`)
		defer cols.Close()
		for cols.Next() {
			var a, b, c, d, e string
			cols.Scan(&a, &b, &c, &d, &e)
			out = append(out, strings.Join([]string{a, b, c, d, e}, " "))
		}
		return strings.Join(out, "\n")
	}
	up := filepath.Join(t.TempDir(), "up.db")
	copyFile(t, filepath.Join("testdata", "history-v1.db"), up)
	if a, b := schema(up), schema(filepath.Join(t.TempDir(), "new.db")); a != b {
		t.Errorf("upgraded schema:\n%s\nnew schema:\n%s", a, b)
	}
}
