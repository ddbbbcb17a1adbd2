package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/coldstart/coldstart/harness/history"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// selected is the runs a query covers: of one suite ("" for all), the last
// n of each suite by start time (n <= 0 for all). Bound as (?1 suite, ?2 n).
const selected = `SELECT id FROM (
	SELECT id, ROW_NUMBER() OVER (PARTITION BY suite ORDER BY started DESC, run DESC) AS k
	FROM runs WHERE ?1 = '' OR suite = ?1
) WHERE ?2 <= 0 OR k <= ?2`

// Runs reads the runs of a suite ("" for every suite), the last n of each
// suite (n <= 0: all), oldest first, in one read transaction.
func (s *Store) Runs(ctx context.Context, suite string, n int) ([]history.Run, error) {
	tx, err := s.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, s.wrap(err)
	}
	defer tx.Rollback()
	runs, byID, err := loadRuns(ctx, tx, suite, n)
	if err != nil {
		return nil, s.wrap(err)
	}
	for _, load := range []func(context.Context, *sql.Tx, string, int, map[int64]*history.Run) error{loadMeta, loadArms, loadVerdicts, loadSLOs} {
		if err := load(ctx, tx, suite, n, byID); err != nil {
			return nil, s.wrap(err)
		}
	}
	return runs, nil
}

