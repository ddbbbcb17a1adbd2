package bench

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Only container cgroups count as other containers: under the systemd
// driver system.slice also holds the system's services (seen in the VM
// stage's systemd guest: 12 services counted as containers before).
func TestSiblings(t *testing.T) {
	id := func(c string) string { return strings.Repeat(c, 64) }
	root := t.TempDir()
	for _, d := range []string{
		"system.slice/docker-" + id("a") + ".scope", // this container
		"system.slice/docker-" + id("b") + ".scope",
		"system.slice/docker-" + id("c") + ".scope",
		"system.slice/docker.service",
		"system.slice/containerd.service",
		"system.slice/dbus.service",
		"system.slice/docker-" + id("d") + ".scope.d", // not a container's scope
		"docker/" + id("a"),
		"docker/" + id("e"),
		"docker/notacontainer",
	} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(root, "docker", id("f")), nil, 0o644) // a file, not a group
	for _, tc := range []struct {
		driver string
		path   string
		want   int
	}{
		{"systemd", "/system.slice/docker-" + id("a") + ".scope", 2},
		{"cgroupfs", "/docker/" + id("a"), 1},
		{"missing parent", "/nowhere/" + id("a"), 0},
	} {
		if got := siblings(root, tc.path, id("a")); got != tc.want {
			t.Errorf("%s: siblings = %d, want %d", tc.driver, got, tc.want)
		}
	}
	if got := siblings(root, "/docker/"+id("a"), ""); got != 0 {
		t.Errorf("no id: %d, want 0", got)
	}
}
