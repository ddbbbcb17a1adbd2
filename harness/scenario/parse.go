package scenario

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

const (
	// MaxFileSize bounds a suite file: a suite is a page of YAML, and the cap
	// keeps a wrong path (a log, an image) from being read into memory.
	MaxFileSize = 1 << 20
	// maxErrors stops the report where more lines would not help anyone.
	maxErrors = 1000
)

// Options are facts about the harness that decide whether a suite can run.
type Options struct {
	// HostDirLen is the length in bytes of the host directory the harness
	// bind-mounts at the socket's directory (a fresh one per start). The host
	// side of the socket must fit in sun_path too. 0 skips that check.
	HostDirLen int
	// AllowLong accepts a suite that could take longer than MaxRunTime.
	AllowLong bool
}

// Load reads and parses a suite file. Problems in the file are reported as
// *Errors; a file that cannot be read is reported as the *fs.PathError.
func Load(file string, opt Options) (*Suite, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// One byte past the limit is enough to know the file is too big without reading it.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	return Parse(file, data, opt)
}

// Parse parses and validates a suite file's bytes; file names it in errors and
// anchors relative paths. Every problem is reported, as *Errors sorted by
// position; the suite is nil when there is any.
//
// The format (testdata/full.yaml uses every key):
//
//	suite: name                  # required; [a-z0-9][a-z0-9._-]*
//	defaults: {...}              # any scenario key but name, image, build, setup
//	scenarios:                   # required, non-empty
//	  - name: app                # required, unique
//	    image: ref               # required unless build; with build, the tag
//	    build: {context: dir, dockerfile: Dockerfile, args: {K: v}}
//	    setup: [cmd, ...]        # sh -c in the suite's directory, once
//	    entrypoint: [...]        # or one string
//	    command: [...]           # or one string
//	    env: {K: v}              # merged per variable over the defaults'
//	    user: "1000:1000"
//	    socket: /run/app/app.sock
//	    health: {method: GET, path: /, status: 200, body: text, timeout: 500ms}
//	    serving: {method: POST, path: /work, body: '{"n": 3}', headers: {K: v},
//	              status: 200, contains: text}   # the first real call, after ready
//	    contract: fn             # Fn's http-stream: FN_* env, lsnr.sock link, POST /call
//	    limits: {cpus: 0.1 | cpu_quota: µs + cpu_period: µs, memory: 128m,
//	             memory_swap: 128m | -1, kernel_memory: 128m, pids: 64, cpuset: 0-1}
//	    deadline: 3s
//	    runs: 20
//	    warmup: 0
//	    import_time: 0
//
// Top-level keys starting with x- are ignored, to hold anchors; merge keys
// (<<: *anchor) work anywhere. Limits and health merge over the defaults per
// key, except that cpus and cpu_quota/cpu_period replace each other as a group.
// Without memory_swap anywhere, memory_swap is memory: no swap.
func Parse(file string, data []byte, opt Options) (*Suite, error) {
	p := &parser{file: file, opt: opt, seen: map[errKey]bool{}, checked: map[*yaml.Node]bool{}}
	s := p.parse(data)
	if len(p.errs) > 0 {
		p.errs.sort()
		if p.truncated {
			last := p.errs[len(p.errs)-1]
			p.errs = append(p.errs, &Error{File: file, Line: last.Line, Col: last.Col,
				Msg: fmt.Sprintf("too many errors; stopped after %d", maxErrors)})
		}
		return nil, &p.errs
	}
	return s, nil
}

type errKey struct {
	line, col int
	msg       string
}

type parser struct {
	file string
	opt  Options
	errs Errors
	// seen drops repeats: a value reached through several aliases or merged
	// defaults is one mistake, reported once.
	seen      map[errKey]bool
	truncated bool
	// checked holds mappings whose keys were checked for duplicates: a mapping
	// merged into many scenarios is checked once.
	checked map[*yaml.Node]bool
	dir     string // absolute directory of the file
	// The sweep with the most cells, where a too-long suite is reported.
	biggest      *yaml.Node
	biggestField string
	biggestCells int

	// Budgets against alias bombs: aliases let a small file name a huge tree.
	visits, maxVisits int
	bytes, maxBytes   int
	stop              bool
}

