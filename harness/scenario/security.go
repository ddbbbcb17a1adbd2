package scenario

import (
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Capabilities are the Linux capability names (without CAP_) in bit order:
// the name at index i is bit i of a /proc/PID/status capability mask.
var Capabilities = []string{
	"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
	"SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
	"IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
	"SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
	"LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
	"WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
}

// CapabilityNames decodes a capability mask into names, in bit order; bits
// past the known names show as CAP_<bit>.
func CapabilityNames(mask uint64) []string {
	var out []string
	for bit := 0; bit < 64; bit++ {
		if mask&(1<<bit) == 0 {
			continue
		}
		if bit < len(Capabilities) {
			out = append(out, Capabilities[bit])
		} else {
			out = append(out, "CAP_"+strconv.Itoa(bit))
		}
	}
	return out
}

var securityKeys = []string{"profile", "cap_add"}

// securitySpec is a security mapping as written.
type securitySpec struct {
	profile opt[string]
	capAdd  opt[[]string]
}

func (p *parser) security(n *yaml.Node, field string) securitySpec {
	var s securitySpec
	entries, _ := p.mapping(n, field)
	for _, e := range entries {
		f := join(field, e.key)
		switch e.key {
		case "profile":
			o := p.str(e.v, f)
			if o.set && !slices.Contains(Profiles, o.v) {
				p.errorf(e.v, f, "want %s, got %s", strings.Join(Profiles, " or "), quote(o.v))
				continue
			}
			s.profile = o
		case "cap_add":
			s.capAdd = p.caps(e.v, f)
		default:
			p.unknown(e, field, securityKeys, nil)
		}
	}
	return s
}

// caps reads a list of capability names as docker takes them (CAP_ prefix
// optional, any case) and keeps them upper case without the prefix.
func (p *parser) caps(n *yaml.Node, field string) opt[[]string] {
	l := p.list(n, field, false)
	if !l.set {
		return l
	}
	out, ok := make([]string, 0, len(l.v)), true
	for i, c := range l.v {
		name := strings.TrimPrefix(strings.ToUpper(c), "CAP_")
		item := n
		if n.Kind == yaml.SequenceNode && i < len(n.Content) {
			item = n.Content[i]
		}
		switch {
		case name == "ALL":
			p.errorf(item, index(field, i), "ALL would undo the profile; name the capabilities the app needs")
			ok = false
		case !slices.Contains(Capabilities, name):
			p.errorf(item, index(field, i), "unknown capability %s", quote(c))
			ok = false
		case !slices.Contains(out, name):
			out = append(out, name)
		}
	}
	if !ok {
		return opt[[]string]{}
	}
	return some(out, n, field)
}

// mergeSecurity resolves a scenario's profile (its own, else the
// defaults', else ProfileDefault) into the settings it stands for.
func mergeSecurity(d, c *securitySpec) Security {
	s := Security{Profile: or(c.profile, d.profile).get(ProfileDefault), CapAdd: or(c.capAdd, d.capAdd).v}
	if s.Profile == ProfileFn {
		s.ReadOnlyRoot, s.CapDropAll, s.NoFile = true, true, FnNoFile
		s.Tmpfs = map[string]string{tmpfsTarget: FnTmpfs}
	}
	return s
}

// profilePids is the pids limit of a profile, for a suite that sets none.
func profilePids(profile string) int64 {
	if profile == ProfileFn {
		return FnPids
	}
	return DefaultPids
}
