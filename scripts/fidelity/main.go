// Command fidelity benchmarks the coldstart harness itself, on the real
// engine, and prints the results as Markdown tables for the README:
//
//  1. detection lag (p50/p90/p99/max) of the harness versus a hand-written
//     loop (docker run -d; curl --unix-socket every 5 ms; docker rm -f), on
//     coldstart/go-hello, interleaved batch by batch, under the seed limits
//     and without CPU throttling (2 CPUs);
//  2. end-to-end ready time, harness versus loop, and their ratio;
//  3. the harness's CPU time per start and peak RSS over a 500-start suite
//     (summary.json, cross-checked with /usr/bin/time -v); with
//     --baseline-bin, side by side with another binary in interleaved batches;
//  4. the wall time of a 100-start suite against the sum of its starts'
//     create + start/ready + remove times: the harness's idle overhead;
//  5. `coldstart version` wall time (own exec loop, and hyperfine if
//     installed) and the size of the release binary.
//
// Run from the module root (see scripts/fidelity/README.md):
//
//	go run ./scripts/fidelity            # full size
//	go run ./scripts/fidelity --trial    # small sizes, to check it works
//	go run ./scripts/fidelity --render DIR
//
// The files follow those sections: config.go (flags), measure.go (the phases
// in order), lag.go and loop.go (1-2), cost.go (3), overhead.go (4),
// version.go (5), runs.go (running the harness and reading its run
// directories back with its own types), machine.go, report.go and render*.go
// (report.json and the Markdown), stats.go.
//
// Only containers it makes are touched: they carry io.coldstart.harness=1 and
// io.coldstart.fidelity=<run id>, and are force-removed even on Ctrl-C.
package main

import (
	"context"
	"errors"
	"flag"
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
		fmt.Fprintln(os.Stderr, "fidelity:", err)
		os.Exit(1)
	}
}

// run is the whole program: measure (and print the Markdown), or with
// --render print the Markdown of an earlier run.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c, err := parseConfig(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if c.render != "" {
		return render(c.render, stdout)
	}
	return measure(ctx, c, stdout)
}
