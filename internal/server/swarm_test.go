package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/server"
	"github.com/dockmap/dockmap/internal/topology"
)

// fakeSwarm answers Swarm as an engine would.
type fakeSwarm struct {
	st  docker.SwarmState
	err error
}

func (f fakeSwarm) Swarm(context.Context) (docker.SwarmState, error) { return f.st, f.err }

// TestSwarmRoute: GET /api/swarm answers for the engine named (local by
// default): a manager's Swarm, {active:false} for an engine in none, 404
// naming an engine dockmap lacks, 409 for a worker naming the engine that
// is its manager, or the manager's address when dockmap lacks it; 503
// naming an engine that does not answer. Viewers may ask, strangers not.
func TestSwarmRoute(t *testing.T) {
	manager := docker.SwarmState{
		Active: true, LocalState: "active", ID: "swarm1", NodeID: "n1",
		Nodes:    []docker.SwarmNode{{ID: "n1", Hostname: "lab1", Role: "manager", Availability: "active", State: "ready", Addr: "10.213.0.11", Leader: true, EngineVersion: "20.10.24"}},
		Services: []docker.SwarmService{},
		Tasks:    []docker.SwarmTask{},
		Networks: []docker.SwarmNetwork{{ID: "ing", Name: "ingress", Driver: "overlay", Scope: "swarm", Ingress: true}},
	}
	workerOf := func(id, addr string) fakeSwarm {
		return fakeSwarm{err: &docker.SwarmWorkerError{NodeID: "n2", Managers: []docker.SwarmPeer{{NodeID: id, Addr: addr}}}}
	}
	readers := map[string]server.SwarmReader{
		engines.Local: fakeSwarm{st: docker.SwarmState{LocalState: "inactive"}},
		"lab1":        fakeSwarm{st: manager},
		"lab2":        workerOf("n1", "10.213.0.11:2377"),
		"lab3":        workerOf("elsewhere", "10.9.9.9:2377"),
		"gone":        fakeSwarm{err: topology.ErrEngineUnreachable},
	}
	var specs []engines.Spec
	for _, n := range []string{engines.Local, "lab1", "lab2", "lab3", "gone"} {
		specs = append(specs, engines.Spec{Name: n, Host: "unix:///" + n})
	}
	reg := engines.NewRegistry(specs, nil, time.Now())
	s := startAuthed(t, func(d *server.Deps) {
		d.Engines = reg
		d.EngineClients = func(name string) (server.SwarmReader, bool) {
			r, ok := readers[name]
			return r, ok
		}
	})
	view := map[string]string{"Authorization": "Bearer " + s.view}

	if got := send(t, noFollow, "GET", s.URL+"/api/swarm?engine=lab1", nil, ""); got.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/swarm without a credential = %d, want 401", got.StatusCode)
	}

	got := send(t, noFollow, "GET", s.URL+"/api/swarm?engine=lab1", view, "")
	var st docker.SwarmState
	if err := json.Unmarshal([]byte(got.Body), &st); err != nil || got.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/swarm?engine=lab1 = %d %s", got.StatusCode, got.Body)
	}
	if !st.Active || st.ID != "swarm1" || len(st.Nodes) != 1 || st.Nodes[0].Hostname != "lab1" || !st.Nodes[0].Leader || len(st.Networks) != 1 {
		t.Errorf("GET /api/swarm?engine=lab1 = %s", got.Body)
	}
	// An active Swarm's empty lists are [], not missing.
	if !strings.Contains(got.Body, `"services":[]`) || !strings.Contains(got.Body, `"tasks":[]`) {
		t.Errorf("GET /api/swarm?engine=lab1 = %s, want services and tasks []", got.Body)
	}

	for _, q := range []string{"", "?engine=local"} {
		got = send(t, noFollow, "GET", s.URL+"/api/swarm"+q, view, "")
		if got.StatusCode != http.StatusOK || strings.TrimSpace(got.Body) != `{"active":false,"localState":"inactive"}` {
			t.Errorf("GET /api/swarm%s = %d %s, want the local engine in no Swarm", q, got.StatusCode, got.Body)
		}
	}

	cases := []struct {
		engine string
		status int
		detail string
	}{
		{"nope", http.StatusNotFound, `no engine named "nope"`},
		{"lab2", http.StatusConflict, "engine lab2 is a Swarm worker: its manager lab1 knows the Swarm"},
		{"lab3", http.StatusConflict, "engine lab3 is a Swarm worker: its manager at 10.9.9.9:2377 knows the Swarm"},
		{"gone", http.StatusServiceUnavailable, "engine gone: engine unreachable"},
	}
	for _, c := range cases {
		got := send(t, noFollow, "GET", s.URL+"/api/swarm?engine="+c.engine, view, "")
		var body struct{ Detail string }
		_ = json.Unmarshal([]byte(got.Body), &body)
		if got.StatusCode != c.status || !strings.HasPrefix(body.Detail, c.detail) {
			t.Errorf("GET /api/swarm?engine=%s = %d %s, want %d %q", c.engine, got.StatusCode, got.Body, c.status, c.detail)
		}
	}

	// A replay has no engine: every name is unknown.
	none := startAuthed(t)
	if got := send(t, noFollow, "GET", none.URL+"/api/swarm", map[string]string{"Authorization": "Bearer " + none.view}, ""); got.StatusCode != http.StatusNotFound {
		t.Errorf("GET /api/swarm with no engines = %d %s, want 404", got.StatusCode, got.Body)
	}
}
