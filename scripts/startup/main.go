// Command startup measures how long binaries take to start and exit: each
// is run N times with the same arguments, interleaved (A B A B ...) so that
// the host's drift falls on every binary alike, and the wall time of each
// run (fork + exec + Go runtime and package init + the command + exit) is
// summarised per binary with its size.
//
//	go run ./scripts/startup -n 200 /tmp/coldstart-before /tmp/coldstart-after -- version
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"time"
)

func main() {
	n := flag.Int("n", 200, "runs of each binary")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: startup [-n N] BINARY... [-- ARGS...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	bins, args := split(flag.Args())
	if len(bins) == 0 || *n < 1 {
		flag.Usage()
		os.Exit(2)
	}
	times := make([][]time.Duration, len(bins))
	for i := 0; i < *n; i++ {
		for j, b := range bins {
			d, err := once(b, args)
			if err != nil {
				fmt.Fprintf(os.Stderr, "startup: %s: %v\n", b, err)
				os.Exit(1)
			}
			times[j] = append(times[j], d)
		}
	}
	fmt.Printf("%d runs each, interleaved; args %q\n", *n, args)
	fmt.Printf("%-40s %10s %10s %10s %10s %12s\n", "binary", "min ms", "median ms", "p90 ms", "max ms", "size bytes")
	for j, b := range bins {
		t := times[j]
		slices.Sort(t)
		size := int64(-1)
		if st, err := os.Stat(b); err == nil {
			size = st.Size()
		}
		fmt.Printf("%-40s %10.2f %10.2f %10.2f %10.2f %12d\n", b, ms(t[0]), ms(quantile(t, 0.5)), ms(quantile(t, 0.9)), ms(t[len(t)-1]), size)
	}
}

// split cuts the command line at "--": binaries before, their arguments after.
func split(a []string) (bins, args []string) {
	if i := slices.Index(a, "--"); i >= 0 {
		return a[:i], a[i+1:]
	}
	return a, nil
}

func once(bin string, args []string) (time.Duration, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	t0 := time.Now()
	err := cmd.Run()
	return time.Since(t0), err
}

// quantile is the nearest-rank quantile of sorted durations.
func quantile(sorted []time.Duration, q float64) time.Duration {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
