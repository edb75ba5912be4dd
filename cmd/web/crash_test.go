package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// The crash tests run dockmap as a separate process, built as a user
// builds it (static) plus the dockmaptest tag, which lets a test pause a
// re-create before one of its steps; there the process is killed with
// SIGKILL, as a crash or an OOM kill would, and another dockmap, started
// on the same engine, must find the re-create left half-way and roll it
// back to the very container it was, with its files.

// crashBin is the dockmaptest build, made once per test binary.
var crashBin struct {
	once sync.Once
	path string
	err  error
}

func crashBinary(t *testing.T) string {
	t.Helper()
	crashBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "dockmap-crash")
		if err != nil {
			crashBin.err = err
			return
		}
		bin := filepath.Join(dir, "dockmap")
		cmd := exec.Command("go", "build", "-tags", "dockmaptest", "-trimpath", "-o", bin, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			crashBin.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		crashBin.path = bin
	})
	if crashBin.err != nil {
		t.Fatalf("build the crash-test dockmap: %v", crashBin.err)
	}
	// The dockmaps under test make their helper image (for the leases
	// that journal re-creates) from this binary: it goes with the test,
	// after the containers made from it.
	t.Cleanup(func() {
		data, err := os.ReadFile(crashBin.path)
		if err != nil {
			return
		}
		sum := sha256.Sum256(data)
		ref := docker.ProbeRepo + ":" + hex.EncodeToString(sum[:])[:12]
		_ = exec.Command("docker", "image", "rm", ref).Run()
	})
	return crashBin.path
}

// proc is a dockmap process.
type proc struct {
	cmd  *exec.Cmd
	base string
	mu   sync.Mutex
	out  bytes.Buffer
	seen chan struct{} // closed and replaced on every line
	done chan struct{}
}

// startProc starts the crash-test dockmap on a free loopback port with
// extra environment, and waits until it serves.
func startProc(t *testing.T, env ...string) *proc {
	t.Helper()
	return startBinary(t, crashBinary(t), env...)
}

// startBinary starts the dockmap binary bin on a free loopback port with
// extra environment, and waits until it serves.
func startBinary(t testing.TB, bin string, env ...string) *proc {
	t.Helper()
	p := &proc{seen: make(chan struct{}), done: make(chan struct{})}
	p.cmd = exec.Command(bin, "--addr", "127.0.0.1:0")
	p.cmd.Env = append(os.Environ(), env...)
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.cmd.Stderr = p.cmd.Stdout
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start dockmap: %v", err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.out.WriteString(sc.Text() + "\n")
			close(p.seen)
			p.seen = make(chan struct{})
			p.mu.Unlock()
		}
		_ = p.cmd.Wait()
	}()
	t.Cleanup(func() {
		p.kill()
		if t.Failed() {
			t.Logf("dockmap %s printed:\n%s", p.base, p.output())
		}
	})
	line := p.waitFor(t, "serving http://")
	p.base = strings.Fields(line[strings.Index(line, "http://"):])[0]
	waitForReady(t, nil, p.base+"/healthz")
	return p
}

func (p *proc) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// waitFor waits until the process has printed a line containing s, and
// returns it.
func (p *proc) waitFor(t testing.TB, s string) string {
	t.Helper()
	deadline := time.After(waitTimeout)
	for {
		p.mu.Lock()
		for _, l := range strings.Split(p.out.String(), "\n") {
			if strings.Contains(l, s) {
				p.mu.Unlock()
				return l
			}
		}
		seen := p.seen
		p.mu.Unlock()
		select {
		case <-seen:
		case <-p.done:
			t.Fatalf("dockmap exited before printing %q", s)
		case <-deadline:
			t.Fatalf("dockmap did not print %q within %v", s, waitTimeout)
		}
	}
}

