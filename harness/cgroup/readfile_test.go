package cgroup

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

func TestReadSmall(t *testing.T) {
	dir := t.TempDir()
	for _, size := range []int{0, 1, 511, 512, 513, 5000} {
		want := bytes.Repeat([]byte("x"), size)
		p := filepath.Join(dir, "f")
		os.WriteFile(p, want, 0o644)
		got, err := ReadSmall(p)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("size %d: got %d bytes, %v", size, len(got), err)
		}
	}
	if _, err := ReadSmall(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
	// procfs files report size 0: the read must not trust a stat.
	if b, err := ReadSmall("/proc/self/status"); err != nil || !bytes.Contains(b, []byte("Name:")) {
		t.Errorf("/proc/self/status: %q, %v", b, err)
	}
}
