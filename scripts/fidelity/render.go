package main

import (
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// render prints the Markdown of the run in dir.
func render(dir string, w io.Writer) error {
	l, err := load(dir)
	if err != nil {
		return err
	}
	l.markdown(w)
	return nil
}

// target is one line of the "against the targets" table.
type target struct{ metric, target, measured, verdict string }

type targets []target

func (t *targets) add(metric, goal, measured string, ok bool) {
	*t = append(*t, target{metric, goal, measured, verdict(ok)})
}

// markdown writes the tables, section by section, in the order the phases
// ran; each section adds its lines to the targets table at the end.
func (l *loaded) markdown(w io.Writer) {
	var t targets
	l.header(w)
	if l.Lag != nil {
		l.lagTables(w, &t)
	}
	if l.cost != nil {
		l.costTable(w, &t)
	}
	if l.SideBySide != nil {
		l.sideBySideTables(w, &t)
	}
	l.overheadTable(w, &t)
	l.versionTable(w, &t)
	t.write(w)
	l.sizesLine(w)
}

func (l *loaded) header(w io.Writer) {
	m := l.Machine
	title := "Harness fidelity and cost"
	if l.Sizes.Trial {
		title += " (TRIAL sizes)"
	}
	fmt.Fprintf(w, "### %s\n\n", title)
	fmt.Fprintf(w, "Machine: %s, %d cores; kernel %s; Docker Engine %s, containerd %s, runc %s, cgroup %s; docker CLI %s, curl %s; %s. Harness: %s (%s). Load average before/after: %s / %s. Run %s, %s.\n\n",
		m.CPU, m.Cores, m.Kernel, m.Engine, m.Containerd, m.Runc, m.Cgroup, m.DockerCLI, m.Curl, m.Go,
		l.Measured.Version, "release build CGO_ENABLED=0 -trimpath -ldflags='-s -w'", l.LoadBefore, l.LoadAfter,
		l.Started.Format(time.RFC3339), l.Finished.Sub(l.Started).Round(time.Second))
	if l.Sizes.Trial {
		fmt.Fprintf(w, "> **Trial figures** (small sizes, `--trial`) on a shared, noisy machine: they show the benchmark works, not what the harness achieves.\n\n")
	}
}

// costScenario is the scenario name of cost.yaml and overhead.yaml.
const costScenario = "go-hello"

// costTable is phase 3 without a baseline: one run of the cost suite.
func (l *loaded) costTable(w io.Writer, t *targets) {
	r := l.cost
	h := r.cost()
	if h == nil {
		return
	}
	sc := scenarioStats(r.Records, costScenario)
	fmt.Fprintf(w, "#### Harness cost over a %d-start suite (go-hello, seed limits; %d ok)\n\n", h.Starts, sc.OK)
	fmt.Fprintf(w, "| source | CPU per start | peak RSS | wall |\n|---|---|---|---|\n")
	fmt.Fprintf(w, "| summary.json `harness` (measured part: the starts) | %s ms | %s MiB | %s s |\n", f2(h.CPUMSPerStart), f2(mib(float64(h.MaxRSSBytes))), f2(h.WallMS/1000))
	p := r.Process
	fmt.Fprintf(w, "| %s, whole process (start-up, engine checks, summary too) | %s ms | %s MiB | %s s |\n", p.Tool,
		f2((p.UserMS+p.SysMS)/float64(h.Starts)), f2(float64(p.MaxRSSKB)/1024), f2(p.WallMS/1000))
	if p.Tool != "wait4 rusage" {
		fmt.Fprintf(w, "| wait4 rusage of the child, whole process (µs resolution; with time's own) | %s ms | %s MiB | |\n", f2(p.wait4CPUMS()/float64(h.Starts)), f2(float64(p.Wait4MaxRSSKB)/1024))
	}
	fmt.Fprintln(w)
	d := summaryDist(sc.DetectLagMS, len(r.Records))
	fmt.Fprintf(w, "Detection lag over the same %d starts (seed limits, not interleaved): p50 %s, p90 %s, p99 %s, max %s ms; %d of %d at ≥ 20 ms (the app throttled by CFS between `listen()` and its first answer).\n\n",
		d.n, f2(d.p50), f2(d.p90), f2(d.p99), f2(d.max), slowLags(r.Records), d.ok)
	t.add("harness CPU per start", "≤ 2 ms", f2(h.CPUMSPerStart)+" ms", h.CPUMSPerStart <= 2)
	rss := mib(math.Max(float64(h.MaxRSSBytes), float64(p.MaxRSSKB)*1024))
	t.add("harness peak RSS", "≤ 50 MB", f2(rss)+" MiB", rss*(1<<20) <= 50e6)
}

// overheadTable is phase 4, with the cost suite's run as a second sample.
func (l *loaded) overheadTable(w io.Writer, t *targets) {
	var lines []string
	for _, r := range []*harnessRun{l.overhead, l.cost} {
		if r == nil {
			continue
		}
		o, ok := overheadOf(r)
		if !ok {
			continue
		}
		lines = append(lines, fmt.Sprintf("| %s | %d | %s | %s | %s | %s%% | %s | %s%% |", r.Dir, o.n, f2(o.wallMS/1000), f2(o.sumMS/1000),
			f2(o.perStartMS), f2(o.pct), f2(o.procWallMS/1000), f2(o.procPct)))
		if r == l.overhead {
			t.add(fmt.Sprintf("suite overhead (%d starts)", o.n), "≤ 10%", f2(o.pct)+"%", o.pct <= 10)
		}
	}
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "#### Idle overhead: suite wall time against the sum of its starts' create + max(start_call, ready) + remove\n\n")
	fmt.Fprintf(w, "| suite | starts | wall (s) | Σ starts (s) | overhead per start (ms) | overhead (wall − Σ) / Σ | process wall (s) | process overhead |\n|---|---|---|---|---|---|---|---|\n")
	for _, s := range lines {
		fmt.Fprintln(w, s)
	}
	fmt.Fprintf(w, "\nwall = summary.json `harness.wall_ms` (the scheduling loop); process wall adds start-up, engine checks and the summary.\n\n")
}

