package scenario

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// The keys of each mapping, in the order the format documents them.
var (
	topKeys      = []string{"suite", "defaults", "scenarios"}
	scenarioKeys = []string{"name", "setup", "build", "image", "entrypoint", "command", "env", "user", "security",
		"socket", "health", "serving", "contract", "limits", "deadline", "runs", "warmup", "import_time", "concurrency", "cache", "slo",
		"calibration", "baseline", "candidate"}
	// All but name, setup, build, image, calibration and the variants: those
	// are one scenario's own (refused in defaults with a reason).
	defaultsKeys = scenarioKeys[4:21]
	// variantKeys are what a baseline or candidate may set over its scenario.
	variantKeys = []string{"image", "build", "entrypoint", "command", "env", "user", "limits"}
	sloKeys     = []string{"p50", "p90", "p95", "p99", "miss_rate",
		"serving_p50", "serving_p90", "serving_p95", "serving_p99", "serving_miss_rate"}
	buildKeys   = []string{"context", "dockerfile", "args"}
	healthKeys  = []string{"method", "path", "status", "body", "timeout"}
	servingKeys = []string{"method", "path", "body", "headers", "status", "contains"}
	limitsKeys  = []string{"cpus", "cpu_quota", "cpu_period", "cpu_shares", "memory", "memory_swap", "kernel_memory", "pids", "cpuset"}
)

// spec is a scenario or the defaults as written: only what the file sets.
type spec struct {
	node                *yaml.Node
	field               string
	mode                specMode
	given               map[string]bool // keys written, valid or not: only absent ones are "missing"
	name, image, user   opt[string]
	socket              opt[string]
	build               opt[*Build]
	setup               opt[[]string]
	entrypoint, command opt[[]string]
	env                 opt[[]envVar]
	health              healthSpec
	serving             servingSpec
	contract            opt[string]
	limits              limitsSpec
	security            securitySpec
	deadline            opt[time.Duration]
	concurrency         opt[int]
	// Sweeps of the deadline and the burst size (lists in the file).
	deadlineSweep, concurrencySweep sweep
	runs, warmup, diag              opt[int]
	cache                           opt[string]
	calibration                     opt[bool]
	slo                             sloSpec
	// variants: the baseline's and the candidate's overrides, for a
	// paired comparison (nil when the scenario is not paired).
	baseline, candidate *spec
}

// specMode says what a spec is: a scenario, the defaults, or a variant's
// overrides of its scenario.
type specMode int

const (
	inScenario specMode = iota
	inDefaults
	inVariant
)

type sloSpec struct {
	p50, p90, p95, p99     opt[time.Duration]
	missRate               opt[float64]
	sp50, sp90, sp95, sp99 opt[time.Duration] // on serving_ms
	servingMissRate        opt[float64]
	servingKey             *yaml.Node // the first serving_* key written
}

type envVar struct{ name, value string }

type healthSpec struct {
	node               *yaml.Node // the health key's value, when written
	method, path, body opt[string]
	status             opt[int]
	timeout            opt[time.Duration]
}

type limitsSpec struct {
	cpuGiven     bool // any of cpus, cpu_quota, cpu_period: they override the defaults' as a group
	cpus         opt[float64]
	quota        opt[int64]
	period       opt[int64]
	memory, swap opt[int64]
	kernel, pids opt[int64]
	shares       opt[int64]
	cpuset       opt[string]
	// Sweeps: the key written as a list (its first value is in the opt).
	cpuSweep, quotaSweep, memSweep, sharesSweep sweep
}

func (p *parser) unknown(e entry, field string, known []string, moved map[string]string) {
	f := join(field, e.key)
	if to, ok := moved[e.key]; ok {
		p.errorf(e.k, f, "unknown key; did you mean %s?", to)
		return
	}
	if h := hint(e.key, known); h != "" {
		p.errorf(e.k, f, "unknown key; did you mean %q?", h)
		return
	}
	if h := hint(e.key, slices.Sorted(maps.Keys(moved))); h != "" {
		p.errorf(e.k, f, "unknown key; did you mean %s?", moved[h])
		return
	}
	p.errorf(e.k, f, "unknown key")
}

