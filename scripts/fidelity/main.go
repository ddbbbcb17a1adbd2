// Command fidelity benchmarks the coldstart harness itself, on the real
// engine, and prints the results as Markdown tables for the README:
//
//  1. detection lag (p50/p90/p99/max) of the harness versus a hand-written
//     loop (docker run -d; curl --unix-socket every 5 ms; docker rm -f), on
//     coldstart/go-hello, interleaved batch by batch, under the seed limits
//     and without CPU throttling (2 CPUs);
//  2. end-to-end ready time, harness versus loop, and their ratio;
//  3. the harness's CPU time per start and peak RSS over a 500-start suite
//     (summary.json, cross-checked with /usr/bin/time -v);
//  4. the wall time of a 100-start suite against the sum of its starts'
//     create + start/ready + remove times: the harness's idle overhead;
//  5. `coldstart version` wall time (own exec loop, and hyperfine if
//     installed) and the size of the release binary.
//
// Run from the module root (see scripts/fidelity/README.md):
//
//	go run ./scripts/fidelity            # full size
//	go run ./scripts/fidelity --trial    # small sizes, to check it works
//
// Only containers it makes are touched: they carry io.coldstart.harness=1 and
// io.coldstart.fidelity=<run id>, and are force-removed even on Ctrl-C.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/montanaflynn/stats"
	"golang.org/x/sys/unix"

	"github.com/coldstart/coldstart/harness/probe"
)

// row is one set of limits, measured by both detectors.
type row struct {
	Name  string // the scenario name in lag.yaml
	Label string // for the tables
	Quota int64  // CFS quota (us) per 100000 us period
}

var rows = []row{
	{"seed", "seed: 10% of 1 CPU, 128 MiB", 10000},
	{"free", "2 CPUs (no throttling), 128 MiB", 200000},
}

const period = 100000

func rowNames() []string {
	var n []string
	for _, r := range rows {
		n = append(n, r.Name)
	}
	return n
}

type config struct {
	bin, out, image, docker, curl string
	batches, batch                int
	costRuns, overheadRuns        int
	versionRuns                   int
	poll, deadline, curlTimeout   time.Duration
	phases                        map[string]bool
	trial                         bool
	root                          string // module root
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "fidelity:", err)
		os.Exit(1)
	}
}

