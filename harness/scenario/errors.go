package scenario

import (
	"fmt"
	"sort"
	"strings"
)

// Error is one problem in a suite file, at the exact place it was written.
type Error struct {
	File      string
	Line, Col int    // 1-based; Col counts characters
	Field     string // path such as scenarios[1].limits.memory; empty for file-level problems
	Msg       string
}

func (e *Error) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
	}
	return fmt.Sprintf("%s:%d:%d: %s: %s", e.File, e.Line, e.Col, e.Field, e.Msg)
}

// Errors is every problem found in one pass over a suite file, sorted by position.
type Errors []*Error

func (e *Errors) Error() string {
	lines := make([]string, len(*e))
	for i, err := range *e {
		lines[i] = err.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As reach a single *Error.
func (e *Errors) Unwrap() []error {
	errs := make([]error, len(*e))
	for i, err := range *e {
		errs[i] = err
	}
	return errs
}

func (e Errors) sort() {
	sort.SliceStable(e, func(i, j int) bool {
		if e[i].Line != e[j].Line {
			return e[i].Line < e[j].Line
		}
		return e[i].Col < e[j].Col
	})
}

// hint suggests the known key closest to an unknown one, if any is close enough to be a typo.
func hint(key string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := distance(strings.ToLower(key), k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

// distance is the Levenshtein edit distance, with the inputs capped so that a
// huge key cannot make it quadratic in the file size.
func distance(a, b string) int {
	const max = 64
	if len(a) > max {
		a = a[:max]
	}
	if len(b) > max {
		b = b[:max]
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
