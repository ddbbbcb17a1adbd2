package scenario

import (
	"fmt"
	"math"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
)

// Bounds of the suite format.
const (
	maxNameLen   = 128 // names become directory names and image tags
	maxCount     = 100_000
	maxDeadline  = 10 * time.Minute
	maxCPUs      = 1024
	minMemory    = 6 << 20 // docker's minimum for --memory
	minKernelMem = 4 << 20 // docker's minimum for --kernel-memory
	minCPUQuota  = 1000    // µs; the kernel's minimum cfs quota
	minCPUPeriod = 1000
	maxCPUPeriod = 1_000_000
	minCPUShares = 2 // the kernel's minimum cpu.shares
	maxCPUShares = 262144
	// cfsPeriod is the kernel's CFS enforcement period: a throttled container
	// can stall this long, so a shorter per-attempt timeout only measures throttling.
	cfsPeriod = 100 * time.Millisecond
)

// lazyRE compiles a pattern on first use: the harness's own start (and
// `coldstart version`) should not pay for regexps it never runs.
func lazyRE(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}

// opt is a value set in the file, with where it was written.
type opt[T any] struct {
	set   bool
	v     T
	n     *yaml.Node // the value node
	field string
}

func some[T any](v T, n *yaml.Node, field string) opt[T] {
	return opt[T]{set: true, v: v, n: n, field: field}
}

// or returns the first set value: the scenario's over the defaults'.
func or[T any](a, b opt[T]) opt[T] {
	if a.set {
		return a
	}
	return b
}

// get returns the value or the built-in default.
func (o opt[T]) get(def T) T {
	if o.set {
		return o.v
	}
	return def
}

// scalar reports whether n is a non-null scalar, and says what was wanted if not.
func (p *parser) scalar(n *yaml.Node, field, want string) bool {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return true
	}
	p.errorf(n, field, "want %s, got %s", want, describe(n))
	return false
}

func (p *parser) str(n *yaml.Node, field string) opt[string] {
	if !p.scalar(n, field, "a string") {
		return opt[string]{}
	}
	if strings.ContainsRune(n.Value, 0) {
		p.errorf(n, field, "contains a NUL byte")
		return opt[string]{}
	}
	return some(n.Value, n, field)
}

// boolean reads true or false (YAML 1.2 spelling only: no yes/no/on/off).
func (p *parser) boolean(n *yaml.Node, field string) opt[bool] {
	if !p.scalar(n, field, "true or false") {
		return opt[bool]{}
	}
	switch n.Value {
	case "true":
		return some(true, n, field)
	case "false":
		return some(false, n, field)
	}
	p.errorf(n, field, "want true or false, got %s", quote(n.Value))
	return opt[bool]{}
}

// nonEmpty is str for values where "" cannot mean anything.
func (p *parser) nonEmpty(n *yaml.Node, field string) opt[string] {
	o := p.str(n, field)
	if o.set && o.v == "" {
		p.errorf(n, field, "empty")
		return opt[string]{}
	}
	return o
}

var nameRE = lazyRE(`^[a-z0-9][a-z0-9._-]*$`)

// name checks a suite or scenario name: both end up in directory names and image tags.
func (p *parser) name(n *yaml.Node, field string) opt[string] {
	o := p.str(n, field)
	if !o.set {
		return o
	}
	switch {
	case !nameRE().MatchString(o.v):
		p.errorf(n, field, "bad name %s: use a-z, 0-9, '.', '_' and '-', starting with a letter or digit", quote(o.v))
	case len(o.v) > maxNameLen:
		p.errorf(n, field, "name is %d bytes, over the maximum of %d", len(o.v), maxNameLen)
	default:
		return o
	}
	return opt[string]{}
}

var decimalRE = lazyRE(`^[-+]?[0-9]+$`)

// integer parses a decimal integer. Digits too big for int64 are "too large",
// not "a number": yaml.v3 resolves them as floats.
func (p *parser) integer(n *yaml.Node, field string) (int64, bool) {
	if !p.scalar(n, field, "an integer") {
		return 0, false
	}
	isInt := n.Tag == "!!int" || (n.Tag == "!!float" && decimalRE().MatchString(n.Value))
	if !isInt {
		p.errorf(n, field, "want an integer, got %s", describe(n))
		return 0, false
	}
	if !decimalRE().MatchString(n.Value) {
		p.errorf(n, field, "want a decimal integer, got %s", quote(n.Value))
		return 0, false
	}
	v, err := strconv.ParseInt(n.Value, 10, 64)
	if err != nil {
		p.errorf(n, field, "too large: %s", quote(n.Value))
		return 0, false
	}
	return v, true
}

