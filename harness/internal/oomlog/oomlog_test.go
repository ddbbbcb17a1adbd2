package oomlog

import (
	"os"
	"syscall"
	"testing"
	"time"
)

const id = "8c20e31d3c09d237c24e8e0fdb612c8da301be4ef0fb9935898048ee9564e677"

// Records as this host's kernel (6.18, cgroup v1, cgroupfs driver) wrote
// them for an OOM-killed container, with the lines around the summary.
var (
	invoked = "4,2301,176989407,-;app invoked oom-killer: gfp_mask=0x100cca(GFP_HIGHUSER_MOVABLE), order=0, oom_score_adj=0\n SUBSYSTEM=x\n"
	summary = "6,2330,176997778,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=" + id +
		",mems_allowed=0,oom_memcg=/docker/" + id + ",task_memcg=/docker/" + id + ",task=app,pid=7457,uid=0\n"
	killed = "3,2331,176997849,-;Memory cgroup out of memory: Killed process 7457 (app) total-vm:1395952kB, anon-rss:130304kB\n"
)

func TestParse(t *testing.T) {
	k, ok := Parse(summary)
	if !ok {
		t.Fatal("summary line not parsed")
	}
	want := Kill{Constraint: "CONSTRAINT_MEMCG", MemCG: "/docker/" + id, TaskMemCG: "/docker/" + id,
		Task: "app", PID: 7457, At: 176997778 * time.Microsecond}
	if k != want {
		t.Errorf("got %+v\nwant %+v", k, want)
	}
	for _, c := range []struct {
		name, rec string
		want      Kill
		ok        bool
	}{
		{"invoked", invoked, Kill{}, false},
		{"killed", killed, Kill{}, false},
		{"no prefix", "oom-kill:constraint=CONSTRAINT_MEMCG,task_memcg=/x,task=a,pid=1,uid=0", Kill{}, false},
		{"no task_memcg", "6,1,2,-;oom-kill:constraint=CONSTRAINT_MEMCG,task=a,pid=1,uid=0\n", Kill{}, false},
		// systemd driver on cgroup v2; a command name with commas and "pid=" in it.
		{"systemd", "6,9,10,-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=docker-" + id + ".scope,mems_allowed=0," +
			"oom_memcg=/system.slice/docker-" + id + ".scope,task_memcg=/system.slice/docker-" + id + ".scope,task=a,pid=2,b,pid=42,uid=0\n",
			Kill{Constraint: "CONSTRAINT_MEMCG", MemCG: "/system.slice/docker-" + id + ".scope",
				TaskMemCG: "/system.slice/docker-" + id + ".scope", Task: "a,pid=2,b", PID: 42, At: 10 * time.Microsecond}, true},
		// A machine out of memory: no oom_memcg, the victim's cgroup still named.
		{"global", "6,9,10,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/docker/" + id + ",task=app,pid=5,uid=0\n",
			Kill{Constraint: "CONSTRAINT_NONE", TaskMemCG: "/docker/" + id, Task: "app", PID: 5, At: 10 * time.Microsecond}, true},
	} {
		k, ok := Parse(c.rec)
		if ok != c.ok || k != c.want {
			t.Errorf("%s: got %+v %v, want %+v %v", c.name, k, ok, c.want, c.ok)
		}
	}
}

// reader hands out records one per read, as /dev/kmsg does, with the
// errors given in place of some.
func reader(recs ...any) func([]byte) (int, error) {
	return func(b []byte) (int, error) {
		if len(recs) == 0 {
			return 0, syscall.EAGAIN
		}
		r := recs[0]
		recs = recs[1:]
		if err, ok := r.(error); ok {
			return 0, err
		}
		return copy(b, r.(string)), nil
	}
}

func TestScan(t *testing.T) {
	other := "6,5,6,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/docker/other,task_memcg=/docker/other,task=x,pid=9,uid=0\n"
	k, found, err := scan(reader(invoked, syscall.EPIPE, summary, killed, other), id)
	if err != nil || !found || k.PID != 7457 {
		t.Errorf("got %+v %v %v, want the kill of pid 7457", k, found, err)
	}
	// The last of two kills in the same container is the one returned.
	second := "6,2400,180000000,-;oom-kill:constraint=CONSTRAINT_MEMCG,oom_memcg=/docker/" + id + ",task_memcg=/docker/" + id + ",task=app,pid=8000,uid=0\n"
	if k, found, _ = scan(reader(summary, second), id); !found || k.PID != 8000 {
		t.Errorf("got %+v %v, want the later kill (pid 8000)", k, found)
	}
	if _, found, err = scan(reader(invoked, other, killed), id); found || err != nil {
		t.Errorf("found %v err %v in a log without this container's kill", found, err)
	}
	if _, _, err = scan(reader(invoked, syscall.EACCES), id); err == nil {
		t.Error("a read error was not returned")
	}
}

// TestFindLive reads this machine's real kernel log: it must parse, and a
// container id no kernel has seen is not found.
func TestFindLive(t *testing.T) {
	if _, err := os.Stat(Device); err != nil {
		t.Skipf("no %s: %v", Device, err)
	}
	_, found, err := Find("0000000000000000000000000000000000000000000000000000000000000000")
	if err != nil {
		if os.Geteuid() != 0 {
			t.Skipf("kernel log not readable without CAP_SYSLOG: %v", err)
		}
		t.Fatal(err)
	}
	if found {
		t.Error("found a kill for a container id that never ran")
	}
	if _, _, err := Find(""); err == nil {
		t.Error("an empty id was accepted (it would match every kill)")
	}
}
