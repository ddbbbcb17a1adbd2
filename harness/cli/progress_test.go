package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/coldstart/coldstart/harness/result"
)

// A search's progress has no total: no bar to overfill, on a terminal or not.
func TestProgressWithoutTotal(t *testing.T) {
	for _, tty := range []bool{false, true} {
		var b bytes.Buffer
		p := &progress{w: &b, tty: tty}
		for i := 1; i <= 40; i++ {
			p.start(i, 0, &result.Record{Scenario: "a", Cell: "cpus=0.1", Kind: result.KindMeasure, Outcome: result.OK, ReadyMS: result.F(12)})
		}
		if !strings.Contains(b.String(), "[40] ") || strings.Contains(b.String(), "/0]") {
			t.Errorf("tty %v: %q", tty, b.String()[max(0, b.Len()-200):])
		}
	}
}
