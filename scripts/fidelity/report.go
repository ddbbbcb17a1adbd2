package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// reportFile is what this program measured itself, in the output directory.
// The harness's own data stay in its run directories (named relative to the
// output directory), which --render reads back with the harness's types:
// measure once, render many times.
const reportFile = "report.json"

// reportVersion 2: run directories by name, records read from them (1 held
// private copies of the records and was written without a version).
const reportVersion = 2

type report struct {
	V            int                `json:"v"`
	Machine      machineInfo        `json:"machine"`
	Measured     binary             `json:"measured"`
	ReleaseSize  int64              `json:"release_size"`
	Started      time.Time          `json:"started"`
	Finished     time.Time          `json:"finished"`
	LoadBefore   string             `json:"load_before"`
	LoadAfter    string             `json:"load_after"`
	Sizes        sizes              `json:"sizes"`
	PhaseSeconds map[string]float64 `json:"phase_seconds"`
	Lag          *lagData           `json:"lag,omitempty"`
	Cost         *suiteRun          `json:"cost,omitempty"`
	SideBySide   *sideBySide        `json:"side_by_side,omitempty"`
	Overhead     *suiteRun          `json:"overhead,omitempty"`
	Version      *versionData       `json:"version,omitempty"`
}

type sizes struct {
	Batches      int      `json:"batches"`
	Batch        int      `json:"batch"`
	CostRuns     int      `json:"cost_runs"`
	CostPairs    int      `json:"cost_pairs,omitempty"` // with a baseline
	CostBatch    int      `json:"cost_batch,omitempty"` // with a baseline
	OverheadRuns int      `json:"overhead_runs"`
	VersionRuns  int      `json:"version_runs"`
	Poll         string   `json:"poll"`
	Trial        bool     `json:"trial"`
	Rows         []row    `json:"rows"`
	Args         []string `json:"args"`
}

func sizesOf(c *config) sizes {
	s := sizes{Batches: c.batches, Batch: c.batch, CostRuns: c.costRuns, OverheadRuns: c.overheadRuns,
		VersionRuns: c.versionRuns, Poll: c.poll.String(), Trial: c.trial, Rows: c.rows, Args: c.args}
	if c.baseline != "" {
		s.CostPairs, s.CostBatch = c.costPairs, c.costBatch
	}
	return s
}

func writeReport(dir string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, reportFile), append(b, '\n'), 0o644)
}

// loaded is a report with everything it names read back: the input of the
// Markdown.
type loaded struct {
	*report
	lagHarness []*harnessRun // one per batch
	loop       []loopRecord
	cost       *harnessRun
	overhead   *harnessRun
	sides      []sideBatch // with a baseline, in run order
}

// sideBatch is one batch of the side-by-side cost phase, read back.
type sideBatch struct {
	costBatch
	run *harnessRun
}

// load reads dir's report.json and the run directories it names.
func load(dir string) (*loaded, error) {
	b, err := os.ReadFile(filepath.Join(dir, reportFile))
	if err != nil {
		return nil, err
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		return nil, fmt.Errorf("%s/%s: %w", dir, reportFile, err)
	}
	if rep.V != reportVersion {
		return nil, fmt.Errorf("%s/%s: version %d, want %d (a run of an older fidelity program: render it with that one)", dir, reportFile, rep.V, reportVersion)
	}
	l := &loaded{report: &rep}
	if err := l.readRuns(dir); err != nil {
		return nil, err
	}
	return l, nil
}

func (l *loaded) readRuns(dir string) error {
	var err error
	if ld := l.Lag; ld != nil {
		for _, s := range ld.Harness {
			r, err := readRun(dir, s)
			if err != nil {
				return err
			}
			l.lagHarness = append(l.lagHarness, r)
		}
		if l.loop, err = readLoop(filepath.Join(dir, ld.LoopFile)); err != nil {
			return err
		}
	}
	if l.Cost != nil {
		if l.cost, err = readRun(dir, *l.Cost); err != nil {
			return err
		}
	}
	if l.Overhead != nil {
		if l.overhead, err = readRun(dir, *l.Overhead); err != nil {
			return err
		}
	}
	if sb := l.SideBySide; sb != nil {
		for _, cb := range sb.Batches {
			r, err := readRun(dir, cb.Run)
			if err != nil {
				return err
			}
			l.sides = append(l.sides, sideBatch{cb, r})
		}
	}
	return nil
}
