package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coldstart/coldstart/harness/history"
	"github.com/coldstart/coldstart/harness/history/store"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports"
)

// DefaultHistory is where runs are recorded without --history or
// COLDSTART_HISTORY: beside the default run directories.
const DefaultHistory = "results/history.db"

// HistoryOff as the history path records nothing.
const HistoryOff = "off"

// historyFlag adds --history to a command: the flag, else the environment,
// else the default.
func historyFlag(c *cobra.Command, p *string, what string) {
	c.Flags().StringVar(p, "history", envOr("COLDSTART_HISTORY", DefaultHistory), what+" (env COLDSTART_HISTORY; \""+HistoryOff+"\": none)")
	c.MarkFlagFilename("history")
}

// historyTarget is where a finished run is recorded, and what the job
// passed in about it.
type historyTarget struct {
	path string // "" when off
	meta map[string]string
}

// newHistoryTarget checks the history flags before anything starts.
func newHistoryTarget(path string, meta []string) (historyTarget, error) {
	m, err := parseMeta(meta)
	if err != nil {
		return historyTarget{}, err
	}
	if path == HistoryOff {
		path = ""
	}
	return historyTarget{path: path, meta: m}, nil
}

// parseMeta reads KEY=VALUE pairs; a key may be given once.
func parseMeta(kv []string) (map[string]string, error) {
	m := map[string]string{}
	for _, s := range kv {
		k, v, ok := strings.Cut(s, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, usagef("--meta %q: want KEY=VALUE, e.g. commit=abc123", s)
		}
		if _, dup := m[k]; dup {
			return nil, usagef("--meta %s given twice", k)
		}
		m[k] = v
	}
	return m, nil
}

// recordTimeout bounds a history write: the store's busy timeout, plus
// room for the write itself.
const recordTimeout = store.DefaultBusyTimeout + 20*time.Second

// record writes a finished run into the history. The run's own files are
// the source of truth and are already safe: a failure is said on stderr,
// with the command that records the run later, and does not change the
// run's exit code (the verdict is the run's, not the history's).
// images, when not nil, names an image's id (the engine's, after the run).
func (h historyTarget) record(dir string, m result.Manifest, s *summary.Summary, images imageIDer, stderr io.Writer) {
	if h.path == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), recordTimeout)
	defer cancel()
	r := history.FromRun(m, s, h.meta)
	if images != nil {
		r.SetImageIDs(imageIDs(ctx, images, s))
	}
	err := recordRuns(ctx, h.path, []history.Run{r})
	if err != nil {
		fmt.Fprintf(stderr, "coldstart: history not recorded: %v\ncoldstart: the run's files are kept in %s; record it later with: %s\n",
			err, dir, h.recordCommand(dir))
		return
	}
	fmt.Fprintf(stderr, "recorded in history %s\n", h.path)
}

// imageIDer is the part of the engine that names a local image's id.
type imageIDer interface {
	ImageID(ctx context.Context, ref string) (string, error)
}

// imageIDs asks the engine for the id of every image the run started: one
// inspect per image, after the run. An image it cannot name has none.
func imageIDs(ctx context.Context, e imageIDer, s *summary.Summary) map[string]string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ids := map[string]string{}
	for _, sc := range s.Scenarios {
		if _, done := ids[sc.Image]; done || sc.Image == "" {
			continue
		}
		id, _ := e.ImageID(ctx, sc.Image)
		ids[sc.Image] = id
	}
	return ids
}

// recordCommand is the command line that records the run later.
func (h historyTarget) recordCommand(dir string) string {
	c := []string{"coldstart", "record", "--history", shellQuote(h.path)}
	for _, k := range slices.Sorted(maps.Keys(h.meta)) {
		c = append(c, "--meta", shellQuote(k+"="+h.meta[k]))
	}
	return strings.Join(append(c, shellQuote(dir)), " ")
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:@+,") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func recordRuns(ctx context.Context, path string, runs []history.Run) error {
	st, err := store.Open(ctx, path)
	if err != nil {
		return err
	}
	for _, r := range runs {
		if err := st.Record(ctx, r); err != nil {
			st.Close()
			return err
		}
	}
	return st.Close()
}

