package scenario

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestParseFull(t *testing.T) {
	s, err := Load("testdata/full.yaml", Options{HostDirLen: 60})
	if err != nil {
		t.Fatal(err)
	}
	dir, _ := filepath.Abs("testdata")
	raw, _ := os.ReadFile("testdata/full.yaml")
	sum := sha256.Sum256(raw)
	want := &Suite{
		Name:   "full",
		File:   "testdata/full.yaml",
		Dir:    dir,
		Source: raw,
		Hash:   hex.EncodeToString(sum[:]),
		Scenarios: []Scenario{{
			Name:  "go-hello",
			Image: "coldstart/full-go-hello:latest",
			Build: &Build{
				Context:    filepath.Join(dir, "apps/go-hello"),
				Dockerfile: "Dockerfile.scratch",
				Args:       map[string]string{"BASE": "scratch", "UID": "1000"},
			},
			Setup:      []string{"CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o apps/go-hello/app ./apps/go-hello"},
			Entrypoint: []string{"/app"},
			Command:    []string{"--flag", "-v=2"},
			Env:        []string{"TZ=UTC", "LEVEL=debug", "GOMAXPROCS=1", "DEBUG=true", "OCT=010"},
			User:       "1000:1000",
			Security:   Security{Profile: ProfileDefault},
			Socket:     DefaultSocket,
			Health:     Health{Method: "HEAD", Path: "/healthz", Status: 204, Body: "ok", Timeout: 250 * time.Millisecond},
			Serving: &Serving{Method: "PUT", Path: "/work?n=3", Body: `{"n": 3}`, Headers: []Header{{"Accept", "application/json"}},
				Status: 201, Contains: "work-done"},
			SLO: SLO{P95: 2 * time.Second, ServingP95: 2500 * time.Millisecond, ServingMissRate: 0.01, HasServingMissRate: true},
			Limits: Limits{CPUs: 0.1, CPUQuota: 5000, CPUPeriod: 50000, Memory: 64 << 20, MemorySwap: -1,
				KernelMemory: 128 << 20, Pids: 64, CPUSet: "0-1,3"},
			Deadline: 2 * time.Second,
			Runs:     30,
			Warmup:   2,
			Cache:    CacheWarm,
			Line:     16,
		}, {
			Name:  "py-flask",
			Image: "registry.local:5000/coldstart/py-flask:3.12",
			Env:   []string{"TZ=UTC", "LEVEL=info", "PYTHONDONTWRITEBYTECODE=1"},
			Security: Security{Profile: ProfileFn, ReadOnlyRoot: true, Tmpfs: map[string]string{"/tmp": FnTmpfs},
				CapDropAll: true, CapAdd: []string{"SETUID", "SETGID"}, NoFile: FnNoFile},
			Socket: "/run/py/app.sock",
			Health: Health{Method: "GET", Path: "/healthz", Status: 200, Timeout: 500 * time.Millisecond},
			Limits: Limits{CPUs: 0.1, CPUQuota: 10000, CPUPeriod: 100000, Memory: 256 << 20, MemorySwap: 512 << 20,
				KernelMemory: 128 << 20, Pids: FnPids},
			Deadline:   3 * time.Second,
			Runs:       10,
			Warmup:     1,
			ImportTime: 3,
			Cache:      CacheWarm,
			Line:       40,
		}, {
			Name:     "node",
			Image:    "node@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
			Env:      []string{"TZ=UTC", "LEVEL=info"},
			Security: Security{Profile: ProfileDefault},
			Socket:   DefaultSocket,
			Health:   Health{Method: "GET", Path: "/healthz", Status: 200, Timeout: 500 * time.Millisecond},
			Limits: Limits{CPUs: 0.25, CPUQuota: 25000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20,
				KernelMemory: 128 << 20, Pids: DefaultPids},
			Deadline: 3 * time.Second,
			Runs:     20,
			Cache:    CacheWarm,
			Line:     47,
		}, {
			Name:     "fn",
			Image:    "coldstart/fn-go:latest",
			Contract: "fn",
			Env:      []string{"TZ=UTC", "LEVEL=info", "FN_FORMAT=http-stream", "FN_LISTENER=unix:/tmp/iofs/lsnr.sock", "FN_MEMORY=128", "FN_TMPSIZE=0"},
			Security: Security{Profile: ProfileDefault},
			Socket:   FnSocket,
			Health:   Health{Method: "GET", Path: "/healthz", Status: 200, Timeout: 500 * time.Millisecond},
			Serving:  &Serving{Method: "POST", Path: "/call", Body: "hello", Status: 200, Contains: "called"},
			Limits: Limits{CPUs: 0.1, CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20,
				KernelMemory: 128 << 20, Pids: DefaultPids},
			Deadline: 3 * time.Second,
			Runs:     20,
			Warmup:   1,
			Cache:    CacheWarm,
			Line:     51,
		}},
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("got\n%+v\nwant\n%+v", s, want)
		for i := range min(len(s.Scenarios), len(want.Scenarios)) {
			if !reflect.DeepEqual(s.Scenarios[i], want.Scenarios[i]) {
				t.Errorf("scenario %d:\n got %+v\nwant %+v", i, s.Scenarios[i], want.Scenarios[i])
			}
		}
	}
}

