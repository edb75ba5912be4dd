package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

var apiNextSubnet atomic.Int32

// createNetworkAPI creates a network through POST /api/networks on a free
// 10.125.x.0/24 subnet and returns its ID and the subnet's prefix
// ("10.125.x."). The network is removed when the test ends.
func createNetworkAPI(t *testing.T, base string, c *docker.Client, name string) (id, prefix string) {
	t.Helper()
	for range 32 {
		prefix = fmt.Sprintf("10.125.%d.", apiNextSubnet.Add(1)%256)
		r := call(t, base, "POST", "/api/networks", map[string]any{"name": name, "subnet": prefix + "0/24", "gateway": prefix + "1"}, nil)
		if r.Status == http.StatusCreated {
			id, _ = r.Body["id"].(string)
			dockertest.TrackNetwork(t, c, id)
			if r.Body["name"] != name || !topology.IsFullID(id) {
				t.Fatalf("POST /api/networks = %v, want {id, name: %s}", r.Body, name)
			}
			return id, prefix
		}
		if d, _ := r.Body["detail"].(string); r.Status != http.StatusConflict || !strings.Contains(d, "overlap") {
			t.Fatalf("POST /api/networks = %d %v, want 201", r.Status, r.Body)
		}
	}
	t.Fatal("no free subnet in 10.125.0.0/16")
	return "", ""
}

// waitMember waits until the graph shows container id on network netID
// (with the given aliases and, if not "", IP), or, with gone, until it
// does not.
func waitMember(t *testing.T, ts *testServer, id, netID string, gone bool, aliases []string, ip string) {
	t.Helper()
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		e, ok := ts.Live.Snapshot().Graph.MemberEdge(topology.ContainerNodeID(id), topology.NetworkNodeID(netID))
		if gone {
			return !ok, "still a member"
		}
		if !ok {
			return false, "no member edge"
		}
		if !slices.Equal(e.Member.Aliases, aliases) || (ip != "" && e.Member.IP != ip) {
			return false, fmt.Sprintf("member edge aliases %v IP %s, want %v %s", e.Member.Aliases, e.Member.IP, aliases, ip)
		}
		return true, ""
	})
}

