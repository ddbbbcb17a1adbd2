package scenario

import (
	"path"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/coldstart/coldstart/harness/result"
)

// servingSpec is a serving request as written: only what the file sets.
type servingSpec struct {
	node                         *yaml.Node // the serving key's value, when written
	pathGiven                    bool       // path was written, valid or not
	method, path, body, contains opt[string]
	headers                      opt[[]envVar]
	status                       opt[int]
}

// harnessHeaders are the request headers the harness writes itself.
var harnessHeaders = []string{"host", "content-length", "connection", "transfer-encoding"}

// fnEnv and fnHeaders are what contract: fn sets on every start and call.
var (
	fnEnv     = []string{"FN_FORMAT", "FN_LISTENER", "FN_MEMORY", "FN_TMPSIZE"}
	fnHeaders = []string{"fn-call-id", "fn-deadline"}
)

// serving reads the work request.
func (p *parser) serving(n *yaml.Node, field string) servingSpec {
	sv := servingSpec{node: n}
	entries, _ := p.mapping(n, field)
	for _, e := range entries {
		f := join(field, e.key)
		switch e.key {
		case "method":
			sv.method = p.method(e.v, f)
		case "path":
			sv.path, sv.pathGiven = p.requestPath(e.v, f), true
		case "body":
			sv.body = p.str(e.v, f)
		case "headers":
			sv.headers = p.headers(e.v, f)
		case "status":
			sv.status = p.status(e.v, f)
		case "contains":
			sv.contains = p.str(e.v, f)
		default:
			p.unknown(e, field, servingKeys, nil)
		}
	}
	return sv
}

// headers reads Name: value pairs in file order; the harness's own headers
// (Host, Content-Length, Connection, Transfer-Encoding) are refused.
func (p *parser) headers(n *yaml.Node, field string) opt[[]envVar] {
	entries, ok := p.mapping(n, field)
	var out []envVar
	for _, e := range entries {
		f := join(field, e.key)
		switch {
		case !isToken(e.key):
			p.errorf(e.k, f, "not an HTTP header name: %s", quote(e.key))
			ok = false
			continue
		case slices.Contains(harnessHeaders, strings.ToLower(e.key)):
			p.errorf(e.k, f, "set by the harness; leave it out")
			ok = false
			continue
		}
		v := p.str(e.v, f)
		if !v.set || strings.ContainsAny(v.v, "\r\n") {
			if v.set {
				p.errorf(e.v, f, "a header value cannot contain a line break")
			}
			ok = false
			continue
		}
		out = append(out, envVar{e.key, v.v})
	}
	if !ok || isNull(n) {
		return opt[[]envVar]{}
	}
	return some(out, n, field)
}

// contract reads the platform contract a scenario runs under.
func (p *parser) contract(n *yaml.Node, field string) opt[string] {
	o := p.str(n, field)
	if o.set && o.v != result.ContractFn {
		p.errorf(n, field, "want %q (Fn's http-stream contract), got %s", result.ContractFn, quote(o.v))
		return opt[string]{}
	}
	return o
}

// mergeServing is a scenario's work request: its own keys over the
// defaults', headers merged per name; nil when neither sets one and no
// contract implies one. Under contract: fn the call is Fn's POST /call,
// answered 200.
func (p *parser) mergeServing(d, c *spec, contract string) *Serving {
	ds, cs := &d.serving, &c.serving
	if ds.node == nil && cs.node == nil && contract == "" {
		return nil
	}
	method, rpath, status := or(cs.method, ds.method), or(cs.path, ds.path), or(cs.status, ds.status)
	body := or(cs.body, ds.body)
	sv := &Serving{Method: method.v, Path: rpath.v, Body: body.v, Status: status.get(DefaultServingStatus),
		Contains: or(cs.contains, ds.contains).v}
	for _, h := range mergeVars(ds.headers.v, cs.headers.v) {
		sv.Headers = append(sv.Headers, Header{h.name, h.value})
	}
	if contract == result.ContractFn {
		p.fnServing(sv, method, rpath, status, ds.headers, cs.headers)
		return sv
	}
	if !cs.pathGiven && !ds.pathGiven {
		at, field := cs.node, join(c.field, "serving")
		if at == nil {
			at, field = ds.node, "defaults.serving"
		}
		p.errorf(at, join(field, "path"), "missing; the work request's path, e.g. /work")
	}
	if !method.set {
		sv.Method = DefaultHealthMethod
		if body.set {
			sv.Method = "POST"
		}
	}
	return sv
}

