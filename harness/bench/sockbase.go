package bench

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The socket base is the host directory under which every start gets a
// fresh socket directory, bind-mounted into the app's container. The
// harness runs as root with the engine's socket and starts images it did not
// write, so the base is built to be neither taken over by another local
// user nor abused by the app:
//
//   - It is a directory owned by the harness's user, 0700, that is neither a
//     symlink nor group- or world-writable, under ancestors that only root or
//     that user can rename entries in (a sticky /tmp qualifies): whoever could
//     swap a component of the path could have the engine bind-mount any host
//     directory into the container. An existing directory is adopted only
//     when it is empty or carries the base's marker file, so a --socket-dir
//     that names a busy directory (/run, /tmp) is refused, not cleaned.
//   - Every operation below it goes through an os.Root (openat with
//     RESOLVE_BENEATH-like checks), opened from a descriptor that was
//     checked, not from the path again.
//   - As root it is its own tmpfs, mounted nosuid,nodev,noexec with a size
//     cap (as Fn's agent mounts its socket directories): a setuid file or
//     device node an app leaves in its socket dir is inert on the host. A
//     user who cannot mount gets the plain directory and a warning in the
//     run's manifest and summary. Creating and deleting a directory per
//     start costs less CPU on tmpfs than on ext4, too.
//
// Concurrency. Several harnesses share a base (the default /run/coldstart;
// tests use private short bases under /tmp):
//
//   - Each claims its own run directory, a random 8-hex tag made under a
//     temporary ".claim-" name that already holds its owner file, then
//     renamed: a tag directory without an owner never exists, and gc removes
//     only tag directories whose owner file names a dead process.
//   - Mounting: a harness that finds no usable tmpfs takes an exclusive
//     flock on the directory it opened (the one every harness arriving before
//     the mount opens too), opens the path again and mounts only if it still
//     finds none: two harnesses arriving at once mount one tmpfs, not two
//     stacked. It mounts with the new mount API (fsopen, fsmount,
//     move_mount onto the checked descriptor, never by path): the tmpfs is
//     made detached and its marker written before it is attached, so no
//     harness ever sees a coldstart tmpfs without the marker that says who
//     mounted it, and the mount's own descriptor keeps it busy from the
//     first instant. (Kernels before 5.2: mount(2) on /proc/self/fd/N.)
//   - Unmounting: each harness keeps a descriptor open in the tmpfs for its
//     whole life, and a plain umount(2) (never MNT_DETACH) fails with EBUSY
//     while any process has a file open in it: the last harness out, and only
//     it, unmounts a tmpfs the marker says coldstart mounted. A harness that
//     opened the path just after a last-out's umount finds the plain
//     directory and mounts a new tmpfs. Containers hold their bind in their
//     own mount namespace, which does not keep the host's mount busy; they
//     are removed before the run closes anyway.
//   - A killed harness leaves its run directory (and perhaps the mount): the
//     next harness's gc removes the directory (its owner is dead) and the last
//     one out unmounts. No mount is ever detached lazily, so none can linger
//     unseen: `grep coldstart /proc/mounts` shows every one.

// socketBaseMarker in a base says it is coldstart's: gc touches nothing in
// a directory without it.
const socketBaseMarker = ".coldstart-base"

// markerMounted is the marker's line saying that coldstart mounted the
// tmpfs, so that the last harness out may unmount it.
const markerMounted = "tmpfs mounted by coldstart"

// mountFlags of the base's tmpfs: nothing on it can act as setuid, a device
// or a program on the host.
const mountFlags = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC

// SocketBase is an opened socket base.
type SocketBase struct {
	Path string // absolute, with its parent's symlinks resolved
	// Mount describes its file system, for the manifest.
	Mount string
	// Warning says, when not "", why the base is not a nosuid,nodev,noexec
	// tmpfs: a finding of the run, not an error.
	Warning string
	root    *os.Root
	marked  bool // carries the marker
	mounted bool // the marker says coldstart mounted its tmpfs
}

