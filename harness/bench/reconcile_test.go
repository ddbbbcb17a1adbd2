package bench

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
)

// Resume removes the containers an earlier process of the run left behind
// only when their labels say they are this run's and their owner is gone,
// with an intent in the WAL or without (the WAL is not fsynced: a machine
// crash can lose the last intent). A copy of the run directory resumed
// beside a live original must not take the original's container in flight.
func TestReconcileByLabels(t *testing.T) {
	dir := t.TempDir()
	run, tag := "20261201T000000Z-0badc0de", "0badc0de"
	wal, err := journal.CreateWAL(filepath.Join(dir, journal.WALFile))
	if err != nil {
		t.Fatal(err)
	}
	for seq := range 4 { // no intent for start 4: lost with the page cache
		wal.Intend(journal.Intent{Seq: seq, Scenario: "s", Kind: result.KindMeasure, Iteration: seq, Container: ContainerName(tag, seq), Time: time.Now()})
	}
	wal.Close()
	labels := func(seq, runID, owner string) map[string]string {
		return map[string]string{engine.LabelHarness: "1", engine.LabelRun: runID, engine.LabelOwner: owner, engine.LabelSeq: seq}
	}
	c := &fakeCleaner{cs: []engine.Container{
		{ID: "dead-owner", Name: ContainerName(tag, 0), Labels: labels("0", run, "1:1")},
		{ID: "live-original", Name: ContainerName(tag, 1), Labels: labels("1", run, Owner())},
		{ID: "other-run", Name: ContainerName(tag, 2), Labels: labels("2", "20261201T000000Z-12345678", "1:1")},
		{ID: "unlabelled", Name: ContainerName(tag, 3), Labels: map[string]string{}},
		{ID: "dead-owner-no-intent", Name: ContainerName(tag, 4), Labels: labels("4", run, "1:1")},
		{ID: "misnamed", Name: "coldstart-" + tag + "-5", Labels: labels("5", run, "1:1")},
	}}
	s := &Session{Dir: dir, Manifest: result.Manifest{Run: run}, cleaner: c}
	if err := s.reconcile(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.removed, []string{"dead-owner", "dead-owner-no-intent"}) {
		t.Errorf("removed %v, want only [dead-owner dead-owner-no-intent]", c.removed)
	}
	if _, err := os.Stat(filepath.Join(dir, journal.WALFile)); err != nil {
		t.Error(err)
	}
}
