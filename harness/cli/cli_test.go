package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/journal"
)

func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := Run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

// ownContainers lists every container of coldstart on the engine.
func ownContainers(t *testing.T) []engine.Container {
	t.Helper()
	d, err := engine.Dial(context.Background(), 5*time.Second)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	defer d.Close()
	cs, err := d.List(context.Background(), map[string]string{engine.LabelHarness: "1"})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func TestVersion(t *testing.T) {
	out, _, err := run(t, "version")
	if err != nil || !strings.HasPrefix(out, "coldstart "+Version) {
		t.Fatalf("version: %q %v", out, err)
	}
}

func TestUnknownCommand(t *testing.T) {
	_, _, err := run(t, "frobnicate")
	if Code(err) != ExitBadInput {
		t.Fatalf("exit %d, want %d", Code(err), ExitBadInput)
	}
}

func TestHelpEverywhere(t *testing.T) {
	for _, cmd := range []string{"run", "validate", "gc", "compare", "report", "version", "completion"} {
		stdout, _, err := run(t, cmd, "--help")
		if Code(err) != 0 || !strings.Contains(stdout, "Usage:\n  coldstart "+cmd) {
			t.Errorf("%s --help: exit %d, stdout %q", cmd, Code(err), stdout)
		}
	}
}

// A bad suite is refused before anything touches the engine: exit 2, the
// errors with file:line:col, and no container made.
func TestRunBadSuiteStartsNothing(t *testing.T) {
	before := len(ownContainers(t))
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("suite: bad\nscenarios:\n  - name: x\n    image: nothing:here\n    limits: {memory: 12x}\n    runs: 0\n"), 0o644)
	_, _, err := run(t, "run", "--quiet", bad)
	if Code(err) != ExitBadInput {
		t.Fatalf("exit %d (%v), want 2", Code(err), err)
	}
	msg := err.Error()
	for _, want := range []string{bad + ":5:", "limits.memory", bad + ":6:", "runs"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q:\n%s", want, msg)
		}
	}
	if after := len(ownContainers(t)); after != before {
		t.Errorf("containers %d -> %d: a bad suite started something", before, after)
	}
}

func TestRunMissingImageIsBadInput(t *testing.T) {
	f := filepath.Join(t.TempDir(), "s.yaml")
	os.WriteFile(f, []byte("suite: s\nscenarios:\n  - name: x\n    image: coldstart-test/does-not-exist:never\n    runs: 1\n"), 0o644)
	_, _, err := run(t, "run", "--quiet", "--out", t.TempDir(), f)
	if Code(err) != ExitBadInput || !strings.Contains(err.Error(), "never pulls") {
		t.Fatalf("exit %d (%v), want 2 and a word about pulling", Code(err), err)
	}
}

func TestRunEngineUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///tmp/coldstart-no-engine.sock")
	start := time.Now()
	_, _, err := run(t, "run", "--quiet", "--out", t.TempDir(), "../../scenarios/quickstart.yaml")
	if Code(err) != ExitEngine {
		t.Fatalf("exit %d (%v), want %d", Code(err), err, ExitEngine)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v to say the engine is unreachable", d)
	}
}

func TestValidate(t *testing.T) {
	out, _, err := run(t, "validate", "../../scenarios/quickstart.yaml")
	if err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("validate quickstart: %v %q", err, out)
	}
}

// The quickstart end to end: table on stdout, the three files in the run dir,
// one journal line per start, nothing left on the engine.
func TestRunQuickstart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	out, stderr, err := run(t, "run", "--runs", "3", "--out", dir, "../../scenarios/quickstart.yaml")
	if err != nil {
		t.Fatalf("run: %v\nstderr:\n%s", err, stderr)
	}
	for _, col := range []string{"p50", "p90", "p95", "p99", "go-hello", "kernel_memory", "not enforced"} {
		if !strings.Contains(out, col) {
			t.Errorf("table lacks %q:\n%s", col, out)
		}
	}
	recs, warns, err := journal.Read(filepath.Join(dir, journal.RunsFile))
	if err != nil || len(warns) > 0 {
		t.Fatalf("journal: %v %v", err, warns)
	}
	if len(recs) != 4 { // 1 warmup + 3 measured
		t.Errorf("%d records, want 4", len(recs))
	}
	for _, f := range []string{journal.ManifestFile, journal.SummaryFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	// The same run renders again from its journal, as the run printed it.
	again, _, err := run(t, "report", dir)
	if err != nil || again != out {
		t.Errorf("report of the run differs from what run printed (%v):\n%s\n---\n%s", err, again, out)
	}
	for _, c := range ownContainers(t) {
		if strings.HasPrefix(c.Name, "coldstart-") && c.Labels[engine.LabelOwner] != "" {
			if r := c.Labels[engine.LabelRun]; r == recs[0].Run {
				t.Errorf("container %s of the run left behind", c.Name)
			}
		}
	}
}

