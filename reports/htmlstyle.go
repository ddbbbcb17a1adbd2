package reports

import (
	"crypto/sha256"
	"encoding/base64"

	"github.com/coldstart/coldstart/reports/svgplot"
)

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
svg.plot .ecdf-cand{fill:none;stroke:#d35400;stroke-width:1.6;stroke-dasharray:5 2}
svg.plot .band-nochange{fill:#2e7d32;fill-opacity:.12}
svg.plot .whisker-bar{fill:#222}
svg.plot .none circle{fill:#888}
svg.plot .ok circle,svg.plot .bin{fill:#2f6db5}
svg.plot .ok circle{fill-opacity:.75}
svg.plot .miss circle{fill:#c0392b}
svg.plot .bin-miss{fill:#c0392b;fill-opacity:.85}
svg.plot .deadline{stroke:#c0392b;stroke-width:1.6;stroke-dasharray:5 3;fill:#9b2c20}
svg.plot .level{stroke:#999;stroke-width:1;stroke-dasharray:2 3;fill:#666}
svg.plot .limit{stroke:#6b4fa0;stroke-width:1.6;stroke-dasharray:6 3;fill:#4b3475}
svg.plot .off-scale{fill:#9b2c20}
svg.plot .ph-create{fill:#a7a7ad}
svg.plot .ph-socket{fill:#2f6db5}
svg.plot .ph-healthy{fill:#8fbbe8}
svg.plot .ph-call{fill:#222;fill-opacity:.55}
svg.plot .ph-miss{fill:#c0392b;fill-opacity:.8}
svg.plot .ph-serving{fill:#e59866}
svg.plot .serving circle{fill:#d35400}
svg.plot .whisker{stroke:#222;stroke-width:1.6;fill:none}
svg.plot .p95-dot{fill:#222}
svg.plot .imp-cum{fill:#8fbbe8}
svg.plot .imp-self{fill:#2f6db5}
svg.plot .ready-rule{stroke:#222;stroke-width:1.2;stroke-dasharray:4 3;fill:#222}
svg.plot .count{fill:#9b2c20;font-weight:600}
svg.plot .marks .note{fill:#555}
svg.plot text.rule-label{stroke:#fff;stroke-width:3px;stroke-dasharray:none;stroke-linejoin:round;paint-order:stroke}
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
var contentSecurityPolicy = policyFor(pageCSS)

// policyFor is the policy of a page whose one style sheet is css.
func policyFor(css string) string {
	return "default-src 'none'; style-src '" + styleHash(css) + "'; base-uri 'none'; form-action 'none'"
}

func styleHash(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}
