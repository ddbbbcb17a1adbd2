package bench

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/coldstart/coldstart/harness/engine"
)

// fakeCleaner lists every container it holds, whatever the label filter
// (the engine would filter: GC must not rely on it), and records removals.
type fakeCleaner struct {
	cs      []engine.Container
	removed []string
}

func (f *fakeCleaner) List(context.Context, map[string]string) ([]engine.Container, error) {
	return f.cs, nil
}

func (f *fakeCleaner) Remove(_ context.Context, id string) error {
	f.removed = append(f.removed, id)
	return nil
}

// deadOwnerString is an owner of coldstart's format whose process is gone.
const deadOwnerString = "1:1"

// mkRunDir makes dir/name with an owner file holding owner ("" for none).
func mkRunDir(t *testing.T, dir, name, owner string) string {
	t.Helper()
	d := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Join(d, "000001"), 0o700); err != nil {
		t.Fatal(err)
	}
	if owner != "" {
		os.WriteFile(filepath.Join(d, ownerFile), []byte(owner+"\n"), 0o600)
	}
	return d
}

// GC removes only run directories of coldstart's format whose owner file
// names a dead process: never a live owner's, never an unowned one, never
// a directory named otherwise, a symlink or a file, even with a dead owner.
func TestGCSocketDirs(t *testing.T) {
	b := privateBase(t)
	outside := t.TempDir()
	mkRunDir(t, outside, "victim", deadOwnerString)
	keep := map[string]string{
		"1ive0000":        "", // not hex: not a tag
		"a1b2c3d4":        Owner(),
		"b1b2c3d4":        "", // no owner file (never made by Claim)
		"c1b2c3d4":        "rm -rf /",
		"D1B2C3D4":        deadOwnerString, // upper case: not a tag
		"data":            deadOwnerString,
		"e1b2c3d4e":       deadOwnerString, // 9 characters
		".claim-zzzzzzzz": deadOwnerString,
	}
	gone := map[string]string{"f1b2c3d4": deadOwnerString, ".claim-0badc0de": deadOwnerString}
	for name, owner := range keep {
		mkRunDir(t, b.Path, name, owner)
	}
	for name, owner := range gone {
		mkRunDir(t, b.Path, name, owner)
	}
	os.Symlink(filepath.Join(outside, "victim"), filepath.Join(b.Path, "a0a0a0a0"))
	os.WriteFile(filepath.Join(b.Path, "b0b0b0b0"), []byte(deadOwnerString), 0o600)
	_, n, err := GC(context.Background(), &fakeCleaner{}, b, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for name := range keep {
		if _, err := os.Lstat(filepath.Join(b.Path, name)); err != nil {
			t.Errorf("%s removed: %v", name, err)
		}
	}
	for name := range gone {
		if _, err := os.Lstat(filepath.Join(b.Path, name)); err == nil {
			t.Errorf("%s (dead owner) kept", name)
		}
	}
	for _, p := range []string{filepath.Join(b.Path, "a0a0a0a0"), filepath.Join(b.Path, "b0b0b0b0"), filepath.Join(outside, "victim", ownerFile)} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s removed: %v", p, err)
		}
	}
	if n != len(gone) {
		t.Errorf("removed %d dirs, want %d", n, len(gone))
	}
}

// A directory without coldstart's marker is not a socket base: gc removes
// nothing in it, not even a run directory of a dead owner.
func TestGCUnmarkedBase(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "cst-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	for _, name := range []string{"f1b2c3d4", "home", ".cache"} {
		mkRunDir(t, dir, name, deadOwnerString)
	}
	b, err := OpenSocketBase(dir, BaseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var log strings.Builder
	_, n, err := GC(context.Background(), &fakeCleaner{}, b, &log)
	if err != nil || n != 0 {
		t.Fatalf("gc removed %d dirs (err %v), want none", n, err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 3 {
		t.Errorf("%d entries left, want 3", len(ents))
	}
	if !strings.Contains(log.String(), "not a coldstart socket base") {
		t.Errorf("gc did not say why it left the base alone: %q", log.String())
	}
}

// GC removes a container only when every label and its name say a
// coldstart start of a dead owner made it.
func TestGCContainers(t *testing.T) {
	run, tag := "20261201T000000Z-0badc0de", "0badc0de"
	labels := func(kv ...string) map[string]string {
		m := map[string]string{engine.LabelHarness: "1", engine.LabelRun: run, engine.LabelOwner: deadOwnerString, engine.LabelSeq: "3"}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "-" {
				delete(m, kv[i])
			} else {
				m[kv[i]] = kv[i+1]
			}
		}
		return m
	}
	name := ContainerName(tag, 3)
	c := &fakeCleaner{cs: []engine.Container{
		{ID: "ours-dead", Name: name, Labels: labels()},
		{ID: "resumed-tag", Name: ContainerName("12345678", 3), Labels: labels()},
		{ID: "ours-live", Name: name, Labels: labels(engine.LabelOwner, Owner())},
		{ID: "unlabelled", Name: name, Labels: map[string]string{}},
		{ID: "no-run", Name: name, Labels: labels(engine.LabelRun, "-")},
		{ID: "bad-run", Name: name, Labels: labels(engine.LabelRun, "yesterday")},
		{ID: "no-owner", Name: name, Labels: labels(engine.LabelOwner, "-")},
		{ID: "bad-owner", Name: name, Labels: labels(engine.LabelOwner, "root")},
		{ID: "other-name", Name: "db", Labels: labels()},
		{ID: "seq-mismatch", Name: ContainerName(tag, 4), Labels: labels()},
		{ID: "builder", Name: "coldstart-0badc0de-gc-x", Labels: labels()},
	}}
	n, _, err := GC(context.Background(), c, nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || len(c.removed) != 2 || c.removed[0] != "ours-dead" || c.removed[1] != "resumed-tag" {
		t.Errorf("removed %v, want [ours-dead resumed-tag]", c.removed)
	}
}
