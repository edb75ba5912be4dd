package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/server"
	"github.com/dockmap/dockmap/internal/topology"
)

// The planner's promise, checked on the real engine for every arrangement
// of networks the tests can build: what the plan says is what happens. A
// plan that re-creates is refused without confirm and changes nothing; a
// confirmed one re-creates (a new ID under the name); an endpoint alias
// keeps the container and adds the alias; a refused plan is refused the
// same way by the POST, with nothing changed.

// arrangement places web and database on networks before a link web →
// database is planned.
type arrangement struct {
	name string
	// setup runs the two containers (and whatever they need) and returns
	// their IDs.
	setup func(t *testing.T, c *docker.Client, webName, dbName string) (web, db string)
	// wantMethod is what the plan must say; "" when it must refuse, with
	// wantStatus.
	wantMethod string
	wantStatus int
	// mountForbidden: a mount into web is refused (a re-create of a
	// container on the host's network would give the copy the host's
	// network too).
	mountForbidden bool
}

func arrangements() []arrangement {
	run := func(t *testing.T, c *docker.Client, name string, opts ...dockertest.ContainerOption) string {
		return dockertest.RunContainer(t, c, append([]dockertest.ContainerOption{dockertest.WithName(name)}, opts...)...)
	}
	userNet := func(t *testing.T, c *docker.Client) (name, id string) {
		name = dockertest.UniqueName(t, "net")
		return name, dockertest.CreateNetwork(t, c, name)
	}
	connect := func(t *testing.T, c *docker.Client, netID, id string) {
		if err := c.ConnectNetwork(t.Context(), netID, id, nil); err != nil {
			t.Fatal(err)
		}
	}
	return []arrangement{
		{name: "default bridge", wantMethod: "recreate", setup: func(t *testing.T, c *docker.Client, w, d string) (string, string) {
			return run(t, c, w), run(t, c, d)
		}},
		{name: "user network", wantMethod: "endpoint-alias", setup: func(t *testing.T, c *docker.Client, w, d string) (string, string) {
			n, _ := userNet(t, c)
			return run(t, c, w, dockertest.WithNetwork(n)), run(t, c, d, dockertest.WithNetwork(n))
		}},
		{name: "both", wantMethod: "endpoint-alias", setup: func(t *testing.T, c *docker.Client, w, d string) (string, string) {
			_, id := userNet(t, c)
			web, db := run(t, c, w), run(t, c, d)
			connect(t, c, id, web)
			connect(t, c, id, db)
			return web, db
		}},
		{name: "disconnected from bridge", wantMethod: "endpoint-alias", setup: func(t *testing.T, c *docker.Client, w, d string) (string, string) {
			// The case a red team found: web started on the default bridge,
			// then moved to a user network it shares with database.
			_, id := userNet(t, c)
			web, db := run(t, c, w), run(t, c, d)
			connect(t, c, id, web)
			connect(t, c, id, db)
			if err := c.DisconnectNetwork(t.Context(), "bridge", web); err != nil {
				t.Fatal(err)
			}
			return web, db
		}},
		{name: "target on another network", wantStatus: http.StatusBadRequest, setup: func(t *testing.T, c *docker.Client, w, d string) (string, string) {
			n, _ := userNet(t, c)
			return run(t, c, w), run(t, c, d, dockertest.WithNetwork(n))
		}},
		{name: "none", wantStatus: http.StatusBadRequest, setup: func(t *testing.T, c *docker.Client, w, d string) (string, string) {
			return run(t, c, w, dockertest.WithNetworkMode("none")), run(t, c, d)
		}},
		{name: "host", wantStatus: http.StatusBadRequest, mountForbidden: true, setup: func(t *testing.T, c *docker.Client, w, d string) (string, string) {
			return run(t, c, w, dockertest.WithNetworkMode("host")), run(t, c, d)
		}},
		{name: "container:", wantStatus: http.StatusBadRequest, setup: func(t *testing.T, c *docker.Client, w, d string) (string, string) {
			db := run(t, c, d)
			return run(t, c, w, dockertest.WithNetworkMode("container:"+db)), db
		}},
	}
}

