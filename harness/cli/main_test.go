package cli

import (
	"fmt"
	"os"
	"testing"

	"github.com/coldstart/coldstart/internal/livelock"
)

// TestMain holds the machine-wide live-test lock: these tests start
// containers, and so do other packages' (see livelock).
func TestMain(m *testing.M) {
	os.Exit(func() int {
		release, err := livelock.Hold()
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer release()
		return m.Run()
	}())
}
