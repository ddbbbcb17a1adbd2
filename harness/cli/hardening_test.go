package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/bench"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/journal"
)

// A socket base that someone else could take over is refused before
// anything runs: exit 2, a message that says why, no setup command run, no
// image built, no run directory, no container, no mount.
func TestRunRefusesUntrustedSocketBase(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	other := t.TempDir()
	cases := []struct {
		name, want string
		make       func(p string)
	}{
		{"symlink", "is a symlink", func(p string) { os.Symlink(other, p) }},
		{"foreign-owned", "is owned by uid 65534", func(p string) { os.Mkdir(p, 0o700); os.Chown(p, 65534, 65534) }},
		{"world-writable", "group- or world-writable", func(p string) { os.Mkdir(p, 0o700); os.Chmod(p, 0o777) }},
		{"busy", "is not a coldstart socket base", func(p string) { os.Mkdir(p, 0o700); os.Mkdir(filepath.Join(p, "home"), 0o700) }},
	}
	for _, tc := range cases {
		base := filepath.Join(parent, tc.name)
		tc.make(base)
		marker := filepath.Join(t.TempDir(), "setup-ran")
		tag := "coldstart-test/refused:" + strconv.Itoa(os.Getpid())
		suite := filepath.Join(t.TempDir(), "s.yaml")
		os.WriteFile(suite, []byte("suite: s\nscenarios:\n  - name: x\n    setup: [touch "+marker+"]\n    build: {context: .}\n    image: "+tag+"\n    runs: 1\n"), 0o644)
		os.WriteFile(filepath.Join(filepath.Dir(suite), "Dockerfile"), []byte("FROM scratch\nCOPY s.yaml /s\n"), 0o644)
		out := filepath.Join(t.TempDir(), "run")
		_, _, err := run(t, "run", "--quiet", "--socket-dir", base, "--out", out, suite)
		if Code(err) != ExitBadInput || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "refused") {
			t.Errorf("%s: exit %d (%v), want 2 saying %q", tc.name, Code(err), err, tc.want)
		}
		for _, p := range []string{marker, out} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s: %s exists: something ran", tc.name, p)
			}
		}
		if id, _ := dial(t).ImageID(context.Background(), tag); id != "" {
			t.Errorf("%s: image %s was built", tc.name, tag)
			dial(t).RemoveImage(context.Background(), tag)
		}
		if m := mountsAt(base); len(m) > 0 {
			t.Errorf("%s: mounted on the refused base: %v", tc.name, m)
		}
		if _, _, err := run(t, "gc", "--socket-dir", base); tc.name != "busy" && Code(err) != ExitBadInput {
			t.Errorf("%s: gc on it: exit %d (%v), want 2", tc.name, Code(err), err)
		}
	}
}

// A run directory another user owns, or could have written, is not
// resumed: a resume runs the suite its manifest names, setup included.
func TestResumeRefusesForeignRunDir(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, want string
		make       func(dir string)
	}{
		{"foreign manifest", "owned by uid 65534", func(dir string) { os.Chown(filepath.Join(dir, journal.ManifestFile), 65534, 65534) }},
		{"world-writable dir", "group- or world-writable", func(dir string) { os.Chmod(dir, 0o777) }},
	} {
		dir := filepath.Join(t.TempDir(), "run")
		os.Mkdir(dir, 0o755)
		marker := filepath.Join(t.TempDir(), "setup-ran")
		suite := filepath.Join(t.TempDir(), "s.yaml")
		os.WriteFile(suite, []byte("suite: s\nscenarios:\n  - {name: x, setup: [touch "+marker+"], image: scratch-nothing, runs: 1}\n"), 0o644)
		journal.WriteJSONAtomic(filepath.Join(dir, journal.ManifestFile), map[string]any{"run": "20261201T000000Z-0badc0de", "suite_abs": suite})
		tc.make(dir)
		_, _, err := run(t, "run", "--quiet", "--resume", dir)
		if Code(err) != ExitBadInput || !strings.Contains(fmt.Sprint(err), tc.want) {
			t.Errorf("%s: exit %d (%v), want 2 saying %q", tc.name, Code(err), err, tc.want)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("%s: the manifest's suite ran its setup", tc.name)
		}
	}
}