// bounded parses an integer in [least, most]; what says so when it is not.
func (p *parser) bounded(n *yaml.Node, field string, least, most int64, what string) opt[int64] {
	v, ok := p.integer(n, field)
	switch {
	case !ok:
	case v < least || v > most:
		p.errorf(n, field, "%s, got %d", what, v)
	default:
		return some(v, n, field)
	}
	return opt[int64]{}
}

// count parses a number of starts.
func (p *parser) count(n *yaml.Node, field string, least int64) opt[int] {
	v, ok := p.integer(n, field)
	switch {
	case !ok:
	case v < least && least == 0:
		p.errorf(n, field, "must not be negative, got %d", v)
	case v < least:
		p.errorf(n, field, "must be at least %d, got %d", least, v)
	case v > maxCount:
		p.errorf(n, field, "over the maximum of %d, got %d", maxCount, v)
	default:
		return some(int(v), n, field)
	}
	return opt[int]{}
}

func (p *parser) duration(n *yaml.Node, field string) (time.Duration, bool) {
	if !p.scalar(n, field, "a duration") {
		return 0, false
	}
	d, err := time.ParseDuration(n.Value)
	if err != nil {
		p.errorf(n, field, "bad duration %s: want a number with a unit, like 3s or 500ms", quote(n.Value))
		return 0, false
	}
	return d, true
}

func (p *parser) deadline(n *yaml.Node, field string) opt[time.Duration] {
	d, ok := p.duration(n, field)
	switch {
	case !ok:
	case d <= 0:
		p.errorf(n, field, "must be positive, got %s", n.Value)
	case d > maxDeadline:
		p.errorf(n, field, "over the maximum of %s, got %s", "10m", n.Value)
	default:
		return some(d, n, field)
	}
	return opt[time.Duration]{}
}

// percent reads a share written as a percentage, "1%" or "0.5%", into a
// fraction (0.01, 0.005).
func (p *parser) percent(n *yaml.Node, field string) opt[float64] {
	if !p.scalar(n, field, `a percentage like "1%"`) {
		return opt[float64]{}
	}
	num, ok := strings.CutSuffix(strings.TrimSpace(n.Value), "%")
	v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	switch {
	case !ok:
		p.errorf(n, field, `want a percentage like "1%%", got %s (write the %% sign: 1 would be ambiguous)`, quote(n.Value))
	case err != nil || math.IsNaN(v):
		p.errorf(n, field, "bad percentage %s", quote(n.Value))
	case v < 0 || v > 100:
		p.errorf(n, field, "want 0%% to 100%%, got %s", n.Value)
	default:
		return some(v/100, n, field)
	}
	return opt[float64]{}
}

var sizeRE = lazyRE(`^([0-9]+)([A-Za-z]*)$`)

var sizeUnits = map[string]int64{
	"": 1, "b": 1,
	"k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10,
	"m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
}

