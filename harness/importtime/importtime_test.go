package importtime

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/coldstart/coldstart/harness/result"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the parser's output")

// golden is what a testdata/NAME.golden.json holds for testdata/NAME.txt.
type golden struct {
	Imports *result.Imports `json:"imports"`
	Errors  []ParseError    `json:"errors"`
}

// Captures: see testdata/README.md for how each was made.
func captures(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/*.txt: %v", err)
	}
	return files
}

func TestGolden(t *testing.T) {
	for _, file := range captures(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			im, errs := Parse(bytes.NewReader(data))
			checkInvariants(t, data, im, errs)
			got, err := json.MarshalIndent(golden{im, errs}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			gf := filepath.Join("testdata", name+".golden.json")
			if *update {
				if err := os.WriteFile(gf, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gf)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("parse of %s differs from %s (go test -update rewrites it)", file, gf)
			}
		})
	}
}

// TestRealCaptures checks the captured (non-synthetic) profiles: every
// "import time:" line but the header is a module, nothing is malformed.
func TestRealCaptures(t *testing.T) {
	for _, file := range captures(t) {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.HasPrefix(data, []byte("# SYNTHETIC")) {
			continue
		}
		im, errs := Parse(bytes.NewReader(data))
		if len(errs) != 0 || im.Malformed != 0 {
			t.Errorf("%s: %d malformed, errors %v", file, im.Malformed, errs)
		}
		var want int
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(l, Prefix) && !strings.Contains(l, "self [us]") {
				want++
			}
		}
		if len(im.Modules) != want || want < 100 {
			t.Errorf("%s: %d modules, want %d (and a real capture has > 100)", file, len(im.Modules), want)
		}
	}
}

// TestNesting checks depth parsing on a single-threaded capture: CPython
// prints a module after its children, and its cumulative time is its self
// time plus its children's cumulative times (each rounded up to 1 us).
func TestNesting(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "aiohttp_web.txt"))
	if err != nil {
		t.Fatal(err)
	}
	type pending struct {
		depth int
		cum   int64
	}
	var stack []pending // finished modules whose parent has not been seen yet
	checked := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		m, ok, msg := parseLine(sc.Text(), false)
		if msg != "" {
			t.Fatalf("%q: %s", sc.Text(), msg)
		}
		if !ok {
			continue
		}
		var sum int64
		var kids int64
		for len(stack) > 0 && stack[len(stack)-1].depth == m.Depth+1 {
			sum += stack[len(stack)-1].cum
			kids++
			stack = stack[:len(stack)-1]
		}
		if kids > 0 {
			checked++
			if d := m.CumulativeUS - m.SelfUS - sum; d < -kids-1 || d > kids+1 {
				t.Errorf("%s: cumulative %d != self %d + children %d (%d children)", m.Name, m.CumulativeUS, m.SelfUS, sum, kids)
			}
		} else if m.SelfUS != m.CumulativeUS {
			t.Errorf("%s: leaf with self %d != cumulative %d", m.Name, m.SelfUS, m.CumulativeUS)
		}
		stack = append(stack, pending{m.Depth, m.CumulativeUS})
	}
	if checked < 20 {
		t.Errorf("only %d modules with children", checked)
	}
}

func TestParseLine(t *testing.T) {
	tests := []struct {
		line string
		want result.Module
		ok   bool
		bad  bool
	}{
		{line: "import time:       324 |        324 |   _io", want: result.Module{Name: "_io", SelfUS: 324, CumulativeUS: 324, Depth: 1}, ok: true},
		{line: "import time:      1168 |     457935 | aiohttp.web", want: result.Module{Name: "aiohttp.web", SelfUS: 1168, CumulativeUS: 457935}, ok: true},
		{line: "import time: 1|2|       a.b", want: result.Module{Name: "a.b", SelfUS: 1, CumulativeUS: 2, Depth: 3}, ok: true},
		{line: "import time:         7 |          7 | crlf  ", want: result.Module{Name: "crlf", SelfUS: 7, CumulativeUS: 7}, ok: true},
		{line: "import time: self [us] | cumulative | imported package"},
		{line: "import time: self [us]"},
		{line: "import time:    cached |     cached |   encodings"},
		{line: "INFO: started"},
		{line: " import time:  1 |  1 | indented.prefix"},
		{line: ""},
		{line: "import time:", bad: true},
		{line: "import time:  1 |  1", bad: true},
		{line: "import time:  x |  1 | a", bad: true},
		{line: "import time:  1 | -1 | a", bad: true},
		{line: "import time:  +1 | 1 | a", bad: true},
		{line: "import time:  |  1 | a", bad: true},
		{line: "import time:  1 |  1 |  a", bad: true},
		{line: "import time:  1 |  1 |a", bad: true},
		{line: "import time:  1 |  1 | ", bad: true},
		{line: "import time:  1 |  1 | a b", bad: true},
		{line: "import time:  1 |  1 | a|b", bad: true},
		{line: "import time:  1 |  1 | a\x00", bad: true},
		{line: "import time:  1 |  1 | \ta", bad: true},
		{line: "import time:  cached |  1 | a", bad: true},
		{line: "import time:  99999999999999999999 |  1 | a", bad: true},
	}
	for _, tt := range tests {
		m, ok, msg := parseLine(tt.line, false)
		if ok != tt.ok || (msg != "") != tt.bad || (ok && m != tt.want) {
			t.Errorf("parseLine(%q) = %+v, %v, %q; want %+v, ok=%v, malformed=%v", tt.line, m, ok, msg, tt.want, tt.ok, tt.bad)
		}
	}
}

func TestParseInterleaved(t *testing.T) {
	in := "hello\n" +
		"import time: self [us] | cumulative | imported package\n" +
		"import time:        10 |         10 |   b\r\n" +
		"import time: oops\n" +
		"import time:         5 |         15 | a\n" +
		"import time:         1 |         15 | c" // no final newline, ties with a
	im, errs := Parse(strings.NewReader(in))
	want := &result.Imports{
		TotalUS: 16,
		Modules: []result.Module{
			{Name: "a", SelfUS: 5, CumulativeUS: 15},
			{Name: "c", SelfUS: 1, CumulativeUS: 15},
			{Name: "b", SelfUS: 10, CumulativeUS: 10, Depth: 1},
		},
		Malformed: 1,
	}
	if !reflect.DeepEqual(im, want) {
		t.Errorf("got %+v\nwant %+v", im, want)
	}
	if len(errs) != 1 || errs[0].Line != 4 || errs[0].Text != "import time: oops" || errs[0].Msg == "" {
		t.Errorf("errors = %+v", errs)
	}
	if s := errs[0].Error(); !strings.Contains(s, "line 4") {
		t.Errorf("Error() = %q", s)
	}
}

func TestParseEmpty(t *testing.T) {
	for _, r := range []*strings.Reader{strings.NewReader(""), strings.NewReader("\n\n"), strings.NewReader("no profile here\n")} {
		im, errs := Parse(r)
		if im == nil || im.Modules == nil || len(im.Modules) != 0 || im.TotalUS != 0 || len(errs) != 0 {
			t.Errorf("got %+v, %v", im, errs)
		}
	}
	im, errs := Parse(nil)
	if im == nil || len(im.Modules) != 0 || errs != nil {
		t.Errorf("Parse(nil) = %+v, %v", im, errs)
	}
}

func TestLongLines(t *testing.T) {
	long := strings.Repeat("x", 3*maxLine)
	in := "noise " + long + "\n" +
		"import time: 1 | 1 | " + long + "\n" +
		"import time:         2 |          2 | after\n"
	im, errs := Parse(strings.NewReader(in))
	if len(im.Modules) != 1 || im.Modules[0].Name != "after" || im.Malformed != 1 || len(errs) != 1 || errs[0].Line != 2 {
		t.Fatalf("got %+v, %+v", im, errs)
	}
	if len(errs[0].Text) > maxText+3 {
		t.Errorf("error text not clipped: %d bytes", len(errs[0].Text))
	}
	// A line of exactly maxLine bytes is not too long.
	name := strings.Repeat("m", maxLine-len("import time: 1 | 1 | "))
	im, errs = Parse(strings.NewReader("import time: 1 | 1 | " + name + "\n"))
	if len(im.Modules) != 1 || len(errs) != 0 {
		t.Errorf("exact maxLine: %d modules, %v", len(im.Modules), errs)
	}
}

type failingReader struct{ r *strings.Reader }

func (f failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err != nil {
		return 0, errors.New("boom")
	}
	return n, nil
}

func TestReadError(t *testing.T) {
	im, errs := Parse(failingReader{strings.NewReader("import time: 1 | 1 | a\nimport time: 2 | 2 | b")})
	if len(im.Modules) != 2 || im.Malformed != 0 || len(errs) != 1 || !strings.Contains(errs[0].Msg, "boom") {
		t.Errorf("got %+v, %+v", im, errs)
	}
}

func TestSaturatingTotal(t *testing.T) {
	in := "import time: 9223372036854775807 | 9223372036854775807 | a\nimport time: 5 | 5 | b\n"
	im, errs := Parse(strings.NewReader(in))
	if im.TotalUS != math.MaxInt64 || len(errs) != 0 {
		t.Errorf("TotalUS = %d, %v", im.TotalUS, errs)
	}
}

func TestTop(t *testing.T) {
	im := &result.Imports{Modules: []result.Module{
		{Name: "small", CumulativeUS: 1},
		{Name: "big", CumulativeUS: 9},
		{Name: "mid", CumulativeUS: 5},
		{Name: "mid2", CumulativeUS: 5},
	}}
	got := Top(im, 3)
	names := []string{}
	for _, m := range got {
		names = append(names, m.Name)
	}
	if strings.Join(names, ",") != "big,mid,mid2" {
		t.Errorf("Top 3 = %v", names)
	}
	if im.Modules[0].Name != "small" {
		t.Errorf("Top reordered its input")
	}
	got[0].Name = "changed"
	if im.Modules[1].Name != "big" {
		t.Errorf("Top aliases its input")
	}
	if n := len(Top(im, 10)); n != 4 {
		t.Errorf("Top 10 of 4 = %d", n)
	}
	if Top(im, 0) != nil || Top(im, -1) != nil || Top(nil, 3) != nil || Top(&result.Imports{}, 3) != nil {
		t.Errorf("Top of nothing is not nil")
	}
}

// checkInvariants holds for any input.
func checkInvariants(t testing.TB, data []byte, im *result.Imports, errs []ParseError) {
	t.Helper()
	if im == nil || im.Modules == nil {
		t.Fatalf("nil result")
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	var total int64
	for i, m := range im.Modules {
		if m.Name == "" || m.SelfUS < 0 || m.CumulativeUS < 0 || m.Depth < 0 {
			t.Fatalf("bad module %+v", m)
		}
		if strings.ContainsAny(m.Name, " \t\r\n|") {
			t.Fatalf("bad name %q", m.Name)
		}
		if i > 0 && im.Modules[i-1].CumulativeUS < m.CumulativeUS {
			t.Fatalf("not sorted at %d", i)
		}
		if total > math.MaxInt64-m.SelfUS {
			total = math.MaxInt64
		} else {
			total += m.SelfUS
		}
	}
	if total != im.TotalUS {
		t.Fatalf("TotalUS %d != sum of self %d", im.TotalUS, total)
	}
	malformed := 0
	for _, e := range errs {
		if e.Line < 1 || e.Line > lines || e.Msg == "" {
			t.Fatalf("bad error %+v (input has %d lines)", e, lines)
		}
		if e.Text != "" {
			malformed++
			if !strings.HasPrefix(e.Text, Prefix) || len(e.Text) > maxText+3 {
				t.Fatalf("bad error text %q", e.Text)
			}
		}
	}
	if malformed != im.Malformed {
		t.Fatalf("Malformed %d but %d errors with text", im.Malformed, malformed)
	}
	if n := len(im.Modules) + im.Malformed; n > lines {
		t.Fatalf("%d modules + malformed from %d lines", n, lines)
	}
	if top := Top(im, 10); len(top) != min(10, len(im.Modules)) {
		t.Fatalf("Top(10) gave %d of %d", len(top), len(im.Modules))
	}
}

func FuzzParse(f *testing.F) {
	// Seeds are pieces of the real captures: whole files (30 KB) make every
	// execution and, above all, the minimization of new inputs slow. The
	// golden tests cover the whole files.
	for _, file := range captures(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		lines := bytes.SplitAfter(data, []byte("\n"))
		for i := 0; i < len(lines); i += 60 {
			f.Add(bytes.Join(lines[i:min(i+12, len(lines))], nil))
		}
	}
	f.Add([]byte("import time: 1 | 1 | a\r\nimport time: | |\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		im, errs := Parse(bytes.NewReader(data))
		checkInvariants(t, data, im, errs)
		// Parsing is deterministic and independent of how the input is split.
		im2, errs2 := Parse(iotest.OneByteReader(bytes.NewReader(data)))
		if !reflect.DeepEqual(im, im2) || !reflect.DeepEqual(errs, errs2) {
			t.Fatalf("result depends on read sizes")
		}
	})
}
