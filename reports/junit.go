package reports

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/summary"
	"github.com/coldstart/coldstart/reports/svgplot"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out,omitempty"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure"`
	Error     *junitFailure `xml:"error"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

func seconds(ms float64) string { return fmt.Sprintf("%.3f", ms/1000) }

// caseMS is how long a start took to reach its outcome, for the time attribute.
func caseMS(r *result.Record) float64 {
	switch {
	case r.ServingMS != nil:
		return *r.ServingMS
	case r.Outcome == result.OK && r.HasServing() && r.ServingOutcome == result.DeadlineExceeded:
		return r.DeadlineMS
	case r.ReadyMS != nil:
		return *r.ReadyMS
	case r.ExitMS != nil:
		return *r.ExitMS
	case r.Outcome == result.DeadlineExceeded:
		return r.DeadlineMS
	}
	return 0
}

// renderJUnit writes one testsuite per scenario: a testcase per measured
// start, failing unless ok, and p95_within_deadline, failing when p95 is
// censored (or absent).
func renderJUnit(w io.Writer, in Input) error {
	if in.Summary == nil {
		return errNoSummary
	}
	s := in.Summary
	byName := map[string][]*result.Record{}
	for i := range in.Records {
		if r := &in.Records[i]; r.Kind == result.KindMeasure {
			byName[in.row(r)] = append(byName[in.row(r)], r)
		}
	}
	out := junitSuites{Name: "coldstart " + s.Suite}
	var total float64
	for i := range s.Scenarios {
		js, ms := scenarioSuite(s, &s.Scenarios[i], byName[s.Scenarios[i].Name])
		total += ms
		out.Tests += js.Tests
		out.Failures += js.Failures
		out.Suites = append(out.Suites, js)
	}
	if js, ok := gateSuite(s); ok {
		out.Tests += js.Tests
		out.Failures += js.Failures
		out.Errors += js.Errors
		out.Suites = append(out.Suites, js)
	}
	out.Time = seconds(total)

	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// scenarioSuite is one scenario's testsuite and the milliseconds its cases took.
func scenarioSuite(s *summary.Summary, sc *summary.Scenario, recs []*result.Record) (junitSuite, float64) {
	js := junitSuite{Name: sc.Name, Properties: []junitProperty{
		{"run", s.Run}, {"image", sc.Image}, {"deadline_ms", num(sc.DeadlineMS)},
	}}
	var suiteMS float64
	for _, r := range recs {
		suiteMS += caseMS(r)
		js.Cases = append(js.Cases, startCase(sc.Name, r))
	}
	js.Cases = append(js.Cases, p95Case(sc))
	if sc.Serving != nil {
		js.Cases = append(js.Cases, servingP95Case(sc))
	}
	for _, c := range js.Cases {
		js.Tests++
		if c.Failure != nil {
			js.Failures++
		}
	}
	js.Time = seconds(suiteMS)
	var ws []string
	for _, w := range sc.Warnings {
		ws = append(ws, fmt.Sprintf("[%s] %s", w.Code, w.Message))
	}
	js.SystemOut = svgplot.Clean(strings.Join(ws, "\n"))
	return js, suiteMS
}

// startCase is one measured start, failing unless ok.
func startCase(name string, r *result.Record) junitCase {
	c := junitCase{
		Name:      fmt.Sprintf("start_iter_%d_seq_%d", r.Iteration, r.Seq),
		Classname: "coldstart." + name,
		Time:      seconds(caseMS(r)),
	}
	if r.Outcome == result.OK && r.HasServing() && r.ServingOutcome != result.OK {
		// Ready, then the first call was not answered as expected.
		msg := "serving " + string(r.ServingOutcome) + ": " + r.ServingError
		c.Failure = &junitFailure{Message: msg, Type: "serving_" + string(r.ServingOutcome), Text: r.ServingError + "\n" + r.LogTail}
		return c
	}
	if r.Outcome == result.OK {
		return c
	}
	msg := string(r.Outcome)
	if r.Error != "" {
		msg += ": " + r.Error
	}
	var body strings.Builder
	if r.Error != "" {
		body.WriteString(r.Error + "\n")
	}
	if r.ExitCode != nil {
		fmt.Fprintf(&body, "exit code %d, oom_killed %v\n", *r.ExitCode, r.OOMKilled)
	}
	if r.LogTail != "" {
		body.WriteString("log tail:\n" + r.LogTail)
	}
	// The error and the log tail are the app's words: no control or
	// bidirectional characters (XML escaping is the encoder's).
	c.Failure = &junitFailure{Message: svgplot.Clean(msg), Type: string(r.Outcome), Text: svgplot.Clean(body.String())}
	return c
}

func p95Case(sc *summary.Scenario) junitCase {
	c := junitCase{Name: "p95_within_deadline", Classname: "coldstart." + sc.Name, Time: "0.000"}
	p95 := sc.ReadyMS.P95
	switch {
	case p95.Censored:
		c.Failure = &junitFailure{Type: "p95_censored",
			Message: fmt.Sprintf("p95 ready_ms %s: censored by %d misses of %d measured starts (deadline %s ms)",
				ms(p95), sc.Missed(), sc.N, num(sc.DeadlineMS))}
	case !p95.Known:
		c.Failure = &junitFailure{Type: "no_starts", Message: "no measured starts"}
	case p95.V > sc.DeadlineMS:
		c.Failure = &junitFailure{Type: "p95_over_deadline",
			Message: fmt.Sprintf("p95 ready_ms %s > deadline %s ms", ms(p95), num(sc.DeadlineMS))}
	}
	return c
}

// servingP95Case fails when serving_ms's p95 is censored (or absent).
func servingP95Case(sc *summary.Scenario) junitCase {
	c := junitCase{Name: "serving_p95_within_deadline", Classname: "coldstart." + sc.Name, Time: "0.000"}
	sv := sc.Serving
	switch p95 := sv.ServingMS.P95; {
	case p95.Censored:
		c.Failure = &junitFailure{Type: "serving_p95_censored",
			Message: fmt.Sprintf("p95 serving_ms %s: censored by %d starts not served of %d measured (deadline %s ms)",
				ms(p95), sv.Missed(), sv.N, num(sc.DeadlineMS))}
	case !p95.Known:
		c.Failure = &junitFailure{Type: "no_starts", Message: "no measured starts with a work request"}
	}
	return c
}

// gateSuite is a testsuite of the run's verdicts: a case per SLO objective
// (failing when not met) and per paired scenario (failing when regressed,
// an error when inconclusive).
func gateSuite(s *summary.Summary) (junitSuite, bool) {
	js := junitSuite{Name: "gate", Properties: []junitProperty{{"run", s.Run}}}
	for _, c := range s.SLOs {
		jc := junitCase{Name: "slo " + c.Objective, Classname: "coldstart." + c.Arm, Time: "0.000"}
		if !c.Met {
			jc.Failure = &junitFailure{Type: "slo_not_met", Message: c.Objective + ": " + c.Reason}
		}
		js.Cases = append(js.Cases, jc)
	}
	if p := s.Paired; p != nil {
		for _, v := range p.Scenarios {
			jc := junitCase{Name: "paired_verdict", Classname: "coldstart." + v.Name, Time: "0.000"}
			switch v.Verdict {
			case summary.Regressed:
				jc.Failure = &junitFailure{Type: "regressed", Message: v.Reason}
			case summary.Inconclusive:
				jc.Error = &junitFailure{Type: "inconclusive", Message: v.Reason}
			}
			js.Cases = append(js.Cases, jc)
		}
	}
	for _, c := range js.Cases {
		js.Tests++
		if c.Failure != nil {
			js.Failures++
		}
		if c.Error != nil {
			js.Errors++
		}
	}
	return js, len(js.Cases) > 0
}
