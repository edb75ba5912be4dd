package dockertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// LabEnv names the lab script when it is not at ../shared/lab/engines
// beside the repository.
const LabEnv = "DOCKMAP_LAB"

// LabEngines is a lab of extra Docker engines on this machine, started by
// the shared lab script (../shared/lab/engines): each engine a host of its
// own in a network namespace. The machine's own engine is not touched.
type LabEngines struct {
	script string
	// Hosts are the engines' DOCKER_HOSTs, engine 1 first.
	Hosts []string
}

// Lab starts n lab engines (formed into a Swarm with swarm) and brings
// them down when the test ends. The lab's namespaces, bridge and
// addresses are machine-wide, so labs are taken one at a time across test
// processes (a file lock, held until the lab is down). When the lab
// cannot run here (no root, no dockerd, no script) the test is skipped,
// or fails when REQUIRE_DOCKER=1.
func Lab(t testing.TB, n int, swarm bool) *LabEngines {
	t.Helper()
	script, err := labScript()
	if err == nil && os.Geteuid() != 0 {
		err = errors.New("the lab needs root")
	}
	if err == nil {
		_, err = exec.LookPath("dockerd")
	}
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("lab of engines required (%s=1) but not usable: %v", RequireEnv, err)
		}
		t.Skipf("lab of engines not usable (set %s=1 to fail instead): %v", RequireEnv, err)
	}
	unlock, err := lockFile(filepath.Join(os.TempDir(), "dockmap-lab.lock"))
	if err != nil {
		t.Fatal(err)
	}
	l := &LabEngines{script: script}
	args := []string{"up", fmt.Sprint(n)}
	if swarm {
		args = append(args, "--swarm")
	}
	// Cleanups run last in, first out: down before the lock goes.
	t.Cleanup(unlock)
	t.Cleanup(func() {
		if out, err := l.run("down"); err != nil {
			t.Errorf("lab down: %v\n%s", err, out)
		}
	})
	if out, err := l.run(args...); err != nil {
		t.Fatalf("lab up %d: %v\n%s", n, err, out)
	}
	out, err := l.run("hosts")
	if err != nil {
		t.Fatalf("lab hosts: %v\n%s", err, out)
	}
	l.Hosts = strings.Fields(out)
	if len(l.Hosts) != n {
		t.Fatalf("lab hosts: %q, want %d", out, n)
	}
	return l
}

// Load copies images from the machine's engine into every lab engine
// (`engines load`): the lab has no registry, and its hosts are meant to
// pull nothing.
func (l *LabEngines) Load(t testing.TB, images ...string) {
	t.Helper()
	if out, err := l.run(append([]string{"load"}, images...)...); err != nil {
		t.Fatalf("lab load %v: %v\n%s", images, err, out)
	}
}

// Stop stops engine i's daemon (1-based); its host stays.
func (l *LabEngines) Stop(t testing.TB, i int) {
	t.Helper()
	if out, err := l.run("stop", fmt.Sprint(i)); err != nil {
		t.Fatalf("lab stop %d: %v\n%s", i, err, out)
	}
}

// Start starts engine i's daemon again and waits until it answers.
func (l *LabEngines) Start(t testing.TB, i int) {
	t.Helper()
	if out, err := l.run("start", fmt.Sprint(i)); err != nil {
		t.Fatalf("lab start %d: %v\n%s", i, err, out)
	}
}

func (l *LabEngines) run(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, l.script, args...).CombinedOutput()
	return string(out), err
}

// labScript finds the lab script: $DOCKMAP_LAB, or ../shared/lab/engines
// beside the repository (the directory holding go.mod, found by walking
// up from the test's package directory).
func labScript() (string, error) {
	if p := os.Getenv(LabEnv); p != "" {
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", "lab", "engines")
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("no lab script at %s (set %s)", p, LabEnv)
			}
			return p, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no go.mod above the test's directory to find the lab script from (set %s)", LabEnv)
		}
		dir = up
	}
}

// Cut takes host i off the lab network (1-based): a partition, its
// daemon still running and reachable through its socket.
func (l *LabEngines) Cut(t testing.TB, i int) {
	t.Helper()
	if out, err := l.run("cut", fmt.Sprint(i)); err != nil {
		t.Fatalf("lab cut %d: %v\n%s", i, err, out)
	}
}

// Mend puts host i back on the lab network.
func (l *LabEngines) Mend(t testing.TB, i int) {
	t.Helper()
	if out, err := l.run("mend", fmt.Sprint(i)); err != nil {
		t.Fatalf("lab mend %d: %v\n%s", i, err, out)
	}
}
