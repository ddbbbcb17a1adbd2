package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/coldstart/coldstart/reports/svgplot"
)

// chromium finds a browser binary: $CHROMIUM, else the first of the usual
// names on PATH. Debian's is /usr/bin/chromium (.ci/run installs it).
func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless_shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Installed before the page's own content: records every CSP violation. A
// DevTools script is not subject to the page's policy.
const violationProbe = `window.__violations = [];
document.addEventListener('securitypolicyviolation', e => window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));`

// What the page shows, read from its DOM.
const pageProbe = `(() => {
  const rows = {};
  for (const tr of document.querySelectorAll('#summary-table tbody tr')) {
    const cells = {};
    for (const c of tr.querySelectorAll('[data-col]')) cells[c.dataset.col] = c.textContent;
    rows[tr.dataset.row] = cells;
  }
  const plots = [...document.querySelectorAll('svg.plot')].map(s => {
    const r = s.getBoundingClientRect();
    return {id: s.id, section: s.closest('section').id, w: r.width, h: r.height,
      marks: s.querySelectorAll('.marks > *').length, title: (s.querySelector('title') || {}).textContent || ''};
  });
  const d = document.documentElement;
  return {rows, plots, scrollWidth: d.scrollWidth, clientWidth: d.clientWidth,
    scripts: document.scripts.length, bodyMaxWidth: getComputedStyle(document.body).maxWidth,
    banner: (document.getElementById('status') || {}).textContent || '',
    csp: (document.querySelector('meta[http-equiv="Content-Security-Policy"]') || {}).content || '',
    violations: window.__violations || null};
})()`

type pageState struct {
	Rows        map[string]map[string]string `json:"rows"`
	Plots       []plotBox                    `json:"plots"`
	ScrollWidth float64                      `json:"scrollWidth"`
	ClientWidth float64                      `json:"clientWidth"`
	Scripts     int                          `json:"scripts"`
	BodyMax     string                       `json:"bodyMaxWidth"`
	Banner      string                       `json:"banner"`
	CSP         string                       `json:"csp"`
	Violations  []string                     `json:"violations"`
}

type plotBox struct {
	ID      string  `json:"id"`
	Section string  `json:"section"`
	W       float64 `json:"w"`
	H       float64 `json:"h"`
	Marks   int     `json:"marks"`
	Title   string  `json:"title"`
}

// browserEvents collects what a tab reported while loading a page.
type browserEvents struct {
	mu       sync.Mutex
	requests []string
	failed   []string
	problems []string // console errors, exceptions, browser log errors
}

