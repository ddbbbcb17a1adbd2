// Package importtime parses the import profile CPython writes to stderr with
// `python3 -X importtime` or PYTHONPROFILEIMPORTTIME=1.
//
// CPython prints one header line and then one line per module when its import
// finishes (so children come before their parent):
//
//	import time: self [us] | cumulative | imported package
//	import time:       324 |        324 |   _io
//	import time:      1168 |     457935 | aiohttp.web
//
// with the format "import time: %9ld | %10ld | %*s%s": self and cumulative
// microseconds, then the module name indented by two spaces per nesting level.
//
// The parser is meant for a container's whole stderr: lines that do not start
// with "import time:" (application logs interleaved with the profile) are
// ignored; lines that do but cannot be parsed are counted as malformed and
// reported, never fatal. Python 3.14's `-X importtime=2` lines for modules that
// were already loaded ("cached" in place of the numbers) are no imports and are
// skipped. Several headers (several Python processes on one stderr) are fine:
// their modules are all kept.
package importtime

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/coldstart/coldstart/harness/result"
)

// Prefix starts every line CPython's import profiler writes.
const Prefix = "import time:"

const (
	// maxLine bounds the memory a single line may take; a longer line is
	// cut (and, if it is an import-time line, reported as malformed).
	maxLine = 64 << 10
	// maxText bounds ParseError.Text.
	maxText = 200
)

// ParseError describes one line that starts with "import time:" but is not a
// valid import-time line. Line is 1-based. A failure to read the input is
// reported with Line set to the line being read and Text empty; it is not
// counted in Imports.Malformed.
type ParseError struct {
	Line int    `json:"line"`
	Text string `json:"text,omitempty"`
	Msg  string `json:"msg"`
}

func (e ParseError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
	}
	return fmt.Sprintf("line %d: %s: %q", e.Line, e.Msg, e.Text)
}

// Parse reads an import profile, possibly interleaved with other output, and
// returns every module it lists, sorted by cumulative time (descending; ties
// keep input order). TotalUS is the sum of the self times (saturating at
// MaxInt64). It never fails as a whole: malformed lines are counted in
// Malformed and returned as ParseErrors, and a read error ends the input.
// A nil reader is empty input.
func Parse(r io.Reader) (*result.Imports, []ParseError) {
	im := &result.Imports{Modules: []result.Module{}}
	if r == nil {
		return im, nil
	}
	var errs []ParseError
	br := bufio.NewReaderSize(r, 4096)
	for n := 1; ; n++ {
		line, tooLong, err := readLine(br)
		if len(line) > 0 || tooLong || err == nil {
			if m, ok, msg := parseLine(line, tooLong); msg != "" {
				im.Malformed++
				errs = append(errs, ParseError{Line: n, Text: clip(line), Msg: msg})
			} else if ok {
				im.Modules = append(im.Modules, m)
				im.TotalUS = addSat(im.TotalUS, m.SelfUS)
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				errs = append(errs, ParseError{Line: n, Msg: "read error: " + err.Error()})
			}
			break
		}
	}
	sortModules(im.Modules)
	return im, errs
}

// Top returns a copy of the n modules with the largest cumulative time, in
// descending order (ties keep their order in im.Modules). It does not assume
// im.Modules is sorted. n <= 0 or a nil im gives nil.
func Top(im *result.Imports, n int) []result.Module {
	if im == nil || n <= 0 || len(im.Modules) == 0 {
		return nil
	}
	ms := append([]result.Module(nil), im.Modules...)
	sortModules(ms)
	if n < len(ms) {
		ms = ms[:n:n]
	}
	return ms
}

func sortModules(ms []result.Module) {
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].CumulativeUS > ms[j].CumulativeUS })
}

// readLine returns the next line without its "\n" (and "\r\n"). A line longer
// than maxLine is returned cut to maxLine bytes with tooLong set; the rest of
// it is consumed. err is io.EOF after the last line.
func readLine(br *bufio.Reader) (line string, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, e := br.ReadSlice('\n')
		if e == nil {
			chunk = chunk[:len(chunk)-1] // the '\n'
		}
		if room := maxLine - len(buf); len(chunk) > room {
			buf = append(buf, chunk[:room]...)
			tooLong = true
		} else {
			buf = append(buf, chunk...)
		}
		if e == bufio.ErrBufferFull {
			continue
		}
		err = e
		break
	}
	return strings.TrimSuffix(string(buf), "\r"), tooLong, err
}

// parseLine parses one line. ok reports an import line; msg is non-empty for a
// malformed one. Other lines (not ours, the header, "cached") give neither.
func parseLine(line string, tooLong bool) (m result.Module, ok bool, msg string) {
	rest, found := strings.CutPrefix(line, Prefix)
	if !found {
		return m, false, ""
	}
	if tooLong {
		return m, false, fmt.Sprintf("line longer than %d bytes", maxLine)
	}
	fields := strings.SplitN(rest, "|", 3)
	if len(fields) != 3 {
		if strings.HasPrefix(strings.TrimSpace(rest), "self [us]") {
			return m, false, "" // header, even if cut short
		}
		return m, false, fmt.Sprintf("want 3 fields separated by '|', got %d", len(fields))
	}
	selfF, cumF := strings.TrimSpace(fields[0]), strings.TrimSpace(fields[1])
	if selfF == "self [us]" && cumF == "cumulative" {
		return m, false, "" // header
	}
	if selfF == "cached" && cumF == "cached" {
		return m, false, "" // -X importtime=2: already loaded, not an import
	}
	var err error
	if m.SelfUS, err = micros(selfF); err != nil {
		return m, false, "self time: " + err.Error()
	}
	if m.CumulativeUS, err = micros(cumF); err != nil {
		return m, false, "cumulative time: " + err.Error()
	}
	// The name field is " " + 2*depth spaces + name.
	if strings.TrimSpace(fields[2]) == "" {
		return m, false, "empty module name"
	}
	nameF, found := strings.CutPrefix(fields[2], " ")
	if !found {
		return m, false, "no space after the second '|'"
	}
	name := strings.TrimLeft(nameF, " ")
	indent := len(nameF) - len(name)
	if indent%2 != 0 {
		return m, false, fmt.Sprintf("odd indentation (%d spaces)", indent)
	}
	name = strings.TrimRight(name, " \t")
	if name == "" {
		return m, false, "empty module name"
	}
	if strings.ContainsFunc(name, isBadNameRune) {
		return m, false, "module name contains whitespace or control characters"
	}
	m.Name = name
	m.Depth = indent / 2
	return m, true, ""
}

func micros(s string) (int64, error) {
	if s == "" {
		return 0, errors.New("empty")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("not a non-negative integer: %q", clip(s))
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("out of range: %q", clip(s))
	}
	return v, nil
}

func isBadNameRune(r rune) bool {
	return r < ' ' || r == 0x7f || r == '|' || unicode.IsSpace(r)
}

func addSat(a, b int64) int64 {
	if b > 0 && a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func clip(s string) string {
	if len(s) <= maxText {
		return s
	}
	// Do not split a UTF-8 sequence (which is at most 4 bytes long); in
	// invalid UTF-8, just cut.
	cut := maxText
	for cut > maxText-utf8.UTFMax+1 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
