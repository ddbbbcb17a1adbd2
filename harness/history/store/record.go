package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/coldstart/coldstart/harness/history"
	"github.com/coldstart/coldstart/harness/summary"
)

// timeFormat is fixed-width UTC, so that times sort as text.
const timeFormat = "2006-01-02T15:04:05.000000000Z"

// Record writes a run in one transaction, replacing an earlier entry of the
// same run id: recording a run again (coldstart record) is idempotent.
// Recorded is set to now when zero.
func (s *Store) Record(ctx context.Context, r history.Run) error {
	if r.Recorded.IsZero() {
		r.Recorded = time.Now()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err)
	}
	defer tx.Rollback()
	if err := insertRun(ctx, tx, &r); err != nil {
		return s.wrap(err)
	}
	return s.wrap(tx.Commit())
}

func insertRun(ctx context.Context, tx *sql.Tx, r *history.Run) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE run = ?`, r.ID); err != nil {
		return err
	}
	var gate any
	if r.Gate != nil {
		b, err := json.Marshal(r.Gate)
		if err != nil {
			return err
		}
		gate = string(b)
	}
	var guardOK, guardReasons any
	var drift, contended sql.NullFloat64
	if g := r.Guard; g != nil {
		guardOK, drift, contended = g.OK, nullable(float64(g.DriftPct)), nullable(g.ContendedShare)
		b, err := json.Marshal(g.Reasons)
		if err != nil {
			return err
		}
		guardReasons = string(b)
	}
	h := r.Host
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (run, suite, suite_file, suite_hash, started, recorded, harness, go_version,
		host_fingerprint, engine_version, api_version, runtime, cgroup_version, cgroup_driver, kernel, cpu_model, cores,
		planned, completed, resumed, verdict, gate, guard_ok, guard_drift_pct, guard_contended_share, guard_reasons)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.Suite, r.SuiteFile, r.SuiteHash, fmtTime(r.Started), fmtTime(r.Recorded), r.Harness, r.GoVersion,
		h.Fingerprint, h.EngineVersion, h.APIVersion, h.Runtime, h.CgroupVersion, h.CgroupDriver, h.Kernel, h.CPUModel, h.Cores,
		r.Planned, r.Completed, r.Resumed, r.Verdict, gate, guardOK, drift, contended, guardReasons)
	if err != nil {
		return err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return err
	}
	for _, k := range slices.Sorted(maps.Keys(r.Meta)) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_meta (run_id, key, value) VALUES (?, ?, ?)`, id, k, r.Meta[k]); err != nil {
			return err
		}
	}
	for i := range r.Arms {
		if err := insertArm(ctx, tx, id, i, &r.Arms[i]); err != nil {
			return err
		}
	}
	for i, v := range r.Verdicts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO verdicts (run_id, pos, scenario, verdict, reason, pairs, change_pct, ci_low_pct, ci_high_pct,
			p_slower, p_slower_holm, baseline_only_misses, candidate_only_misses, both_missed, miss_p, miss_p_holm)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, i, v.Scenario, v.Verdict, v.Reason, v.Pairs, nullable(float64(v.ChangePct)), nullable(float64(v.CILowPct)), nullable(float64(v.CIHighPct)),
			nullable(v.PSlower), nullable(v.PSlowerHolm), v.BaselineOnlyMisses, v.CandidateOnlyMisses, v.BothMissed, nullable(v.MissP), nullable(v.MissPHolm)); err != nil {
			return err
		}
	}
	for i, c := range r.SLOs {
		ov, oc, ob := value(c.Observed)
		if _, err := tx.ExecContext(ctx, `INSERT INTO slo_checks (run_id, pos, arm, objective, observed, observed_censored, observed_bound, target, met, reason)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, i, c.Arm, c.Objective, ov, oc, ob, c.Target, c.Met, c.Reason); err != nil {
			return err
		}
	}
	return nil
}

func insertArm(ctx context.Context, tx *sql.Tx, id int64, pos int, a *history.Arm) error {
	var limits any
	if len(a.Limits) > 0 {
		b, err := json.Marshal(a.Limits)
		if err != nil {
			return err
		}
		limits = string(b)
	}
	p50, p50c, p50b := value(a.P50)
	p95, p95c, p95b := value(a.P95)
	p99, p99c, p99b := value(a.P99)
	_, err := tx.ExecContext(ctx, `INSERT INTO arms (run_id, pos, arm, scenario, variant, image, image_id, calibration, deadline_ms, n, ok, contended,
		p50_ms, p50_censored, p50_bound_ms, p95_ms, p95_censored, p95_bound_ms, p99_ms, p99_censored, p99_bound_ms, limits)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, pos, a.Name, a.Scenario, a.Variant, a.Image, a.ImageID, a.Calibration, a.DeadlineMS, a.N, a.OK, a.Contended,
		p50, p50c, p50b, p95, p95c, p95b, p99, p99c, p99b, limits)
	return err
}

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// value is a statistic's three columns: the number (NULL unless known), the
// censored flag, and the bound (NULL unless censored).
func value(v summary.Value) (num sql.NullFloat64, censored bool, bound sql.NullFloat64) {
	switch {
	case v.Censored:
		return sql.NullFloat64{}, true, sql.NullFloat64{Float64: v.Bound, Valid: true}
	case v.Known:
		return sql.NullFloat64{Float64: v.V, Valid: true}, false, sql.NullFloat64{}
	}
	return sql.NullFloat64{}, false, sql.NullFloat64{}
}

// nullable stores a float; NaN (nothing decided it) is NULL, as SQLite would
// store it anyway. ±Inf is a REAL SQLite keeps.
func nullable(f float64) sql.NullFloat64 {
	if math.IsNaN(f) {
		return sql.NullFloat64{}
	}
	return sql.NullFloat64{Float64: f, Valid: true}
}
