package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/history"
	"github.com/coldstart/coldstart/harness/summary"
)

// trendRuns is seven nightly runs of a paired suite with a calibration
// workload: the platform slows in runs 3-4 (the calibration with it), the
// candidate regresses in run 5 (its p95 censored by misses) and run 7, run 6
// is inconclusive, and the host changes before run 6.
func trendRuns() []history.Run {
	t0 := time.Date(2026, 11, 20, 2, 0, 0, 0, time.UTC)
	cal := []float64{180, 182, 240, 236, 181, 183, 179}
	base := []float64{300, 305, 390, 385, 302, 306, 299}
	cand := []summary.Value{summary.Num(302), summary.Num(301), summary.Num(392), summary.Num(390), summary.Num(420), summary.Num(310), summary.Num(360)}
	candP95 := []summary.Value{summary.Num(350), summary.Num(352), summary.Num(460), summary.Num(455), summary.Above(2870.5), summary.Num(365), summary.Num(430)}
	verdicts := []string{summary.NoChange, summary.NoChange, summary.NoChange, summary.NoChange, summary.Regressed, summary.Inconclusive, summary.Regressed}
	change := []float64{0.4, -0.2, 0.6, 1.1, 38.2, 1.5, 19.9}
	var runs []history.Run
	for i := range 7 {
		host := history.Host{Fingerprint: "engine 20.10.24; kernel 6.18.0", EngineVersion: "20.10.24", Kernel: "6.18.0", Cores: 2}
		if i >= 5 {
			host = history.Host{Fingerprint: "engine 20.10.24; kernel 6.18.2", EngineVersion: "20.10.24", Kernel: "6.18.2", Cores: 2}
		}
		candOK := 40
		if i == 4 {
			candOK = 36
		}
		r := history.Run{
			ID: fmt.Sprintf("202611%02dT020000Z-%04x", 20+i, 0xa0+i), Suite: "nightly", Started: t0.Add(time.Duration(i) * 24 * time.Hour),
			Harness: "0.2.0", Host: host, Meta: map[string]string{"commit": fmt.Sprintf("c0ffee%d", i)},
			Verdict: verdicts[i],
			Arms: []history.Arm{
				{Name: "null", Scenario: "null", Calibration: true, DeadlineMS: 3000, N: 20, OK: 20, P50: summary.Num(cal[i]), P95: summary.Num(cal[i] + 25), P99: summary.Num(cal[i] + 40)},
				{Name: "app [baseline]", Scenario: "app", Variant: "baseline", DeadlineMS: 3000, N: 40, OK: 40,
					P50: summary.Num(base[i]), P95: summary.Num(base[i] + 50), P99: summary.Num(base[i] + 80)},
				{Name: "app [candidate]", Scenario: "app", Variant: "candidate", DeadlineMS: 3000, N: 40, OK: candOK,
					P50: cand[i], P95: candP95[i], P99: candP99(candP95[i])},
			},
			Verdicts: []history.Verdict{{Scenario: "app", Verdict: verdicts[i], Pairs: 40,
				ChangePct: summary.Pct(change[i]), CILowPct: summary.Pct(change[i] - 4), CIHighPct: summary.Pct(change[i] + 4)}},
		}
		r.Guard = &history.Guard{OK: true, DriftPct: summary.Pct(float64(i%3) - 1)}
		if i == 5 {
			r.Guard = &history.Guard{OK: false, DriftPct: summary.Pct(31), Reasons: []string{"the calibration workload's p50 drifted +31.0% between the halves of the run"}}
		}
		if i == 4 {
			r.Verdicts[0].CIHighPct = summary.Pct(math.Inf(1))
			r.SLOs = []history.SLO{{Arm: "app [candidate]", Objective: "p95 <= 2000 ms", Observed: summary.Above(2870.5), Target: 2000}}
		}
		runs = append(runs, r)
	}
	return runs
}

// candP99 is censored exactly when p95 is (misses decide both).
func candP99(p95 summary.Value) summary.Value {
	if p95.Censored {
		return summary.Above(2990)
	}
	return summary.Num(p95.V + 40)
}

func renderTrend(t *testing.T, ts []history.Trend, format string) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := RenderTrend(&b, ts, format); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func trendCases() map[string][]history.Trend {
	runs := trendRuns()
	return map[string][]history.Trend{
		"trend":      history.Trends(runs, nil),
		"trend-one":  history.Trends(runs[:1], nil),
		"trend-none": history.Trends(nil, nil),
	}
}

