package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/server"
	"github.com/dockmap/dockmap/internal/topology"
)

// getJSON decodes a GET's answer into T.
func getJSON[T any](t *testing.T, url string) (int, T) {
	t.Helper()
	var v T
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp.StatusCode, v
}

type lessonAnswer struct {
	ID    string             `json:"id"`
	Steps []lesson.StepState `json:"steps"`
}

func stepStates(a lessonAnswer) map[string]string {
	out := map[string]string{}
	for _, s := range a.Steps {
		out[s.ID] = s.State
	}
	return out
}

// The lessons API: the built-in lessons listed, a lesson evaluated for a
// participant's prefix on the map, a probe step ticked by a probe run
// through the API, and bad ids and prefixes refused. On the fake engine:
// what is tested is the server's evaluation, not the engine.
func TestLessonsAPI(t *testing.T) {
	custom, err := lesson.Parse("mine.yaml", []byte(`id: mine
title: Mine
steps:
  - id: web-runs
    title: web runs
    check: {kind: running, container: web}
  - id: ip
    title: web reaches db by IP
    check: {kind: probe, from: web, to: db, by: ip, expect: ok}
`))
	if err != nil {
		t.Fatal(err)
	}
	ts, f := startFaked(t, func(d *server.Deps) { d.Lessons = append(lesson.Builtin(), custom) })

	status, list := getJSON[[]struct{ ID string }](t, ts.URL+"/api/lessons")
	var ids []string
	for _, l := range list {
		ids = append(ids, l.ID)
	}
	if status != http.StatusOK || len(ids) != 4 || ids[0] != "links" || ids[1] != "bridges" || ids[2] != "sharing" || ids[3] != "mine" {
		t.Fatalf("GET /api/lessons = %d %v, want links, bridges, sharing, mine", status, ids)
	}

	_, links := getJSON[lessonAnswer](t, ts.URL+"/api/lessons/links")
	if s := stepStates(links); s["run-web"] != "done" || s["run-database"] != "todo" {
		t.Errorf("links for no prefix: %v, want run-web done (web runs) and run-database todo (no database)", s)
	}
	if _, p2 := getJSON[lessonAnswer](t, ts.URL+"/api/lessons/links?prefix=p2-"); stepStates(p2)["run-web"] != "todo" {
		t.Errorf("links for p2-: %v, want run-web todo (no p2-web)", stepStates(p2))
	}

	if _, mine := getJSON[lessonAnswer](t, ts.URL+"/api/lessons/mine"); stepStates(mine)["ip"] != "todo" {
		t.Errorf("before any probe: %v, want ip todo", stepStates(mine))
	}
	f.accept("Probe")
	if r := call(t, ts.URL, "POST", "/api/probes", map[string]any{"from": fakeWebName, "to": fakeDBName, "by": "ip"}, nil); r.Status != http.StatusOK {
		t.Fatalf("probe = %d %v", r.Status, r.Body)
	}
	if _, mine := getJSON[lessonAnswer](t, ts.URL+"/api/lessons/mine"); stepStates(mine)["ip"] != "done" {
		t.Errorf("after the probe: %+v, want ip done", mine.Steps)
	}

	for path, want := range map[string]int{
		"/api/lessons/nope":               http.StatusNotFound,
		"/api/lessons/links?prefix=a%20b": http.StatusBadRequest,
		"/api/lessons/links?prefix=-x":    http.StatusBadRequest,
	} {
		if status, _ := getJSON[map[string]any](t, ts.URL+path); status != want {
			t.Errorf("GET %s = %d, want %d", path, status, want)
		}
	}
}

// The latest probe results survive a reload (the server keeps them) and
// turn stale once something between the pair changes.
func TestLatestProbesTurnStale(t *testing.T) {
	ts, f := startFaked(t)
	f.accept("Probe")
	if r := call(t, ts.URL, "POST", "/api/probes", map[string]any{"from": fakeWebName, "to": fakeDBName, "by": "ip"}, nil); r.Status != http.StatusOK {
		t.Fatalf("probe = %d %v", r.Status, r.Body)
	}
	type latest struct {
		Results []struct {
			From, To, By string
			OK, Stale    bool
		}
	}
	_, got := getJSON[latest](t, ts.URL+"/api/probes/latest")
	if len(got.Results) != 1 || got.Results[0].From != fakeWebID || got.Results[0].To != fakeDBID || got.Results[0].Stale {
		t.Fatalf("latest = %+v, want web → db, current", got.Results)
	}

	// db moves from the default bridge to appnet: the result is stale.
	inv := fakeInventory()
	for i := range inv.Containers {
		if inv.Containers[i].ID == fakeDBID {
			inv.Containers[i].Endpoints = []topology.Endpoint{{NetworkID: fakeAppnetID, NetworkName: fakeAppnet, IP: fakeAppnetNet + "9", PrefixLen: 24}}
		}
	}
	f.setInventory(inv)
	ts.Live.Refresh()
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		_, got := getJSON[latest](t, ts.URL+"/api/probes/latest")
		return len(got.Results) == 1 && got.Results[0].Stale, "the result is not stale after db left the bridge"
	})
}
