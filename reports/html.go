package reports

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"io"

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
// laid out by the same template.

// page is the whole document.
type page struct {
	Title    string
	Subtitle string
	Status   string // a banner when the data is incomplete; empty otherwise
	Sections []section
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

// part is one piece of a section; the template draws whichever fields are
// set, in this order.
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
	Wide    bool          // spans the whole width (else half of it on a laptop)
	SVG     template.HTML // from svgplot, which escapes everything it writes
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
	p := runPage(in)
	return writePage(w, p)
}

// writePage lays out any page: the same template for every view.
func writePage(w io.Writer, p page) error {
	p.clean()
	var b bytes.Buffer
	err := pageTemplate.Execute(&b, struct {
		page
		CSP   string
		Style template.CSS
	}{p, contentSecurityPolicy, template.CSS(pageCSS)})
	if err != nil {
		return err
	}
	_, err = w.Write(b.Bytes())
	return err
}

// pageCSS is the one stylesheet; the CSP allows exactly it, by hash.
const pageCSS = svgplot.CSS + `
:root{--ok:#1e7b34;--miss:#c0392b;--ink:#1d1d1f;--muted:#5b5b63;--rule:#d9d9de;--bg-soft:#f5f6f8}
*{box-sizing:border-box}
body{margin:0 auto;max-width:74rem;padding:1rem 1.25rem 3rem;color:var(--ink);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;overflow-wrap:anywhere}
h1{font-size:1.6rem;margin:.4rem 0 .2rem}
h2{font-size:1.3rem;margin:0 0 .6rem;padding-top:.3rem}
h3{font-size:1.02rem;margin:1.2rem 0 .4rem}
p{margin:.4rem 0}
.sub{color:var(--muted);margin:0 0 .6rem}
.banner{border:2px solid var(--miss);background:#fdf0ee;color:#7a1e14;padding:.5rem .8rem;font-weight:600;border-radius:4px}
nav ol{display:flex;flex-wrap:wrap;gap:.2rem 1.1rem;padding:0;margin:.4rem 0 1rem;list-style:none;font-size:.92rem}
section{border-top:1px solid var(--rule);padding:1rem 0 .5rem}
.badge{display:inline-block;font-size:.8rem;font-weight:600;padding:.1rem .5rem;border-radius:1rem;vertical-align:middle;margin-left:.4rem;border:1px solid}
.ok{color:var(--ok)}
.miss{color:var(--miss)}
.none{color:var(--muted)}
.figures{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,30rem),1fr));gap:1rem 1.5rem;margin:.6rem 0}
figure.wide{grid-column:1/-1}
figure{margin:0;min-width:0}
figcaption{font-size:.86rem;color:var(--muted);margin:.2rem 0}
details{margin:.2rem 0 .4rem;font-size:.86rem}
summary{cursor:pointer;color:var(--muted)}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.86rem;margin:.3rem 0 .6rem;font-variant-numeric:tabular-nums}
caption{text-align:left;color:var(--muted);font-size:.84rem;padding:.2rem 0}
th,td{padding:.18rem .55rem;border-bottom:1px solid var(--rule);text-align:left;vertical-align:top}
th{background:var(--bg-soft);font-weight:600}
table.num td:not(:first-child),table.num th:not(:first-child){text-align:right}
td.miss,td.ok{font-weight:600}
th,table.num td{white-space:nowrap}
tbody th{font-weight:600;background:none;white-space:normal;min-width:8rem}
ul{margin:.3rem 0;padding-left:1.3rem}
pre{background:var(--bg-soft);padding:.5rem;overflow-x:auto;white-space:pre-wrap;font-size:.8rem;max-height:20rem}
code{font-size:.9em}
footer{color:var(--muted);font-size:.8rem;margin-top:2rem}
svg.plot .ecdf{fill:none;stroke:#2f6db5;stroke-width:1.6}
svg.plot .ok circle,svg.plot .bin{fill:#2f6db5}
svg.plot .ok circle{fill-opacity:.75}
svg.plot .miss circle{fill:#c0392b}
svg.plot .bin-miss{fill:#c0392b;fill-opacity:.85}
svg.plot .deadline{stroke:#c0392b;stroke-width:1.6;stroke-dasharray:5 3;fill:#9b2c20}
svg.plot text.deadline{stroke:none}
svg.plot .level{stroke:#999;stroke-width:1;stroke-dasharray:2 3;fill:#666}
svg.plot text.level{stroke:none}
svg.plot .limit{stroke:#6b4fa0;stroke-width:1.6;stroke-dasharray:6 3;fill:#4b3475}
svg.plot text.limit{stroke:none}
svg.plot .off-scale{fill:#9b2c20}
svg.plot .ph-create{fill:#a7a7ad}
svg.plot .ph-socket{fill:#2f6db5}
svg.plot .ph-healthy{fill:#8fbbe8}
svg.plot .ph-call{fill:#222;fill-opacity:.55}
svg.plot .ph-miss{fill:#c0392b;fill-opacity:.8}
svg.plot .whisker{stroke:#222;stroke-width:1.6;fill:none}
svg.plot .p95-dot{fill:#222}
svg.plot .imp-cum{fill:#8fbbe8}
svg.plot .imp-self{fill:#2f6db5}
svg.plot .ready-rule{stroke:#222;stroke-width:1.2;stroke-dasharray:4 3;fill:#222}
svg.plot text.ready-rule{stroke:none}
svg.plot .count{fill:#9b2c20;font-weight:600}
svg.plot .marks .note{fill:#555}
@media print{
@page{margin:12mm}
body{max-width:none;padding:0;font-size:9.5pt}
nav,details>summary{display:none}
details::details-content{content-visibility:visible;display:contents}
section.scenario{break-before:page}
figure,tr,.banner{break-inside:avoid}
.figures{grid-template-columns:1fr 1fr}
a{color:inherit;text-decoration:none}
.scroll{overflow:visible}
pre{max-height:none}
}
`

