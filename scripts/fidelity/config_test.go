package main

import (
	"io"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	c, err := parseConfig(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.batches != 10 || c.batch != 12 || c.costRuns != 500 || c.costPairs != 10 || c.costBatch != 50 ||
		c.overheadRuns != 100 || c.versionRuns != 200 || c.poll != 5*time.Millisecond || len(c.rows) != 2 || len(c.phases) != 4 {
		t.Errorf("defaults: %+v", c)
	}
	c, err = parseConfig([]string{"--trial", "--batch", "3", "--rows", "free", "--phases", "cost", "--baseline-bin", "/x"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.batches != 2 || c.batch != 3 || c.costRuns != 100 || c.costPairs != 4 || c.costBatch != 25 || c.overheadRuns != 50 || c.versionRuns != 100 {
		t.Errorf("--trial with --batch 3: %+v", c)
	}
	if len(c.rows) != 1 || c.rows[0].Name != "free" || !c.phases["cost"] || c.phases["lag"] || c.baseline != "/x" {
		t.Errorf("rows %v phases %v baseline %q", c.rows, c.phases, c.baseline)
	}
}

func TestParseConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--rows", "seed,busy"}, `unknown row "busy"`},
		{[]string{"--rows", ","}, "at least one row"},
		{[]string{"--phases", "lag,warp"}, `unknown phase "warp"`},
		{[]string{"--baseline-bin", "/x", "--phases", "lag"}, "add cost to --phases"},
		{[]string{"--cost-batch", "0"}, "--cost-batch 0"},
		{[]string{"suite.yaml"}, "unexpected arguments"},
		{[]string{"--nope"}, "not defined"},
	} {
		_, err := parseConfig(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want one containing %q", tc.args, err, tc.want)
		}
	}
}