// Keys written one level off are a common slip: say where they belong.
var (
	topMoved      = prefixed("defaults.", defaultsKeys)
	scenarioMoved = merged(merged(prefixed("limits.", limitsKeys), prefixed("health.", healthKeys)),
		prefixed("serving.", []string{"headers", "contains"}))
)

func prefixed(prefix string, keys []string) map[string]string {
	m := map[string]string{}
	for _, k := range keys {
		m[k] = prefix + k
	}
	return m
}

func merged(a, b map[string]string) map[string]string {
	for k, v := range b {
		a[k] = v
	}
	return a
}

func (p *parser) suite(root *yaml.Node, s *Suite) {
	var (
		name                    opt[string]
		defaults                spec
		scenarios               []spec
		haveName, haveScenarios bool
	)
	for _, e := range p.entries(root, "") {
		switch e.key {
		case "suite":
			haveName = true
			name = p.name(e.v, "suite")
		case "defaults":
			defaults = p.spec(e.v, "defaults", inDefaults)
		case "scenarios":
			haveScenarios = true
			scenarios = p.scenarios(e.k, e.v)
		default:
			// x- keys are free for anchors, as in compose files.
			if !strings.HasPrefix(e.key, "x-") {
				p.unknown(e, "", topKeys, topMoved)
			}
		}
	}
	if !haveName && !p.stop {
		p.errorf(root, "suite", "missing; name the suite")
	}
	if !haveScenarios && !p.stop {
		p.errorf(root, "scenarios", "missing; list at least one scenario")
	}
	s.Name = name.v
	if p.stop {
		return // the suite is refused; merging would only spend what the budgets saved
	}
	p.defaultsChecks(&defaults)
	first := map[string]*yaml.Node{}
	defaultSocketChecked := false
	for i := range scenarios {
		c := &scenarios[i]
		if c.name.set {
			if at, dup := first[c.name.v]; dup {
				p.errorf(c.name.n, c.name.field, "%s is already used at line %d", quote(c.name.v), at.Line)
			} else {
				first[c.name.v] = c.name.n
			}
		}
		if !c.given["socket"] && !defaults.given["socket"] && !defaultSocketChecked {
			defaultSocketChecked = true
			if msg := p.hostSocket(DefaultSocket); msg != "" {
				p.errorf(c.node, join(c.field, "socket"), "default %s: %s", DefaultSocket, msg)
			}
		}
		s.Scenarios = append(s.Scenarios, p.variants(s, &defaults, c)...)
	}
	switch {
	case p.biggest != nil:
		p.longCheck(s, p.biggest, p.biggestField)
	case len(scenarios) > 0:
		p.longCheck(s, scenarios[0].node, scenarios[0].field)
	}
}

func (p *parser) scenarios(k, v *yaml.Node) []spec {
	switch {
	case isNull(v):
		p.errorf(k, "scenarios", "empty; list at least one scenario")
		return nil
	case v.Kind != yaml.SequenceNode:
		p.errorf(v, "scenarios", "want a list of scenarios, got %s", describe(v))
		return nil
	case len(v.Content) == 0:
		p.errorf(v, "scenarios", "empty; list at least one scenario")
		return nil
	}
	var out []spec
	for i, item := range v.Content {
		n := p.deref(item)
		if n == nil {
			break
		}
		f := index("scenarios", i)
		if n.Kind != yaml.MappingNode {
			p.errorf(n, f, "want a mapping with name and image, got %s", describe(n))
			continue
		}
		out = append(out, p.spec(n, f, inScenario))
	}
	return out
}

