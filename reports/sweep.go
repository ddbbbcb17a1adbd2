package reports

import (
	"fmt"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// sweepBlocks are the sweep's table: per swept scenario, one row per cell
// with the ready_ms percentiles and the miss rate, and a burst's makespan,
// so that a reader sees how they move with the swept key.
func sweepBlocks(s *summary.Summary) []block {
	var rows [][]string
	bursts := false
	for _, sc := range s.Scenarios {
		bursts = bursts || sc.Bursts != nil
	}
	for _, sc := range s.Scenarios {
		if sc.Cell == "" && sc.Bursts == nil {
			continue
		}
		r := sc.ReadyMS
		name := sc.Scenario
		if name == "" {
			name = sc.Name
		}
		row := []string{name, sc.Cell, fmt.Sprint(sc.N), ms(r.P50), ms(r.P95), ms(r.P99),
			fmt.Sprintf("%s (%d)", pct(sc.Missed(), sc.N), sc.Missed()), fmt.Sprint(sc.Misses.Get(result.OOMKilled))}
		if bursts {
			row = append(row, burstCells(sc.Bursts)...)
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil
	}
	header := []string{"scenario", "cell", "n", "p50 ms", "p95 ms", "p99 ms", "miss rate", "oom"}
	para := "Each cell is a series of its own; the cells' starts ran interleaved in one run, in an order shuffled with the plan's seed."
	if bursts {
		header = append(header, "bursts", "makespan p50 ms", "makespan max ms", "max load1", "max cpu psi avg10 %")
		para += " A burst's makespan is its first t0 to its last healthy answer; a burst with a miss counts that start at its deadline (a lower bound, marked *)."
	}
	return []block{{heading: "sweep", para: para}, {numeric: true, header: header, rows: rows}}
}

func burstCells(b *summary.Bursts) []string {
	if b == nil {
		return []string{"-", "-", "-", "-", "-"}
	}
	star := ""
	if b.Censored > 0 {
		star = "*"
	}
	psi := "-"
	if b.MaxCPUSomeAvg10 != nil {
		psi = fmt.Sprintf("%.1f", *b.MaxCPUSomeAvg10)
	}
	return []string{fmt.Sprintf("%d x %d", b.N, b.Size), plain(b.MakespanMS.P50) + star, plain(b.MakespanMS.Max) + star,
		fmt.Sprintf("%.2f", b.MaxLoad1), psi}
}
