package summary

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/coldstart/coldstart/harness/result"
)

// A merged run (shards of one plan, measured on several hosts) is
// summarized per host, and pooled only where the hosts agree: a host's
// speed is part of every start it measures, so starts of a slow and a fast
// host pooled together describe neither.
//
// The agreement test: each host's p50 ready time of the reference arms
// (the calibration workloads when the suite has one, else every arm that
// ran on all the hosts) must be within MaxHostSpreadPct of each other,
// slowest over fastest, with at least MinAgreeStarts ok starts of each
// arm on each host and no censored p50. The Mann-Whitney U test between
// the fastest and the slowest host is reported beside it, not used: with a
// few starts per host it cannot tell hosts apart, with thousands it tells
// apart hosts that differ by a percent.

// DefaultMaxHostSpreadPct is the default agreement bound. It is the gate's
// calibration drift bound: a platform moving more than this within a run
// is not one platform.
const DefaultMaxHostSpreadPct = 25

// MinAgreeStarts is the fewest ok starts of a reference arm on a host for
// an agreement to be judged.
const MinAgreeStarts = 5

// Host is a merged run's figures on one host.
type Host struct {
	Label        string     `json:"host"` // the engine's host name (unique in the run)
	Fingerprint  string     `json:"host_fingerprint"`
	InstanceType string     `json:"instance_type,omitempty"`
	Shards       []string   `json:"shards"`
	Scenarios    []Scenario `json:"scenarios"`
}

// Pool is one pooling decision over a set of hosts, with the pooled figures
// when they agree.
type Pool struct {
	Name         string      `json:"name"` // "all hosts" or "instance type X"
	InstanceType string      `json:"instance_type,omitempty"`
	Hosts        []string    `json:"hosts"`
	Agree        bool        `json:"agree"`
	Reason       string      `json:"reason"`
	Reference    []ArmSpread `json:"reference,omitempty"`
	Scenarios    []Scenario  `json:"scenarios,omitempty"` // pooled; only when the hosts agree
}

// ArmSpread is one reference arm on every host of a pool.
type ArmSpread struct {
	Arm       string    `json:"arm"`
	P50       []HostP50 `json:"p50"`
	SpreadPct Value     `json:"spread_pct"` // slowest over fastest p50, minus 1, in percent
	UTestP    Value     `json:"u_test_p"`   // fastest against slowest host: reported, not used
}

// HostP50 is an arm's p50 ready time and ok count on one host.
type HostP50 struct {
	Host string `json:"host"`
	P50  Value  `json:"p50_ms"`
	OK   int    `json:"ok"`
}

// hostRecords are one host's records, in merged order.
type hostRecords struct {
	host Host
	recs []result.Record
}

// mergedViews adds a merged run's shards, hosts and pools to s (computed
// over all records); when the hosts disagree, s's scenarios become one
// row per arm and host ("arm @host") and nothing is pooled across hosts.
func mergedViews(s *Summary, recs []result.Record, m result.Manifest, opt Options) {
	s.Shards = m.Merged.Shards
	for _, sh := range m.Merged.Shards {
		if !sh.Complete() {
			s.Warnings = append(s.Warnings, warnf(ShardIncomplete, "shard %s (%s) is incomplete: %d of %d planned starts; %s; missing: %s",
				sh.Shard, orNone(sh.Host), sh.Completed, sh.Planned, orNone(sh.Reason), MissingText(sh.Missing, 12)))
		}
	}
	hosts := byHost(recs, m, opt)
	for _, h := range hosts {
		s.Hosts = append(s.Hosts, h.host)
	}
	bound := m.Merged.MaxHostSpreadPct
	if bound <= 0 {
		bound = DefaultMaxHostSpreadPct
	}
	all := decide("all hosts", "", hosts, bound)
	if all.Agree {
		all.Scenarios = s.Scenarios
	}
	s.Pools = append(s.Pools, all)
	types := instanceTypes(hosts)
	if len(types) > 1 {
		for _, it := range types {
			var of []hostRecords
			for _, h := range hosts {
				if h.host.InstanceType == it {
					of = append(of, h)
				}
			}
			if len(of) > 1 {
				s.Pools = append(s.Pools, pooled(decide("instance type "+orNone(it), it, of, bound), of, opt))
			}
		}
	}
	if !all.Agree && len(hosts) > 1 {
		s.PerHost = true
		s.Scenarios = nil
		for _, h := range hosts {
			for _, sc := range h.host.Scenarios {
				sc.Host, sc.Name = h.host.Label, sc.Name+" @"+h.host.Label
				s.Scenarios = append(s.Scenarios, sc)
			}
		}
		s.Warnings = append(s.Warnings, warnf(NotPooled, "hosts not pooled: %s; every figure is per host (\"arm @host\")", all.Reason))
	}
}