// spec reads a scenario, the defaults, or a variant's overrides.
func (p *parser) spec(n *yaml.Node, field string, mode specMode) spec {
	s := spec{node: n, field: field, mode: mode, given: map[string]bool{}}
	if isNull(n) && mode == inDefaults {
		return s
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "want a mapping, got %s", describe(n))
		return s
	}
	known, moved := scenarioKeys, scenarioMoved
	switch mode {
	case inDefaults:
		known = defaultsKeys
	case inVariant:
		known, moved = variantKeys, nil
	}
	for _, e := range p.entries(n, field) {
		f := join(field, e.key)
		s.given[e.key] = true
		if !p.allowedIn(mode, e, f, known, moved) {
			continue
		}
		switch e.key {
		case "name":
			s.name = p.name(e.v, f)
		case "image":
			s.image = p.image(e.v, f)
		case "build":
			s.build = p.build(e.v, f)
		case "setup":
			s.setup = p.list(e.v, f, true)
		case "entrypoint":
			s.entrypoint = p.list(e.v, f, false)
		case "command":
			s.command = p.list(e.v, f, false)
		case "env":
			s.env = p.env(e.v, f)
		case "user":
			s.user = p.nonEmpty(e.v, f)
		case "security":
			s.security = p.security(e.v, f)
		case "socket":
			s.socket = p.socket(e.v, f)
		case "health":
			s.health = p.health(e.v, f)
		case "serving":
			s.serving = p.serving(e.v, f)
		case "contract":
			s.contract = p.contract(e.v, f)
		case "limits":
			s.limits = p.limits(e.v, f)
		case "deadline":
			s.deadline, s.deadlineSweep = p.deadlines(e.v, f)
		case "concurrency":
			s.concurrency, s.concurrencySweep = p.concurrency(e.v, f)
		case "runs":
			s.runs = p.count(e.v, f, 1)
		case "warmup":
			s.warmup = p.count(e.v, f, 0)
		case "import_time":
			s.diag = p.count(e.v, f, 0)
		case "cache":
			s.cache = p.cache(e.v, f)
		case "calibration":
			s.calibration = p.boolean(e.v, f)
		case "slo":
			s.slo = p.slo(e.v, f)
		case "baseline", "candidate":
			v := p.spec(e.v, f, inVariant)
			if e.key == "baseline" {
				s.baseline = &v
			} else {
				s.candidate = &v
			}
		default:
			p.unknown(e, field, known, moved)
		}
	}
	return s
}

// image reads an image reference.
func (p *parser) image(n *yaml.Node, field string) opt[string] {
	o := p.str(n, field)
	if o.set && !validRef(o.v) {
		p.errorf(n, field, "bad image reference %s: want [registry/]repository[:tag][@digest], repository in lowercase", quote(o.v))
		return opt[string]{}
	}
	return o
}

// cache reads a coldness level.
func (p *parser) cache(n *yaml.Node, field string) opt[string] {
	o := p.str(n, field)
	if o.set && o.v != CacheWarm && o.v != CacheDrop {
		p.errorf(n, field, "want %s or %s, got %s", CacheWarm, CacheDrop, quote(o.v))
		return opt[string]{}
	}
	return o
}

// allowedIn reports whether a key may be written where it is, and says why
// not: some keys are one scenario's own, and a variant overrides only what
// makes a baseline differ from its candidate.
func (p *parser) allowedIn(mode specMode, e entry, f string, known []string, moved map[string]string) bool {
	switch {
	case mode == inDefaults && slices.Contains([]string{"name", "image", "build", "setup", "calibration", "baseline", "candidate"}, e.key):
		p.errorf(e.k, f, "not allowed in defaults; set it per scenario")
		return false
	case mode == inVariant && !slices.Contains(variantKeys, e.key):
		if slices.Contains(scenarioKeys, e.key) {
			p.errorf(e.k, f, "a variant sets only %s; %s is the scenario's, the same for both variants", strings.Join(variantKeys, ", "), e.key)
		} else {
			p.unknown(e, strings.TrimSuffix(f, "."+e.key), known, moved)
		}
		return false
	}
	return true
}

// slo reads service-level objectives: percentiles of ready_ms under a
// bound, and a largest share of misses.
func (p *parser) slo(n *yaml.Node, field string) sloSpec {
	var o sloSpec
	entries, _ := p.mapping(n, field)
	for _, e := range entries {
		f := join(field, e.key)
		if strings.HasPrefix(e.key, "serving_") && o.servingKey == nil {
			o.servingKey = e.k
		}
		switch e.key {
		case "p50", "p90", "p95", "p99", "serving_p50", "serving_p90", "serving_p95", "serving_p99":
			d, ok := p.duration(e.v, f)
			switch {
			case !ok:
			case d <= 0 || d > maxDeadline:
				p.errorf(e.v, f, "want a duration above 0 and at most 10m, got %s", e.v.Value)
			default:
				*o.percentile(e.key) = some(d, e.v, f)
			}
		case "miss_rate":
			o.missRate = p.percent(e.v, f)
		case "serving_miss_rate":
			o.servingMissRate = p.percent(e.v, f)
		default:
			p.unknown(e, field, sloKeys, nil)
		}
	}
	return o
}

