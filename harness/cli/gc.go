package cli

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
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
coldstart's labels.`,
		Args: args(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			return gc(c.Context(), socketBase, c.OutOrStdout())
		},
	}
	c.Flags().StringVar(&socketBase, "socket-dir", envOr("COLDSTART_SOCKET_DIR", DefaultSocketBase), "host directory of the per-start socket dirs")
	return c
}

func gc(ctx context.Context, socketBase string, stdout io.Writer) error {
	d, err := engine.Dial(ctx, 5*time.Second)
	if err != nil {
		return err
	}
	defer d.Close()
	base, _ := filepath.Abs(socketBase)
	c, n, err := bench.GC(ctx, d, base, stdout)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "gc: %d containers, %d socket dirs removed\n", c, n)
	return nil
}
