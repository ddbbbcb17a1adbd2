package svgplot

import (
	"encoding/xml"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestLinear(t *testing.T) {
	s := Linear{D0: 0, D1: 100, R0: 50, R1: 250}
	for v, want := range map[float64]float64{0: 50, 50: 150, 100: 250, -10: 30, 110: 270} {
		if got := s.Map(v); got != want {
			t.Errorf("Map(%v) = %v, want %v", v, got, want)
		}
	}
	inv := Linear{D0: 0, D1: 1, R0: 200, R1: 0} // a y axis: up is smaller
	if got := inv.Map(0.25); got != 150 {
		t.Errorf("inverted Map(0.25) = %v", got)
	}
	if got := (Linear{D0: 5, D1: 5, R0: 0, R1: 10}).Map(5); got != 5 {
		t.Errorf("degenerate domain maps to %v, want the middle", got)
	}
}

func TestTickStep(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		n      int
		want   float64
	}{
		{0, 100, 5, 20}, {0, 100, 10, 10}, {0, 3000, 6, 500}, {0, 450, 24, 20}, {0, 3000, 30, 100},
		{0, 1, 4, 0.2}, {0, 1, 5, 0.2}, {0, 0.07, 5, 0.01}, {-20, 480, 5, 100},
		{0, 0, 5, 1}, {3, 1, 5, 1}, {0, math.Inf(1), 5, 1},
	} {
		if got := TickStep(c.lo, c.hi, c.n); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("TickStep(%v, %v, %d) = %v, want %v", c.lo, c.hi, c.n, got, c.want)
		}
	}
}

func TestNice(t *testing.T) {
	for _, c := range []struct{ lo, hi, wlo, whi float64 }{
		{0, 433, 0, 500}, {0, 415.7, 0, 500}, {12, 97, 0, 100}, {0, 1, 0, 1}, {-23, 480, -100, 500}, {5, 5, 5, 6},
	} {
		lo, hi := Nice(c.lo, c.hi, 5)
		if lo != c.wlo || hi != c.whi {
			t.Errorf("Nice(%v, %v) = [%v, %v], want [%v, %v]", c.lo, c.hi, lo, hi, c.wlo, c.whi)
		}
	}
}

func TestTicks(t *testing.T) {
	for _, c := range []struct {
		lo, hi float64
		n      int
		want   []float64
	}{
		{0, 3000, 6, []float64{0, 500, 1000, 1500, 2000, 2500, 3000}},
		{0, 0.3, 3, []float64{0, 0.1, 0.2, 0.3}}, // no 0.30000000000000004
		{-23, 480, 5, []float64{0, 100, 200, 300, 400}},
		{-0.5, 0.5, 2, []float64{-0.5, 0, 0.5}}, // 0, not -0
		{7, 7, 5, []float64{7}},
	} {
		got := Ticks(c.lo, c.hi, c.n)
		if !slices.Equal(got, c.want) {
			t.Errorf("Ticks(%v, %v, %d) = %v, want %v", c.lo, c.hi, c.n, got, c.want)
		}
		for _, v := range got {
			if math.Signbit(v) && v == 0 {
				t.Errorf("Ticks(%v, %v): -0", c.lo, c.hi)
			}
		}
	}
}

func TestTickLabels(t *testing.T) {
	for _, c := range []struct {
		ticks []float64
		want  []string
	}{
		{[]float64{0, .25, .5, .75, 1}, []string{"0.00", "0.25", "0.50", "0.75", "1.00"}},
		{[]float64{0, 500, 1000}, []string{"0", "500", "1000"}},
		{[]float64{0, 0.1, 0.2}, []string{"0.0", "0.1", "0.2"}},
	} {
		a := Axis{}
		if got := a.tickLabels(c.ticks); !slices.Equal(got, c.want) {
			t.Errorf("tickLabels(%v) = %v, want %v", c.ticks, got, c.want)
		}
	}
	a := Axis{Format: func(v float64) string { return strconv.Itoa(int(v)) + " ms" }}
	if got := a.tickLabels([]float64{5}); got[0] != "5 ms" {
		t.Errorf("Format not used: %v", got)
	}
}

var (
	tickText = regexp.MustCompile(`<text class="tick"[^>]*>([^<]*)</text>`)
	attrNum  = func(s, name string) float64 {
		m := regexp.MustCompile(` ` + name + `="([-0-9.]+)"`).FindStringSubmatch(s)
		if m == nil {
			return math.NaN()
		}
		v, _ := strconv.ParseFloat(m[1], 64)
		return v
	}
)

