package probe

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrContract: the app signalled readiness in a way its platform rejects.
var ErrContract = errors.New("contract violation")

// FnLink checks a function's listener under Fn's http-stream contract as
// Fn's agent checks it when the create event of name fires in dir
// (fnproject/fn api/agent/agent.go, checkSocketDestination): a symlink must
// be relative within the directory (the directory of its target is "."),
// and what the name leads to must be a socket. It returns the socket to
// connect to, so that the harness never dials through the link.
//
// One difference, on purpose: Fn's agent stats through every link, so a
// relative link to a second link may lead anywhere on the host; here the
// link's target must itself be the socket.
func FnLink(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	fi, err := os.Lstat(p)
	if err != nil {
		return "", fmt.Errorf("%w: error statting unix socket link file: %v", ErrContract, err)
	}
	target, shown := p, name
	if fi.Mode()&os.ModeSymlink != 0 {
		dest, err := os.Readlink(p)
		if err != nil {
			return "", fmt.Errorf("%w: error reading unix socket symlink destination: %v", ErrContract, err)
		}
		shown = name + " -> " + dest
		if filepath.Dir(dest) != "." {
			return "", fmt.Errorf("%w: %s: invalid unix socket symlink, symlinks must be relative within the unix socket directory", ErrContract, shown)
		}
		target = filepath.Join(dir, dest)
		if fi, err = os.Lstat(target); err != nil {
			return "", fmt.Errorf("%w: %s: unable to stat unix socket file: %v", ErrContract, shown, err)
		}
	}
	switch {
	case fi.Mode()&os.ModeSymlink != 0:
		return "", fmt.Errorf("%w: %s: a link to a link: the harness does not follow a second link", ErrContract, shown)
	case fi.Mode()&os.ModeSocket == 0:
		return "", fmt.Errorf("%w: %s: listener file is not a socket", ErrContract, shown)
	}
	return target, nil
}