func (b *browserEvents) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		b.requests = append(b.requests, ev.Request.URL)
	case *network.EventLoadingFailed:
		b.failed = append(b.failed, ev.ErrorText+" "+string(ev.BlockedReason))
	case *runtime.EventExceptionThrown:
		b.problems = append(b.problems, "exception: "+ev.ExceptionDetails.Text)
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
			b.problems = append(b.problems, "console."+string(ev.Type))
		}
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
			b.problems = append(b.problems, fmt.Sprintf("log %s %s: %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	}
}

// TestHTMLInBrowser opens every report of htmlCases in a real headless
// Chromium and checks what a reader gets: no console error or exception, no
// request but the page itself, no CSP violation, the stylesheet applied,
// every plot drawn at a non-zero size with marks in it, no sideways
// scrolling on a laptop screen, and the summary's figures equal to those in
// summary.json. It saves a full-page screenshot of each page in the test's
// temp dir, or, with the page itself, in $COLDSTART_ARTIFACTS when set.
func TestHTMLInBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		if os.Getenv("COLDSTART_REQUIRE_BROWSER") != "" {
			t.Fatal("COLDSTART_REQUIRE_BROWSER is set and no chromium binary was found (set CHROMIUM or install chromium)")
		}
		t.Skip("no chromium binary (set CHROMIUM, or apt-get install chromium; .ci/run does): the HTML report is not checked in a browser")
	}
	start := time.Now()
	dir := t.TempDir()
	artifacts := os.Getenv("COLDSTART_ARTIFACTS")
	if artifacts == "" {
		artifacts = dir
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.Headless, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 800))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run its sandbox as root
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(bctx); err != nil { // starts the browser
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Logf("%s started in %v", bin, time.Since(start).Round(time.Millisecond))

	for _, c := range htmlCases(t) {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join(dir, c.name+".html")
			if err := os.WriteFile(file, renderPage(t, c.in), 0o644); err != nil {
				t.Fatal(err)
			}
			url := "file://" + file
			tab, cancel := chromedp.NewContext(bctx)
			defer cancel()
			ev := &browserEvents{}
			if err := chromedp.Listen(tab, ev.listen); err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Call(tab, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: violationProbe}); err != nil {
				t.Fatal(err)
			}
			if err := chromedp.Do(tab, chromedp.EmulateViewport(1280, 800), chromedp.Navigate(url)); err != nil {
				t.Fatal(err)
			}
			st, err := chromedp.Run(tab, chromedp.Evaluate[pageState](pageProbe))
			if err != nil {
				t.Fatal(err)
			}
			shot, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
			if err != nil {
				t.Fatal(err)
			}
			// Narrower laptops: still no sideways scrolling.
			if err := chromedp.Do(tab, chromedp.EmulateViewport(1024, 700)); err != nil {
				t.Fatal(err)
			}
			narrow, err := chromedp.Run(tab, chromedp.Evaluate[pageState](pageProbe))
			if err != nil {
				t.Fatal(err)
			}

			// Printed: no contents bar, and the numbers behind the plots,
			// folded away on screen, are on paper.
			type visibility struct {
				NavShown bool `json:"navShown"`
				Tables   int  `json:"tables"`
				Hidden   int  `json:"hidden"`
			}
			const visible = `(() => {
  const tables = [...document.querySelectorAll('figure details table')];
  return {navShown: document.querySelector('nav').checkVisibility(), tables: tables.length,
    hidden: tables.filter(t => !t.checkVisibility()).length};
})()`
			screen, err := chromedp.Run(tab, chromedp.Evaluate[visibility](visible))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := chromedp.Call(tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
				t.Fatal(err)
			}
			printed, err := chromedp.Run(tab, chromedp.Evaluate[visibility](visible))
			if err != nil {
				t.Fatal(err)
			}
			if !screen.NavShown || screen.Tables == 0 || screen.Hidden != screen.Tables {
				t.Errorf("screen: contents shown %v; %d of %d data tables folded away", screen.NavShown, screen.Hidden, screen.Tables)
			}
			if printed.NavShown || printed.Hidden > 0 {
				t.Errorf("print: contents shown %v; %d of %d data tables not printed", printed.NavShown, printed.Hidden, printed.Tables)
			}
			if c.name == "seed-trimmed" {
				pdf, err := chromedp.Run(tab, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
				if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
					t.Errorf("print to PDF: %v", err)
				} else if err := os.WriteFile(filepath.Join(artifacts, c.name+".pdf"), pdf, 0o644); err != nil {
					t.Fatal(err)
				}
			}

			ev.mu.Lock()
			requests, failed, problems := ev.requests, ev.failed, ev.problems
			ev.mu.Unlock()
			if len(requests) != 1 || requests[0] != url {
				t.Errorf("requests %q, want only the page itself %s", requests, url)
			}
			if len(failed) > 0 {
				t.Errorf("failed loads: %q", failed)
			}
			if len(problems) > 0 {
				t.Errorf("console: %q", problems)
			}
			if st.Violations == nil {
				t.Error("the CSP violation probe did not run")
			} else if len(st.Violations) > 0 {
				t.Errorf("CSP violations: %q", st.Violations)
			}
			if st.Scripts != 0 || !strings.Contains(st.CSP, "default-src 'none'") {
				t.Errorf("%d scripts, CSP %q", st.Scripts, st.CSP)
			}
			if st.BodyMax != "1184px" { // 74rem: the stylesheet applied (the CSP hash matched)
				t.Errorf("body max-width %q: the stylesheet did not apply", st.BodyMax)
			}
			for _, s := range []pageState{st, narrow} {
				if s.ScrollWidth > s.ClientWidth {
					t.Errorf("sideways scrolling at %v px: the page is %v px wide", s.ClientWidth, s.ScrollWidth)
				}
			}
			checkPlots(t, c, st.Plots)
			checkSummaryFigures(t, c, st)
			sm := c.in.Summary
			if incomplete := sm.Interrupted || (sm.Planned > 0 && sm.Completed < sm.Planned); incomplete != strings.Contains(st.Banner, "Incomplete") {
				t.Errorf("interrupted %v, %d of %d planned starts, banner %q", sm.Interrupted, sm.Completed, sm.Planned, st.Banner)
			}

			cfg, err := png.DecodeConfig(bytes.NewReader(shot))
			if err != nil || cfg.Width < 1000 || cfg.Height < 600 {
				t.Errorf("screenshot: %v, %dx%d", err, cfg.Width, cfg.Height)
			}
			out := filepath.Join(artifacts, c.name+".png")
			if err := os.WriteFile(out, shot, 0o644); err != nil {
				t.Fatal(err)
			}
			if artifacts != dir {
				if err := os.WriteFile(filepath.Join(artifacts, c.name+".html"), renderPage(t, c.in), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%s: %d plots, screenshot %s (%dx%d)", c.name, len(st.Plots), out, cfg.Width, cfg.Height)
		})
	}
	t.Logf("%d pages checked in %v", len(htmlCases(t)), time.Since(start).Round(time.Millisecond))
}

