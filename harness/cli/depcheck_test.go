package cli

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/coldstart/coldstart/"

// allowed lists, for each package of the harness, the project packages it
// may import: imports run down the layers, never back up.
var allowed = map[string][]string{
	"harness/result":     {},
	"harness/probe":      {},
	"harness/scenario":   {"harness/result"},
	"harness/journal":    {"harness/result"},
	"harness/importtime": {"harness/result"},
	"harness/summary":    {"harness/result"},
	"harness/capacity":   {"harness/result"},
	"harness/history":    {"harness/result", "harness/summary"},
	// The SQLite store: the only package that links the database driver.
	"harness/history/store": {"harness/history", "harness/result", "harness/summary"},
	"harness/engine":        {"harness/result"},
	"harness/cgroup":        {"harness/result", "harness/scenario"},
	"reports":               {"harness/result", "harness/summary", "harness/journal", "harness/history", "harness/capacity", "reports/svgplot"},
	"reports/svgplot":       {},
	"harness/bench": {"harness/result", "harness/scenario", "harness/journal", "harness/importtime",
		"harness/probe", "harness/cgroup", "harness/summary", "harness/engine", "harness/internal/oomlog"},
	"harness/merge": {"harness/result", "harness/scenario", "harness/journal", "harness/summary"},
	"harness/swarm": {"harness/result", "harness/journal", "harness/engine", "harness/merge"},
	"harness/cli": {"harness/result", "harness/scenario", "harness/journal", "harness/summary",
		"harness/engine", "harness/bench", "harness/history", "harness/history/store", "harness/merge", "harness/swarm", "harness/capacity", "reports",
		"harness/internal/monitor"},
	"harness/cmd/coldstart": {"harness/cli"},
	// The runtime's monitor thread, relaxed by cli for run and plan.
	"harness/internal/monitor": {},
	// The kernel's log read for OOM kills the engine did not flag, by bench.
	"harness/internal/oomlog": {},
	// For tests only: private Docker engines and swarm nodes.
	"harness/internal/privengine": {"harness/engine"},
}

// noEngine are the packages that must build without the Docker SDK: every
// renderer (and so `coldstart report`'s library call), the statistics and
// the parsers.
var noEngine = []string{"reports", "reports/svgplot", "harness/summary", "harness/capacity", "harness/journal", "harness/scenario",
	"harness/result", "harness/probe", "harness/importtime", "harness/history", "harness/history/store", "harness/merge"}

func goList(t *testing.T, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command: import checks need the toolchain")
	}
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return string(out)
}

func TestImportDirection(t *testing.T) {
	out := goList(t, "-f", "{{.ImportPath}} {{join .Imports \",\"}}", module+"harness/...", module+"reports/...")
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		pkg, imports, _ := strings.Cut(line, " ")
		pkg = strings.TrimPrefix(pkg, module)
		ok, known := allowed[pkg]
		if !known {
			t.Errorf("package %s has no place in the layers: add it to allowed", pkg)
			continue
		}
		seen[pkg] = true
		for _, imp := range strings.Split(imports, ",") {
			if !strings.HasPrefix(imp, module) {
				continue
			}
			imp = strings.TrimPrefix(imp, module)
			if !slices.Contains(ok, imp) {
				t.Errorf("%s imports %s: not allowed (imports run down the layers)", pkg, imp)
			}
		}
	}
	for pkg := range allowed {
		if !seen[pkg] {
			t.Errorf("allowed names %s, which go list did not find", pkg)
		}
	}
}

func TestRenderersBuildWithoutTheEngine(t *testing.T) {
	for _, pkg := range noEngine {
		for _, dep := range strings.Fields(goList(t, "-deps", module+pkg)) {
			if strings.HasPrefix(dep, "github.com/docker/") || dep == module+"harness/engine" {
				t.Errorf("%s depends on %s: it must build without the Docker SDK", pkg, dep)
				break
			}
		}
	}
	for _, dep := range strings.Fields(goList(t, "-deps", module+"harness/cmd/coldstart")) {
		if strings.Contains(dep, "chromedp") || strings.Contains(dep, "cobra/doc") {
			t.Errorf("the harness binary links %s (a test-only tool)", dep)
		}
	}
}

// Only the history's store links the database driver: the renderers, the
// statistics and the history's vocabulary build without it.
func TestRenderersBuildWithoutTheDatabase(t *testing.T) {
	for _, pkg := range noEngine {
		if pkg == "harness/history/store" {
			continue
		}
		for _, dep := range strings.Fields(goList(t, "-deps", module+pkg)) {
			if strings.HasPrefix(dep, "modernc.org/") || dep == "database/sql" {
				t.Errorf("%s depends on %s: only harness/history/store may link the database", pkg, dep)
				break
			}
		}
	}
}

// maxFuncLines is the longest a function of the harness or the reports may
// be unless its doc comment says why ("Long because ...").
const maxFuncLines = 80

func TestFunctionLength(t *testing.T) {
	fset := token.NewFileSet()
	for _, root := range []string{"../../harness", "../../reports"} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || strings.Contains(p, "testdata") {
				return err
			}
			f, err := parser.ParseFile(fset, p, nil, parser.ParseComments)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				fd, ok := decl.(*ast.FuncDecl)
				if !ok {
					continue
				}
				n := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
				if n > maxFuncLines && !strings.Contains(fd.Doc.Text(), "Long because") {
					t.Errorf("%s: %s is %d lines (over %d): split it, or say why in its doc comment (\"Long because ...\")", p, fd.Name.Name, n, maxFuncLines)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
