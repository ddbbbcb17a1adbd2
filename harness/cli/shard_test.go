package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
)

// Bad shard, merge and swarm command lines are bad input (exit 2) before
// anything starts or is written.
func TestShardMergeSwarmBadInput(t *testing.T) {
	notShard := t.TempDir()
	journal.WriteJSONAtomic(filepath.Join(notShard, journal.ManifestFile), &result.Manifest{Run: "r", Suite: "s"})
	journal.WriteFileAtomic(filepath.Join(notShard, journal.RunsFile), nil)
	out := filepath.Join(t.TempDir(), "merged")
	for name, args := range map[string][]string{
		"shard past N":       {"run", "--shard", "4/3", "--out", t.TempDir(), quickstart},
		"shard not i/N":      {"run", "--shard", "2", "--out", t.TempDir(), quickstart},
		"resume with shard":  {"run", "--resume", notShard, "--shard", "1/2"},
		"merge no out":       {"merge", notShard},
		"merge not a shard":  {"merge", notShard, "--out", out},
		"swarm no nodes":     {"swarm", "run", quickstart},
		"swarm relative dir": {"swarm", "run", quickstart, "--nodes", "2", "--socket-dir", "sock"},
		"swarm no command":   {"swarm"},
	} {
		_, stderr, err := run(t, args...)
		if Code(err) != ExitBadInput {
			t.Errorf("%s: exit %d (%v), want %d\n%s", name, Code(err), err, ExitBadInput, stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused merge wrote its output directory")
	}
}

func TestHelpOfNewCommands(t *testing.T) {
	for _, cmd := range [][]string{{"merge"}, {"swarm", "run"}} {
		stdout, _, err := run(t, append(cmd, "--help")...)
		if Code(err) != 0 || !strings.Contains(stdout, "Usage:\n  coldstart "+strings.Join(cmd, " ")) {
			t.Errorf("%v --help: exit %d, stdout %q", cmd, Code(err), stdout)
		}
	}
}
