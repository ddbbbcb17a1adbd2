package result

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Limit compares one resource limit: what the suite asked for, what the
// engine says it set (inspect), and what the cgroup actually holds. The
// readings are numbers; renderers format them (Format is the common form).
type Limit struct {
	Name      string `json:"name"` // cpu, memory, memory_swap, kernel_memory, pids, cpu_shares
	Unit      Unit   `json:"unit"`
	Requested Amount `json:"requested"`
	Observed  Amount `json:"observed"` // from inspect
	Enforced  Amount `json:"enforced"` // read back from the cgroup
	OK        bool   `json:"ok"`       // enforced matches requested
	// Note qualifies the reading, e.g. how a cgroup v2 file maps to the
	// engine's notion of the limit.
	Note string `json:"note,omitempty"`
}

// Unit of a limit's values.
type Unit string

// Units.
const (
	UnitCPU    Unit = "cpu"    // Value is a CFS quota and Period its period, both µs
	UnitBytes  Unit = "bytes"  // Value in bytes
	UnitCount  Unit = "count"  // Value is a count (pids)
	UnitWeight Unit = "weight" // Value is a relative CPU weight (shares)
)

// State says whether an Amount holds a number.
type State string

// States of an Amount.
const (
	Unset       State = "unset"        // not requested, or not recorded
	Set         State = "set"          // Value (and Period) hold the limit
	Unlimited   State = "unlimited"    // explicitly no limit
	NotEnforced State = "not_enforced" // requested, but the cgroup holds no limit
	Unsupported State = "unsupported"  // this engine or kernel has no such limit
)

// Amount is one reading of a limit.
type Amount struct {
	State  State `json:"state"`
	Value  int64 `json:"value,omitempty"`
	Period int64 `json:"period,omitempty"` // UnitCPU only
	// Text is the reading of a version-1 record, which stored limits as
	// formatted text; it is shown as it was.
	Text string `json:"text,omitempty"`
}

// Of is a set amount.
func Of(v int64) Amount { return Amount{State: Set, Value: v} }

// CPU is a set CFS quota over a period (µs).
func CPU(quota, period int64) Amount { return Amount{State: Set, Value: quota, Period: period} }

// IsSet reports whether a holds a number.
func (a Amount) IsSet() bool { return a.State == Set }

// UnmarshalJSON accepts an Amount, or the text of a version-1 record.
func (a *Amount) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*a = Amount{Text: s}
		return nil
	}
	type plain Amount
	return json.Unmarshal(b, (*plain)(a))
}

// Format renders an amount of a unit in the reports' common form, e.g.
// "0.10 CPU (10000/100000 us)", "128 MiB", "not enforced".
func Format(u Unit, a Amount) string {
	switch a.State {
	case Set:
	case NotEnforced:
		return "not enforced"
	case Unsupported:
		return "not supported"
	case Unlimited:
		return "unlimited"
	case Unset:
		return "unset"
	default:
		if a.Text != "" {
			return a.Text
		}
		return "-"
	}
	switch u {
	case UnitCPU:
		return FormatCPU(a.Value, a.Period)
	case UnitBytes:
		return FormatBytes(a.Value)
	}
	return strconv.FormatInt(a.Value, 10)
}

// FormatCPU renders a CFS pair, e.g. "0.10 CPU (10000/100000 us)".
func FormatCPU(quota, period int64) string {
	if period <= 0 {
		return fmt.Sprintf("quota %d us, no period", quota)
	}
	return fmt.Sprintf("%s CPU (%d/%d us)", FormatCPUs(float64(quota)/float64(period)), quota, period)
}

// FormatCPUs uses two decimals unless that would hide a difference (0.125
// must not read as 0.12).
func FormatCPUs(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if p, _ := strconv.ParseFloat(s, 64); p != v {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return s
}

// FormatBytes is exact: a whole number of the largest binary unit that
// divides the value, else MiB with the byte count (page rounding shows).
func FormatBytes(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%.2f MiB (%d bytes)", float64(n)/(1<<20), n)
	}
	return fmt.Sprintf("%d bytes", n)
}