// summaryFile is the part of summary.json the page's summary must show,
// read without the summary package's types.
type summaryFile struct {
	Interrupted bool `json:"interrupted"`
	Scenarios   []struct {
		Name       string  `json:"name"`
		N          int     `json:"n"`
		OK         int     `json:"ok"`
		DeadlineMS float64 `json:"deadline_ms"`
		ReadyMS    struct {
			P50 json.RawMessage `json:"p50"`
			P95 json.RawMessage `json:"p95"`
		} `json:"ready_ms"`
		ThrottledMS struct {
			N int `json:"n"`
		} `json:"throttled_ms"`
		Imports *struct {
			Modules []json.RawMessage `json:"modules"`
		} `json:"imports"`
		Serving *struct {
			N         int `json:"n"`
			OK        int `json:"ok"`
			ServingMS struct {
				P50 json.RawMessage `json:"p50"`
				P95 json.RawMessage `json:"p95"`
			} `json:"serving_ms"`
		} `json:"serving"`
	} `json:"scenarios"`
	Paired *struct {
		Scenarios []json.RawMessage `json:"scenarios"`
	} `json:"paired"`
}

// shown is how the page writes a statistic of summary.json: a number with
// one decimal, "> bound" for a censored one, "-" for none.
func shown(raw json.RawMessage) string {
	var v any
	json.Unmarshal(raw, &v)
	switch x := v.(type) {
	case float64:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case map[string]any:
		if x["censored"] == true {
			return "> " + strings.TrimSuffix(strconv.FormatFloat(x["bound_ms"].(float64), 'f', 1, 64), ".0")
		}
	}
	return "-"
}

func readSummaryFile(t *testing.T, c htmlCase) summaryFile {
	t.Helper()
	var sf summaryFile
	if err := json.Unmarshal(c.summaryJSON, &sf); err != nil {
		t.Fatal(err)
	}
	return sf
}

func checkSummaryFigures(t *testing.T, c htmlCase, st pageState) {
	t.Helper()
	sf := readSummaryFile(t, c)
	if len(st.Rows) != len(sf.Scenarios) {
		t.Errorf("summary table has %d rows, summary.json %d scenarios", len(st.Rows), len(sf.Scenarios))
	}
	for _, sc := range sf.Scenarios {
		row, ok := st.Rows[svgplot.Clean(sc.Name)]
		if !ok {
			t.Errorf("no summary row for %q", sc.Name)
			continue
		}
		missed := sc.N - sc.OK
		misses, verdict := "0", "✓ meets"
		switch {
		case sc.N == 0:
			misses, verdict = "-", "no starts"
		case missed > 0:
			misses = fmt.Sprintf("%d (%s%%)", missed, strconv.FormatFloat(math.Round(1000*float64(missed)/float64(sc.N))/10, 'f', -1, 64))
			verdict = "✗ misses"
		}
		want := map[string]string{"n": strconv.Itoa(sc.N), "misses": misses, "deadline": verdict,
			"p50": shown(sc.ReadyMS.P50), "p95": shown(sc.ReadyMS.P95)}
		if sv := sc.Serving; sv != nil {
			want["serving_p50"], want["serving_p95"], want["serving"] = shown(sv.ServingMS.P50), shown(sv.ServingMS.P95), "✓ serves"
			if sv.N > sv.OK {
				want["serving"] = "✗ not served"
			}
		}
		for k, w := range want {
			if row[k] != w {
				t.Errorf("%s: summary %s shows %q, summary.json says %q", sc.Name, k, row[k], w)
			}
		}
	}
}

func checkPlots(t *testing.T, c htmlCase, plots []plotBox) {
	t.Helper()
	byID := map[string]plotBox{}
	for _, p := range plots {
		byID[p.ID] = p
		if p.W <= 0 || p.H <= 0 || p.Marks == 0 || p.Title == "" {
			t.Errorf("plot %s in %s: %vx%v px, %d marks, title %q", p.ID, p.Section, p.W, p.H, p.Marks, p.Title)
		}
	}
	sf := readSummaryFile(t, c)
	want := []string{"overview"}
	for i, sc := range sf.Scenarios {
		id := scenarioID(i, sc.Name)
		if sc.N > 0 {
			want = append(want, id+"-ecdf", id+"-hist", id+"-phases", id+"-memory")
			if sc.ThrottledMS.N > 0 {
				want = append(want, id+"-throttle")
			}
			if sc.Serving != nil {
				want = append(want, id+"-serving")
			}
		}
		if sc.Imports != nil && len(sc.Imports.Modules) > 0 {
			want = append(want, id+"-imports")
		}
	}
	// A paired run: the change of every paired scenario, and each one's two
	// distributions.
	if p := sf.Paired; p != nil {
		want = append(want, "paired-change")
		for i := range p.Scenarios {
			want = append(want, fmt.Sprintf("paired-%d-ecdf", i+1))
		}
	}
	for _, id := range want {
		if _, ok := byID[id]; !ok {
			t.Errorf("plot %s missing", id)
		}
	}
	if len(plots) != len(want) {
		t.Errorf("%d plots, want %d", len(plots), len(want))
	}
}