func TestParseBuiltinDefaults(t *testing.T) {
	s, err := Parse("s.yaml", []byte("suite: s\nscenarios:\n  - name: a\n    image: a\n"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := Scenario{
		Name:     "a",
		Image:    "a",
		Security: Security{Profile: ProfileDefault},
		Socket:   DefaultSocket,
		Health:   Health{Method: DefaultHealthMethod, Path: DefaultHealthPath, Status: DefaultHealthStatus, Timeout: DefaultHealthTimeout},
		Limits: Limits{CPUs: 0.1, CPUQuota: DefaultCPUQuota, CPUPeriod: DefaultCPUPeriod, Memory: DefaultMemory,
			MemorySwap: DefaultMemorySwap, KernelMemory: DefaultKernelMemory, Pids: DefaultPids},
		Deadline: DefaultDeadline,
		Runs:     DefaultRuns,
		Cache:    CacheWarm,
		Line:     3,
	}
	if got := s.Scenarios[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}

// TestMerge checks how a scenario's keys combine with the defaults'.
func TestMerge(t *testing.T) {
	const suite = `suite: m
defaults:
  limits: {cpu_quota: 20000, cpu_period: 50000, memory: 64m, pids: 10}
  health: {path: /ready, status: 204}
  env: {A: "1", B: "2"}
  entrypoint: [/bin/sh, -c]
  runs: 5
scenarios:
  - {name: inherit, image: x}
  - name: override
    image: x
    limits: {cpus: 0.5, memory: 1g, memory_swap: 2g}
    health: {status: 200}
    env: {B: three, C: "4"}
    entrypoint: []
    runs: 7
`
	s, err := Parse("m.yaml", []byte(suite), Options{})
	if err != nil {
		t.Fatal(err)
	}
	in, over := s.Scenarios[0], s.Scenarios[1]
	check := func(name string, got, want any) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %#v, want %#v", name, got, want)
		}
	}
	check("inherit limits", in.Limits, Limits{CPUs: 0.4, CPUQuota: 20000, CPUPeriod: 50000, Memory: 64 << 20,
		MemorySwap: 64 << 20, KernelMemory: DefaultKernelMemory, Pids: 10})
	check("inherit health", in.Health, Health{Method: "GET", Path: "/ready", Status: 204, Timeout: DefaultHealthTimeout})
	check("inherit env", in.Env, []string{"A=1", "B=2"})
	check("inherit entrypoint", in.Entrypoint, []string{"/bin/sh", "-c"})
	check("inherit runs", in.Runs, 5)
	// cpus replaces the defaults' quota and period as a group; other limits merge per key.
	check("override limits", over.Limits, Limits{CPUs: 0.5, CPUQuota: 50000, CPUPeriod: 100000, Memory: 1 << 30,
		MemorySwap: 2 << 30, KernelMemory: DefaultKernelMemory, Pids: 10})
	check("override health", over.Health, Health{Method: "GET", Path: "/ready", Status: 200, Timeout: DefaultHealthTimeout})
	check("override env", over.Env, []string{"A=1", "B=three", "C=4"})
	check("override entrypoint", over.Entrypoint, []string{})
	check("override runs", over.Runs, 7)

	// And the other way round: a scenario's quota replaces the defaults' cpus.
	s, err = Parse("m.yaml", []byte(`suite: m
defaults: {limits: {cpus: 2}}
scenarios: [{name: a, image: x, limits: {cpu_quota: 3000, cpu_period: 10000}}, {name: b, image: x}]
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	check("quota over cpus", s.Scenarios[0].Limits.CPUQuota, int64(3000))
	check("quota over cpus: period", s.Scenarios[0].Limits.CPUPeriod, int64(10000))
	check("quota over cpus: cpus", s.Scenarios[0].Limits.CPUs, 0.3)
	check("defaults cpus", s.Scenarios[1].Limits.CPUQuota, int64(200000))
}

func TestParseValues(t *testing.T) {
	for _, tc := range []struct {
		yaml string // one scenario's extra keys
		get  func(Scenario) any
		want any
	}{
		{"limits: {memory: 6m}", func(s Scenario) any { return s.Limits.Memory }, int64(6 << 20)},
		{"limits: {memory: 1G}", func(s Scenario) any { return s.Limits.Memory }, int64(1 << 30)},
		{"limits: {memory: 10MiB}", func(s Scenario) any { return s.Limits.Memory }, int64(10 << 20)},
		{"limits: {memory: 10485760}", func(s Scenario) any { return s.Limits.Memory }, int64(10 << 20)},
		{"limits: {memory: 10240kb}", func(s Scenario) any { return s.Limits.Memory }, int64(10 << 20)},
		{"limits: {memory: 10485760B}", func(s Scenario) any { return s.Limits.Memory }, int64(10 << 20)},
		{"limits: {memory: 1gib, memory_swap: -1}", func(s Scenario) any { return s.Limits.MemorySwap }, int64(-1)},
		{"limits: {memory: 1g}", func(s Scenario) any { return s.Limits.MemorySwap }, int64(1 << 30)},
		{"limits: {cpus: 1}", func(s Scenario) any { return s.Limits.CPUQuota }, int64(100000)},
		{"limits: {cpus: 0.015}", func(s Scenario) any { return s.Limits.CPUQuota }, int64(1500)},
		{"limits: {cpuset: 1}", func(s Scenario) any { return s.Limits.CPUSet }, "1"},
		{"entrypoint: /app", func(s Scenario) any { return s.Entrypoint }, []string{"/app"}},
		{"command: [a, 1, true]", func(s Scenario) any { return s.Command }, []string{"a", "1", "true"}},
		{"setup: make", func(s Scenario) any { return s.Setup }, []string{"make"}},
		{"env: {X: '', Y: 1.50, Z: 0x1F}", func(s Scenario) any { return s.Env }, []string{"X=", "Y=1.50", "Z=0x1F"}},
		{"health: {method: OPTIONS, timeout: 101ms}", func(s Scenario) any { return s.Health.Timeout }, 101 * time.Millisecond},
		{"socket: /tmp/x/s", func(s Scenario) any { return s.Socket }, "/tmp/x/s"},
		{"deadline: 10m", func(s Scenario) any { return s.Deadline }, 10 * time.Minute},
		{"build: {context: /abs/dir}", func(s Scenario) any { return s.Build.Context }, "/abs/dir"},
		{"build: {context: ../up}", func(s Scenario) any { return s.Build.Context }, "/suites/up"},
		{"user: 1000", func(s Scenario) any { return s.User }, "1000"},
		{"limits: {pids: -1}", func(s Scenario) any { return s.Limits.Pids }, int64(-1)},
		{"security: {profile: fn}", func(s Scenario) any { return s.Limits.Pids }, int64(FnPids)},
		{"security: {profile: fn}\n    limits: {pids: 80}", func(s Scenario) any { return s.Limits.Pids }, int64(80)},
		{"security: {profile: fn}", func(s Scenario) any { return s.Security.ReadOnlyRoot && s.Security.CapDropAll }, true},
		{"security: {cap_add: [net_bind_service]}", func(s Scenario) any { return s.Security }, Security{Profile: ProfileDefault, CapAdd: []string{"NET_BIND_SERVICE"}}},
	} {
		in := "suite: v\nscenarios:\n  - name: a\n    image: a\n    " + tc.yaml + "\n"
		s, err := Parse("/suites/dir/v.yaml", []byte(in), Options{})
		if err != nil {
			t.Errorf("%s: %v", tc.yaml, err)
			continue
		}
		if got := tc.get(s.Scenarios[0]); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %#v, want %#v", tc.yaml, got, tc.want)
		}
	}
}

// TestParseErrors asserts the whole report for each bad suite: position,
// field path and message.
func TestParseErrors(t *testing.T) {
	const head = "suite: s\nscenarios:\n  - name: a\n    image: a\n" // a scenario's keys go on line 5, column 5
	for _, tc := range []struct {
		name, in string
		opt      Options
		want     string
	}{
		{"empty", "", Options{}, "f.yaml:1:1: empty file"},
		{"cache", head + "    cache: cold\n", Options{}, `f.yaml:5:12: scenarios[0].cache: want warm or drop, got "cold"`},
		{"security", head + "    security: {profile: lambda, cap_add: [SETUID, ALL, CAP_FLY], readonly: true}\n", Options{},
			`f.yaml:5:25: scenarios[0].security.profile: want default or fn, got "lambda"` + "\n" +
				`f.yaml:5:51: scenarios[0].security.cap_add[1]: ALL would undo the profile; name the capabilities the app needs` + "\n" +
				`f.yaml:5:56: scenarios[0].security.cap_add[2]: unknown capability "CAP_FLY"` + "\n" +
				`f.yaml:5:66: scenarios[0].security.readonly: unknown key`},
		{"calibration yes", head + "    calibration: yes\n", Options{}, `f.yaml:5:18: scenarios[0].calibration: want true or false, got "yes"`},
		{"calibration in defaults", "suite: s\ndefaults: {calibration: true}\nscenarios:\n  - name: a\n    image: a\n", Options{},
			"f.yaml:2:12: defaults.calibration: not allowed in defaults; set it per scenario"},
		{"blank", " \n\t\n", Options{}, "f.yaml:1:1: empty file"},
		{"only comments", "\xef\xbb\xbf# nothing\n", Options{}, "f.yaml:1:1: empty file"},
		{"null document", "---\n~\n", Options{}, "f.yaml:2:1: empty suite: want a mapping with suite and scenarios"},
		{"list document", "- a\n", Options{}, "f.yaml:1:1: want a mapping with suite and scenarios, got a list"},
		{"tab indent", "suite: s\nscenarios:\n\t- name: a\n", Options{},
			"f.yaml:3:1: syntax error: found character that cannot start any token"},
		{"syntax", "suite: s\n  scenarios: []\n", Options{},
			"f.yaml:2:1: syntax error: mapping values are not allowed in this context"},
		// yaml.v3 gives the line where the flow started, 0-based: line 1 here.
		{"syntax in flow", "suite: s\nscenarios: [a\n", Options{},
			"f.yaml:1:1: syntax error: did not find expected ',' or ']'"},
		{"syntax without a line", "suite: \"\\xZZ\"\n", Options{},
			"f.yaml:1:1: syntax error: did not find expected hexdecimal number"},
		{"unknown anchor", "suite: s\nscenarios:\n  - name: a\n    image: *img\n", Options{},
			`f.yaml:4:12: unknown anchor "img"`},
		{"two documents", head + "---\nsuite: t\n", Options{},
			"f.yaml:5:1: a second YAML document; a suite file holds one"},
		{"missing everything", "defaults: {}\n", Options{}, "f.yaml:1:1: suite: missing; name the suite\n" +
			"f.yaml:1:1: scenarios: missing; list at least one scenario"},
		{"empty scenarios", "suite: s\nscenarios: []\n", Options{}, "f.yaml:2:12: scenarios: empty; list at least one scenario"},
		{"null scenarios", "suite: s\nscenarios:\n", Options{}, "f.yaml:2:1: scenarios: empty; list at least one scenario"},
		{"scenarios mapping", "suite: s\nscenarios: {name: a}\n", Options{},
			"f.yaml:2:12: scenarios: want a list of scenarios, got a mapping"},
		{"scenario string", "suite: s\nscenarios: [a, {image: b}]\n", Options{},
			`f.yaml:2:13: scenarios[0]: want a mapping with name and image, got string "a"` + "\n" +
				"f.yaml:2:16: scenarios[1].name: missing"},
		{"missing name and image", "suite: s\nscenarios:\n  - runs: 1\n", Options{},
			"f.yaml:3:5: scenarios[0].name: missing\nf.yaml:3:5: scenarios[0].image: missing; set image or build"},
		{"bad names", "suite: My-Suite\nscenarios:\n  - name: -a\n    image: a\n", Options{},
			`f.yaml:1:8: suite: bad name "My-Suite": use a-z, 0-9, '.', '_' and '-', starting with a letter or digit` + "\n" +
				`f.yaml:3:11: scenarios[0].name: bad name "-a": use a-z, 0-9, '.', '_' and '-', starting with a letter or digit`},
		{"duplicate name", head + "  - name: b\n    image: b\n  - name: a\n    image: c\n", Options{},
			`f.yaml:7:11: scenarios[2].name: "a" is already used at line 3`},
		{"duplicate key", head + "    runs: 1\n    runs: 2\n", Options{},
			"f.yaml:6:5: scenarios[0].runs: duplicate key; first at line 5"},
		{"unknown keys", "suite: s\nlimits: {}\nsenarios: []\n" + "scenarios:\n  - name: a\n    image: a\n    imgae: b\n    memory: 1g\n    frobnicate: 1\n", Options{},
			"f.yaml:2:1: limits: unknown key; did you mean defaults.limits?\n" +
				`f.yaml:3:1: senarios: unknown key; did you mean "scenarios"?` + "\n" +
				`f.yaml:7:5: scenarios[0].imgae: unknown key; did you mean "image"?` + "\n" +
				"f.yaml:8:5: scenarios[0].memory: unknown key; did you mean limits.memory?\n" +
				"f.yaml:9:5: scenarios[0].frobnicate: unknown key"},
		{"unknown nested keys", head + "    limits: {memroy: 1g, Cpus: 1}\n    health: {stauts: 200}\n    build: {contxt: .}\n", Options{},
			`f.yaml:5:14: scenarios[0].limits.memroy: unknown key; did you mean "memory"?` + "\n" +
				`f.yaml:5:26: scenarios[0].limits.Cpus: unknown key; did you mean "cpus"?` + "\n" +
				`f.yaml:6:14: scenarios[0].health.stauts: unknown key; did you mean "status"?` + "\n" +
				"f.yaml:7:12: scenarios[0].build.context: missing; the directory to build, relative to the suite file\n" +
				`f.yaml:7:13: scenarios[0].build.contxt: unknown key; did you mean "context"?`},
		{"defaults only keys", "suite: s\ndefaults:\n  image: x\n  name: y\nscenarios: [{name: a, image: a}]\n", Options{},
			"f.yaml:3:3: defaults.image: not allowed in defaults; set it per scenario\n" +
				"f.yaml:4:3: defaults.name: not allowed in defaults; set it per scenario"},
		{"wrong types", head + "    runs: \"30\"\n    warmup: 1.5\n    setup: {a: b}\n    env: [A=1]\n    health: /x\n    entrypoint: [[a]]\n", Options{},
			`f.yaml:5:11: scenarios[0].runs: want an integer, got string "30"` + "\n" +
				`f.yaml:6:13: scenarios[0].warmup: want an integer, got number "1.5"` + "\n" +
				"f.yaml:7:12: scenarios[0].setup: want a list of strings, got a mapping\n" +
				"f.yaml:8:10: scenarios[0].env: want a mapping, got a list\n" +
				`f.yaml:9:13: scenarios[0].health: want a mapping, got string "/x"` + "\n" +
				"f.yaml:10:18: scenarios[0].entrypoint[0]: want a string, got a list"},
		{"bad sizes", head + "    limits:\n      memory: 128x\n      kernel_memory: 1.5g\n      memory_swap: 0\n", Options{},
			`f.yaml:6:15: scenarios[0].limits.memory: bad size "128x": unknown unit "x"; use b, k, m or g` + "\n" +
				`f.yaml:7:22: scenarios[0].limits.kernel_memory: bad size "1.5g": want bytes or a number with unit b, k, m or g, like 128m` + "\n" +
				"f.yaml:8:20: scenarios[0].limits.memory_swap: less than memory 128m (the default); memory_swap is memory plus swap"},
		{"small and negative sizes", head + "    limits: {memory: 5m, kernel_memory: -1, memory_swap: -2}\n", Options{},
			"f.yaml:5:22: scenarios[0].limits.memory: below docker's minimum of 6m, got 5m\n" +
				"f.yaml:5:41: scenarios[0].limits.kernel_memory: must be positive, got -1\n" +
				"f.yaml:5:58: scenarios[0].limits.memory_swap: must be positive or -1 (unlimited), got -2"},
		{"huge numbers", head + "    runs: 99999999999999999999\n    warmup: 100001\n    limits: {memory: 9999999999g, pids: 9223372036854775808}\n", Options{},
			`f.yaml:5:11: scenarios[0].runs: too large: "99999999999999999999"` + "\n" +
				"f.yaml:6:13: scenarios[0].warmup: over the maximum of 100000, got 100001\n" +
				`f.yaml:7:22: scenarios[0].limits.memory: too large: "9999999999g"` + "\n" +
				`f.yaml:7:41: scenarios[0].limits.pids: too large: "9223372036854775808"`},
		{"zero and negative counts", head + "    runs: 0\n    warmup: -1\n    import_time: -2\n    limits: {pids: 0}\n", Options{},
			"f.yaml:5:11: scenarios[0].runs: must be at least 1, got 0\n" +
				"f.yaml:6:13: scenarios[0].warmup: must not be negative, got -1\n" +
				"f.yaml:7:18: scenarios[0].import_time: must not be negative, got -2\n" +
				"f.yaml:8:20: scenarios[0].limits.pids: must be at least 1, or -1 for no limit, got 0"},
		{"deadlines", "suite: s\ndefaults: {deadline: 0s}\nscenarios:\n  - {name: a, image: a, deadline: 3}\n  - {name: b, image: a, deadline: 11m}\n  - {name: c, image: a, deadline: -1s}\n", Options{},
			"f.yaml:2:22: defaults.deadline: must be positive, got 0s\n" +
				`f.yaml:4:35: scenarios[0].deadline: bad duration "3": want a number with a unit, like 3s or 500ms` + "\n" +
				"f.yaml:5:35: scenarios[1].deadline: over the maximum of 10m, got 11m\n" +
				"f.yaml:6:35: scenarios[2].deadline: must be positive, got -1s"},
		{"health", head + "    health: {method: 'GE T', path: healthz, status: 99, timeout: 100ms}\n", Options{},
			`f.yaml:5:22: scenarios[0].health.method: not an HTTP method: "GE T"` + "\n" +
				`f.yaml:5:36: scenarios[0].health.path: must start with /, got "healthz"` + "\n" +
				"f.yaml:5:53: scenarios[0].health.status: want an HTTP status 100..599, got 99\n" +
				"f.yaml:5:66: scenarios[0].health.timeout: must be more than 100ms, got 100ms: a throttled container can stall for a whole 100 ms CFS period"},
		{"health path space", head + "    health: {path: '/a b', status: 600}\n", Options{},
			`f.yaml:5:20: scenarios[0].health.path: contains a space or control character; percent-encode it: "/a b"` + "\n" +
				"f.yaml:5:36: scenarios[0].health.status: want an HTTP status 100..599, got 600"},
		{"sockets", "suite: s\nscenarios:\n" +
			"  - {name: a, image: a, socket: run/app.sock}\n" +
			"  - {name: b, image: a, socket: /run/app/}\n" +
			"  - {name: c, image: a, socket: /}\n" +
			"  - {name: d, image: a, socket: /app.sock}\n" +
			"  - {name: e, image: a, socket: /run//app.sock}\n" +
			"  - {name: f, image: a, socket: /" + strings.Repeat("d", 100) + "/app.sock}\n" +
			"  - {name: g, image: a, socket: '/run/app:rw,z/app.sock'}\n" +
			"  - {name: h, image: a, socket: /run/a pp/app.sock}\n", Options{},
			`f.yaml:3:33: scenarios[0].socket: must be an absolute path, got "run/app.sock"` + "\n" +
				`f.yaml:4:33: scenarios[1].socket: must name a file, not a directory, got "/run/app/"` + "\n" +
				`f.yaml:5:33: scenarios[2].socket: must name a file, not a directory, got "/"` + "\n" +
				`f.yaml:6:33: scenarios[3].socket: must be in a directory below /: the harness mounts a fresh directory at the socket's directory, got "/app.sock"` + "\n" +
				`f.yaml:7:33: scenarios[4].socket: must be a clean path: "/run/app.sock", not "/run//app.sock"` + "\n" +
				"f.yaml:8:33: scenarios[5].socket: path is 110 bytes, over the 107-byte limit of a Unix socket path\n" +
				`f.yaml:9:33: scenarios[6].socket: contains ":": a socket path may hold only letters, digits, '.', '_', '-' and '/' (its directory becomes a bind mount, where ':' and ',' would add mount options)` + "\n" +
				`f.yaml:10:33: scenarios[7].socket: contains " ": a socket path may hold only letters, digits, '.', '_', '-' and '/' (its directory becomes a bind mount, where ':' and ',' would add mount options)`},
		{"host socket", head + "    socket: /run/" + strings.Repeat("s", 40) + "\n", Options{HostDirLen: 70},
			`f.yaml:5:13: scenarios[0].socket: the host side of the socket would be 111 bytes (host directory 70 + 1 + "ssssssssssssssssssssssssssssssssssssssss"), over the 107-byte limit of a Unix socket path; use a shorter file name`},
		{"host socket bad and default", "suite: s\nscenarios:\n  - {name: a, image: a, socket: x}\n  - {name: b, image: a}\n", Options{HostDirLen: 99},
			`f.yaml:3:33: scenarios[0].socket: must be an absolute path, got "x"` + "\n" +
				`f.yaml:4:5: scenarios[1].socket: default /run/app/app.sock: the host side of the socket would be 108 bytes (host directory 99 + 1 + "app.sock"), over the 107-byte limit of a Unix socket path; use a shorter file name`},
		{"host socket default", head, Options{HostDirLen: 99},
			`f.yaml:3:5: scenarios[0].socket: default /run/app/app.sock: the host side of the socket would be 108 bytes (host directory 99 + 1 + "app.sock"), over the 107-byte limit of a Unix socket path; use a shorter file name`},
		{"cpu conflicts", "suite: s\nscenarios:\n" +
			"  - {name: a, image: a, limits: {cpus: 0.5, cpu_quota: 5000, cpu_period: 10000}}\n" +
			"  - {name: b, image: a, limits: {cpu_quota: 5000}}\n" +
			"  - {name: c, image: a, limits: {cpu_period: 5000}}\n" +
			"  - {name: d, image: a, limits: {cpus: 0, cpu_quota: 999, cpu_period: 1000001}}\n" +
			"  - {name: e, image: a, limits: {cpus: 0.001}}\n" +
			"  - {name: f, image: a, limits: {cpus: 2000}}\n" +
			"  - {name: g, image: a, limits: {cpus: 1x}}\n", Options{},
			"f.yaml:3:45: scenarios[0].limits.cpu_quota: cannot be combined with cpus (line 3); use one\n" +
				"f.yaml:4:34: scenarios[1].limits.cpu_quota: requires cpu_period\n" +
				"f.yaml:5:34: scenarios[2].limits.cpu_period: requires cpu_quota; cpus always uses a period of 100000\n" +
				"f.yaml:6:40: scenarios[3].limits.cpus: must be positive, got 0\n" +
				"f.yaml:6:43: scenarios[3].limits.cpu_quota: cannot be combined with cpus (line 6); use one\n" +
				"f.yaml:6:54: scenarios[3].limits.cpu_quota: must be at least 1000 (µs), got 999\n" +
				"f.yaml:6:71: scenarios[3].limits.cpu_period: want 1000..1000000 (µs), got 1000001\n" +
				"f.yaml:7:40: scenarios[4].limits.cpus: must be at least 0.01: docker's minimum quota is 1000 µs of a 100000 µs period; got 0.001\n" +
				"f.yaml:8:40: scenarios[5].limits.cpus: over the maximum of 1024, got 2000\n" +
				`f.yaml:9:40: scenarios[6].limits.cpus: want a number, got string "1x"`},
		{"swap below memory", "suite: s\ndefaults:\n  limits: {memory_swap: 128m}\nscenarios:\n" +
			"  - {name: a, image: a, limits: {memory: 256m}}\n" +
			"  - {name: b, image: a, limits: {memory: 256m, memory_swap: 200m}}\n" +
			"  - {name: c, image: a}\n", Options{},
			"f.yaml:5:42: scenarios[0].limits.memory: more than memory_swap 128m (line 3); memory_swap is memory plus swap\n" +
				"f.yaml:6:61: scenarios[1].limits.memory_swap: less than memory 256m (line 6); memory_swap is memory plus swap"},
		{"cpuset", head + "    limits: {cpuset: 3-1}\n", Options{},
			`f.yaml:5:22: scenarios[0].limits.cpuset: bad cpu list "3-1": want CPU numbers and ranges, like 0-1,3`},
		{"images", "suite: s\nscenarios:\n" +
			"  - {name: a, image: Coldstart/App}\n" +
			"  - {name: b, image: 'a b'}\n" +
			"  - {name: c, image: a@sha256:0123456789abcdef0123456789abcdef, build: {context: .}}\n", Options{},
			`f.yaml:3:22: scenarios[0].image: bad image reference "Coldstart/App": want [registry/]repository[:tag][@digest], repository in lowercase` + "\n" +
				`f.yaml:4:22: scenarios[1].image: bad image reference "a b": want [registry/]repository[:tag][@digest], repository in lowercase` + "\n" +
				`f.yaml:5:22: scenarios[2].image: with build, image is the tag to build and cannot have a digest: "a@sha256:0123456789abcdef0123456789abcde..."`},
		{"build", "suite: s..t\nscenarios:\n" +
			"  - {name: a, build: {context: '', dockerfile: /Dockerfile}}\n" +
			"  - {name: b, build: .}\n" +
			"  - {name: c, build: {context: ., args: {A: , '': x}}}\n" +
			"  - {name: d, build: {context: .}}\n", Options{},
			"f.yaml:3:32: scenarios[0].build.context: empty\n" +
				`f.yaml:3:48: scenarios[0].build.dockerfile: must be a relative path inside the context, got "/Dockerfile"` + "\n" +
				`f.yaml:4:22: scenarios[1].build: want a mapping with context, got string "."` + "\n" +
				`f.yaml:5:45: scenarios[2].build.args.A: want a value, got null; write "" for an empty string` + "\n" +
				"f.yaml:5:47: scenarios[2].build.args.: empty name\n" +
				`f.yaml:6:12: scenarios[3].name: the default image tag "coldstart/s..t-d:latest" is not a valid reference; set image`},
		{"env", head + "    env:\n      A:\n      B=C: x\n      D: {x: 1}\n      E: ok\n      E: again\n", Options{},
			`f.yaml:6:9: scenarios[0].env.A: want a value, got null; write "" for an empty string` + "\n" +
				"f.yaml:7:7: scenarios[0].env.B=C: name cannot contain '=' or NUL\n" +
				"f.yaml:8:10: scenarios[0].env.D: want a string, got a mapping\n" +
				"f.yaml:10:7: scenarios[0].env.E: duplicate key; first at line 9"},
		{"setup", head + "    setup: ['make', '  ', 3]\n", Options{},
			"f.yaml:5:21: scenarios[0].setup[1]: empty command"},
		{"non-string key", head + "    [a]: 1\n", Options{},
			"f.yaml:5:5: scenarios[0]: want a string key, got a list"},
		{"merge of a scalar", "x-a: &a 1\nsuite: s\nscenarios:\n  - {<<: *a, name: a, image: a}\n", Options{},
			`f.yaml:1:6: scenarios[0].<<: want a mapping or a list of mappings to merge, got integer "1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Parse("f.yaml", []byte(tc.in), tc.opt)
			if err == nil {
				t.Fatalf("no error; parsed %+v", s)
			}
			if s != nil {
				t.Errorf("a suite came back with the errors")
			}
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, want *Errors", err)
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

// TestBad10 checks that one pass reports every mistake seeded in the file,
// each where it was made.
func TestBad10(t *testing.T) {
	_, err := Load("testdata/bad10.yaml", Options{})
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v, want *Errors", err)
	}
	want := []struct {
		line, col int
		field     string
	}{
		{2, 8, "suite"},
		{4, 31, "defaults.limits.memory"},
		{5, 13, "defaults.deadline"},
		{9, 5, "scenarios[0].limts"},
		{11, 16, "scenarios[0].health.timeout"},
		{12, 15, "scenarios[0].health.status"},
		{13, 11, "scenarios[1].name"},
		{15, 13, "scenarios[1].socket"},
		{16, 11, "scenarios[1].runs"},
		{21, 20, "scenarios[2].limits.memory_swap"},
	}
	if len(*errs) != len(want) {
		t.Errorf("got %d errors, want %d:\n%v", len(*errs), len(want), err)
	}
	for i, w := range want {
		if i >= len(*errs) {
			break
		}
		e := (*errs)[i]
		if e.File != "testdata/bad10.yaml" || e.Line != w.line || e.Col != w.col || e.Field != w.field {
			t.Errorf("error %d: got %s:%d:%d %s, want %d:%d %s", i, e.File, e.Line, e.Col, e.Field, w.line, w.col, w.field)
		}
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lf := []byte("suite: s\nscenarios:\n  - name: a\n    image: a\n    build: {context: app}\n")
	base, err := Load(write("lf.yaml", lf), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if base.Dir != dir || base.Scenarios[0].Build.Context != filepath.Join(dir, "app") {
		t.Errorf("Dir %q, context %q", base.Dir, base.Scenarios[0].Build.Context)
	}
	crlf := bytes.ReplaceAll(lf, []byte("\n"), []byte("\r\n"))
	bom := append([]byte("\xef\xbb\xbf"), crlf...)
	for name, data := range map[string][]byte{"crlf.yaml": crlf, "bom.yaml": bom} {
		s, err := Load(write(name, data), Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sum := sha256.Sum256(data)
		if s.Hash != hex.EncodeToString(sum[:]) {
			t.Errorf("%s: hash %s is not the sha256 of the raw bytes", name, s.Hash)
		}
		if !reflect.DeepEqual(s.Scenarios, base.Scenarios) {
			t.Errorf("%s: got %+v, want %+v", name, s.Scenarios, base.Scenarios)
		}
	}

	// An oversized file is refused before parsing, whatever is in it.
	big := append(bytes.Repeat([]byte("# padding\n"), MaxFileSize/10), lf...)
	_, err = Load(write("big.yaml", big), Options{})
	if err == nil || err.Error() != filepath.Join(dir, "big.yaml")+":1:1: file is over the 1 MiB limit for a suite; not parsed" {
		t.Errorf("big file: %v", err)
	}
	if _, err := Parse("ok.yaml", append(bytes.Repeat([]byte("#\n"), (MaxFileSize-len(lf))/2), lf...), Options{}); err != nil {
		t.Errorf("file just under the limit: %v", err)
	}

	_, err = Load(filepath.Join(dir, "missing.yaml"), Options{})
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}

	rel, err := Parse("suite.yaml", lf, Options{})
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if rel.File != "suite.yaml" || rel.Dir != wd {
		t.Errorf("File %q Dir %q, want suite.yaml and %q", rel.File, rel.Dir, wd)
	}
}

// TestAliasBombs checks that aliases cannot make a small file cost a lot of
// time or memory: each bomb is refused quickly.
func TestAliasBombs(t *testing.T) {
	// Nine levels of nine aliases: 9^9 strings if anything expanded them.
	laughs := "x-0: &l0 [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n"
	for i := 1; i <= 8; i++ {
		laughs += fmt.Sprintf("x-%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d,", i-1), 9), ","))
	}
	big := strings.Repeat("x", 100_000)
	const refused = "the aliases in this file expand to too much data"
	for _, tc := range []struct{ name, in, want string }{
		{"billion laughs at the top", laughs + "suite: s\nscenarios: *l8\n", "want a mapping with name and image, got a list"},
		{"billion laughs in a list", laughs + "suite: s\nscenarios: [{name: a, image: a, command: *l8}]\n", "want a string, got a list"},
		{"big value, many aliases", "x-v: &v " + big + "\nsuite: s\nscenarios:\n  - name: a\n    image: a\n    env:\n" +
			manyLines("      K%d: *v\n", 5000), refused},
		{"many copies of a big scenario", "x-s: &s {image: a, env: {" + strings.TrimSuffix(manyLines("K%d: v, ", 2000), ", ") + "}}\n" +
			"suite: s\nscenarios:\n" + manyLines("  - {<<: *s, name: n%d}\n", 5000), refused},
		{"merge chain", "x-0: &m0 {runs: 1}\n" + chain(1000) + "suite: s\nscenarios:\n" + manyLines("  - {<<: *m999, name: n%d, image: a}\n", 1000), refused},
		{"self reference", "x-a: &a {b: *a, <<: *a}\nsuite: s\nscenarios: [{<<: *a, name: a, image: a}]\n", "scenarios[0].b: unknown key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := Parse("bomb.yaml", []byte(tc.in), Options{})
			// Generous: the budgets make this milliseconds; the bound only catches a blow-up.
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %s", d)
			}
			var errs *Errors
			if !errors.As(err, &errs) {
				t.Fatalf("got %v, want *Errors", err)
			}
			if !strings.Contains(err.Error(), tc.want) || len(err.Error()) > 10_000 {
				t.Errorf("got %d bytes of errors:\n%.2000s\nwant %q", len(err.Error()), err, tc.want)
			}
		})
	}
}

func manyLines(format string, n int) string {
	var b strings.Builder
	for i := range n {
		b.WriteString(strings.ReplaceAll(format, "%d", strconv.Itoa(i)))
	}
	return b.String()
}

func chain(n int) string {
	var b strings.Builder
	for i := 1; i < n; i++ {
		b.WriteString("x-" + strconv.Itoa(i) + ": &m" + strconv.Itoa(i) + " {<<: *m" + strconv.Itoa(i-1) + ", runs: 1}\n")
	}
	return b.String()
}

func TestErrorFormat(t *testing.T) {
	errs := Errors{
		{File: "a.yaml", Line: 3, Col: 7, Field: "scenarios[0].runs", Msg: "must be at least 1, got 0"},
		{File: "a.yaml", Line: 1, Col: 1, Msg: "empty file"},
	}
	var err error = &errs
	want := "a.yaml:3:7: scenarios[0].runs: must be at least 1, got 0\na.yaml:1:1: empty file"
	if err.Error() != want {
		t.Errorf("got\n%s\nwant\n%s", err, want)
	}
	var one *Error
	if !errors.As(err, &one) || one.Line != 3 {
		t.Errorf("errors.As found %v", one)
	}
}

// TestTooManyErrors checks that a file of nothing but mistakes gives a
// bounded report that says it stopped.
func TestTooManyErrors(t *testing.T) {
	in := "suite: s\nscenarios:\n  - name: a\n    image: a\n" + manyLines("    k%d: 1\n", 1500)
	_, err := Parse("f.yaml", []byte(in), Options{})
	var errs *Errors
	if !errors.As(err, &errs) {
		t.Fatalf("got %v", err)
	}
	if len(*errs) != maxErrors+1 {
		t.Fatalf("got %d errors, want %d", len(*errs), maxErrors+1)
	}
	if last := (*errs)[maxErrors]; last.Msg != "too many errors; stopped after 1000" || last.Line != 1004 {
		t.Errorf("last error: %v", last)
	}
}

func TestParseLenient(t *testing.T) {
	// Extension keys hold anchors; empty optional sections are no sections.
	in := `suite: s
x-common: &common {runs: 3}
defaults:
scenarios:
  - <<: *common
    name: a
    image: a
    limits:
    health:
    env:
    setup:
`
	s, err := Parse("f.yaml", []byte(in), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if sc := s.Scenarios[0]; sc.Runs != 3 || sc.Env != nil || sc.Setup != nil || sc.Limits.Memory != DefaultMemory {
		t.Errorf("got %+v", sc)
	}
}
