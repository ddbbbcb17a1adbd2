package bench

import (
	"strings"
	"testing"

	"github.com/coldstart/coldstart/harness/scenario"
)

// A build context outside the suite's directory is allowed, and a warning
// of the run: all of it is sent to the engine.
func TestSuiteWarnings(t *testing.T) {
	s, err := scenario.Parse("/suites/s.yaml", []byte(`suite: s
scenarios:
  - {name: in, build: {context: apps/a}}
  - {name: here, build: {context: .}}
  - {name: up, build: {context: ../secrets}}
  - {name: root, build: {context: /root}}
  - {name: plain, image: x}
`), scenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := SuiteWarnings(s)
	if len(w) != 2 || !strings.Contains(w[0], "scenarios[2].build.context /secrets is outside the suite's directory /suites") ||
		!strings.Contains(w[1], "scenarios[3].build.context /root") || !strings.Contains(w[0], "/suites/s.yaml:5:") {
		t.Errorf("warnings %q, want the two contexts outside /suites", w)
	}
}
