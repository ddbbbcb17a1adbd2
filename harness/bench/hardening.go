package bench

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/coldstart/coldstart/harness/cgroup"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// Every start's log goes to the engine's json-file driver with a size cap:
// an app that floods stdout fills at most logMaxSize x logMaxFiles of the
// engine's disk (its copying still costs the engine CPU outside the
// container's quota). An import profile (a few hundred KiB) fits.
const (
	logDriver   = "json-file"
	logMaxSize  = "2m"
	logMaxFiles = "2"
)

// What a failed start keeps of its log: the last lines, and of those at
// most the last bytes.
const (
	logTailLines = 30
	logTailBytes = 8 << 10
)

// noNewPrivileges is the security option every start gets: no process of
// the app gains privileges through a setuid binary or file capabilities.
// Dropping privileges (setuid to a worker user, as nginx does) still works.
const noNewPrivileges = "no-new-privileges:true"

// confinement is what the engine is asked for, beyond the resources, for
// every start of sc: the default for all (no-new-privileges, the capped
// log) and what the scenario's profile adds.
func confinement(sc *scenario.Scenario) engine.Confinement {
	sec := sc.Security
	c := engine.Confinement{
		SecurityOpt:    []string{noNewPrivileges},
		CapAdd:         sec.CapAdd,
		ReadOnlyRootfs: sec.ReadOnlyRoot,
		Tmpfs:          sec.Tmpfs,
		NoFile:         sec.NoFile,
		LogType:        logDriver,
		LogOpts:        map[string]string{"max-size": logMaxSize, "max-file": logMaxFiles},
	}
	if sec.CapDropAll {
		c.CapDrop = []string{"ALL"}
	}
	return c
}

// observation is what inspect said about a container beyond its state.
type observation struct {
	limits cgroup.Observed
	conf   engine.Confinement
	user   string
	have   bool // inspect answered
}

// hardening puts each setting side by side: requested (the scenario),
// observed (inspect, or the scenario's first inspect), enforced (the
// container's process, when it was read; the socket base as opened).
func hardening(sc *scenario.Scenario, obs observation, proc *cgroup.Process, socketMount string) *result.Hardening {
	req := confinement(sc)
	h := &result.Hardening{Profile: sc.Security.Profile}
	add := func(name, requested, observed, enforced string, ok bool) {
		if !obs.have {
			observed = ""
		}
		h.Settings = append(h.Settings, result.Setting{Name: name, Requested: requested, Observed: observed, Enforced: enforced, OK: ok})
	}
	yes := map[bool]string{true: "yes", false: "no"}
	enforced := func(f func(p *cgroup.Process) string) string {
		if proc == nil {
			return ""
		}
		return f(proc)
	}
	check := func(requested, observed, enforced string) bool {
		if enforced != "" {
			return enforced == requested
		}
		return obs.have && observed == requested
	}

	o := yes[slices.ContainsFunc(obs.conf.SecurityOpt, func(s string) bool { return strings.HasPrefix(s, "no-new-privileges") })]
	e := enforced(func(p *cgroup.Process) string { return yes[p.NoNewPrivs] })
	add(result.SetNoNewPrivileges, "yes", o, e, check("yes", o, e))

	r, o := capsText(req), capsText(obs.conf)
	e = enforced(func(p *cgroup.Process) string { return capNames(p.CapBnd) })
	add(result.SetCapabilities, r, o, e, capsOK(req, e, o == r && obs.have))

	r, o = yes[req.ReadOnlyRootfs], yes[obs.conf.ReadOnlyRootfs]
	e = enforced(func(p *cgroup.Process) string { return yes[p.RootReadOnly] })
	add(result.SetReadOnlyRoot, r, o, e, check(r, o, e))

	r, o = tmpfsText(req.Tmpfs), tmpfsText(obs.conf.Tmpfs)
	e = enforced(func(p *cgroup.Process) string { return tmpfsSeen(req.Tmpfs, p.Tmpfs) })
	add(result.SetTmpfs, r, o, e, e == "" && o == r && obs.have || e != "" && !strings.Contains(e, "missing"))

	r, o = noFileText(req.NoFile), noFileText(obs.conf.NoFile)
	e = enforced(func(p *cgroup.Process) string { return limitPair(p.NoFileSoft, p.NoFileHard) })
	add(result.SetNoFile, r, o, e, req.NoFile == 0 || e == limitPair(req.NoFile, req.NoFile) || e == "" && o == r)

	r, o = userText(sc.User), userText(obs.user)
	e = enforced(func(p *cgroup.Process) string { return fmt.Sprintf("uid %d gid %d", p.UID, p.GID) })
	add(result.SetUser, r, o, e, userOK(sc.User, proc))

	r, o = logText(req), logText(obs.conf)
	add(result.SetLog, r, o, "", obs.have && o == r)

	const wantMount = "tmpfs nosuid,nodev,noexec"
	h.Settings = append(h.Settings, result.Setting{Name: result.SetSocketDir, Requested: wantMount,
		Enforced: socketMount, OK: strings.HasPrefix(socketMount, wantMount)})
	return h
}

