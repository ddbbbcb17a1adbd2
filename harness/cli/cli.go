// Package cli wires the commands: each subcommand is a thin shell over one
// library call. Errors carry what went wrong; Code alone turns them into the
// documented exit codes, and main exits once.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/coldstart/coldstart/harness/bench"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/merge"
	"github.com/coldstart/coldstart/harness/scenario"
	"github.com/coldstart/coldstart/harness/swarm"
)

// Exit codes, documented in the README.
const (
	ExitOK          = 0
	ExitError       = 1   // internal error, results not durable
	ExitBadInput    = 2   // bad suite, flags, missing image, failed build or setup
	ExitEngine      = 3   // the engine cannot be reached
	ExitMisses      = 4   // --fail-on-miss and a measured start missed; compare --fail-above
	ExitRegressed   = 5   // a paired verdict: the candidate regressed
	ExitSLO         = 6   // an SLO of the suite was not met
	ExitUnsure      = 7   // a paired verdict is inconclusive (drift, contention, too few pairs): rerun
	ExitIncomplete  = 8   // a merged run misses starts: a shard is missing or stopped early
	ExitNoCapacity  = 9   // coldstart plan: no point of the grid meets the SLO
	ExitMaxDuration = 124 // --max-duration reached (as timeout(1))
	ExitInterrupted = 130
	ExitTerminated  = 143
)

// Version of the harness; the VCS revision is appended when the binary has it.
var Version = "0.2.0"

// Errors that only the command line makes; the packages below make the rest.
var (
	errMisses       = errors.New("measured starts missed")
	errRegressed    = errors.New("regressed")
	errSLO          = errors.New("SLO not met")
	errInconclusive = errors.New("inconclusive")
	errMaxDuration  = errors.New("--max-duration reached")
	errIncomplete   = errors.New("incomplete")
)

// usageError is a bad command line: flags, arguments, an unknown command.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return &usageError{fmt.Errorf(format, args...)} }

// interrupted is the cause of a run cancelled by a signal.
type interrupted struct{ sig os.Signal }

func (e *interrupted) Error() string { return "interrupted by " + e.sig.String() }

// Code maps an error to the process's exit code; it is the only place that
// does. A nil error is 0.
func Code(err error) int {
	var (
		intr    *interrupted
		usage   *usageError
		input   *bench.InputError
		suite   *scenario.Errors
		mergeIn *merge.InputError
		swarmIn *swarm.InputError
	)
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &intr):
		if intr.sig == syscall.SIGTERM {
			return ExitTerminated
		}
		return ExitInterrupted
	case errors.Is(err, errMaxDuration):
		return ExitMaxDuration
	case errors.Is(err, errRegressed):
		return ExitRegressed
	case errors.Is(err, errSLO):
		return ExitSLO
	case errors.Is(err, errInconclusive):
		return ExitUnsure
	case errors.Is(err, errIncomplete), errors.Is(err, swarm.ErrNoShard):
		return ExitIncomplete
	case errors.Is(err, errMisses):
		return ExitMisses
	case errors.Is(err, errNoCapacity):
		return ExitNoCapacity
	case errors.As(err, &usage), errors.As(err, &input), errors.As(err, &suite), errors.As(err, &mergeIn), errors.As(err, &swarmIn):
		return ExitBadInput
	case errors.Is(err, engine.ErrUnreachable):
		return ExitEngine
	}
	return ExitError
}

// Main runs the command line and returns the exit code; main exits with it.
func Main() int {
	err := Run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)
	if err != nil {
		msg := err.Error()
		if !strings.HasSuffix(msg, "\n") {
			msg += "\n"
		}
		fmt.Fprint(os.Stderr, "coldstart: "+msg)
	}
	return Code(err)
}

// Run executes one command line. Tests call it directly.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRoot(stdout, stderr, args)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}

// newRoot builds the command tree. Flags belong to the command that uses
// them and are built inside it; flags may come before or after arguments.
// commandLine is what the run's manifest records.
func newRoot(stdout, stderr io.Writer, commandLine []string) *cobra.Command {
	root := &cobra.Command{
		Use:   "coldstart",
		Short: "Measure the cold start of apps in constrained containers",
		Long: `coldstart starts each app image of a suite fresh, many times, under the CPU
and memory limits the suite gives (by default the seed study's: 10% of one CPU,
128 MiB, no swap), times the way from the start call to the first healthy
HTTP answer on the app's Unix socket against a deadline (3 s), journals every
start, and turns the journal into percentiles, reports and exit codes.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		// Without a command: the help on stderr, and bad input.
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, args []string) error {
			c.SetOut(stderr)
			c.Help()
			if len(args) > 0 {
				msg := fmt.Sprintf("unknown command %q", args[0])
				if s := c.SuggestionsFor(args[0]); len(s) > 0 {
					msg += "; did you mean " + strings.Join(s, " or ") + "?"
				}
				return usagef("%s", msg)
			}
			return usagef("no command")
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(
		newRunCmd(commandLine),
		newABCmd(commandLine),
		newValidateCmd(),
		newPlanCmd(commandLine),
		newReportCmd(),
		newCompareCmd(),
		newMergeCmd(commandLine),
		newSwarmCmd(commandLine),
		newTrendCmd(),
		newRecordCmd(),
		newGCCmd(),
		newVersionCmd(),
	)
	return root
}

// args checks the number of positional arguments as bad input (exit 2).
func args(min, max int, what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, a []string) error {
		if len(a) < min || (max >= 0 && len(a) > max) {
			return usagef("want %s, got %d argument(s)", what, len(a))
		}
		return nil
	}
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the harness's version",
		Args:  args(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			fmt.Fprintln(c.OutOrStdout(), "coldstart", FullVersion())
			return nil
		},
	}
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
