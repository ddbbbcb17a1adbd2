package bench

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"strings"

	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/scenario"
)

// Builder is the subset of the Docker driver that preparation uses.
type Builder interface {
	ImageExists(ctx context.Context, ref string) (bool, error)
	ImageID(ctx context.Context, ref string) (string, error)
	Build(ctx context.Context, spec engine.BuildSpec, log io.Writer) error
	RemoveReplaced(ctx context.Context, id string)
}

// InputError is bad input: the suite, its images or setup commands, the run
// directory, or a refused resume. Nothing was started.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Prepare runs each scenario's setup commands (once per distinct command, in
// the suite's directory), builds the images that have a build section, and
// checks that every image exists locally. Nothing is pulled. skipSetup
// skips the setup commands; noBuild the builds too (the images were put on
// the engine beforehand: loaded, or pulled from a registry by the fleet).
func Prepare(ctx context.Context, s *scenario.Suite, b Builder, labels map[string]string, skipSetup, noBuild bool, log io.Writer) error {
	ran := map[string]bool{}
	built := map[string]bool{}
	for i := range s.Scenarios {
		sc := &s.Scenarios[i]
		for _, c := range sc.Setup {
			if ran[c] || skipSetup {
				continue
			}
			ran[c] = true
			fmt.Fprintf(log, "setup %s: %s\n", sc.Name, c)
			cmd := exec.CommandContext(ctx, "sh", "-c", c)
			cmd.Dir = s.Dir
			// The output goes to the log and, for the error, its tail is kept
			// (the log may be discarded with --quiet).
			var tail tailBuffer
			cmd.Stdout, cmd.Stderr = io.MultiWriter(log, &tail), io.MultiWriter(log, &tail)
			if err := cmd.Run(); err != nil {
				return &InputError{fmt.Errorf("%s:%d:1: scenarios[%d].setup: %q: %v%s", s.File, sc.Line, i, c, err, tail.String())}
			}
		}
		if sc.Cache == scenario.CacheDrop {
			if err := CanDropCaches(); err != nil {
				return &InputError{fmt.Errorf("%s:%d:1: scenarios[%d].cache: %v", s.File, sc.Line, i, err)}
			}
		}
		if sc.Build != nil && !noBuild && !built[sc.Image] {
			built[sc.Image] = true
			l := map[string]string{engine.LabelScenario: sc.Name}
			for k, v := range labels {
				l[k] = v
			}
			fmt.Fprintf(log, "build %s -> %s\n", sc.Build.Context, sc.Image)
			before, _ := b.ImageID(ctx, sc.Image)
			err := b.Build(ctx, engine.BuildSpec{Context: sc.Build.Context, Dockerfile: sc.Build.Dockerfile,
				Tag: sc.Image, Args: sc.Build.Args, Labels: l}, io.Discard)
			if err != nil {
				return &InputError{fmt.Errorf("%s:%d:1: scenarios[%d].build: %w", s.File, sc.Line, i, err)}
			}
			// A rebuild that changed the image leaves the old one untagged: ours to remove.
			if after, _ := b.ImageID(ctx, sc.Image); before != "" && after != before {
				b.RemoveReplaced(ctx, before)
			}
		}
		ok, err := b.ImageExists(ctx, sc.Image)
		if err != nil {
			return err
		}
		if !ok {
			return &InputError{fmt.Errorf("%s:%d:1: scenarios[%d].image: image %q is not on this engine, and coldstart never pulls: %s", s.File, sc.Line, i, sc.Image, missingHint(noBuild))}
		}
	}
	return nil
}

func missingHint(noBuild bool) string {
	if noBuild {
		return "load it on this engine first (--no-build does not build)"
	}
	return "build it or add a build section"
}

// tailBuffer keeps the last 2 KiB written to it.
type tailBuffer struct{ b []byte }

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 2048 {
		t.b = t.b[len(t.b)-2048:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	s := strings.TrimSpace(string(t.b))
	if s == "" {
		return ""
	}
	return "\n  " + strings.ReplaceAll(s, "\n", "\n  ")
}
