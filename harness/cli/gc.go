package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/coldstart/coldstart/harness/bench"
	"github.com/coldstart/coldstart/harness/engine"
)

func newGCCmd() *cobra.Command {
	var socketBase string
	c := &cobra.Command{
		Use:   "gc [flags]",
		Short: "Remove leftovers of coldstart processes that are gone",
		Long: `Removes containers and socket dirs left by coldstart processes that are no
longer alive. Never touches those of a live run, nor anything without
coldstart's labels: a container goes only when its labels and name say a
coldstart start made it, a directory only when it is a run directory (named
by a run tag, with an owner file naming a dead process) in a socket base
that carries coldstart's marker.`,
		Args: args(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			return gc(c.Context(), socketBase, c.OutOrStdout())
		},
	}
	c.Flags().StringVar(&socketBase, "socket-dir", os.Getenv("COLDSTART_SOCKET_DIR"), "host directory of the per-start socket dirs (env COLDSTART_SOCKET_DIR; default as for run)")
	return c
}

func gc(ctx context.Context, flag string, stdout io.Writer) error {
	// The base is checked like a run's, but neither made nor mounted.
	base, err := bench.OpenSocketBase(socketBase(flag), bench.BaseOptions{})
	switch {
	case errors.Is(err, bench.ErrNoBase):
		base = nil
	case err != nil:
		return err
	default:
		defer base.Close()
	}
	d, err := engine.Dial(ctx, 5*time.Second)
	if err != nil {
		return err
	}
	defer d.Close()
	c, n, err := bench.GC(ctx, d, base, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "gc: %d containers, %d socket dirs removed\n", c, n)
	return nil
}