// BaseOptions say what OpenSocketBase may do.
type BaseOptions struct {
	Create bool // make the directory when missing (else: ErrNoBase)
	Mount  bool // mount the tmpfs when the base is not one (root only)
}

// ErrNoBase: the socket base does not exist (and was not to be created).
var ErrNoBase = errors.New("socket base does not exist")

// ResolveBase makes path absolute and resolves its parent's symlinks: the
// base's own last component is never followed. The result is what the
// engine gets in bind mounts, and what the sun_path budget counts.
func ResolveBase(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	if abs == "/" {
		return "", fmt.Errorf("socket base %s: not a directory of its own", abs)
	}
	parent, err := filepath.EvalSymlinks(filepath.Dir(abs))
	if err != nil {
		return "", fmt.Errorf("socket base %s: %w", abs, err)
	}
	return filepath.Join(parent, filepath.Base(abs)), nil
}

// OpenSocketBase opens (and with opt, creates and mounts) the socket base
// at path. A base that cannot be trusted is an *InputError saying why; so is
// a directory that holds anything but coldstart's own, when opt.Create.
func OpenSocketBase(path string, opt BaseOptions) (*SocketBase, error) {
	p, err := ResolveBase(path)
	if err != nil {
		return nil, &InputError{err}
	}
	if err := checkAncestors(path, p); err != nil {
		return nil, &InputError{err}
	}
	if opt.Create {
		if err := os.Mkdir(p, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, &InputError{fmt.Errorf("socket base %s: %w", p, err)}
		}
	}
	fd, err := openBaseDir(p)
	if err != nil {
		return nil, err
	}
	b := &SocketBase{Path: p}
	if err := b.open(fd, opt); err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// open adopts the checked directory fd (closing it): it refuses one that
// holds anything but a base's, takes away other users' access, mounts the
// tmpfs when asked, and opens the os.Root every later operation uses.
func (b *SocketBase) open(fd int, opt BaseOptions) error {
	root, err := b.rootOf(fd)
	if err != nil {
		unix.Close(fd)
		return err
	}
	// Only a base's own directory is ever changed, mounted on or written in.
	if !b.marked && opt.Create {
		f, err := root.Open(".")
		if err == nil {
			names, _ := f.Readdirnames(1)
			f.Close()
			if len(names) > 0 {
				err = fmt.Errorf("socket base %s holds %s and is not a coldstart socket base (no %s): refused; give --socket-dir an empty or new directory", b.Path, names[0], socketBaseMarker)
			}
		}
		if err != nil {
			root.Close()
			unix.Close(fd)
			return &InputError{err}
		}
	}
	var st unix.Stat_t
	// Ours and not writable by others: take away any read or search bit
	// too, so that no other local user reaches the sockets or what the apps
	// leave beside them.
	if opt.Create && unix.Fstat(fd, &st) == nil && st.Mode&0o077 != 0 {
		if err := unix.Fchmod(fd, 0o700); err != nil {
			root.Close()
			unix.Close(fd)
			return &InputError{fmt.Errorf("socket base %s: chmod 0700: %w", b.Path, err)}
		}
	}
	if opt.Mount {
		root.Close()
		if fd, err = b.mount(fd); err != nil {
			return err
		}
		if root, err = b.rootOf(fd); err != nil {
			unix.Close(fd)
			return err
		}
	}
	b.root = root
	b.describe(fd)
	unix.Close(fd)
	if !b.marked && opt.Create {
		return b.writeMarker()
	}
	return nil
}

// rootOf opens an os.Root on the directory fd refers to (not on the path
// again) and reads the marker.
func (b *SocketBase) rootOf(fd int) (*os.Root, error) {
	root, err := os.OpenRoot("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return nil, &InputError{fmt.Errorf("socket base %s: %w", b.Path, err)}
	}
	marker, err := root.ReadFile(socketBaseMarker)
	switch {
	case err == nil:
		b.marked = true
		b.mounted = b.mounted || strings.Contains(string(marker), markerMounted)
	case errors.Is(err, fs.ErrNotExist):
		b.marked = false
	default:
		root.Close()
		return nil, &InputError{fmt.Errorf("socket base %s: marker: %w", b.Path, err)}
	}
	return root, nil
}

// openBaseDir opens the base itself without following it and checks the
// descriptor: a directory of ours that no one else may write in.
func openBaseDir(p string) (int, error) {
	fd, err := unix.Open(p, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT):
		return -1, fmt.Errorf("%w: %s", ErrNoBase, p)
	case errors.Is(err, unix.ELOOP), errors.Is(err, unix.ENOTDIR):
		return -1, &InputError{fmt.Errorf("socket base %s is a symlink or not a directory: refused (the engine would bind-mount whatever it points to)", p)}
	case err != nil:
		return -1, &InputError{fmt.Errorf("socket base %s: %w", p, err)}
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, &InputError{fmt.Errorf("socket base %s: %w", p, err)}
	}
	if err := checkBaseStat(p, &st); err != nil {
		unix.Close(fd)
		return -1, &InputError{err}
	}
	return fd, nil
}

