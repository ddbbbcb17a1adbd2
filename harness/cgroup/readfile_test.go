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
	for _, read := range []struct {
		name string
		f    func(string) ([]byte, error)
	}{{"ReadSmall", ReadSmall}, {"ReadShown", ReadShown}} {
		for _, size := range []int{0, 1, 511, 512, 513, 4095, 4096, 4097, 9000} {
			want := bytes.Repeat([]byte("x"), size)
			p := filepath.Join(dir, "f")
			os.WriteFile(p, want, 0o644)
			got, err := read.f(p)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s, size %d: got %d bytes, %v", read.name, size, len(got), err)
			}
		}
		if _, err := read.f(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s, missing file: %v, want fs.ErrNotExist", read.name, err)
		}
		// procfs files report size 0: the read must not trust a stat.
		if b, err := read.f("/proc/self/status"); err != nil || !bytes.Contains(b, []byte("Name:")) {
			t.Errorf("%s, /proc/self/status: %q, %v", read.name, b, err)
		}
	}
	// A file shown whole reads the same in one read as to its end.
	for _, p := range []string{"/proc/stat", "/proc/self/stat", "/proc/loadavg"} {
		a, err1 := ReadSmall(p)
		b, err2 := ReadShown(p)
		if err1 != nil || err2 != nil || len(a) == 0 || len(b) < len(a)*9/10 || !bytes.Equal(a[:bytes.IndexByte(a, ' ')], b[:bytes.IndexByte(b, ' ')]) {
			t.Errorf("%s: ReadSmall %d bytes (%v), ReadShown %d bytes (%v)", p, len(a), err1, len(b), err2)
		}
	}
}