func TestNetworkAttachDetachRemove(t *testing.T) {
	ts, c := startSynced(t)
	netName := dockertest.UniqueName(t, "appnet")
	netID, prefix := createNetworkAPI(t, ts.URL, c, netName)
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		n, ok := ts.Live.Snapshot().Graph.Node(topology.NetworkNodeID(netID))
		return ok && n.Network.ICC && n.Network.Subnets[0].Subnet == prefix+"0/24", "network not in the graph with ICC on and its subnet"
	})
	webName, dbName := dockertest.UniqueName(t, "web"), dockertest.UniqueName(t, "database")
	web := dockertest.RunContainer(t, c, dockertest.WithName(webName))
	db := dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		_, err := ts.Live.Snapshot().Graph.ContainerByRef(dbName)
		return err == nil, "containers not in the graph"
	})

	connect := func(ref string, body map[string]any) apiResult {
		t.Helper()
		return call(t, ts.URL, "POST", "/api/networks/"+ref+"/connect", body, nil)
	}
	if r := connect(netName, map[string]any{"container": webName}); r.Status != http.StatusOK {
		t.Fatalf("connect web = %d %v", r.Status, r.Body)
	}
	if r := connect(netID, map[string]any{"container": dbName, "aliases": []string{"db"}}); r.Status != http.StatusOK || r.Body["container"] != db {
		t.Fatalf("connect database as db = %d %v", r.Status, r.Body)
	}
	waitMember(t, ts, web, netID, false, nil, "")
	waitMember(t, ts, db, netID, false, []string{"db"}, "")
	if r := connect(netName, map[string]any{"container": dbName, "aliases": []string{"db"}}); r.Status != http.StatusConflict {
		t.Errorf("connect database again with the same alias = %d %v, want 409", r.Status, r.Body)
	}

	// The explainer sees the shared network.
	r := call(t, ts.URL, "GET", "/api/reach?from="+url.QueryEscape(webName)+"&to="+url.QueryEscape(dbName), nil, nil)
	if r.Status != http.StatusOK || r.Body["from"] != web || r.Body["to"] != db {
		t.Errorf("GET /api/reach = %d %v, want a prediction for web → database", r.Status, r.Body)
	}

	if r := call(t, ts.URL, "POST", "/api/networks/"+netName+"/disconnect", map[string]any{"container": db}, nil); r.Status != http.StatusOK {
		t.Fatalf("disconnect database = %d %v", r.Status, r.Body)
	}
	waitMember(t, ts, db, netID, true, nil, "")

	// A static IP inside the subnet.
	if r := connect(netName, map[string]any{"container": dbName, "aliases": []string{"db"}, "ip": prefix + "50"}); r.Status != http.StatusOK {
		t.Fatalf("connect database with a static IP = %d %v", r.Status, r.Body)
	}
	waitMember(t, ts, db, netID, false, []string{"db"}, prefix+"50")

	// A stopped container: connect and re-connect make no engine event,
	// and the engine alone would keep the first alias.
	cacheName := dockertest.UniqueName(t, "cache")
	cache := dockertest.RunContainer(t, c, dockertest.WithName(cacheName), dockertest.Stopped())
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		_, err := ts.Live.Snapshot().Graph.ContainerByRef(cacheName)
		return err == nil, "stopped container not in the graph"
	})
	if r := connect(netName, map[string]any{"container": cacheName, "aliases": []string{"c1"}}); r.Status != http.StatusOK {
		t.Fatalf("connect stopped cache = %d %v", r.Status, r.Body)
	}
	waitMember(t, ts, cache, netID, false, []string{"c1"}, "")
	if r := connect(netName, map[string]any{"container": cacheName, "aliases": []string{"c2"}}); r.Status != http.StatusOK {
		t.Fatalf("re-connect stopped cache with alias c2 = %d %v", r.Status, r.Body)
	}
	waitMember(t, ts, cache, netID, false, []string{"c2"}, "")

	detail := call(t, ts.URL, "GET", "/api/networks/"+netName, nil, nil)
	if detail.Status != http.StatusOK || detail.Body["id"] != netID || detail.Body["driver"] != "bridge" {
		t.Fatalf("GET /api/networks/%s = %d %v", netName, detail.Status, detail.Body)
	}
	members := map[string]map[string]any{}
	for _, m := range detail.Body["members"].([]any) {
		mm := m.(map[string]any)
		members[mm["name"].(string)] = mm
	}
	if m := members[cacheName]; m == nil || fmt.Sprint(m["aliases"]) != "[c2]" || m["state"] == "running" {
		t.Errorf("member cache = %v, want the stopped container with aliases [c2]", m)
	}
	if m := members[dbName]; m == nil || m["ipv4"] != prefix+"50" || fmt.Sprint(m["aliases"]) != "[db]" || m["state"] != "running" {
		t.Errorf("member database = %v, want running on %s50 with alias db", m, prefix)
	}
	if len(members) != 3 {
		t.Errorf("members = %v, want web, database and cache", members)
	}

	// Removing: 409 naming the members, then detach=1.
	r = call(t, ts.URL, "DELETE", "/api/networks/"+netName, nil, nil)
	if d, _ := r.Body["detail"].(string); r.Status != http.StatusConflict || !strings.Contains(d, webName) || !strings.Contains(d, dbName) || !strings.Contains(d, cacheName) {
		t.Errorf("DELETE with members = %d %v, want 409 naming web, database and cache", r.Status, r.Body)
	}
	r = call(t, ts.URL, "DELETE", "/api/networks/"+netID+"?detach=1", nil, nil)
	if r.Status != http.StatusOK || len(r.Body["detached"].([]any)) != 3 {
		t.Fatalf("DELETE ?detach=1 = %d %v, want 200 with three detached", r.Status, r.Body)
	}
	dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
		_, ok := ts.Live.Snapshot().Graph.Node(topology.NetworkNodeID(netID))
		return !ok, "network still in the graph"
	})
	if r := call(t, ts.URL, "GET", "/api/networks/"+netID, nil, nil); r.Status != http.StatusNotFound {
		t.Errorf("GET a removed network = %d, want 404", r.Status)
	}
}

