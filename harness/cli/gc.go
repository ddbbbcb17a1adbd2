package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/coldstart/coldstart/harness/bench"
	"github.com/coldstart/coldstart/harness/engine"
)

func cmdGC(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	socketBase := fs.String("socket-dir", envOr("COLDSTART_SOCKET_DIR", DefaultSocketBase), "host directory of the per-start socket dirs")
	fs.Usage = func() {
		fmt.Fprint(stderr, "Usage: coldstart gc [flags]\n\nRemoves containers and socket dirs left by coldstart processes that are no\nlonger alive. Never touches those of a live run, nor anything without coldstart's labels.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	d, err := engine.Dial(ctx, 5*time.Second)
	if err != nil {
		return WithCode(ExitEngine, err)
	}
	defer d.Close()
	base, _ := filepath.Abs(*socketBase)
	c, n, err := bench.GC(ctx, d, base, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "gc: %d containers, %d socket dirs removed\n", c, n)
	return nil
}
