package scenario

import (
	"bytes"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestTmp(t *testing.T) {
	in := "x-s: &s {image: a, env: {" + strings.TrimSuffix(manyLines("K%d: v, ", 2000), ", ") + "}}\n" +
		"suite: s\nscenarios:\n" + manyLines("  - {<<: *s, name: n%d}\n", 20000)
	t.Log(len(in))
	st := time.Now()
	_, _, err := decode([]byte(in))
	t.Log("decode", time.Since(st), err)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	st = time.Now()
	_, err = Parse("x", []byte(in), Options{})
	runtime.ReadMemStats(&m1)
	t.Log("parse", time.Since(st), m1.TotalAlloc-m0.TotalAlloc)
	t.Log(err.Error()[:min(len(err.Error()), 300)])
	_ = bytes.Count
}
