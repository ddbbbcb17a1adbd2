// Package svgplot draws the HTML report's plots as small, deterministic SVG:
// linear axes with 1-2-5 ticks (or rows of categories), steps, points, rects,
// rules, a legend, and a censored band beyond a bound where values known only
// to exceed it (+Inf) are drawn instead of dropped.
//
// Our own writer rather than gonum.org/v1/plot: the report needs a class, a
// hover <title> and a text alternative on marks, a censored band, and output
// that is byte-stable for golden files; gonum's vg.Canvas draws paths and
// strings only (no per-element class, title or aria), so those would be
// post-processed into its output. This is a few hundred lines with no
// dependency, and the page's stylesheet colours it.
//
// Nothing here is random or time-dependent: the same chart renders to the
// same bytes. Element ids are the chart's ID plus a fixed suffix.
package svgplot

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Axis is one axis of a chart: a linear domain [Min, Max] or, when
// Categories is set, one row per category (first on top, y axis only).
type Axis struct {
	Label string // with its unit, e.g. "ready_ms (ms)"
	Min   float64
	Max   float64
	// Ticks overrides the 1-2-5 ticks; a non-nil empty slice draws none.
	Ticks  []float64
	Format func(float64) string // tick labels; nil: as many decimals as the tick step needs
	// Cut, when not 0 and inside (Min, Max), censors the axis: values beyond it are known only to
	// exceed it. The region past Cut is drawn as a hatched band labelled
	// CutLabel, no tick is drawn in it, and +Inf maps to its middle.
	Cut      float64
	CutLabel string
	// Categories make a band axis: category i is centred on the value i and
	// the domain is [-0.5, len-0.5].
	Categories []string
}

// Censored reports whether the axis has a censored band.
func (a *Axis) Censored() bool { return a.Cut != 0 && a.Cut > a.Min && a.Cut < a.Max }

// Chart is one plot. Build it, add marks, then call SVG.
type Chart struct {
	ID     string // unique in the page; prefixes every id inside
	Title  string
	Note   string // a short remark at the top right (e.g. a bound off the scale)
	Desc   string // the text alternative: what the plot shows, in words
	Width  float64
	Height float64
	X, Y   Axis
	Legend []LegendItem
	marks  []Mark
}

// LegendItem names the class of a kind of mark, drawn as a swatch or, for
// Line, a short stroke.
type LegendItem struct {
	Class, Label string
	Line         bool
}

// Mark is something drawn in the plot area.
type Mark interface {
	draw(b *strings.Builder, f *frame)
}

// Add appends marks; they are drawn in order, over the grid.
func (c *Chart) Add(m ...Mark) { c.marks = append(c.marks, m...) }

// Layout constants in SVG user units (the page scales the viewBox).
const (
	fontSize   = 11.0
	charWidth  = 6.2 // average advance of an 11-unit sans-serif character
	titleSpace = 24.0
	legendRow  = 16.0
	maxLabel   = 28 // category labels longer than this are shortened (full text in their <title>)
)

// frame maps data to pixels for one rendering.
type frame struct {
	id                     string
	left, right, top, bot  float64
	x, y                   *Axis
	xScale, yScale         Linear
	xBandFrom, yBandFrom   float64 // pixel where a censored band starts, NaN if none
	xBandMid, yBandMid     float64
	width, height, plotTop float64
}

// X maps a data value on the x axis to a pixel; +Inf lands in the middle of
// a censored band (or at the right edge without one).
func (f *frame) X(v float64) float64 {
	if math.IsInf(v, 1) {
		if !math.IsNaN(f.xBandFrom) {
			return f.xBandMid
		}
		return f.right
	}
	return clamp(f.xScale.Map(v), f.left, f.right)
}

// Y maps a data value on the y axis to a pixel (up is larger).
func (f *frame) Y(v float64) float64 {
	if math.IsInf(v, 1) {
		if !math.IsNaN(f.yBandFrom) {
			return f.yBandMid
		}
		return f.top
	}
	return clamp(f.yScale.Map(v), f.top, f.bot)
}

func clamp(v, lo, hi float64) float64 {
	if lo > hi {
		lo, hi = hi, lo
	}
	return math.Max(lo, math.Min(hi, v))
}