// gc pointed at a socket base full of directories it did not make, and at
// an engine with containers coldstart did not start (no harness label, or
// not of a start's name and labels), removes nothing of theirs.
func TestGCLeavesOthersAlone(t *testing.T) {
	t.Parallel()
	d := dial(t)
	ctx := context.Background()
	img := tinyImage(t, d, "foreign")
	dead := "1:1" // an owner of coldstart's format whose process is gone
	runID, tag := bench.NewRunID(time.Now())
	foreign := map[string]map[string]string{
		"unlabelled":     {},
		"harness-only":   {engine.LabelHarness: "1"},
		"no-owner":       {engine.LabelHarness: "1", engine.LabelRun: runID, engine.LabelSeq: "1"},
		"bad-owner":      {engine.LabelHarness: "1", engine.LabelRun: runID, engine.LabelSeq: "2", engine.LabelOwner: "root"},
		"other-name":     {engine.LabelHarness: "1", engine.LabelRun: runID, engine.LabelSeq: "3", engine.LabelOwner: dead},
		"foreign-run-id": {engine.LabelHarness: "1", engine.LabelRun: "prod", engine.LabelSeq: "4", engine.LabelOwner: dead},
	}
	names := map[string]string{"no-owner": bench.ContainerName(tag, 1), "bad-owner": bench.ContainerName(tag, 2),
		"other-name": "db-" + tag, "foreign-run-id": bench.ContainerName(tag, 4)}
	var ids []string
	for what, l := range foreign {
		l["io.coldstart.test.foreign"] = "1" // for this test's own clean-up only
		name := names[what]
		if name == "" {
			name = "coldstart-test-foreign-" + what + "-" + tag
		}
		id, err := d.Create(ctx, engine.ContainerSpec{Name: name, Image: img, Labels: l})
		if err != nil {
			t.Fatalf("create %s: %v", what, err)
		}
		ids = append(ids, id)
	}
	t.Cleanup(func() {
		for _, id := range ids {
			d.Remove(context.Background(), id)
		}
	})
	// A base of coldstart's (marked), then filled by others.
	sb := openBase(t)
	base := sb.Path
	dirs := []string{"home", "etc", "0123abcd", "deadbeef", ".ssh", "ABCDEF01", "fedcba98"}
	for _, name := range dirs {
		os.MkdirAll(filepath.Join(base, name, "data"), 0o700)
	}
	os.WriteFile(filepath.Join(base, "deadbeef", "owner"), []byte("not an owner\n"), 0o600)
	os.WriteFile(filepath.Join(base, "home", "owner"), []byte(dead+"\n"), 0o600)
	os.WriteFile(filepath.Join(base, "ABCDEF01", "owner"), []byte(dead+"\n"), 0o600)
	os.Symlink(t.TempDir(), filepath.Join(base, "fedcba99"))

	out, _, err := run(t, "gc", "--socket-dir", base)
	if err != nil {
		t.Fatalf("gc: %v", err)
	}
	t.Logf("gc: %s", strings.TrimSpace(out))
	for _, name := range append(dirs, "fedcba99") {
		if _, err := os.Lstat(filepath.Join(base, name)); err != nil {
			t.Errorf("gc removed %s: %v", name, err)
		}
	}
	cs, err := d.List(ctx, map[string]string{"io.coldstart.test.foreign": "1"})
	if err != nil {
		t.Fatal(err)
	}
	have := map[string]bool{}
	for _, c := range cs {
		have[c.ID] = true
	}
	for _, id := range ids {
		if !have[id] {
			t.Errorf("gc removed container %.12s", id)
		}
	}
	for _, name := range dirs {
		os.RemoveAll(filepath.Join(base, name))
	}
	os.Remove(filepath.Join(base, "fedcba99"))
}