// waitIn waits until the live graph shows the containers in the state and
// on the networks the engine has them: plans are made from the map as it
// is shown, and a plan from a map behind the engine is refused as out of
// date (TestStalePlanChangesNothing, TestPlanFromAMapBehindTheEngine).
func waitIn(t *testing.T, ts *testServer, ids ...string) {
	t.Helper()
	c := dockertest.Client(t)
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		g := ts.Live.Snapshot().Graph
		engine := make(map[string][]string)
		state := make(map[string]string)
		for _, ct := range mustListServer(t, c) {
			state[ct.ID] = ct.State
			for _, ep := range ct.Endpoints {
				engine[ct.ID] = append(engine[ct.ID], ep.NetworkID)
			}
		}
		for _, id := range ids {
			cn := topology.ContainerNodeID(id)
			n, ok := g.Node(cn)
			if !ok {
				return false, id[:12] + " not in the graph yet"
			}
			if n.Container.State != state[id] {
				return false, fmt.Sprintf("%s shown %s, %s in the engine", id[:12], n.Container.State, state[id])
			}
			var shown []string
			for _, e := range g.EdgesOf(cn) {
				if e.Kind == topology.EdgeMember {
					shown = append(shown, strings.TrimPrefix(string(e.To), "n:"))
				}
			}
			slices.Sort(shown)
			slices.Sort(engine[id])
			if !slices.Equal(shown, engine[id]) {
				return false, fmt.Sprintf("%s shown on %v, on %v in the engine", id[:12], shown, engine[id])
			}
		}
		return true, ""
	})
}

// idOf is the ID of the container named name now.
func idOf(t *testing.T, c *docker.Client, name string) string {
	t.Helper()
	for _, ct := range mustListServer(t, c) {
		if ct.Name == name {
			return ct.ID
		}
	}
	t.Fatalf("no container named %s", name)
	return ""
}

func mustListServer(t *testing.T, c *docker.Client) []topology.Container {
	t.Helper()
	inv, err := c.ListInventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return inv.Containers
}