// Linear maps the domain [D0, D1] onto the range [R0, R1].
type Linear struct{ D0, D1, R0, R1 float64 }

// Map returns the pixel of v; a degenerate domain maps to the range's middle.
func (s Linear) Map(v float64) float64 {
	if s.D1 == s.D0 {
		return (s.R0 + s.R1) / 2
	}
	return s.R0 + (v-s.D0)/(s.D1-s.D0)*(s.R1-s.R0)
}

// TickStep returns a round tick step (1, 2 or 5 times a power of ten) that cuts
// [lo, hi] into about n intervals: the round step nearest span/n on a log
// scale (the rule of d3's ticks).
func TickStep(lo, hi float64, n int) float64 {
	span := hi - lo
	if !(span > 0) || n < 1 || math.IsInf(span, 0) {
		return 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	switch e := raw / p; {
	case e >= math.Sqrt(50):
		return 10 * p
	case e >= math.Sqrt(10):
		return 5 * p
	case e >= math.Sqrt(2):
		return 2 * p
	}
	return p
}

// Nice widens [lo, hi] outward to multiples of TickStep(lo, hi, n). An empty
// or inverted interval becomes [lo, lo+1].
func Nice(lo, hi float64, n int) (float64, float64) {
	if !(hi > lo) {
		return lo, lo + 1
	}
	s := TickStep(lo, hi, n)
	return math.Floor(lo/s+1e-9) * s, math.Ceil(hi/s-1e-9) * s
}

// Ticks returns the multiples of TickStep(lo, hi, n) inside [lo, hi], rounded
// to the step's precision so that 0.1+0.2 prints as 0.3.
func Ticks(lo, hi float64, n int) []float64 {
	if !(hi > lo) {
		return []float64{lo}
	}
	s := TickStep(lo, hi, n)
	d := decimals(s)
	var t []float64
	for i := math.Ceil(lo/s - 1e-9); ; i++ {
		v := roundTo(i*s, d)
		if v == 0 { // no "-0"
			v = 0
		}
		if v > hi+s*1e-9 {
			break
		}
		t = append(t, v)
	}
	return t
}

// decimals is how many decimals print v exactly (at most 9): 0.25 needs 2.
func decimals(v float64) int {
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return 0
	}
	s := strconv.FormatFloat(math.Abs(v), 'f', -1, 64)
	if i := strings.IndexByte(s, '.'); i >= 0 {
		return min(len(s)-i-1, 9)
	}
	return 0
}