// capsText describes a capability request as the engine takes it.
func capsText(c engine.Confinement) string {
	s := "engine default"
	if slices.ContainsFunc(c.CapDrop, func(x string) bool { return strings.EqualFold(x, "ALL") }) {
		s = "none"
	}
	if len(c.CapAdd) > 0 {
		s += " + " + strings.Join(c.CapAdd, ",")
	}
	return s
}

// capNames lists a capability set as names, "none" when empty.
func capNames(mask uint64) string {
	n := scenario.CapabilityNames(mask)
	if len(n) == 0 {
		return "none"
	}
	return strings.Join(n, ",")
}

// capsOK: with every capability dropped, the bounding set is exactly the
// ones added back; otherwise it holds at least those. Unread: inspect agrees.
func capsOK(req engine.Confinement, enforced string, observedOK bool) bool {
	if enforced == "" {
		return observedOK
	}
	have := map[string]bool{}
	if enforced != "none" {
		for _, c := range strings.Split(enforced, ",") {
			have[c] = true
		}
	}
	for _, c := range req.CapAdd {
		if !have[c] {
			return false
		}
	}
	if slices.Contains(req.CapDrop, "ALL") {
		return len(have) == len(req.CapAdd)
	}
	return true
}

func tmpfsText(m map[string]string) string {
	if len(m) == 0 {
		return "none"
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+" "+m[k])
	}
	return strings.Join(parts, "; ")
}

// tmpfsSeen says, for each requested tmpfs, whether the container has one
// there (with the kernel's options), "" when none was requested.
func tmpfsSeen(want, have map[string]string) string {
	if len(want) == 0 {
		return ""
	}
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if opts, ok := have[k]; ok {
			parts = append(parts, k+" tmpfs "+opts)
		} else {
			parts = append(parts, k+" missing")
		}
	}
	return strings.Join(parts, "; ")
}

func noFileText(n int64) string {
	if n <= 0 {
		return "engine default"
	}
	return limitPair(n, n)
}

func limitPair(soft, hard int64) string {
	f := func(v int64) string {
		if v < 0 {
			return "unlimited"
		}
		return strconv.FormatInt(v, 10)
	}
	return f(soft) + "/" + f(hard)
}

func userText(u string) string {
	if u == "" {
		return "image default"
	}
	return u
}

// userOK: a numeric request must be what the process runs as; a name
// cannot be resolved from the host and passes.
func userOK(requested string, p *cgroup.Process) bool {
	if p == nil || requested == "" {
		return true
	}
	u, g, hasG := strings.Cut(requested, ":")
	if uid, err := strconv.Atoi(u); err == nil && uid != p.UID {
		return false
	}
	if gid, err := strconv.Atoi(g); hasG && err == nil && gid != p.GID {
		return false
	}
	return true
}

func logText(c engine.Confinement) string {
	if c.LogType == "" {
		return "engine default"
	}
	s := c.LogType
	for _, k := range slices.Sorted(maps.Keys(c.LogOpts)) {
		s += " " + k + "=" + c.LogOpts[k]
	}
	return s
}