// kill ends the process with SIGKILL and waits for it.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// api calls the process's JSON API.
func (p *proc) api(t testing.TB, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Origin", p.base)
	resp, err := (&http.Client{Timeout: 2 * time.Minute}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode
}

// jobState is the state GET /api/jobs gives the job, or "".
func (p *proc) jobState(t *testing.T, id string) string {
	t.Helper()
	var list struct {
		Jobs []struct{ ID, State string }
	}
	if st := p.api(t, "GET", "/api/jobs", nil, &list); st != http.StatusOK {
		t.Fatalf("GET /api/jobs = %d", st)
	}
	for _, j := range list.Jobs {
		if j.ID == id {
			return j.State
		}
	}
	return ""
}

// leftover is one entry of GET /api/recreate/leftovers.
type leftover struct {
	ID         string `json:"id"`
	Job        string `json:"job"`
	Elsewhere  bool   `json:"elsewhere"`
	Containers []struct {
		OldID        string `json:"oldID"`
		OldName      string `json:"oldName"`
		OriginalName string `json:"originalName"`
		NewID        string `json:"newID"`
	} `json:"containers"`
}

// leftoverOf returns the leftover of the re-create of container id, as p
// sees it.
func (p *proc) leftoverOf(t *testing.T, id string) (leftover, bool) {
	t.Helper()
	var los []leftover
	if st := p.api(t, "GET", "/api/recreate/leftovers", nil, &los); st != http.StatusOK {
		t.Fatalf("GET leftovers = %d", st)
	}
	for _, lo := range los {
		for _, c := range lo.Containers {
			if c.OldID == id {
				return lo, true
			}
		}
	}
	return leftover{}, false
}

// crashScene is a container with a file in its writable layer, a file in a
// volume, and two networks (so a re-create has a connect step), whose
// main process stops at SIGTERM unless stubborn.
type crashScene struct {
	c             *docker.Client
	id, name, net string
	vol, extra    string
	wantLayer     string
}

func newCrashScene(t *testing.T, stubborn bool) *crashScene {
	t.Helper()
	// First, so that its cleanup (the helper image) runs after the
	// containers made from it are gone.
	crashBinary(t)
	c := dockertest.Client(t)
	s := &crashScene{c: c, name: dockertest.UniqueName(t, "svc")}
	s.net = dockertest.UniqueName(t, "net")
	netID := dockertest.CreateNetwork(t, c, s.net)
	s.vol = dockertest.CreateVolume(t, c, "")
	s.extra = dockertest.CreateVolume(t, c, "")
	cmd := []string{"sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"}
	if stubborn {
		cmd = []string{"sh", "-c", "trap '' TERM; while true; do sleep 1; done"}
	}
	s.id = dockertest.RunContainer(t, c, dockertest.WithName(s.name), dockertest.WithCmd(cmd...),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: s.vol, Target: "/data"}))
	if err := c.ConnectNetwork(t.Context(), netID, s.id, []string{"svc-alias"}); err != nil {
		t.Fatal(err)
	}
	s.wantLayer = "layer of " + s.id[:12]
	// A test that fails half-way leaves a new container under the name,
	// or a journal: they go too.
	t.Cleanup(func() { s.sweep(t) })
	for _, cmd := range [][]string{{"sh", "-c", "echo '" + s.wantLayer + "' > /root/layer.txt"}, {"sh", "-c", "echo volume > /data/vol.txt"}} {
		if res, err := c.Exec(t.Context(), s.id, cmd, ""); err != nil || res.ExitCode != 0 {
			t.Fatalf("exec %v: %+v %v", cmd, res, err)
		}
	}
	return s
}