func loadRuns(ctx context.Context, tx *sql.Tx, suite string, n int) ([]history.Run, map[int64]*history.Run, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, run, suite, suite_file, suite_hash, started, recorded, harness, go_version,
		host_fingerprint, engine_version, api_version, runtime, cgroup_version, cgroup_driver, kernel, cpu_model, cores,
		planned, completed, resumed, verdict, gate, guard_ok, guard_drift_pct, guard_contended_share, guard_reasons
		FROM runs WHERE id IN (`+selected+`) ORDER BY suite, started, run`, suite, n)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var ids []int64
	var runs []history.Run
	for rows.Next() {
		var (
			id                int64
			r                 history.Run
			h                 = &r.Host
			started, recorded string
			gate              sql.NullString
			g                 guardCols
		)
		if err := rows.Scan(&id, &r.ID, &r.Suite, &r.SuiteFile, &r.SuiteHash, &started, &recorded, &r.Harness, &r.GoVersion,
			&h.Fingerprint, &h.EngineVersion, &h.APIVersion, &h.Runtime, &h.CgroupVersion, &h.CgroupDriver, &h.Kernel, &h.CPUModel, &h.Cores,
			&r.Planned, &r.Completed, &r.Resumed, &r.Verdict, &gate, &g.ok, &g.drift, &g.contended, &g.reasons); err != nil {
			return nil, nil, err
		}
		if r.Guard, err = g.guard(); err != nil {
			return nil, nil, fmt.Errorf("run %s: guard: %w", r.ID, err)
		}
		if r.Started, err = parseTime(started); err != nil {
			return nil, nil, fmt.Errorf("run %s: started: %w", r.ID, err)
		}
		if r.Recorded, err = parseTime(recorded); err != nil {
			return nil, nil, fmt.Errorf("run %s: recorded: %w", r.ID, err)
		}
		if gate.Valid {
			r.Gate = &result.Gate{}
			if err := json.Unmarshal([]byte(gate.String), r.Gate); err != nil {
				return nil, nil, fmt.Errorf("run %s: gate: %w", r.ID, err)
			}
		}
		r.Arms = []history.Arm{}
		ids = append(ids, id)
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	byID := make(map[int64]*history.Run, len(runs))
	for i, id := range ids {
		byID[id] = &runs[i]
	}
	return runs, byID, nil
}

func loadMeta(ctx context.Context, tx *sql.Tx, suite string, n int, byID map[int64]*history.Run) error {
	rows, err := tx.QueryContext(ctx, `SELECT run_id, key, value FROM run_meta WHERE run_id IN (`+selected+`) ORDER BY run_id, key`, suite, n)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k, v string
		if err := rows.Scan(&id, &k, &v); err != nil {
			return err
		}
		if r := byID[id]; r != nil {
			if r.Meta == nil {
				r.Meta = map[string]string{}
			}
			r.Meta[k] = v
		}
	}
	return rows.Err()
}

func loadArms(ctx context.Context, tx *sql.Tx, suite string, n int, byID map[int64]*history.Run) error {
	rows, err := tx.QueryContext(ctx, `SELECT run_id, arm, scenario, variant, image, image_id, calibration, deadline_ms, n, ok, contended,
		p50_ms, p50_censored, p50_bound_ms, p95_ms, p95_censored, p95_bound_ms, p99_ms, p99_censored, p99_bound_ms, limits
		FROM arms WHERE run_id IN (`+selected+`) ORDER BY run_id, pos`, suite, n)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id            int64
			a             history.Arm
			p50, p95, p99 stat
			limits        sql.NullString
		)
		if err := rows.Scan(&id, &a.Name, &a.Scenario, &a.Variant, &a.Image, &a.ImageID, &a.Calibration, &a.DeadlineMS, &a.N, &a.OK, &a.Contended,
			&p50.v, &p50.censored, &p50.bound, &p95.v, &p95.censored, &p95.bound, &p99.v, &p99.censored, &p99.bound, &limits); err != nil {
			return err
		}
		a.P50, a.P95, a.P99 = p50.value(), p95.value(), p99.value()
		if limits.Valid {
			if err := json.Unmarshal([]byte(limits.String), &a.Limits); err != nil {
				return fmt.Errorf("arm %s: limits: %w", a.Name, err)
			}
		}
		if r := byID[id]; r != nil {
			r.Arms = append(r.Arms, a)
		}
	}
	return rows.Err()
}

func loadVerdicts(ctx context.Context, tx *sql.Tx, suite string, n int, byID map[int64]*history.Run) error {
	rows, err := tx.QueryContext(ctx, `SELECT run_id, scenario, verdict, reason, pairs, change_pct, ci_low_pct, ci_high_pct,
		p_slower, p_slower_holm, baseline_only_misses, candidate_only_misses, both_missed, miss_p, miss_p_holm
		FROM verdicts WHERE run_id IN (`+selected+`) ORDER BY run_id, pos`, suite, n)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id                             int64
			v                              history.Verdict
			change, lo, hi, p, ph, mp, mph sql.NullFloat64
		)
		if err := rows.Scan(&id, &v.Scenario, &v.Verdict, &v.Reason, &v.Pairs, &change, &lo, &hi, &p, &ph,
			&v.BaselineOnlyMisses, &v.CandidateOnlyMisses, &v.BothMissed, &mp, &mph); err != nil {
			return err
		}
		v.ChangePct, v.CILowPct, v.CIHighPct = summary.Pct(orNaN(change)), summary.Pct(orNaN(lo)), summary.Pct(orNaN(hi))
		v.PSlower, v.PSlowerHolm, v.MissP, v.MissPHolm = orNaN(p), orNaN(ph), orNaN(mp), orNaN(mph)
		if r := byID[id]; r != nil {
			r.Verdicts = append(r.Verdicts, v)
		}
	}
	return rows.Err()
}

func loadSLOs(ctx context.Context, tx *sql.Tx, suite string, n int, byID map[int64]*history.Run) error {
	rows, err := tx.QueryContext(ctx, `SELECT run_id, arm, objective, observed, observed_censored, observed_bound, target, met, reason
		FROM slo_checks WHERE run_id IN (`+selected+`) ORDER BY run_id, pos`, suite, n)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id  int64
			c   history.SLO
			obs stat
		)
		if err := rows.Scan(&id, &c.Arm, &c.Objective, &obs.v, &obs.censored, &obs.bound, &c.Target, &c.Met, &c.Reason); err != nil {
			return err
		}
		c.Observed = obs.value()
		if r := byID[id]; r != nil {
			r.SLOs = append(r.SLOs, c)
		}
	}
	return rows.Err()
}

// guardCols are a run's stability guard columns, all NULL for a run
// without pairs (or recorded before schema v2).
type guardCols struct {
	ok               sql.NullBool
	drift, contended sql.NullFloat64
	reasons          sql.NullString
}

func (g guardCols) guard() (*history.Guard, error) {
	if !g.ok.Valid {
		return nil, nil
	}
	out := &history.Guard{OK: g.ok.Bool, DriftPct: summary.Pct(orNaN(g.drift)), ContendedShare: g.contended.Float64}
	if g.reasons.Valid {
		if err := json.Unmarshal([]byte(g.reasons.String), &out.Reasons); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// stat is a statistic's three columns.
type stat struct {
	v, bound sql.NullFloat64
	censored bool
}

func (s stat) value() summary.Value {
	switch {
	case s.censored:
		return summary.Above(s.bound.Float64)
	case s.v.Valid:
		return summary.Num(s.v.Float64)
	}
	return summary.Value{}
}

func orNaN(f sql.NullFloat64) float64 {
	if !f.Valid {
		return math.NaN()
	}
	return f.Float64
}

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }
