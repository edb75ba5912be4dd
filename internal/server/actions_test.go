package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// tutorialPair starts database and web on the default bridge and waits
// until the live graph has both with an IP.
func tutorialPair(t *testing.T, ts *testServer, c *docker.Client) (db, web, dbName, webName string) {
	t.Helper()
	dbName, webName = dockertest.UniqueName(t, "database"), dockertest.UniqueName(t, "web")
	db = dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	web = dockertest.RunContainer(t, c, dockertest.WithName(webName))
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		g := ts.Live.Snapshot().Graph
		for _, id := range []string{db, web} {
			ip := ""
			for _, e := range g.EdgesOf(topology.ContainerNodeID(id)) {
				if e.Kind == topology.EdgeMember {
					ip = e.Member.IP
				}
			}
			if ip == "" {
				return false, id[:12] + " has no IP in the graph yet"
			}
		}
		return true, ""
	})
	return db, web, dbName, webName
}

type probeResults struct {
	Results []struct {
		From, To, By, Target, Failure, Detail, Resolved string
		OK                                              bool
	}
}

func probeAPI(t *testing.T, base string, body map[string]any) (int, probeResults) {
	t.Helper()
	res := call(t, base, "POST", "/api/probes", body, nil)
	var out probeResults
	data, _ := json.Marshal(res.Body)
	_ = json.Unmarshal(data, &out)
	return res.Status, out
}

func TestProbeAndLinkTheTutorial(t *testing.T) {
	ts, c := startSynced(t)
	db, web, dbName, webName := tutorialPair(t, ts, c)

	status, got := probeAPI(t, ts.URL, map[string]any{"from": webName, "to": dbName, "by": "both"})
	if status != http.StatusOK || len(got.Results) != 2 {
		t.Fatalf("POST /api/probes = %d %+v, want two results", status, got)
	}
	for _, r := range got.Results {
		switch r.By {
		case "ip":
			if !r.OK {
				t.Errorf("web → database by IP failed: %+v", r)
			}
		case "name":
			if r.OK || r.Failure != "name-not-resolved" {
				t.Errorf("web → database by name = %+v, want name-not-resolved (no DNS on the default bridge)", r)
			}
		}
	}

	// Adding the link on the default bridge re-creates web: it needs a
	// confirmation after the plan.
	link := map[string]any{"from": webName, "to": dbName, "alias": "database"}
	if r := call(t, ts.URL, "POST", "/api/links", link, nil); r.Status != http.StatusPreconditionRequired || r.Body["plan"] == nil {
		t.Fatalf("POST /api/links without confirm = %d %v, want 428 with the plan", r.Status, r.Body)
	}
	if _, ok := ts.Live.Snapshot().Graph.Node(topology.ContainerNodeID(web)); !ok {
		t.Fatal("web changed although the link was not confirmed")
	}
	plan := call(t, ts.URL, "GET", "/api/links/plan?from="+url.QueryEscape(webName)+"&to="+url.QueryEscape(dbName)+"&alias=database", nil, nil)
	if plan.Status != http.StatusOK || plan.Body["method"] != "recreate" || plan.Body["id"] == nil {
		t.Fatalf("plan = %d %v, want a re-create", plan.Status, plan.Body)
	}
	loses, _ := plan.Body["loses"].([]any)
	if l, _ := firstOf(loses).(map[string]any); l["kind"] != "writable-layer" || l["of"].(map[string]any)["name"] != webName {
		t.Errorf("plan loses %v, want web's writable layer named", loses)
	}
	link["confirm"] = true
	link["plan"] = plan.Body["id"]
	r := call(t, ts.URL, "POST", "/api/links?wait=1", link, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("POST /api/links = %d %v", r.Status, r.Body)
	}
	newWeb := jobResult(r)["container"].(string)
	if newWeb == "" || newWeb == web {
		t.Fatalf("container after the re-create = %q, want a new ID", newWeb)
	}
	dockertest.TrackContainer(t, c, newWeb)
	edge := topology.EdgeID("l:" + newWeb + ">" + db + ":database")
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		for _, e := range ts.Live.Snapshot().Graph.Edges {
			if e.ID == edge {
				return true, ""
			}
		}
		return false, "no link edge " + string(edge)
	})

	status, got = probeAPI(t, ts.URL, map[string]any{"from": webName, "to": dbName, "by": "name"})
	if status != http.StatusOK || len(got.Results) != 1 || !got.Results[0].OK {
		t.Errorf("web → database by name after the link = %d %+v, want ok", status, got)
	}
	// The link alias is a name of database that the map knows.
	status, got = probeAPI(t, ts.URL, map[string]any{"from": webName, "to": dbName, "name": "database"})
	if status != http.StatusOK || len(got.Results) != 1 || !got.Results[0].OK || got.Results[0].Target != "database" {
		t.Errorf("web → database by its link alias = %d %+v, want ok", status, got)
	}
	status, got = probeAPI(t, ts.URL, map[string]any{"from": dbName, "to": webName, "by": "name"})
	if status != http.StatusOK || len(got.Results) != 1 || got.Results[0].OK {
		t.Errorf("database → web by name = %d %+v, want a failure: links are one-way", status, got)
	}

	if r := call(t, ts.URL, "DELETE", "/api/links", map[string]any{"from": webName, "alias": "database"}, nil); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE /api/links = %d %v", r.Status, r.Body)
	}
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		for _, e := range ts.Live.Snapshot().Graph.Edges {
			if e.ID == edge {
				return false, "link edge still there"
			}
		}
		return true, ""
	})
}

// firstOf is the first element of a JSON list, or nil.
func firstOf(xs []any) any {
	if len(xs) == 0 {
		return nil
	}
	return xs[0]
}

// jobResult is the result of the job a waited-for answer carries.
func jobResult(r apiResult) map[string]any {
	j, _ := r.Body["job"].(map[string]any)
	res, _ := j["result"].(map[string]any)
	return res
}

// Bad input is refused before any engine call (no probe runs, no link is
// made), so it runs on the fake engine, which records every call
// (fakeserver_test.go).
func TestBadProbeAndLinkInputChangesNothing(t *testing.T) {
	ts, f := startFaked(t)
	dbName, webName, hostName := fakeDBName, fakeWebName, fakeHostName
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		want   int
	}{
		{"shell in target", "POST", "/api/probes", map[string]any{"from": webName, "to": "; id"}, 400},
		{"command substitution", "POST", "/api/probes", map[string]any{"from": webName, "to": "$(reboot)"}, 400},
		{"ping flag", "POST", "/api/probes", map[string]any{"from": webName, "to": "-c 100000"}, 400},
		{"metadata address", "POST", "/api/probes", map[string]any{"from": webName, "to": "169.254.169.254"}, 404},
		{"long host name", "POST", "/api/probes", map[string]any{"from": webName, "to": strings.Repeat("a", 300)}, 400},
		{"itself", "POST", "/api/probes", map[string]any{"from": webName, "to": webName}, 400},
		{"bad by", "POST", "/api/probes", map[string]any{"from": webName, "to": dbName, "by": "dns"}, 400},
		{"bad port", "POST", "/api/probes", map[string]any{"from": webName, "to": dbName, "port": 70000}, 400},
		{"name not known", "POST", "/api/probes", map[string]any{"from": webName, "to": dbName, "name": "evil.example"}, 404},
		{"name with shell", "POST", "/api/probes", map[string]any{"from": webName, "to": dbName, "name": "; id"}, 404},
		{"name by ip", "POST", "/api/probes", map[string]any{"from": webName, "to": dbName, "name": "db", "by": "ip"}, 400},
		{"unknown source", "POST", "/api/probes", map[string]any{"from": "nosuch-" + dockertest.RunID(), "to": dbName}, 404},
		{"bad alias", "POST", "/api/links", map[string]any{"from": webName, "to": dbName, "alias": "a b", "confirm": true}, 400},
		{"long alias", "POST", "/api/links", map[string]any{"from": webName, "to": dbName, "alias": strings.Repeat("a", 64), "confirm": true}, 400},
		{"colon alias", "POST", "/api/links", map[string]any{"from": webName, "to": dbName, "alias": "a:b:c", "confirm": true}, 400},
		{"alias starting with a colon", "POST", "/api/links", map[string]any{"from": webName, "to": dbName, "alias": ":x", "confirm": true}, 400},
		{"alias ending with a colon", "POST", "/api/links", map[string]any{"from": webName, "to": dbName, "alias": "x:", "confirm": true}, 400},
		{"alias with a dot", "POST", "/api/links", map[string]any{"from": webName, "to": dbName, "alias": "api.github.com", "confirm": true}, 400},
		{"link to a host-network container", "POST", "/api/links", map[string]any{"from": webName, "to": hostName, "alias": "h1", "confirm": true}, 400},
		{"link from a host-network container", "POST", "/api/links", map[string]any{"from": hostName, "to": dbName, "alias": "d1", "confirm": true}, 400},
		{"link to itself", "POST", "/api/links", map[string]any{"from": webName, "to": webName, "alias": "me", "confirm": true}, 400},
		{"link to missing", "POST", "/api/links", map[string]any{"from": webName, "to": "nosuch-" + dockertest.RunID(), "alias": "x1", "confirm": true}, 404},
		{"unlink missing source", "DELETE", "/api/links", map[string]any{"from": "nosuch-" + dockertest.RunID(), "alias": "x1"}, 404},
		{"leftover not an ID", "POST", "/api/recreate/leftovers/web/rollback", nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.mark()
			res := call(t, ts.URL, tt.method, tt.path, tt.body, nil)
			if res.Status != tt.want {
				t.Errorf("%s %s = %d %v, want %d", tt.method, tt.path, res.Status, res.Body, tt.want)
			}
			if calls := f.callsSince(before); len(calls) != 0 {
				t.Errorf("engine calls made for bad input: %v", calls)
			}
		})
	}
}

// Two re-creates of one container at once: exactly one runs, the other gets
// 409 at once, and nothing is left half-way.
func TestConcurrentRecreateGets409(t *testing.T) {
	ts, c := startSynced(t)
	_, _, dbName, webName := tutorialPair(t, ts, c)
	statuses := make(chan apiResult, 2)
	for _, alias := range []string{"database", "db2"} {
		go func() {
			statuses <- call(t, ts.URL, "POST", "/api/links?wait=1",
				map[string]any{"from": webName, "to": dbName, "alias": alias, "confirm": true}, nil)
		}()
	}
	got := map[int]int{}
	for range 2 {
		r := <-statuses
		got[r.Status]++
		if id, _ := jobResult(r)["container"].(string); id != "" {
			dockertest.TrackContainer(t, c, id)
		}
	}
	if got[http.StatusOK] != 1 || got[http.StatusConflict] != 1 {
		t.Fatalf("statuses = %v, want one 200 and one 409", got)
	}
	resp, err := http.Get(ts.URL + "/api/recreate/leftovers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var left []struct {
		Containers []struct{ OriginalName string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&left); err != nil {
		t.Fatal(err)
	}
	for _, l := range left {
		for _, lc := range l.Containers {
			if lc.OriginalName == webName {
				t.Errorf("re-create of %s left half-way: %+v", webName, l)
			}
		}
	}
}