// sweep removes what a re-create of the scene may have left: a container
// holding its name other than the original (removed by the dockertest
// cleanup), and journals that name the original.
func (s *crashScene) sweep(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, _ := exec.CommandContext(ctx, "docker", "ps", "-aq", "--no-trunc", "--filter", "name=^/"+s.name+"$",
		"--filter", "label="+docker.JournalLabel).Output()
	ids := strings.Fields(string(out))
	named, _ := exec.CommandContext(ctx, "docker", "ps", "-aq", "--no-trunc", "--filter", "name=^/"+s.name+"$").Output()
	for _, id := range strings.Fields(string(named)) {
		if id != s.id {
			ids = append(ids, id)
		}
	}
	journals, _ := exec.CommandContext(ctx, "docker", "ps", "-aq", "--no-trunc", "--filter", "label="+docker.JournalLabel).Output()
	for _, id := range strings.Fields(string(journals)) {
		rec, _ := exec.CommandContext(ctx, "docker", "inspect", "--format", "{{index .Config.Labels \""+docker.JournalLabel+"\"}}", id).Output()
		if strings.Contains(string(rec), s.id) {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		_ = exec.CommandContext(ctx, "docker", append([]string{"rm", "-f"}, ids...)...).Run()
	}
}

// mountJob asks p to mount the extra volume into the scene's container,
// which re-creates it, and returns the job's ID.
func (s *crashScene) mountJob(t *testing.T, p *proc) string {
	t.Helper()
	var res struct {
		Job    string `json:"job"`
		Detail string `json:"detail"`
	}
	st := p.api(t, "POST", "/api/containers/"+s.name+"/mounts", map[string]any{"volume": s.extra, "target": "/extra", "confirm": true}, &res)
	if st != http.StatusAccepted || res.Job == "" {
		t.Fatalf("POST mounts = %d %+v, want 202 with a job", st, res)
	}
	return res.Job
}

// checkBack checks that the scene's container is the original again: its
// ID under its name, running, on both networks with its alias, with its
// writable-layer file and its volume's file, and nothing left over.
func (s *crashScene) checkBack(t *testing.T) {
	t.Helper()
	ctx := t.Context()
	var info struct {
		ID    string
		State struct{ Running bool }
	}
	out, err := exec.CommandContext(ctx, "docker", "inspect", "--format", "{{json .}}", s.name).Output()
	if err != nil {
		t.Fatalf("inspect %s: %v", s.name, err)
	}
	_ = json.Unmarshal(out, &info)
	if info.ID != s.id || !info.State.Running {
		t.Fatalf("%s is %.12s running=%v after the rollback, want the original %.12s running", s.name, info.ID, info.State.Running, s.id)
	}
	nets, _ := exec.CommandContext(ctx, "docker", "inspect", "--format", "{{range $n, $e := .NetworkSettings.Networks}}{{$n}}={{join $e.Aliases \",\"}} {{end}}", s.id).Output()
	if got := string(nets); !strings.Contains(got, "bridge=") || !strings.Contains(got, s.net+"=") || !strings.Contains(got, "svc-alias") {
		t.Errorf("%s networks after the rollback: %s; want bridge and %s with the alias svc-alias", s.name, got, s.net)
	}
	for file, want := range map[string]string{"/root/layer.txt": s.wantLayer, "/data/vol.txt": "volume"} {
		res, err := s.c.Exec(ctx, s.id, []string{"cat", file}, "")
		if err != nil || strings.TrimSpace(res.Stdout) != want {
			t.Errorf("cat %s = %q %v, want %q", file, res.Stdout, err, want)
		}
	}
	inv, err := s.c.ListInventory(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ct := range inv.Containers {
		if orig, ok := topology.LeftoverName(ct.Name); ok && orig == s.name {
			t.Errorf("%s is left over", ct.Name)
		}
	}
}

// interrupted waits until p reports the scene's re-create as interrupted:
// its journal's lease has ended (the engine closes the lease's input when
// the killed dockmap's connection goes, a moment after the kill).
func (s *crashScene) interrupted(t *testing.T, p *proc) leftover {
	t.Helper()
	var lo leftover
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		var ok bool
		lo, ok = p.leftoverOf(t, s.id)
		return ok && !lo.Elsewhere, fmt.Sprintf("leftover of %s: %+v (found %v)", s.name, lo, ok)
	})
	return lo
}

// rollBack finds, through p, the leftover of the scene's re-create, rolls
// it back, and checks the container.
func (s *crashScene) rollBack(t *testing.T, p *proc) {
	t.Helper()
	lo := s.interrupted(t, p)
	// The same re-create is a job of the one list, interrupted.
	if st := p.jobState(t, lo.Job); st != "interrupted" {
		t.Errorf("GET /api/jobs has the job %s as %q, want interrupted", lo.Job, st)
	}
	if st := p.api(t, "POST", "/api/recreate/leftovers/"+lo.ID+"/rollback", map[string]any{}, nil); st != http.StatusNoContent {
		t.Fatalf("rollback = %d", st)
	}
	s.checkBack(t)
	if lo, ok := p.leftoverOf(t, s.id); ok {
		t.Errorf("leftover still listed after the rollback: %+v", lo)
	}
}

