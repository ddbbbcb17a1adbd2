// Command gatebench measures the commit gate's error rates on this machine:
// how often a candidate identical to its baseline is called regressed (false
// alarm) and how often a planted +10% slowdown is (detection), at several
// numbers of pairs.
//
// Two ways, both driving the project's own verdict code (summary.ComparePaired):
//
//	go run ./scripts/gatebench sim RUN_DIR...   # resample recorded A/A pairs (fast)
//	go run ./scripts/gatebench live [flags]     # repeated real `coldstart ab` runs (slow)
//
// sim draws n pairs with replacement from the A/A pairs of recorded paired
// runs (real noise of this machine), as they are for A/A and with the
// candidate's ready time × 1.10 for A/B, many times per n. live builds a
// suite of go-hello with an A/A scenario and an A/B one whose candidate
// waits DELAY_MS before it listens, runs `coldstart ab` on it again and again,
// and counts the verdicts. See scripts/gatebench/README.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatebench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: gatebench sim RUN_DIR... | gatebench live [flags]")
	}
	switch args[0] {
	case "sim":
		return simulate(args[1:], stdout)
	case "live":
		return live(ctx, args[1:], stdout, stderr)
	}
	return fmt.Errorf("unknown mode %q: want sim or live", args[0])
}
