package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/coldstart/coldstart/harness/probe"
)

// loopFile holds the loop's records, one JSON line per start, in the output
// directory.
const loopFile = "loop.jsonl"

// loopRecord is one start of the hand-written loop (not a harness record:
// the loop measures other things).
type loopRecord struct {
	Row       string  `json:"row"`
	Batch     int     `json:"batch"`
	OK        bool    `json:"ok"`
	Error     string  `json:"error,omitempty"`
	RunMS     float64 `json:"run_ms"`     // t0 -> `docker run -d` exited
	ReadyMS   float64 `json:"ready_ms"`   // t0 -> the curl that answered exited
	LagMS     float64 `json:"lag_ms"`     // that instant minus listen_mono_ns
	ProbeMS   float64 `json:"probe_ms"`   // that instant minus answer_mono_ns: the detector alone
	ListenMS  float64 `json:"listen_ms"`  // listen_mono_ns - t0
	Attempts  int     `json:"attempts"`   // curl executions
	CurlMS    float64 `json:"curl_ms"`    // the answering curl's exec, start to exit
	RemoveMS  float64 `json:"remove_ms"`  // `docker rm -f` exec
	FirstCurl bool    `json:"first_curl"` // the first curl already answered
}

// loop runs the hand-written loop's starts of one fidelity run.
type loop struct {
	c     *config
	runID string
	base  string // the socket dirs' parent
	seq   int
}

// start is the hand-written loop, one start:
//
//	t0 = CLOCK_MONOTONIC
//	docker run -d --label io.coldstart.harness=1 --label io.coldstart.fidelity=ID
//	    --cpu-quota Q --cpu-period 100000 -m 128m --memory-swap 128m
//	    --network none -v DIR:/run/app IMAGE
//	repeat: curl -s --max-time 1 --unix-socket DIR/app.sock http://x/
//	        t = CLOCK_MONOTONIC right after curl exits
//	        answered "ok listen_mono_ns=N"? done: ready = t - t0, lag = t - N
//	        else sleep 5 ms (until t0 + 3 s)
//	docker rm -f <id>
func (l *loop) start(ctx context.Context, r row, batch int) (rec loopRecord) {
	rec = loopRecord{Row: r.Name, Batch: batch}
	seq := l.seq
	l.seq++
	dir := filepath.Join(l.base, strconv.Itoa(seq))
	os.RemoveAll(dir)
	if err := os.Mkdir(dir, 0o777); err != nil {
		rec.Error = err.Error()
		return rec
	}
	os.Chmod(dir, 0o777)
	defer os.RemoveAll(dir)
	name := fmt.Sprintf("csfid-%s-%d", l.runID, seq)
	args := []string{"run", "-d", "--name", name,
		"--label", "io.coldstart.harness=1", "--label", "io.coldstart.fidelity=" + l.runID,
		"--cpu-quota", strconv.FormatInt(r.Quota, 10), "--cpu-period", strconv.Itoa(period),
		"-m", "128m", "--memory-swap", "128m", "--network", "none",
		"-v", dir + ":/run/app", l.c.image}

	t0 := mono()
	out, err := exec.Command(l.c.docker, args...).Output()
	rec.RunMS = ms(mono() - t0)
	if id := strings.TrimSpace(string(out)); id != "" {
		name = id
	}
	defer func() {
		tr := mono()
		exec.Command(l.c.docker, "rm", "-f", name).Run()
		rec.RemoveMS = ms(mono() - tr)
	}()
	if err != nil {
		rec.Error = "docker run: " + errText(err)
		return rec
	}
	l.poll(ctx, filepath.Join(dir, "app.sock"), t0, &rec)
	return rec
}

// poll runs curl until the app answers with its listen stamp, the deadline
// passes or ctx ends.
func (l *loop) poll(ctx context.Context, sock string, t0 int64, rec *loopRecord) {
	curlArgs := []string{"-s", "--max-time", fmt.Sprintf("%.3f", l.c.curlTimeout.Seconds()),
		"--unix-socket", sock, "http://x/"}
	deadline := t0 + l.c.deadline.Nanoseconds()
	for ctx.Err() == nil {
		rec.Attempts++
		tc := mono()
		body, err := exec.Command(l.c.curl, curlArgs...).Output()
		t := mono()
		if err == nil {
			if stamp, ok := listenStamp(string(body)); ok {
				rec.OK = true
				rec.ReadyMS = ms(t - t0)
				rec.LagMS = ms(t - stamp)
				if a, ok := probe.AnswerStamp(string(body)); ok {
					rec.ProbeMS = ms(t - a)
				}
				rec.ListenMS = ms(stamp - t0)
				rec.FirstCurl = rec.Attempts == 1
				rec.CurlMS = ms(t - tc)
				return
			}
		}
		if t >= deadline {
			rec.Error = "no answer within " + l.c.deadline.String()
			return
		}
		time.Sleep(l.c.poll)
	}
	rec.Error = "interrupted"
}

func errText(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return strings.TrimSpace(string(ee.Stderr))
	}
	return err.Error()
}

// listenStamp is the app's listen stamp, from an answer that says "ok" (the
// same parsing as the harness's, so both detectors read the same stamp).
func listenStamp(body string) (int64, bool) {
	if !strings.HasPrefix(body, "ok") {
		return 0, false
	}
	return probe.ListenStamp(body)
}

// sweep force-removes whatever containers of this run are left (a start
// interrupted between `docker run` and `docker rm`).
func sweep(docker, runID string) {
	out, err := exec.Command(docker, "ps", "-aq", "--filter", "label=io.coldstart.fidelity="+runID).Output()
	if err != nil {
		return
	}
	ids := strings.Fields(string(out))
	if len(ids) > 0 {
		exec.Command(docker, append([]string{"rm", "-f"}, ids...)...).Run()
	}
}

// readLoop reads loop.jsonl; every line must be a record.
func readLoop(path string) ([]loopRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []loopRecord
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var r loopRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		out = append(out, r)
	}
	return out, sc.Err()
}