// checkBaseStat refuses a base owned by someone else or writable by others.
func checkBaseStat(p string, st *unix.Stat_t) error {
	if int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("socket base %s is owned by uid %d, not by this harness's uid %d: refused (its owner could swap what the engine bind-mounts)", p, st.Uid, os.Geteuid())
	}
	if st.Mode&0o022 != 0 {
		return fmt.Errorf("socket base %s is group- or world-writable (mode %04o): refused (another user could swap a run's directory for a symlink)", p, st.Mode&0o7777)
	}
	return nil
}

// checkAncestors refuses a base below a directory in which someone other
// than root or this user could rename entries: through the path as given
// and through its resolved form (a sticky directory such as /tmp is safe:
// only an entry's owner may rename it there).
func checkAncestors(given, resolved string) error {
	abs, _ := filepath.Abs(given)
	seen := map[string]bool{}
	for _, p := range []string{filepath.Dir(abs), filepath.Dir(resolved)} {
		for d := p; !seen[d]; d = filepath.Dir(d) {
			seen[d] = true
			st, err := os.Lstat(d)
			if err != nil {
				return fmt.Errorf("socket base %s: %w", resolved, err)
			}
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && st.IsDir() {
				if sys.Uid != 0 && int(sys.Uid) != os.Geteuid() {
					return fmt.Errorf("socket base %s: its ancestor %s is owned by uid %d: refused (its owner could swap the path the engine bind-mounts)", resolved, d, sys.Uid)
				}
				if sys.Mode&0o022 != 0 && sys.Mode&syscall.S_ISVTX == 0 {
					return fmt.Errorf("socket base %s: its ancestor %s is writable by others and not sticky (mode %04o): refused", resolved, d, sys.Mode&0o7777)
				}
			}
			if d == "/" {
				break
			}
		}
	}
	return nil
}

// usableTmpfs reports whether fd is on a tmpfs mounted nosuid,nodev,noexec.
func usableTmpfs(fd int) (bool, unix.Statfs_t) {
	var sfs unix.Statfs_t
	if unix.Fstatfs(fd, &sfs) != nil {
		return false, sfs
	}
	want := int64(unix.ST_NOSUID | unix.ST_NODEV | unix.ST_NOEXEC)
	return sfs.Type == unix.TMPFS_MAGIC && sfs.Flags&want == want, sfs
}