// Bad input is refused before any engine call, so it runs on the fake
// engine, which records every call (fakeserver_test.go); its inventory has
// a container in each network mode and a user network with a subnet.
func TestBadNetworkInputChangesNothing(t *testing.T) {
	ts, f := startFaked(t)
	netName, netID, prefix := fakeAppnet, fakeAppnetID, fakeAppnetNet
	okName, hostName, noneName, sharedName := fakeDBName, fakeHostName, fakeNoneName, fakeSharedName

	create := func(extra map[string]any) map[string]any {
		b := map[string]any{"name": "okname-" + strings.ToLower(dockertest.RunID())}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	attach := func(container string, extra map[string]any) map[string]any {
		b := map[string]any{"container": container}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	connect := "/api/networks/" + netName + "/connect"
	unknown := "nosuch-" + dockertest.RunID()
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		want   int
		detail string
	}{
		{"reserved bridge", "POST", "/api/networks", create(map[string]any{"name": "bridge"}), 400, "engine's own"},
		{"reserved host", "POST", "/api/networks", create(map[string]any{"name": "host"}), 400, "engine's own"},
		{"reserved none", "POST", "/api/networks", create(map[string]any{"name": "none"}), 400, "engine's own"},
		{"reserved default", "POST", "/api/networks", create(map[string]any{"name": "default"}), 400, "engine's own"},
		{"duplicate name", "POST", "/api/networks", create(map[string]any{"name": netName}), 409, "already exists"},
		{"caret name", "POST", "/api/networks", create(map[string]any{"name": "^"}), 400, "network name"},
		{"name with spaces", "POST", "/api/networks", create(map[string]any{"name": "my net"}), 400, "network name"},
		{"blank name", "POST", "/api/networks", create(map[string]any{"name": "   "}), 400, "network name"},
		{"name of an ID's start", "POST", "/api/networks", create(map[string]any{"name": netID[:4]}), 400, "start of network"},
		{"remove by 4-char ID prefix", "DELETE", "/api/networks/" + netID[:4], nil, 404, "no network"},
		{"prefix 33", "POST", "/api/networks", create(map[string]any{"subnet": "10.0.0.0/33"}), 400, "not a CIDR"},
		{"nonsense subnet", "POST", "/api/networks", create(map[string]any{"subnet": "nonsense"}), 400, "not a CIDR"},
		{"overlapping subnet", "POST", "/api/networks", create(map[string]any{"subnet": prefix + "128/25"}), 409, "overlaps"},
		{"gateway outside", "POST", "/api/networks", create(map[string]any{"subnet": "10.126.0.0/24", "gateway": "10.126.1.1"}), 400, "outside the subnet"},
		{"gateway without subnet", "POST", "/api/networks", create(map[string]any{"gateway": "10.126.0.1"}), 400, "needs a subnet"},
		{"unknown field", "POST", "/api/networks", create(map[string]any{"mtu": 9000}), 400, "unknown field"},
		{"unknown driver", "POST", "/api/networks", create(map[string]any{"driver": "macvlan"}), 400, "bridge or overlay"},
		{"encrypted bridge", "POST", "/api/networks", create(map[string]any{"encrypted": true}), 400, "only an overlay"},
		{"static IP outside", "POST", connect, attach(okName, map[string]any{"ip": "10.126.9.9"}), 400, "outside the subnet"},
		{"static IP is the gateway", "POST", connect, attach(okName, map[string]any{"ip": prefix + "1"}), 400, "gateway"},
		{"alias with spaces", "POST", connect, attach(okName, map[string]any{"aliases": []string{"my db"}}), 400, "alias"},
		{"host mode", "POST", connect, attach(hostName, nil), 400, "network mode host"},
		{"none mode", "POST", connect, attach(noneName, nil), 400, "network mode none"},
		{"container mode", "POST", connect, attach(sharedName, nil), 400, "network mode container:"},
		{"alias on the default bridge", "POST", "/api/networks/bridge/connect", attach(okName, map[string]any{"aliases": []string{"x1"}}), 400, "default bridge"},
		{"to the host network", "POST", "/api/networks/host/connect", attach(okName, nil), 400, "driver"},
		{"unknown network", "POST", "/api/networks/" + unknown + "/connect", attach(okName, nil), 404, "no network"},
		{"network ID prefix", "POST", "/api/networks/" + netID[:12] + "/connect", attach(okName, nil), 404, "no network"},
		{"unknown container", "POST", connect, attach(unknown, nil), 404, "no container"},
		{"disconnect not attached", "POST", "/api/networks/" + netName + "/disconnect", attach(okName, nil), 409, "not attached"},
		{"remove bridge", "DELETE", "/api/networks/bridge", nil, 400, "engine's own"},
		{"remove host", "DELETE", "/api/networks/host?detach=1", nil, 400, "engine's own"},
		{"remove unknown", "DELETE", "/api/networks/" + unknown, nil, 404, "no network"},
		{"reach unknown", "GET", "/api/reach?from=" + okName + "&to=" + unknown, nil, 404, "no container"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.mark()
			res := call(t, ts.URL, tt.method, tt.path, tt.body, nil)
			if res.Status != tt.want {
				t.Errorf("%s %s = %d %v, want %d", tt.method, tt.path, res.Status, res.Body, tt.want)
			}
			if d, _ := res.Body["detail"].(string); !strings.Contains(d, tt.detail) {
				t.Errorf("detail %q, want it to say %q", d, tt.detail)
			}
			if calls := f.callsSince(before); len(calls) != 0 {
				t.Errorf("engine calls made for bad input: %v", calls)
			}
		})
	}
}