// TestCrashAtEveryStep kills dockmap (SIGKILL) before each step of a
// re-create, and during the stop of a container that ignores SIGTERM: a
// dockmap started afterwards reports the re-create as interrupted, and
// Roll back brings back the original with its files.
func TestCrashAtEveryStep(t *testing.T) {
	steps := []string{"stop", "rename", "disconnect", "create", "connect", "start", "verify", "remove old"}
	for _, step := range steps {
		t.Run(strings.ReplaceAll(step, " ", "-"), func(t *testing.T) {
			s := newCrashScene(t, false)
			pause := step
			if step == "connect" {
				pause = "connect " + s.net
			}
			a := startProc(t, "DOCKMAP_TEST_PAUSE_BEFORE="+pause)
			s.mountJob(t, a)
			a.waitFor(t, "paused before "+pause)
			a.kill()

			s.interrupted(t, startProc(t))
			// A dockmap started now finds it and says so in its log.
			b := startProc(t)
			b.waitFor(t, "a re-create was interrupted: roll it back or finish it from the page\" container="+s.name)
			s.rollBack(t, b)
		})
	}
	t.Run("during-stop", func(t *testing.T) {
		s := newCrashScene(t, true)
		a := startProc(t)
		jobID := s.mountJob(t, a)
		// The stop waits (the main process ignores SIGTERM) and says so.
		dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
			var j struct {
				Steps []struct {
					Step, State string
					Actions     []string
				}
			}
			a.api(t, "GET", "/api/jobs/"+jobID, nil, &j)
			for _, st := range j.Steps {
				if st.Step == "r0.stop" && st.State == "running" && slices.Contains(st.Actions, "kill") {
					return true, ""
				}
			}
			return false, fmt.Sprintf("steps %+v", j.Steps)
		})
		a.kill()
		b := startProc(t)
		s.rollBack(t, b)
	})
}

// TestTwoDockmapsOneEngine: a re-create that one dockmap is carrying out is
// never offered for roll back by another on the same engine, until the
// first is gone.
func TestTwoDockmapsOneEngine(t *testing.T) {
	s := newCrashScene(t, false)
	a := startProc(t, "DOCKMAP_TEST_PAUSE_BEFORE=create")
	s.mountJob(t, a)
	a.waitFor(t, "paused before create")

	b := startProc(t)
	lo, ok := b.leftoverOf(t, s.id)
	if !ok || !lo.Elsewhere {
		t.Fatalf("the second dockmap sees %+v (found %v), want the re-create as carried out elsewhere", lo, ok)
	}
	var refusal struct{ Detail string }
	if st := b.api(t, "POST", "/api/recreate/leftovers/"+lo.ID+"/rollback", map[string]any{}, &refusal); st != http.StatusConflict {
		t.Errorf("rollback of another dockmap's running re-create = %d %s, want 409", st, refusal.Detail)
	}
	if st := b.api(t, "POST", "/api/recreate/leftovers/"+lo.ID+"/finish", map[string]any{}, nil); st != http.StatusConflict {
		t.Errorf("finish of another dockmap's running re-create = %d, want 409", st)
	}
	if st := b.jobState(t, lo.Job); st != "elsewhere" {
		t.Errorf("GET /api/jobs has the job %s as %q, want elsewhere", lo.Job, st)
	}
	if st := b.api(t, "POST", "/api/jobs/"+lo.Job+"/rollback", map[string]any{}, nil); st != http.StatusConflict {
		t.Errorf("rollback of the job through /api/jobs = %d, want 409", st)
	}
	b.waitFor(t, "another dockmap is re-creating a container on this engine\" container="+s.name)

	// The first one dies: its lease ends, and the re-create is left over.
	a.kill()
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		lo, ok := b.leftoverOf(t, s.id)
		return ok && !lo.Elsewhere, fmt.Sprintf("leftover %+v found %v", lo, ok)
	})
	s.rollBack(t, b)
}
