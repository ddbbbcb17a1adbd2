package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/summary"
)

// TestSoak runs 300+ starts with the harness killed at random moments
// (SIGINT, SIGTERM, SIGKILL) and resumed each time. At the end: no container,
// image or socket dir of the soak remains, the journal holds every planned
// start exactly once, and the summary counts what an uninterrupted run would.
// Not in the default test run:
//
//	COLDSTART_SOAK=1 go test -run Soak -timeout 60m -v ./harness/cli
func TestSoak(t *testing.T) {
	if os.Getenv("COLDSTART_SOAK") == "" {
		t.Skip("set COLDSTART_SOAK=1 to run the soak test (minutes)")
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("COLDSTART_SOAK_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	rng := rand.New(rand.NewSource(seed))
	t.Logf("seed %d", seed)

	tmp := t.TempDir()
	bin := filepath.Join(tmp, "coldstart")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/coldstart").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	sockBase, err := os.MkdirTemp("/tmp", "cssoak-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(sockBase)
	dir := filepath.Join(tmp, "run")
	suite := "testdata/soak.yaml"

	d, err := engine.Dial(context.Background(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	soakImages := []string{"coldstart-soak/go-hello:latest", "coldstart-soak/null:latest"}
	removeImages := func() {
		for _, img := range soakImages {
			d.RemoveImage(context.Background(), img)
		}
	}
	defer removeImages()

	signals := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL}
	kills := map[string]int{}
	attempts := 0
	start := time.Now()
	for {
		attempts++
		args := []string{"run", "--quiet", "--socket-dir", sockBase, "--out", dir, suite}
		if _, err := os.Stat(filepath.Join(dir, journal.ManifestFile)); err == nil {
			args = []string{"run", "--quiet", "--socket-dir", sockBase, "--resume", dir}
		}
		cmd := exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// Kill at a random moment: anywhere in a start's phases, in setup, or while writing.
		wait := time.Duration(500+rng.Intn(7000)) * time.Millisecond
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("harness run %d ended with %v", attempts, err)
			}
			goto finished
		case <-time.After(wait):
		}
		sig := signals[rng.Intn(len(signals))]
		cmd.Process.Signal(sig)
		err := <-done
		kills[sig.String()]++
		code := -1
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		t.Logf("run %d: %v after %v -> exit %d", attempts, sig, wait, code)
		if time.Since(start) > 50*time.Minute {
			t.Fatal("soak did not finish in 50 minutes")
		}
	}
finished:
	t.Logf("finished after %d harness runs in %v; interruptions %v", attempts, time.Since(start).Round(time.Second), kills)

	recs, warns, err := journal.Read(filepath.Join(dir, journal.RunsFile))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, r := range recs {
		seen[fmt.Sprintf("%s/%s/%d", r.Scenario, r.Kind, r.Iteration)]++
	}
	const planned = 2 * (150 + 1)
	dups := 0
	for k, n := range seen {
		if n != 1 {
			dups++
			t.Errorf("start %s journaled %d times", k, n)
		}
	}
	if len(seen) != planned {
		t.Errorf("%d distinct starts journaled, want %d", len(seen), planned)
	}
	b, err := os.ReadFile(filepath.Join(dir, journal.SummaryFile))
	if err != nil {
		t.Fatal(err)
	}
	var s summary.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	ok := 0
	for _, sc := range s.Scenarios {
		if sc.N != 150 || sc.NWarmup != 1 {
			t.Errorf("%s: n=%d warmup=%d, want 150 and 1", sc.Name, sc.N, sc.NWarmup)
		}
		ok += sc.OK
	}
	if s.Interrupted || s.Completed != planned {
		t.Errorf("final summary: interrupted=%v completed=%d, want false and %d", s.Interrupted, s.Completed, planned)
	}
	m, err := journal.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := d.List(context.Background(), map[string]string{engine.LabelRun: m.Run})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		t.Errorf("container %s (%s) left behind", c.Name, c.State)
	}
	removeImages()
	leftImages := 0
	for _, img := range soakImages {
		if ok, _ := d.ImageExists(context.Background(), img); ok {
			leftImages++
			t.Errorf("image %s left behind", img)
		}
	}
	ents, _ := os.ReadDir(sockBase)
	t.Logf("SOAK: %d harness runs, interruptions %v, %d records kept (%d planned, %d ok, %d duplicates, %d torn-line warnings), resumes %d, leftover containers %d, images %d, socket dirs %d, wall %v",
		attempts, kills, len(recs), planned, ok, dups, len(warns), len(m.Resumes), len(cs), leftImages, len(ents), time.Since(start).Round(time.Second))
	if len(ents) != 0 {
		t.Errorf("socket dirs left: %d", len(ents))
	}
	// Harnesses killed with their base's tmpfs mounted: the last one out
	// unmounted it.
	if m := mountsAt(sockBase); len(m) > 0 {
		t.Errorf("mounts left at %s: %v", sockBase, m)
		syscall.Unmount(sockBase, 0)
	}
}
