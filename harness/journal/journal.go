// Package journal keeps the per-start records: an append-only JSONL file with
// one write and one fsync per start, so a crash loses at most the start in
// flight; plus atomic writes for the files derived from it.
package journal

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/coldstart/coldstart/harness/result"
)

// File names inside a run directory.
const (
	RunsFile     = "runs.jsonl"
	ManifestFile = "manifest.json"
	SummaryFile  = "summary.json"
	// SuiteFile is a shard's copy of its suite file.
	SuiteFile = "suite.yaml"
)

// FileMode is the one mode of every file in a run directory (journal, WAL,
// lock, manifest, summary, report): the journal holds the log tails of apps
// nobody vetted and facts about the host, so a run's files are its owner's
// until shared on purpose (copied, or chmod-ed).
const FileMode os.FileMode = 0o600

// OpenFile opens a file of a run directory for writing, creating it with
// FileMode: never through a symlink (O_NOFOLLOW: a planted link must not
// turn an append or the WAL's torn-tail trim into a write elsewhere), never
// anything but a regular file (O_NONBLOCK so that a FIFO cannot hang the
// open), and an existing file is brought to FileMode.
func OpenFile(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, FileMode)
	if errors.Is(err, syscall.ELOOP) {
		return nil, fmt.Errorf("%s is a symlink: refused", path)
	}
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file (%v): refused", path, st.Mode().Type())
	}
	if err == nil && st.Mode().Perm() != FileMode {
		err = f.Chmod(FileMode)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Writer appends records to a journal.
type Writer struct {
	f *os.File
}

// Create opens (creating if needed) the journal at path for appending.
func Create(path string) (*Writer, error) {
	f, err := OpenFile(path, os.O_WRONLY|os.O_APPEND)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return &Writer{f: f}, nil
}

// Append writes one record as one line with a single write, then fsyncs:
// when Append returns nil the record survives a crash.
func (w *Writer) Append(r *result.Record) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("journal: encode: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.f.Write(b); err != nil {
		return fmt.Errorf("journal: write: %w", err)
	}
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("journal: fsync: %w", err)
	}
	return nil
}

// Close closes the journal.
func (w *Writer) Close() error { return w.f.Close() }

// Read reads every record of a journal. A torn last line (a crash mid-write)
// is dropped and reported in warnings; a bad line anywhere else is an error.
func Read(path string) ([]result.Record, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return Decode(f, path)
}

// Decode reads records from r; name is used in messages.
func Decode(r io.Reader, name string) ([]result.Record, []string, error) {
	br := bufio.NewReader(r)
	var recs []result.Record
	var warnings []string
	var badLine int
	var badErr error
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if len(b) == 0 && err == io.EOF {
			break
		}
		if err != nil && err != io.EOF {
			return recs, warnings, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		complete := err == nil
		if badErr != nil {
			// The damaged line was not the last one: damage in the middle.
			return recs, warnings, fmt.Errorf("%s:%d: damaged record: %v", name, badLine, badErr)
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			if !complete {
				break
			}
			continue
		}
		var rec result.Record
		derr := json.Unmarshal(b, &rec)
		if derr == nil && (rec.V < 1 || rec.V > result.Version) {
			// Version 1 differs only in its limits, which decode as text.
			derr = fmt.Errorf("record version %d, want 1..%d", rec.V, result.Version)
		}
		if derr != nil {
			badLine, badErr = line, derr
			if !complete {
				break
			}
			continue
		}
		if !complete {
			// A parseable line without its newline: the write was torn after
			// the JSON ended; keep it, it is whole.
			recs = append(recs, rec)
			break
		}
		recs = append(recs, rec)
	}
	if badErr != nil {
		warnings = append(warnings, fmt.Sprintf("%s:%d: torn last record dropped (%v)", name, badLine, badErr))
	}
	return recs, warnings, nil
}

// WriteFileAtomic writes data to path so that readers see the old file or the
// new one, never a part: temp file in the same directory, fsync, rename, fsync
// the directory.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	// CreateTemp made it O_EXCL (never through a symlink); rename then
	// replaces path itself, even when path is a symlink, never its target.
	werr := f.Chmod(FileMode)
	if werr == nil {
		_, werr = f.Write(data)
	}
	if werr == nil {
		werr = f.Sync()
	}
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

// WriteJSONAtomic writes v as indented JSON, atomically.
func WriteJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", filepath.Base(path), err)
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// WALFile holds the write-ahead intents: one line per start, written before
// the container is created: which starts were in flight when a run died (an
// intent without a record), and when each start began its create. Not
// fsynced: a harness that dies leaves its writes in the page cache, and
// after a machine crash resume finds the run's containers by their labels
// (bench: reconcile), not by their intents.
const WALFile = "wal.jsonl"

// Intent is one write-ahead line.
type Intent struct {
	Seq       int         `json:"seq"`
	Scenario  string      `json:"scenario"`
	Variant   string      `json:"variant,omitempty"`
	Cell      string      `json:"cell,omitempty"`
	Kind      result.Kind `json:"kind"`
	Iteration int         `json:"iter"`
	Container string      `json:"container"` // the name the container will have
	Time      time.Time   `json:"time"`
}

// WAL appends intents.
type WAL struct{ f *os.File }

// CreateWAL opens the write-ahead log at path for appending.
func CreateWAL(path string) (*WAL, error) {
	f, err := OpenFile(path, os.O_RDWR|os.O_APPEND)
	if err != nil {
		return nil, fmt.Errorf("wal: %w", err)
	}
	if err := trimTorn(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("wal: %w", err)
	}
	return &WAL{f: f}, nil
}

// trimTorn cuts a torn last line (a crash mid-write) so that the next append
// starts on a line of its own instead of merging with the fragment.
func trimTorn(f *os.File) error {
	b, err := io.ReadAll(f)
	if err != nil {
		return err
	}
	if len(b) == 0 || b[len(b)-1] == '\n' {
		return nil
	}
	if err := f.Truncate(int64(bytes.LastIndexByte(b, '\n') + 1)); err != nil {
		return err
	}
	return f.Sync()
}

// Intend records that a start is about to create a container, with one
// write and no fsync (see WALFile).
func (w *WAL) Intend(in Intent) error {
	b, err := json.Marshal(in)
	if err != nil {
		return err
	}
	if _, err := w.f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("wal: write: %w", err)
	}
	return nil
}

// Close closes the log.
func (w *WAL) Close() error { return w.f.Close() }

// ReadWAL reads every intent; a torn last line is dropped.
func ReadWAL(path string) ([]Intent, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, nil
		}
		return nil, err
	}
	var out []Intent
	lines := bytes.Split(b, []byte("\n"))
	for i, l := range lines {
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		var in Intent
		if err := json.Unmarshal(l, &in); err != nil {
			if i == len(lines)-1 {
				break // torn by a crash mid-write
			}
			return out, fmt.Errorf("%s:%d: damaged intent: %v", path, i+1, err)
		}
		out = append(out, in)
	}
	return out, nil
}
