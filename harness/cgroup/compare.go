package cgroup

import (
	"fmt"
	"math"
	"strconv"

	"github.com/coldstart/coldstart/harness/result"
	"github.com/coldstart/coldstart/harness/scenario"
)

// defaultCPUPeriod is the kernel's CFS period, which Docker uses for --cpus
// and whenever a quota comes without a period.
const defaultCPUPeriod = 100000

// Observed are the limits docker inspect reports (HostConfig). Zero or -1
// means the engine set none.
type Observed struct {
	CPUQuota, CPUPeriod, NanoCPUs int64
	Memory, MemorySwap            int64
	KernelMemory                  int64
	Pids                          int64
	// KernelMemoryUnsupported, when set, says why the engine never took a
	// kernel-memory limit (API >= 1.42 dropped the field; an older engine on
	// a cgroup v2 host discards it): inspect's zero then means "not taken",
	// not "unlimited".
	KernelMemoryUnsupported string
}

// Compare puts each limit's request, inspect's claim and the cgroup's value
// side by side. A limit the cgroup does not hold reads "not enforced" and is
// not OK; kernel_memory on kernels >= 5.x is the expected case. A limit that
// was not requested is OK whatever the cgroup holds, since nothing was asked
// (Docker itself sets memory+swap to twice the memory when only memory is set).
// pids gets a row only when requested.
//
// On cgroup v2 the memory_swap row names the two files it adds up: Docker's
// MemorySwap is memory+swap, v2's memory.swap.max is swap alone. The
// kernel_memory row says when v2 (no such limit) or the engine (which did not
// take it) is why it is not enforced.
func Compare(req scenario.Limits, observed Observed, enf Enforced) []result.Limit {
	swap := compareValue("memory_swap", req.MemorySwap, observed.MemorySwap, enf.MemorySwap, formatBytes)
	kmem := compareValue("kernel_memory", req.KernelMemory, observed.KernelMemory, enf.KernelMemory, formatBytes)
	if enf.CgroupVersion == 2 {
		swap.Enforced = fmt.Sprintf("%s (memory.max %s + memory.swap.max %s)",
			formatLimit(enf.MemorySwap), formatV2(enf.Memory), formatV2(enf.Swap))
		if req.KernelMemory > 0 {
			kmem.Enforced = "not enforced (cgroup v2 has no kernel-memory limit)"
		}
	}
	if observed.KernelMemoryUnsupported != "" && req.KernelMemory != 0 {
		kmem.Observed = observed.KernelMemoryUnsupported
	}
	rows := []result.Limit{
		compareCPU(req, observed, enf),
		compareValue("memory", req.Memory, observed.Memory, enf.Memory, formatBytes),
		swap,
		kmem,
	}
	if req.Pids != 0 {
		rows = append(rows, compareValue("pids", req.Pids, observed.Pids, enf.Pids, formatCount))
	}
	return rows
}

// formatLimit is a byte limit or "unlimited".
func formatLimit(n int64) string {
	if n == Unlimited {
		return "unlimited"
	}
	return formatBytes(n)
}

// formatV2 writes a byte limit as a v2 file spells "no limit" ("max"); an
// absent file (no swap accounting) reads as max too.
func formatV2(n int64) string {
	switch n {
	case Unlimited:
		return "max"
	case 0:
		return "0"
	}
	return formatBytes(n)
}

func compareCPU(req scenario.Limits, obs Observed, enf Enforced) result.Limit {
	l := result.Limit{Name: "cpu", Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true}
	quota, period := requestedCPU(req)
	if quota > 0 {
		l.Requested = formatCPU(quota, period)
	}
	switch {
	case obs.CPUQuota > 0:
		l.Observed = formatCPU(obs.CPUQuota, orDefault(obs.CPUPeriod, defaultCPUPeriod))
	case obs.NanoCPUs > 0:
		l.Observed = fmt.Sprintf("%s CPU (nano_cpus %d)", formatCPUs(float64(obs.NanoCPUs)/1e9), obs.NanoCPUs)
	}
	switch {
	case enf.CPUQuota > 0:
		l.Enforced = formatCPU(enf.CPUQuota, enf.CPUPeriod)
	case quota > 0:
		l.Enforced = "not enforced"
	}
	if quota > 0 {
		// The period matters as much as the ratio: 1000/10000 and
		// 10000/100000 are both 10% but throttle in different steps.
		l.OK = enf.CPUQuota == quota && enf.CPUPeriod == period
	}
	return l
}

// requestedCPU is the (quota, period) the suite asked for; a bare CPU count
// becomes a quota over the period, as Docker does for --cpus.
func requestedCPU(req scenario.Limits) (quota, period int64) {
	period = orDefault(req.CPUPeriod, defaultCPUPeriod)
	switch {
	case req.CPUQuota > 0:
		return req.CPUQuota, period
	case req.CPUs > 0:
		return int64(math.Round(req.CPUs * float64(period))), period
	}
	return 0, 0
}

// compareValue compares a single-number limit where the request uses 0 for
// unset and -1 for explicitly unlimited.
func compareValue(name string, req, obs, enf int64, format func(int64) string) result.Limit {
	l := result.Limit{Name: name, Requested: "unset", Observed: "unlimited", Enforced: "unlimited", OK: true}
	switch {
	case req > 0:
		l.Requested = format(req)
		l.OK = enf == req
	case req < 0:
		l.Requested = "unlimited"
		l.OK = enf == Unlimited
	}
	if obs > 0 {
		l.Observed = format(obs)
	}
	switch {
	case enf != Unlimited:
		l.Enforced = format(enf)
	case req > 0:
		l.Enforced = "not enforced"
	}
	return l
}

func orDefault(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}

// formatCPU renders a CFS pair, e.g. "0.10 CPU (10000/100000 us)".
func formatCPU(quota, period int64) string {
	if period <= 0 {
		return fmt.Sprintf("quota %d us, no period", quota)
	}
	return fmt.Sprintf("%s CPU (%d/%d us)", formatCPUs(float64(quota)/float64(period)), quota, period)
}

// formatCPUs uses two decimals unless that would hide a difference
// (0.125 must not read as 0.12).
func formatCPUs(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	if p, _ := strconv.ParseFloat(s, 64); p != v {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return s
}

// formatBytes is exact: a whole number of the largest binary unit that
// divides the value, else MiB with the byte count (page rounding shows).
func formatBytes(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	if n >= 1<<20 {
		return fmt.Sprintf("%.2f MiB (%d bytes)", float64(n)/(1<<20), n)
	}
	return fmt.Sprintf("%d bytes", n)
}

func formatCount(n int64) string { return strconv.FormatInt(n, 10) }
