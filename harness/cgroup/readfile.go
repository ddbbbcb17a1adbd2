package cgroup

import (
	"io/fs"

	"golang.org/x/sys/unix"
)

// ReadSmall reads a small kernel file (cgroupfs, procfs) whole with three
// system calls: open, read, close. os.ReadFile also stats the file and tries
// to register it with the poller, which doubles the cost of the dozen
// files a start reads. Errors are the system call's (fs.ErrNotExist works).
func ReadSmall(path string) ([]byte, error) { return readKernelFile(path, false) }

// ReadShown is ReadSmall for a file the kernel generates whole in one show
// call (a single_open seq file: every cgroup value or "key value" file,
// /proc/stat, /proc/PID/stat, /proc/loadavg): a read that returns less than
// the buffer holds the whole file, so the read that would return 0 is not
// made. A file that fills the buffer is read on to its end. Not for files of
// one record per line that can pass a page (mountinfo): their reads can
// stop short of the end.
func ReadShown(path string) ([]byte, error) { return readKernelFile(path, true) }

func readKernelFile(path string, shown bool) ([]byte, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	for err == unix.EINTR {
		fd, err = unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	buf := make([]byte, 0, 4096)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := unix.Read(fd, buf[len(buf):cap(buf)])
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		short := len(buf)+n < cap(buf)
		buf = buf[:len(buf)+n]
		if n == 0 || (shown && short) {
			return buf, nil
		}
	}
}