func (p *parser) errorAt(line, col int, field, format string, args ...any) {
	if p.truncated {
		return
	}
	e := &Error{File: p.file, Line: max(line, 1), Col: max(col, 1), Field: field, Msg: fmt.Sprintf(format, args...)}
	k := errKey{e.Line, e.Col, e.Msg}
	if p.seen[k] {
		return
	}
	p.seen[k] = true
	if len(p.errs) == maxErrors {
		p.truncated, p.stop = true, true
		return
	}
	p.errs = append(p.errs, e)
}

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	p.errorAt(n.Line, n.Column, field, format, args...)
}

var bom = []byte("\xef\xbb\xbf")

func (p *parser) parse(data []byte) *Suite {
	sum := sha256.Sum256(data)
	suite := &Suite{File: p.file, Hash: hex.EncodeToString(sum[:]), Source: data}
	dir, err := filepath.Abs(filepath.Dir(p.file))
	if err != nil {
		dir = filepath.Dir(p.file)
	}
	suite.Dir, p.dir = dir, dir

	if len(data) > MaxFileSize {
		p.errorAt(1, 1, "", "file is over the 1 MiB limit for a suite; not parsed")
		return nil
	}
	text := bytes.TrimPrefix(data, bom)
	if len(bytes.TrimSpace(text)) == 0 {
		p.errorAt(1, 1, "", "empty file")
		return nil
	}
	doc, extra, err := decode(text)
	if err != nil {
		line, col, msg := syntaxPos(text, err)
		p.errorAt(line, col, "", "%s", msg)
		return nil
	}
	if extra != nil {
		p.errorf(extra, "", "a second YAML document; a suite file holds one")
	}
	if doc == nil || len(doc.Content) == 0 {
		p.errorAt(1, 1, "", "empty file")
		return nil
	}
	nodes := countNodes(doc)
	// Real suites expand by well under 4x; yaml.v3 itself never expands aliases into a Node tree.
	p.maxVisits = 4*nodes + 50_000
	p.maxBytes = 10*len(text) + 1<<20

	root := p.deref(doc.Content[0])
	if root == nil {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		if isNull(root) {
			p.errorf(root, "", "empty suite: want a mapping with suite and scenarios")
		} else {
			p.errorf(root, "", "want a mapping with suite and scenarios, got %s", describe(root))
		}
		return nil
	}
	p.suite(root, suite)
	return suite
}

// decode parses one YAML document into a node tree. The parser's internal
// panics are turned into errors: no input may crash the harness.
func decode(text []byte) (doc, extra *yaml.Node, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, extra, err = nil, nil, fmt.Errorf("yaml: parser error: %v", r)
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(text))
	var first yaml.Node
	if err := dec.Decode(&first); err != nil {
		if err == io.EOF {
			return nil, nil, nil
		}
		return nil, nil, err
	}
	var second yaml.Node
	switch err := dec.Decode(&second); {
	case err == io.EOF:
		return &first, nil, nil
	case err != nil:
		return nil, nil, err
	}
	return &first, &second, nil
}

var (
	yamlLineRE   = lazyRE(`(?s)^yaml: line (\d+): (.*)$`)
	yamlAnchorRE = lazyRE(`^yaml: unknown anchor '(.*)' referenced$`)
)

// syntaxPos turns a yaml.v3 error ("yaml: line 7: ...") into a position and a message.
func syntaxPos(text []byte, err error) (line, col int, msg string) {
	s := err.Error()
	if m := yamlLineRE().FindStringSubmatch(s); m != nil {
		line, _ = strconv.Atoi(m[1])
		return line, 1, "syntax error: " + m[2]
	}
	if m := yamlAnchorRE().FindStringSubmatch(s); m != nil {
		// yaml.v3 gives no position here; the first use of the alias is where to look.
		if i := bytes.Index(text, []byte("*"+m[1])); i >= 0 {
			line, col = position(text, i)
			return line, col, fmt.Sprintf("unknown anchor %q", m[1])
		}
	}
	return 1, 1, "syntax error: " + strings.TrimPrefix(s, "yaml: ")
}