// A censored x axis: no tick beyond the bound, a hatched band from the
// bound to the edge with its label, and +Inf drawn inside the band, not
// dropped and not at a made-up value.
func TestCensoredX(t *testing.T) {
	c := &Chart{ID: "c", Title: "t", Desc: "d", Width: 500, Height: 300,
		X: Axis{Label: "ms", Min: 0, Max: 3420, Cut: 3000, CutLabel: "2 missed: > 3000 ms"},
		Y: Axis{Min: 0, Max: 1}}
	c.Add(Points{X: []float64{100, math.Inf(1), math.Inf(1)}, Y: []float64{0.2, 0.6, 1}, Class: "p"})
	svg := c.SVG()
	var labels []string
	for _, m := range tickText.FindAllStringSubmatch(svg, -1) {
		labels = append(labels, m[1])
	}
	for _, l := range labels {
		if v, err := strconv.ParseFloat(l, 64); err == nil && v > 3000 {
			t.Errorf("tick %s beyond the censoring bound", l)
		}
	}
	if !slices.Contains(labels, "3000") {
		t.Errorf("no tick at the bound: %v", labels)
	}
	band := regexp.MustCompile(`<rect class="censored"[^>]*>`).FindString(svg)
	if band == "" || !strings.Contains(band, `fill="url(#c-hatch)"`) || !strings.Contains(svg, `<pattern id="c-hatch"`) {
		t.Fatalf("no hatched band: %s", svg)
	}
	bx, bw := attrNum(band, "x"), attrNum(band, "width")
	if right := 500.0 - 14; math.Abs(bx+bw-right) > 0.11 {
		t.Errorf("band ends at %v, want the plot's right edge %v", bx+bw, right)
	}
	if !strings.Contains(svg, ">2 missed: &gt; 3000 ms</text>") {
		t.Error("band label missing or unescaped")
	}
	beyond := regexp.MustCompile(`<path class="beyond" d="M([-0-9.]+) `).FindAllStringSubmatch(svg, -1)
	if len(beyond) != 2 {
		t.Fatalf("%d points drawn beyond the bound, want 2", len(beyond))
	}
	for _, m := range beyond {
		x, _ := strconv.ParseFloat(m[1], 64)
		if x < bx || x > bx+bw {
			t.Errorf("censored point at x=%v, outside the band [%v, %v]", x, bx, bx+bw)
		}
	}
	if n := strings.Count(svg, "<circle"); n != 1 {
		t.Errorf("%d circles, want the 1 uncensored point", n)
	}
}

// A censored y axis (ready time against something): the band is at the top.
func TestCensoredY(t *testing.T) {
	c := &Chart{ID: "y", Width: 400, Height: 300, X: Axis{Min: 0, Max: 10}, Y: Axis{Min: 0, Max: 3420, Cut: 3000, CutLabel: "1 missed"}}
	c.Add(Points{X: []float64{5}, Y: []float64{math.Inf(1)}})
	svg := c.SVG()
	band := regexp.MustCompile(`<rect class="censored"[^>]*>`).FindString(svg)
	by, bh := attrNum(band, "y"), attrNum(band, "height")
	m := regexp.MustCompile(`<path class="beyond" d="M([-0-9.]+) ([-0-9.]+) `).FindStringSubmatch(svg)
	if m == nil {
		t.Fatal("censored point not drawn")
	}
	tipY, _ := strconv.ParseFloat(m[2], 64)
	if tipY < by || tipY > by+bh {
		t.Errorf("censored point at y=%v, outside the band [%v, %v]", tipY, by, by+bh)
	}
}

// No censoring without a Cut, or with a Cut outside the domain.
func TestNotCensored(t *testing.T) {
	for _, ax := range []Axis{{Min: 0, Max: 10}, {Min: 0, Max: 10, Cut: 20}, {Min: -1, Max: 10}} {
		if ax.Censored() {
			t.Errorf("%+v censored", ax)
		}
		c := &Chart{ID: "n", X: ax, Y: Axis{Min: 0, Max: 1}}
		if strings.Contains(c.SVG(), "censored") {
			t.Errorf("%+v draws a band", ax)
		}
	}
}