// pooled fills a pool's figures from its hosts' records when they agree.
func pooled(p Pool, of []hostRecords, opt Options) Pool {
	if !p.Agree {
		return p
	}
	var recs []result.Record
	for _, h := range of {
		recs = append(recs, h.recs...)
	}
	p.Scenarios = Compute(recs, opt).Scenarios
	return p
}

// byHost groups the records by host fingerprint, in shard order, each
// host summarized on its own.
func byHost(recs []result.Record, m result.Manifest, opt Options) []hostRecords {
	var out []hostRecords
	at := map[string]int{}
	for _, sh := range m.Merged.Shards {
		if sh.Run == "" {
			continue
		}
		i, ok := at[sh.Fingerprint]
		if !ok {
			i = len(out)
			at[sh.Fingerprint] = i
			out = append(out, hostRecords{host: Host{Label: sh.Host, Fingerprint: sh.Fingerprint, InstanceType: sh.InstanceType}})
		}
		out[i].host.Shards = append(out[i].host.Shards, sh.Shard.String())
	}
	for _, r := range recs {
		if i, ok := at[r.HostFingerprint]; ok {
			out[i].recs = append(out[i].recs, r)
		}
	}
	for i := range out {
		hopt := opt
		hopt.Planned, hopt.Interrupted = 0, false
		out[i].host.Scenarios = Compute(out[i].recs, hopt).Scenarios
	}
	return out
}

func instanceTypes(hosts []hostRecords) []string {
	var out []string
	for _, h := range hosts {
		if !slices.Contains(out, h.host.InstanceType) {
			out = append(out, h.host.InstanceType)
		}
	}
	return out
}

// decide applies the agreement test to a set of hosts.
func decide(name, itype string, hosts []hostRecords, bound float64) Pool {
	p := Pool{Name: name, InstanceType: itype}
	for _, h := range hosts {
		p.Hosts = append(p.Hosts, h.host.Label)
	}
	if len(hosts) < 2 {
		p.Agree, p.Reason = len(hosts) == 1, "one host"
		if len(hosts) == 0 {
			p.Reason = "no host reported"
		}
		return p
	}
	arms, what := referenceArms(hosts)
	if len(arms) == 0 {
		p.Reason = "no arm ran on every host: nothing to compare the hosts by"
		return p
	}
	var problems []string
	widest := 0.0
	for _, arm := range arms {
		sp, problem := spread(arm, hosts, bound)
		p.Reference = append(p.Reference, sp)
		if problem != "" {
			problems = append(problems, problem)
		} else {
			widest = math.Max(widest, sp.SpreadPct.V)
		}
	}
	if len(problems) > 0 {
		p.Reason = strings.Join(problems, "; ")
		return p
	}
	p.Agree = true
	p.Reason = fmt.Sprintf("%s p50s within %.1f%% of each other across the hosts (bound %g%%)", what, widest, bound)
	return p
}

// referenceArms are the calibration arms when every host ran one, else
// every arm that ran on all the hosts.
func referenceArms(hosts []hostRecords) ([]string, string) {
	on := map[string]int{}
	cal := map[string]bool{}
	var order []string
	for _, h := range hosts {
		for _, sc := range h.host.Scenarios {
			if sc.N == 0 {
				continue
			}
			if on[sc.Name] == 0 {
				order = append(order, sc.Name)
			}
			on[sc.Name]++
			cal[sc.Name] = cal[sc.Name] || sc.Calibration
		}
	}
	var all, cals []string
	for _, a := range order {
		if on[a] == len(hosts) {
			all = append(all, a)
			if cal[a] {
				cals = append(cals, a)
			}
		}
	}
	if len(cals) > 0 {
		return cals, "the calibration workload's"
	}
	return all, "every arm's (no calibration workload in the suite)"
}