// mount makes the base a nosuid,nodev,noexec tmpfs unless it is one, and
// returns a descriptor of the base as it is now (fd itself, or the mounted
// tmpfs's root; fd is then closed). Failing to mount is a warning.
func (b *SocketBase) mount(fd int) (int, error) {
	if ok, _ := usableTmpfs(fd); ok {
		return fd, nil
	}
	// Serialize with every harness that opened the directory before any
	// mount (all of them lock this same inode), then look again.
	if err := unix.Flock(fd, unix.LOCK_EX); err != nil {
		return fd, &InputError{fmt.Errorf("socket base %s: lock: %w", b.Path, err)}
	}
	defer unix.Close(fd) // releases the lock
	cur, err := openBaseDir(b.Path)
	if err != nil {
		return -1, err
	}
	if ok, _ := usableTmpfs(cur); ok {
		return cur, nil // another harness mounted it meanwhile
	}
	root, err := mountTmpfs(cur)
	if errors.Is(err, unix.ENOSYS) {
		root, err = mountClassic(cur)
	}
	unix.Close(cur)
	if err != nil {
		b.Warning = fmt.Sprintf("socket base %s is not a nosuid,nodev,noexec tmpfs and could not be made one (mount: %v): a setuid file or device node an app leaves in its socket dir is not neutralised by the mount (the base is still 0700)", b.Path, err)
		return openBaseDir(b.Path)
	}
	b.mounted = true
	return root, nil
}

// tmpfsConfig is the base's tmpfs: sockets take no space, and an app that
// fills its socket dir fills at most this (charged to the host's memory).
func tmpfsConfig() [][2]string {
	return [][2]string{{"source", "coldstart"}, {"size", "16m"}, {"nr_inodes", "16384"}, {"mode", "0700"},
		{"uid", strconv.Itoa(os.Geteuid())}, {"gid", strconv.Itoa(os.Getegid())}}
}

