package bench

import (
	"os"
	"strings"
	"testing"
)

// privateBase opens a socket base of the test's own under /tmp (short:
// sun_path holds 107 bytes), as a run would: created, and as root mounted
// as a tmpfs. At the test's end it is closed, must be unmounted (no leaked
// mount), and is removed.
func privateBase(t *testing.T) *SocketBase {
	t.Helper()
	dir, err := os.MkdirTemp("/tmp", "cst-")
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenSocketBase(dir, BaseOptions{Create: true, Mount: os.Geteuid() == 0})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	t.Cleanup(func() {
		b.Close()
		if m := mountsUnder(dir); len(m) > 0 {
			t.Errorf("mounts left under %s: %q", dir, m)
		}
		os.RemoveAll(dir)
	})
	return b
}

// claim claims a run directory in b, removed at the test's end.
func claim(t *testing.T, b *SocketBase, tag, owner string) *RunDir {
	t.Helper()
	rd, err := b.Claim(tag, owner)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rd.Close() })
	return rd
}

// mountsUnder lists the mount points at or below dir.
func mountsUnder(dir string) []string {
	b, _ := os.ReadFile("/proc/self/mounts")
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && (f[1] == dir || strings.HasPrefix(f[1], dir+"/")) {
			out = append(out, f[1])
		}
	}
	return out
}
