// Package cli wires the commands: each subcommand is a thin shell over one
// library call. Exit codes travel on the error to main.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
)

// Exit codes, documented in the README.
const (
	ExitOK          = 0
	ExitError       = 1   // internal error, results not durable
	ExitBadInput    = 2   // bad suite, flags, missing image, failed build or setup
	ExitEngine      = 3   // the engine cannot be reached
	ExitMisses      = 4   // --fail-on-miss and a measured start missed
	ExitMaxDuration = 124 // --max-duration reached (as timeout(1))
	ExitInterrupted = 130
	ExitTerminated  = 143
)

// Version of the harness; the VCS revision is appended when the binary has it.
var Version = "0.1.0"

// ExitError carries an exit code to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// WithCode attaches an exit code to err.
func WithCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

// Code returns the exit code an error carries (1 if none, 0 for nil).
func Code(err error) int {
	if err == nil {
		return 0
	}
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return ExitError
}

// Main runs the command line and returns the exit code. main is one line.
func Main() int {
	err := Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		msg := err.Error()
		if !strings.HasSuffix(msg, "\n") {
			msg += "\n"
		}
		fmt.Fprint(os.Stderr, "coldstart: "+msg)
	}
	return Code(err)
}

const usage = `coldstart: measure the cold start of apps in constrained containers.

Usage:
  coldstart run [flags] [SUITE]    run a suite (default scenarios/seed.yaml)
  coldstart validate SUITE...      check suite files; exit 2 on any error
  coldstart report [--format F] RUN_DIR   render a run again from its journal
  coldstart compare OLD NEW        compare two runs: p50/p95 changes with confidence intervals
  coldstart gc                     remove leftovers of dead coldstart processes
  coldstart version                print the version

Run 'coldstart COMMAND --help' for a command's flags.
`

// Run executes one command line.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return WithCode(ExitBadInput, errors.New("no command"))
	}
	switch args[0] {
	case "run":
		return cmdRun(ctx, args[1:], stdout, stderr)
	case "validate":
		return cmdValidate(args[1:], stdout, stderr)
	case "gc":
		return cmdGC(ctx, args[1:], stdout, stderr)
	case "compare":
		return cmdCompare(args[1:], stdout, stderr)
	case "report":
		return cmdReport(args[1:], stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "coldstart", FullVersion())
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return WithCode(ExitBadInput, fmt.Errorf("unknown command %q", args[0]))
}

// parseFlags parses a command's flags: --help is not an error (exit 0, the
// usage already printed), anything else is bad input.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return WithCode(ExitBadInput, err)
	}
	return nil
}

// FullVersion is Version plus the VCS revision when the build recorded it.
func FullVersion() string {
	v := Version
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				v += "+" + s.Value[:12]
			}
		}
	}
	return v
}

// signalContext cancels on the first SIGINT/SIGTERM and remembers which; a
// second signal exits at once (the journal is valid after every record).
func signalContext(ctx context.Context, stderr io.Writer) (context.Context, func() os.Signal, func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	var got atomic.Value
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			got.Store(s)
			fmt.Fprintf(stderr, "\ncoldstart: %v: stopping after removing the container in flight (again to quit now)\n", s)
			cancel()
		case <-done:
			return
		}
		select {
		case s := <-ch:
			code := ExitInterrupted
			if s == syscall.SIGTERM {
				code = ExitTerminated
			}
			os.Exit(code)
		case <-done:
		}
	}()
	stop := func() {
		signal.Stop(ch)
		close(done)
		cancel()
	}
	return ctx, func() os.Signal { s, _ := got.Load().(os.Signal); return s }, stop
}
