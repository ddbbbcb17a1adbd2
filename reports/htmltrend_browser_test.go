package reports

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// TestTrendInBrowser opens the trend pages in headless Chromium, as
// TestHTMLInBrowser does the run reports: no console error, no request but
// the page, no CSP violation, the style sheet applied, no sideways
// scrolling at 1280 or 1024 px, and one plot per series drawn at a non-zero
// size with marks in it. Screenshots go to $COLDSTART_ARTIFACTS when set.
func TestTrendInBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		if os.Getenv("COLDSTART_REQUIRE_BROWSER") != "" {
			t.Fatal("COLDSTART_REQUIRE_BROWSER is set and no chromium binary was found (set CHROMIUM or install chromium)")
		}
		t.Skip("no chromium binary (set CHROMIUM, or apt-get install chromium)")
	}
	dir := t.TempDir()
	artifacts := os.Getenv("COLDSTART_ARTIFACTS")
	if artifacts == "" {
		artifacts = dir
	} else if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.Headless, chromedp.DisableGPU, chromedp.WindowSize(1280, 800))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancel = context.WithTimeout(bctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	for name, ts := range trendCases() {
		t.Run(name, func(t *testing.T) {
			file := filepath.Join(dir, name+".html")
			if err := os.WriteFile(file, renderTrend(t, ts, "html"), 0o644); err != nil {
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
			if err := chromedp.Do(tab, chromedp.EmulateViewport(1024, 700)); err != nil {
				t.Fatal(err)
			}
			narrow, err := chromedp.Run(tab, chromedp.Evaluate[pageState](pageProbe))
			if err != nil {
				t.Fatal(err)
			}
			ev.mu.Lock()
			requests, problems := ev.requests, ev.problems
			ev.mu.Unlock()
			if len(requests) != 1 || requests[0] != url {
				t.Errorf("requests %q, want only the page itself", requests)
			}
			if len(problems) > 0 {
				t.Errorf("console: %q", problems)
			}
			if st.Violations == nil || len(st.Violations) > 0 {
				t.Errorf("CSP violations: %q (nil: the probe did not run)", st.Violations)
			}
			if st.BodyMax != "1184px" {
				t.Errorf("body max-width %q: the style sheet did not apply", st.BodyMax)
			}
			for _, s := range []pageState{st, narrow} {
				if s.ScrollWidth > s.ClientWidth {
					t.Errorf("sideways scrolling at %v px: the page is %v px wide", s.ClientWidth, s.ScrollWidth)
				}
			}
			want := 0
			for i := range ts {
				want += len(ts[i].Series)
			}
			if len(st.Plots) != want {
				t.Errorf("%d plots, want %d", len(st.Plots), want)
			}
			for _, p := range st.Plots {
				if p.W <= 0 || p.H <= 0 || p.Marks == 0 || p.Title == "" {
					t.Errorf("plot %s: %vx%v px, %d marks, title %q", p.ID, p.W, p.H, p.Marks, p.Title)
				}
			}
			if err := os.WriteFile(filepath.Join(artifacts, name+".png"), shot, 0o644); err != nil {
				t.Fatal(err)
			}
		})
	}
}