// percentile is the objective a percentile key sets.
func (o *sloSpec) percentile(key string) *opt[time.Duration] {
	return map[string]*opt[time.Duration]{"p50": &o.p50, "p90": &o.p90, "p95": &o.p95, "p99": &o.p99,
		"serving_p50": &o.sp50, "serving_p90": &o.sp90, "serving_p95": &o.sp95, "serving_p99": &o.sp99}[key]
}

// list reads a list of strings; a single string is a list of one.
func (p *parser) list(n *yaml.Node, field string, commands bool) opt[[]string] {
	if isNull(n) {
		return opt[[]string]{}
	}
	if n.Kind == yaml.ScalarNode {
		o := p.str(n, field)
		if !o.set {
			return opt[[]string]{}
		}
		if commands && strings.TrimSpace(o.v) == "" {
			p.errorf(n, field, "empty command")
			return opt[[]string]{}
		}
		return some([]string{o.v}, n, field)
	}
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, field, "want a list of strings, got %s", describe(n))
		return opt[[]string]{}
	}
	out, ok := []string{}, true
	for i, item := range n.Content {
		v := p.deref(item)
		if v == nil {
			return opt[[]string]{}
		}
		f := index(field, i)
		o := p.str(v, f)
		switch {
		case !o.set:
			ok = false
		case commands && strings.TrimSpace(o.v) == "":
			p.errorf(v, f, "empty command")
			ok = false
		default:
			out = append(out, o.v)
		}
	}
	if !ok {
		return opt[[]string]{}
	}
	return some(out, n, field)
}

// mapping checks that n is a mapping (null is an empty one) and returns its entries.
func (p *parser) mapping(n *yaml.Node, field string) ([]entry, bool) {
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "want a mapping, got %s", describe(n))
		return nil, false
	}
	return p.entries(n, field), true
}

// vars reads NAME: value pairs; values are kept as written, so 010 stays 010.
func (p *parser) vars(n *yaml.Node, field string) ([]envVar, bool) {
	entries, ok := p.mapping(n, field)
	var out []envVar
	for _, e := range entries {
		f := join(field, e.key)
		switch {
		case e.key == "":
			p.errorf(e.k, f, "empty name")
			ok = false
			continue
		case strings.ContainsAny(e.key, "=\x00"):
			p.errorf(e.k, f, "name cannot contain '=' or NUL")
			ok = false
			continue
		}
		if isNull(e.v) {
			p.errorf(e.v, f, `want a value, got null; write "" for an empty string`)
			ok = false
			continue
		}
		v := p.str(e.v, f)
		if !v.set {
			ok = false
			continue
		}
		out = append(out, envVar{e.key, v.v})
	}
	return out, ok
}

func (p *parser) env(n *yaml.Node, field string) opt[[]envVar] {
	vars, ok := p.vars(n, field)
	if !ok || isNull(n) {
		return opt[[]envVar]{}
	}
	return some(vars, n, field)
}

