// Package livelock serialises, across test packages, the tests that start
// containers on the real engine or load the machine (a headless browser):
// `go test ./...` runs packages at once, and a start's times (and whether it
// counts as contended) must not include another package's work. It is for
// tests only.
package livelock

import (
	"fmt"
	"os"
	"syscall"
)

// heldEnv tells a re-executed test binary (a fault test's harness process)
// that its parent holds the lock already.
const heldEnv = "COLDSTART_LIVE_LOCK_HELD"

// path is machine-wide on purpose: two checkouts testing at once share the engine.
const path = "/tmp/coldstart-live-tests.lock"

// Hold blocks until this process holds the lock and returns its release.
// A process whose parent holds it gets a no-op.
func Hold() (release func(), err error) {
	if os.Getenv(heldEnv) == "1" {
		return func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		return nil, fmt.Errorf("live-test lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("live-test lock: %w", err)
	}
	os.Setenv(heldEnv, "1")
	return func() {
		os.Unsetenv(heldEnv)
		f.Close()
	}, nil
}
