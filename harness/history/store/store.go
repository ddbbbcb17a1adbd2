// Package store keeps the run history in an embedded SQLite database through
// the pure-Go driver modernc.org/sqlite (no cgo: the harness stays one static
// binary). One file, written in WAL mode with a busy timeout and one short
// transaction per run, so that two jobs recording at once both succeed and a
// process killed mid-write leaves every committed run intact.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	sqlite "modernc.org/sqlite"
)

// DefaultBusyTimeout is how long a write waits for another writer's
// transaction; ours last milliseconds.
const DefaultBusyTimeout = 10 * time.Second

// Errors a caller may act on.
var (
	// ErrNotHistory: the file is not a coldstart history (not SQLite, corrupt,
	// or another program's database).
	ErrNotHistory = errors.New("not a coldstart history")
	// ErrLocked: another process held the database longer than the busy timeout.
	ErrLocked = errors.New("history locked by another process")
	// ErrNewer: the history was written by a newer coldstart.
	ErrNewer = errors.New("history schema newer than this coldstart")
)

// Options of Open.
type Options struct {
	BusyTimeout time.Duration
	// MustExist refuses to create a database (readers: trend).
	MustExist bool
}

// Option sets an option.
type Option func(*Options)

// WithBusyTimeout sets how long a statement waits for a lock.
func WithBusyTimeout(d time.Duration) Option { return func(o *Options) { o.BusyTimeout = d } }

// MustExist refuses to create the database when it does not exist.
func MustExist() Option { return func(o *Options) { o.MustExist = true } }

// Store is an open history.
type Store struct {
	db   *sql.DB
	path string
}

// Open opens the history at path, creating it (and its directory) unless
// MustExist, and upgrades its schema to Version.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := Options{BusyTimeout: DefaultBusyTimeout}
	for _, f := range opts {
		f(&o)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	if strings.ContainsAny(abs, "?#") {
		return nil, fmt.Errorf("history %s: a path with ? or # is not supported", path)
	}
	if st, err := os.Stat(abs); err == nil && st.IsDir() {
		return nil, fmt.Errorf("history %s: is a directory", path)
	} else if errors.Is(err, fs.ErrNotExist) {
		if o.MustExist {
			return nil, fmt.Errorf("history %s: %w", path, fs.ErrNotExist)
		}
		if err := os.MkdirAll(filepath.Dir(abs), 0o755); err != nil {
			return nil, fmt.Errorf("history %s: %w", path, err)
		}
	}
	// FULL synchronous: a committed run survives a power cut, at one fsync.
	// The journal mode is set by walMode, not here.
	dsn := fmt.Sprintf("%s?_pragma=busy_timeout(%d)&_pragma=synchronous(FULL)&_pragma=foreign_keys(1)&_txlock=immediate",
		abs, o.BusyTimeout.Milliseconds())
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	// One connection: the harness writes one run at a time, and the pragmas
	// above are per connection.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, path: path}
	if err := s.walMode(ctx, o.BusyTimeout); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.migrate(ctx, Version); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// walMode puts the history in WAL mode (readers beside one writer). SQLite
// converts the journal under an exclusive lock and, when another connection
// is reading or converting at that moment, fails with SQLITE_BUSY without
// running the busy handler: processes opening a new history at once failed
// 16 of 800 opens as a connection pragma (TestTwoWriters under a loaded full
// test run, 2026-12-08). So it is tried again until the busy timeout. WAL is
// a property of the file: once any process has converted it, the pragma
// only reads it, with no lock.
func (s *Store) walMode(ctx context.Context, budget time.Duration) error {
	end := time.Now().Add(budget)
	for wait := 2 * time.Millisecond; ; wait = min(2*wait, 50*time.Millisecond) {
		var mode string
		err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		if err == nil && strings.EqualFold(mode, "wal") {
			return nil
		}
		if err != nil && !errors.Is(s.wrap(err), ErrLocked) {
			return s.wrap(err)
		}
		if !time.Now().Before(end) {
			if err == nil {
				err = fmt.Errorf("journal mode stays %s", mode)
			}
			return fmt.Errorf("history %s: %w (waited %v to switch it to WAL): %v", s.path, ErrLocked, budget, err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("history %s: %w", s.path, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the path the store was opened with.
func (s *Store) Path() string { return s.path }

// Version reads the schema version of the open database.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, s.wrap(err)
}

// migrate brings the schema to version to. A current history is only read
// (opening needs no write lock); an older one is upgraded in one write
// transaction, checked again inside it: a second process opening a new
// history at the same time waits, then finds it current.
func (s *Store) migrate(ctx context.Context, to int) error {
	if v, err := s.check(ctx, nil); err != nil || v >= to {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	v, err := s.check(ctx, tx)
	if err != nil || v >= to {
		return err
	}
	for i := v; i < to; i++ {
		for _, st := range migrations[i].stmts {
			if _, err := tx.ExecContext(ctx, st); err != nil {
				return fmt.Errorf("history %s: migration to v%d (%s): %w", s.path, i+1, migrations[i].name, s.wrap(err))
			}
		}
	}
	// PRAGMA takes no parameters; both values are ours.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA application_id = %d", appID)); err != nil {
		return s.wrap(err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", to)); err != nil {
		return s.wrap(err)
	}
	return s.wrap(tx.Commit())
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// check returns the schema version, refusing another program's database
// and a newer schema. tx nil: outside a transaction.
func (s *Store) check(ctx context.Context, tx *sql.Tx) (int, error) {
	var q querier = s.db
	if tx != nil {
		q = tx
	}
	// One statement, so one snapshot: read one by one, outside a
	// transaction, the three could straddle another process's migration
	// (application id not yet set, tables already there) and read as
	// another program's database (1 of 400 concurrent opens, 2026-12-08).
	var v, app, tables int
	if err := q.QueryRowContext(ctx, `SELECT (SELECT user_version FROM pragma_user_version),
		(SELECT application_id FROM pragma_application_id),
		(SELECT count(*) FROM sqlite_schema WHERE type = 'table')`).Scan(&v, &app, &tables); err != nil {
		return 0, s.wrap(err)
	}
	switch {
	case app != 0 && app != appID, app == 0 && tables > 0:
		return 0, fmt.Errorf("history %s: %w: a SQLite database of another program", s.path, ErrNotHistory)
	case v > len(migrations):
		return 0, fmt.Errorf("history %s: %w: schema v%d, this coldstart knows v%d: upgrade coldstart", s.path, ErrNewer, v, len(migrations))
	}
	return v, nil
}

// SQLite primary result codes that mean something to a caller.
const (
	codeBusy    = 5
	codeLocked  = 6
	codeCorrupt = 11
	codeNotADB  = 26
)

// wrap names the history and the kind of failure.
func (s *Store) wrap(err error) error {
	if err == nil {
		return nil
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case codeBusy, codeLocked:
			return fmt.Errorf("history %s: %w (waited for it; is another job stuck holding it?): %v", s.path, ErrLocked, err)
		case codeCorrupt, codeNotADB:
			return fmt.Errorf("history %s: %w: the file is not SQLite or is corrupt: %v", s.path, ErrNotHistory, err)
		}
	}
	if strings.HasPrefix(err.Error(), "history ") {
		return err
	}
	return fmt.Errorf("history %s: %w", s.path, err)
}