func roundTo(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// tickLabels formats ticks with the axis's Format or the step's precision.
func (a *Axis) tickLabels(ticks []float64) []string {
	out := make([]string, len(ticks))
	d := 0
	for _, v := range ticks {
		d = max(d, decimals(v))
	}
	for i, v := range ticks {
		if a.Format != nil {
			out[i] = a.Format(v)
		} else {
			out[i] = strconv.FormatFloat(v, 'f', d, 64)
		}
	}
	return out
}

func (a *Axis) ticks(n int) []float64 {
	if a.Categories != nil {
		t := make([]float64, len(a.Categories))
		for i := range t {
			t[i] = float64(i)
		}
		return t
	}
	t := a.Ticks
	if t == nil {
		hi := a.Max
		if a.Censored() {
			hi = a.Cut
		}
		t = Ticks(a.Min, hi, n)
	}
	var in []float64
	for _, v := range t {
		if v >= a.Min-1e-9 && v <= a.Max+1e-9 && !(a.Censored() && v > a.Cut) {
			in = append(in, v)
		}
	}
	return in
}

func (a *Axis) domain() (float64, float64) {
	if a.Categories != nil {
		return -0.5, float64(len(a.Categories)) - 0.5
	}
	if !(a.Max > a.Min) {
		return a.Min, a.Min + 1
	}
	return a.Min, a.Max
}

// SVG renders the chart. The root carries role="img" and aria-labelledby
// pointing at its <title> and <desc>.
func (c *Chart) SVG() string {
	w, h := c.Width, c.Height
	if w <= 0 {
		w = 560
	}
	if h <= 0 {
		h = 300
	}
	yTicks := c.Y.ticks(5)
	yLabels := c.Y.tickLabels(yTicks)
	if c.Y.Categories != nil {
		yLabels = make([]string, len(c.Y.Categories))
		for i, s := range c.Y.Categories {
			yLabels[i] = shorten(Clean(s), maxLabel)
		}
	}
	widest := 0
	for _, l := range yLabels {
		widest = max(widest, len([]rune(l)))
	}
	f := &frame{id: c.ID, x: &c.X, y: &c.Y, width: w, height: h}
	f.left = 14 + float64(widest)*charWidth + 8
	if c.Y.Label != "" {
		f.left += 16
	}
	f.right = w - 14
	f.plotTop = titleSpace
	if len(c.Legend) > 0 {
		f.plotTop += legendRow * float64(legendLines(c.Legend, w))
	}
	if c.Note != "" {
		f.plotTop += 12
	}
	f.top = f.plotTop + 8
	f.bot = h - 42
	if c.X.Label == "" {
		f.bot = h - 26
	}
	x0, x1 := c.X.domain()
	y0, y1 := c.Y.domain()
	f.xScale = Linear{x0, x1, f.left, f.right}
	if c.Y.Categories != nil {
		f.yScale = Linear{y0, y1, f.top, f.bot} // first category on top
	} else {
		f.yScale = Linear{y0, y1, f.bot, f.top}
	}
	f.xBandFrom, f.yBandFrom = math.NaN(), math.NaN()
	// In a censored band, values beyond the bound sit in its first part and
	// its label in the rest, so that neither hides the other.
	if c.X.Censored() {
		f.xBandFrom = f.xScale.Map(c.X.Cut)
		f.xBandMid = f.xBandFrom + 0.36*(f.right-f.xBandFrom)
	}
	if c.Y.Censored() && c.Y.Categories == nil {
		f.yBandFrom = f.yScale.Map(c.Y.Cut)
		f.yBandMid = f.yBandFrom - 0.3*(f.yBandFrom-f.top)
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="plot" id="%s" viewBox="0 0 %s %s" role="img" aria-labelledby="%s-title %s-desc">`,
		attr(c.ID), n(w), n(h), attr(c.ID), attr(c.ID))
	b.WriteByte('\n')
	fmt.Fprintf(&b, "<title id=\"%s-title\">%s</title>\n<desc id=\"%s-desc\">%s</desc>\n", attr(c.ID), text(c.Title), attr(c.ID), text(c.Desc))
	fmt.Fprintf(&b, `<text class="title" x="8" y="16">%s</text>`+"\n", text(c.Title))
	if c.Note != "" {
		fmt.Fprintf(&b, `<text class="note" x="%s" y="%s" text-anchor="end">%s</text>`+"\n", n(w-14), n(f.plotTop+2), text(c.Note))
	}
	c.legend(&b, f)
	c.bands(&b, f)
	c.grid(&b, f, yTicks, yLabels)
	b.WriteString("<g class=\"marks\">\n")
	for _, m := range c.marks {
		m.draw(&b, f)
	}
	b.WriteString("</g>\n")
	c.bandLabels(&b, f)
	b.WriteString("</svg>")
	return b.String()
}

func legendLines(items []LegendItem, w float64) int {
	lines, x := 1, 0.0
	for _, it := range items {
		iw := 18 + float64(len([]rune(it.Label)))*charWidth + 14
		if x > 0 && x+iw > w-28 {
			lines++
			x = 0
		}
		x += iw
	}
	return lines
}

func (c *Chart) legend(b *strings.Builder, f *frame) {
	if len(c.Legend) == 0 {
		return
	}
	b.WriteString("<g class=\"legend\">\n")
	x, y := 8.0, titleSpace+4
	for _, it := range c.Legend {
		iw := 18 + float64(len([]rune(it.Label)))*charWidth + 14
		if x > 8 && x+iw > f.width-14 {
			x = 8
			y += legendRow
		}
		if it.Line {
			fmt.Fprintf(b, `<line class="%s" x1="%s" y1="%s" x2="%s" y2="%s"/>`, attr(it.Class), n(x), n(y+4.5), n(x+12), n(y+4.5))
		} else {
			fmt.Fprintf(b, `<rect class="%s" x="%s" y="%s" width="12" height="9"/>`, attr(it.Class), n(x), n(y))
		}
		fmt.Fprintf(b, `<text x="%s" y="%s">%s</text>`+"\n", n(x+16), n(y+8.5), text(it.Label))
		x += iw
	}
	b.WriteString("</g>\n")
}

// bands draws the censored regions under everything else.
func (c *Chart) bands(b *strings.Builder, f *frame) {
	if !math.IsNaN(f.xBandFrom) || !math.IsNaN(f.yBandFrom) {
		fmt.Fprintf(b, `<defs><pattern id="%s-hatch" patternUnits="userSpaceOnUse" width="6" height="6" patternTransform="rotate(45)"><rect class="hatch-bg" width="6" height="6"/><line class="hatch" x1="0" y1="0" x2="0" y2="6"/></pattern></defs>`+"\n", attr(c.ID))
	}
	if !math.IsNaN(f.xBandFrom) {
		fmt.Fprintf(b, `<rect class="censored" x="%s" y="%s" width="%s" height="%s" fill="url(#%s-hatch)"/>`+"\n",
			n(f.xBandFrom), n(f.top), n(f.right-f.xBandFrom), n(f.bot-f.top), attr(c.ID))
	}
	if !math.IsNaN(f.yBandFrom) {
		fmt.Fprintf(b, `<rect class="censored" x="%s" y="%s" width="%s" height="%s" fill="url(#%s-hatch)"/>`+"\n",
			n(f.left), n(f.top), n(f.right-f.left), n(f.yBandFrom-f.top), attr(c.ID))
	}
}

// bandLabels writes the censored bands' labels over the marks.
func (c *Chart) bandLabels(b *strings.Builder, f *frame) {
	if !math.IsNaN(f.xBandFrom) && c.X.CutLabel != "" {
		// Vertical text reads best in a narrow band.
		x, y := f.xBandFrom+0.72*(f.right-f.xBandFrom)+4, (f.top+f.bot)/2
		fmt.Fprintf(b, `<text class="band-label" x="%s" y="%s" text-anchor="middle" transform="rotate(-90 %s %s)">%s</text>`+"\n",
			n(x), n(y), n(x), n(y), text(c.X.CutLabel))
	}
	if !math.IsNaN(f.yBandFrom) && c.Y.CutLabel != "" {
		fmt.Fprintf(b, `<text class="band-label" x="%s" y="%s" text-anchor="middle">%s</text>`+"\n",
			n((f.left+f.right)/2), n(f.top+11), text(c.Y.CutLabel))
	}
}

func (c *Chart) grid(b *strings.Builder, f *frame, yTicks []float64, yLabels []string) {
	b.WriteString("<g class=\"axes\">\n")
	xTicks := c.X.ticks(max(2, int((f.right-f.left)/70)))
	for i, l := range c.X.tickLabels(xTicks) {
		x := f.X(xTicks[i])
		fmt.Fprintf(b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="tick" x="%s" y="%s" text-anchor="middle">%s</text>`+"\n",
			n(x), n(f.top), n(x), n(f.bot), n(x), n(f.bot+14), text(l))
	}
	for i, l := range yLabels {
		y := f.Y(yTicks[i])
		if c.Y.Categories != nil {
			fmt.Fprintf(b, `<text class="tick cat" x="%s" y="%s" text-anchor="end">%s<title>%s</title></text>`+"\n",
				n(f.left-6), n(y+3.5), text(l), text(c.Y.Categories[i]))
			continue
		}
		fmt.Fprintf(b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/><text class="tick" x="%s" y="%s" text-anchor="end">%s</text>`+"\n",
			n(f.left), n(y), n(f.right), n(y), n(f.left-6), n(y+3.5), text(l))
	}
	fmt.Fprintf(b, `<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/><line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n",
		n(f.left), n(f.bot), n(f.right), n(f.bot), n(f.left), n(f.top), n(f.left), n(f.bot))
	if c.X.Label != "" {
		fmt.Fprintf(b, `<text class="label" x="%s" y="%s" text-anchor="middle">%s</text>`+"\n", n((f.left+f.right)/2), n(f.height-8), text(c.X.Label))
	}
	if c.Y.Label != "" {
		x, y := 12.0, (f.top+f.bot)/2
		fmt.Fprintf(b, `<text class="label" x="%s" y="%s" text-anchor="middle" transform="rotate(-90 %s %s)">%s</text>`+"\n",
			n(x), n(y), n(x), n(y), text(c.Y.Label))
	}
	b.WriteString("</g>\n")
}

// Step draws a step function: from each point horizontally to the next
// point's x, then vertically to its y (an ECDF when the points are
// (x_i, i/n)).
type Step struct {
	X, Y  []float64
	Class string
}

func (s Step) draw(b *strings.Builder, f *frame) {
	if len(s.X) == 0 {
		return
	}
	fmt.Fprintf(b, `<path class="%s" d="M%s %s`, attr(s.Class), n(f.X(s.X[0])), n(f.Y(s.Y[0])))
	for i := 1; i < len(s.X); i++ {
		fmt.Fprintf(b, " H%s V%s", n(f.X(s.X[i])), n(f.Y(s.Y[i])))
	}
	b.WriteString(`"/>` + "\n")
}

// Line joins points with straight segments.
type Line struct {
	X, Y  []float64
	Class string
}

func (l Line) draw(b *strings.Builder, f *frame) {
	if len(l.X) == 0 {
		return
	}
	fmt.Fprintf(b, `<path class="%s" d="M%s %s`, attr(l.Class), n(f.X(l.X[0])), n(f.Y(l.Y[0])))
	for i := 1; i < len(l.X); i++ {
		fmt.Fprintf(b, " L%s %s", n(f.X(l.X[i])), n(f.Y(l.Y[i])))
	}
	b.WriteString(`"/>` + "\n")
}

// Points draws a circle per point; Titles, when set, are their hover texts.
// A point at +Inf on an axis with a censored band is drawn in the band as a
// triangle pointing beyond the bound.
type Points struct {
	X, Y   []float64
	Titles []string
	Class  string
	R      float64 // radius, default 3
}

func (p Points) draw(b *strings.Builder, f *frame) {
	r := p.R
	if r <= 0 {
		r = 3
	}
	fmt.Fprintf(b, `<g class="%s">`+"\n", attr(p.Class))
	for i := range p.X {
		x, y := f.X(p.X[i]), f.Y(p.Y[i])
		title := ""
		if i < len(p.Titles) && p.Titles[i] != "" {
			title = "<title>" + text(p.Titles[i]) + "</title>"
		}
		switch {
		case math.IsInf(p.X[i], 1):
			fmt.Fprintf(b, `<path class="beyond" d="M%s %s l%s %s v%s z">%s</path>`+"\n", n(x+r), n(y), n(-2*r), n(-r), n(2*r), title)
		case math.IsInf(p.Y[i], 1):
			fmt.Fprintf(b, `<path class="beyond" d="M%s %s l%s %s h%s z">%s</path>`+"\n", n(x), n(y-r), n(r), n(2*r), n(-2*r), title)
		default:
			fmt.Fprintf(b, `<circle cx="%s" cy="%s" r="%s">%s</circle>`+"\n", n(x), n(y), n(r), title)
		}
	}
	b.WriteString("</g>\n")
}

// Above marks values known only to exceed a bound (a censored statistic
// drawn at its bound): an upward triangle at (X, Y) with a short stem above
// it, pointing where the true value lies.
type Above struct {
	X, Y   []float64
	Titles []string
	Class  string
	R      float64 // half the triangle's width, default 4
}

func (a Above) draw(b *strings.Builder, f *frame) {
	r := a.R
	if r <= 0 {
		r = 4
	}
	fmt.Fprintf(b, `<g class="%s">`+"\n", attr(a.Class))
	for i := range a.X {
		x, y := f.X(a.X[i]), f.Y(a.Y[i])
		title := ""
		if i < len(a.Titles) && a.Titles[i] != "" {
			title = "<title>" + text(a.Titles[i]) + "</title>"
		}
		fmt.Fprintf(b, `<path class="above" d="M%s %s L%s %s L%s %s Z M%s %s V%s">%s</path>`+"\n",
			n(x-r), n(y+r*0.8), n(x), n(y-r), n(x+r), n(y+r*0.8), n(x), n(y-r), n(y-2.6*r), title)
	}
	b.WriteString("</g>\n")
}

// Rect is a rectangle in data coordinates (a bar, a segment of a stacked
// bar, a bin). +Inf on either x bound reaches into the censored band.
type Rect struct {
	X0, X1, Y0, Y1 float64
	Class          string
	Title          string // hover text
}

func (r Rect) draw(b *strings.Builder, f *frame) {
	x0, x1 := f.X(r.X0), f.X(r.X1)
	y0, y1 := f.Y(r.Y0), f.Y(r.Y1)
	if math.IsInf(r.X1, 1) && !math.IsNaN(f.xBandFrom) {
		x1 = f.right - 2
	}
	if x1 < x0 {
		x0, x1 = x1, x0
	}
	if y1 < y0 {
		y0, y1 = y1, y0
	}
	wd := math.Max(x1-x0, 0.6) // a zero-width segment stays visible as a hairline
	fmt.Fprintf(b, `<rect class="%s" x="%s" y="%s" width="%s" height="%s">`, attr(r.Class), n(x0), n(y0), n(wd), n(math.Max(y1-y0, 0)))
	if r.Title != "" {
		b.WriteString("<title>" + text(r.Title) + "</title>")
	}
	b.WriteString("</rect>\n")
}

// VRule is a vertical line across the plot at X, labelled at its top.
type VRule struct {
	X     float64
	Label string
	Class string
}

func (v VRule) draw(b *strings.Builder, f *frame) {
	x := f.X(v.X)
	fmt.Fprintf(b, `<line class="%s" x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n", attr(v.Class), n(x), n(f.top-4), n(x), n(f.bot))
	if v.Label != "" {
		anchor, dx := "end", -3.0
		if x-f.left < float64(len([]rune(v.Label)))*charWidth {
			anchor, dx = "start", 3
		}
		fmt.Fprintf(b, `<text class="rule-label %s" x="%s" y="%s" text-anchor="%s">%s</text>`+"\n", attr(v.Class), n(x+dx), n(f.top+6), anchor, text(v.Label))
	}
}

// HRule is a horizontal line across the plot at Y, labelled at its left end
// (the right may be a censored band).
type HRule struct {
	Y     float64
	Label string
	Class string
}

func (h HRule) draw(b *strings.Builder, f *frame) {
	y := f.Y(h.Y)
	fmt.Fprintf(b, `<line class="%s" x1="%s" y1="%s" x2="%s" y2="%s"/>`+"\n", attr(h.Class), n(f.left), n(y), n(f.right), n(y))
	if h.Label != "" {
		fmt.Fprintf(b, `<text class="rule-label %s" x="%s" y="%s">%s</text>`+"\n", attr(h.Class), n(f.left+3), n(y-3), text(h.Label))
	}
}

// Text is a label at a data position.
type Text struct {
	X, Y   float64
	S      string
	Class  string
	Anchor string // start (default), middle or end
	DX, DY float64
}

func (t Text) draw(b *strings.Builder, f *frame) {
	anchor := t.Anchor
	if anchor == "" {
		anchor = "start"
	}
	fmt.Fprintf(b, `<text class="%s" x="%s" y="%s" text-anchor="%s">%s</text>`+"\n", attr(t.Class), n(f.X(t.X)+t.DX), n(f.Y(t.Y)+t.DY), anchor, text(t.S))
}

// n formats a pixel coordinate with one decimal: enough for a screen, and
// short, stable output.
func n(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	v = math.Round(v*10) / 10
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// text escapes character data (after Clean).
func text(s string) string { return escape(Clean(s)) }

// attr escapes an attribute value (after Clean).
func attr(s string) string { return escape(Clean(s)) }

func escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&#34;")
		case '\'':
			b.WriteString("&#39;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func shorten(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-1]) + "…"
}