// versionTable is phase 5 (or, without it, the binary size alone).
func (l *loaded) versionTable(w io.Writer, t *targets) {
	size := fmt.Sprintf("%s MiB (%d bytes)", f2(mib(float64(l.ReleaseSize))), l.ReleaseSize)
	v := l.Version
	if v == nil {
		fmt.Fprintf(w, "Release binary: %s.\n\n", size)
		return
	}
	d := v.TimesMS
	fmt.Fprintf(w, "#### `coldstart version` and binary size\n\n| measure | value |\n|---|---|\n")
	fmt.Fprintf(w, "| own exec loop, %d runs: median / p90 / min / max | %s / %s / %s / %s ms |\n", len(d),
		f2(median(d)), f2(percentile(d, 90)), f2(minOf(d)), f2(maxOf(d)))
	best := median(d)
	if v.Hyperfine != "" {
		fmt.Fprintf(w, "| %s: median / mean ± σ | %s / %s ± %s ms |\n", v.Hyperfine, f2(v.HFMedianMS), f2(v.HFMeanMS), f2(v.HFStddevMS))
		best = v.HFMedianMS
	}
	fmt.Fprintf(w, "| release binary (`CGO_ENABLED=0 go build -trimpath -ldflags='-s -w'`) | %s |\n\n", size)
	t.add("`coldstart version` wall (median)", "≤ 20 ms", f2(best)+" ms", best <= 20)
}

func (t targets) write(w io.Writer) {
	if len(t) == 0 {
		return
	}
	fmt.Fprintf(w, "#### Against the targets\n\n| metric | target | measured | |\n|---|---|---|---|\n")
	for _, x := range t {
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", x.metric, x.target, x.measured, x.verdict)
	}
	fmt.Fprintln(w)
}

func (l *loaded) sizesLine(w io.Writer) {
	c := l.Sizes
	var cfg []string
	ran := func(phase, size string) {
		if _, ok := l.PhaseSeconds[phase]; ok {
			cfg = append(cfg, size)
		}
	}
	ran("lag", fmt.Sprintf("%d × %d starts per row per detector, poll %s", c.Batches, c.Batch, c.Poll))
	if sb := l.SideBySide; sb != nil {
		ran("cost", fmt.Sprintf("cost side by side %d pairs × %d starts per binary (seed %d)", sb.Pairs, sb.Batch, sb.Seed))
	} else {
		ran("cost", fmt.Sprintf("cost suite %d", c.CostRuns))
	}
	ran("overhead", fmt.Sprintf("overhead suite %d", c.OverheadRuns))
	ran("version", fmt.Sprintf("%d `version` execs", c.VersionRuns))
	cfg = append(cfg, "command: `go run ./scripts/fidelity "+strings.Join(c.Args, " ")+"`")
	var ph []string
	for _, k := range phaseNames {
		if v, ok := l.PhaseSeconds[k]; ok {
			ph = append(ph, fmt.Sprintf("%s %.0f s", k, v))
		}
	}
	fmt.Fprintf(w, "Sizes: %s. Phase times: %s.\n", strings.Join(cfg, ", "), strings.Join(ph, ", "))
}
