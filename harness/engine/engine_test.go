package engine

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTarDir(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "Dockerfile"), []byte("FROM scratch\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "sub", "app"), []byte("bin"), 0o755)
	os.Symlink("sub/app", filepath.Join(dir, "link"))
	got := tarNames(t, dir, "Dockerfile")
	want := map[string]string{"Dockerfile": "FROM scratch\n", "sub/": "", "sub/app": "bin", "link": "sub/app"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// .dockerignore is honoured as docker's client honours it: excluded files
// and directories stay out of the context, exceptions come back, and the
// Dockerfile and the ignore file are always sent.
func TestTarDirDockerignore(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"Dockerfile", "app", "secret.key", ".ssh/id_ed25519", "keep/a.txt", "keep/b.log", "logs/x.log", "logs/important.log"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(f)), 0o755)
		os.WriteFile(filepath.Join(dir, f), []byte(f), 0o644)
	}
	os.WriteFile(filepath.Join(dir, ".dockerignore"), []byte("# comment\n*.key\n.ssh\nkeep/*.log\nlogs\n!logs/important.log\nDockerfile\n.dockerignore\n"), 0o644)
	got := tarNames(t, dir, "Dockerfile")
	for _, f := range []string{"Dockerfile", ".dockerignore", "app", "keep/", "keep/a.txt", "logs/important.log"} {
		if _, ok := got[f]; !ok {
			t.Errorf("%s missing from the context: %v", f, got)
		}
	}
	for _, f := range []string{"secret.key", ".ssh/", ".ssh/id_ed25519", "keep/b.log", "logs/x.log"} {
		if _, ok := got[f]; ok {
			t.Errorf("%s sent although .dockerignore excludes it", f)
		}
	}
}

// tarNames streams dir as a build context and returns each entry's content
// (or link target) by name.
func tarNames(t *testing.T, dir, dockerfile string) map[string]string {
	t.Helper()
	var b bytes.Buffer
	if err := tarDir(dir, dockerfile, &b); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	tr := tar.NewReader(&b)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(tr)
		got[h.Name] = string(body) + h.Linkname
		if h.Uid != 0 || h.Uname != "" {
			t.Errorf("%s: owner %d %q leaks into the context", h.Name, h.Uid, h.Uname)
		}
	}
	return got
}

func TestReadBuildStream(t *testing.T) {
	ok := `{"stream":"Step 1/2 : FROM scratch\n"}` + "\n" + `{"stream":"Successfully built x\n"}`
	if err := readBuildStream(strings.NewReader(ok), io.Discard, "t"); err != nil {
		t.Fatal(err)
	}
	bad := `{"stream":"Step 1/2 : FROM nothing\n"}` + "\n" + `{"error":"pull access denied for nothing"}`
	err := readBuildStream(strings.NewReader(bad), io.Discard, "t")
	if err == nil || !strings.Contains(err.Error(), "pull access denied") || !strings.Contains(err.Error(), "Step 1/2") {
		t.Fatalf("err %v: want the builder's error with its last lines", err)
	}
}

func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	for _, tc := range []struct {
		err         error
		unreachable bool
	}{
		{refused, true},
		{io.ErrUnexpectedEOF, true},
		{errors.New("Error response from daemon: No such container: x"), false},
		{fmt.Errorf("Error response from daemon: OCI runtime create failed: stat /x: no such file or directory"), false},
		{context.Canceled, false},
	} {
		if got := errors.Is(classify("op", tc.err), ErrUnreachable); got != tc.unreachable {
			t.Errorf("%v: unreachable %v, want %v", tc.err, got, tc.unreachable)
		}
	}
}

// Dial fails fast, and as ErrUnreachable, when nothing listens.
func TestDialUnreachable(t *testing.T) {
	t.Setenv("DOCKER_HOST", "unix:///tmp/coldstart-engine-test-none.sock")
	start := time.Now()
	_, err := Dial(context.Background(), 2*time.Second)
	if !errors.Is(err, ErrUnreachable) || time.Since(start) > 3*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestTailBuffer(t *testing.T) {
	for _, tc := range []struct {
		writes []string
		max    int
		want   string
	}{
		{[]string{"abc", "def"}, 10, "abcdef"},
		{[]string{"abc", "def"}, 4, "[...]cdef"},
		{[]string{strings.Repeat("x", 100)}, 3, "[...]xxx"},
		{[]string{"aé", "b"}, 2, "[...]b"}, // é is two bytes: a cut inside it is skipped
		{[]string{strings.Repeat("y", 30), "z"}, 10, "[...]yyyyyyyyyz"},
	} {
		b := &TailBuffer{Max: tc.max}
		for _, w := range tc.writes {
			if n, err := b.Write([]byte(w)); n != len(w) || err != nil {
				t.Fatalf("write %q: %d %v", w, n, err)
			}
		}
		if got := b.String(); got != tc.want {
			t.Errorf("%q max %d: %q, want %q", tc.writes, tc.max, got, tc.want)
		}
		if len(b.b) > 2*tc.max {
			t.Errorf("%q max %d: holds %d bytes", tc.writes, tc.max, len(b.b))
		}
	}
}

func TestKernelMemoryNote(t *testing.T) {
	for _, tc := range []struct {
		api          string
		hostSupports bool
		want         string
	}{
		{"1.41", true, ""},
		{"1.41", false, "not supported by this engine here (API 1.41: discarded, no kernel-memory limit on this host)"},
		{"1.42", true, "not supported by this engine (API 1.42; dropped in 1.42)"},
		{"1.45", false, "not supported by this engine (API 1.45; dropped in 1.42)"},
	} {
		if got := kernelMemoryNote(tc.api, tc.hostSupports); got != tc.want {
			t.Errorf("kernelMemoryNote(%s, %v) = %q, want %q", tc.api, tc.hostSupports, got, tc.want)
		}
	}
}