func (p *parser) build(n *yaml.Node, field string) opt[*Build] {
	if n.Kind != yaml.MappingNode {
		p.errorf(n, field, "want a mapping with context, got %s", describe(n))
		return opt[*Build]{}
	}
	b, ok, haveContext := &Build{Dockerfile: "Dockerfile"}, true, false
	for _, e := range p.entries(n, field) {
		f := join(field, e.key)
		switch e.key {
		case "context":
			haveContext = true
			o := p.nonEmpty(e.v, f)
			if !o.set {
				ok = false
				continue
			}
			dir := filepath.FromSlash(o.v)
			if !filepath.IsAbs(dir) {
				dir = filepath.Join(p.dir, dir)
			}
			b.Context = filepath.Clean(dir)
		case "dockerfile":
			o := p.nonEmpty(e.v, f)
			switch {
			case !o.set:
				ok = false
			case !filepath.IsLocal(filepath.FromSlash(o.v)):
				p.errorf(e.v, f, "must be a relative path inside the context, got %s", quote(o.v))
				ok = false
			default:
				b.Dockerfile = o.v
			}
		case "args":
			vars, good := p.vars(e.v, f)
			ok = ok && good
			for _, v := range vars {
				if b.Args == nil {
					b.Args = map[string]string{}
				}
				b.Args[v.name] = v.value
			}
		default:
			p.unknown(e, field, buildKeys, nil)
		}
	}
	if !haveContext {
		p.errorf(n, join(field, "context"), "missing; the directory to build, relative to the suite file")
		ok = false
	}
	if !ok {
		return opt[*Build]{}
	}
	return some(b, n, field)
}

func (p *parser) health(n *yaml.Node, field string) healthSpec {
	h := healthSpec{node: n}
	entries, _ := p.mapping(n, field)
	for _, e := range entries {
		f := join(field, e.key)
		switch e.key {
		case "method":
			h.method = p.method(e.v, f)
		case "path":
			h.path = p.requestPath(e.v, f)
		case "status":
			h.status = p.status(e.v, f)
		case "body":
			h.body = p.str(e.v, f)
		case "timeout":
			d, ok := p.duration(e.v, f)
			switch {
			case !ok:
			case d <= cfsPeriod:
				p.errorf(e.v, f, "must be more than 100ms, got %s: a throttled container can stall for a whole 100 ms CFS period", e.v.Value)
			default:
				h.timeout = some(d, e.v, f)
			}
		default:
			p.unknown(e, field, healthKeys, nil)
		}
	}
	return h
}

// method reads an HTTP method (a token).
func (p *parser) method(n *yaml.Node, field string) opt[string] {
	o := p.str(n, field)
	if o.set && !isToken(o.v) {
		p.errorf(n, field, "not an HTTP method: %s", quote(o.v))
		return opt[string]{}
	}
	return o
}