// compare reads two journals and gates on a regression.
func TestCompareGate(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, base float64) string {
		p := filepath.Join(dir, name)
		f, _ := os.Create(p)
		for i := 0; i < 30; i++ {
			fmt.Fprintf(f, `{"v":1,"scenario":"s","kind":"measure","iter":%d,"outcome":"ok","ready_ms":%g,"deadline_ms":3000}`+"\n", i, base+float64(i%10))
		}
		f.Close()
		return p
	}
	old, slow := write("old.jsonl", 100), write("new.jsonl", 130)
	out, _, err := run(t, "compare", old, old)
	if err != nil || !strings.Contains(out, "+0.0%") {
		t.Fatalf("same runs: %v\n%s", err, out)
	}
	_, _, err = run(t, "compare", "--fail-above", "10", old, slow)
	if Code(err) != ExitMisses || !strings.Contains(err.Error(), "p50") {
		t.Fatalf("a 30%% regression with --fail-above 10: exit %d (%v), want %d", Code(err), err, ExitMisses)
	}
	if _, _, err := run(t, "compare", old); Code(err) != ExitBadInput {
		t.Errorf("one run: exit %d, want 2", Code(err))
	}
}

// A Dockerfile that fails to build is bad input: exit 2 with the builder's
// words and the suite's line, and no start.
func TestRunFailingBuildIsBadInput(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "app"), 0o755)
	os.WriteFile(filepath.Join(dir, "app", "Dockerfile"), []byte("FROM scratch\nCOPY missing-file /x\n"), 0o644)
	f := filepath.Join(dir, "s.yaml")
	os.WriteFile(f, []byte("suite: s\nscenarios:\n  - name: x\n    build: {context: app}\n    image: coldstart-test/failing-build:never\n"), 0o644)
	_, _, err := run(t, "run", "--quiet", "--out", filepath.Join(dir, "run"), f)
	if Code(err) != ExitBadInput || !strings.Contains(err.Error(), f+":3:1: scenarios[0].build") || !strings.Contains(err.Error(), "missing-file") {
		t.Fatalf("exit %d (%v), want 2 naming the build and the missing file", Code(err), err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run", "runs.jsonl")); !os.IsNotExist(err) {
		t.Errorf("a failed build still started a run: %v", err)
	}
}

// A failing setup command is bad input; its output's tail is in the error
// even with --quiet.
func TestRunFailingSetupIsBadInput(t *testing.T) {
	f := filepath.Join(t.TempDir(), "s.yaml")
	os.WriteFile(f, []byte("suite: s\nscenarios:\n  - name: x\n    setup: [\"echo boom-output >&2; exit 3\"]\n    image: coldstart/go-hello:latest\n"), 0o644)
	_, _, err := run(t, "run", "--quiet", "--out", t.TempDir(), f)
	if Code(err) != ExitBadInput || !strings.Contains(err.Error(), "scenarios[0].setup") || !strings.Contains(err.Error(), "boom-output") {
		t.Fatalf("exit %d (%v), want 2 with the command's output", Code(err), err)
	}
}

// A COLDSTART_MONITOR_SLACK that is not a duration is bad input (exit 2),
// before anything is built or started; 0 and a duration are taken.
func TestMonitorSlackEnv(t *testing.T) {
	out := t.TempDir()
	for _, v := range []string{"fast", "-1ms", "10"} {
		t.Setenv("COLDSTART_MONITOR_SLACK", v)
		_, _, err := run(t, "run", "--out", filepath.Join(out, "x"), "../../scenarios/quickstart.yaml")
		if Code(err) != ExitBadInput || !strings.Contains(err.Error(), "COLDSTART_MONITOR_SLACK") {
			t.Errorf("%q: exit %d (%v), want %d naming the variable", v, Code(err), err, ExitBadInput)
		}
		if _, err := os.Stat(filepath.Join(out, "x")); err == nil {
			t.Errorf("%q: the run directory was made", v)
		}
	}
	for _, v := range []string{"0", "2ms"} {
		t.Setenv("COLDSTART_MONITOR_SLACK", v)
		restore, err := oneP()
		if err != nil {
			t.Errorf("%q: %v", v, err)
			continue
		}
		restore()
	}
}
