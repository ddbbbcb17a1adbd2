// Command fn-go is a function written to Fn's http-stream contract, without
// the FDK (no package but the standard library and x/sys for the clock):
//
//   - the platform sets FN_FORMAT=http-stream and FN_LISTENER=unix:/tmp/iofs/lsnr.sock
//     (a per-container host directory bind-mounted at /tmp/iofs), plus FN_MEMORY
//     (MB) and FN_TMPSIZE;
//   - the function binds and listens on a private socket in that directory
//     ("phony" + the listener's name, as fdk-go and fdk-python do), makes it
//     mode 0666, and only then creates the listener's name as a relative
//     symlink to it: the symlink appearing is the readiness signal, and Fn's
//     agent rejects a link that is not relative or not to a socket in the
//     same directory;
//   - calls are POST /call with Fn-Call-Id and Fn-Deadline (RFC 3339); the
//     answer's status must be 200 (ok), 502 (function failed) or 504 (timed
//     out): the agent shuts the container down on any other.
//
// GET / answers "ok" too (not part of the contract: it lets a health probe
// tell "listening" from "serving calls"). Both answers carry the
// CLOCK_MONOTONIC instants of listen() and of the handler, like go-hello.
//
// -mode selects deliberately broken behaviour for the harness's tests:
//
//	ok            the contract as above (default)
//	abs-link      the symlink is absolute (/tmp/iofs/phonylsnr.sock): Fn rejects it
//	outside-link  the socket is bound outside the directory and the link is ../phonylsnr.sock: Fn rejects it
//	file-link     the link is relative but points to a regular file: Fn rejects it ("not a socket")
//	no-link       listens but never creates the symlink: the start never becomes ready
//	no-call       answers GET / but never answers POST /call (holds the request open)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func main() {
	if err := run(os.Args[1:], os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "fn-go:", err)
		os.Exit(1)
	}
}

var modes = []string{"ok", "abs-link", "outside-link", "file-link", "no-link", "no-call"}

func run(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("fn-go", flag.ContinueOnError)
	mode := fs.String("mode", "ok", "one of "+strings.Join(modes, ", "))
	if err := fs.Parse(args); err != nil {
		return err
	}
	if !slices.Contains(modes, *mode) {
		return fmt.Errorf("unknown -mode %q; want one of %s", *mode, strings.Join(modes, ", "))
	}
	// Like the FDKs: an unset format is accepted, any other than http-stream is not.
	if f := getenv("FN_FORMAT"); f != "" && f != "http-stream" {
		return fmt.Errorf("FN_FORMAT=%q: only http-stream is supported", f)
	}
	lsnr := getenv("FN_LISTENER")
	link, ok := strings.CutPrefix(lsnr, "unix:")
	if !ok || !filepath.IsAbs(link) {
		return fmt.Errorf("FN_LISTENER=%q: want unix:/absolute/path", lsnr)
	}
	dir, name := filepath.Split(link)
	sock := filepath.Join(dir, "phony"+name)
	if *mode == "outside-link" {
		sock = filepath.Join(filepath.Dir(filepath.Clean(dir)), "phony"+name)
	}
	// A stale link or socket from an earlier process would make bind fail.
	os.Remove(link)
	os.Remove(sock)

	l, err := net.Listen("unix", sock)
	if err != nil {
		return err
	}
	listened := mono()
	// Any user may connect: the agent need not run as the function's user.
	if err := os.Chmod(sock, 0o666); err != nil {
		return err
	}
	if err := publish(*mode, link, sock); err != nil {
		return err
	}

	h := &handler{
		listened: listened,
		noCall:   *mode == "no-call",
		memory:   getenv("FN_MEMORY"),
		tmpsize:  getenv("FN_TMPSIZE"),
	}
	return http.Serve(l, h)
}

// publish creates the listener's name: the readiness signal.
func publish(mode, link, sock string) error {
	switch mode {
	case "ok", "no-call":
		return os.Symlink(filepath.Base(sock), link)
	case "abs-link":
		return os.Symlink(sock, link)
	case "outside-link":
		return os.Symlink(filepath.Join("..", filepath.Base(sock)), link)
	case "file-link":
		f := filepath.Join(filepath.Dir(link), "phony.txt")
		if err := os.WriteFile(f, []byte("not a socket\n"), 0o644); err != nil {
			return err
		}
		return os.Symlink(filepath.Base(f), link)
	case "no-link":
		return nil
	}
	return fmt.Errorf("unknown mode %q", mode)
}

type handler struct {
	listened        int64
	noCall          bool
	memory, tmpsize string
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		fmt.Fprintf(w, "ok listen_mono_ns=%d answer_mono_ns=%d\n", h.listened, mono())
	case r.URL.Path == "/call" && r.Method == http.MethodPost:
		h.call(w, r)
	default:
		http.NotFound(w, r)
	}
}

func (h *handler) call(w http.ResponseWriter, r *http.Request) {
	if h.noCall {
		// Hold the call until the caller gives up: never an answer.
		<-r.Context().Done()
		return
	}
	ctx := r.Context()
	// Fn-Deadline is RFC 3339; a missing or malformed one means no deadline (as in fdk-go).
	deadline, err := time.Parse(time.RFC3339, r.Header.Get("Fn-Deadline"))
	if err == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	// The function's work: read the whole input (the agent may send it chunked) and answer.
	n, err := io.Copy(io.Discard, io.LimitReader(r.Body, 6<<20))
	if err != nil {
		http.Error(w, "read input: "+err.Error(), http.StatusBadGateway)
		return
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// 504 tells the agent the call timed out; the container may go on.
		http.Error(w, "deadline exceeded", http.StatusGatewayTimeout)
		return
	}
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Fn-Fdk-Version", "coldstart-fn-go/1")
	fmt.Fprintf(w, "fn-go called call_id=%s input_bytes=%d fn_memory=%s fn_tmpsize=%s listen_mono_ns=%d answer_mono_ns=%d\n",
		r.Header.Get("Fn-Call-Id"), n, h.memory, h.tmpsize, h.listened, mono())
}

func mono() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}
