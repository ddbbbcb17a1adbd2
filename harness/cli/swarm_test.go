package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/coldstart/coldstart/harness/internal/privengine"
	"github.com/coldstart/coldstart/harness/journal"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
)

// A swarm of three PRIVATE engines on this machine (privengine: each its own
// dockerd, data root, exec root and socket, in its own network namespace on
// a private bridge, and in its own mount and UTS namespaces: one path,
// MountAt/d.sock, is each node's own engine to the tasks it runs), the
// harness image and go-hello loaded into every node, then `coldstart swarm
// run` as a user runs it: the quickstart sharded across the three nodes;
// the coordinator interrupted; a node powered off mid-run. The shared
// engine is never touched. COLDSTART_SWARM=0 skips it; COLDSTART_SWARM_KEEP=DIR
// copies the merged runs there (the README's figures and the reports'
// fixture come from them).
//
// Observed on Docker 20.10.24 (the facts this test and the coordinator
// rest on):
//   - a replicated job renders {{.Task.Slot}} of its slot 0 as the node's
//     ID, and a removed job leaves its tasks in the manager's store and their
//     containers on the nodes (moby/moby#42789): the coordinator runs a
//     replicated service with restart-condition none instead (slots 1..N,
//     removed cleanly);
//   - a task on a node that goes down stays "running" in the manager's view
//     with desired state shutdown, and is not rescheduled (restart none);
//   - `docker service logs` of a service with a down node ends with "warning:
//     incomplete log stream ... node X is not available".

// swarmNodes is the test's swarm.
type swarmNodes struct {
	nodes   []*privengine.Engine
	mountAt string // the path that is each node's own directory inside its mount namespace
	harness string // the harness image on every node
}

