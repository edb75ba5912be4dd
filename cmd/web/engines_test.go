package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestEngineFlags: a bad --engine or --context stops the start with an
// error naming the engine, before anything connects.
func TestEngineFlags(t *testing.T) {
	env := envOf(map[string]string{"DOCKER_CONFIG": t.TempDir()})
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--engine", "lab1"}, "--engine lab1: want NAME=DOCKER_HOST"},
		{[]string{"--engine", "=unix:///x.sock"}, "empty engine name"},
		{[]string{"--engine", "Lab_1=unix:///x.sock"}, `engine name "Lab_1"`},
		{[]string{"--engine", "lab1=ftp://h:21"}, "engine lab1: daemon address \"ftp://h:21\": unknown scheme ftp://"},
		{[]string{"--engine", "lab1=tcp://"}, "engine lab1"},
		{[]string{"--engine", "local=unix:///x.sock"}, `engine "local" is the default engine already`},
		{[]string{"--engine", "a=unix:///x.sock", "--engine", "a=unix:///y.sock"}, `engine "a" is --engine a=unix:///x.sock already`},
		{[]string{"--context", "nope"}, `engine nope: no docker context "nope"`},
		{[]string{"--replay", "x", "--engine", "a=unix:///x.sock"}, "--replay"},
	} {
		_, err := parseFlags(append([]string{"dockmap"}, c.args...), env, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: err = %v, want one saying %q", c.args, err, c.want)
		}
	}
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("# the class\nalice=unix:///a.sock\nbob unix:///b.sock\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := parseFlags([]string{"dockmap", "--engines-file", bad}, env, io.Discard); err == nil || !strings.Contains(err.Error(), bad+":3") {
		t.Errorf("a bad line in --engines-file: %v, want its line number", err)
	}
	good := filepath.Join(dir, "good")
	if err := os.WriteFile(good, []byte("# the class\n\nalice=unix:///a.sock\nbob=tcp://10.0.0.2:2376\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := parseFlags([]string{"dockmap", "--engine", "lab9=unix:///c.sock", "--engines-file", good}, env, io.Discard)
	if err != nil || len(cfg.engines) != 3 || cfg.engines[1].Name != "alice" || cfg.engines[2].Host != "tcp://10.0.0.2:2376" {
		t.Errorf("--engines-file: %+v, %v; want lab9, alice and bob", cfg.engines, err)
	}
	cfg, err = parseFlags([]string{"dockmap", "--engine", "lab1=unix:///a.sock", "--engine", "lab2=ssh://me@h:2222"}, env, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.engines) != 2 || cfg.engines[0].Name != "lab1" || cfg.engines[1].Host != "ssh://me@h:2222" {
		t.Errorf("engines = %+v, want lab1 and lab2 in order", cfg.engines)
	}
}

// TestEnginesOfTheLab: dockmap connects to two lab engines besides the
// local one (one by --engine, one by --context), each with its own state; one stopped never holds up the
// local map, and comes back by itself.
func TestEnginesOfTheLab(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	lab := dockertest.Lab(t, 2, false)
	// lab2 comes from a docker CLI context, as `docker context create
	// lab2 --docker host=...` would leave it.
	config := t.TempDir()
	writeCLIContext(t, config, "lab2", lab.Hosts[1])
	base, _, _ := launch(t, map[string]string{"DOCKER_CONFIG": config}, nil, "--addr", "127.0.0.1:0",
		"--engine", "lab1="+lab.Hosts[0], "--context", "lab2")

	list := func() []engines.State {
		var l []engines.State
		getJSONInto(t, base+"/api/engines", &l)
		return l
	}
	state := func(l []engines.State, name string) engines.State {
		for _, s := range l {
			if s.Name == name {
				return s
			}
		}
		return engines.State{}
	}
	waitUntil(t, "local, lab1 and lab2 connected, in that order, with versions", func() (bool, string) {
		l := list()
		ok := len(l) == 3 && l[0].Name == "local" && l[1].Name == "lab1" && l[2].Name == "lab2"
		for _, s := range l {
			ok = ok && s.Connected && s.Version != "" && s.Error == ""
		}
		return ok, fmt.Sprintf("%+v", l)
	})
	if got := state(list(), "lab2").Host; got != lab.Hosts[1] {
		t.Errorf("lab2's host = %q, want %q", got, lab.Hosts[1])
	}

	frames := engineFrames(t, base)
	lab.Stop(t, 2)
	waitUntil(t, "lab2 disconnected with an error", func() (bool, string) {
		s := state(list(), "lab2")
		return !s.Connected && s.Error != "" && s.Version == "", fmt.Sprintf("%+v", s)
	})
	if s := state(list(), "lab1"); !s.Connected {
		t.Errorf("lab1 = %+v while lab2 is down, want connected", s)
	}
	waitFrame(t, frames, "an engines frame with lab2 down", func(l []engines.State) bool {
		s := state(l, "lab2")
		return len(l) == 3 && !s.Connected && s.Error != ""
	})

	// The local map keeps following its engine while lab2 is down.
	start := time.Now()
	id := dockertest.RunContainer(t, c)
	node := topology.ContainerNodeID(id)
	waitUntil(t, "the new local container in /api/graph", func() (bool, string) {
		var g topology.Snapshot
		getJSONInto(t, base+"/api/graph", &g)
		_, ok := g.Node(node)
		return ok, fmt.Sprintf("%d nodes", len(g.Nodes))
	})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the local map took %s to show a new container while lab2 was down", d)
	}

	lab.Start(t, 2)
	waitUntil(t, "lab2 connected again", func() (bool, string) {
		s := state(list(), "lab2")
		return s.Connected && s.Version != "" && s.Error == "", fmt.Sprintf("%+v", s)
	})
	waitFrame(t, frames, "an engines frame with lab2 back", func(l []engines.State) bool {
		return state(l, "lab2").Connected
	})
}

