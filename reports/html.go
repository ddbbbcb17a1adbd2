package reports

import (
	"bufio"
	"io"
	"strings"

	"github.com/coldstart/coldstart/reports/svgplot"
)

// The HTML report is one self-contained page: inline CSS (allowed by its
// hash in a Content-Security-Policy that forbids everything else: no script,
// font, image, frame or connection), inline SVG plots, every number behind a
// plot in a table beside it. Native SVG <title>s give hover details, so the
// page needs no JavaScript at all.
//
// The page is a document of sections. A view is a function from its data to
// []section: the run view (runSections) gives a summary, one section per
// scenario and the run's details. A paired A/B verdict, a history trend or a
// capacity sweep will be further views returning sections of the same kind
// (a title, a badge, text, figures each with its data table, tables, lists),
// laid out by the same writer, writePage.
//
// The page is written by hand, not with html/template: text/template's
// reflection keeps every exported method of the program in the binary (+3.5
// MB for the harness here), and the page needs one escaper, esc, which every
// string goes through.

// page is the whole document.
type page struct {
	Title    string
	Subtitle string
	Status   string // a banner when the data is incomplete; empty otherwise
	Sections []section
	CSS      string // the view's own style rules, after the common sheet
	Footer   string // what the page is rendered from; the run report's when empty
}

// section is one titled part of the page, linked from the contents.
type section struct {
	ID    string // stable anchor: derived from position and name, never random
	Title string
	Class string // summary | scenario | run: for the stylesheet
	Badge *badge // a verdict beside the title
	Parts []part
}

type badge struct {
	Text  string
	Short string // in the contents
	Class string // ok | miss | none
}

// part is one piece of a section; writePage draws whichever fields are set,
// in this order.
type part struct {
	Heading string
	Para    string
	Figures []figure // laid out side by side when there is room
	Table   *table
	List    []string
	Logs    []logTail
}

// figure is one plot and the numbers behind it.
type figure struct {
	ID      string
	Wide    bool   // spans the whole width (else half of it on a laptop)
	SVG     string // from svgplot, which escapes everything it writes
	Caption string
	Data    *table
}

// table is a table of text cells. Rows and columns carry stable keys
// (data-row, data-col) so that tests and tools can find a figure.
type table struct {
	ID      string
	Caption string
	Head    []string
	Rows    []trow
	Numeric bool // right-align every column but the first
}

type trow struct {
	Key   string
	Class string
	Cells []tcell
}

type tcell struct {
	Text  string
	Key   string
	Class string
	Href  string // an in-page anchor ("#id")
}

type logTail struct {
	Title string
	Text  string
}

func renderHTML(w io.Writer, in Input) error {
	if in.Summary == nil {
		return errNoSummary
	}
	return writePage(w, runPage(in))
}

// writePage lays out any page: the same writer for every view.
func writePage(out io.Writer, p page) error {
	w := &pageWriter{bufio.NewWriter(out)}
	css, csp := pageCSS, contentSecurityPolicy
	if p.CSS != "" {
		css += p.CSS
		csp = policyFor(css)
	}
	w.put("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
		`<meta http-equiv="Content-Security-Policy" content="`, esc(csp), "\">\n",
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"referrer\" content=\"no-referrer\">\n",
		"<title>", esc(p.Title), "</title>\n<style>", css, "</style>\n</head>\n<body>\n<header>\n",
		"<h1>", esc(p.Title), "</h1>\n<p class=\"sub\">", esc(p.Subtitle), "</p>\n")
	if p.Status != "" {
		w.put(`<p class="banner" role="status" id="status">`, esc(p.Status), "</p>\n")
	}
	w.put("<nav aria-label=\"Contents\"><ol>\n")
	for _, s := range p.Sections {
		w.put(`<li><a href="#`, esc(s.ID), `">`, esc(s.Title), "</a>")
		if s.Badge != nil {
			w.put(` <span class="`, esc(s.Badge.Class), `">`, esc(s.Badge.Short), "</span>")
		}
		w.put("</li>\n")
	}
	w.put("</ol></nav>\n</header>\n<main>\n")
	for _, s := range p.Sections {
		w.section(s)
	}
	footer := "Rendered by coldstart from the run's journal (runs.jsonl) and manifest; the same run renders to the same page. "
	if p.Footer != "" {
		footer = esc(p.Footer) + " "
	}
	w.put("</main>\n<footer>", footer, "No script, no network: every plot is inline SVG, every number is in a table beside it.</footer>\n</body>\n</html>\n")
	return w.Flush()
}