func run() error {
	var c config
	var phases, rowList, render string
	flag.StringVar(&c.bin, "bin", "", "coldstart binary to measure (default: build the release binary, CGO_ENABLED=0 -trimpath -ldflags='-s -w', into the output dir)")
	flag.StringVar(&c.out, "out", "", "output directory for raw data (default results/fidelity/<UTC stamp>)")
	flag.StringVar(&c.image, "image", "coldstart/go-hello:latest", "app image of the loop (must match lag.yaml)")
	flag.IntVar(&c.batches, "batches", 10, "lag/ready: number of (harness batch, loop batch) pairs")
	flag.IntVar(&c.batch, "batch", 12, "lag/ready: starts per row per batch, for each detector")
	flag.IntVar(&c.costRuns, "cost-runs", 500, "CPU/RSS: starts of the cost suite")
	flag.IntVar(&c.overheadRuns, "overhead-runs", 100, "overhead: starts of the overhead suite")
	flag.IntVar(&c.versionRuns, "version-runs", 200, "executions of 'coldstart version' timed")
	flag.DurationVar(&c.poll, "poll", 5*time.Millisecond, "loop: pause between curl attempts")
	flag.DurationVar(&c.deadline, "deadline", 3*time.Second, "loop: give up a start after this long from t0")
	flag.DurationVar(&c.curlTimeout, "curl-timeout", time.Second, "loop: curl --max-time per attempt (must exceed the 100 ms CFS period)")
	flag.StringVar(&rowList, "rows", "seed,free", "lag/ready: limit rows (seed = 10% of one CPU; free = 2 CPUs, no throttling)")
	flag.StringVar(&phases, "phases", "lag,cost,overhead,version", "phases to run (comma-separated subset of lag,cost,overhead,version)")
	flag.BoolVar(&c.trial, "trial", false, "small sizes for a quick check: --batches 2 --batch 10 --cost-runs 100 --overhead-runs 50 --version-runs 100 (explicit flags still win)")
	flag.StringVar(&render, "render", "", "print the Markdown of an earlier run from `DIR`/report.json, and measure nothing")
	flag.Parse()
	if render != "" {
		var rep report
		b, err := os.ReadFile(filepath.Join(render, "report.json"))
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, &rep); err != nil {
			return fmt.Errorf("%s/report.json: %w", render, err)
		}
		rep.markdown(os.Stdout)
		return nil
	}
	if c.trial {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		def := func(name string, p *int, v int) {
			if !set[name] {
				*p = v
			}
		}
		def("batches", &c.batches, 2)
		def("batch", &c.batch, 10)
		def("cost-runs", &c.costRuns, 100)
		def("overhead-runs", &c.overheadRuns, 50)
		def("version-runs", &c.versionRuns, 100)
	}
	var sel []row
	for _, n := range strings.Split(rowList, ",") {
		found := false
		for _, r := range rows {
			if r.Name == strings.TrimSpace(n) {
				sel, found = append(sel, r), true
			}
		}
		if !found && strings.TrimSpace(n) != "" {
			return fmt.Errorf("--rows: unknown row %q (seed, free)", n)
		}
	}
	if len(sel) == 0 {
		return errors.New("--rows: name at least one row")
	}
	rows = sel
	c.phases = map[string]bool{}
	for _, p := range strings.Split(phases, ",") {
		p = strings.TrimSpace(p)
		switch p {
		case "lag", "cost", "overhead", "version":
			c.phases[p] = true
		case "":
		default:
			return fmt.Errorf("--phases: unknown phase %q", p)
		}
	}
	var err error
	if c.docker, err = exec.LookPath("docker"); err != nil {
		return err
	}
	if c.phases["lag"] {
		if c.curl, err = exec.LookPath("curl"); err != nil {
			return err
		}
	}
	c.root, err = moduleRoot()
	if err != nil {
		return err
	}
	if err := os.Chdir(c.root); err != nil {
		return err
	}
	if c.out == "" {
		c.out = filepath.Join("results", "fidelity", time.Now().UTC().Format("20060102T150405Z"))
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	c.out, _ = filepath.Abs(c.out)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var rep report
	rep.Machine = machine(c.docker)
	rep.Started = time.Now().UTC()
	rep.LoadBefore = loadavg()

	size, err := buildRelease(filepath.Join(c.out, "coldstart"))
	if err != nil {
		return err
	}
	rep.ReleaseSize = size
	if c.bin == "" {
		c.bin = filepath.Join(c.out, "coldstart")
	}
	if c.bin, err = filepath.Abs(c.bin); err != nil {
		return err
	}
	if v, err := exec.Command(c.bin, "version").Output(); err == nil {
		rep.Harness = strings.TrimSpace(string(v))
	}
	rep.Bin = c.bin
	if err := exec.Command(c.docker, "image", "inspect", c.image).Run(); err != nil {
		return fmt.Errorf("image %s is not local: build it first with `%s run --runs 1 scenarios/quickstart.yaml`", c.image, c.bin)
	}

	runID := fmt.Sprintf("%d-%d", time.Now().Unix(), os.Getpid())
	defer sweep(c.docker, runID)
	rep.Sizes = sizes{Batches: c.batches, Batch: c.batch, CostRuns: c.costRuns, OverheadRuns: c.overheadRuns,
		VersionRuns: c.versionRuns, Poll: c.poll.String(), Trial: c.trial, Rows: rows, Args: os.Args[1:]}

	rep.PhaseSeconds = map[string]float64{}
	phase := func(name, what string, f func() error) error {
		if !c.phases[name] {
			return nil
		}
		fmt.Fprintf(os.Stderr, "%s: %s (load %s)\n", name, what, loadavg())
		t := time.Now()
		err := f()
		rep.PhaseSeconds[name] = time.Since(t).Round(100 * time.Millisecond).Seconds()
		fmt.Fprintf(os.Stderr, "%s: %.1f s\n", name, rep.PhaseSeconds[name])
		return err
	}
	if err := phase("lag", fmt.Sprintf("%d pairs of batches, %d starts per row per batch per detector", c.batches, c.batch), func() error {
		return lagPhase(ctx, &c, runID, &rep)
	}); err != nil {
		return err
	}
	if err := phase("cost", fmt.Sprintf("%d-start suite", c.costRuns), func() (err error) {
		rep.Cost, err = suiteRun(ctx, &c, "scripts/fidelity/cost.yaml", c.costRuns, "cost")
		return err
	}); err != nil {
		return err
	}
	if err := phase("overhead", fmt.Sprintf("%d-start suite", c.overheadRuns), func() (err error) {
		rep.Overhead, err = suiteRun(ctx, &c, "scripts/fidelity/overhead.yaml", c.overheadRuns, "overhead")
		return err
	}); err != nil {
		return err
	}
	phase("version", fmt.Sprintf("%d execs", c.versionRuns), func() error {
		rep.Version = versionPhase(ctx, &c)
		return nil
	})
	rep.LoadAfter = loadavg()
	rep.Finished = time.Now().UTC()

	var md bytes.Buffer
	rep.markdown(&md)
	os.Stdout.Write(md.Bytes())
	os.WriteFile(filepath.Join(c.out, "results.md"), md.Bytes(), 0o644)
	if b, err := json.MarshalIndent(rep, "", "  "); err == nil {
		os.WriteFile(filepath.Join(c.out, "report.json"), b, 0o644)
	}
	fmt.Fprintf(os.Stderr, "raw data in %s (%s)\n", c.out, rep.Finished.Sub(rep.Started).Round(time.Second))
	return ctx.Err()
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the coldstart module")
	}
	return filepath.Dir(mod), nil
}

