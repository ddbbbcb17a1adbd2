package scenario

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestServing checks how a work request is merged: per key over the
// defaults', headers per name, GET unless a body is sent.
func TestServing(t *testing.T) {
	const suite = `suite: w
defaults:
  serving: {path: /work, contains: work-done, headers: {Accept: application/json, X-A: "1"}}
scenarios:
  - {name: inherit, image: x}
  - name: override
    image: x
    serving: {body: '{"n": 3}', headers: {X-A: "2", X-B: b}, status: 201}
    slo: {serving_p95: 2s, serving_miss_rate: 0%}
  - name: none
    image: x
`
	s, err := Parse("w.yaml", []byte(suite), Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := []*Serving{
		{Method: "GET", Path: "/work", Status: 200, Contains: "work-done",
			Headers: []Header{{"Accept", "application/json"}, {"X-A", "1"}}},
		{Method: "POST", Path: "/work", Body: `{"n": 3}`, Status: 201, Contains: "work-done",
			Headers: []Header{{"Accept", "application/json"}, {"X-A", "2"}, {"X-B", "b"}}},
		{Method: "GET", Path: "/work", Status: 200, Contains: "work-done",
			Headers: []Header{{"Accept", "application/json"}, {"X-A", "1"}}},
	}
	for i, w := range want {
		if got := s.Scenarios[i].Serving; !reflect.DeepEqual(got, w) {
			t.Errorf("%s: got %+v\nwant %+v", s.Scenarios[i].Name, got, w)
		}
	}
	if o := s.Scenarios[1].SLO; o.ServingP95 != 2*time.Second || !o.HasServingMissRate || o.ServingMissRate != 0 || !o.AnyServing() || o.P95 != 0 {
		t.Errorf("serving SLO: %+v", o)
	}
	if got := s.Scenarios[1].Serving.String(); got != `POST /work -> 201 containing "work-done"` {
		t.Errorf("String: %s", got)
	}

	plain, err := Parse("p.yaml", []byte("suite: p\nscenarios: [{name: a, image: a}]\n"), Options{})
	if err != nil || plain.Scenarios[0].Serving != nil || plain.Scenarios[0].Contract != "" {
		t.Errorf("no serving key gave %+v (%v)", plain.Scenarios[0].Serving, err)
	}
}

// TestContractFn checks what contract: fn fixes: the listener, the FN_*
// environment (FN_MEMORY from the memory limit), the 5 s deadline unless
// set, and Fn's call.
func TestContractFn(t *testing.T) {
	const suite = `suite: f
defaults:
  contract: fn
  env: {TZ: UTC}
scenarios:
  - {name: a, image: x}
  - name: b
    image: x
    deadline: 2s
    limits: {memory: 256m}
    serving: {body: hello, headers: {Content-Type: text/plain}, contains: called}
    baseline: {image: x}
    candidate: {image: y, limits: {memory: 64m}}
`
	s, err := Parse("f.yaml", []byte(suite), Options{HostDirLen: 60})
	if err != nil {
		t.Fatal(err)
	}
	a := s.Scenarios[0]
	if a.Contract != "fn" || a.Socket != FnSocket || a.Deadline != FnDeadline {
		t.Errorf("a: contract %q socket %q deadline %v", a.Contract, a.Socket, a.Deadline)
	}
	wantEnv := []string{"TZ=UTC", "FN_FORMAT=http-stream", "FN_LISTENER=unix:/tmp/iofs/lsnr.sock", "FN_MEMORY=128", "FN_TMPSIZE=0"}
	if !reflect.DeepEqual(a.Env, wantEnv) {
		t.Errorf("a env %q, want %q", a.Env, wantEnv)
	}
	if want := (&Serving{Method: "POST", Path: "/call", Status: 200}); !reflect.DeepEqual(a.Serving, want) {
		t.Errorf("a serving %+v, want %+v", a.Serving, want)
	}
	base, cand := s.Scenarios[1], s.Scenarios[2]
	if base.Deadline != 2*time.Second || base.Serving.Body != "hello" || base.Serving.Contains != "called" || base.Serving.Path != "/call" {
		t.Errorf("b: deadline %v serving %+v", base.Deadline, base.Serving)
	}
	if !strings.Contains(strings.Join(base.Env, " "), "FN_MEMORY=256") || !strings.Contains(strings.Join(cand.Env, " "), "FN_MEMORY=64") {
		t.Errorf("FN_MEMORY not from each variant's limit: %q / %q", base.Env, cand.Env)
	}
}

func TestServingErrors(t *testing.T) {
	const head = "suite: s\nscenarios:\n  - name: a\n    image: a\n" // a scenario's keys go on line 5, column 5
	for _, tc := range []struct{ name, in, want string }{
		{"no path", head + "    serving: {contains: x}\n",
			"f.yaml:5:14: scenarios[0].serving.path: missing; the work request's path, e.g. /work"},
		{"bad keys", head + "    serving: {path: work, method: 'GE T', status: 99, body: 1, bodyy: x}\n",
			`f.yaml:5:21: scenarios[0].serving.path: must start with /, got "work"` + "\n" +
				`f.yaml:5:35: scenarios[0].serving.method: not an HTTP method: "GE T"` + "\n" +
				"f.yaml:5:51: scenarios[0].serving.status: want an HTTP status 100..599, got 99\n" +
				`f.yaml:5:64: scenarios[0].serving.bodyy: unknown key; did you mean "body"?`},
		{"harness headers", head + "    serving: {path: /w, headers: {Host: h, 'a b': c, X: \"1\\r\\n2\"}}\n",
			"f.yaml:5:35: scenarios[0].serving.headers.Host: set by the harness; leave it out\n" +
				`f.yaml:5:44: scenarios[0].serving.headers.a b: not an HTTP header name: "a b"` + "\n" +
				"f.yaml:5:57: scenarios[0].serving.headers.X: a header value cannot contain a line break"},
		{"misplaced", head + "    contains: x\n",
			"f.yaml:5:5: scenarios[0].contains: unknown key; did you mean serving.contains?"},
		{"serving slo without serving", head + "    slo: {p95: 1s, serving_p95: 2s}\n",
			`f.yaml:5:20: scenarios[0].slo: an objective on serving, but "a" has no serving request`},
		{"unknown contract", head + "    contract: lambda\n",
			`f.yaml:5:15: scenarios[0].contract: want "fn" (Fn's http-stream contract), got "lambda"`},
		{"fn refuses", head + "    contract: fn\n    socket: /run/app/app.sock\n    health: {path: /}\n" +
			"    env: {FN_MEMORY: \"64\"}\n    serving: {path: /x, method: GET, status: 202, headers: {Fn-Call-Id: x}}\n",
			"f.yaml:6:13: scenarios[0].socket: contract: fn listens on /tmp/iofs/lsnr.sock (FN_LISTENER); leave socket out\n" +
				"f.yaml:7:13: scenarios[0].health: contract: fn has no health request: readiness is the lsnr.sock link, checked as Fn's agent checks it; leave health out\n" +
				"f.yaml:8:10: scenarios[0].env.FN_MEMORY: set by contract: fn; leave it out\n" +
				"f.yaml:9:21: scenarios[0].serving.path: fixed by contract: fn (Fn's agent calls POST /call and counts only 200 as served); leave it out\n" +
				"f.yaml:9:33: scenarios[0].serving.method: fixed by contract: fn (Fn's agent calls POST /call and counts only 200 as served); leave it out\n" +
				"f.yaml:9:46: scenarios[0].serving.status: fixed by contract: fn (Fn's agent calls POST /call and counts only 200 as served); leave it out\n" +
				"f.yaml:9:60: scenarios[0].serving.headers.Fn-Call-Id: set by contract: fn on every call; leave it out"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(tc.in), Options{})
			if err == nil {
				t.Fatal("no error")
			}
			if got := err.Error(); got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
	// The host side of the FDKs' socket must fit in sun_path too.
	_, err := Parse("f.yaml", []byte(head+"    contract: fn\n"), Options{HostDirLen: 94})
	if err == nil || !strings.Contains(err.Error(), "the FDKs' socket phonylsnr.sock: the host side of the socket would be 109 bytes") {
		t.Errorf("long socket dir under contract fn: %v", err)
	}
}
