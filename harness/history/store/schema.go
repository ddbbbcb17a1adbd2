package store

// The schema is versioned by PRAGMA user_version: migrations[i] takes a
// database from version i to i+1, in one transaction with the version bump,
// so a database is always at one version or the next, never between. A
// migration, once released, never changes: a later change is a new one.
// Migrations add (tables, columns with defaults); still, Open refuses a
// database newer than it knows rather than guess.
type migration struct {
	name  string
	stmts []string
}

// appID marks the file as a coldstart history (PRAGMA application_id, "cold").
const appID = 0x636f6c64

var migrations = []migration{
	{name: "runs, arms, paired verdicts, SLO checks", stmts: schemaV1},
	{name: "image ids, the paired run's stability guard", stmts: schemaV2},
}

// Version is the schema version this coldstart writes.
var Version = len(migrations)

// A statistic that may be censored is three columns: <q>_ms (NULL when not a
// number), <q>_censored (1 when known only to exceed <q>_bound_ms). Times are
// UTC text of fixed width, so that they sort as text.
var schemaV1 = []string{
	`CREATE TABLE runs (
		id INTEGER PRIMARY KEY,
		run TEXT NOT NULL UNIQUE,
		suite TEXT NOT NULL,
		suite_file TEXT NOT NULL DEFAULT '',
		suite_hash TEXT NOT NULL DEFAULT '',
		started TEXT NOT NULL,
		recorded TEXT NOT NULL,
		harness TEXT NOT NULL DEFAULT '',
		go_version TEXT NOT NULL DEFAULT '',
		host_fingerprint TEXT NOT NULL DEFAULT '',
		engine_version TEXT NOT NULL DEFAULT '',
		api_version TEXT NOT NULL DEFAULT '',
		runtime TEXT NOT NULL DEFAULT '',
		cgroup_version TEXT NOT NULL DEFAULT '',
		cgroup_driver TEXT NOT NULL DEFAULT '',
		kernel TEXT NOT NULL DEFAULT '',
		cpu_model TEXT NOT NULL DEFAULT '',
		cores INTEGER NOT NULL DEFAULT 0,
		planned INTEGER NOT NULL DEFAULT 0,
		completed INTEGER NOT NULL DEFAULT 0,
		resumed INTEGER NOT NULL DEFAULT 0,
		verdict TEXT NOT NULL DEFAULT '',
		gate TEXT
	)`,
	`CREATE INDEX runs_suite_started ON runs (suite, started)`,
	`CREATE TABLE run_meta (
		run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
		key TEXT NOT NULL,
		value TEXT NOT NULL,
		PRIMARY KEY (run_id, key)
	)`,
	`CREATE TABLE arms (
		run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
		pos INTEGER NOT NULL,
		arm TEXT NOT NULL,
		scenario TEXT NOT NULL,
		variant TEXT NOT NULL DEFAULT '',
		image TEXT NOT NULL DEFAULT '',
		calibration INTEGER NOT NULL DEFAULT 0,
		deadline_ms REAL NOT NULL,
		n INTEGER NOT NULL,
		ok INTEGER NOT NULL,
		contended INTEGER NOT NULL DEFAULT 0,
		p50_ms REAL, p50_censored INTEGER NOT NULL DEFAULT 0, p50_bound_ms REAL,
		p95_ms REAL, p95_censored INTEGER NOT NULL DEFAULT 0, p95_bound_ms REAL,
		p99_ms REAL, p99_censored INTEGER NOT NULL DEFAULT 0, p99_bound_ms REAL,
		limits TEXT,
		PRIMARY KEY (run_id, arm)
	)`,
	`CREATE INDEX arms_scenario ON arms (scenario)`,
	`CREATE TABLE verdicts (
		run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
		pos INTEGER NOT NULL,
		scenario TEXT NOT NULL,
		verdict TEXT NOT NULL,
		reason TEXT NOT NULL DEFAULT '',
		pairs INTEGER NOT NULL,
		change_pct REAL, ci_low_pct REAL, ci_high_pct REAL,
		p_slower REAL, p_slower_holm REAL,
		baseline_only_misses INTEGER NOT NULL DEFAULT 0,
		candidate_only_misses INTEGER NOT NULL DEFAULT 0,
		both_missed INTEGER NOT NULL DEFAULT 0,
		miss_p REAL, miss_p_holm REAL,
		PRIMARY KEY (run_id, scenario)
	)`,
	`CREATE TABLE slo_checks (
		run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
		pos INTEGER NOT NULL,
		arm TEXT NOT NULL,
		objective TEXT NOT NULL,
		observed REAL, observed_censored INTEGER NOT NULL DEFAULT 0, observed_bound REAL,
		target REAL NOT NULL,
		met INTEGER NOT NULL,
		reason TEXT NOT NULL DEFAULT '',
		PRIMARY KEY (run_id, pos)
	)`,
}

// schemaV2 adds each arm's image id (the engine's, when the run recorded
// it) and a paired run's stability guard (NULL for a run without pairs).
var schemaV2 = []string{
	`ALTER TABLE arms ADD COLUMN image_id TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE runs ADD COLUMN guard_ok INTEGER`,
	`ALTER TABLE runs ADD COLUMN guard_drift_pct REAL`,
	`ALTER TABLE runs ADD COLUMN guard_contended_share REAL`,
	`ALTER TABLE runs ADD COLUMN guard_reasons TEXT`,
}