func TestPlanIsWhatHappens(t *testing.T) {
	ts, c := startSynced(t)
	for _, a := range arrangements() {
		t.Run(strings.ReplaceAll(a.name, " ", "-"), func(t *testing.T) {
			t.Parallel()
			webName, dbName := dockertest.UniqueName(t, "web"), dockertest.UniqueName(t, "database")
			web, db := a.setup(t, c, webName, dbName)
			waitIn(t, ts, web, db)
			q := url.Values{"from": {webName}, "to": {dbName}, "alias": {"dbalias"}}
			plan := call(t, ts.URL, "GET", "/api/links/plan?"+q.Encode(), nil, nil)
			body := map[string]any{"from": webName, "to": dbName, "alias": "dbalias"}
			if a.wantMethod == "" {
				if plan.Status != a.wantStatus {
					t.Fatalf("plan = %d %v, want %d", plan.Status, plan.Body, a.wantStatus)
				}
				body["confirm"] = true
				if r := call(t, ts.URL, "POST", "/api/links?wait=1", body, nil); r.Status != a.wantStatus {
					t.Errorf("POST = %d %v, want %d as the plan said", r.Status, r.Body, a.wantStatus)
				}
				if idOf(t, c, webName) != web {
					t.Errorf("a refused link changed web")
				}
				checkMount(t, ts, c, webName, a.mountForbidden)
				return
			}
			if plan.Status != http.StatusOK || plan.Body["method"] != a.wantMethod {
				t.Fatalf("plan = %d %v, want method %s", plan.Status, plan.Body["method"], a.wantMethod)
			}
			confirm, _ := plan.Body["confirm"].(bool)
			if confirm != (a.wantMethod == "recreate") {
				t.Errorf("plan confirm = %v for %s", confirm, a.wantMethod)
			}
			if confirm {
				// No re-create without the confirm its plan asks for.
				if r := call(t, ts.URL, "POST", "/api/links?wait=1", body, nil); r.Status != http.StatusPreconditionRequired {
					t.Errorf("POST without confirm = %d %v, want 428", r.Status, r.Body)
				}
				if idOf(t, c, webName) != web {
					t.Fatalf("web was re-created without a confirm")
				}
			}
			body["confirm"], body["plan"] = true, plan.Body["id"]
			r := call(t, ts.URL, "POST", "/api/links?wait=1", body, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("POST = %d %v", r.Status, r.Body)
			}
			now := idOf(t, c, webName)
			if now != web {
				dockertest.TrackContainer(t, c, now)
			}
			switch a.wantMethod {
			case "recreate":
				if now == web {
					t.Errorf("the plan said re-create, but web kept its ID")
				}
			case "endpoint-alias":
				if now != web {
					t.Errorf("the plan said endpoint alias, but web was re-created")
				}
			}
			// Whichever way, web now reaches database by the alias.
			res, err := c.Exec(t.Context(), now, []string{"ping", "-c", "1", "-W", "2", "dbalias"}, "")
			if err != nil || res.ExitCode != 0 {
				t.Errorf("ping dbalias from web after the link: %+v %v", res, err)
			}

			// Removing it is in place, either way: web keeps its ID and
			// the alias no longer resolves.
			waitGraph(t, ts, "the link is not on the map yet", func(g topology.Graph) bool {
				for _, e := range g.EdgesOf(topology.ContainerNodeID(now)) {
					if e.Kind == topology.EdgeLink && e.Link.Alias == "dbalias" {
						return true
					}
				}
				return false
			})
			rmq := url.Values{"from": {webName}, "alias": {"dbalias"}}
			rm := call(t, ts.URL, "GET", "/api/plan/remove-link?"+rmq.Encode(), nil, nil)
			if rm.Status != http.StatusOK || rm.Body["method"] != "in-place" {
				t.Fatalf("remove plan = %d %v, want in place", rm.Status, rm.Body)
			}
			if r := call(t, ts.URL, "DELETE", "/api/links", map[string]any{"from": webName, "alias": "dbalias", "plan": rm.Body["id"]}, nil); r.Status != http.StatusNoContent {
				t.Fatalf("DELETE link = %d %v", r.Status, r.Body)
			}
			if idOf(t, c, webName) != now {
				t.Errorf("the plan said in place, but web was re-created to remove the link")
			}
			if res, err := c.Exec(t.Context(), now, []string{"ping", "-c", "1", "-W", "1", "dbalias"}, ""); err != nil || res.ExitCode == 0 {
				t.Errorf("dbalias still resolves from web after the link went: %+v %v", res, err)
			}
			checkMount(t, ts, c, webName, a.mountForbidden)
			_ = db
		})
	}
}

// checkMount plans a mount of a new volume into the container and carries
// it out: a re-create (a new ID), or, when forbidden, a refusal that
// changes nothing.
func checkMount(t *testing.T, ts *testServer, c *docker.Client, name string, forbidden bool) {
	t.Helper()
	vol := dockertest.CreateVolume(t, c, "")
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		_, err := ts.Live.Snapshot().Graph.VolumeByRef(vol)
		return err == nil, "the volume is not in the graph yet"
	})
	before := idOf(t, c, name)
	q := url.Values{"container": {name}, "volume": {vol}, "target": {"/planned"}}
	plan := call(t, ts.URL, "GET", "/api/plan/mount?"+q.Encode(), nil, nil)
	body := map[string]any{"volume": vol, "target": "/planned", "confirm": true, "plan": plan.Body["id"]}
	if forbidden {
		if plan.Status != http.StatusForbidden {
			t.Errorf("mount plan = %d %v, want 403", plan.Status, plan.Body)
		}
		if r := call(t, ts.URL, "POST", "/api/containers/"+name+"/mounts?wait=1", body, nil); r.Status != http.StatusForbidden {
			t.Errorf("mount = %d %v, want 403 as the plan said", r.Status, r.Body)
		}
		if idOf(t, c, name) != before {
			t.Errorf("a refused mount re-created %s", name)
		}
		return
	}
	if plan.Status != http.StatusOK || plan.Body["method"] != "recreate" {
		t.Fatalf("mount plan = %d %v, want a re-create", plan.Status, plan.Body)
	}
	r := call(t, ts.URL, "POST", "/api/containers/"+name+"/mounts?wait=1", body, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("mount = %d %v", r.Status, r.Body)
	}
	for _, id := range jobResult(r)["recreated"].(map[string]any) {
		dockertest.TrackContainer(t, c, id.(string))
	}
	if idOf(t, c, name) == before {
		t.Errorf("the plan said re-create, but %s kept its ID", name)
	}
}

// TestStalePlanChangesNothing: a confirm of a plan that is no longer the
// plan (the container changed since) does nothing and answers 409 with
// the plan of today; a confirm of another request's plan too.
func TestStalePlanChangesNothing(t *testing.T) {
	ts, c := startSynced(t)
	db, web, dbName, webName := tutorialPair(t, ts, c)
	q := url.Values{"from": {webName}, "to": {dbName}, "alias": {"dbalias"}}
	plan := call(t, ts.URL, "GET", "/api/links/plan?"+q.Encode(), nil, nil)
	if plan.Status != http.StatusOK {
		t.Fatalf("plan = %d %v", plan.Status, plan.Body)
	}
	// Another request with this plan's ID: refused.
	other := map[string]any{"from": webName, "to": dbName, "alias": "another", "confirm": true, "plan": plan.Body["id"]}
	if r := call(t, ts.URL, "POST", "/api/links", other, nil); r.Status != http.StatusConflict || r.Body["plan"] == nil {
		t.Errorf("confirm of another plan = %d %v, want 409 with the plan", r.Status, r.Body)
	}
	// web stops between plan and confirm: its plan changes (no stop step).
	if err := c.StopContainer(t.Context(), web, 0); err != nil {
		t.Fatal(err)
	}
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		n, _ := ts.Live.Snapshot().Graph.Node(topology.ContainerNodeID(web))
		return n.Container != nil && !n.Container.Running(), "web not stopped in the graph yet"
	})
	stale := map[string]any{"from": webName, "to": dbName, "alias": "dbalias", "confirm": true, "plan": plan.Body["id"]}
	r := call(t, ts.URL, "POST", "/api/links", stale, nil)
	newPlan, _ := r.Body["plan"].(map[string]any)
	if r.Status != http.StatusConflict || newPlan == nil || newPlan["id"] == plan.Body["id"] {
		t.Fatalf("confirm of a stale plan = %d %v, want 409 with a new plan", r.Status, r.Body)
	}
	var steps []string
	for _, s := range newPlan["steps"].([]any) {
		steps = append(steps, s.(map[string]any)["id"].(string))
	}
	if slices.Contains(steps, "r0.stop") {
		t.Errorf("the new plan still stops web: %v", steps)
	}
	if idOf(t, c, webName) != web {
		t.Errorf("a stale confirm re-created web")
	}
	_ = db
}

// behindMap is the live source with its map held at one moment. Plans are
// made from the map, which on a busy engine may be a moment behind it;
// a real engine's event timing cannot give a test that moment on demand.
// Sync still answers from a fresh list, as the real one does.
type behindMap struct {
	server.LiveSource
	mu   sync.Mutex
	held *topology.Snapshot
}

func (b *behindMap) Snapshot() topology.Snapshot {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held != nil {
		return *b.held
	}
	return b.LiveSource.Snapshot()
}

func (b *behindMap) hold() {
	snap := b.LiveSource.Snapshot()
	b.mu.Lock()
	b.held = &snap
	b.mu.Unlock()
}

// TestPlanFromAMapBehindTheEngine: a plan made from a map the engine has
// since left behind is confirmed as it was shown; the engine adapter finds
// web no longer what the plan took it for, nothing changes, and the answer
// is 409 with the plan of today.
func TestPlanFromAMapBehindTheEngine(t *testing.T) {
	c := dockertest.Client(t)
	var behind *behindMap
	ts := startServer(t, c, func(d *server.Deps) {
		behind = &behindMap{LiveSource: d.Live}
		d.Live = behind
	})
	<-ts.Live.Synced()
	webName, dbName := dockertest.UniqueName(t, "web"), dockertest.UniqueName(t, "database")
	web, db := arrangements()[2].setup(t, c, webName, dbName) // both: the default bridge and a user network
	waitIn(t, ts, web, db)
	q := url.Values{"from": {webName}, "to": {dbName}, "alias": {"dbalias"}}
	shown := call(t, ts.URL, "GET", "/api/links/plan?"+q.Encode(), nil, nil)
	if shown.Status != http.StatusOK || shown.Body["method"] != "endpoint-alias" {
		t.Fatalf("plan = %d %v, want an endpoint alias", shown.Status, shown.Body)
	}
	behind.hold()
	if err := c.DisconnectNetwork(t.Context(), "bridge", web); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"from": webName, "to": dbName, "alias": "dbalias", "confirm": true, "plan": shown.Body["id"]}
	r := call(t, ts.URL, "POST", "/api/links?wait=1", body, nil)
	today, _ := r.Body["plan"].(map[string]any)
	if r.Status != http.StatusConflict || today == nil || today["id"] == shown.Body["id"] || today["method"] != "endpoint-alias" {
		t.Fatalf("confirm of the plan shown = %d %v, want 409 with the endpoint-alias plan of today", r.Status, r.Body)
	}
	for _, ct := range mustListServer(t, c) {
		if ct.Name != webName {
			continue
		}
		if ct.ID != web {
			t.Errorf("web was re-created")
		}
		for _, ep := range ct.Endpoints {
			if len(ep.Links) > 0 {
				t.Errorf("web's endpoint on %s has links %v; nothing should have changed", ep.NetworkName, ep.Links)
			}
		}
	}
}

// TestJobsBadInput: an unknown job, and cancelling one that has ended.
func TestJobsBadInput(t *testing.T) {
	ts, c := startSynced(t)
	if r := call(t, ts.URL, "GET", "/api/jobs/nosuchjob", nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("GET unknown job = %d, want 404", r.Status)
	}
	if r := call(t, ts.URL, "POST", "/api/jobs/nosuchjob/cancel", map[string]any{}, nil); r.Status != http.StatusNotFound {
		t.Errorf("cancel unknown job = %d, want 404", r.Status)
	}
	_, _, dbName, webName := tutorialPair(t, ts, c)
	r := call(t, ts.URL, "POST", "/api/links?wait=1", map[string]any{"from": webName, "to": dbName, "alias": "dbalias", "confirm": true}, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("link = %d %v", r.Status, r.Body)
	}
	dockertest.TrackContainer(t, c, jobResult(r)["container"].(string))
	id := r.Body["job"].(map[string]any)["id"].(string)
	if r := call(t, ts.URL, "POST", "/api/jobs/"+id+"/cancel", map[string]any{}, nil); r.Status != http.StatusConflict {
		t.Errorf("cancel a finished job = %d %v, want 409", r.Status, r.Body)
	}
	if r := call(t, ts.URL, "POST", "/api/jobs/"+id+"/kill", map[string]any{}, nil); r.Status != http.StatusConflict {
		t.Errorf("kill in a finished job = %d %v, want 409", r.Status, r.Body)
	}
	got := call(t, ts.URL, "GET", "/api/jobs/"+id, nil, nil)
	if got.Status != http.StatusOK || got.Body["state"] != "done" {
		t.Errorf("GET job = %d %v, want it done", got.Status, got.Body)
	}
}

// TestGuardsSeeThroughIndirection: mounts that would give a container the
// Docker socket or the host's root through another container's volumes,
// or through a local volume's driver options, are refused (403) before
// anything is touched, as a bind of them would be.
func TestGuardsSeeThroughIndirection(t *testing.T) {
	ts, c := startSynced(t)
	ctx := t.Context()
	sockName := dockertest.UniqueName(t, "sock")
	sock := dockertest.RunContainer(t, c, dockertest.WithName(sockName),
		dockertest.WithMount(docker.MountSpec{Type: "bind", Source: "/var/run/docker.sock", Target: "/var/run/docker.sock", ReadOnly: true}))
	rootVol := dockertest.UniqueName(t, "hostroot")
	if out, err := exec.CommandContext(ctx, "docker", "volume", "create", "--label", "dockmap.test=1",
		"-o", "type=none", "-o", "o=bind", "-o", "device=/", rootVol).CombinedOutput(); err != nil {
		t.Fatalf("create a bind-backed volume: %v %s", err, out)
	}
	dockertest.TrackVolume(t, c, rootVol)
	targetName := dockertest.UniqueName(t, "target")
	target := dockertest.RunContainer(t, c, dockertest.WithName(targetName))
	waitIn(t, ts, sock, target)
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		_, err := ts.Live.Snapshot().Graph.VolumeByRef(rootVol)
		return err == nil, "the bind-backed volume is not in the graph yet"
	})
	for what, body := range map[string]map[string]any{
		"volumesFrom a socket donor": {"volumesFrom": sockName, "confirm": true},
		"a local volume bound to /":  {"volume": rootVol, "target": "/host", "confirm": true},
	} {
		plan := call(t, ts.URL, "GET", "/api/plan/mount?"+url.Values{"container": {targetName}, "volumesFrom": {strOf(body["volumesFrom"])},
			"volume": {strOf(body["volume"])}, "target": {strOf(body["target"])}}.Encode(), nil, nil)
		if plan.Status != http.StatusForbidden {
			t.Errorf("%s: plan = %d %v, want 403", what, plan.Status, plan.Body)
		}
		if r := call(t, ts.URL, "POST", "/api/containers/"+targetName+"/mounts?wait=1", body, nil); r.Status != http.StatusForbidden {
			t.Errorf("%s: POST = %d %v, want 403", what, r.Status, r.Body)
		}
	}
	if idOf(t, c, targetName) != target {
		t.Errorf("a refused mount re-created %s", targetName)
	}
}

func strOf(v any) string {
	s, _ := v.(string)
	return s
}