// buildRelease builds the binary as README.md ships it and returns its size.
func buildRelease(dst string) (int64, error) {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", dst, "./harness/cmd/coldstart")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("release build: %w", err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// mono reads CLOCK_MONOTONIC, the clock go-hello stamps listen() with
// (containers share it with the host).
func mono() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// ---------------------------------------------------------------- machine

type machineInfo struct {
	CPU, Kernel, Engine, Containerd, Runc, Cgroup, DockerCLI, Go, Curl string
	Cores                                                              int
}

func machine(docker string) machineInfo {
	m := machineInfo{Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	q := func(args ...string) string {
		out, _ := exec.Command(docker, args...).Output()
		return strings.TrimSpace(string(out))
	}
	m.Engine = q("version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})")
	m.DockerCLI = q("version", "--format", "{{.Client.Version}}")
	var comps []struct{ Name, Version string }
	json.Unmarshal([]byte(q("version", "--format", "{{json .Server.Components}}")), &comps)
	for _, c := range comps {
		switch c.Name {
		case "containerd":
			m.Containerd = c.Version
		case "runc":
			m.Runc = c.Version
		}
	}
	m.Cgroup = q("info", "--format", "v{{.CgroupVersion}} {{.CgroupDriver}}")
	if out, err := exec.Command("curl", "--version").Output(); err == nil {
		m.Curl = strings.SplitN(string(out), "\n", 2)[0]
		if f := strings.Fields(m.Curl); len(f) > 1 {
			m.Curl = f[1]
		}
	}
	return m
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

// ---------------------------------------------------------------- harness runs

// hrec is the part of a runs.jsonl record this benchmark reads.
type hrec struct {
	Seq         int       `json:"seq"`
	Time        time.Time `json:"time"` // wall clock at t0
	Scenario    string    `json:"scenario"`
	Kind        string    `json:"kind"`
	Outcome     string    `json:"outcome"`
	CreateMS    float64   `json:"create_ms"`
	StartCallMS float64   `json:"start_call_ms"`
	ReadyMS     *float64  `json:"ready_ms"`
	RemoveMS    float64   `json:"remove_ms"`
	DetectLagMS *float64  `json:"detect_lag_ms"`
	ProbeLagMS  *float64  `json:"probe_lag_ms"`
	DeadlineMS  float64   `json:"deadline_ms"`
	Attempts    int       `json:"attempts"`
	Host        *struct {
		OtherBusyPct float64 `json:"other_busy_pct"`
		Contended    bool    `json:"contended"`
	} `json:"host"`
	Cgroup *struct {
		ThrottledPeriods int64 `json:"throttled_periods"`
	} `json:"cgroup"`
	// IntentToT0MS is t0 minus the start's write-ahead intent (wal.jsonl,
	// taken before the intent's fsync and the create call), both wall clock:
	// create plus everything the harness does before the start call.
	IntentToT0MS *float64 `json:"intent_to_t0_ms,omitempty"`
}

type harnessCost struct {
	Starts        int     `json:"starts"`
	CPUMS         float64 `json:"cpu_ms"`
	CPUMSPerStart float64 `json:"cpu_ms_per_start"`
	MaxRSSBytes   int64   `json:"max_rss_bytes"`
	WallMS        float64 `json:"wall_ms"`
}

// suiteResult is one `coldstart run` of a suite, seen from outside.
type suiteResult struct {
	Dir     string
	Records []hrec
	Harness *harnessCost
	// Whole process, from /usr/bin/time -v (or wait4's rusage without it).
	ProcWallMS, ProcUserMS, ProcSysMS float64
	ProcMaxRSSKB                      int64
	TimeTool                          string
}

// harnessRun runs the harness on a suite into dir, under /usr/bin/time -v
// when present. The harness gets its own process group: a Ctrl-C at the
// terminal reaches this program only, which then sends the group one SIGINT
// (GNU time ignores it; the harness removes its container in flight and
// writes its summary; a second signal would make it quit at once).
func harnessRun(ctx context.Context, c *config, suite string, runs int, dir string, extra ...string) (*suiteResult, error) {
	args := append([]string{"run", "--quiet", "--format", "json", "--out", dir, "--runs", strconv.Itoa(runs)}, extra...)
	args = append(args, suite)
	name, argv := c.bin, args
	timeTool := ""
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		timeTool = "/usr/bin/time -v"
		name, argv = "/usr/bin/time", append([]string{"-v", c.bin}, args...)
	}
	cmd := exec.CommandContext(ctx, name, argv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGINT) }
	cmd.WaitDelay = 30 * time.Second
	var stderr bytes.Buffer
	cmd.Stdout = io.Discard
	cmd.Stderr = &stderr
	t0 := mono()
	err := cmd.Run()
	wall := mono() - t0
	if err != nil && ctx.Err() != nil {
		return nil, fmt.Errorf("interrupted; the harness's partial run is in %s", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %v\n%s", name, strings.Join(argv, " "), err, tail(stderr.String(), 2000))
	}
	r := &suiteResult{Dir: dir, ProcWallMS: ms(wall), TimeTool: timeTool}
	if timeTool != "" {
		parseTimeV(stderr.String(), r)
	} else if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.TimeTool = "wait4 rusage"
		r.ProcUserMS = float64(ru.Utime.Nano()) / 1e6
		r.ProcSysMS = float64(ru.Stime.Nano()) / 1e6
		r.ProcMaxRSSKB = ru.Maxrss
	}
	if r.Records, err = readRecords(filepath.Join(dir, "runs.jsonl")); err != nil {
		return nil, err
	}
	intents := readIntents(filepath.Join(dir, "wal.jsonl"))
	for i := range r.Records {
		if it, ok := intents[r.Records[i].Seq]; ok && !r.Records[i].Time.IsZero() {
			d := float64(r.Records[i].Time.Sub(it).Nanoseconds()) / 1e6
			r.Records[i].IntentToT0MS = &d
		}
	}
	var sum struct {
		Harness *harnessCost `json:"harness"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		return nil, fmt.Errorf("%s/summary.json: %w", dir, err)
	}
	r.Harness = sum.Harness
	return r, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func parseTimeV(s string, r *suiteResult) {
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ": ")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch k {
		case "User time (seconds)":
			f, _ := strconv.ParseFloat(v, 64)
			r.ProcUserMS = f * 1000
		case "System time (seconds)":
			f, _ := strconv.ParseFloat(v, 64)
			r.ProcSysMS = f * 1000
		case "Maximum resident set size (kbytes)":
			r.ProcMaxRSSKB, _ = strconv.ParseInt(v, 10, 64)
		}
	}
}

func readRecords(path string) ([]hrec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []hrec
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r hrec
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if r.Kind == "measure" {
			out = append(out, r)
		}
	}
	return out, sc.Err()
}

func readIntents(path string) map[int]time.Time {
	out := map[int]time.Time{}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		var in struct {
			Seq  int       `json:"seq"`
			Time time.Time `json:"time"`
		}
		if json.Unmarshal(line, &in) == nil && !in.Time.IsZero() {
			out[in.Seq] = in.Time
		}
	}
	return out
}

func suiteRun(ctx context.Context, c *config, suite string, runs int, name string) (*suiteResult, error) {
	return harnessRun(ctx, c, suite, runs, filepath.Join(c.out, name))
}

// ---------------------------------------------------------------- the loop

// lrec is one start of the hand-written loop.
type lrec struct {
	Row       string  `json:"row"`
	Batch     int     `json:"batch"`
	OK        bool    `json:"ok"`
	Error     string  `json:"error,omitempty"`
	RunMS     float64 `json:"run_ms"`     // t0 -> `docker run -d` exited
	ReadyMS   float64 `json:"ready_ms"`   // t0 -> the curl that answered exited
	LagMS     float64 `json:"lag_ms"`     // that instant minus listen_mono_ns
	ProbeMS   float64 `json:"probe_ms"`   // that instant minus answer_mono_ns: the detector alone
	ListenMS  float64 `json:"listen_ms"`  // listen_mono_ns - t0
	Attempts  int     `json:"attempts"`   // curl executions
	CurlMS    float64 `json:"curl_ms"`    // the answering curl's exec, start to exit
	RemoveMS  float64 `json:"remove_ms"`  // `docker rm -f` exec
	FirstCurl bool    `json:"first_curl"` // the first curl already answered
}

// loopStart is the hand-written loop, one start:
//
//	t0 = CLOCK_MONOTONIC
//	docker run -d --label io.coldstart.harness=1 --label io.coldstart.fidelity=ID
//	    --cpu-quota Q --cpu-period 100000 -m 128m --memory-swap 128m
//	    --network none -v DIR:/run/app IMAGE
//	repeat: curl -s --max-time 1 --unix-socket DIR/app.sock http://x/
//	        t = CLOCK_MONOTONIC right after curl exits
//	        answered "ok listen_mono_ns=N"? done: ready = t - t0, lag = t - N
//	        else sleep 5 ms (until t0 + 3 s)
//	docker rm -f <id>
func loopStart(ctx context.Context, c *config, runID string, r row, batch, seq int, base string) (rec lrec) {
	rec = lrec{Row: r.Name, Batch: batch}
	dir := filepath.Join(base, strconv.Itoa(seq))
	os.RemoveAll(dir)
	if err := os.Mkdir(dir, 0o777); err != nil {
		rec.Error = err.Error()
		return rec
	}
	os.Chmod(dir, 0o777)
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "app.sock")
	args := []string{"run", "-d",
		"--name", fmt.Sprintf("csfid-%s-%d", runID, seq),
		"--label", "io.coldstart.harness=1", "--label", "io.coldstart.fidelity=" + runID,
		"--cpu-quota", strconv.FormatInt(r.Quota, 10), "--cpu-period", strconv.Itoa(period),
		"-m", "128m", "--memory-swap", "128m", "--network", "none",
		"-v", dir + ":/run/app", c.image}
	curlArgs := []string{"-s", "--max-time", fmt.Sprintf("%.3f", c.curlTimeout.Seconds()),
		"--unix-socket", sock, "http://x/"}

	t0 := mono()
	out, err := exec.Command(c.docker, args...).Output()
	rec.RunMS = ms(mono() - t0)
	id := strings.TrimSpace(string(out))
	defer func() {
		target := id
		if target == "" {
			target = fmt.Sprintf("csfid-%s-%d", runID, seq)
		}
		tr := mono()
		exec.Command(c.docker, "rm", "-f", target).Run()
		rec.RemoveMS = ms(mono() - tr)
	}()
	if err != nil {
		rec.Error = "docker run: " + errText(err)
		return rec
	}
	deadline := t0 + c.deadline.Nanoseconds()
	for ctx.Err() == nil {
		rec.Attempts++
		tc := mono()
		body, err := exec.Command(c.curl, curlArgs...).Output()
		t := mono()
		if err == nil {
			if stamp, ok := listenStamp(string(body)); ok {
				rec.OK = true
				rec.ReadyMS = ms(t - t0)
				rec.LagMS = ms(t - stamp)
				if a, ok := probe.AnswerStamp(string(body)); ok {
					rec.ProbeMS = ms(t - a)
				}
				rec.ListenMS = ms(stamp - t0)
				rec.FirstCurl = rec.Attempts == 1
				rec.CurlMS = ms(t - tc)
				return rec
			}
		}
		if t >= deadline {
			rec.Error = "no answer within " + c.deadline.String()
			return rec
		}
		time.Sleep(c.poll)
	}
	rec.Error = "interrupted"
	return rec
}

func errText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return err.Error()
}

// listenStamp is the app's listen stamp, from an answer that says "ok" (the
// same parsing as the harness's, so both detectors read the same stamp).
func listenStamp(body string) (int64, bool) {
	if !strings.HasPrefix(body, "ok") {
		return 0, false
	}
	return probe.ListenStamp(body)
}

// sweep force-removes whatever containers of this run are left (a start
// interrupted between `docker run` and `docker rm`).
func sweep(docker, runID string) {
	out, err := exec.Command(docker, "ps", "-aq", "--filter", "label=io.coldstart.fidelity="+runID).Output()
	if err != nil {
		return
	}
	ids := strings.Fields(string(out))
	if len(ids) > 0 {
		exec.Command(docker, append([]string{"rm", "-f"}, ids...)...).Run()
	}
}

// ---------------------------------------------------------------- phase 1-2

type lagData struct {
	Harness []hrec
	Loop    []lrec
	Dirs    []string
	// Wall time of each detector's batches (for context only).
	HarnessWallMS, LoopWallMS float64
}

func lagPhase(ctx context.Context, c *config, runID string, rep *report) error {
	base := filepath.Join("/tmp", "csfid-"+runID)
	if err := os.MkdirAll(base, 0o777); err != nil {
		return err
	}
	defer os.RemoveAll(base)
	ld := &lagData{}
	rep.Lag = ld
	lf, err := os.Create(filepath.Join(c.out, "loop.jsonl"))
	if err != nil {
		return err
	}
	defer lf.Close()
	enc := json.NewEncoder(lf)
	seq := 0
	for b := 0; b < c.batches; b++ {
		// Harness batch: B starts per row, round-robin seed, free, seed, ...
		dir := filepath.Join(c.out, fmt.Sprintf("lag-harness-%02d", b))
		t := mono()
		res, err := harnessRun(ctx, c, "scripts/fidelity/lag.yaml", c.batch, dir, "--scenario", strings.Join(rowNames(), ","))
		ld.HarnessWallMS += ms(mono() - t)
		if err != nil {
			return err
		}
		ld.Harness = append(ld.Harness, res.Records...)
		ld.Dirs = append(ld.Dirs, dir)
		// Loop batch: the same, row by row alternating.
		t = mono()
		for i := 0; i < c.batch && ctx.Err() == nil; i++ {
			for _, r := range rows {
				if ctx.Err() != nil {
					break
				}
				rec := loopStart(ctx, c, runID, r, b, seq, base)
				seq++
				ld.Loop = append(ld.Loop, rec)
				enc.Encode(rec)
			}
		}
		ld.LoopWallMS += ms(mono() - t)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fmt.Fprintf(os.Stderr, "  pair %d/%d done (load %s)\n", b+1, c.batches, loadavg())
	}
	return nil
}

// ---------------------------------------------------------------- phase 5

type versionData struct {
	N                                int
	MedianMS, P90MS                  float64
	MinMS, MaxMS                     float64
	Hyperfine                        string // "" when not installed
	HFMedianMS, HFMeanMS, HFStddevMS float64
	HFRuns                           int
}

func versionPhase(ctx context.Context, c *config) *versionData {
	v := &versionData{}
	for i := 0; i < 10; i++ { // warm the page cache
		exec.Command(c.bin, "version").Run()
	}
	var d []float64
	for i := 0; i < c.versionRuns && ctx.Err() == nil; i++ {
		t := mono()
		if err := exec.Command(c.bin, "version").Run(); err != nil {
			continue
		}
		d = append(d, ms(mono()-t))
	}
	v.N = len(d)
	v.MedianMS = pct(d, 50)
	v.P90MS = pct(d, 90)
	v.MinMS, _ = stats.Min(d)
	v.MaxMS, _ = stats.Max(d)
	hf, err := exec.LookPath("hyperfine")
	if err != nil || ctx.Err() != nil {
		return v
	}
	js := filepath.Join(c.out, "hyperfine.json")
	cmd := exec.CommandContext(ctx, hf, "-N", "--warmup", "20", "--runs", strconv.Itoa(c.versionRuns),
		"--export-json", js, c.bin+" version")
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Run(); err != nil {
		return v
	}
	var out struct {
		Results []struct {
			Mean, Stddev, Median float64
			Times                []float64
		}
	}
	b, _ := os.ReadFile(js)
	if json.Unmarshal(b, &out) == nil && len(out.Results) == 1 {
		r := out.Results[0]
		v.Hyperfine = "hyperfine -N --warmup 20 --runs " + strconv.Itoa(c.versionRuns)
		if ver, err := exec.Command(hf, "--version").Output(); err == nil {
			v.Hyperfine = strings.TrimSpace(string(ver)) + ": " + strings.TrimPrefix(v.Hyperfine, "hyperfine ")
		}
		v.HFMeanMS, v.HFStddevMS, v.HFMedianMS = r.Mean*1000, r.Stddev*1000, r.Median*1000
		v.HFRuns = len(r.Times)
	}
	return v
}

// ---------------------------------------------------------------- report

type sizes struct {
	Batches, Batch, CostRuns, OverheadRuns, VersionRuns int
	Poll                                                string
	Trial                                               bool
	Rows                                                []row
	Args                                                []string
}

type report struct {
	Machine               machineInfo
	Harness, Bin          string
	ReleaseSize           int64
	Started, Finished     time.Time
	LoadBefore, LoadAfter string
	Sizes                 sizes
	PhaseSeconds          map[string]float64
	Lag                   *lagData
	Cost, Overhead        *suiteResult
	Version               *versionData
}

// pct is montanaflynn/stats Percentile (linear interpolation, as the
// harness's own summaries); NaN when there is no data.
func pct(d []float64, p float64) float64 {
	if len(d) == 0 {
		return math.NaN()
	}
	if len(d) == 1 {
		return d[0]
	}
	v, err := stats.Percentile(d, p)
	if err != nil {
		return math.NaN()
	}
	return v
}

func med(d []float64) float64 { return pct(d, 50) }

func f2(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	switch {
	case math.Abs(v) >= 100:
		return fmt.Sprintf("%.0f", v)
	case math.Abs(v) >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

type dist struct {
	n, ok              int
	p50, p90, p99, max float64
}

func distOf(d []float64, n int) dist {
	x := dist{n: n, ok: len(d), p50: pct(d, 50), p90: pct(d, 90), p99: pct(d, 99)}
	x.max = math.NaN()
	if len(d) > 0 {
		x.max, _ = stats.Max(d)
	}
	return x
}

func (r *report) markdown(w io.Writer) {
	c, rows := r.Sizes, r.Sizes.Rows
	m := r.Machine
	title := "Harness fidelity and cost"
	if c.Trial {
		title += " (TRIAL sizes)"
	}
	fmt.Fprintf(w, "### %s\n\n", title)
	fmt.Fprintf(w, "Machine: %s, %d cores; kernel %s; Docker Engine %s, containerd %s, runc %s, cgroup %s; docker CLI %s, curl %s; %s. Harness: %s (%s). Load average before/after: %s / %s. Run %s, %s.\n\n",
		m.CPU, m.Cores, m.Kernel, m.Engine, m.Containerd, m.Runc, m.Cgroup, m.DockerCLI, m.Curl, m.Go,
		r.Harness, "release build CGO_ENABLED=0 -trimpath -ldflags='-s -w'", r.LoadBefore, r.LoadAfter,
		r.Started.Format(time.RFC3339), r.Finished.Sub(r.Started).Round(time.Second))
	if c.Trial {
		fmt.Fprintf(w, "> **Trial figures** (small sizes, `--trial`) on a shared, noisy machine: they show the benchmark works, not what the harness achieves.\n\n")
	}

	type tgt struct{ metric, target, measured, verdict string }
	var targets []tgt

	if ld := r.Lag; ld != nil {
		fmt.Fprintf(w, "#### Detection lag (go-hello; interleaved: %d pairs of a harness batch and a loop batch, %d starts per row per batch each)\n\n", c.Batches, c.Batch)
		fmt.Fprintf(w, "Lag = the detector's CLOCK_MONOTONIC when it has the healthy answer minus the app's `listen_mono_ns` (read right after its `listen()` returned). ms.\n\n")
		fmt.Fprintf(w, "| limits | detector | ok / n | p50 | p90 | p99 | max | ≥ 20 ms | notes |\n|---|---|---|---|---|---|---|---|---|\n")
		type agg struct {
			hReady, hCR, hIntent, hListen, lReady, lListen float64
		}
		aggs := map[string]agg{}
		for _, rw := range rows {
			var lag, listen, ready, cr, intent, busy, plag []float64
			n, cont, early, slow := 0, 0, 0, 0
			for _, h := range ld.Harness {
				if h.Scenario != rw.Name {
					continue
				}
				n++
				if h.Host != nil {
					busy = append(busy, h.Host.OtherBusyPct)
					if h.Host.Contended {
						cont++
					}
				}
				if h.Outcome != "ok" || h.ReadyMS == nil {
					continue
				}
				ready = append(ready, *h.ReadyMS)
				cr = append(cr, h.CreateMS+*h.ReadyMS)
				if h.IntentToT0MS != nil {
					intent = append(intent, *h.IntentToT0MS+*h.ReadyMS)
				}
				if *h.ReadyMS < h.StartCallMS {
					early++
				}
				if h.ProbeLagMS != nil {
					plag = append(plag, *h.ProbeLagMS)
				}
				if h.DetectLagMS != nil {
					lag = append(lag, *h.DetectLagMS)
					listen = append(listen, *h.ReadyMS-*h.DetectLagMS)
					if *h.DetectLagMS >= 20 {
						slow++
					}
				}
			}
			hd := distOf(lag, n)
			fmt.Fprintf(w, "| %s | harness (inotify, then connect + GET, 1 ms retry) | %d / %d | %s | %s | %s | %s | %d | healthy before `ContainerStart` returned in %d; %d contended (other CPU p50 %s%%); probe lag (healthy − app's handler stamp) p50 %s / p99 %s |\n",
				rw.Label, hd.ok, n, f2(hd.p50), f2(hd.p90), f2(hd.p99), f2(hd.max), slow, early, cont, f2(med(busy)), f2(distOf(plag, len(plag)).p50), f2(distOf(plag, len(plag)).p99))
			var llag, llisten, lready, lrun, lcurl, lplag []float64
			ln, first, before, lslow := 0, 0, 0, 0
			for _, l := range ld.Loop {
				if l.Row != rw.Name {
					continue
				}
				ln++
				lrun = append(lrun, l.RunMS)
				if !l.OK {
					continue
				}
				llag = append(llag, l.LagMS)
				if l.ProbeMS > 0 {
					lplag = append(lplag, l.ProbeMS)
				}
				llisten = append(llisten, l.ListenMS)
				lready = append(lready, l.ReadyMS)
				lcurl = append(lcurl, l.CurlMS)
				if l.LagMS >= 20 {
					lslow++
				}
				if l.FirstCurl {
					first++
				}
				if l.ListenMS < l.RunMS {
					before++
				}
			}
			lp := distOf(llag, ln)
			fmt.Fprintf(w, "| %s | loop (`docker run -d`, then `curl` every %v) | %d / %d | %s | %s | %s | %s | %d | `docker run -d` p50 %s ms, app already listening when it returned in %d; first curl answered in %d; answering curl's exec p50 %s ms; probe lag (curl done − app's handler stamp) p50 %s / p99 %s |\n",
				rw.Label, c.Poll, lp.ok, ln, f2(lp.p50), f2(lp.p90), f2(lp.p99), f2(lp.max), lslow, f2(med(lrun)), before, first, f2(med(lcurl)), f2(distOf(lplag, len(lplag)).p50), f2(distOf(lplag, len(lplag)).p99))
			aggs[rw.Name] = agg{med(ready), med(cr), med(intent), med(listen), med(lready), med(llisten)}
			if rw.Name == "seed" {
				targets = append(targets, tgt{"detection lag p99, seed limits (includes the app's own throttling)", "≤ 1 ms", f2(hd.p99) + " ms", verdict(hd.p99 <= 1)})
			} else {
				targets = append(targets, tgt{"detection lag p99, 2 CPUs (the detector alone)", "≤ 1 ms", f2(hd.p99) + " ms", verdict(hd.p99 <= 1)})
			}
		}
		fmt.Fprintf(w, "\n#### End-to-end ready time, harness vs loop (medians, ms)\n\n")
		fmt.Fprintf(w, "Harness t0 is just before `ContainerStart`, after create; the loop's t0 is just before `docker run -d`, which creates and starts. So the loop compares with the harness's create + ready (create_ms + ready_ms), or stricter with before-create → healthy (wal.jsonl intent → t0, + ready_ms: adds the intent's fsync, arming the probe and the exit wait).\n\n")
		fmt.Fprintf(w, "| limits | harness ready_ms | harness create_ms + ready_ms | harness before create → healthy | loop `docker run` → curl answered | loop / harness ready_ms | loop / harness create + ready | t0 → listen: harness / loop |\n|---|---|---|---|---|---|---|---|\n")
		for _, rw := range rows {
			p := aggs[rw.Name]
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s× | %s× | %s / %s |\n", rw.Label, f2(p.hReady), f2(p.hCR), f2(p.hIntent), f2(p.lReady),
				f2(p.lReady/p.hReady), f2(p.lReady/p.hCR), f2(p.hListen), f2(p.lListen))
		}
		fmt.Fprintln(w)
	}

	if s := r.Cost; s != nil && s.Harness != nil {
		h := s.Harness
		ok := 0
		for _, x := range s.Records {
			if x.Outcome == "ok" {
				ok++
			}
		}
		fmt.Fprintf(w, "#### Harness cost over a %d-start suite (go-hello, seed limits; %d ok)\n\n", h.Starts, ok)
		fmt.Fprintf(w, "| source | CPU per start | peak RSS | wall |\n|---|---|---|---|\n")
		fmt.Fprintf(w, "| summary.json `harness` (measured part: the starts) | %s ms | %s MiB | %s s |\n", f2(h.CPUMSPerStart), f2(float64(h.MaxRSSBytes)/(1<<20)), f2(h.WallMS/1000))
		fmt.Fprintf(w, "| %s, whole process (start-up, engine checks, summary too) | %s ms | %s MiB | %s s |\n\n", s.TimeTool,
			f2((s.ProcUserMS+s.ProcSysMS)/float64(h.Starts)), f2(float64(s.ProcMaxRSSKB)/1024), f2(s.ProcWallMS/1000))
		var lag []float64
		slow := 0
		for _, x := range s.Records {
			if x.Outcome == "ok" && x.DetectLagMS != nil {
				lag = append(lag, *x.DetectLagMS)
				if *x.DetectLagMS >= 20 {
					slow++
				}
			}
		}
		d := distOf(lag, len(s.Records))
		fmt.Fprintf(w, "Detection lag over the same %d starts (seed limits, not interleaved): p50 %s, p90 %s, p99 %s, max %s ms; %d of %d at ≥ 20 ms (the app throttled by CFS between `listen()` and its first answer).\n\n",
			len(s.Records), f2(d.p50), f2(d.p90), f2(d.p99), f2(d.max), slow, d.ok)
		targets = append(targets, tgt{"harness CPU per start", "≤ 2 ms", f2(h.CPUMSPerStart) + " ms", verdict(h.CPUMSPerStart <= 2)})
		rss := math.Max(float64(h.MaxRSSBytes), float64(s.ProcMaxRSSKB)*1024) / (1 << 20)
		targets = append(targets, tgt{"harness peak RSS", "≤ 50 MB", f2(rss) + " MiB", verdict(rss*(1<<20) <= 50e6)})
	}

	var ovRows []string
	for _, s := range []*suiteResult{r.Overhead, r.Cost} {
		if s == nil || s.Harness == nil {
			continue
		}
		var sum float64
		for _, x := range s.Records {
			wait := x.StartCallMS
			if x.ReadyMS != nil {
				wait = math.Max(wait, *x.ReadyMS)
			} else if x.Outcome == "deadline_exceeded" {
				wait = math.Max(wait, x.DeadlineMS)
			}
			sum += x.CreateMS + wait + x.RemoveMS
		}
		n := len(s.Records)
		ov := (s.Harness.WallMS - sum) / sum * 100
		ovProc := (s.ProcWallMS - sum) / sum * 100
		ovRows = append(ovRows, fmt.Sprintf("| %s | %d | %s | %s | %s | %s%% | %s | %s%% |", filepath.Base(s.Dir), n, f2(s.Harness.WallMS/1000), f2(sum/1000),
			f2((s.Harness.WallMS-sum)/float64(n)), f2(ov), f2(s.ProcWallMS/1000), f2(ovProc)))
		if s == r.Overhead {
			targets = append(targets, tgt{fmt.Sprintf("suite overhead (%d starts)", n), "≤ 10%", f2(ov) + "%", verdict(ov <= 10)})
		}
	}
	if len(ovRows) > 0 {
		fmt.Fprintf(w, "#### Idle overhead: suite wall time against the sum of its starts' create + max(start_call, ready) + remove\n\n")
		fmt.Fprintf(w, "| suite | starts | wall (s) | Σ starts (s) | overhead per start (ms) | overhead (wall − Σ) / Σ | process wall (s) | process overhead |\n|---|---|---|---|---|---|---|---|\n")
		for _, l := range ovRows {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintf(w, "\nwall = summary.json `harness.wall_ms` (the scheduling loop); process wall adds start-up, engine checks and the summary.\n\n")
	}

	if v := r.Version; v != nil {
		fmt.Fprintf(w, "#### `coldstart version` and binary size\n\n| measure | value |\n|---|---|\n")
		fmt.Fprintf(w, "| own exec loop, %d runs: median / p90 / min / max | %s / %s / %s / %s ms |\n", v.N, f2(v.MedianMS), f2(v.P90MS), f2(v.MinMS), f2(v.MaxMS))
		if v.Hyperfine != "" {
			fmt.Fprintf(w, "| %s: median / mean ± σ | %s / %s ± %s ms |\n", v.Hyperfine, f2(v.HFMedianMS), f2(v.HFMeanMS), f2(v.HFStddevMS))
		}
		fmt.Fprintf(w, "| release binary (`CGO_ENABLED=0 go build -trimpath -ldflags='-s -w'`) | %s MiB (%d bytes) |\n\n", f2(float64(r.ReleaseSize)/(1<<20)), r.ReleaseSize)
		best := v.MedianMS
		if v.Hyperfine != "" {
			best = v.HFMedianMS
		}
		targets = append(targets, tgt{"`coldstart version` wall (median)", "≤ 20 ms", f2(best) + " ms", verdict(best <= 20)})
	} else {
		fmt.Fprintf(w, "Release binary: %s MiB (%d bytes).\n\n", f2(float64(r.ReleaseSize)/(1<<20)), r.ReleaseSize)
	}

	if len(targets) > 0 {
		fmt.Fprintf(w, "#### Against the targets\n\n| metric | target | measured | |\n|---|---|---|---|\n")
		for _, t := range targets {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", t.metric, t.target, t.measured, t.verdict)
		}
		fmt.Fprintln(w)
	}
	cfg := []string{fmt.Sprintf("%d × %d starts per row per detector", c.Batches, c.Batch),
		fmt.Sprintf("cost suite %d", c.CostRuns), fmt.Sprintf("overhead suite %d", c.OverheadRuns),
		fmt.Sprintf("%d `version` execs", c.VersionRuns), "poll " + c.Poll,
		"command: `go run ./scripts/fidelity " + strings.Join(c.Args, " ") + "`"}
	var ph []string
	for _, k := range []string{"lag", "cost", "overhead", "version"} {
		if v, ok := r.PhaseSeconds[k]; ok {
			ph = append(ph, fmt.Sprintf("%s %.0f s", k, v))
		}
	}
	fmt.Fprintf(w, "Sizes: %s. Phase times: %s.\n", strings.Join(cfg, ", "), strings.Join(ph, ", "))
}
