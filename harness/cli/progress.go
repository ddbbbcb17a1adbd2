package cli

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
)

// progress prints one plain line per start, or a live bar on a terminal.
type progress struct {
	w     io.Writer
	tty   bool
	quiet bool
	total int
	miss  int
}

func newProgress(w io.Writer, quiet bool) *progress {
	p := &progress{w: w, quiet: quiet}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) log() io.Writer {
	if p.quiet {
		return io.Discard
	}
	return p.w
}

func (p *progress) start(done, total int, r *result.Record) {
	if r.Outcome != result.OK && r.Kind == "measure" {
		p.miss++
	}
	if p.quiet {
		return
	}
	what := string(r.Outcome)
	if r.ReadyMS != nil {
		what = fmt.Sprintf("ready %.1f ms", *r.ReadyMS)
	}
	if r.Outcome != result.OK {
		what = string(r.Outcome)
		if r.Error != "" {
			what += ": " + firstLine(r.Error)
		}
	}
	if p.tty && total == 0 { // a search: no bar, its length is decided as it goes
		fmt.Fprintf(p.w, "\r\x1b[K[%d] misses %d  %s %s#%d %s", done, p.miss, r.Arm(), r.Kind, r.Iteration, what)
		return
	}
	if p.tty {
		const width = 30
		fill := width * done / max(total, 1)
		fmt.Fprintf(p.w, "\r\x1b[K[%s%s] %d/%d misses %d  %s %s#%d %s", strings.Repeat("#", fill), strings.Repeat(".", width-fill),
			done, total, p.miss, r.Arm(), r.Kind, r.Iteration, what)
		return
	}
	count := fmt.Sprintf("%d/%d", done, total)
	if total == 0 { // a search: its length is decided as it goes
		count = strconv.Itoa(done)
	}
	fmt.Fprintf(p.w, "[%s] %s %s#%d %s\n", count, r.Arm(), r.Kind, r.Iteration, what)
}

func (p *progress) finish() {
	if p.tty && !p.quiet {
		fmt.Fprintln(p.w)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 120 {
		s = s[:120] + "..."
	}
	return s
}
