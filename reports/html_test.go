package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports/svgplot"
)

// htmlCase is one input of the HTML report and the summary.json its page
// must agree with.
type htmlCase struct {
	name        string
	in          Input
	summaryJSON []byte
}

// loadRunDir reads a run directory as `coldstart report` does: the journal,
// the manifest, and from summary.json only what cannot be recomputed
// (interrupted, the harness's own cost). harness/cli's test checks that the
// command renders the same bytes.
func loadRunDir(t testing.TB, dir string) htmlCase {
	t.Helper()
	in, err := LoadRun(dir)
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	sj, err := os.ReadFile(filepath.Join(dir, journal.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	return htmlCase{name: filepath.Base(dir), in: in, summaryJSON: sj}
}

func synthetic(t testing.TB, name string, recs []result.Record, opt summary.Options) htmlCase {
	t.Helper()
	s := summary.Compute(recs, opt)
	sj, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	m := result.Manifest{Suite: opt.Suite, Run: opt.Run, Planned: opt.Planned, Harness: "test",
		Started: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Scenarios: opt.Order}
	return htmlCase{name: name, in: Input{Summary: s, Records: recs, Manifest: m}, summaryJSON: sj}
}

// recorder numbers synthetic records the way a run does.
type recorder struct {
	run  string
	recs []result.Record
}

func (rc *recorder) add(r result.Record) {
	seq := len(rc.recs)
	r.V, r.Run, r.Seq = result.Version, rc.run, seq
	r.Time = t0.Add(time.Duration(seq) * time.Second)
	if r.Kind == "" {
		r.Kind = result.KindMeasure
	}
	if r.DeadlineMS == 0 {
		r.DeadlineMS = 3000
	}
	if r.CreateMS == 0 {
		r.CreateMS = 14 + float64(seq%4)
	}
	if r.StartCallMS == 0 {
		r.StartCallMS = 150 + float64(seq%7)
	}
	r.RemoveMS = 40
	rc.recs = append(rc.recs, r)
}

// allMisses: every measured start missed, of every kind of miss; one
// scenario has no cgroup samples at all.
func allMisses(t testing.TB) htmlCase {
	rc := &recorder{run: "run-misses"}
	for i := range 8 {
		r := result.Record{Scenario: "py-slow", Iteration: i, Image: "coldstart/py-slow:1", Outcome: result.DeadlineExceeded,
			Attempts: 30, Error: "no healthy answer within 3s: connect: connection refused", Limits: limits(true),
			Cgroup: &result.Sample{CgroupVersion: 1, CPUUsageMS: 290 + float64(i), ThrottledPeriods: 28, ThrottledMS: 2400 + 10*float64(i), MemoryPeak: 60<<20 + uint64(i)<<18}}
		if i%2 == 0 {
			r.SocketMS = result.F(2600 + float64(i)*30)
		}
		rc.add(r)
	}
	for i := range 6 {
		r := result.Record{Scenario: "py-crash", Iteration: i, Image: "coldstart/py-crash:1", Attempts: 2, Limits: limits(true)}
		switch i % 3 {
		case 0:
			r.Outcome, r.ExitMS, r.ExitCode, r.OOMKilled = result.OOMKilled, result.F(800+float64(i)), exit(137), true
			r.Error, r.LogTail = "container exited before ready", "Traceback (most recent call last):\nMemoryError"
		case 1:
			r.Outcome, r.ExitMS, r.ExitCode = result.ExitedBeforeReady, result.F(300+float64(i)), exit(1)
			r.Error, r.LogTail = "container exited before ready", "ImportError: cannot import name 'web'"
		case 2:
			r.Outcome, r.Error = result.StartFailed, "start: OCI runtime create failed"
		}
		rc.add(r)
	}
	return synthetic(t, "all-misses", rc.recs, summary.Options{Suite: "misses", Run: "run-misses", Order: []string{"py-slow", "py-crash"}, Planned: len(rc.recs)})
}

// interrupted: the run stopped after a few starts; the last scenario of the
// plan never started.
func interrupted(t testing.TB) htmlCase {
	rc := &recorder{run: "run-int"}
	for i := range 5 {
		ready := 180 + float64(i*23%70)
		rc.add(result.Record{Scenario: "go-hello", Iteration: i, Image: "coldstart/go-hello:latest", Outcome: result.OK,
			SocketMS: result.F(ready - 1.5), ReadyMS: result.F(ready), Attempts: 1, LastStatus: 200, Limits: limits(true),
			Cgroup: &result.Sample{CgroupVersion: 1, CPUUsageMS: 22, ThrottledPeriods: uint64(i % 2), ThrottledMS: 40 * float64(i%2), MemoryPeak: 6<<20 + uint64(i)<<12}})
		if i < 4 {
			ready := 1400 + 37*float64(i)
			rc.add(result.Record{Scenario: "py-app", Iteration: i, Image: "coldstart/py-app:1", Outcome: result.OK,
				SocketMS: result.F(ready - 5), ReadyMS: result.F(ready), Attempts: 2, LastStatus: 200, Limits: limits(true),
				Cgroup: &result.Sample{CgroupVersion: 1, CPUUsageMS: 140, ThrottledPeriods: 13, ThrottledMS: 1100, MemoryPeak: 44 << 20}})
		}
	}
	return synthetic(t, "interrupted", rc.recs, summary.Options{Suite: "seed", Run: "run-int",
		Order: []string{"go-hello", "py-app", "py-never"}, Planned: 60, Interrupted: true})
}

// zeroRecords: interrupted before the first start.
func zeroRecords(t testing.TB) htmlCase {
	return synthetic(t, "zero-records", nil, summary.Options{Suite: "seed", Run: "run-zero", Order: []string{"go-hello", "py-app"}, Planned: 40, Interrupted: true})
}

// Text an app controls, trying to break out of the page or to read
// differently than stored.
const (
	evilName   = "evil<script>alert(1)</script>\u202egnp.exe\x1b[31m"
	evilModule = "<img src=x onerror=alert(1)>"
	evilBidi   = "aiohttp\u2066\u202eweb\u2069"
	evilLog    = "\x1b[1;31mERROR\x1b[0m </pre><script>fetch('http://x')</script>\n\u202dtab\there\x07 & \"quotes\" 'single'"
)

func hostile(t testing.TB) htmlCase {
	rc := &recorder{run: "run-\u202eevil"}
	for i := range 4 {
		r := result.Record{Scenario: evilName, Iteration: i, Image: "img\x00<b>", Outcome: result.OK, Attempts: 1,
			SocketMS: result.F(100), ReadyMS: result.F(120 + float64(i)), LastStatus: 200,
			// Text limits come from version-1 journals, shown as they were.
			Limits: []result.Limit{{Name: "memory", Unit: result.UnitBytes, Requested: result.Amount{Text: "<128 MiB>"},
				Observed: result.Amount{Text: "128 MiB\u202e"}, Enforced: result.Of(128 << 20), OK: true}},
			Cgroup: &result.Sample{CgroupVersion: 1, MemoryPeak: 5 << 20}}
		if i == 3 {
			r.Outcome, r.ReadyMS, r.ExitMS, r.ExitCode = result.ExitedBeforeReady, nil, result.F(110), exit(2)
			r.Error, r.LogTail = "exit: "+evilLog, evilLog
		}
		rc.add(r)
	}
	rc.add(result.Record{Scenario: evilName, Kind: result.KindDiagnostic, Image: "img", Outcome: result.OK, ReadyMS: result.F(300),
		Imports: &result.Imports{TotalUS: 200000, Modules: []result.Module{
			{Name: evilModule, SelfUS: 1000, CumulativeUS: 150000}, {Name: evilBidi, SelfUS: 500, CumulativeUS: 90000},
			{Name: strings.Repeat("very.long.module.name.", 5), SelfUS: 100, CumulativeUS: 1000}}}})
	return synthetic(t, "hostile", rc.recs, summary.Options{Suite: "s\u202euite<i>", Run: "run-\u202eevil", Order: []string{evilName}, Planned: 5})
}

// htmlCases: three real runs (a quickstart as it ran; a seed run trimmed to
// four scenarios and 12 starts each, with import profiles, a calibration
// workload and a scenario that missed every start; the Fn suite under
// contract: fn, with serving and one miss; a merged swarm run with a node
// lost), the shared synthetic fixture, and synthetic edge cases.
func htmlCases(t testing.TB) []htmlCase {
	recs, opt := fixture()
	fx := synthetic(t, "fixture", recs, opt)
	fx.in = input()
	return []htmlCase{
		loadRunDir(t, filepath.Join("testdata", "html", "quickstart")),
		loadRunDir(t, filepath.Join("testdata", "html", "seed-trimmed")),
		loadRunDir(t, filepath.Join("testdata", "html", "fn")),
		loadRunDir(t, filepath.Join("testdata", "html", "swarm-node-lost")),
		fx, allMisses(t), interrupted(t), zeroRecords(t), hostile(t), pairedCase(t),
	}
}

// pairedCase: a paired scenario whose candidate is about a third slower and
// misses twice, beside a calibration workload, with SLOs of which one fails.
func pairedCase(t testing.TB) htmlCase {
	rc := &recorder{run: "run-paired"}
	for i := range 24 {
		base := 300 + float64((i*37)%60)
		cand := 1.33*base + float64((i*11)%20)
		for _, v := range []struct {
			variant string
			ready   float64
		}{{"baseline", base}, {"candidate", cand}} {
			r := result.Record{Scenario: "app", Variant: v.variant, Iteration: i, Image: "app:" + v.variant, Outcome: result.OK,
				SocketMS: result.F(v.ready - 5), ReadyMS: result.F(v.ready), Attempts: 1,
				Cgroup: &result.Sample{CgroupVersion: 1, CPUUsageMS: 30, ThrottledMS: v.ready - 200, MemoryPeak: 6 << 20}}
			if v.variant == "candidate" && i%12 == 5 {
				r.Outcome, r.ReadyMS, r.Error = result.DeadlineExceeded, nil, "no healthy answer within 3s"
			}
			rc.add(r)
		}
		rc.add(result.Record{Scenario: "null", Iteration: i, Image: "null", Outcome: result.OK, Calibration: true,
			SocketMS: result.F(240), ReadyMS: result.F(250 + float64(i%5)), Attempts: 1})
	}
	m := result.Manifest{Suite: "gate", Run: "run-paired", Planned: len(rc.recs), Harness: "test",
		Started: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC), Scenarios: []string{"app [baseline]", "app [candidate]", "null"},
		Gate: result.Gate{}.WithDefaults(),
		SLOs: map[string]result.SLO{"app [candidate]": {P95MS: 800, HasMissRate: true, MissRate: 0.01}, "app [baseline]": {P95MS: 800}}}
	s := summary.OfRun(rc.recs, m, false, nil)
	sj, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return htmlCase{name: "paired", in: Input{Summary: s, Records: rc.recs, Manifest: m}, summaryJSON: sj}
}

func renderPage(t testing.TB, in Input) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := renderHTML(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestHTMLGolden(t *testing.T) {
	for _, c := range htmlCases(t) {
		if c.name == "fixture" {
			continue // TestGolden keeps its page, testdata/report.html
		}
		t.Run(c.name, func(t *testing.T) {
			got := renderPage(t, c.in)
			if again := renderPage(t, c.in); !bytes.Equal(got, again) {
				t.Fatal("two renderings of the same input differ")
			}
			path := filepath.Join("testdata", "html", c.name+".html")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from %s (run go test ./reports -run Golden -update and review the diff)", c.name, path)
			}
		})
	}
}

var (
	idAttr  = regexp.MustCompile(` id="([^"]*)"`)
	svgOpen = regexp.MustCompile(`<svg [^>]*>`)
)

// Every page: one inline style allowed by its hash and nothing else, no
// script, no inline style attribute, no URL but in-page anchors, unique ids,
// and every plot with a title, a description and the numbers behind it.
func TestHTMLStructure(t *testing.T) {
	for _, c := range htmlCases(t) {
		t.Run(c.name, func(t *testing.T) {
			page := string(renderPage(t, c.in))
			if n := strings.Count(page, "<style>"); n != 1 {
				t.Fatalf("%d <style> elements", n)
			}
			css := page[strings.Index(page, "<style>")+len("<style>") : strings.Index(page, "</style>")]
			wantCSP := `content="default-src &#39;none&#39;; style-src &#39;` + styleHash(css) + `&#39;; base-uri &#39;none&#39;; form-action &#39;none&#39;"`
			if !strings.Contains(page, `<meta http-equiv="Content-Security-Policy" `+wantCSP) {
				t.Errorf("no CSP allowing exactly the page's style by hash %s", styleHash(css))
			}
			low := strings.ToLower(page)
			for _, bad := range []string{"<script", "<link", "<img", "<iframe", "<object", "<embed", "<base", "<form", "nan", "+inf"} {
				if strings.Contains(low, bad) {
					t.Errorf("page contains %q", bad)
				}
			}
			// Attribute names only: escaped text and attribute values may say anything.
			attrs := regexp.MustCompile(`"[^"]*"`).ReplaceAllString(strings.Join(regexp.MustCompile(`<[^>]*>`).FindAllString(low, -1), "\n"), `""`)
			if m := regexp.MustCompile(` (style|src|srcset|href:xlink|xlink:href|action|formaction|on[a-z]+)=`).FindString(attrs); m != "" {
				t.Errorf("markup has attribute %q", m)
			}
			for _, bad := range []string{"@import", "url(h", "url(d", "http"} {
				if strings.Contains(css, bad) {
					t.Errorf("style contains %q", bad)
				}
			}
			for _, u := range regexp.MustCompile(`(?:href|url)\(?="?([^" )]*)`).FindAllStringSubmatch(page, -1) {
				if !strings.HasPrefix(u[1], "#") {
					t.Errorf("a reference that is not in-page: %q", u[0])
				}
			}
			seen := map[string]bool{}
			for _, m := range idAttr.FindAllStringSubmatch(page, -1) {
				if seen[m[1]] {
					t.Errorf("id %q twice", m[1])
				}
				seen[m[1]] = true
			}
			svgs := svgOpen.FindAllString(page, -1)
			for _, s := range svgs {
				id := idAttr.FindStringSubmatch(s)[1]
				if !strings.Contains(s, `role="img"`) || !strings.Contains(s, fmt.Sprintf(`aria-labelledby="%s-title %s-desc"`, id, id)) ||
					!seen[id+"-title"] || !seen[id+"-desc"] || !seen[id+"-data"] && id != "overview" {
					t.Errorf("plot %s lacks role, aria, title, desc or data table", id)
				}
			}
			if !seen["overview-data"] || !seen["summary-table"] {
				t.Error("no summary table or overview data")
			}
			for i, sc := range c.in.Summary.Scenarios {
				id := scenarioID(i, sc.Name)
				if !seen[id] {
					t.Errorf("no section %s", id)
				}
				for _, plot := range []string{"ecdf", "hist", "phases", "memory"} {
					if has := seen[id+"-"+plot]; has != (sc.N > 0) {
						t.Errorf("%s: plot %s present %v with %d measured starts", id, plot, has, sc.N)
					}
				}
				if has := seen[id+"-imports"]; has != (sc.Imports != nil && len(sc.Imports.Modules) > 0) {
					t.Errorf("%s: imports plot present %v", id, has)
				}
			}
			if !strings.Contains(page, "@media print") || !strings.Contains(page, `name="viewport"`) {
				t.Error("no print stylesheet or viewport")
			}
		})
	}
}

func TestHTMLHostileText(t *testing.T) {
	page := string(renderPage(t, hostile(t).in))
	for _, r := range []rune{'\u202e', '\u202d', '\u2066', '\u2069', 0x1b, 0x07, 0x00} {
		if strings.ContainsRune(page, r) {
			t.Errorf("page contains %U", r)
		}
	}
	for _, bad := range []string{"<script>", "<img src", "</pre><script", "<b>", "<i>"} {
		if strings.Contains(page, bad) {
			t.Errorf("page contains raw %q", bad)
		}
	}
	for _, want := range []string{"evil&lt;script&gt;alert(1)&lt;/script&gt;gnp.exe", "&lt;img src=x onerror=alert(1)&gt;", "aiohttpweb",
		"ERROR &lt;/pre&gt;&lt;script&gt;", "tab\there", "&amp; &#34;quotes&#34;"} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestHTMLStates(t *testing.T) {
	page := func(c htmlCase) string { return string(renderPage(t, c.in)) }
	all := page(allMisses(t))
	for _, want := range []string{"8 missed: &gt; 3000 ms", "6 missed: &gt; 3000 ms", "✗ 8 of 8 starts (100%) missed", "0 of 2 scenarios", `class="bin-miss"`, `class="beyond"`} {
		if !strings.Contains(all, want) {
			t.Errorf("all misses: page lacks %q", want)
		}
	}
	if strings.Contains(all, `id="status"`) {
		t.Error("all misses: a complete run marked incomplete")
	}
	in := page(interrupted(t))
	for _, want := range []string{`<p class="banner" role="status" id="status">Incomplete: the run was interrupted after 9 of 60 planned starts`, "· interrupted", "[interrupted]", "No measured starts: nothing to plot."} {
		if !strings.Contains(in, want) {
			t.Errorf("interrupted: page lacks %q", want)
		}
	}
	zero := page(zeroRecords(t))
	if strings.Count(zero, "No measured starts: nothing to plot.") != 2 || !strings.Contains(zero, `id="overview"`) ||
		!strings.Contains(zero, "0 of 40 planned starts · interrupted") || strings.Count(zero, "no measured starts</text>") != 2 {
		t.Errorf("zero records: page does not say so")
	}
	none := summary.Compute(nil, summary.Options{Suite: "empty", Run: "r"})
	if p := string(renderPage(t, Input{Summary: none})); !strings.Contains(p, "No scenarios") {
		t.Error("a run without scenarios does not say so")
	}
	if err := renderHTML(&bytes.Buffer{}, Input{}); err == nil {
		t.Error("rendered without a summary")
	}
}

// The summary table's figures are the summary's: every scenario, and the
// verdict follows the misses.
func TestHTMLSummaryFigures(t *testing.T) {
	for _, c := range htmlCases(t) {
		page := string(renderPage(t, c.in))
		tab := page[strings.Index(page, `id="summary-table"`):]
		tab = tab[:strings.Index(tab, "</table>")]
		for _, sc := range c.in.Summary.Scenarios {
			start := strings.Index(tab, `<tr data-row="`+html.EscapeString(svgplot.Clean(sc.Name))+`">`)
			if start < 0 {
				t.Errorf("%s/%s: no row", c.name, sc.Name)
				continue
			}
			row := tab[start:]
			row = row[:strings.Index(row, "</tr>")]
			for key, want := range map[string]string{"n": fmt.Sprint(sc.N), "p50": ms(sc.ReadyMS.P50), "p95": ms(sc.ReadyMS.P95),
				"misses": missCount(&sc), "deadline": deadlineVerdict(&sc).Short} {
				cell := fmt.Sprintf(`data-col="%s"`, key)
				i := strings.Index(row, cell)
				if i < 0 {
					t.Errorf("%s/%s: no %s cell", c.name, sc.Name, key)
					continue
				}
				got := row[strings.Index(row[i:], ">")+i+1:]
				got = html.UnescapeString(got[:strings.Index(got, "</td>")])
				if got != want {
					t.Errorf("%s/%s: %s cell %q, want %q", c.name, sc.Name, key, got, want)
				}
			}
		}
	}
}

func TestMemoryLimit(t *testing.T) {
	mem := func(a result.Amount) []result.Limit {
		return []result.Limit{{Name: "cpu", Unit: result.UnitCPU, Enforced: result.CPU(10000, 100000)}, {Name: "memory", Unit: result.UnitBytes, Enforced: a}}
	}
	if b, label, ok := memoryLimit(mem(result.Of(128 << 20))); !ok || b != 128<<20 || label != "128 MiB" {
		t.Errorf("memoryLimit = %v %q %v", b, label, ok)
	}
	for _, a := range []result.Amount{{State: result.NotEnforced}, {State: result.Unlimited}, {Text: "128 MiB"}} {
		if _, _, ok := memoryLimit(mem(a)); ok {
			t.Errorf("memoryLimit(%+v) found a limit", a)
		}
	}
}

func TestScenarioID(t *testing.T) {
	for _, c := range []struct {
		i    int
		name string
		want string
	}{{0, "go-hello", "s1-go-hello"}, {2, "Py App_2", "s3-py-app-2"}, {1, "<script>", "s2-script"}, {4, "ÄÖ", "s5"}, {0, "", "s1"}} {
		if got := scenarioID(c.i, c.name); got != c.want {
			t.Errorf("scenarioID(%d, %q) = %q, want %q", c.i, c.name, got, c.want)
		}
	}
}
