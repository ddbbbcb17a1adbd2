package summary

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"

	"github.com/coldstart/coldstart/harness/result"
)

// Value is one statistic. It is a number (Known), censored (the true value
// lies above Bound because misses carry its weight), or absent (too few
// samples). The zero Value is absent.
//
// JSON: a number; {"value": null, "censored": true, "bound_ms": B}; or null.
type Value struct {
	V        float64
	Known    bool
	Censored bool
	Bound    float64 // lower bound of the true value, when Censored
}

// Num is a known value.
func Num(v float64) Value { return Value{V: v, Known: true} }

// Above is a censored value known only to exceed bound.
func Above(bound float64) Value { return Value{Censored: true, Bound: bound} }

type censoredJSON struct {
	Value    *float64 `json:"value"`
	Censored bool     `json:"censored"`
	BoundMS  float64  `json:"bound_ms"`
}

// MarshalJSON implements json.Marshaler.
func (v Value) MarshalJSON() ([]byte, error) {
	switch {
	case v.Censored:
		return json.Marshal(censoredJSON{Censored: true, BoundMS: v.Bound})
	case v.Known:
		if math.IsNaN(v.V) || math.IsInf(v.V, 0) {
			return nil, fmt.Errorf("value %v is not finite", v.V)
		}
		return strconv.AppendFloat(nil, v.V, 'f', -1, 64), nil
	default:
		return []byte("null"), nil
	}
}

// UnmarshalJSON implements json.Unmarshaler.
func (v *Value) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch {
	case bytes.Equal(b, []byte("null")):
		*v = Value{}
	case len(b) > 0 && b[0] == '{':
		var c censoredJSON
		if err := json.Unmarshal(b, &c); err != nil {
			return err
		}
		if c.Value != nil && !c.Censored {
			*v = Num(*c.Value)
			return nil
		}
		*v = Above(c.BoundMS)
	default:
		var f float64
		if err := json.Unmarshal(b, &f); err != nil {
			return fmt.Errorf("statistic: %w", err)
		}
		*v = Num(f)
	}
	return nil
}

// OutcomeCount is how many starts ended in one outcome.
type OutcomeCount struct {
	Outcome result.Outcome
	N       int
}

// Counts lists outcome counts in report order. JSON: an object whose keys
// keep that order, e.g. {"deadline_exceeded": 2, "oom_killed": 0}.
type Counts []OutcomeCount

// Get returns the count of outcome o.
func (c Counts) Get(o result.Outcome) int {
	for _, oc := range c {
		if oc.Outcome == o {
			return oc.N
		}
	}
	return 0
}

// Total is the sum of all counts.
func (c Counts) Total() int {
	n := 0
	for _, oc := range c {
		n += oc.N
	}
	return n
}

// MarshalJSON implements json.Marshaler.
func (c Counts) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, oc := range c {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(string(oc.Outcome))
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(oc.N))
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// UnmarshalJSON implements json.Unmarshaler, keeping the order of the keys.
func (c *Counts) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*c = nil
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("outcome counts: want an object")
	}
	out := Counts{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return fmt.Errorf("outcome counts: %w", err)
		}
		k, _ := t.(string)
		var n int
		if err := dec.Decode(&n); err != nil {
			return fmt.Errorf("outcome counts: %s: %w", k, err)
		}
		out = append(out, OutcomeCount{Outcome: result.Outcome(k), N: n})
	}
	*c = out
	return nil
}