func TestSwarm(t *testing.T) {
	if os.Getenv("COLDSTART_SWARM") == "0" {
		t.Skip("COLDSTART_SWARM=0")
	}
	for _, tool := range []string{"docker", "nsenter", "unshare", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	t0 := time.Now()
	sw := newSwarm(t, 3)
	t.Logf("swarm of 3 private engines with the images loaded in %v", time.Since(t0).Round(time.Millisecond))
	t.Run("Sharded", func(t *testing.T) { testSwarmSharded(t, sw) })
	t.Run("Interrupted", func(t *testing.T) { testSwarmInterrupted(t, sw) })
	t.Run("NodeLost", func(t *testing.T) { testSwarmNodeLost(t, sw) })
	t.Logf("swarm tests took %v before clean-up", time.Since(t0).Round(time.Millisecond))
}

// newSwarm starts n private engines joined into one swarm (node1 the
// manager), labels them (instance-type small, small, large), and loads
// the harness image and go-hello into each.
func newSwarm(t *testing.T, n int) *swarmNodes {
	root, err := os.MkdirTemp("/tmp", "cssw-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) }) // last: after the nodes and namespaces
	sw := &swarmNodes{mountAt: filepath.Join(root, "node"), harness: "coldstart/harness:swarmtest"}
	os.Mkdir(sw.mountAt, 0o755)
	nw := privengine.NewNetwork(t, n)
	for i := 0; i < n; i++ {
		node := privengine.Start(t, privengine.Options{Prefix: "cssw-", Name: fmt.Sprintf("node%d", i+1),
			Netns: nw.Netns(i), MountAt: sw.mountAt})
		// The socket base, prepared on each node as a fleet would (a 0700
		// directory of root), at one path: MountAt/sock.
		if err := os.Mkdir(filepath.Join(node.Dir, "sock"), 0o700); err != nil {
			t.Fatal(err)
		}
		sw.nodes = append(sw.nodes, node)
	}
	docker(t, sw.nodes[0], "swarm", "init", "--advertise-addr", nw.Addr(0), "--dispatcher-heartbeat", "1s")
	token := strings.TrimSpace(docker(t, sw.nodes[0], "swarm", "join-token", "-q", "worker"))
	for i := 1; i < n; i++ {
		docker(t, sw.nodes[i], "swarm", "join", "--advertise-addr", nw.Addr(i), "--token", token, nw.Addr(0)+":2377")
	}
	for i, it := range []string{"small", "small", "large"}[:n] {
		docker(t, sw.nodes[0], "node", "update", "--label-add", "instance-type="+it, fmt.Sprintf("node%d", i+1))
	}
	sw.loadImages(t)
	return sw
}

// loadImages builds the harness image (FROM scratch + the static binary) and
// go-hello on node1, and loads them into the others (docker save | load: no
// registry).
func (sw *swarmNodes) loadImages(t *testing.T) {
	dir := t.TempDir()
	hdir, adir := filepath.Join(dir, "harness"), filepath.Join(dir, "app")
	os.Mkdir(hdir, 0o755)
	os.Mkdir(adir, 0o755)
	gobuild(t, filepath.Join(hdir, "coldstart"), "../../harness/cmd/coldstart")
	os.WriteFile(filepath.Join(hdir, "Dockerfile"), []byte("FROM scratch\nCOPY coldstart /coldstart\nENTRYPOINT [\"/coldstart\"]\n"), 0o644)
	gobuild(t, filepath.Join(adir, "app"), "../../scenarios/apps/go-hello")
	df, _ := os.ReadFile("../../scenarios/apps/go-hello/Dockerfile")
	os.WriteFile(filepath.Join(adir, "Dockerfile"), df, 0o644)
	docker(t, sw.nodes[0], "build", "-q", "-t", sw.harness, hdir)
	docker(t, sw.nodes[0], "build", "-q", "-t", "coldstart/go-hello:latest", adir)
	for _, img := range []string{sw.harness, "coldstart/go-hello:latest"} {
		tar := filepath.Join(dir, "img.tar")
		docker(t, sw.nodes[0], "save", "-o", tar, img)
		for _, n := range sw.nodes[1:] {
			docker(t, n, "load", "-q", "-i", tar)
		}
	}
}

func gobuild(t *testing.T, out, pkg string) {
	t.Helper()
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
}

// docker runs the docker CLI against a node.
func docker(t *testing.T, n *privengine.Engine, args ...string) string {
	t.Helper()
	cmd := exec.Command("docker", append([]string{"-H", n.Host()}, args...)...)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("docker %s: %v\n%s%s\n%s", strings.Join(args, " "), err, out.String(), errb.String(), n.LogTail(15))
	}
	return out.String()
}

// swarmRun is `coldstart swarm run` as a user runs it on the manager.
func (sw *swarmNodes) swarmRun(ctx context.Context, t *testing.T, out string, extra ...string) (string, string, error) {
	t.Setenv("DOCKER_HOST", sw.nodes[0].Host())
	args := append([]string{"swarm", "run", "../../scenarios/quickstart.yaml", "--nodes", "3", "--image", sw.harness,
		"--engine-socket", sw.mountAt + "/d.sock", "--socket-dir", sw.mountAt + "/sock", "--out", out,
		"--history", "off", "--poll", "500ms"}, extra...)
	var stdout, stderr bytes.Buffer
	err := Run(ctx, args, &stdout, &stderr)
	t.Logf("coldstart %s: exit %d\n%s", strings.Join(args, " "), Code(err), stderr.String())
	return stdout.String(), stderr.String(), err
}

// clean checks that nothing of coldstart is left on a live node: no
// container (the tasks' nor the starts'), no service, no config, no run's
// socket dir in the base the node prepared.
func (sw *swarmNodes) clean(t *testing.T, live []*privengine.Engine) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range live {
		for {
			left := strings.TrimSpace(docker(t, n, "ps", "-a", "--format", "{{.Names}} {{.Status}}"))
			if left == "" {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("%s: containers left: %s", n.Dir, left)
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		ents, _ := os.ReadDir(filepath.Join(n.Dir, "sock"))
		for _, e := range ents {
			if e.Name() != ".coldstart-base" { // the base's own marker stays with the base
				t.Errorf("%s: socket dir %s left", n.Dir, e.Name())
			}
		}
	}
	if s := strings.TrimSpace(docker(t, sw.nodes[0], "service", "ls", "-q")); s != "" {
		t.Errorf("services left: %s", s)
	}
	if s := strings.TrimSpace(docker(t, sw.nodes[0], "config", "ls", "-q")); s != "" {
		t.Errorf("configs left: %s", s)
	}
}

// measuredOnce checks that the merged run holds each planned measured start
// once, and returns the records by host.
func measuredOnce(t *testing.T, recs []result.Record, runs int) map[string][]result.Record {
	t.Helper()
	seen := map[int]int{}
	byHost := map[string][]result.Record{}
	for _, r := range recs {
		byHost[r.Node] = append(byHost[r.Node], r)
		if r.Kind == result.KindMeasure {
			seen[r.Iteration]++
		}
	}
	for it, c := range seen {
		if c != 1 || it < 0 || it >= runs {
			t.Errorf("measured start #%d: %d records", it, c)
		}
	}
	return byHost
}

func testSwarmSharded(t *testing.T, sw *swarmNodes) {
	out := filepath.Join(t.TempDir(), "merged")
	t0 := time.Now()
	_, stderr, err := sw.swarmRun(context.Background(), t, out)
	took := time.Since(t0)
	if err != nil {
		t.Fatalf("swarm run: exit %d: %v", Code(err), err)
	}
	keep(t, out, "sharded")
	r, err := journal.LoadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	byHost := measuredOnce(t, r.Records, 30)
	if len(r.Records) != 33 || r.Manifest.Planned != 33 {
		t.Errorf("%d records of %d planned; want 30 measured + one warmup per shard", len(r.Records), r.Manifest.Planned)
	}
	if len(byHost) != 3 {
		t.Errorf("records from hosts %v, want node1..node3", keys(byHost))
	}
	fps := map[string]bool{}
	for _, sh := range r.Manifest.Merged.Shards {
		fps[sh.Fingerprint] = true
		checkShardDir(t, sh)
	}
	if len(fps) != 3 {
		t.Errorf("%d host fingerprints, want 3", len(fps))
	}
	s := summary.OfRun(r.Records, r.Manifest, r.Interrupted, r.Warnings)
	logFigures(t, s, took)
	if len(s.Hosts) != 3 || len(s.Pools) < 1 {
		t.Errorf("%d hosts, %d pools", len(s.Hosts), len(s.Pools))
	}
	if !strings.Contains(stderr, "merged run in") {
		t.Error("no merged run announced")
	}
	// The merged run reads as any run.
	rep, _, err := run(t, "report", out)
	if err != nil || !strings.Contains(rep, "hosts and shards") {
		t.Errorf("report of the merged run: %v", err)
	}
	sw.clean(t, sw.nodes)
}

// checkShardDir: each shard measured against the engine of the node its
// task ran on (the engine it reached says its host name), and that node's
// instance type is recorded.
func checkShardDir(t *testing.T, sh result.MergedShard) {
	t.Helper()
	m, err := journal.ReadManifest(sh.Dir)
	if err != nil {
		t.Fatalf("shard %s: %v", sh.Shard, err)
	}
	if m.Shard.Node == "" || m.Shard.Node != m.Engine.Name {
		t.Errorf("shard %s ran on node %q but measured against the engine of %q", sh.Shard, m.Shard.Node, m.Engine.Name)
	}
	want := map[string]string{"node1": "small", "node2": "small", "node3": "large"}[m.Engine.Name]
	if m.InstanceType != want {
		t.Errorf("shard %s on %s: instance type %q, want %q", sh.Shard, m.Engine.Name, m.InstanceType, want)
	}
}

// logFigures logs the merged run's figures (for the README).
func logFigures(t *testing.T, s *summary.Summary, took time.Duration) {
	t.Logf("merged run: %d of %d starts in %v; per host:", s.Completed, s.Planned, took.Round(100*time.Millisecond))
	for _, h := range s.Hosts {
		for _, sc := range h.Scenarios {
			t.Logf("  %s (%s, shard %s): %s n=%d ok=%d p50=%v p95=%v max=%v", h.Label, h.InstanceType, strings.Join(h.Shards, ","),
				sc.Name, sc.N, sc.OK, sc.ReadyMS.P50.V, sc.ReadyMS.P95.V, sc.ReadyMS.Max.V)
		}
	}
	for _, p := range s.Pools {
		t.Logf("  pool %s (%s): agree=%v: %s", p.Name, strings.Join(p.Hosts, ","), p.Agree, p.Reason)
	}
	for _, sc := range s.Scenarios {
		t.Logf("  run table: %s n=%d p50=%v p95=%v", sc.Name, sc.N, sc.ReadyMS.P50.V, sc.ReadyMS.P95.V)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// testSwarmInterrupted: the coordinator cancelled once the nodes measure;
// the service and config are removed, the tasks remove their starts in
// flight, nothing is left on any node.
func testSwarmInterrupted(t *testing.T, sw *swarmNodes) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan bool, 1)
	go func() {
		ok := waitForStarts(sw.nodes, 2*time.Minute)
		started <- ok
		time.Sleep(time.Second)
		cancel()
	}()
	out := filepath.Join(t.TempDir(), "merged")
	_, _, err := sw.swarmRun(ctx, t, out, "--runs", "300")
	if !<-started {
		t.Fatal("no node ever started an app container: nothing was interrupted")
	}
	if err == nil {
		t.Fatal("the interrupted coordinator reported success")
	}
	if r, lerr := journal.LoadRun(out); lerr == nil {
		t.Logf("merged after the interruption: %d of %d planned starts", len(r.Records), r.Manifest.Planned)
	}
	sw.clean(t, sw.nodes)
}

// waitForStarts reports, when it happens, that some node runs an app
// container of the harness; false after max.
func waitForStarts(nodes []*privengine.Engine, max time.Duration) bool {
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			out, _ := exec.Command("docker", "-H", n.Host(), "ps", "-q", "--filter", "label=io.coldstart.scenario").Output()
			if len(bytes.TrimSpace(out)) > 0 {
				return true
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// testSwarmNodeLost: node3 powered off while its shard measures. Its shard
// is incomplete (what it sent is kept, its missing starts listed), the
// others complete, exit 8; nothing left on the live nodes, and node3's
// remains (processes, shim sockets, cgroups) are removed by its clean-up.
func testSwarmNodeLost(t *testing.T, sw *swarmNodes) {
	lost := sw.nodes[2]
	done := make(chan time.Time, 1)
	go func() {
		if !waitForStarts([]*privengine.Engine{lost}, 2*time.Minute) {
			return
		}
		time.Sleep(1500 * time.Millisecond)
		lost.PowerOff()
		done <- time.Now()
	}()
	out := filepath.Join(t.TempDir(), "merged")
	_, stderr, runErr := sw.swarmRun(context.Background(), t, out, "--runs", "60")
	if Code(runErr) != ExitIncomplete {
		t.Fatalf("exit %d (%v), want %d (incomplete)", Code(runErr), runErr, ExitIncomplete)
	}
	select {
	case at := <-done:
		t.Logf("node3 powered off at %s", at.Format(time.StampMilli))
	default:
		t.Fatal("node3 was never powered off")
	}
	keep(t, out, "node-lost")
	r, err := journal.LoadRun(out)
	if err != nil {
		t.Fatal(err)
	}
	measuredOnce(t, r.Records, 60)
	var incomplete []result.MergedShard
	for _, sh := range r.Manifest.Merged.Shards {
		if !sh.Complete() {
			incomplete = append(incomplete, sh)
		}
	}
	if len(incomplete) != 1 || incomplete[0].Host != "node3" || !strings.Contains(incomplete[0].Reason, "node3 went down") ||
		len(incomplete[0].Missing) == 0 || incomplete[0].Completed >= incomplete[0].Planned {
		t.Fatalf("incomplete shards %+v, want node3's alone, with its missing starts", incomplete)
	}
	t.Logf("node3's shard %s: %d of %d starts arrived; missing: %s", incomplete[0].Shard, incomplete[0].Completed, incomplete[0].Planned,
		summary.MissingText(incomplete[0].Missing, 8))
	if !strings.Contains(stderr, "node3 is down") || !strings.Contains(runErr.Error(), "node3") {
		t.Errorf("the error does not name the lost shard: %v", runErr)
	}
	rep, _, _ := run(t, "report", out)
	if !strings.Contains(rep, "INCOMPLETE") {
		t.Error("the report of the merged run does not say the shard is incomplete")
	}
	sw.clean(t, sw.nodes[:2])
}

// keep copies a merged run to $COLDSTART_SWARM_KEEP/name, when set.
func keep(t *testing.T, dir, name string) {
	to := os.Getenv("COLDSTART_SWARM_KEEP")
	if to == "" {
		return
	}
	if err := os.CopyFS(filepath.Join(to, name), os.DirFS(dir)); err != nil {
		t.Errorf("keep %s: %v", name, err)
	}
}
