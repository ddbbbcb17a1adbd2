package bench

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

// A base that someone else could take over is refused with an error that
// says why, as bad input.
func TestSocketBaseRefused(t *testing.T) {
	parent := t.TempDir()
	other := t.TempDir()
	for _, tc := range []struct {
		name, want string
		make       func(p string)
	}{
		{"symlink", "is a symlink", func(p string) { os.Symlink(other, p) }},
		{"symlink to /", "is a symlink", func(p string) { os.Symlink("/", p) }},
		{"foreign-owned", "is owned by uid 65534", func(p string) { os.Mkdir(p, 0o700); os.Chown(p, 65534, 65534) }},
		{"world-writable", "group- or world-writable (mode 0777)", func(p string) { os.Mkdir(p, 0o700); os.Chmod(p, 0o777) }},
		{"group-writable", "group- or world-writable (mode 0770)", func(p string) { os.Mkdir(p, 0o700); os.Chmod(p, 0o770) }},
		{"sticky world-writable", "group- or world-writable (mode 1777)", func(p string) { os.Mkdir(p, 0o700); os.Chmod(p, os.ModeSticky|0o777) }},
		{"busy directory", "is not a coldstart socket base", func(p string) { os.Mkdir(p, 0o700); os.WriteFile(filepath.Join(p, "passwd"), nil, 0o600) }},
		{"a file", "not a directory", func(p string) { os.WriteFile(p, nil, 0o600) }},
	} {
		p := filepath.Join(parent, strings.ReplaceAll(tc.name, " ", "-"))
		tc.make(p)
		before := snapshot(t, p)
		b, err := OpenSocketBase(p, BaseOptions{Create: true, Mount: os.Geteuid() == 0})
		var in *InputError
		if err == nil || !errors.As(err, &in) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want an input error containing %q", tc.name, err, tc.want)
		}
		if b != nil {
			b.Close()
		}
		if after := snapshot(t, p); after != before {
			t.Errorf("%s: refused base changed: %s -> %s", tc.name, before, after)
		}
		if m := mountsUnder(p); len(m) > 0 {
			t.Errorf("%s: mounted on a refused base: %v", tc.name, m)
		}
	}
}

// snapshot describes p (not followed) and its entries.
func snapshot(t *testing.T, p string) string {
	st, err := os.Lstat(p)
	if err != nil {
		return err.Error()
	}
	s := st.Mode().String()
	if ents, err := os.ReadDir(p); err == nil {
		for _, e := range ents {
			s += " " + e.Name()
		}
	}
	return s
}

// A base below a directory that others may write in (and that is not
// sticky) is refused: they could rename the base away and put their own.
func TestSocketBaseAncestorRefused(t *testing.T) {
	parent := t.TempDir()
	open := filepath.Join(parent, "open")
	os.Mkdir(open, 0o777)
	os.Chmod(open, 0o777)
	_, err := OpenSocketBase(filepath.Join(open, "base"), BaseOptions{Create: true})
	if err == nil || !strings.Contains(err.Error(), "writable by others and not sticky") {
		t.Fatalf("err %v, want the ancestor refused", err)
	}
	if _, err := os.Lstat(filepath.Join(open, "base")); err == nil {
		t.Error("the base was created below a refused ancestor")
	}
}

// As root the base is a tmpfs mounted nosuid,nodev,noexec, 0700; two
// harnesses on one base share one mount, and the last one out unmounts it.
func TestSocketBaseTmpfsShared(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	dir, err := os.MkdirTemp("/tmp", "cst-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var bases [4]*SocketBase
	var wg sync.WaitGroup
	errs := make([]error, len(bases))
	for i := range bases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			bases[i], errs[i] = OpenSocketBase(dir, BaseOptions{Create: true, Mount: true})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("base %d: %v", i, err)
		}
		if bases[i].Warning != "" || !strings.HasPrefix(bases[i].Mount, "tmpfs nosuid,nodev,noexec") {
			t.Errorf("base %d: mount %q warning %q", i, bases[i].Mount, bases[i].Warning)
		}
	}
	if m := mountsUnder(dir); len(m) != 1 {
		t.Fatalf("mounts at %s: %v, want exactly one", dir, m)
	}
	// Named so in /proc/mounts: `grep coldstart /proc/mounts` finds every one.
	mounts, _ := os.ReadFile("/proc/self/mounts")
	if !strings.Contains(string(mounts), "coldstart "+dir+" tmpfs rw,nosuid,nodev,noexec") {
		t.Errorf("no line \"coldstart %s tmpfs rw,nosuid,nodev,noexec...\" in /proc/mounts", dir)
	}
	var sfs unix.Statfs_t
	unix.Statfs(dir, &sfs)
	st, _ := os.Stat(dir)
	if sfs.Type != unix.TMPFS_MAGIC || sfs.Flags&(unix.ST_NOSUID|unix.ST_NODEV|unix.ST_NOEXEC) != unix.ST_NOSUID|unix.ST_NODEV|unix.ST_NOEXEC || st.Mode().Perm() != 0o700 {
		t.Errorf("base: fs 0x%x flags 0x%x mode %v", sfs.Type, sfs.Flags, st.Mode())
	}
	last := bases[len(bases)-1]
	rd, err := last.Claim("0c0ffee0", Owner())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(bases)-1; i++ {
		bases[i].Close()
		if m := mountsUnder(dir); len(m) != 1 {
			t.Fatalf("after %d of %d closed: mounts %v, want the tmpfs still there", i+1, len(bases), m)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "0c0ffee0", ownerFile)); err != nil {
		t.Errorf("a closed harness's run dir vanished while another used the base: %v", err)
	}
	rd.Close()
	last.Close()
	if m := mountsUnder(dir); len(m) != 0 {
		t.Errorf("mounts left after the last harness closed: %v", m)
	}
}