func TestSVGWellFormedAndAccessible(t *testing.T) {
	c := &Chart{ID: "plot-1", Title: `a <b> & "c"`, Desc: "what it shows", Width: 560, Height: 300,
		X:      Axis{Label: "ready_ms (ms)", Min: 0, Max: 500},
		Y:      Axis{Categories: []string{"short", strings.Repeat("x", 60), "<evil>"}},
		Legend: []LegendItem{{Class: "a", Label: "one"}, {Class: "b", Label: "two"}}}
	c.Add(Rect{X0: 0, X1: 200, Y0: -0.3, Y1: 0.3, Class: "bar", Title: "t<1>"},
		VRule{X: 300, Label: "deadline", Class: "deadline"}, HRule{Y: 1, Label: "h"},
		Step{X: []float64{0, 100, 200}, Y: []float64{0, 1, 2}, Class: "s"}, Line{X: []float64{0, 500}, Y: []float64{0, 2}},
		Text{X: 10, Y: 1, S: "note & more"})
	svg := c.SVG()
	dec := xml.NewDecoder(strings.NewReader(svg))
	var root *xml.StartElement
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, svg)
		}
		if se, ok := tok.(xml.StartElement); ok && root == nil {
			root = &se
		}
	}
	attrs := map[string]string{}
	for _, a := range root.Attr {
		attrs[a.Name.Local] = a.Value
	}
	if root.Name.Local != "svg" || attrs["role"] != "img" || attrs["aria-labelledby"] != "plot-1-title plot-1-desc" || attrs["viewBox"] != "0 0 560 300" {
		t.Errorf("root %v %v", root.Name, attrs)
	}
	for _, want := range []string{`<title id="plot-1-title">a &lt;b&gt; &amp; &#34;c&#34;</title>`, `<desc id="plot-1-desc">what it shows</desc>`,
		`xxxxxxxxxxxxxxxxxxxxxxxxxxx…<title>` + strings.Repeat("x", 60) + `</title>`, "&lt;evil&gt;", "<title>t&lt;1&gt;</title>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("svg lacks %s", want)
		}
	}
	if svg != c.SVG() {
		t.Error("two renderings differ")
	}
	if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
		t.Error("NaN or Inf in the output")
	}
}

// Degenerate input draws a plot, not NaN: an empty domain, no marks, one value.
func TestDegenerate(t *testing.T) {
	for _, c := range []*Chart{
		{ID: "a", X: Axis{Min: 0, Max: 0}, Y: Axis{Min: 0, Max: 0}},
		{ID: "b", X: Axis{Min: 5, Max: 5}, Y: Axis{Categories: []string{}}},
		{ID: "c", X: Axis{Min: 0, Max: 1}, Y: Axis{Min: 0, Max: 1}},
	} {
		c.Add(Points{X: []float64{0}, Y: []float64{0}}, Step{}, Line{})
		svg := c.SVG()
		if strings.Contains(svg, "NaN") || strings.Contains(svg, "Inf") {
			t.Errorf("%s: NaN or Inf: %s", c.ID, svg)
		}
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain text":                        "plain text",
		"line\nnext\ttab":                   "line\nnext\ttab",
		"\x1b[1;31mred\x1b[0m":              "red",
		"osc \x1b]0;title\x07after":         "osc after",
		"bell\x07 nul\x00 cr\r del\x7f":     "bell nul cr del",
		"abc\u202edcba":                     "abcdcba",
		"\u2066iso\u2069 \u200eltr\u200f":   "iso ltr",
		"bad \xff utf8":                     "bad \uFFFD utf8",
		"lone esc \x1b":                     "lone esc ",
		"esc then \x1bMx":                   "esc then x",
		"c1 \u0085 next":                    "c1  next",
		"unicode ok: äöü – π → 日本":          "unicode ok: äöü – π → 日本",
		"csi broken \x1b[12\u00e9 continue": "csi broken \u00e9 continue",
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
	}
}

// A value known only to exceed its bound is drawn at the bound as a
// triangle pointing up (SVG y grows downward), with its hover text.
func TestAbove(t *testing.T) {
	c := &Chart{ID: "a", Width: 400, Height: 300, X: Axis{Min: 0, Max: 10}, Y: Axis{Min: 0, Max: 1000}}
	c.Add(HRule{Y: 500, Class: "h"}, VRule{X: 5, Class: "v"},
		Above{X: []float64{5}, Y: []float64{500}, Titles: []string{"p95 > 500 ms"}, Class: "cens"})
	svg := c.SVG()
	m := regexp.MustCompile(`<g class="cens">\n<path class="above" d="M([-0-9.]+) ([-0-9.]+) L([-0-9.]+) ([-0-9.]+) L[^"]*"><title>p95 &gt; 500 ms</title></path>`).FindStringSubmatch(svg)
	if m == nil {
		t.Fatalf("no triangle:\n%s", svg)
	}
	num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
	h := regexp.MustCompile(`<line class="h" x1="[-0-9.]+" y1="([-0-9.]+)"`).FindStringSubmatch(svg)
	v := regexp.MustCompile(`<line class="v" x1="([-0-9.]+)"`).FindStringSubmatch(svg)
	if h == nil || v == nil {
		t.Fatal("rules not drawn")
	}
	y, x := num(h[1]), num(v[1])
	if base, tipX, tipY := num(m[2]), num(m[3]), num(m[4]); tipX != x || tipY != y-4 || base != y+3.2 {
		t.Errorf("triangle base y %v, tip (%v, %v); the bound is at (%v, %v)", base, tipX, tipY, x, y)
	}
}
