package cgroup

import (
	"fmt"
	"math"
	"strings"

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
	CPUShares               int64
}

// Compare puts each limit's request, inspect's claim and the cgroup's value
// side by side, as numbers. A limit the cgroup does not hold is NotEnforced
// and not OK; kernel_memory on kernels >= 5.x is the expected case. A limit
// that was not requested is OK whatever the cgroup holds, since nothing was
// asked (Docker itself sets memory+swap to twice the memory when only memory
// is set). pids gets a row only when requested.
//
// On cgroup v2 the memory_swap row notes the two files it adds up: Docker's
// MemorySwap is memory+swap, v2's memory.swap.max is swap alone. The
// kernel_memory row notes when v2 (no such limit) or the engine (which did
// not take it) is why it is not enforced.
func Compare(req scenario.Limits, observed Observed, enf Enforced) []result.Limit {
	swap := compareValue("memory_swap", result.UnitBytes, req.MemorySwap, observed.MemorySwap, enf.MemorySwap)
	kmem := compareValue("kernel_memory", result.UnitBytes, req.KernelMemory, observed.KernelMemory, enf.KernelMemory)
	if enf.CgroupVersion == 2 {
		swap.Note = fmt.Sprintf("cgroup v2: memory.max %s + memory.swap.max %s (swap alone)", formatV2(enf.Memory), formatV2(enf.Swap))
		if req.KernelMemory > 0 {
			kmem.Note = "cgroup v2 has no kernel-memory limit"
		}
	}
	if observed.KernelMemoryUnsupported != "" && req.KernelMemory != 0 {
		kmem.Observed = result.Amount{State: result.Unsupported}
		kmem.Note = strings.TrimPrefix(kmem.Note+"; "+observed.KernelMemoryUnsupported, "; ")
	}
	rows := []result.Limit{
		compareCPU(req, observed, enf),
		compareValue("memory", result.UnitBytes, req.Memory, observed.Memory, enf.Memory),
		swap,
		kmem,
	}
	if req.Pids != 0 {
		rows = append(rows, compareValue("pids", result.UnitCount, req.Pids, observed.Pids, enf.Pids))
	}
	if req.CPUShares != 0 {
		rows = append(rows, compareShares(req.CPUShares, observed.CPUShares, enf))
	}
	return rows
}

// compareShares compares the relative CPU weight: v1 holds the shares
// themselves (cpu.shares); v2 holds cpu.weight, which runc derives from the
// shares (1 + (shares − 2) × 9999 / 262142), so the row checks that.
func compareShares(req, obs int64, enf Enforced) result.Limit {
	l := compareValue("cpu_shares", result.UnitWeight, req, obs, enf.CPUShares)
	if enf.CgroupVersion == 2 {
		want := SharesToWeight(req)
		l.Enforced, l.OK = result.Amount{State: result.NotEnforced}, false
		if enf.CPUWeight != Unlimited {
			l.Enforced, l.OK = result.Of(enf.CPUWeight), enf.CPUWeight == want
		}
		l.Note = fmt.Sprintf("cgroup v2: cpu.weight, which runc derives from shares %d as %d", req, want)
	}
	return l
}

// SharesToWeight is runc's conversion of cpu.shares to v2's cpu.weight.
func SharesToWeight(shares int64) int64 {
	if shares == 0 {
		return 0
	}
	return 1 + ((shares-2)*9999)/262142
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
	return result.FormatBytes(n)
}

var unlimited = result.Amount{State: result.Unlimited}

func compareCPU(req scenario.Limits, obs Observed, enf Enforced) result.Limit {
	l := result.Limit{Name: "cpu", Unit: result.UnitCPU, Requested: result.Amount{State: result.Unset},
		Observed: unlimited, Enforced: unlimited, OK: true}
	quota, period := requestedCPU(req)
	if quota > 0 {
		l.Requested = result.CPU(quota, period)
	}
	switch {
	case obs.CPUQuota > 0:
		l.Observed = result.CPU(obs.CPUQuota, orDefault(obs.CPUPeriod, defaultCPUPeriod))
	case obs.NanoCPUs > 0:
		// --cpus: the engine turns it into a quota over the default period.
		l.Observed = result.CPU(obs.NanoCPUs*defaultCPUPeriod/1e9, defaultCPUPeriod)
	}
	switch {
	case enf.CPUQuota > 0:
		l.Enforced = result.CPU(enf.CPUQuota, enf.CPUPeriod)
	case quota > 0:
		l.Enforced = result.Amount{State: result.NotEnforced}
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
func compareValue(name string, u result.Unit, req, obs, enf int64) result.Limit {
	l := result.Limit{Name: name, Unit: u, Requested: result.Amount{State: result.Unset},
		Observed: unlimited, Enforced: unlimited, OK: true}
	switch {
	case req > 0:
		l.Requested = result.Of(req)
		l.OK = enf == req
	case req < 0:
		l.Requested = unlimited
		l.OK = enf == Unlimited
	}
	if obs > 0 {
		l.Observed = result.Of(obs)
	}
	switch {
	case enf != Unlimited:
		l.Enforced = result.Of(enf)
	case req > 0:
		l.Enforced = result.Amount{State: result.NotEnforced}
	}
	return l
}

func orDefault(v, def int64) int64 {
	if v > 0 {
		return v
	}
	return def
}