func position(text []byte, off int) (line, col int) {
	before := text[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
}

// countNodes counts the written nodes, not following aliases.
func countNodes(doc *yaml.Node) int {
	n := 0
	stack := []*yaml.Node{doc}
	for len(stack) > 0 {
		top := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n++
		stack = append(stack, top.Content...)
	}
	return n
}

// deref follows an alias to the node it names and charges the visit against
// the budgets; nil means stop walking.
func (p *parser) deref(n *yaml.Node) *yaml.Node {
	if p.stop || n == nil {
		return nil
	}
	at := n
	for i := 0; n != nil && n.Kind == yaml.AliasNode; i++ {
		if i == 8 {
			return nil
		}
		n = n.Alias
	}
	if n == nil {
		return nil
	}
	p.visits++
	p.bytes += len(n.Value)
	if p.visits > p.maxVisits || p.bytes > p.maxBytes {
		p.errorf(at, "", "the aliases in this file expand to too much data; write it out or use defaults")
		p.stop = true
		return nil
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// describe names a node's type (and a short value) for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "null"
		case "!!str":
			return "string " + quote(n.Value)
		case "!!int":
			return "integer " + quote(n.Value)
		case "!!float":
			return "number " + quote(n.Value)
		case "!!bool":
			return "boolean " + n.Value
		}
		return n.Tag + " " + quote(n.Value)
	}
	return "an alias"
}

// quote quotes a value for a message, shortened so one line stays one line.
func quote(s string) string {
	const max = 40
	if utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = string(r[:max]) + "..."
	}
	return strconv.Quote(s)
}

func join(field, key string) string {
	if field == "" {
		return key
	}
	return field + "." + key
}

func index(field string, i int) string {
	return fmt.Sprintf("%s[%d]", field, i)
}

// entry is one key of a mapping, merge keys expanded.
type entry struct {
	key string
	k   *yaml.Node // the key as written, for "unknown key" and "duplicate key"
	v   *yaml.Node // the value, aliases followed
}

// entries lists a mapping's keys in file order. Duplicate keys are errors;
// merge keys (<<: *base) add the keys the mapping does not set itself.
func (p *parser) entries(m *yaml.Node, field string) []entry {
	var out []entry
	p.collect(m, field, map[string]bool{}, map[*yaml.Node]bool{}, &out)
	return out
}

func (p *parser) collect(m *yaml.Node, field string, have map[string]bool, visited map[*yaml.Node]bool, out *[]entry) {
	// A mapping merged twice adds nothing the second time; this also ends cycles.
	if visited[m] {
		return
	}
	visited[m] = true
	var first map[string]*yaml.Node
	if !p.checked[m] {
		p.checked[m] = true
		first = map[string]*yaml.Node{}
	}
	var merges []*yaml.Node
	for i := 0; i+1 < len(m.Content); i += 2 {
		kw := m.Content[i]
		k := p.deref(kw)
		if k == nil {
			return
		}
		if k.Kind != yaml.ScalarNode {
			p.errorf(kw, field, "want a string key, got %s", describe(k))
			continue
		}
		if k.Tag == "!!merge" {
			merges = append(merges, m.Content[i+1])
			continue
		}
		if first != nil {
			if f, dup := first[k.Value]; dup {
				p.errorf(kw, join(field, k.Value), "duplicate key; first at line %d", f.Line)
				continue
			}
			first[k.Value] = kw
		}
		if have[k.Value] {
			continue // set by the mapping that merges this one, or a duplicate
		}
		v := p.deref(m.Content[i+1])
		if v == nil {
			return
		}
		have[k.Value] = true
		*out = append(*out, entry{key: k.Value, k: kw, v: v})
	}
	for _, mv := range merges {
		v := p.deref(mv)
		if v == nil {
			return
		}
		var srcs []*yaml.Node
		switch v.Kind {
		case yaml.MappingNode:
			srcs = append(srcs, v)
		case yaml.SequenceNode:
			for _, item := range v.Content {
				src := p.deref(item)
				if src == nil {
					return
				}
				if src.Kind != yaml.MappingNode {
					p.errorf(src, join(field, "<<"), "want a mapping to merge, got %s", describe(src))
					continue
				}
				srcs = append(srcs, src)
			}
		default:
			p.errorf(v, join(field, "<<"), "want a mapping or a list of mappings to merge, got %s", describe(v))
		}
		for _, src := range srcs {
			p.collect(src, field, have, visited, out)
		}
	}
}
