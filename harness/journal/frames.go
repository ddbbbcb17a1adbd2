package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// A run travels over a text stream (a container's log, which a swarm
// manager relays) as frame lines: the manifest, each record as it is
// journaled, the summary, and an end mark. A line is
//
//	@coldstart-frame/1 <stream> <n> <part>/<parts> <crc32> <chunk>
//
// where stream names the sender (its run id), n numbers its messages from
// 0, and a message ("<kind> <json>") is cut into chunks of at most
// MaxChunk bytes at rune boundaries: log drivers split long lines (16 KiB
// for json-file) and replace broken UTF-8. The CRC-32 (IEEE, hex) of each
// chunk catches a damaged line. Other lines are not frames and are ignored.

// FramePrefix opens every frame line.
const FramePrefix = "@coldstart-frame/1 "

// MaxChunk is the most payload bytes on one frame line.
const MaxChunk = 8000

// Frame kinds.
const (
	FrameManifest = "manifest" // result.Manifest
	FrameRecord   = "record"   // result.Record
	FrameSummary  = "summary"  // summary.json as written
	FrameEnd      = "end"      // FrameEndBody: the sender is done
)

// FrameEndBody closes a stream: how many records were sent, and how the
// run ended.
type FrameEndBody struct {
	Records int    `json:"records"`
	Code    int    `json:"code"`
	Error   string `json:"error,omitempty"`
}

// FrameWriter writes messages as frame lines; it is safe for concurrent use.
type FrameWriter struct {
	mu     sync.Mutex
	w      io.Writer
	stream string
	n      int
}

// NewFrameWriter writes stream's frames to w. The stream name must not
// hold a space.
func NewFrameWriter(w io.Writer, stream string) *FrameWriter {
	return &FrameWriter{w: w, stream: strings.ReplaceAll(stream, " ", "_")}
}

// Send writes one message of kind with v as its JSON body.
func (f *FrameWriter) Send(kind string, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("frame %s: %w", kind, err)
	}
	msg := kind + " " + string(body)
	chunks := chunk(msg, MaxChunk)
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for i, c := range chunks {
		fmt.Fprintf(&b, "%s%s %d %d/%d %08x %s\n", FramePrefix, f.stream, f.n, i+1, len(chunks), crc32.ChecksumIEEE([]byte(c)), c)
	}
	f.n++
	// One write for the whole message: a concurrent writer of the same
	// stream (stderr is another) cannot cut into it.
	_, err = io.WriteString(f.w, b.String())
	return err
}

// chunk cuts s into pieces of at most max bytes, never inside a rune.
func chunk(s string, max int) []string {
	var out []string
	for len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		if cut == 0 {
			cut = max
		}
		out = append(out, s[:cut])
		s = s[cut:]
	}
	return append(out, s)
}

// Message is one reassembled frame message.
type Message struct {
	Stream string
	N      int
	Kind   string
	Body   json.RawMessage
}

// ErrFrame marks a damaged frame line (bad CRC, bad header).
var ErrFrame = errors.New("damaged frame")

// Frames reassembles messages from frame lines of any number of streams,
// in any interleaving; a message seen twice (a log read again) comes out
// once.
type Frames struct {
	partial map[msgKey][]string
	done    map[msgKey]bool
}

type msgKey struct {
	stream string
	n      int
}

// NewFrames returns an empty reassembler.
func NewFrames() *Frames {
	return &Frames{partial: map[msgKey][]string{}, done: map[msgKey]bool{}}
}

// Line takes one line (without its newline). It returns a message when the
// line completes one, nil for a line that is not a frame or a message not
// yet complete or already seen, and an ErrFrame error for a damaged frame.
func (f *Frames) Line(line string) (*Message, error) {
	rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), FramePrefix)
	if !ok {
		return nil, nil
	}
	fs := strings.SplitN(rest, " ", 5)
	if len(fs) != 5 {
		return nil, fmt.Errorf("%w: %d fields", ErrFrame, len(fs))
	}
	n, err1 := strconv.Atoi(fs[1])
	a, b, ok := strings.Cut(fs[2], "/")
	part, err2 := strconv.Atoi(a)
	parts, err3 := strconv.Atoi(b)
	sum, err4 := strconv.ParseUint(fs[3], 16, 32)
	if !ok || err1 != nil || err2 != nil || err3 != nil || err4 != nil || part < 1 || part > parts || parts > 1<<16 {
		return nil, fmt.Errorf("%w: header %q", ErrFrame, strings.Join(fs[:4], " "))
	}
	if uint32(sum) != crc32.ChecksumIEEE([]byte(fs[4])) {
		return nil, fmt.Errorf("%w: stream %s message %d part %d: CRC mismatch", ErrFrame, fs[0], n, part)
	}
	k := msgKey{fs[0], n}
	if f.done[k] {
		return nil, nil
	}
	p := f.partial[k]
	if p == nil {
		p = make([]string, parts)
		f.partial[k] = p
	}
	if len(p) != parts {
		return nil, fmt.Errorf("%w: stream %s message %d: %d parts, then %d", ErrFrame, fs[0], n, len(p), parts)
	}
	p[part-1] = fs[4]
	for _, c := range p {
		if c == "" {
			return nil, nil
		}
	}
	delete(f.partial, k)
	f.done[k] = true
	kind, body, _ := strings.Cut(strings.Join(p, ""), " ")
	if !json.Valid([]byte(body)) {
		return nil, fmt.Errorf("%w: stream %s message %d: body is not JSON", ErrFrame, fs[0], n)
	}
	return &Message{Stream: fs[0], N: n, Kind: kind, Body: json.RawMessage(body)}, nil
}

// Pending is how many messages have parts but are not complete.
func (f *Frames) Pending() int { return len(f.partial) }
