package cli

import "testing"

// --cpus-grid reads a comma-separated list and shows it as written, not as
// pflag's float slice does ("0.050000").
func TestCPUListFlag(t *testing.T) {
	var l cpuList
	if err := l.Set("0.05, 0.1,2"); err != nil {
		t.Fatal(err)
	}
	if got := l.String(); got != "0.05,0.1,2" || len(l) != 3 || l[1] != 0.1 {
		t.Errorf("got %q (%v), want 0.05,0.1,2", got, []float64(l))
	}
	if err := l.Set("0.1,x"); err == nil || err.Error() != `"x" is not a number of CPUs` {
		t.Errorf("bad value: err %v", err)
	}
	cmd := newPlanCmd(nil)
	if got := cmd.Flags().Lookup("cpus-grid").DefValue; got != "0.05,0.1,0.15,0.2,0.3,0.5,0.75,1,1.5,2" {
		t.Errorf("default shown as %q", got)
	}
}