// spread measures one arm's p50 across the hosts; problem says why the arm
// breaks the agreement ("" when it does not).
func spread(arm string, hosts []hostRecords, bound float64) (ArmSpread, string) {
	sp := ArmSpread{Arm: arm}
	lo, hi := -1, -1
	var problem string
	for i, h := range hosts {
		sc := findArm(h.host.Scenarios, arm)
		hp := HostP50{Host: h.host.Label, P50: sc.ReadyMS.P50, OK: sc.OK}
		sp.P50 = append(sp.P50, hp)
		switch {
		case problem != "":
		case sc.OK < MinAgreeStarts:
			problem = fmt.Sprintf("only %d ok starts of %s on %s (fewer than %d): the hosts cannot be compared", sc.OK, arm, h.host.Label, MinAgreeStarts)
		case !hp.P50.Known:
			problem = fmt.Sprintf("the p50 of %s on %s is censored (%s): the hosts cannot be compared", arm, h.host.Label, describe(hp.P50))
		default:
			if lo < 0 || hp.P50.V < sp.P50[lo].P50.V {
				lo = i
			}
			if hi < 0 || hp.P50.V > sp.P50[hi].P50.V {
				hi = i
			}
		}
	}
	if problem != "" {
		return sp, problem
	}
	fast, slow := sp.P50[lo], sp.P50[hi]
	sp.SpreadPct = Num(round(100 * (slow.P50.V/fast.P50.V - 1)))
	if p := uTest(readySamples(hosts[lo].recs, arm), readySamples(hosts[hi].recs, arm)); !math.IsNaN(p) && !math.IsInf(p, 0) {
		sp.UTestP = Num(p)
	}
	if sp.SpreadPct.V > bound {
		return sp, fmt.Sprintf("%s p50 %s ms on %s vs %s ms on %s: +%.1f%% > %g%%",
			arm, fmtMS(slow.P50.V), slow.Host, fmtMS(fast.P50.V), fast.Host, sp.SpreadPct.V, bound)
	}
	return sp, ""
}

func findArm(scs []Scenario, arm string) Scenario {
	for _, sc := range scs {
		if sc.Name == arm {
			return sc
		}
	}
	return Scenario{Name: arm}
}

// readySamples are an arm's ok measured ready times.
func readySamples(recs []result.Record, arm string) []float64 {
	var out []float64
	for i := range recs {
		r := &recs[i]
		if r.Kind == result.KindMeasure && r.Outcome == result.OK && r.Arm() == arm && r.ReadyMS != nil {
			out = append(out, *r.ReadyMS)
		}
	}
	return out
}

func describe(v Value) string {
	if v.Censored {
		return fmt.Sprintf("> %s ms", fmtMS(v.Bound))
	}
	return "no value"
}

func fmtMS(v float64) string { return fmt.Sprintf("%.1f", v) }

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// MissingText lists missing starts compactly ("go-hello measure #2 #5 ...
// (9 more)"), at most max iterations in all.
func MissingText(ms []result.Missing, max int) string {
	if len(ms) == 0 {
		return "none"
	}
	var parts []string
	shown, more := 0, 0
	for _, m := range ms {
		var its []string
		for _, it := range m.Iterations {
			if shown >= max {
				more++
				continue
			}
			its = append(its, fmt.Sprintf("#%d", it))
			shown++
		}
		if len(its) > 0 {
			parts = append(parts, fmt.Sprintf("%s %s %s", m.Arm, m.Kind, strings.Join(its, " ")))
		}
	}
	s := strings.Join(parts, ", ")
	if more > 0 {
		s += fmt.Sprintf(" (%d more)", more)
	}
	return s
}

// perHostSLOs gives every "arm @host" row its arm's objectives.
func perHostSLOs(s *Summary, slos map[string]result.SLO) map[string]result.SLO {
	if !s.PerHost || len(slos) == 0 {
		return slos
	}
	out := map[string]result.SLO{}
	for _, sc := range s.Scenarios {
		arm := strings.TrimSuffix(sc.Name, " @"+sc.Host)
		if o, ok := slos[arm]; ok {
			out[sc.Name] = o
		}
	}
	return out
}

// withRequests names each arm's work request beside its serving figures:
// the run's rows, and a merged run's per-host and pooled rows ("arm @host"
// rows by their arm).
func withRequests(s *Summary, reqs map[string]string) {
	set := func(scs []Scenario) {
		for i := range scs {
			if sv := scs[i].Serving; sv != nil {
				sv.Request = reqs[strings.TrimSuffix(scs[i].Name, " @"+scs[i].Host)]
			}
		}
	}
	set(s.Scenarios)
	for i := range s.Hosts {
		set(s.Hosts[i].Scenarios)
	}
	for i := range s.Pools {
		set(s.Pools[i].Scenarios)
	}
}
