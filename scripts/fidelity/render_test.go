package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*/report.md from the renderer")

// TestRenderGolden renders recorded runs (real --trial-sized runs, trimmed to
// what the renderer reads) and compares byte for byte. trial: every phase;
// side-by-side: --phases cost --baseline-bin against the pre-refactor binary
// (its journals are record version 1).
func TestRenderGolden(t *testing.T) {
	for _, name := range []string{"trial", "side-by-side"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", name)
			var out, errb bytes.Buffer
			if err := run(context.Background(), []string{"--render", dir}, &out, &errb); err != nil {
				t.Fatalf("render: %v\n%s", err, errb.String())
			}
			golden := filepath.Join(dir, "report.md")
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out.Bytes(), want) {
				t.Errorf("render of %s differs from %s (go test ./scripts/fidelity -update to accept):\n%s", dir, golden, firstDiff(string(want), out.String()))
			}
		})
	}
}

// firstDiff shows the first line that differs.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant: %s\ngot:  %s", i+1, wl, gl)
		}
	}
	return ""
}

// TestRenderRejectsOldReport: a report.json of the single-file program (no
// version, private records) is refused with a reason, not rendered as zeros.
func TestRenderRejectsOldReport(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, reportFile), []byte(`{"Machine":{},"Sizes":{},"Cost":{"Records":[]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	err := render(dir, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "version 0") {
		t.Errorf("render of a version-less report.json: %v, want a version error", err)
	}
}