// mountTmpfs mounts a new tmpfs on the directory target with the new mount
// API: the tmpfs is made detached, its marker written, and only then
// attached, so that no harness ever sees it without the marker that says
// coldstart mounted it. It returns a descriptor of the tmpfs's root, which
// also keeps the mount busy (no concurrent last-out can take it away).
func mountTmpfs(target int) (int, error) {
	fs, err := unix.Fsopen("tmpfs", unix.FSOPEN_CLOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(fs)
	for _, kv := range tmpfsConfig() {
		if err := unix.FsconfigSetString(fs, kv[0], kv[1]); err != nil {
			return -1, fmt.Errorf("tmpfs %s=%s: %w", kv[0], kv[1], err)
		}
	}
	if err := unix.FsconfigCreate(fs); err != nil {
		return -1, err
	}
	mnt, err := unix.Fsmount(fs, unix.FSMOUNT_CLOEXEC, unix.MOUNT_ATTR_NOSUID|unix.MOUNT_ATTR_NODEV|unix.MOUNT_ATTR_NOEXEC)
	if err != nil {
		return -1, err
	}
	defer unix.Close(mnt)
	if err := markMounted(mnt, false); err != nil {
		return -1, err
	}
	if err := unix.MoveMount(mnt, "", target, "", unix.MOVE_MOUNT_F_EMPTY_PATH|unix.MOVE_MOUNT_T_EMPTY_PATH); err != nil {
		return -1, err
	}
	return unix.Openat(mnt, ".", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
}

// mountClassic is mountTmpfs for kernels without the new mount API (before
// 5.2): mount(2) through the checked descriptor, then the marker, written
// over any a harness that came in between wrote.
func mountClassic(target int) (int, error) {
	var opts []string
	for _, kv := range tmpfsConfig()[1:] {
		opts = append(opts, kv[0]+"="+kv[1])
	}
	if err := unix.Mount("coldstart", "/proc/self/fd/"+strconv.Itoa(target), "tmpfs", mountFlags, strings.Join(opts, ",")); err != nil {
		return -1, err
	}
	root, err := unix.Open("/proc/self/fd/"+strconv.Itoa(target), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if ok, _ := usableTmpfs(root); !ok {
		unix.Close(root)
		return -1, errors.New("the tmpfs did not appear where it was mounted")
	}
	if err := markMounted(root, true); err != nil {
		unix.Close(root)
		return -1, err
	}
	return root, nil
}

// markMounted writes the marker of a tmpfs coldstart mounted; over an
// existing one only with overwrite.
func markMounted(dir int, overwrite bool) error {
	flags := unix.O_WRONLY | unix.O_CREAT | unix.O_NOFOLLOW | unix.O_CLOEXEC | unix.O_EXCL
	if overwrite {
		flags = flags&^unix.O_EXCL | unix.O_TRUNC
	}
	f, err := unix.Openat(dir, socketBaseMarker, flags, 0o600)
	if err != nil {
		return err
	}
	defer unix.Close(f)
	_, err = unix.Write(f, []byte(markerText+markerMounted+"\n"))
	return err
}

// markerText opens the marker file.
const markerText = "coldstart socket base: gc removes run directories of dead coldstart processes here\n"

// writeMarker marks the base as coldstart's, saying whether coldstart
// mounted its tmpfs.
func (b *SocketBase) writeMarker() error {
	text := markerText
	if b.mounted {
		text += markerMounted + "\n"
	}
	// Never over another's: a base is marked once, by whoever comes first.
	f, err := b.root.OpenFile(socketBaseMarker, os.O_WRONLY|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
	if errors.Is(err, fs.ErrExist) {
		b.marked = true
		return nil
	}
	if err == nil {
		_, err = f.Write([]byte(text))
		err = errors.Join(err, f.Close())
	}
	if err != nil {
		return &InputError{fmt.Errorf("socket base %s: marker: %w", b.Path, err)}
	}
	b.marked = true
	return nil
}

// describe fills Mount and, for a base that is not a nosuid,nodev,noexec
// tmpfs, Warning.
func (b *SocketBase) describe(fd int) {
	ok, sfs := usableTmpfs(fd)
	switch {
	case ok && b.mounted:
		b.Mount = "tmpfs nosuid,nodev,noexec (mounted by coldstart)"
	case ok:
		b.Mount = "tmpfs nosuid,nodev,noexec"
	default:
		b.Mount = fsName(sfs) + " (not a nosuid,nodev,noexec tmpfs)"
		if b.Warning == "" {
			b.Warning = fmt.Sprintf("socket base %s is not a nosuid,nodev,noexec tmpfs (no mount rights, or not asked to mount): a setuid file or device node an app leaves in its socket dir is not neutralised by the mount (the base is still 0700)", b.Path)
		}
	}
}

// fsName describes a file system by its type and mount flags, e.g.
// "ext4 rw" or "tmpfs nosuid,nodev".
func fsName(sfs unix.Statfs_t) string {
	names := map[int64]string{unix.TMPFS_MAGIC: "tmpfs", unix.EXT4_SUPER_MAGIC: "ext2/3/4", unix.XFS_SUPER_MAGIC: "xfs",
		unix.BTRFS_SUPER_MAGIC: "btrfs", unix.OVERLAYFS_SUPER_MAGIC: "overlayfs", unix.FUSE_SUPER_MAGIC: "fuse"}
	name, ok := names[sfs.Type]
	if !ok {
		name = fmt.Sprintf("file system 0x%x", sfs.Type)
	}
	var flags []string
	for _, f := range []struct {
		bit  int64
		name string
	}{{unix.ST_RDONLY, "ro"}, {unix.ST_NOSUID, "nosuid"}, {unix.ST_NODEV, "nodev"}, {unix.ST_NOEXEC, "noexec"}} {
		if sfs.Flags&f.bit != 0 {
			flags = append(flags, f.name)
		}
	}
	if len(flags) == 0 {
		return name
	}
	return name + " " + strings.Join(flags, ",")
}

// Close releases the base; the last harness out unmounts the tmpfs that
// coldstart mounted (a plain umount: EBUSY while any other harness has the
// base open, which then unmounts it in its turn).
func (b *SocketBase) Close() error {
	if b.root != nil {
		b.root.Close()
		b.root = nil
	}
	if !b.mounted {
		return nil
	}
	b.mounted = false
	err := unix.Unmount(b.Path, unix.UMOUNT_NOFOLLOW)
	if err == nil || errors.Is(err, unix.EBUSY) || errors.Is(err, unix.EINVAL) {
		return nil
	}
	return fmt.Errorf("socket base %s: umount: %w", b.Path, err)
}

// Marked reports whether the base carries coldstart's marker.
func (b *SocketBase) Marked() bool { return b.marked }

// RunDir is one session's directory in the base: <tag>/<6-digit seq> per start.
type RunDir struct {
	Tag  string
	Path string // absolute: what the engine bind-mounts below
	base *SocketBase
	root *os.Root
}

// ownerFile in a run directory names the process that owns it.
const ownerFile = "owner"

// claimPrefix names a run directory before its owner file is in it.
const claimPrefix = ".claim-"

// Claim creates the run directory for tag with its owner file: under a
// temporary name first, so that a tag directory always names its owner.
func (b *SocketBase) Claim(tag, owner string) (*RunDir, error) {
	if !validTag(tag) {
		return nil, fmt.Errorf("socket dir: bad run tag %q", tag)
	}
	tmp := claimPrefix + tag
	if err := b.root.Mkdir(tmp, 0o700); err != nil {
		return nil, fmt.Errorf("socket dir: %w", err)
	}
	if err := b.root.WriteFile(tmp+"/"+ownerFile, []byte(owner+"\n"), 0o600); err != nil {
		b.root.RemoveAll(tmp)
		return nil, fmt.Errorf("socket dir: %w", err)
	}
	if err := b.root.Rename(tmp, tag); err != nil {
		b.root.RemoveAll(tmp)
		return nil, fmt.Errorf("socket dir %s: %w", tag, err)
	}
	r, err := b.root.OpenRoot(tag)
	if err != nil {
		b.root.RemoveAll(tag)
		return nil, fmt.Errorf("socket dir: %w", err)
	}
	return &RunDir{Tag: tag, Path: filepath.Join(b.Path, tag), base: b, root: r}, nil
}

// Fresh makes the directory of one start, empty (a stale socket file gives
// ECONNREFUSED and no create event) and writable by any container user: the
// base above it is 0700, so only root on the host reaches it.
func (r *RunDir) Fresh(seq int) (string, error) {
	name := seqName(seq)
	err := r.root.Mkdir(name, 0o777)
	if errors.Is(err, fs.ErrExist) {
		r.root.RemoveAll(name)
		err = r.root.Mkdir(name, 0o777)
	}
	if err != nil {
		return "", fmt.Errorf("socket dir: %w", err)
	}
	// Mkdir is subject to the umask; nothing but this harness can reach the
	// new directory yet.
	if err := r.root.Chmod(name, 0o777); err != nil {
		return "", fmt.Errorf("socket dir: %w", err)
	}
	return r.Path + "/" + name, nil
}

// Drop removes one start's directory and whatever the app left in it
// (symlinks are removed, never followed).
func (r *RunDir) Drop(seq int) { r.root.RemoveAll(seqName(seq)) }

// Close removes the run directory; close it before its base.
func (r *RunDir) Close() error {
	r.root.Close()
	if r.base.root == nil {
		return fmt.Errorf("socket dir %s: its base is closed already", r.Tag)
	}
	return r.base.root.RemoveAll(r.Tag)
}

func seqName(seq int) string { return fmt.Sprintf("%06d", seq) }

// validTag: 8 lower-case hex characters, as NewRunID and NewTag make.
func validTag(s string) bool {
	if len(s) != 8 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
