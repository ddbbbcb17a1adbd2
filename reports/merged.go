package reports

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/summary"
)

// A merged run (shards measured on several hosts) adds its shards, its
// figures per host and its pooling decisions to every report: the same
// tables for text, Markdown and HTML.

// mergedTables are a merged run's tables: shards, pooling, per host.
type mergedTables struct {
	intro  string
	shards mtable
	pools  mtable
	hosts  mtable
}

type mtable struct {
	head []string
	rows [][]string
}

func mergedOf(s *summary.Summary) (mergedTables, bool) {
	if len(s.Shards) == 0 {
		return mergedTables{}, false
	}
	var t mergedTables
	t.intro = poolingIntro(s)
	t.shards.head = []string{"shard", "host", "instance type", "planned", "completed", "state", "missing starts"}
	for _, sh := range s.Shards {
		state := "complete"
		if !sh.Complete() {
			state = "INCOMPLETE: " + sh.Reason
		}
		t.shards.rows = append(t.shards.rows, []string{sh.Shard.String(), dash(sh.Host), dash(sh.InstanceType),
			strconv.Itoa(sh.Planned), strconv.Itoa(sh.Completed), state, summary.MissingText(sh.Missing, 10)})
	}
	t.pools.head = []string{"pool", "hosts", "pooled", "why", "reference p50 per host"}
	for _, p := range s.Pools {
		pooled := "no"
		if p.Agree {
			pooled = "yes"
		}
		t.pools.rows = append(t.pools.rows, []string{p.Name, strings.Join(p.Hosts, ", "), pooled, p.Reason, referenceText(p.Reference)})
	}
	t.hosts.head = []string{"host", "instance type", "shards", "scenario", "n", "ok", "misses", "p50 ms", "p95 ms", "max ms"}
	for _, h := range s.Hosts {
		for _, sc := range h.Scenarios {
			r := sc.ReadyMS
			t.hosts.rows = append(t.hosts.rows, []string{h.Label, dash(h.InstanceType), strings.Join(h.Shards, " "), sc.Name,
				strconv.Itoa(sc.N), strconv.Itoa(sc.OK), strconv.Itoa(sc.Missed()), ms(r.P50), ms(r.P95), ms(r.Max)})
		}
	}
	return t, true
}

// poolingIntro says what the run's own table is: pooled over agreeing
// hosts, or per host.
func poolingIntro(s *summary.Summary) string {
	n := len(s.Hosts)
	incomplete := 0
	for _, sh := range s.Shards {
		if !sh.Complete() {
			incomplete++
		}
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Merged from %d shards measured on %d host(s)", len(s.Shards), n)
	if incomplete > 0 {
		fmt.Fprintf(&b, "; %d shard(s) INCOMPLETE (their missing starts are listed below)", incomplete)
	}
	b.WriteString(".")
	switch {
	case s.PerHost:
		b.WriteString(" The hosts do not agree, so nothing is pooled across them: every row of the table above is one arm on one host (\"arm @host\").")
	case n > 1:
		b.WriteString(" The hosts agree, so the table above pools their starts; the per-host figures are below.")
	}
	if len(s.Pools) > 0 {
		fmt.Fprintf(&b, " Agreement: %s.", s.Pools[0].Reason)
	}
	return b.String()
}

func referenceText(refs []summary.ArmSpread) string {
	var parts []string
	for _, r := range refs {
		var hs []string
		for _, h := range r.P50 {
			hs = append(hs, fmt.Sprintf("%s %s (%d ok)", h.Host, ms(h.P50), h.OK))
		}
		s := r.Arm + ": " + strings.Join(hs, ", ")
		if r.SpreadPct.Known {
			s += fmt.Sprintf("; spread %.1f%%", r.SpreadPct.V)
		}
		if r.UTestP.Known {
			s += fmt.Sprintf("; U test p %.3g", r.UTestP.V)
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " | ")
}

// mergedBlocks are the text and Markdown part of a merged run.
func mergedBlocks(s *summary.Summary) []block {
	t, ok := mergedOf(s)
	if !ok {
		return nil
	}
	return []block{
		{heading: "hosts and shards", para: t.intro},
		{sub: "shards", header: t.shards.head, rows: t.shards.rows},
		{sub: "pooling", header: t.pools.head, rows: t.pools.rows},
		{sub: "per host", header: t.hosts.head, rows: t.hosts.rows, numeric: true},
	}
}

// mergedSection is the HTML part of a merged run.
func mergedSection(s *summary.Summary) (section, bool) {
	t, ok := mergedOf(s)
	if !ok {
		return section{}, false
	}
	b := &badge{Text: "complete", Short: "complete", Class: "ok"}
	for _, sh := range s.Shards {
		if !sh.Complete() {
			b = &badge{Text: "shards incomplete", Short: "incomplete", Class: "miss"}
			break
		}
	}
	return section{ID: "hosts", Title: "Hosts and shards", Class: "summary", Badge: b, Parts: []part{
		{Para: t.intro},
		{Heading: "Shards", Table: htmlTable("shards-table", t.shards, false)},
		{Heading: "Pooling", Table: htmlTable("pools-table", t.pools, false)},
		{Heading: "Per host", Table: htmlTable("hosts-table", t.hosts, true)},
	}}, true
}

func htmlTable(id string, m mtable, numeric bool) *table {
	t := &table{ID: id, Head: m.head, Numeric: numeric}
	for i, r := range m.rows {
		t.Rows = append(t.Rows, trow{Key: strconv.Itoa(i), Cells: cells(r)})
	}
	return t
}
