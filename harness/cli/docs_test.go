package cli

import (
	"bytes"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra/doc"
)

var update = flag.Bool("update", false, "rewrite docs/cli from the command tree, and the golden files in testdata")

// docsDir is the generated command reference: go test ./harness/cli -run
// TestCommandReference -update regenerates it.
const docsDir = "../../docs/cli"

// The command reference in the repository is the command tree's own: a
// changed flag or help text without regenerated docs fails here.
func TestCommandReference(t *testing.T) {
	t.Setenv("COLDSTART_HISTORY", "") // the tests turn it off (history_test.go); the reference shows the default
	root := newRoot(io.Discard, io.Discard, nil)
	root.DisableAutoGenTag = true
	root.InitDefaultCompletionCmd() // added lazily by Execute otherwise
	tmp := t.TempDir()
	if err := doc.GenMarkdownTree(root, tmp); err != nil {
		t.Fatal(err)
	}
	gen, _ := filepath.Glob(filepath.Join(tmp, "*.md"))
	if len(gen) < 7 {
		t.Fatalf("generated %d pages, want one per command", len(gen))
	}
	if *update {
		os.RemoveAll(docsDir)
		if err := os.MkdirAll(docsDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, g := range gen {
		want, _ := os.ReadFile(g)
		path := filepath.Join(docsDir, filepath.Base(g))
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not the command tree's reference (go test ./harness/cli -run TestCommandReference -update): %v", path, err)
		}
	}
	have, _ := filepath.Glob(filepath.Join(docsDir, "*.md"))
	if len(have) != len(gen) {
		t.Errorf("%s holds %d pages, the command tree has %d", docsDir, len(have), len(gen))
	}
}

// Shell completion is generated for every shell cobra knows, and names the
// commands and their flags.
func TestCompletion(t *testing.T) {
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		out, _, err := run(t, "completion", sh)
		if err != nil || !strings.Contains(out, "coldstart") || len(out) < 1000 {
			t.Errorf("completion %s: %v, %d bytes", sh, err, len(out))
		}
	}
	// The dynamic part: what the shell gets for `coldstart run --f<TAB>`.
	out, _, err := run(t, "__complete", "run", "--f")
	if err != nil || !strings.Contains(out, "--format") || !strings.Contains(out, "--fail-on-miss") {
		t.Errorf("completing run --f: %v\n%s", err, out)
	}
	out, _, _ = run(t, "__complete", "re")
	if !strings.Contains(out, "report") {
		t.Errorf("completing re: %q", out)
	}
}
