// Command cpucost measures the harness CPU (getrusage, user+sys) of each
// engine and cgroup call a start makes, in isolation, against one container.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/coldstart/coldstart/harness/cgroup"
	"github.com/coldstart/coldstart/harness/engine"
	"github.com/coldstart/coldstart/harness/probe"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func measure(name string, n int, f func()) {
	c0, t0 := cpu(), time.Now()
	for i := 0; i < n; i++ {
		f()
	}
	fmt.Printf("%-28s cpu %7.3f ms/op  wall %7.3f ms/op\n", name, float64(cpu()-c0)/float64(n)/1e6, float64(time.Since(t0))/float64(n)/1e6)
}

func main() {
	ctx := context.Background()
	d, err := engine.Dial(ctx, 5*time.Second)
	if err != nil {
		panic(err)
	}
	dir, _ := os.MkdirTemp("/tmp", "cc-")
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	spec := engine.ContainerSpec{Image: "coldstart/go-hello:latest", Labels: map[string]string{engine.LabelHarness: "1"},
		Binds: []string{dir + ":/run/app"}, CPUQuota: 10000, CPUPeriod: 100000, Memory: 128 << 20, MemorySwap: 128 << 20}
	id, err := d.Create(ctx, spec)
	if err != nil {
		panic(err)
	}
	defer d.Remove(ctx, id)
	d.Start(ctx, id)
	time.Sleep(500 * time.Millisecond)
	n := 200
	measure("inspect", n, func() { d.Inspect(ctx, id) })
	measure("ping", n, func() { d.Ping(ctx) })
	cg, _ := cgroup.New()
	path := cgroup.PathFor("cgroupfs", "", id)
	measure("cgroup open", n, func() { cg.Open(path) })
	g, _ := cg.Open(path)
	measure("cgroup sample", n, func() { g.Sample() })
	measure("cgroup enforced", n, func() { g.Enforced() })
	// Starts are hundreds of ms apart: give each background close its ~10 ms
	// (inotify instances are limited per user).
	measure("arm+close inotify (+12ms)", 50, func() { w, _ := probe.Arm(dir, "app.sock"); w.Close(); time.Sleep(12 * time.Millisecond) })
	measure("probe wait healthy (+12ms)", 50, func() {
		time.Sleep(12 * time.Millisecond)
		w, _ := probe.Arm(dir, "app.sock")
		w.Wait(ctx, time.Now().Add(time.Second), nil, probe.Request{Method: "GET", Path: "/", Status: 200, Timeout: time.Second})
		w.Close()
	})
	f, _ := os.Create(filepath.Join(dir, "j"))
	measure("write+fsync 1KB", n, func() { f.Write(make([]byte, 1024)); f.Sync() })
	f.Close()
	measure("create+remove container", 20, func() {
		s := spec
		s.Binds = nil
		i, err := d.Create(ctx, s)
		if err == nil {
			d.Remove(ctx, i)
		}
	})
}
