package swarm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
)

// collector turns the service's log lines into shard runs: each task's
// harness sends its run as frames on stdout (run --frames); its stderr is
// passed on to the coordinator's log.
type collector struct {
	mu      sync.Mutex
	frames  *journal.Frames
	streams map[string]*stream // by the shard run's id
	damaged int
	log     io.Writer
	label   func(task string) string // names a task for its stderr lines
}

// stream is what one task's harness has sent.
type stream struct {
	manifest *result.Manifest
	records  map[int]result.Record // by frame number: a log read twice sends it twice
	summary  json.RawMessage
	end      *journal.FrameEndBody
}

func newCollector(log io.Writer, label func(string) string) *collector {
	return &collector{frames: journal.NewFrames(), streams: map[string]*stream{}, log: log, label: label}
}

// line takes one log line of a task.
func (c *collector) line(task, kind, text string) {
	if kind == "stderr" {
		fmt.Fprintf(c.log, "[%s] %s\n", c.label(task), text)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m, err := c.frames.Line(text)
	if err != nil {
		c.damaged++
		return
	}
	if m == nil {
		return
	}
	st := c.streams[m.Stream]
	if st == nil {
		st = &stream{records: map[int]result.Record{}}
		c.streams[m.Stream] = st
	}
	c.take(st, m)
}

// framesOnly takes a line read again: its stderr was shown already.
func (c *collector) framesOnly(task, kind, text string) {
	if kind != "stderr" {
		c.line(task, kind, text)
	}
}

// take files one message of a stream.
func (c *collector) take(st *stream, m *journal.Message) {
	switch m.Kind {
	case journal.FrameManifest:
		var man result.Manifest
		if json.Unmarshal(m.Body, &man) == nil && man.Shard != nil {
			st.manifest = &man
			fmt.Fprintf(c.log, "shard %s: harness on %s started run %s (%d starts planned)\n", man.Shard, man.Engine.Name, man.Run, man.Planned)
		}
	case journal.FrameRecord:
		var r result.Record
		if json.Unmarshal(m.Body, &r) == nil {
			st.records[m.N] = r
		}
	case journal.FrameSummary:
		st.summary = m.Body
	case journal.FrameEnd:
		var e journal.FrameEndBody
		if json.Unmarshal(m.Body, &e) == nil {
			st.end = &e
		}
	}
}

// shard is what arrived of one shard: its stream, if its manifest came.
func (c *collector) shard(index int) *stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	var best *stream
	for _, st := range c.streams {
		if st.manifest == nil || st.manifest.Shard.Index != index {
			continue
		}
		// Two runs of one shard (never expected: tasks are not restarted):
		// keep the one that got further.
		if best == nil || len(st.records) > len(best.records) {
			best = st
		}
	}
	return best
}

// counts is how many records have arrived, all shards together, and how
// many damaged frame lines were seen.
func (c *collector) counts() (records, damaged int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.streams {
		records += len(st.records)
	}
	return records, c.damaged
}

// write makes a shard's run directory from its stream: its manifest (with
// the node that ran it and that node's instance type), its journal in the
// order sent, its summary when it sent one, and the suite it ran.
func (st *stream) write(dir, node, itype string, suite []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	m := *st.manifest
	sh := *m.Shard
	sh.Node = node
	m.Shard = &sh
	if m.InstanceType == "" {
		m.InstanceType = itype
	}
	if err := journal.WriteJSONAtomic(filepath.Join(dir, journal.ManifestFile), &m); err != nil {
		return err
	}
	ns := make([]int, 0, len(st.records))
	for n := range st.records {
		ns = append(ns, n)
	}
	sort.Ints(ns)
	var b bytes.Buffer
	for _, n := range ns {
		r := st.records[n]
		l, err := json.Marshal(&r)
		if err != nil {
			return err
		}
		b.Write(l)
		b.WriteByte('\n')
	}
	if err := journal.WriteFileAtomic(filepath.Join(dir, journal.RunsFile), b.Bytes()); err != nil {
		return err
	}
	if len(st.summary) > 0 {
		if err := journal.WriteFileAtomic(filepath.Join(dir, journal.SummaryFile), st.summary); err != nil {
			return err
		}
	}
	return journal.WriteFileAtomic(filepath.Join(dir, journal.SuiteFile), suite)
}
