package scenario

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	quick := "suite: s\nscenarios:\n  - name: a\n    image: a\n"
	for _, seed := range []string{
		strings.ReplaceAll(quick, "\n", "\r\n"),
		"\xef\xbb\xbf" + quick,
		"suite: s\nscenarios:\n\t- name: a\n",
		"\x00\xff\xfe\x01garbage\x7f\x80",
		"\xff\xfes\x00u\x00i\x00t\x00e\x00:\x00 \x00s\x00\n\x00",
		quick + "    runs: 99999999999999999999999999\n    limits: {memory: 18446744073709551616g, cpus: 1e308, cpu_quota: -9223372036854775808}\n",
		quick + "    limits: {cpus: .inf, memory: .nan, pids: 0x7fffffffffffffff}\n",
		strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
		strings.Repeat("a:\n ", 2000) + "b",
		"x-a: &a [lol, lol]\nx-b: &b [*a, *a]\nx-c: &c [*b, *b]\nsuite: s\nscenarios: *c\n",
		"x-a: &a {b: *a, <<: *a}\nsuite: s\nscenarios: [{<<: *a, name: a, image: a}]\n",
		"x-s: &s {name: a, image: a}\nsuite: s\nscenarios: [*s, *s, {<<: [*s, *s], name: b}]\n",
		"suite: s\nscenarios: [{name: a, image: *nope}]\n",
		quick + "---\n" + quick,
		"? [a, b]\n: c\nsuite: s\n",
		"suite: !!binary c3VpdGU=\nscenarios: !!map {}\n",
		quick + "    env: {A: !!int x, B: !custom y}\n    deadline: !!float 3s\n",
		quick + "    command: |\n      multi\n      line\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.yaml", data, Options{HostDirLen: 40})
		if err == nil {
			if s == nil || len(s.Scenarios) == 0 {
				t.Fatalf("no error and no scenarios: %+v", s)
			}
			total := 0
			for _, sc := range s.Scenarios {
				total += sc.Warmup + sc.Runs + sc.ImportTime
			}
			if total < 1e5 {
				if got := len(s.Plan(1)); got != total {
					t.Fatalf("plan has %d starts, want %d", got, total)
				}
			}
			return
		}
		if s != nil {
			t.Fatalf("a suite and an error")
		}
		var errs *Errors
		if !errors.As(err, &errs) || len(*errs) == 0 {
			t.Fatalf("error is %T %v, want a non-empty *Errors", err, err)
		}
		for _, e := range *errs {
			if e.Line < 1 || e.Col < 1 || e.File != "fuzz.yaml" || e.Msg == "" {
				t.Fatalf("bad error %#v", e)
			}
		}
	})
}