// contentSecurityPolicy forbids every fetch (script, style sheet, font,
// image, frame, connection, form, base) and allows the one inline <style>
// by its hash.
var contentSecurityPolicy = "default-src 'none'; style-src '" + styleHash(pageCSS) + "'; base-uri 'none'; form-action 'none'"

func styleHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// The template's <style> must contain exactly pageCSS (the hash covers it).
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{{.CSP}}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>{{.Title}}</title>
<style>{{.Style}}</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<p class="sub">{{.Subtitle}}</p>
{{- if .Status}}
<p class="banner" role="status" id="status">{{.Status}}</p>
{{- end}}
<nav aria-label="Contents"><ol>
{{- range .Sections}}
<li><a href="#{{.ID}}">{{.Title}}</a>{{with .Badge}} <span class="{{.Class}}">{{.Short}}</span>{{end}}</li>
{{- end}}
</ol></nav>
</header>
<main>
{{- range .Sections}}
<section id="{{.ID}}" class="{{.Class}}" aria-labelledby="{{.ID}}-h">
<h2 id="{{.ID}}-h">{{.Title}}{{with .Badge}} <span class="badge {{.Class}}">{{.Text}}</span>{{end}}</h2>
{{- range .Parts}}
{{- with .Heading}}
<h3>{{.}}</h3>
{{- end}}
{{- with .Para}}
<p>{{.}}</p>
{{- end}}
{{- with .Figures}}
<div class="figures">
{{- range .}}
<figure id="{{.ID}}"{{if .Wide}} class="wide"{{end}}>
{{.SVG}}
{{- with .Caption}}
<figcaption>{{.}}</figcaption>
{{- end}}
{{- with .Data}}
<details><summary>the numbers behind this plot</summary>
{{template "table" .}}
</details>
{{- end}}
</figure>
{{- end}}
</div>
{{- end}}
{{- with .Table}}
{{template "table" .}}
{{- end}}
{{- with .List}}
<ul>
{{- range .}}
<li>{{.}}</li>
{{- end}}
</ul>
{{- end}}
{{- range .Logs}}
<details><summary>{{.Title}}</summary><pre>{{.Text}}</pre></details>
{{- end}}
{{- end}}
</section>
{{- end}}
</main>
<footer>Rendered by coldstart from the run's journal (runs.jsonl) and manifest; the same run renders to the same page. No script, no network: every plot is inline SVG, every number is in a table beside it.</footer>
</body>
</html>
{{define "table"}}<div class="scroll"><table{{with .ID}} id="{{.}}"{{end}}{{if .Numeric}} class="num"{{end}}>
{{- with .Caption}}
<caption>{{.}}</caption>
{{- end}}
<thead><tr>{{range .Head}}<th scope="col">{{.}}</th>{{end}}</tr></thead>
<tbody>
{{- range .Rows}}
<tr{{with .Key}} data-row="{{.}}"{{end}}{{with .Class}} class="{{.}}"{{end}}>
{{- range $i, $c := .Cells}}{{if eq $i 0}}<th scope="row"{{else}}<td{{end}}{{with $c.Key}} data-col="{{.}}"{{end}}{{with $c.Class}} class="{{.}}"{{end}}>{{if $c.Href}}<a href="{{$c.Href}}">{{$c.Text}}</a>{{else}}{{$c.Text}}{{end}}{{if eq $i 0}}</th>{{else}}</td>{{end}}{{end}}</tr>
{{- end}}
</tbody>
</table></div>{{end}}`))

// clean strips control and bidirectional-override characters from every
// text of the page (html/template escapes; this removes what escaping
// leaves readable but misleading). Plot text is cleaned by svgplot.
func (p *page) clean() {
	c := svgplot.Clean
	p.Title, p.Subtitle, p.Status = c(p.Title), c(p.Subtitle), c(p.Status)
	for i := range p.Sections {
		s := &p.Sections[i]
		s.ID, s.Title, s.Class = c(s.ID), c(s.Title), c(s.Class)
		if s.Badge != nil {
			s.Badge.Text, s.Badge.Short, s.Badge.Class = c(s.Badge.Text), c(s.Badge.Short), c(s.Badge.Class)
		}
		for j := range s.Parts {
			pt := &s.Parts[j]
			pt.Heading, pt.Para = c(pt.Heading), c(pt.Para)
			for k := range pt.List {
				pt.List[k] = c(pt.List[k])
			}
			for k := range pt.Logs {
				pt.Logs[k].Title, pt.Logs[k].Text = c(pt.Logs[k].Title), c(pt.Logs[k].Text)
			}
			for k := range pt.Figures {
				f := &pt.Figures[k]
				f.ID, f.Caption = c(f.ID), c(f.Caption)
				f.Data.clean()
			}
			pt.Table.clean()
		}
	}
}

func (t *table) clean() {
	if t == nil {
		return
	}
	c := svgplot.Clean
	t.ID, t.Caption = c(t.ID), c(t.Caption)
	for i := range t.Head {
		t.Head[i] = c(t.Head[i])
	}
	for i := range t.Rows {
		r := &t.Rows[i]
		r.Key, r.Class = c(r.Key), c(r.Class)
		for j := range r.Cells {
			x := &r.Cells[j]
			x.Text, x.Key, x.Class, x.Href = c(x.Text), c(x.Key), c(x.Class), c(x.Href)
		}
	}
}