// fnServing fixes the call as Fn's agent makes it (createUDSRequest) and
// refuses keys that would change it.
func (p *parser) fnServing(sv *Serving, method, rpath opt[string], status opt[int], hs ...opt[[]envVar]) {
	const why = "fixed by contract: fn (Fn's agent calls POST /call and counts only 200 as served); leave it out"
	for _, o := range []opt[string]{method, rpath} {
		if o.set {
			p.errorf(o.n, o.field, why)
		}
	}
	if status.set {
		p.errorf(status.n, status.field, why)
	}
	for _, h := range hs {
		for _, v := range h.v {
			if slices.Contains(fnHeaders, strings.ToLower(v.name)) {
				p.errorf(h.n, join(h.field, v.name), "set by contract: fn on every call; leave it out")
			}
		}
	}
	sv.Method, sv.Path, sv.Status = FnMethod, FnPath, DefaultServingStatus
}

// applyContract sets what a platform contract fixes. For Fn: the listener
// at /tmp/iofs/lsnr.sock (the fresh host directory is mounted at
// /tmp/iofs), the FN_* environment, and the contract's 5 s deadline unless
// the suite sets one; readiness is the listener link, so no health request.
func (p *parser) applyContract(sc *Scenario, d, c *spec) {
	contract := or(c.contract, d.contract)
	if !contract.set {
		return
	}
	sc.Contract = contract.v
	if sock := or(c.socket, d.socket); sock.set && sock.v != FnSocket {
		p.errorf(sock.n, sock.field, "contract: fn listens on %s (FN_LISTENER); leave socket out", FnSocket)
	}
	sc.Socket = FnSocket
	if c.health.node != nil {
		p.errorf(c.health.node, join(c.field, "health"), "contract: fn has no health request: readiness is the lsnr.sock link, checked as Fn's agent checks it; leave health out")
	}
	if !or(c.deadline, d.deadline).set {
		sc.Deadline = FnDeadline
	}
	for _, env := range []opt[[]envVar]{d.env, c.env} {
		for _, v := range env.v {
			if slices.Contains(fnEnv, v.name) {
				p.errorf(env.n, join(env.field, v.name), "set by contract: fn; leave it out")
			}
		}
	}
	sc.Env = append(sc.Env, "FN_FORMAT=http-stream", "FN_LISTENER=unix:"+FnSocket,
		"FN_MEMORY="+strconv.FormatInt(sc.Limits.Memory>>20, 10), "FN_TMPSIZE=0")
	if msg := p.hostSocket(path.Dir(FnSocket) + "/" + fnSocketTarget); msg != "" {
		p.errorf(contract.n, contract.field, "the FDKs' socket %s: %s", fnSocketTarget, msg)
	}
}

// servingSLOCheck refuses objectives on serving for a scenario that sends
// no work request.
func (p *parser) servingSLOCheck(sc *Scenario, d, c *spec) {
	if sc.Serving != nil || !sc.SLO.AnyServing() {
		return
	}
	at, field := c.slo.servingKey, join(c.field, "slo")
	if at == nil {
		at, field = d.slo.servingKey, "defaults.slo"
	}
	p.errorf(at, field, "an objective on serving, but %s has no serving request", quote(sc.Name))
}