// Golden trends: seven runs, one run (says a trend needs two), none.
func TestTrendGolden(t *testing.T) {
	for name, ts := range trendCases() {
		for _, f := range TrendFormats {
			t.Run(name+"/"+f, func(t *testing.T) {
				got := renderTrend(t, ts, f)
				if again := renderTrend(t, ts, f); !bytes.Equal(got, again) {
					t.Fatal("two renderings differ")
				}
				ext := map[string]string{"markdown": ".md", "json": ".json", "html": ".html"}[f]
				path := filepath.Join("testdata", "trend", name+ext)
				if *update {
					os.MkdirAll(filepath.Dir(path), 0o755)
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (go test ./reports -run TrendGolden -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from %s (go test ./reports -run TrendGolden -update, and review the diff)", name, path)
				}
			})
		}
	}
}

// What a reader must find in a trend: every run, the regressed runs marked,
// censored figures as bounds, the calibration beside each point, the notes.
func TestTrendContent(t *testing.T) {
	ts := trendCases()["trend"]
	md := string(renderTrend(t, ts, "markdown"))
	for _, want := range []string{
		`✗ REGRESSED +38.2% \[+34.2%, +inf%\]`, "✗ REGRESSED +19.9%", "inconclusive +1.5%", "> 2870.5",
		"calibration p50 over the same runs 180.0 → 179.0 ms (-0.6%)", "regressed in 2 run(s)",
		"changed: engine 20.10.24, kernel 6.18.2", "the host changed 1 time(s)", "commit=c0ffee6",
		"inconclusive (calibration drift in the run +31.0%; guard failed: the calibration workload's p50 drifted +31.0% between the halves of the run)",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
	if strings.Contains(md, "| 5 | 20261124T020000Z-00a4 | 40 | 0 | 302.0 | 352.0 | 382.0 | 181.0 | 121.0 | ✗") {
		t.Error("the baseline arm carries the candidate's verdict")
	}
	if n := strings.Count(md, "| 20261126T020000Z-00a6 |"); n != 4 { // runs table + three series
		t.Errorf("run 7 appears in %d tables, want 4", n)
	}

	var doc struct {
		Trends []struct {
			Runs   []json.RawMessage `json:"runs"`
			Series []struct {
				Arm    string `json:"arm"`
				Points []struct {
					P95            summary.Value `json:"p95_ms"`
					CalibrationP50 summary.Value `json:"calibration_p50_ms"`
					Verdict        *struct {
						V string `json:"verdict"`
					} `json:"verdict"`
				} `json:"points"`
			} `json:"series"`
		} `json:"trends"`
	}
	if err := json.Unmarshal(renderTrend(t, ts, "json"), &doc); err != nil {
		t.Fatal(err)
	}
	cand := doc.Trends[0].Series[2]
	if len(doc.Trends[0].Runs) != 7 || cand.Arm != "app [candidate]" || len(cand.Points) != 7 {
		t.Fatalf("json: %d runs, series %s with %d points", len(doc.Trends[0].Runs), cand.Arm, len(cand.Points))
	}
	p := cand.Points[4]
	if !p.P95.Censored || p.P95.Bound != 2870.5 || p.CalibrationP50.V != 181 || p.Verdict == nil || p.Verdict.V != summary.Regressed {
		t.Errorf("json point 5: %+v", p)
	}

	page := string(renderTrend(t, ts, "html"))
	for _, want := range []string{`class="tr-regressed"`, `class="tr-inconclusive"`, `<path class="above"`, "p95 &gt; 2870.5 ms (misses decide it)",
		`<tr data-row="20261124T020000Z-00a4" class="regressed">`, "✗ regressed in 2 of 7 runs"} {
		if !strings.Contains(page, want) {
			t.Errorf("html lacks %q", want)
		}
	}
	if n := strings.Count(page, `<svg `); n != 3 {
		t.Errorf("%d plots, want one per series (3)", n)
	}
}

// A trend page is held to the run report's rules: one style sheet allowed
// by its hash, no script, unique ids, every plot with a title, a
// description and its numbers.
func TestTrendHTMLStructure(t *testing.T) {
	for name, ts := range trendCases() {
		page := string(renderTrend(t, ts, "html"))
		css := page[strings.Index(page, "<style>")+len("<style>") : strings.Index(page, "</style>")]
		if !strings.Contains(page, "style-src &#39;"+styleHash(css)+"&#39;") {
			t.Errorf("%s: the CSP does not allow the page's style sheet", name)
		}
		low := strings.ToLower(page)
		for _, bad := range []string{"<script", "<link", "<img", " style=", "nan", "+inf<"} {
			if strings.Contains(low, bad) {
				t.Errorf("%s: page contains %q", name, bad)
			}
		}
		for _, u := range regexp.MustCompile(`(?:href|url)\(?="?([^" )]*)`).FindAllStringSubmatch(page, -1) {
			if !strings.HasPrefix(u[1], "#") {
				t.Errorf("%s: a reference that is not in-page: %q", name, u[0])
			}
		}
		seen := map[string]bool{}
		for _, m := range idAttr.FindAllStringSubmatch(page, -1) {
			if seen[m[1]] {
				t.Errorf("%s: id %q twice", name, m[1])
			}
			seen[m[1]] = true
		}
		for _, s := range svgOpen.FindAllString(page, -1) {
			id := idAttr.FindStringSubmatch(s)[1]
			if !seen[id+"-title"] || !seen[id+"-desc"] || !seen[id+"-data"] {
				t.Errorf("%s: plot %s lacks a title, desc or data table", name, id)
			}
		}
	}
	if page := string(renderTrend(t, trendCases()["trend-one"], "html")); !strings.Contains(page, "a trend needs at least 2") {
		t.Error("a one-run trend page does not say a trend needs two runs")
	}
}
