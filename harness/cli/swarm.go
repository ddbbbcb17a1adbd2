package cli

import (
	"context"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/coldstart/coldstart/harness/bench"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/scenario"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/harness/swarm"
	"github.com/coldstart/coldstart/reports"
)

type swarmFlags struct {
	nodes, runs                                         int
	seed                                                int64
	constraints, scenarios, meta, commandLine           []string
	image, engineSocket, socketBase, instanceLabel, out string
	format, history                                     string
	html                                                bool
	maxSpread                                           float64
	pendingTimeout, poll                                time.Duration
}

func newSwarmCmd(commandLine []string) *cobra.Command {
	c := &cobra.Command{
		Use:   "swarm",
		Short: "Run a suite sharded across the nodes of a Docker Swarm",
		Args:  args(0, 0, "a subcommand"),
		RunE: func(c *cobra.Command, _ []string) error {
			c.SetOut(c.ErrOrStderr())
			c.Help()
			return usagef("swarm: want a subcommand (run)")
		},
	}
	c.AddCommand(newSwarmRunCmd(commandLine))
	return c
}

func newSwarmRunCmd(commandLine []string) *cobra.Command {
	f := swarmFlags{commandLine: commandLine}
	c := &cobra.Command{
		Use:   "run [flags] SUITE",
		Short: "Run SUITE's shards as a one-shot service, one task per node, and merge them",
		Long: `Runs SUITE on --nodes nodes of the swarm whose manager DOCKER_HOST names: the
harness image (--image, on every node: loaded, or pulled from your registry)
runs as a one-shot replicated service, one task per node, never restarted;
task i runs shard i/N of the plan (from its slot, {{.Task.Slot}}) against its
own node's engine (--engine-socket, mounted into the task), reading the suite
from a swarm config. The tasks send their runs back through the service's
logs as framed JSON, record by record; the coordinator writes each shard's run
directory under OUT/shards/ and merges them into OUT (see coldstart merge).
A node lost mid-run leaves its shard incomplete (what it sent before is kept;
it is not run again elsewhere): exit 8. Interrupted, the coordinator removes
the service (its tasks remove their starts in flight) and the config, and
merges what arrived. The suite's images must be on every node; setup
commands and builds do not run in the tasks.`,
		Example: `  coldstart swarm run scenarios/quickstart.yaml --nodes 3
  coldstart swarm run scenarios/seed.yaml --nodes 4 --constraint node.labels.instance-type==m5.large`,
		Args: args(1, 1, "one suite file"),
		RunE: func(c *cobra.Command, a []string) error {
			return swarmRun(c.Context(), a[0], f, c.OutOrStdout(), c.ErrOrStderr())
		},
	}
	fl := c.Flags()
	fl.IntVar(&f.nodes, "nodes", 0, "shards: one task on each of this many nodes (required)")
	fl.StringArrayVar(&f.constraints, "constraint", nil, "placement constraint of the tasks, as docker service create takes it (node.labels.K==V; repeatable)")
	fl.StringVar(&f.image, "image", swarm.DefaultImage, "the harness image (FROM scratch + the static coldstart binary), on every node")
	fl.StringVar(&f.engineSocket, "engine-socket", swarm.DefaultEngineSocket, "the Docker engine's socket on every node, mounted into its task")
	fl.StringVar(&f.socketBase, "socket-dir", swarm.DefaultSocketDir, "socket base on every node, mounted into its task at the same path: a 0700 directory of root there, best a nosuid,nodev,noexec tmpfs (prepared with the node, like its images)")
	fl.StringVar(&f.instanceLabel, "instance-label", swarm.DefaultInstanceLabel, "node label whose value is the node's instance type (figures per type)")
	fl.StringVar(&f.out, "out", "", "the merged run directory, shards in OUT/shards (default results/<suite>/<UTC stamp>-swarm)")
	fl.Int64Var(&f.seed, "seed", 0, "the plan seed every shard shares (0: a random one, recorded)")
	fl.IntVar(&f.runs, "runs", 0, "measured starts per scenario, overriding the suite (all shards together)")
	fl.StringSliceVar(&f.scenarios, "scenario", nil, "run only these scenarios")
	fl.StringVar(&f.format, "format", "text", "stdout report of the merged run: "+strings.Join(reports.Names(), ", "))
	fl.BoolVar(&f.html, "html", true, "also write "+HTMLReportFile+" into the merged run directory")
	fl.Float64Var(&f.maxSpread, "max-host-spread", summary.DefaultMaxHostSpreadPct, "hosts agree (their figures are pooled) when their reference p50s are within this percent")
	fl.DurationVar(&f.pendingTimeout, "pending-timeout", 2*time.Minute, "give up when a task waits this long for a node")
	fl.DurationVar(&f.poll, "poll", time.Second, "how often the coordinator looks at the tasks and nodes")
	historyFlag(c, &f.history, "record the merged run in this history")
	fl.StringArrayVar(&f.meta, "meta", nil, "what the job knows about the run, as `KEY=VALUE`, kept with it in the history (repeatable)")
	c.MarkFlagFilename("out")
	return c
}

