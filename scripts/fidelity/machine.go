package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// mono reads CLOCK_MONOTONIC, the clock go-hello stamps listen() with
// (containers share it with the host).
func mono() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return ts.Nano()
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

type machineInfo struct {
	CPU        string `json:"cpu"`
	Cores      int    `json:"cores"`
	Kernel     string `json:"kernel"`
	Engine     string `json:"engine"`
	Containerd string `json:"containerd"`
	Runc       string `json:"runc"`
	Cgroup     string `json:"cgroup"`
	DockerCLI  string `json:"docker_cli"`
	Go         string `json:"go"`
	Curl       string `json:"curl"`
}

func machine(docker string) machineInfo {
	m := machineInfo{Cores: runtime.NumCPU(), Go: runtime.Version(), CPU: cpuModel()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	q := func(args ...string) string {
		out, _ := exec.Command(docker, args...).Output()
		return strings.TrimSpace(string(out))
	}
	m.Engine = q("version", "--format", "{{.Server.Version}} (API {{.Server.APIVersion}})")
	m.DockerCLI = q("version", "--format", "{{.Client.Version}}")
	var comps []struct{ Name, Version string }
	json.Unmarshal([]byte(q("version", "--format", "{{json .Server.Components}}")), &comps)
	for _, c := range comps {
		switch c.Name {
		case "containerd":
			m.Containerd = c.Version
		case "runc":
			m.Runc = c.Version
		}
	}
	m.Cgroup = q("info", "--format", "v{{.CgroupVersion}} {{.CgroupDriver}}")
	if out, err := exec.Command("curl", "--version").Output(); err == nil {
		m.Curl = strings.SplitN(string(out), "\n", 2)[0]
		if f := strings.Fields(m.Curl); len(f) > 1 {
			m.Curl = f[1]
		}
	}
	return m
}

func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("run from inside the coldstart module")
	}
	return filepath.Dir(mod), nil
}

// buildRelease builds the binary as README.md ships it and returns its size.
func buildRelease(dst string, stderr io.Writer) (int64, error) {
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", dst, "./harness/cmd/coldstart")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("release build: %w", err)
	}
	fi, err := os.Stat(dst)
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

// binary identifies a coldstart binary: two builds may print the same version.
type binary struct {
	Path    string `json:"path"`
	Version string `json:"version"` // `coldstart version`
	SHA256  string `json:"sha256"`
}

// identify runs `bin version` and hashes the file; the binary must run.
func identify(bin string) (binary, error) {
	b := binary{Path: bin}
	v, err := exec.Command(bin, "version").Output()
	if err != nil {
		return b, fmt.Errorf("%s version: %w", bin, err)
	}
	b.Version = strings.TrimSpace(string(v))
	f, err := os.Open(bin)
	if err != nil {
		return b, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return b, err
	}
	b.SHA256 = hex.EncodeToString(h.Sum(nil))
	return b, nil
}
