package bench

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/engine"
)

type noContainers struct{}

func (noContainers) List(context.Context, map[string]string) ([]engine.Container, error) {
	return nil, nil
}
func (noContainers) Remove(context.Context, string) error { return nil }

// GC removes socket dirs of dead owners and old unowned dirs, never a live
// owner's, nor a fresh unowned dir (a concurrent harness between its mkdir
// and writing its owner file).
func TestGCSocketDirs(t *testing.T) {
	base := t.TempDir()
	mk := func(name, owner string, age time.Duration) string {
		d := filepath.Join(base, name)
		os.MkdirAll(filepath.Join(d, "000001"), 0o755)
		if owner != "" {
			os.WriteFile(filepath.Join(d, ownerFile), []byte(owner+"\n"), 0o644)
		}
		old := time.Now().Add(-age)
		os.Chtimes(d, old, old)
		return d
	}
	live := mk("live0000", Owner(), time.Hour)
	dead := mk("dead0000", "1:1", time.Minute)
	fresh := mk("fresh000", "", 0)
	stale := mk("stale000", "", time.Hour)
	_, n, err := GC(context.Background(), noContainers{}, base, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	for d, want := range map[string]bool{live: true, dead: false, fresh: true, stale: false} {
		_, err := os.Stat(d)
		if got := err == nil; got != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(d), got, want)
		}
	}
	if n != 2 {
		t.Errorf("removed %d dirs, want 2", n)
	}
}