type pageWriter struct{ *bufio.Writer }

// put writes markup; text in it must come from esc.
func (w *pageWriter) put(s ...string) {
	for _, x := range s {
		w.WriteString(x)
	}
}

func (w *pageWriter) section(s section) {
	w.put(`<section id="`, esc(s.ID), `" class="`, esc(s.Class), `" aria-labelledby="`, esc(s.ID), "-h\">\n",
		`<h2 id="`, esc(s.ID), `-h">`, esc(s.Title))
	if s.Badge != nil {
		w.put(` <span class="badge `, esc(s.Badge.Class), `">`, esc(s.Badge.Text), "</span>")
	}
	w.put("</h2>\n")
	for _, pt := range s.Parts {
		if pt.Heading != "" {
			w.put("<h3>", esc(pt.Heading), "</h3>\n")
		}
		if pt.Para != "" {
			w.put("<p>", esc(pt.Para), "</p>\n")
		}
		if len(pt.Figures) > 0 {
			w.put("<div class=\"figures\">\n")
			for _, f := range pt.Figures {
				w.figure(f)
			}
			w.put("</div>\n")
		}
		if pt.Table != nil {
			w.table(pt.Table)
		}
		if len(pt.List) > 0 {
			w.put("<ul>\n")
			for _, it := range pt.List {
				w.put("<li>", esc(it), "</li>\n")
			}
			w.put("</ul>\n")
		}
		for _, l := range pt.Logs {
			w.put("<details><summary>", esc(l.Title), "</summary><pre>", esc(l.Text), "</pre></details>\n")
		}
	}
	w.put("</section>\n")
}

func (w *pageWriter) figure(f figure) {
	w.put(`<figure id="`, esc(f.ID), `"`)
	if f.Wide {
		w.put(` class="wide"`)
	}
	w.put(">\n", f.SVG, "\n")
	if f.Caption != "" {
		w.put("<figcaption>", esc(f.Caption), "</figcaption>\n")
	}
	if f.Data != nil {
		w.put("<details><summary>the numbers behind this plot</summary>\n")
		w.table(f.Data)
		w.put("</details>\n")
	}
	w.put("</figure>\n")
}

func (w *pageWriter) table(t *table) {
	w.put(`<div class="scroll"><table`)
	if t.ID != "" {
		w.put(` id="`, esc(t.ID), `"`)
	}
	if t.Numeric {
		w.put(` class="num"`)
	}
	w.put(">\n")
	if t.Caption != "" {
		w.put("<caption>", esc(t.Caption), "</caption>\n")
	}
	w.put("<thead><tr>")
	for _, h := range t.Head {
		w.put(`<th scope="col">`, esc(h), "</th>")
	}
	w.put("</tr></thead>\n<tbody>\n")
	for _, r := range t.Rows {
		w.put("<tr")
		if r.Key != "" {
			w.put(` data-row="`, esc(r.Key), `"`)
		}
		if r.Class != "" {
			w.put(` class="`, esc(r.Class), `"`)
		}
		w.put(">")
		for i, c := range r.Cells {
			tag := "td"
			if i == 0 {
				tag = `th scope="row"`
			}
			w.put("<", tag)
			if c.Key != "" {
				w.put(` data-col="`, esc(c.Key), `"`)
			}
			if c.Class != "" {
				w.put(` class="`, esc(c.Class), `"`)
			}
			w.put(">")
			if c.Href != "" {
				w.put(`<a href="`, esc(c.Href), `">`, esc(c.Text), "</a>")
			} else {
				w.put(esc(c.Text))
			}
			w.put("</", strings.Fields(tag)[0], ">")
		}
		w.put("</tr>\n")
	}
	w.put("</tbody>\n</table></div>\n")
}

// esc is the page's one escaper, for text and attribute values alike: it
// strips control and bidirectional-override characters (svgplot.Clean) and
// escapes the five characters that can end text or an attribute.
func esc(s string) string {
	s = svgplot.Clean(s)
	if !strings.ContainsAny(s, `<>&"'`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
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