// writeCLIContext writes a docker CLI context of that name and host in
// the store under config (internal/engines reads the layout).
func writeCLIContext(t *testing.T, config, name, host string) {
	t.Helper()
	sum := sha256.Sum256([]byte(name))
	dir := filepath.Join(config, "contexts", "meta", hex.EncodeToString(sum[:]))
	meta := fmt.Sprintf(`{"Name":%q,"Metadata":{},"Endpoints":{"docker":{"Host":%q,"SkipTLSVerify":false}}}`, name, host)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta.json"), []byte(meta), 0o644); err != nil {
		t.Fatal(err)
	}
}

// getJSONInto decodes what GET url answers (200 only) into v.
func getJSONInto(t testing.TB, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %s %s", url, resp.Status, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// waitUntil polls cond until it holds, or fails the test after
// waitTimeout with cond's last word.
func waitUntil(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	waitWithin(t, waitTimeout, what, cond)
}

// waitWithin polls cond until it holds, or fails after d with cond's last
// word.
func waitWithin(t testing.TB, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s; last: %s", d, what, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// engineFrames follows /live and passes on the engines frames it gets.
func engineFrames(t *testing.T, base string) <-chan []engines.State {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/live", http.Header{"Origin": {base}})
	if err != nil {
		t.Fatalf("dial /live: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	ch := make(chan []engines.State, 64)
	go func() {
		defer close(ch)
		for {
			var f struct {
				Type    string          `json:"type"`
				Engines []engines.State `json:"engines"`
			}
			if err := ws.ReadJSON(&f); err != nil {
				return
			}
			if f.Type == "engines" {
				ch <- f.Engines
			}
		}
	}()
	return ch
}

// waitFrame waits for an engines frame that satisfies ok.
func waitFrame(t *testing.T, ch <-chan []engines.State, what string, ok func([]engines.State) bool) {
	t.Helper()
	timeout := time.After(waitTimeout)
	for {
		select {
		case l, open := <-ch:
			if !open {
				t.Fatalf("/live closed before %s", what)
			}
			if ok(l) {
				return
			}
		case <-timeout:
			t.Fatalf("no %s within %s", what, waitTimeout)
		}
	}
}

// TestBrowserEnginesPill: with two lab engines the header counts three
// engines; one stopped turns the count amber and its title says why; it
// comes back by itself.
func TestBrowserEnginesPill(t *testing.T) {
	lab := dockertest.Lab(t, 2, false)
	base, _, _ := launch(t, nil, nil, "--addr", "127.0.0.1:0",
		"--engine", "lab1="+lab.Hosts[0], "--engine", "lab2="+lab.Hosts[1])
	// The browser last: its cleanup, which fails on the page's errors,
	// runs before dockmap stops.
	b := newBrowser(t)
	openMap(t, b, base)
	const pill = `document.querySelector('[data-testid=engines]')`
	waitJS(t, b, pill+`.textContent === '3/3' && !`+pill+`.hidden && !`+pill+`.classList.contains('some-down')`, waitTimeout)
	markPage(t, b)

	lab.Stop(t, 2)
	waitJS(t, b, pill+`.textContent === '2/3' && `+pill+`.classList.contains('some-down')`, waitTimeout)
	if title := mustEval[string](t, b, pill+`.title`); !strings.Contains(title, "lab2: unreachable: ") || !strings.Contains(title, "lab1: connected · Docker ") {
		t.Errorf("pill title = %q, want lab2 unreachable with why and lab1 connected", title)
	}
	// The local engine's own badge is not the stopped engine's.
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=engine-badge]').dataset.connected`); got != "true" {
		t.Errorf("local engine badge connected = %s while lab2 is down, want true", got)
	}

	lab.Start(t, 2)
	waitJS(t, b, pill+`.textContent === '3/3' && !`+pill+`.classList.contains('some-down')`, waitTimeout)
	checkNotReloaded(t, b, "after lab2 came back")
}

// TestBrowserEnginesPillHiddenWithOneEngine: the local engine alone
// shows no count (its badge says it all).
func TestBrowserEnginesPillHiddenWithOneEngine(t *testing.T) {
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	if !mustEval[bool](t, b, `document.querySelector('[data-testid=engines]').hidden`) {
		t.Error("engines count shown with the local engine alone")
	}
}

// TestEngineThatHangsHoldsUpNobody: an engine that accepts connections
// and never answers leaves the local map live and GET /api/engines
// prompt.
func TestEngineThatHangsHoldsUpNobody(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	sock := filepath.Join(t.TempDir(), "hang.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, conn) // read nothing, answer nothing
			mu.Unlock()
		}
	}()
	base, _, stop := launch(t, nil, nil, "--addr", "127.0.0.1:0", "--engine", "stuck=unix://"+sock)
	// dockmap first, then the socket: its loop must end on its own.
	t.Cleanup(func() {
		_ = stop()
		ln.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range held {
			c.Close()
		}
	})
	waitUntil(t, "the stuck engine dialled", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(held) > 0, "no connection yet"
	})

	start := time.Now()
	id := dockertest.RunContainer(t, c)
	waitUntil(t, "the new local container in /api/graph", func() (bool, string) {
		var g topology.Snapshot
		getJSONInto(t, base+"/api/graph", &g)
		_, ok := g.Node(topology.ContainerNodeID(id))
		return ok, fmt.Sprintf("%d nodes", len(g.Nodes))
	})
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("the local map took %s to show a new container beside a stuck engine", d)
	}
	var l []engines.State
	getJSONInto(t, base+"/api/engines", &l)
	if len(l) != 2 || !l[0].Connected || l[1].Name != "stuck" || l[1].Connected {
		t.Errorf("GET /api/engines = %+v, want local connected and stuck not", l)
	}
}
