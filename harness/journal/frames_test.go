package journal

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/coldstart/coldstart/harness/result"
)

// Two streams' frames, interleaved line by line, with a long record (cut
// into chunks, some at a multi-byte rune), other log lines, and the whole
// log read twice: every message comes out once, intact.
func TestFramesRoundTrip(t *testing.T) {
	var a, b bytes.Buffer
	fa, fb := NewFrameWriter(&a, "run-a"), NewFrameWriter(&b, "run b")
	long := strings.Repeat("é", MaxChunk) + strings.Repeat("x", 3*MaxChunk+7) // 2-byte runes across the first cut
	recs := []result.Record{
		{V: 2, Run: "run-a", Scenario: "go-hello", Kind: result.KindMeasure, Seq: 0, Outcome: result.OK, ReadyMS: result.F(312.5)},
		{V: 2, Run: "run-a", Scenario: "go-hello", Kind: result.KindMeasure, Seq: 1, Outcome: result.DeadlineExceeded, LogTail: long},
	}
	for i := range recs {
		if err := fa.Send(FrameRecord, &recs[i]); err != nil {
			t.Fatal(err)
		}
	}
	fa.Send(FrameEnd, FrameEndBody{Records: 2})
	fb.Send(FrameManifest, result.Manifest{Run: "run b", Shard: &result.Shard{Index: 2, Count: 3}})
	for _, l := range strings.Split(a.String(), "\n") {
		if len(l) > len(FramePrefix)+MaxChunk+64 {
			t.Fatalf("a frame line of %d bytes", len(l))
		}
	}
	la, lb := lines(a.String()), lines(b.String())
	var log []string
	for len(la)+len(lb) > 0 {
		if len(la) > 0 {
			log, la = append(log, la[0], "progress: not a frame"), la[1:]
		}
		if len(lb) > 0 {
			log, lb = append(log, lb[0]), lb[1:]
		}
	}
	fr := NewFrames()
	var got []*Message
	for _, l := range append(log, log...) { // read twice: duplicates dropped
		m, err := fr.Line(l)
		if err != nil {
			t.Fatalf("line %.60q: %v", l, err)
		}
		if m != nil {
			got = append(got, m)
		}
	}
	if len(got) != 4 || fr.Pending() != 0 {
		t.Fatalf("%d messages (%d pending), want 4", len(got), fr.Pending())
	}
	var back []result.Record
	for _, m := range got {
		if m.Stream == "run-a" && m.Kind == FrameRecord {
			var r result.Record
			if err := json.Unmarshal(m.Body, &r); err != nil {
				t.Fatal(err)
			}
			back = append(back, r)
		}
		if m.Stream == "run_b" && (m.Kind != FrameManifest || m.N != 0) {
			t.Errorf("stream b: %s #%d", m.Kind, m.N)
		}
	}
	if len(back) != 2 || back[1].LogTail != long || *back[0].ReadyMS != 312.5 {
		t.Errorf("records did not survive the trip: %d records", len(back))
	}
}

func lines(s string) []string { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

func TestFramesDamaged(t *testing.T) {
	var b bytes.Buffer
	NewFrameWriter(&b, "r").Send(FrameEnd, FrameEndBody{Records: 3})
	good := strings.TrimRight(b.String(), "\n")
	for name, l := range map[string]string{
		"crc":    good[:len(good)-2] + "9}",
		"fields": FramePrefix + "r 0 1/1",
		"part":   strings.Replace(good, " 1/1 ", " 2/1 ", 1),
		"number": strings.Replace(good, " 0 1/1 ", " x 1/1 ", 1),
	} {
		if _, err := NewFrames().Line(l); !errors.Is(err, ErrFrame) {
			t.Errorf("%s: %v, want ErrFrame", name, err)
		}
	}
	if m, err := NewFrames().Line(good); err != nil || m == nil || m.Kind != FrameEnd {
		t.Errorf("good line: %v %v", m, err)
	}
}

// A message whose chunks arrive out of order is still whole; one missing
// chunk leaves it pending, never a wrong message.
func TestFramesOutOfOrder(t *testing.T) {
	var b bytes.Buffer
	body := map[string]string{"x": strings.Repeat("y", 2*MaxChunk+5)}
	NewFrameWriter(&b, "r").Send(FrameSummary, body)
	ls := lines(b.String())
	if len(ls) != 3 {
		t.Fatalf("%d chunks", len(ls))
	}
	rand.Shuffle(len(ls), func(i, j int) { ls[i], ls[j] = ls[j], ls[i] })
	fr := NewFrames()
	var got *Message
	for _, l := range ls {
		if m, err := fr.Line(l); err != nil {
			t.Fatal(err)
		} else if m != nil {
			got = m
		}
	}
	if got == nil || len(got.Body) < 2*MaxChunk {
		t.Fatal("shuffled chunks not reassembled")
	}
	fr = NewFrames()
	for _, l := range ls[:2] {
		if m, _ := fr.Line(l); m != nil {
			t.Fatal("a message from 2 of 3 chunks")
		}
	}
	if fr.Pending() != 1 {
		t.Errorf("pending %d", fr.Pending())
	}
}

func FuzzFrameLine(f *testing.F) {
	var b bytes.Buffer
	NewFrameWriter(&b, "r").Send(FrameEnd, FrameEndBody{Records: 1})
	f.Add(strings.TrimRight(b.String(), "\n"))
	f.Add(FramePrefix + "r 0 1/2 00000000 x")
	f.Fuzz(func(t *testing.T, l string) {
		fr := NewFrames()
		fr.Line(l)
		fr.Line(l)
	})
}
