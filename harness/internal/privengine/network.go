package privengine

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Network is a private network for nodes: a hub namespace holding a bridge,
// and per node a named network namespace joined to the bridge by a veth
// pair (eth0 inside, 10.231.0.<i+1>/24). Nothing of it is in the host's own
// namespace: no link, no route, no address; only the names in /run/netns,
// removed with it.
type Network struct {
	t      testing.TB
	Prefix string // names of its namespaces: <Prefix>-hub, <Prefix>-n1, ...
	nodes  int
}

// NewNetwork makes the hub and n node namespaces and registers their
// removal (it runs after the engines' clean-up when the network is made
// before them).
func NewNetwork(t testing.TB, n int) *Network {
	t.Helper()
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip (iproute2) is not installed")
	}
	var b [3]byte
	rand.Read(b[:])
	nw := &Network{t: t, Prefix: "cssw" + hex.EncodeToString(b[:])}
	t.Cleanup(nw.remove)
	nw.ip("netns", "add", nw.hub())
	nw.ip("-n", nw.hub(), "link", "add", "br0", "type", "bridge")
	nw.ip("-n", nw.hub(), "link", "set", "br0", "up")
	for i := 0; i < n; i++ {
		ns, peer := nw.Netns(i), fmt.Sprintf("h%d", i+1)
		nw.ip("netns", "add", ns)
		nw.nodes++
		nw.ip("-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", peer, "netns", nw.hub())
		nw.ip("-n", nw.hub(), "link", "set", peer, "master", "br0")
		nw.ip("-n", nw.hub(), "link", "set", peer, "up")
		nw.ip("-n", ns, "addr", "add", nw.Addr(i)+"/24", "dev", "eth0")
		nw.ip("-n", ns, "link", "set", "eth0", "up")
		nw.ip("-n", ns, "link", "set", "lo", "up")
	}
	return nw
}

func (nw *Network) hub() string { return nw.Prefix + "-hub" }

// Netns is node i's network namespace (0-based).
func (nw *Network) Netns(i int) string { return fmt.Sprintf("%s-n%d", nw.Prefix, i+1) }

// Addr is node i's address on the bridge.
func (nw *Network) Addr(i int) string { return fmt.Sprintf("10.231.0.%d", i+1) }

func (nw *Network) ip(args ...string) {
	nw.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		nw.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// remove deletes the namespaces; their links go with them.
func (nw *Network) remove() {
	for _, ns := range append(nw.names(), nw.hub()) {
		if _, err := os.Stat("/run/netns/" + ns); err != nil {
			continue
		}
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			nw.t.Errorf("cleanup: ip netns del %s: %v: %s", ns, err, out)
		}
	}
	for _, ns := range append(nw.names(), nw.hub()) {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			nw.t.Errorf("cleanup: network namespace %s remains", ns)
		}
	}
}

func (nw *Network) names() []string {
	var out []string
	for i := 0; i < nw.nodes; i++ {
		out = append(out, nw.Netns(i))
	}
	return out
}