// A base given again by a path through a symlinked parent resolves to the
// same directory (the engine gets a symlink-free path), and its run
// directories and start dirs are made through the opened root.
func TestSocketBaseRunDirs(t *testing.T) {
	b := privateBase(t)
	link := filepath.Join(t.TempDir(), "l")
	os.Symlink(filepath.Dir(b.Path), link)
	p, err := ResolveBase(filepath.Join(link, filepath.Base(b.Path)))
	if err != nil || p != b.Path {
		t.Fatalf("resolved %q %v, want %q", p, err, b.Path)
	}
	rd := claim(t, b, "0ddba11a", Owner())
	if _, err := b.Claim("0ddba11a", Owner()); err == nil {
		t.Error("a second claim of the same tag succeeded")
	}
	if _, err := b.Claim("../x", Owner()); err == nil {
		t.Error("a tag with a path in it was claimed")
	}
	dir, err := rd.Fresh(7)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Lstat(dir)
	if err != nil || st.Mode().Perm() != 0o777 || dir != filepath.Join(b.Path, "0ddba11a", "000007") {
		t.Fatalf("start dir %s: %v %v", dir, st, err)
	}
	// What an app leaves, symlinks out of the base included, goes with the
	// directory; the symlinks' targets stay.
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("x"), 0o600)
	os.Symlink(filepath.Dir(victim), filepath.Join(dir, "out"))
	os.WriteFile(filepath.Join(dir, "stale.sock"), nil, 0o600)
	if again, err := rd.Fresh(7); err != nil || again != dir {
		t.Fatalf("fresh again: %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("a fresh start dir holds %d entries", len(ents))
	}
	rd.Drop(7)
	if _, err := os.Lstat(dir); err == nil {
		t.Error("dropped start dir still there")
	}
	if _, err := os.Stat(victim); err != nil {
		t.Errorf("a symlink's target was removed: %v", err)
	}
}

// Without mounting (a user without mount rights) the base is the plain
// directory, and a warning says what that leaves undone.
func TestSocketBasePlainWarns(t *testing.T) {
	dir, err := os.MkdirTemp("/tmp", "cst-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	b, err := OpenSocketBase(dir, BaseOptions{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var sfs unix.Statfs_t
	unix.Statfs(dir, &sfs)
	if sfs.Type == unix.TMPFS_MAGIC {
		t.Skip("/tmp is a tmpfs here")
	}
	st, _ := os.Stat(dir)
	if !strings.Contains(b.Warning, "not a nosuid,nodev,noexec tmpfs") || !strings.Contains(b.Mount, "not a nosuid,nodev,noexec tmpfs") || st.Mode().Perm() != 0o700 {
		t.Errorf("mount %q, warning %q, mode %v: want the plain directory, 0700, and a warning", b.Mount, b.Warning, st.Mode().Perm())
	}
	if !b.Marked() {
		t.Error("the base carries no marker")
	}
}

// Harnesses coming and going on one base at once: each finds a usable
// tmpfs (never two stacked, never one without its marker), and once the
// last is gone no mount is left.
func TestSocketBaseChurn(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting needs root")
	}
	dir, err := os.MkdirTemp("/tmp", "cst-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	var wg sync.WaitGroup
	for g := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				b, err := OpenSocketBase(dir, BaseOptions{Create: true, Mount: true})
				if err != nil {
					t.Errorf("harness %d, round %d: %v", g, i, err)
					return
				}
				if b.Warning != "" || !b.mounted || len(mountsUnder(dir)) != 1 {
					t.Errorf("harness %d, round %d: mount %q warning %q mounted %v mounts %v", g, i, b.Mount, b.Warning, b.mounted, mountsUnder(dir))
				}
				rd, err := b.Claim(NewTag(), Owner())
				if err == nil {
					if _, err := rd.Fresh(1); err != nil {
						t.Errorf("fresh: %v", err)
					}
					rd.Drop(1)
					rd.Close()
				} else {
					t.Errorf("claim: %v", err)
				}
				b.Close()
			}
		}()
	}
	wg.Wait()
	if m := mountsUnder(dir); len(m) != 0 {
		t.Errorf("mounts left after every harness closed: %v", m)
		for range m {
			unix.Unmount(dir, 0)
		}
	}
}
