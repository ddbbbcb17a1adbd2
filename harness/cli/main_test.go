package cli

import (
	"os"
	"testing"
)

// TestMain turns the run history off for this package's tests (and the
// harness processes they start), so that a test run records nothing into
// ./results or a history named in the developer's environment; the history
// tests name theirs with --history.
func TestMain(m *testing.M) {
	os.Setenv("COLDSTART_HISTORY", HistoryOff)
	os.Exit(m.Run())
}