// swarmRun is `coldstart swarm run`: the suite checked here, one library
// call, the merged run rendered.
func swarmRun(ctx context.Context, file string, f swarmFlags, stdout, stderr io.Writer) error {
	rf, ok := reports.Lookup(f.format)
	if !ok {
		return usagef("--format %q: want one of %s", f.format, strings.Join(reports.Names(), ", "))
	}
	hist, err := newHistoryTarget(f.history, f.meta)
	if err != nil {
		return err
	}
	cfg, err := f.config(file)
	if err != nil {
		return err
	}
	ctx, stop := signalContext(ctx, stderr)
	defer stop()
	d, err := engine.Dial(ctx, 5*time.Second)
	if err != nil {
		return err
	}
	defer d.Close()
	cfg.Log = stderr
	out, err := swarm.Run(ctx, d, cfg)
	if out != nil && out.Merged != nil {
		if rerr := mergedOutcome(out.Merged, rf, f.html, hist, stdout, stderr); err == nil {
			err = rerr
		}
	}
	return err
}

// config checks the suite and the flags before the swarm is touched.
func (f swarmFlags) config(file string) (swarm.Config, error) {
	if f.nodes < 1 {
		return swarm.Config{}, usagef("--nodes N: how many nodes (shards) to run on, at least 1")
	}
	base := filepath.Clean(f.socketBase)
	if !filepath.IsAbs(base) {
		return swarm.Config{}, usagef("--socket-dir %s: a path on the nodes must be absolute", f.socketBase)
	}
	s, err := scenario.Load(file, scenario.Options{HostDirLen: bench.HostDirLen(base)})
	if err != nil {
		return swarm.Config{}, err
	}
	var runArgs []string
	if len(f.scenarios) > 0 {
		if err := s.Select(f.scenarios); err != nil {
			return swarm.Config{}, usagef("--scenario: %v", err)
		}
		runArgs = append(runArgs, "--scenario", strings.Join(f.scenarios, ","))
	}
	if f.runs < 0 {
		return swarm.Config{}, usagef("--runs %d: must be >= 1", f.runs)
	} else if f.runs > 0 {
		runArgs = append(runArgs, "--runs", strconv.Itoa(f.runs))
	}
	seed := f.seed
	for seed == 0 {
		seed = rand.Int64()
	}
	runID, _ := bench.NewRunID(time.Now())
	out := f.out
	if out == "" {
		out = filepath.Join("results", s.Name, strings.SplitN(runID, "-", 2)[0]+"-swarm")
	}
	return swarm.Config{
		SuiteFile: file, Suite: s.Source, SuiteName: s.Name, Nodes: f.nodes, Seed: seed, RunArgs: runArgs,
		Constraints: f.constraints, Image: f.image, EngineSocket: f.engineSocket, SocketDir: base,
		InstanceLabel: f.instanceLabel, Out: out, RunID: runID, Harness: FullVersion(), Args: f.commandLine,
		MaxSpreadPct: f.maxSpread, PendingTimeout: f.pendingTimeout, Poll: f.poll,
	}, nil
}