func newRecordCmd() *cobra.Command {
	var path string
	var meta []string
	c := &cobra.Command{
		Use:   "record [flags] RUN_DIR...",
		Short: "Record finished runs in the history (again), from their own files",
		Long: `Records each finished run in the history from its run directory: what a run
records itself when it ends, for a run whose history write failed, or to fill
a new history from old runs. A run already in the history is replaced.
Interrupted or incomplete runs are refused: resume them first.`,
		Example: `  coldstart record --history /srv/coldstart/history.db --meta commit=abc123 results/app/20261130T020000Z`,
		Args:    args(1, -1, "at least one run directory"),
		RunE: func(c *cobra.Command, a []string) error {
			return recordDirs(c.Context(), path, meta, a, c.ErrOrStderr())
		},
	}
	historyFlag(c, &path, "the history to record into")
	c.Flags().StringArrayVar(&meta, "meta", nil, "what the job knows about the runs, as `KEY=VALUE` (commit=abc123), kept with them in the history (repeatable)")
	return c
}

// recordDirs is `coldstart record`: load every run first, then write them.
func recordDirs(ctx context.Context, path string, meta, dirs []string, stderr io.Writer) error {
	h, err := newHistoryTarget(path, meta)
	if err != nil {
		return err
	}
	if h.path == "" {
		return usagef("record: --history is %q: nothing to record into", HistoryOff)
	}
	var runs []history.Run
	for _, d := range dirs {
		in, err := reports.LoadRun(d)
		if err != nil {
			return &usageError{err}
		}
		if s := in.Summary; s.Interrupted || s.Planned > 0 && s.Completed < s.Planned {
			return usagef("%s: the run is incomplete (%d of %d starts): resume it first (coldstart run --resume %s)", d, s.Completed, s.Planned, d)
		}
		runs = append(runs, history.FromRun(in.Manifest, in.Summary, h.meta))
	}
	if err := recordRuns(ctx, h.path, runs); err != nil {
		return historyErr(err)
	}
	fmt.Fprintf(stderr, "recorded %d run(s) in history %s\n", len(runs), h.path)
	return nil
}

// historyErr makes a history that is not one (missing, not SQLite, another
// program's, newer) bad input; a lock or an I/O failure stays an error.
func historyErr(err error) error {
	if errors.Is(err, store.ErrNotHistory) || errors.Is(err, store.ErrNewer) || errors.Is(err, fs.ErrNotExist) {
		return &usageError{err}
	}
	return err
}

type trendFlags struct {
	history, suite, format string
	scenarios              []string
	last                   int
}

func newTrendCmd() *cobra.Command {
	var f trendFlags
	c := &cobra.Command{
		Use:   "trend [flags]",
		Short: "Each scenario's series over the recorded runs, with the calibration workload's beside it",
		Long: `Renders the history: per suite, the runs (time, meta such as the commit, harness,
host, verdict), then each arm's ready_ms p50/p95/p99 run by run (censored as
> bound where misses decide them), with the calibration workload's p50 of the
same run beside every point and the arm's share apart from it, and the paired
verdicts, regressed runs marked. Reads the history only; starts nothing.`,
		Example: `  coldstart trend --suite nightly --last 14
  coldstart trend --history /srv/coldstart/history.db --format html > trend.html`,
		Args: args(0, 0, "no arguments"),
		RunE: func(c *cobra.Command, _ []string) error {
			return trend(c.Context(), f, c.OutOrStdout())
		},
	}
	historyFlag(c, &f.history, "the history to read")
	fl := c.Flags()
	fl.StringVar(&f.suite, "suite", "", "only this suite (default: every suite in the history)")
	fl.StringSliceVar(&f.scenarios, "scenario", nil, "only these scenarios or arms, besides the calibration (repeatable or comma-separated)")
	fl.IntVar(&f.last, "last", 30, "the last N runs of each suite (0: all)")
	fl.StringVar(&f.format, "format", "markdown", strings.Join(reports.TrendFormats, ", "))
	return c
}

// trend is `coldstart trend`: read the history, shape it, render it.
func trend(ctx context.Context, f trendFlags, stdout io.Writer) error {
	if !slices.Contains(reports.TrendFormats, f.format) {
		return usagef("--format %q: want one of %s", f.format, strings.Join(reports.TrendFormats, ", "))
	}
	if f.history == HistoryOff || f.history == "" {
		return usagef("trend: --history is %q: nothing to read", f.history)
	}
	if f.last < 0 {
		return usagef("--last %d: want 0 (all) or more", f.last)
	}
	st, err := store.Open(ctx, f.history, store.MustExist())
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return usagef("no history at %s (runs record into %s unless --history or COLDSTART_HISTORY says otherwise)", f.history, DefaultHistory)
		}
		return historyErr(err)
	}
	defer st.Close()
	runs, err := st.Runs(ctx, f.suite, f.last)
	if err != nil {
		return historyErr(err)
	}
	return reports.RenderTrend(stdout, history.Trends(runs, f.scenarios), f.format)
}

// envOr is the environment's value of k, else def.
func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