// requestPath reads a request target: absolute, no space or control character.
func (p *parser) requestPath(n *yaml.Node, field string) opt[string] {
	o := p.str(n, field)
	switch {
	case !o.set:
	case !strings.HasPrefix(o.v, "/"):
		p.errorf(n, field, "must start with /, got %s", quote(o.v))
	case strings.ContainsFunc(o.v, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		p.errorf(n, field, "contains a space or control character; percent-encode it: %s", quote(o.v))
	default:
		return o
	}
	return opt[string]{}
}

// status reads an expected HTTP status code.
func (p *parser) status(n *yaml.Node, field string) opt[int] {
	v, ok := p.integer(n, field)
	switch {
	case !ok:
	case v < 100 || v > 599:
		p.errorf(n, field, "want an HTTP status 100..599, got %d", v)
	default:
		return some(int(v), n, field)
	}
	return opt[int]{}
}

func (p *parser) limits(n *yaml.Node, field string) limitsSpec {
	var l limitsSpec
	entries, _ := p.mapping(n, field)
	var cpusKey, quotaKey, periodKey *yaml.Node
	for _, e := range entries {
		f := join(field, e.key)
		switch e.key {
		case "cpus":
			cpusKey = e.k
			l.cpus, l.cpuSweep = sweepable(p, e.v, f, p.cpusValue, func(v float64) float64 { return v })
		case "cpu_quota":
			quotaKey = e.k
			l.quota, l.quotaSweep = sweepable(p, e.v, f, p.quotaValue, toInt64)
		case "cpu_period":
			periodKey = e.k
			v, ok := p.integer(e.v, f)
			switch {
			case !ok:
			case v < minCPUPeriod || v > maxCPUPeriod:
				p.errorf(e.v, f, "want %d..%d (µs), got %d", minCPUPeriod, maxCPUPeriod, v)
			default:
				l.period = some(v, e.v, f)
			}
		case "memory":
			l.memory, l.memSweep = sweepable(p, e.v, f, p.memoryValue, toInt64)
		case "memory_swap":
			if v, ok := p.size(e.v, f, true); ok {
				l.swap = some(v, e.v, f)
			}
		case "kernel_memory":
			l.kernel = p.minSize(e.v, f, minKernelMem, "4m")
		case "pids":
			v, ok := p.integer(e.v, f)
			switch {
			case !ok:
			case v < 1 && v != -1:
				p.errorf(e.v, f, "must be at least 1, or -1 for no limit, got %d", v)
			default:
				l.pids = some(v, e.v, f)
			}
		case "cpuset":
			l.cpuset = p.cpuset(e.v, f)
		case "cpu_shares":
			l.shares, l.sharesSweep = sweepable(p, e.v, f, p.sharesValue, toInt64)
		default:
			p.unknown(e, field, limitsKeys, nil)
		}
	}
	l.cpuGiven = cpusKey != nil || quotaKey != nil || periodKey != nil
	if p.cpuConflict(field, cpusKey, quotaKey, periodKey) {
		l.cpus, l.quota, l.period = opt[float64]{}, opt[int64]{}, opt[int64]{}
		l.cpuSweep, l.quotaSweep = sweep{}, sweep{}
	}
	return l
}

// cpuConflict reports the CPU keys that cannot go together: cpus with a
// quota, or a quota without its period (and the reverse).
func (p *parser) cpuConflict(field string, cpusKey, quotaKey, periodKey *yaml.Node) bool {
	switch {
	case cpusKey != nil && quotaKey != nil:
		p.errorf(quotaKey, join(field, "cpu_quota"), "cannot be combined with cpus (line %d); use one", cpusKey.Line)
	case quotaKey != nil && periodKey == nil:
		p.errorf(quotaKey, join(field, "cpu_quota"), "requires cpu_period")
	case periodKey != nil && quotaKey == nil:
		p.errorf(periodKey, join(field, "cpu_period"), "requires cpu_quota; cpus always uses a period of 100000")
	default:
		return false
	}
	return true
}

// defaultsChecks checks what the defaults alone get wrong, once rather than per scenario.
func (p *parser) defaultsChecks(d *spec) {
	if d.limits.memSweep.on() {
		return // each cell sets its own memory_swap
	}
	p.swapCheck(d.limits.memory, d.limits.swap)
}

// swapCheck reports memory_swap below memory, at whichever of the two was
// written closer to the scenario.
func (p *parser) swapCheck(mem, swap opt[int64]) {
	if !swap.set || swap.v == -1 || swap.v >= mem.get(DefaultMemory) {
		return
	}
	memText := "128m (the default)"
	if mem.set {
		memText = fmt.Sprintf("%s (line %d)", mem.n.Value, mem.n.Line)
	}
	if mem.set && strings.HasPrefix(mem.field, "scenarios") && !strings.HasPrefix(swap.field, "scenarios") {
		p.errorf(mem.n, mem.field, "more than memory_swap %s (line %d); memory_swap is memory plus swap", swap.n.Value, swap.n.Line)
		return
	}
	p.errorf(swap.n, swap.field, "less than memory %s; memory_swap is memory plus swap", memText)
}

// merge fills one scenario from what it sets, then the defaults, then the built-in defaults.
func (p *parser) merge(s *Suite, d, c *spec) Scenario {
	field := c.field
	sc := Scenario{
		Name:        c.name.v,
		Setup:       c.setup.v,
		Entrypoint:  or(c.entrypoint, d.entrypoint).v,
		Command:     or(c.command, d.command).v,
		Env:         mergeEnv(d.env.v, c.env.v),
		User:        or(c.user, d.user).v,
		Socket:      or(c.socket, d.socket).get(DefaultSocket),
		Deadline:    or(c.deadline, d.deadline).get(DefaultDeadline),
		Concurrency: or(c.concurrency, d.concurrency).v,
		Runs:        or(c.runs, d.runs).get(DefaultRuns),
		Warmup:      or(c.warmup, d.warmup).v,
		ImportTime:  or(c.diag, d.diag).v,
		Cache:       or(c.cache, d.cache).get(CacheWarm),
		Calibration: c.calibration.v,
		Line:        c.node.Line,
		Health: Health{
			Method:  or(c.health.method, d.health.method).get(DefaultHealthMethod),
			Path:    or(c.health.path, d.health.path).get(DefaultHealthPath),
			Status:  or(c.health.status, d.health.status).get(DefaultHealthStatus),
			Body:    or(c.health.body, d.health.body).v,
			Timeout: or(c.health.timeout, d.health.timeout).get(DefaultHealthTimeout),
		},
	}
	if c.node.Kind != yaml.MappingNode {
		return sc
	}
	if !c.given["name"] && !p.stop {
		p.errorf(c.node, join(field, "name"), "missing")
	}

	sc.Security = mergeSecurity(&d.security, &c.security)
	sc.Limits = p.mergeLimits(&d.limits, &c.limits, sc.Security.Profile)
	p.applyContract(&sc, d, c)
	sc.Serving = p.mergeServing(d, c, sc.Contract)

	if c.build.set {
		sc.Build = c.build.v
	}
	switch {
	case c.image.set:
		sc.Image = c.image.v
		if c.build.set && strings.Contains(sc.Image, "@") {
			p.errorf(c.image.n, c.image.field, "with build, image is the tag to build and cannot have a digest: %s", quote(sc.Image))
		}
	case c.build.set:
		if s.Name != "" && sc.Name != "" {
			sc.Image = "coldstart/" + s.Name + "-" + sc.Name + ":latest"
			if !validRef(sc.Image) {
				p.errorf(c.name.n, c.name.field, "the default image tag %s is not a valid reference; set image", quote(sc.Image))
			}
		}
	case !c.given["image"] && !c.given["build"] && !p.stop:
		p.errorf(c.node, join(field, "image"), "missing; set image or build")
	}
	return sc
}

// variants merges a scenario, or for a paired one its baseline and its
// candidate: each its scenario with the variant's overrides on top.
func (p *parser) variants(s *Suite, d, c *spec) []Scenario {
	ds := dims(d, c)
	if c.baseline == nil && c.candidate == nil {
		sc := p.merge(s, d, c)
		sc.SLO = mergeSLO(d.slo, c.slo)
		p.servingSLOCheck(&sc, d, c)
		p.memorySwapCheck(d, c)
		cells := expand(sc, ds)
		if len(ds) > 0 && len(cells) > p.biggestCells {
			p.biggestCells, p.biggest, p.biggestField = len(cells), ds[0].sw.n, c.field
		}
		return cells
	}
	if len(ds) > 0 {
		p.errorf(ds[0].sw.n, c.field, "a paired scenario cannot sweep %s: its pairs compare two images under one set of limits; sweep in a scenario of its own", ds[0].key)
	}
	if c.calibration.v {
		p.errorf(c.node, join(c.field, "candidate"), "a calibration scenario is not paired: it measures the platform for both variants")
	}
	var out []Scenario
	for _, v := range []struct {
		name string
		o    *spec
	}{{VariantBaseline, c.baseline}, {VariantCandidate, c.candidate}} {
		o := spec{given: map[string]bool{}}
		if v.o != nil {
			o = *v.o
		}
		merged := overlay(c, &o)
		sc := p.merge(s, d, &merged)
		sc.Variant, sc.SLO = v.name, mergeSLO(d.slo, c.slo)
		p.servingSLOCheck(&sc, d, c)
		if o.build.set && !o.image.set && s.Name != "" && sc.Name != "" {
			sc.Image = "coldstart/" + s.Name + "-" + sc.Name + "-" + v.name + ":latest"
		}
		out = append(out, sc)
	}
	return out
}

// overlay is a scenario's spec with a variant's overrides on top: the
// variant's image or build replaces the scenario's, its env variables and
// limits replace those of the same name (the CPU keys as a group).
func overlay(c, v *spec) spec {
	o := *c
	o.given = maps.Clone(c.given)
	for k := range v.given {
		o.given[k] = true
	}
	if v.image.set || v.build.set {
		o.image, o.build = v.image, v.build
	}
	o.entrypoint, o.command, o.user = or(v.entrypoint, c.entrypoint), or(v.command, c.command), or(v.user, c.user)
	if v.env.set {
		o.env = some(append(slices.Clone(c.env.v), v.env.v...), v.env.n, v.env.field)
	}
	l, vl := c.limits, v.limits
	if vl.cpuGiven {
		l.cpuGiven, l.cpus, l.quota, l.period = true, vl.cpus, vl.quota, vl.period
	}
	l.memory, l.swap, l.kernel = or(vl.memory, l.memory), or(vl.swap, l.swap), or(vl.kernel, l.kernel)
	l.pids, l.cpuset, l.shares = or(vl.pids, l.pids), or(vl.cpuset, l.cpuset), or(vl.shares, l.shares)
	o.limits = l
	return o
}

func mergeSLO(d, c sloSpec) SLO {
	mr, smr := or(c.missRate, d.missRate), or(c.servingMissRate, d.servingMissRate)
	return SLO{
		P50: or(c.p50, d.p50).v, P90: or(c.p90, d.p90).v, P95: or(c.p95, d.p95).v, P99: or(c.p99, d.p99).v,
		MissRate: mr.v, HasMissRate: mr.set,
		ServingP50: or(c.sp50, d.sp50).v, ServingP90: or(c.sp90, d.sp90).v,
		ServingP95: or(c.sp95, d.sp95).v, ServingP99: or(c.sp99, d.sp99).v,
		ServingMissRate: smr.v, HasServingMissRate: smr.set,
	}
}

// mergeLimits fills a scenario's limits from its own, the defaults', and the
// built-in defaults (the pids limit from the profile); the CPU keys override
// the defaults' as a group.
func (p *parser) mergeLimits(d, c *limitsSpec, profile string) Limits {
	cpu := *c
	if !cpu.cpuGiven {
		cpu = *d
	}
	l := Limits{
		CPUQuota:  DefaultCPUQuota,
		CPUPeriod: DefaultCPUPeriod,
		CPUs:      float64(DefaultCPUQuota) / DefaultCPUPeriod,
		Memory:    or(c.memory, d.memory).get(DefaultMemory),
		// Without memory_swap the container gets no swap, as with the built-in defaults.
		MemorySwap:   or(c.swap, d.swap).get(0),
		KernelMemory: or(c.kernel, d.kernel).get(DefaultKernelMemory),
		Pids:         or(c.pids, d.pids).get(profilePids(profile)),
		CPUShares:    or(c.shares, d.shares).v,
		CPUSet:       or(c.cpuset, d.cpuset).v,
	}
	switch {
	case cpu.cpus.set:
		l.CPUs, l.CPUQuota, l.CPUPeriod = cpu.cpus.v, int64(math.Round(cpu.cpus.v*DefaultCPUPeriod)), DefaultCPUPeriod
	case cpu.quota.set && cpu.period.set:
		l.CPUQuota, l.CPUPeriod = cpu.quota.v, cpu.period.v
		l.CPUs = float64(l.CPUQuota) / float64(l.CPUPeriod)
	}
	if l.MemorySwap == 0 {
		l.MemorySwap = l.Memory
	}
	if c.memSweep.on() || (!c.memory.set && d.memSweep.on()) {
		return l // each cell sets its own memory_swap (memorySwapCheck)
	}
	p.swapCheck(or(c.memory, d.memory), or(c.swap, d.swap))
	return l
}

// mergeEnv keeps the defaults' variables first, each overridden in place by the scenario's.
func mergeEnv(d, c []envVar) []string {
	vars := mergeVars(d, c)
	if vars == nil {
		return nil
	}
	out := make([]string, len(vars))
	for i, v := range vars {
		out[i] = v.name + "=" + v.value
	}
	return out
}

// mergeVars keeps d's pairs first, each overridden in place by c's of the same name.
func mergeVars(d, c []envVar) []envVar {
	if len(d) == 0 && len(c) == 0 {
		return nil
	}
	at := map[string]int{}
	var vars []envVar
	for _, list := range [][]envVar{d, c} {
		for _, v := range list {
			if i, ok := at[v.name]; ok {
				vars[i] = v
				continue
			}
			at[v.name] = len(vars)
			vars = append(vars, v)
		}
	}
	return vars
}
