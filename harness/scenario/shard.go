package scenario

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
)

// Shard is one part of a plan, run on one host: shard Index of Count.
// Index is 1..Count; it is read modulo Count, so that a Swarm task slot
// (1..N) and a Kubernetes completion index (0..N-1) both name every shard
// once ("0/3" is "3/3").
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ParseShard reads "i/N" (1 <= N, 0 <= i <= N; i = 0 is shard N).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || n > 10000 || i < 0 || i > n {
		return Shard{}, fmt.Errorf("shard %q: want i/N with 1 <= N <= 10000 and 0 <= i <= N (i counts from 1; 0 is N)", s)
	}
	if i == 0 {
		i = n
	}
	return Shard{Index: i, Count: n}, nil
}

// String is "i/N".
func (sh Shard) String() string { return fmt.Sprintf("%d/%d", sh.Index, sh.Count) }

// Has reports whether a planned start belongs to the shard. Measured and
// diagnostic starts are dealt by iteration: iteration k goes to shard
// k mod N (shard N takes 0, N, 2N, ...), so every arm is spread evenly over
// the shards, the two starts of a pair (one iteration) stay together, and
// each shard keeps whole rounds of the interleaving. Warmups belong to
// every shard: a warmup warms the host it runs on. A burst is dealt whole,
// by its number: its starts go out at once on one host.
func (sh Shard) Has(st Start) bool {
	if sh.Count <= 1 || st.Kind == result.KindWarmup {
		return true
	}
	k := st.Iteration
	if st.Burst > 0 {
		k = st.Burst - 1
	}
	return k%sh.Count == sh.Index%sh.Count
}

// Positions lists, in plan order, the positions of plan that belong to the
// shard: a filter, so that the shard's starts keep the plan's order and
// positions (the record's seq) whatever the plan's shape.
func (sh Shard) Positions(plan []Start) []int {
	var out []int
	for i, st := range plan {
		if sh.Has(st) {
			out = append(out, i)
		}
	}
	return out
}
