package capacity

import (
	"fmt"
	"math"
	"strconv"
)

func fmtCPUs(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// FormatMemory writes a limit the way a suite does: 64m, 1g, else bytes.
func FormatMemory(b int64) string {
	switch {
	case b >= 1<<30 && b%(1<<30) == 0:
		return fmt.Sprintf("%dg", b>>30)
	case b >= 1<<20 && b%(1<<20) == 0:
		return fmt.Sprintf("%dm", b>>20)
	case b >= 1<<10 && b%(1<<10) == 0:
		return fmt.Sprintf("%dk", b>>10)
	}
	return strconv.FormatInt(b, 10)
}

// FormatMS writes a figure in ms, "> deadline" when censored, "-" when none.
func FormatMS(v float64) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case math.IsInf(v, 1):
		return "> deadline"
	case math.IsInf(v, -1):
		return "-"
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) + " ms"
}
