package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// measure runs the selected phases, writes report.json and results.md into
// the output directory and the Markdown to stdout.
func measure(ctx context.Context, c *config, stdout io.Writer) error {
	rep, err := prepare(c)
	if err != nil {
		return err
	}
	runID := fmt.Sprintf("%d-%d", time.Now().Unix(), os.Getpid())
	defer sweep(c.docker, runID)
	if err := runPhases(ctx, c, runID, rep); err != nil {
		return err
	}
	rep.LoadAfter = loadavg()
	rep.Finished = time.Now().UTC()
	if err := writeReport(c.out, rep); err != nil {
		return err
	}
	var md bytes.Buffer
	if err := render(c.out, &md); err != nil {
		return err
	}
	stdout.Write(md.Bytes())
	if err := os.WriteFile(filepath.Join(c.out, "results.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(c.log, "raw data in %s (%s)\n", c.out, rep.Finished.Sub(rep.Started).Round(time.Second))
	return ctx.Err()
}

// prepare finds the tools, moves to the module root, makes the output
// directory, builds the release binary and describes the machine.
func prepare(c *config) (*report, error) {
	var err error
	if c.docker, err = exec.LookPath("docker"); err != nil {
		return nil, err
	}
	if c.phases["lag"] {
		if c.curl, err = exec.LookPath("curl"); err != nil {
			return nil, err
		}
	}
	for _, p := range []*string{&c.bin, &c.baseline} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return nil, err
			}
		}
	}
	if c.root, err = moduleRoot(); err != nil {
		return nil, err
	}
	if err := os.Chdir(c.root); err != nil {
		return nil, err
	}
	if c.out == "" {
		c.out = filepath.Join("results", "fidelity", time.Now().UTC().Format("20060102T150405Z"))
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return nil, err
	}
	c.out, _ = filepath.Abs(c.out)
	rep := &report{V: reportVersion, Machine: machine(c.docker), Started: time.Now().UTC(), LoadBefore: loadavg(),
		Sizes: sizesOf(c), PhaseSeconds: map[string]float64{}}
	release := filepath.Join(c.out, "coldstart")
	if rep.ReleaseSize, err = buildRelease(release, c.log); err != nil {
		return nil, err
	}
	if c.bin == "" {
		c.bin = release
	}
	if rep.Measured, err = identify(c.bin); err != nil {
		return nil, err
	}
	if err := exec.Command(c.docker, "image", "inspect", c.image).Run(); err != nil {
		return nil, fmt.Errorf("image %s is not local: build it first with `%s run --runs 1 scenarios/quickstart.yaml`", c.image, c.bin)
	}
	return rep, nil
}

// runPhases runs the selected phases in order, timing each.
func runPhases(ctx context.Context, c *config, runID string, rep *report) error {
	cost := fmt.Sprintf("%d-start suite", c.costRuns)
	if c.baseline != "" {
		cost = fmt.Sprintf("%d pairs of %d-start batches, measured vs %s", c.costPairs, c.costBatch, c.baseline)
	}
	phases := []struct {
		name, what string
		f          func() error
	}{
		{"lag", fmt.Sprintf("%d pairs of batches, %d starts per row per batch per detector", c.batches, c.batch),
			func() (err error) { rep.Lag, err = lagPhase(ctx, c, runID); return err }},
		{"cost", cost, func() (err error) {
			if c.baseline != "" {
				rep.SideBySide, err = sideBySidePhase(ctx, c, rep.Measured)
				return err
			}
			rep.Cost, err = costPhase(ctx, c)
			return err
		}},
		{"overhead", fmt.Sprintf("%d-start suite", c.overheadRuns),
			func() (err error) { rep.Overhead, err = overheadPhase(ctx, c); return err }},
		{"version", fmt.Sprintf("%d execs", c.versionRuns),
			func() error { rep.Version = versionPhase(ctx, c); return nil }},
	}
	for _, p := range phases {
		if !c.phases[p.name] {
			continue
		}
		fmt.Fprintf(c.log, "%s: %s (load %s)\n", p.name, p.what, loadavg())
		t := time.Now()
		err := p.f()
		rep.PhaseSeconds[p.name] = time.Since(t).Round(100 * time.Millisecond).Seconds()
		fmt.Fprintf(c.log, "%s: %.1f s\n", p.name, rep.PhaseSeconds[p.name])
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
	}
	return nil
}