// TestBrokenLinkRepairedThroughTheAPI: database removed with the CLI
// leaves web's legacy link pointing at nothing. The map draws it, reach
// explains it, a restart of web is refused with the reason (not a 500,
// and web keeps running), Repair re-points it at the new database, and a
// second broken link is removed by a re-create.
func TestBrokenLinkRepairedThroughTheAPI(t *testing.T) {
	ts, c := startSynced(t)
	ctx := t.Context()
	dbName, webName := dockertest.UniqueName(t, "database"), dockertest.UniqueName(t, "web")
	db := dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	oldName := dockertest.UniqueName(t, "old")
	old := dockertest.RunContainer(t, c, dockertest.WithName(oldName))
	web := dockertest.RunContainer(t, c, dockertest.WithName(webName), dockertest.WithLink(dbName, "db"), dockertest.WithLink(oldName, "legacy"))
	for _, id := range []string{db, old} {
		if err := c.RemoveContainer(ctx, id, true); err != nil {
			t.Fatal(err)
		}
	}
	// A new database, as a user would run again.
	db2 := dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	broken := topology.EdgeID("bl:" + web + ":db")
	waitGraph(t, ts, "no broken link drawn", func(g topology.Graph) bool {
		e, ok := g.Edge(broken)
		_, ghost := g.Node(topology.GhostNodeID(dbName))
		_, fresh := g.Node(topology.ContainerNodeID(db2))
		return ok && e.To == topology.GhostNodeID(dbName) && ghost && fresh
	})
	reachBody := call(t, ts.URL, "GET", "/api/reach?"+url.Values{"from": {webName}, "to": {dbName}}.Encode(), nil, nil)
	if !strings.Contains(fmt.Sprint(reachBody.Body), "broken-link") {
		t.Errorf("reach = %v, want the broken link explained", reachBody.Body)
	}
	r := call(t, ts.URL, "POST", "/api/containers/"+webName+"/restart", nil, nil)
	if r.Status != http.StatusConflict || !strings.Contains(strOf(r.Body["detail"]), "removed") {
		t.Errorf("restart with a broken link = %d %v, want 409 saying why", r.Status, r.Body)
	}
	if running, _, err := c.ContainerStarted(ctx, web); err != nil || !running {
		t.Errorf("web after the refused restart: running %v, %v; want it left running", running, err)
	}

	q := url.Values{"from": {webName}, "alias": {"db"}}
	plan := call(t, ts.URL, "GET", "/api/plan/repair-link?"+q.Encode(), nil, nil)
	if plan.Status != http.StatusOK || plan.Body["method"] != "recreate" {
		t.Fatalf("repair plan = %d %v", plan.Status, plan.Body)
	}
	r = call(t, ts.URL, "POST", "/api/links/repair?wait=1", map[string]any{"from": webName, "alias": "db", "confirm": true, "plan": plan.Body["id"]}, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("repair = %d %v", r.Status, r.Body)
	}
	newWeb := jobResult(r)["container"].(string)
	dockertest.TrackContainer(t, c, newWeb)
	if res, err := c.Exec(ctx, newWeb, []string{"ping", "-c", "1", "-W", "2", "db"}, ""); err != nil || res.ExitCode != 0 {
		t.Errorf("ping db from the repaired web: %+v %v", res, err)
	}
	waitGraph(t, ts, "the repaired link is not drawn", func(g topology.Graph) bool {
		_, ok := g.Edge(topology.EdgeID("l:" + newWeb + ">" + db2 + ":db"))
		return ok
	})

	// The other broken link (nothing has its target's name) could not be
	// carried over: the plan said so, and the repaired web has none left.
	if !strings.Contains(fmt.Sprint(plan.Body["loses"]), "broken link legacy") {
		t.Errorf("the repair plan loses %v, want the broken link legacy named", plan.Body["loses"])
	}
	waitGraph(t, ts, "a broken link is still drawn", func(g topology.Graph) bool {
		for _, e := range g.EdgesOf(topology.ContainerNodeID(newWeb)) {
			if e.Kind == topology.EdgeBrokenLink {
				return false
			}
		}
		return true
	})

	// A broken link alone can only go by a re-create: the engine cannot
	// remove it in place.
	loneName := dockertest.UniqueName(t, "lone")
	goneName := dockertest.UniqueName(t, "gone")
	gone := dockertest.RunContainer(t, c, dockertest.WithName(goneName))
	lone := dockertest.RunContainer(t, c, dockertest.WithName(loneName), dockertest.WithLink(goneName, "legacy"))
	if err := c.RemoveContainer(ctx, gone, true); err != nil {
		t.Fatal(err)
	}
	waitGraph(t, ts, "no broken link drawn for lone", func(g topology.Graph) bool {
		_, ok := g.Edge(topology.EdgeID("bl:" + lone + ":legacy"))
		return ok
	})
	rq := url.Values{"from": {loneName}, "alias": {"legacy"}}
	if p := call(t, ts.URL, "GET", "/api/plan/repair-link?"+rq.Encode(), nil, nil); p.Status != http.StatusConflict {
		t.Errorf("repair with no container of that name = %d %v, want 409", p.Status, p.Body)
	}
	rm := call(t, ts.URL, "GET", "/api/plan/remove-link?"+rq.Encode(), nil, nil)
	if rm.Status != http.StatusOK || rm.Body["method"] != "recreate" {
		t.Fatalf("remove plan = %d %v, want a re-create", rm.Status, rm.Body)
	}
	r = call(t, ts.URL, "DELETE", "/api/links?wait=1", map[string]any{"from": loneName, "alias": "legacy", "confirm": true, "plan": rm.Body["id"]}, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("remove the broken link = %d %v", r.Status, r.Body)
	}
	last := jobResult(r)["container"].(string)
	dockertest.TrackContainer(t, c, last)
	waitGraph(t, ts, "lone's broken link is still drawn", func(g topology.Graph) bool {
		_, lonely := g.Node(topology.ContainerNodeID(last))
		for _, e := range g.EdgesOf(topology.ContainerNodeID(last)) {
			if e.Kind == topology.EdgeBrokenLink {
				return false
			}
		}
		return lonely
	})
	if r := call(t, ts.URL, "POST", "/api/containers/"+loneName+"/restart", nil, nil); r.Status != http.StatusOK {
		t.Errorf("restart of lone after the removal = %d %v", r.Status, r.Body)
	}
	if r := call(t, ts.URL, "POST", "/api/containers/"+webName+"/restart", nil, nil); r.Status != http.StatusOK {
		t.Errorf("restart after the repairs = %d %v", r.Status, r.Body)
	}
}
