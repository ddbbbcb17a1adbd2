package cli

import (
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/coldstart/coldstart/reports"
)

func newReportCmd() *cobra.Command {
	var format string
	c := &cobra.Command{
		Use:   "report [flags] RUN_DIR",
		Short: "Render a run again from its journal; starts nothing",
		Long: `Recomputes the statistics of a run from its runs.jsonl and manifest.json and
renders them; nothing is started and nothing in RUN_DIR is changed.`,
		Args: args(1, 1, "one run directory"),
		RunE: func(c *cobra.Command, a []string) error {
			return report(a[0], format, c.OutOrStdout())
		},
	}
	c.Flags().StringVar(&format, "format", "text", strings.Join(reports.Names(), ", "))
	return c
}

// report is `coldstart report`: one library call and a renderer.
func report(dir, format string, stdout io.Writer) error {
	rf, ok := reports.Lookup(format)
	if !ok {
		return usagef("--format %q: want one of %s", format, strings.Join(reports.Names(), ", "))
	}
	in, err := reports.LoadRun(dir)
	if err != nil {
		return &usageError{err}
	}
	return rf.Render(stdout, in)
}
