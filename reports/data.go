package reports

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/reports/svgplot"
)

func renderJSON(w io.Writer, in Input) error {
	if in.Summary == nil {
		return errNoSummary
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(in.Summary)
}

type column struct {
	name  string
	value func(r *result.Record) string
}

func fl(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func optF(v *float64) string {
	if v == nil {
		return ""
	}
	return fl(*v)
}

// cg reads a cgroup field; the cell is empty when the start has no sample.
func cg(f func(s *result.Sample) string) func(r *result.Record) string {
	return func(r *result.Record) string {
		if r.Cgroup == nil {
			return ""
		}
		return f(r.Cgroup)
	}
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }

// columns of the CSV report: append only, never reorder.
var columns = []column{
	{"run", func(r *result.Record) string { return r.Run }},
	{"seq", func(r *result.Record) string { return strconv.Itoa(r.Seq) }},
	{"scenario", func(r *result.Record) string { return r.Scenario }},
	{"kind", func(r *result.Record) string { return string(r.Kind) }},
	{"iter", func(r *result.Record) string { return strconv.Itoa(r.Iteration) }},
	{"outcome", func(r *result.Record) string { return string(r.Outcome) }},
	{"create_ms", func(r *result.Record) string { return fl(r.CreateMS) }},
	{"start_call_ms", func(r *result.Record) string { return fl(r.StartCallMS) }},
	{"socket_ms", func(r *result.Record) string { return optF(r.SocketMS) }},
	{"ready_ms", func(r *result.Record) string { return optF(r.ReadyMS) }},
	{"remove_ms", func(r *result.Record) string { return fl(r.RemoveMS) }},
	{"attempts", func(r *result.Record) string { return strconv.Itoa(r.Attempts) }},
	{"exit_code", func(r *result.Record) string {
		if r.ExitCode == nil {
			return ""
		}
		return strconv.Itoa(*r.ExitCode)
	}},
	{"oom_killed", func(r *result.Record) string { return strconv.FormatBool(r.OOMKilled) }},
	{"cpu_usage_ms", cg(func(s *result.Sample) string { return fl(s.CPUUsageMS) })},
	{"throttled_periods", cg(func(s *result.Sample) string { return u(s.ThrottledPeriods) })},
	{"throttled_ms", cg(func(s *result.Sample) string { return fl(s.ThrottledMS) })},
	{"memory_peak", cg(func(s *result.Sample) string { return u(s.MemoryPeak) })},
	{"periods", cg(func(s *result.Sample) string { return u(s.Periods) })},
	{"memory_usage", cg(func(s *result.Sample) string { return u(s.MemoryUsage) })},
	{"memsw_peak", cg(func(s *result.Sample) string { return u(s.MemSwapPeak) })},
	{"kmem_usage", cg(func(s *result.Sample) string { return u(s.KernelMemoryUsage) })},
	{"oom_kills", cg(func(s *result.Sample) string { return u(s.OOMKills) })},
	{"cgroup_version", cg(func(s *result.Sample) string { return strconv.Itoa(s.CgroupVersion) })},
	{"deadline_ms", func(r *result.Record) string { return fl(r.DeadlineMS) }},
	{"exit_ms", func(r *result.Record) string { return optF(r.ExitMS) }},
	{"started_at_ms", func(r *result.Record) string { return optF(r.StartedAtMS) }},
	{"last_status", func(r *result.Record) string {
		if r.LastStatus == 0 {
			return ""
		}
		return strconv.Itoa(r.LastStatus)
	}},
	{"time", func(r *result.Record) string {
		if r.Time.IsZero() {
			return ""
		}
		return r.Time.UTC().Format(time.RFC3339Nano)
	}},
	{"image", func(r *result.Record) string { return r.Image }},
	{"container", func(r *result.Record) string { return r.Container }},
	{"error", func(r *result.Record) string { return cellText(r.Error) }},
	{"profile", func(r *result.Record) string {
		if r.Hardening == nil {
			return ""
		}
		return r.Hardening.Profile
	}},
	{"hardening_not_held", func(r *result.Record) string {
		if r.Hardening == nil {
			return ""
		}
		var bad []string
		for _, s := range r.Hardening.Settings {
			if !s.OK {
				bad = append(bad, s.Name)
			}
		}
		return strings.Join(bad, ";")
	}},
	{"serving_ms", func(r *result.Record) string { return optF(r.ServingMS) }},
	{"serving_outcome", func(r *result.Record) string { return string(r.ServingOutcome) }},
	{"serving_attempts", func(r *result.Record) string { return intOrEmpty(r.ServingAttempts) }},
	{"serving_status", func(r *result.Record) string { return intOrEmpty(r.ServingStatus) }},
	{"serving_error", func(r *result.Record) string { return cellText(r.ServingError) }},
	{"serving_cpu_usage_ms", func(r *result.Record) string {
		if r.ServingCgroup == nil {
			return ""
		}
		return fl(r.ServingCgroup.CPUUsageMS)
	}},
	{"contract", func(r *result.Record) string { return r.Contract }},
	{"call_id", func(r *result.Record) string { return r.CallID }},
}

// cellText makes text an app may have written safe in a spreadsheet: no
// control or bidirectional characters, and no leading =, +, -, @ that a
// spreadsheet would run as a formula (a quote keeps it text).
func cellText(s string) string {
	s = svgplot.Clean(s)
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}

// intOrEmpty is an optional count: empty when zero.
func intOrEmpty(v int) string {
	if v == 0 {
		return ""
	}
	return strconv.Itoa(v)
}

// CSVHeader is the header row of the CSV format.
func CSVHeader() []string {
	h := make([]string, len(columns))
	for i, c := range columns {
		h[i] = c.name
	}
	return h
}

func renderCSV(w io.Writer, in Input) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader()); err != nil {
		return err
	}
	row := make([]string, len(columns))
	for i := range in.Records {
		for j, c := range columns {
			row[j] = c.value(&in.Records[i])
		}
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
