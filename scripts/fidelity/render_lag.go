package main

import (
	"fmt"
	"io"

	"github.com/coldstart/coldstart/harness/result"
)

// slowAt is the lag (ms) the tables count starts at or above.
const slowAt = 20

// harnessLag is the harness's side of one row of the lag tables.
type harnessLag struct {
	n, early, contended, slow int
	lag, probe                dist
	busy                      float64 // median of other_busy_pct
	// Medians over the ok starts, ms: ready_ms, create_ms + ready_ms,
	// intent → t0 + ready_ms, t0 → the app's listen().
	ready, createReady, intentReady, listen float64
}

func harnessLagOf(runs []*harnessRun, name string) harnessLag {
	var h harnessLag
	var recs []result.Record
	var busy, ready, cr, intent, listen []float64
	for _, r := range runs {
		for _, x := range r.Records {
			if x.Scenario != name {
				continue
			}
			recs = append(recs, x)
			if x.Host != nil {
				busy = append(busy, x.Host.OtherBusyPct)
				if x.Host.Contended {
					h.contended++
				}
			}
			if x.Outcome != result.OK || x.ReadyMS == nil {
				continue
			}
			ready = append(ready, *x.ReadyMS)
			cr = append(cr, x.CreateMS+*x.ReadyMS)
			if d, ok := r.intentToT0(x); ok {
				intent = append(intent, d+*x.ReadyMS)
			}
			if *x.ReadyMS < x.StartCallMS {
				h.early++
			}
			if x.DetectLagMS != nil {
				listen = append(listen, *x.ReadyMS-*x.DetectLagMS)
			}
		}
	}
	h.n, h.slow = len(recs), slowLags(recs)
	sc := scenarioStats(recs, name)
	h.lag = summaryDist(sc.DetectLagMS, h.n)
	h.probe = summaryDist(sc.ProbeLagMS, sc.ProbeLagMS.N)
	h.busy = median(busy)
	h.ready, h.createReady, h.intentReady, h.listen = median(ready), median(cr), median(intent), median(listen)
	return h
}

// slowLags counts the ok starts whose detection lag is at least slowAt.
func slowLags(recs []result.Record) int {
	n := 0
	for _, x := range recs {
		if x.Outcome == result.OK && x.DetectLagMS != nil && *x.DetectLagMS >= slowAt {
			n++
		}
	}
	return n
}

// loopLag is the loop's side of one row of the lag tables.
type loopLag struct {
	first, before, slow int
	lag, probe          dist
	// Medians, ms: docker run -d (all starts); over the ok starts: t0 → the
	// answering curl exited, t0 → listen(), the answering curl's exec.
	run, ready, listen, curl float64
}

func loopLagOf(recs []loopRecord, name string) loopLag {
	var l loopLag
	var lag, plag, run, ready, listen, curl []float64
	n := 0
	for _, x := range recs {
		if x.Row != name {
			continue
		}
		n++
		run = append(run, x.RunMS)
		if !x.OK {
			continue
		}
		lag = append(lag, x.LagMS)
		if x.ProbeMS > 0 {
			plag = append(plag, x.ProbeMS)
		}
		listen, ready, curl = append(listen, x.ListenMS), append(ready, x.ReadyMS), append(curl, x.CurlMS)
		if x.LagMS >= slowAt {
			l.slow++
		}
		if x.FirstCurl {
			l.first++
		}
		if x.ListenMS < x.RunMS {
			l.before++
		}
	}
	l.lag, l.probe = distOf(lag, n), distOf(plag, len(plag))
	l.run, l.ready, l.listen, l.curl = median(run), median(ready), median(listen), median(curl)
	return l
}

// lagTables are phases 1 and 2: detection lag, then end-to-end ready time.
func (l *loaded) lagTables(w io.Writer, t *targets) {
	c := l.Sizes
	fmt.Fprintf(w, "#### Detection lag (go-hello; interleaved: %d pairs of a harness batch and a loop batch, %d starts per row per batch each)\n\n", c.Batches, c.Batch)
	fmt.Fprintf(w, "Lag = the detector's CLOCK_MONOTONIC when it has the healthy answer minus the app's `listen_mono_ns` (read right after its `listen()` returned). ms.\n\n")
	fmt.Fprintf(w, "| limits | detector | ok / n | p50 | p90 | p99 | max | ≥ 20 ms | notes |\n|---|---|---|---|---|---|---|---|---|\n")
	hs, ls := map[string]harnessLag{}, map[string]loopLag{}
	for _, rw := range c.Rows {
		h, lp := harnessLagOf(l.lagHarness, rw.Name), loopLagOf(l.loop, rw.Name)
		hs[rw.Name], ls[rw.Name] = h, lp
		hd, ld := h.lag, lp.lag
		fmt.Fprintf(w, "| %s | harness (inotify, then connect + GET, 1 ms retry) | %d / %d | %s | %s | %s | %s | %d | healthy before `ContainerStart` returned in %d; %d contended (other CPU p50 %s%%); probe lag (healthy − app's handler stamp) p50 %s / p99 %s |\n",
			rw.Label, hd.ok, hd.n, f2(hd.p50), f2(hd.p90), f2(hd.p99), f2(hd.max), h.slow, h.early, h.contended, f2(h.busy), f2(h.probe.p50), f2(h.probe.p99))
		fmt.Fprintf(w, "| %s | loop (`docker run -d`, then `curl` every %v) | %d / %d | %s | %s | %s | %s | %d | `docker run -d` p50 %s ms, app already listening when it returned in %d; first curl answered in %d; answering curl's exec p50 %s ms; probe lag (curl done − app's handler stamp) p50 %s / p99 %s |\n",
			rw.Label, c.Poll, ld.ok, ld.n, f2(ld.p50), f2(ld.p90), f2(ld.p99), f2(ld.max), lp.slow, f2(lp.run), lp.before, lp.first, f2(lp.curl), f2(lp.probe.p50), f2(lp.probe.p99))
		what := "detection lag p99, 2 CPUs (the detector alone)"
		if rw.Name == "seed" {
			what = "detection lag p99, seed limits (includes the app's own throttling)"
		}
		t.add(what, "≤ 1 ms", f2(hd.p99)+" ms", hd.p99 <= 1)
	}
	fmt.Fprintf(w, "\n#### End-to-end ready time, harness vs loop (medians, ms)\n\n")
	fmt.Fprintf(w, "Harness t0 is just before `ContainerStart`, after create; the loop's t0 is just before `docker run -d`, which creates and starts. So the loop compares with the harness's create + ready (create_ms + ready_ms), or stricter with before-create → healthy (wal.jsonl intent → t0, + ready_ms: adds the intent's fsync, arming the probe and the exit wait).\n\n")
	fmt.Fprintf(w, "| limits | harness ready_ms | harness create_ms + ready_ms | harness before create → healthy | loop `docker run` → curl answered | loop / harness ready_ms | loop / harness create + ready | t0 → listen: harness / loop |\n|---|---|---|---|---|---|---|---|\n")
	for _, rw := range c.Rows {
		h, lp := hs[rw.Name], ls[rw.Name]
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s× | %s× | %s / %s |\n", rw.Label, f2(h.ready), f2(h.createReady), f2(h.intentReady), f2(lp.ready),
			f2(lp.ready/h.ready), f2(lp.ready/h.createReady), f2(h.listen), f2(lp.listen))
	}
	fmt.Fprintln(w)
}
