// Package capacity finds the smallest limits under which a scenario meets
// a service-level objective: a search over a grid of CPU quotas (and
// memory limits) that decides at each probe, from the probe's records, with
// a one-sided binomial test on the censored quantile. It knows nothing of
// the engine: a Sampler brings the records.
package capacity

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Objective is "the pQ of ready_ms is below Bound": p95 < 3s.
type Objective struct {
	Level float64       // percentile, 0 < Level < 100
	Bound time.Duration // strict upper bound
}

// Tail is the share of starts that may reach Bound while the objective
// holds: 1 - Level/100 (0.05 for p95).
func (o Objective) Tail() float64 { return 1 - o.Level/100 }

func (o Objective) String() string {
	return fmt.Sprintf("p%s < %v", strconv.FormatFloat(o.Level, 'f', -1, 64), o.Bound)
}

var objectiveRE = regexp.MustCompile(`^\s*p(\d+(?:\.\d+)?)\s*<\s*(\S+)\s*$`)

// ParseObjective reads "p95 < 3s" (any percentile above 0 and below 100, a
// Go duration).
func ParseObjective(s string) (Objective, error) {
	m := objectiveRE.FindStringSubmatch(s)
	if m == nil {
		return Objective{}, fmt.Errorf("SLO %q: want pN < DURATION, like \"p95 < 3s\"", s)
	}
	level, err := strconv.ParseFloat(m[1], 64)
	if err != nil || level <= 0 || level >= 100 {
		return Objective{}, fmt.Errorf("SLO %q: the percentile must lie between 0 and 100", s)
	}
	d, err := time.ParseDuration(strings.TrimSpace(m[2]))
	if err != nil || d <= 0 {
		return Objective{}, fmt.Errorf("SLO %q: bad duration %q: want a positive number with a unit, like 3s", s, m[2])
	}
	return Objective{Level: level, Bound: d}, nil
}