// size parses bytes with an optional binary unit, as docker does. With
// unlimited, -1 is accepted and returned as is.
func (p *parser) size(n *yaml.Node, field string, unlimited bool) (int64, bool) {
	if !p.scalar(n, field, "a size") {
		return 0, false
	}
	v := n.Value
	if unlimited && v == "-1" {
		return -1, true
	}
	if strings.HasPrefix(v, "-") {
		if unlimited {
			p.errorf(n, field, "must be positive or -1 (unlimited), got %s", v)
		} else {
			p.errorf(n, field, "must be positive, got %s", v)
		}
		return 0, false
	}
	m := sizeRE().FindStringSubmatch(v)
	if m == nil {
		p.errorf(n, field, "bad size %s: want bytes or a number with unit b, k, m or g, like 128m", quote(v))
		return 0, false
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	if !ok {
		p.errorf(n, field, "bad size %s: unknown unit %s; use b, k, m or g", quote(v), quote(m[2]))
		return 0, false
	}
	num, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || num > math.MaxInt64/unit {
		p.errorf(n, field, "too large: %s", quote(v))
		return 0, false
	}
	return num * unit, true
}

// minSize parses a size that docker refuses below least.
func (p *parser) minSize(n *yaml.Node, field string, least int64, leastText string) opt[int64] {
	v, ok := p.size(n, field, false)
	switch {
	case !ok:
	case v < least:
		p.errorf(n, field, "below docker's minimum of %s, got %s", leastText, n.Value)
	default:
		return some(v, n, field)
	}
	return opt[int64]{}
}

func (p *parser) number(n *yaml.Node, field string) (float64, bool) {
	if !p.scalar(n, field, "a number") {
		return 0, false
	}
	if n.Tag != "!!int" && n.Tag != "!!float" {
		p.errorf(n, field, "want a number, got %s", describe(n))
		return 0, false
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		p.errorf(n, field, "want a finite decimal number, got %s", quote(n.Value))
		return 0, false
	}
	return v, true
}

var cpusetRE = lazyRE(`^[0-9]{1,5}(-[0-9]{1,5})?(,[0-9]{1,5}(-[0-9]{1,5})?)*$`)

func (p *parser) cpuset(n *yaml.Node, field string) opt[string] {
	o := p.str(n, field)
	if !o.set {
		return o
	}
	bad := !cpusetRE().MatchString(o.v)
	if !bad {
		for _, r := range strings.Split(o.v, ",") {
			lo, hi, isRange := strings.Cut(r, "-")
			a, _ := strconv.Atoi(lo)
			if b, _ := strconv.Atoi(hi); isRange && b < a {
				bad = true
			}
		}
	}
	if bad {
		p.errorf(n, field, "bad cpu list %s: want CPU numbers and ranges, like 0-1,3", quote(o.v))
		return opt[string]{}
	}
	return o
}

// socket checks the container side of the socket and, with Options.HostDirLen,
// the host side: both must fit in sun_path.
func (p *parser) socket(n *yaml.Node, field string) opt[string] {
	o := p.str(n, field)
	if !o.set {
		return o
	}
	v := o.v
	switch {
	case !strings.HasPrefix(v, "/"):
		p.errorf(n, field, "must be an absolute path, got %s", quote(v))
	case v == "/" || strings.HasSuffix(v, "/"):
		p.errorf(n, field, "must name a file, not a directory, got %s", quote(v))
	case path.Clean(v) != v:
		p.errorf(n, field, "must be a clean path: %s, not %s", quote(path.Clean(v)), quote(v))
	case path.Dir(v) == "/":
		p.errorf(n, field, "must be in a directory below /: the harness mounts a fresh directory at the socket's directory, got %s", quote(v))
	case strings.IndexFunc(v, unsafePathRune) >= 0:
		r := v[strings.IndexFunc(v, unsafePathRune):]
		p.errorf(n, field, "contains %s: a socket path may hold only letters, digits, '.', '_', '-' and '/' (its directory becomes a bind mount, where ':' and ',' would add mount options)", quote(string([]rune(r)[0])))
	case len(v) > MaxSunPath:
		p.errorf(n, field, "path is %d bytes, over the %d-byte limit of a Unix socket path", len(v), MaxSunPath)
	default:
		if msg := p.hostSocket(v); msg != "" {
			p.errorf(n, field, "%s", msg)
			return opt[string]{}
		}
		return o
	}
	return opt[string]{}
}

// unsafePathRune is any character but the portable file-name set and '/'.
func unsafePathRune(r rune) bool {
	switch {
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return false
	}
	return !strings.ContainsRune("._-/", r)
}

// hostSocket says why the host side of socket would not fit, or "".
func (p *parser) hostSocket(socket string) string {
	if p.opt.HostDirLen <= 0 {
		return ""
	}
	base := path.Base(socket)
	if l := p.opt.HostDirLen + 1 + len(base); l > MaxSunPath {
		return "the host side of the socket would be " + strconv.Itoa(l) + " bytes (host directory " +
			strconv.Itoa(p.opt.HostDirLen) + " + 1 + " + quote(base) + "), over the " +
			strconv.Itoa(MaxSunPath) + "-byte limit of a Unix socket path; use a shorter file name"
	}
	return ""
}

// tchar is the character set of an HTTP token (RFC 9110), which a method is.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// The grammar of docker image references (distribution/reference), without
// the canonicalisation: enough to catch a bad reference before the engine does.
const (
	refAlnum  = `[a-z0-9]+`
	refPath   = refAlnum + `(?:(?:[._]|__|-+)` + refAlnum + `)*`
	refDomain = `(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])`
	refHost   = refDomain + `(?:\.` + refDomain + `)*(?::[0-9]+)?`
	refTag    = `[\w][\w.-]{0,127}`
	refDigest = `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}`
)

var refRE = lazyRE(`^(?:` + refHost + `/)?` + refPath + `(?:/` + refPath + `)*(?::` + refTag + `)?(?:@` + refDigest + `)?$`)

func validRef(s string) bool {
	// 255 is docker's limit on the name; the bound also keeps the match cheap.
	return len(s) <= 512 && refRE().MatchString(s)
}

// ParseSize reads a size as a suite writes it: bytes, or a number with
// unit b, k, m or g (128m).
func ParseSize(s string) (int64, error) {
	m := sizeRE().FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("bad size %q: want bytes or a number with unit b, k, m or g, like 128m", s)
	}
	unit, ok := sizeUnits[strings.ToLower(m[2])]
	n, err := strconv.ParseInt(m[1], 10, 64)
	if !ok || err != nil || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("bad size %q: want bytes or a number with unit b, k, m or g, like 128m", s)
	}
	return n * unit, nil
}
