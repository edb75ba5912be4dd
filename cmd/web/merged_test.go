package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// labClient is a client of lab engine host, closed when the test ends.
func labClient(t testing.TB, host string) *docker.Client {
	t.Helper()
	dc, err := docker.New(docker.WithHost(host))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	return dc
}

// inspectOn is what engine dc says of a container.
func inspectOn(t *testing.T, dc *docker.Client, id string) topology.ContainerInfo {
	t.Helper()
	inv, err := dc.ListInventory(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range inv.Containers {
		if c.ID == id {
			return topology.ContainerInfo{ID: c.ID, Name: c.Name, State: c.State}
		}
	}
	t.Fatalf("engine %s has no container %s", dc.Host(), id)
	return topology.ContainerInfo{}
}

// TestMergedMapOfTheLab: with two lab engines beside the local one, one
// map holds all three engines' containers and networks, each carrying its
// engine; a container named like another engine's is no conflict; an
// action, a plan and a probe on a lab container go to its engine; a
// request naming two engines' containers, or an unknown engine, is
// refused with what is wrong and changes nothing.
func TestMergedMapOfTheLab(t *testing.T) {
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	lab := dockertest.Lab(t, 2, false)
	lab.Load(t, image)
	base, _, _ := launch(t, nil, nil, "--addr", "127.0.0.1:0", "--operator-token", opToken,
		"--engine", "lab1="+lab.Hosts[0], "--engine", "lab2="+lab.Hosts[1])
	lab1, lab2 := labClient(t, lab.Hosts[0]), labClient(t, lab.Hosts[1])
	prefix := randomPrefix(t)
	name := prefix + "web"

	// The same name on lab1, on lab2 and on the local engine: each
	// engine's own, made through the one API.
	run := func(engine, name string) string {
		t.Helper()
		var out struct{ ID string }
		path := "/api/containers"
		if engine != "" {
			path += "?engine=" + engine
		}
		if st := apiAs(t, base, "POST", path, map[string]any{"name": name, "image": image, "cmd": []string{"sleep", "3600"}}, &out); st != http.StatusCreated {
			t.Fatalf("run %s on %q: HTTP %d", name, engine, st)
		}
		return out.ID
	}
	// The lab's containers go with the lab.
	onLab1, onLab2 := run("lab1", name), run("lab2", name)
	onLocal := run("", name)
	t.Cleanup(func() { _ = c.RemoveContainer(context.Background(), onLocal, true) })
	if got := inspectOn(t, lab1, onLab1); got.Name != name || got.State != "running" {
		t.Errorf("lab1 has %+v, want %s running", got, name)
	}
	inspectOn(t, lab2, onLab2)
	if got := inspectOn(t, c, onLocal); got.Name != name {
		t.Errorf("the local engine has %+v, want %s", got, name)
	}

	// One map: every node and edge carries its engine; a lab's IDs end in
	// @name and its containers sit on its own bridge.
	var g topology.Snapshot
	waitUntil(t, "the three containers on one map", func() (bool, string) {
		apiAs(t, base, "GET", "/api/graph", nil, &g)
		_, a := g.Node(topology.ContainerNodeID(onLab1 + "@lab1"))
		_, b := g.Node(topology.ContainerNodeID(onLab2 + "@lab2"))
		_, l := g.Node(topology.ContainerNodeID(onLocal))
		return a && b && l, fmt.Sprintf("%d nodes", len(g.Nodes))
	})
	for _, n := range g.Nodes {
		if n.Engine == "" {
			t.Errorf("node %s carries no engine", n.ID)
		}
		if want := strings.HasSuffix(string(n.ID), "@"+n.Engine); want != (n.Engine != "local") {
			t.Errorf("node %s of engine %s: the ID should end in @engine exactly when the engine is not the default", n.ID, n.Engine)
		}
		if n.Host != n.Engine {
			t.Errorf("node %s of engine %s is drawn in host %q", n.ID, n.Engine, n.Host)
		}
	}
	for _, e := range g.Edges {
		if e.Engine == "" {
			t.Errorf("edge %s carries no engine", e.ID)
		}
		from, _ := g.Node(e.From)
		to, _ := g.Node(e.To)
		if from.Engine != e.Engine || to.Engine != e.Engine {
			t.Errorf("edge %s of %s joins %s (%s) to %s (%s)", e.ID, e.Engine, e.From, from.Engine, e.To, to.Engine)
		}
	}
	member := g.EdgesOf(topology.ContainerNodeID(onLab1 + "@lab1"))
	if len(member) != 1 || member[0].Kind != topology.EdgeMember || member[0].Member.NetworkName != "bridge" {
		t.Fatalf("lab1's container's edges = %+v, want one membership of lab1's bridge", member)
	}
	if bridge, _ := g.Node(member[0].To); bridge.Engine != "lab1" {
		t.Errorf("lab1's container is on %s of engine %q, want lab1's own bridge", bridge.ID, bridge.Engine)
	}

	// A probe on lab1 runs there, by lab1's addresses, and its result
	// names the containers as the map does.
	peer := run("lab1", prefix+"db")
	var pr struct {
		Results []struct {
			From, To, Target string
			OK               bool
		}
	}
	if st := apiAs(t, base, "POST", "/api/probes", map[string]any{"from": onLab1 + "@lab1", "to": peer + "@lab1", "by": "ip"}, &pr); st != http.StatusOK {
		t.Fatalf("probe on lab1: HTTP %d", st)
	}
	if len(pr.Results) != 1 || !pr.Results[0].OK || pr.Results[0].From != onLab1+"@lab1" || pr.Results[0].To != peer+"@lab1" {
		t.Errorf("probe on lab1 = %+v, want one green result between the two @lab1 containers", pr.Results)
	}

	// Stop on lab1: lab1's container stops, the local one of the same
	// name does not.
	if st := apiAs(t, base, "POST", "/api/containers/"+onLab1+"@lab1/stop", nil, &struct{}{}); st != http.StatusOK {
		t.Fatalf("stop on lab1: HTTP %d", st)
	}
	if got := inspectOn(t, lab1, onLab1); got.State == "running" {
		t.Errorf("lab1's %s is %s after stop, want stopped", name, got.State)
	}
	if got := inspectOn(t, c, onLocal); got.State != "running" {
		t.Errorf("the local %s is %s after lab1's was stopped, want running", name, got.State)
	}
	// The map has it when the answer comes, as for the local engine.
	apiAs(t, base, "GET", "/api/graph", nil, &g)
	if n, _ := g.Node(topology.ContainerNodeID(onLab1 + "@lab1")); n.Container == nil || n.Container.State == "running" {
		t.Errorf("the map shows lab1's %s as %+v right after the stop answered", name, n.Container)
	}

	// Two engines in one request, an engine nobody named: refused, with
	// why, and nothing changes.
	var e apiErr
	if st := apiErrAs(t, base, "POST", "/api/links", map[string]any{"from": onLab1 + "@lab1", "to": onLab2 + "@lab2", "alias": "db"}, &e); st != http.StatusBadRequest ||
		!strings.Contains(e.Detail, "lab1 and lab2") {
		t.Errorf("a link across engines: HTTP %d %q, want 400 naming both engines", st, e.Detail)
	}
	if st := apiErrAs(t, base, "POST", "/api/containers?engine=nope", map[string]any{"name": prefix + "x", "image": image}, &e); st != http.StatusBadRequest ||
		!strings.Contains(e.Detail, `"nope"`) {
		t.Errorf("run on engine nope: HTTP %d %q, want 400 naming it", st, e.Detail)
	}
	for _, dc := range []*docker.Client{lab1, lab2} {
		inv, err := dc.ListInventory(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, ct := range inv.Containers {
			if ct.Name == prefix+"x" {
				t.Errorf("engine %s has %s after the refused run", dc.Host(), ct.Name)
			}
		}
	}
}

// apiErr is an error answer's body.
type apiErr struct {
	Error, Detail string
}

// apiErrAs sends a request as an operator and decodes the answer's
// error words.
func apiErrAs(t *testing.T, base, method, path string, body any, out *apiErr) int {
	t.Helper()
	*out = apiErr{}
	return apiAny(t, base, method, path, body, out)
}

// apiAny sends a request as an operator and decodes the answer, whatever
// its status (apiAs decodes successes only): an error's words, a plan
// that waits for a confirm.
func apiAny(t *testing.T, base, method, path string, body any, out any) int {
	t.Helper()
	data, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, base+path, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+opToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 3 * waitTimeout}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	_ = json.NewDecoder(resp.Body).Decode(out)
	return resp.StatusCode
}
