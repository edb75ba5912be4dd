package topology_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockmap/dockmap/internal/topology"
)

// summary is a Delta reduced to IDs, which is what the table tests assert.
type summary struct {
	AddedNodes, ChangedNodes, RemovedNodes []topology.NodeID
	AddedEdges, ChangedEdges, RemovedEdges []topology.EdgeID
}

func summarize(d topology.Delta) summary {
	nodeIDs := func(ns []topology.Node) []topology.NodeID {
		var out []topology.NodeID
		for _, n := range ns {
			out = append(out, n.ID)
		}
		return out
	}
	edgeIDs := func(es []topology.Edge) []topology.EdgeID {
		var out []topology.EdgeID
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	return summary{
		AddedNodes: nodeIDs(d.AddedNodes), ChangedNodes: nodeIDs(d.ChangedNodes), RemovedNodes: d.RemovedNodes,
		AddedEdges: edgeIDs(d.AddedEdges), ChangedEdges: edgeIDs(d.ChangedEdges), RemovedEdges: d.RemovedEdges,
	}
}

// Lookups into an inventory, for tests that change one thing in it.
func findContainer(t *testing.T, inv *topology.Inventory, id string) *topology.Container {
	t.Helper()
	for i := range inv.Containers {
		if inv.Containers[i].ID == id {
			return &inv.Containers[i]
		}
	}
	t.Fatalf("no container %q", id)
	return nil
}

func findNetwork(t *testing.T, inv *topology.Inventory, id string) *topology.Network {
	t.Helper()
	for i := range inv.Networks {
		if inv.Networks[i].ID == id {
			return &inv.Networks[i]
		}
	}
	t.Fatalf("no network %q", id)
	return nil
}

func findVolume(t *testing.T, inv *topology.Inventory, name string) *topology.Volume {
	t.Helper()
	for i := range inv.Volumes {
		if inv.Volumes[i].Name == name {
			return &inv.Volumes[i]
		}
	}
	t.Fatalf("no volume %q", name)
	return nil
}

func findEndpoint(t *testing.T, c *topology.Container, networkID string) *topology.Endpoint {
	t.Helper()
	for i := range c.Endpoints {
		if c.Endpoints[i].NetworkID == networkID {
			return &c.Endpoints[i]
		}
	}
	t.Fatalf("container %q has no endpoint on %q", c.Name, networkID)
	return nil
}

func TestDiff(t *testing.T) {
	var (
		cDatabase = topology.ContainerNodeID(idDatabase)
		cWeb      = topology.ContainerNodeID(idWeb)
		cMigrate  = topology.ContainerNodeID(idMigrate)
		mWebApp   = topology.EdgeID("m:" + idWeb + "@" + idAppnet)
		mDBBridge = topology.EdgeID("m:" + idDatabase + "@" + idBridge)
		mDBApp    = topology.EdgeID("m:" + idDatabase + "@" + idAppnet)
	)
	tests := []struct {
		name   string
		change func(t *testing.T, inv *topology.Inventory)
		want   summary
	}{
		{
			name:   "identical",
			change: func(*testing.T, *topology.Inventory) {},
		},
		{
			name: "container labels",
			change: func(t *testing.T, inv *topology.Inventory) {
				findContainer(t, inv, idDatabase).Labels["com.example.tier"] = "gold"
			},
			want: summary{ChangedNodes: []topology.NodeID{cDatabase}},
		},
		{
			name: "container ports",
			change: func(t *testing.T, inv *topology.Inventory) {
				c := findContainer(t, inv, idWeb)
				c.Ports = append(c.Ports, topology.Port{PrivatePort: 5001, Type: "udp"})
			},
			want: summary{ChangedNodes: []topology.NodeID{cWeb}},
		},
		{
			name: "container published port moved",
			change: func(t *testing.T, inv *topology.Inventory) {
				findContainer(t, inv, idWeb).Ports[1].PublicPort = 32769
			},
			want: summary{ChangedNodes: []topology.NodeID{cWeb}},
		},
		{
			name: "container state",
			change: func(t *testing.T, inv *topology.Inventory) {
				c := findContainer(t, inv, idMigrate)
				c.State, c.Status = "running", "Up 1 second"
			},
			want: summary{ChangedNodes: []topology.NodeID{cMigrate}},
		},
		{
			name: "container health",
			change: func(t *testing.T, inv *topology.Inventory) {
				findContainer(t, inv, idDatabase).Status = "Up 12 minutes (unhealthy)"
			},
			want: summary{ChangedNodes: []topology.NodeID{cDatabase}},
		},
		{
			// The status text ages by itself ("Up 12 minutes" → "Up 13
			// minutes"): alone it must not send a changed node.
			name: "container status text only",
			change: func(t *testing.T, inv *topology.Inventory) {
				findContainer(t, inv, idDatabase).Status = "Up 13 minutes (healthy)"
			},
			want: summary{},
		},
		{
			name: "container tmpfs",
			change: func(t *testing.T, inv *topology.Inventory) {
				c := findContainer(t, inv, idDatabase)
				c.Mounts = append(c.Mounts, topology.Mount{Type: "tmpfs", Destination: "/var/run/postgresql", RW: true})
			},
			want: summary{ChangedNodes: []topology.NodeID{cDatabase}},
		},
		{
			name: "network options",
			change: func(t *testing.T, inv *topology.Inventory) {
				findNetwork(t, inv, idBridge).Options["com.docker.network.driver.mtu"] = "1450"
			},
			want: summary{ChangedNodes: []topology.NodeID{topology.NetworkNodeID(idBridge)}},
		},
		{
			name: "network subnets",
			change: func(t *testing.T, inv *topology.Inventory) {
				n := findNetwork(t, inv, idAppnet)
				n.Subnets = append(n.Subnets, topology.Subnet{Subnet: "fd00:dead:beef::/48"})
			},
			want: summary{ChangedNodes: []topology.NodeID{topology.NetworkNodeID(idAppnet)}},
		},
		{
			name: "volume labels",
			change: func(t *testing.T, inv *topology.Inventory) {
				findVolume(t, inv, "uploads").Labels["com.example.backup"] = "weekly"
			},
			want: summary{ChangedNodes: []topology.NodeID{topology.VolumeNodeID("uploads")}},
		},
		{
			name: "member aliases",
			change: func(t *testing.T, inv *topology.Inventory) {
				ep := findEndpoint(t, findContainer(t, inv, idWeb), idAppnet)
				ep.Aliases = append(ep.Aliases, "www")
			},
			want: summary{ChangedEdges: []topology.EdgeID{mWebApp}},
		},
		{
			name: "member IP",
			change: func(t *testing.T, inv *topology.Inventory) {
				findEndpoint(t, findContainer(t, inv, idDatabase), idBridge).IP = "172.17.0.9"
			},
			want: summary{ChangedEdges: []topology.EdgeID{mDBBridge}},
		},
		{
			name: "mount made read-only",
			change: func(t *testing.T, inv *topology.Inventory) {
				findContainer(t, inv, idWeb).Mounts[1].RW = false
			},
			want: summary{ChangedEdges: []topology.EdgeID{topology.EdgeID("mt:" + idWeb + ">v:uploads:/opt/webapp/uploads")}},
		},
		{
			// The alias is part of a link's ID, so a new alias is a new edge.
			name: "link alias",
			change: func(t *testing.T, inv *topology.Inventory) {
				findContainer(t, inv, idDatabase).Names = []string{"database", "web/pg"}
			},
			want: summary{
				AddedEdges:   []topology.EdgeID{topology.EdgeID("l:" + idWeb + ">" + idDatabase + ":pg")},
				RemovedEdges: []topology.EdgeID{topology.EdgeID("l:" + idWeb + ">" + idDatabase + ":database")},
			},
		},
		{
			name: "container removed with its edges",
			change: func(t *testing.T, inv *topology.Inventory) {
				inv.Containers = slices.DeleteFunc(inv.Containers, func(c topology.Container) bool { return c.ID == idDatabase })
			},
			want: summary{
				RemovedNodes: []topology.NodeID{cDatabase},
				RemovedEdges: []topology.EdgeID{
					topology.EdgeID("l:" + idWeb + ">" + idDatabase + ":database"),
					mDBApp, mDBBridge,
					topology.EdgeID("mt:" + idDatabase + ">v:dbdata:/var/lib/postgresql/data"),
				},
			},
		},
		{
			name: "network removed with its members",
			change: func(t *testing.T, inv *topology.Inventory) {
				inv.Networks = slices.DeleteFunc(inv.Networks, func(n topology.Network) bool { return n.ID == idAppnet })
			},
			want: summary{
				RemovedNodes: []topology.NodeID{topology.NetworkNodeID(idAppnet)},
				RemovedEdges: []topology.EdgeID{
					mWebApp,
					topology.EdgeID("m:" + idMigrate + "@" + idAppnet),
					mDBApp,
				},
			},
		},
		{
			name: "container and volume added",
			change: func(t *testing.T, inv *topology.Inventory) {
				c := running(pad("ff"), "worker")
				c.Mounts = []topology.Mount{volumeMount("jobs", "/jobs")}
				inv.Containers = append(inv.Containers, c)
			},
			want: summary{
				AddedNodes: []topology.NodeID{topology.ContainerNodeID(pad("ff")), topology.VolumeNodeID("jobs")},
				AddedEdges: []topology.EdgeID{topology.EdgeID("mt:" + pad("ff") + ">v:jobs:/jobs")},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := topology.Build(tutorialInventory())
			inv := tutorialInventory()
			tt.change(t, &inv)
			d := topology.Diff(old, topology.Build(inv))
			if diff := cmp.Diff(tt.want, summarize(d), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Diff() mismatch (-want +got):\n%s", diff)
			}
			if got, want := d.Empty(), cmp.Equal(tt.want, summary{}, cmpopts.EquateEmpty()); got != want {
				t.Errorf("Empty() = %v, want %v", got, want)
			}
		})
	}
}

func TestDiffWholeGraphs(t *testing.T) {
	g := topology.Build(tutorialInventory())
	var nodes []topology.NodeID
	for _, n := range g.Nodes {
		nodes = append(nodes, n.ID)
	}
	var edges []topology.EdgeID
	for _, e := range g.Edges {
		edges = append(edges, e.ID)
	}
	tests := []struct {
		name     string
		old, new topology.Graph
		want     summary
	}{
		{"zero graphs", topology.Graph{}, topology.Graph{}, summary{}},
		{"from nothing", topology.Graph{}, g, summary{AddedNodes: nodes, AddedEdges: edges}},
		{"to nothing", g, topology.Graph{}, summary{RemovedNodes: nodes, RemovedEdges: edges}},
		{"same graph", g, g, summary{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, summarize(topology.Diff(tt.old, tt.new)), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Diff() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// mutation changes one field, reached from a root value, in place.
type mutation struct {
	path  string
	apply func(root reflect.Value)
}

// mutations lists one change per field reachable from v (recursively through
// pointers, slices, maps and structs): strings grow, numbers grow, bools flip,
// slices and maps grow, shrink and have an element changed, pointers go nil.
// at maps the root to v. Outside an info struct (strict false) a nil pointer
// is another kind's info and is skipped; inside one, every pointer, slice and
// map must be set in the base, so that a field added later is reached and
// Equal must learn about it.
func mutations(t *testing.T, v reflect.Value, path string, at func(reflect.Value) reflect.Value, strict bool) []mutation {
	t.Helper()
	var out []mutation
	add := func(what string, f func(reflect.Value)) {
		out = append(out, mutation{path + what, func(root reflect.Value) { f(at(root)) }})
	}
	switch v.Kind() {
	case reflect.String:
		add("", func(x reflect.Value) { x.SetString(x.String() + "x") })
	case reflect.Bool:
		add("", func(x reflect.Value) { x.SetBool(!x.Bool()) })
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		add("", func(x reflect.Value) { x.SetInt(x.Int() + 1) })
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		add("", func(x reflect.Value) { x.SetUint(x.Uint() + 1) })
	case reflect.Struct:
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if !f.IsExported() {
				t.Errorf("%s.%s is unexported; teach this test to change it", path, f.Name)
				continue
			}
			out = append(out, mutations(t, v.Field(i), path+"."+f.Name,
				func(r reflect.Value) reflect.Value { return at(r).Field(i) }, strict)...)
		}
	case reflect.Pointer:
		if v.IsNil() {
			if strict {
				t.Errorf("%s is nil in the base value; set it", path)
			}
			return nil
		}
		add("=nil", func(x reflect.Value) { x.SetZero() })
		out = append(out, mutations(t, v.Elem(), path,
			func(r reflect.Value) reflect.Value { return at(r).Elem() }, true)...)
	case reflect.Slice:
		if v.Len() == 0 {
			t.Errorf("%s is empty in the base value; give it an element", path)
			return nil
		}
		add("+elem", func(x reflect.Value) { x.Set(reflect.Append(x, reflect.Zero(x.Type().Elem()))) })
		add("=nil", func(x reflect.Value) { x.SetZero() })
		out = append(out, mutations(t, v.Index(0), path+"[0]",
			func(r reflect.Value) reflect.Value { return at(r).Index(0) }, true)...)
	case reflect.Map:
		if v.Len() == 0 {
			t.Errorf("%s is empty in the base value; give it an entry", path)
			return nil
		}
		if v.Type().Key().Kind() != reflect.String || v.Type().Elem().Kind() != reflect.String {
			t.Errorf("%s is a %s; teach this test to change it", path, v.Type())
			return nil
		}
		keys := v.MapKeys()
		slices.SortFunc(keys, func(a, b reflect.Value) int { return strings.Compare(a.String(), b.String()) })
		k := keys[0]
		add("+key", func(x reflect.Value) { x.SetMapIndex(reflect.ValueOf("new-key"), reflect.ValueOf("")) })
		add("-key", func(x reflect.Value) { x.SetMapIndex(k, reflect.Value{}) })
		add("["+k.String()+"]", func(x reflect.Value) {
			x.SetMapIndex(k, reflect.ValueOf(x.MapIndex(k).String()+"x"))
		})
		add("=nil", func(x reflect.Value) { x.SetZero() })
	default:
		t.Errorf("%s is a %s; teach this test to change it", path, v.Kind())
	}
	return out
}

// checkEqualSeesEveryField changes every field of every base value in turn
// and expects equal to notice, both ways round. Every pointer field of T must
// be set in at least one base.
func checkEqualSeesEveryField[T any](t *testing.T, bases map[string]func() T, equal func(a, b T) bool) {
	t.Helper()
	typ := reflect.TypeFor[T]()
	covered := map[string]bool{}
	for name, fresh := range bases {
		base := fresh()
		if !equal(base, fresh()) {
			t.Errorf("%s: Equal(base, copy of base) = false, want true", name)
			continue
		}
		bv := reflect.ValueOf(base)
		for i := range typ.NumField() {
			if f := typ.Field(i); f.Type.Kind() == reflect.Pointer && !bv.Field(i).IsNil() {
				covered[f.Name] = true
			}
		}
		muts := mutations(t, bv, name, func(r reflect.Value) reflect.Value { return r }, false)
		for _, m := range muts {
			changed := fresh()
			m.apply(reflect.ValueOf(&changed).Elem())
			if ignoredByEqual[m.path] {
				if !equal(base, changed) || !equal(changed, base) {
					t.Errorf("Equal sees a change to %s, which it must ignore", m.path)
				}
				continue
			}
			if cmp.Equal(base, changed) {
				t.Errorf("mutation %s changed nothing", m.path)
				continue
			}
			if equal(base, changed) || equal(changed, base) {
				t.Errorf("Equal misses a change to %s", m.path)
			}
		}
	}
	for i := range typ.NumField() {
		if f := typ.Field(i); f.Type.Kind() == reflect.Pointer && !covered[f.Name] {
			t.Errorf("no base value sets %s.%s; add one", typ.Name(), f.Name)
		}
	}
}

func TestNodeEqualSeesEveryField(t *testing.T) {
	checkEqualSeesEveryField(t, map[string]func() topology.Node{
		"container": func() topology.Node {
			return topology.Node{
				ID: "c:1", Kind: topology.KindContainer, Label: "web", Group: "p:shop",
				Container: &topology.ContainerInfo{
					ID: "1", Name: "web", Image: "nginx", ImageID: "sha256:1", Command: "nginx", Created: 1,
					State: "running", Status: "Up 1 minute (healthy)", Health: "healthy",
					Labels:      map[string]string{"a": "1", "b": "2"},
					Ports:       []topology.Port{{IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp"}},
					NetworkMode: "bridge", Tmpfs: []string{"/run"}, AutoRemove: true,
					Project: "shop", Service: "web", Number: 2, OneOff: true,
				},
			}
		},
		"network": func() topology.Node {
			return topology.Node{
				ID: "n:1", Kind: topology.KindNetwork, Label: "appnet",
				Network: &topology.NetworkInfo{
					ID: "1", Name: "appnet", Driver: "bridge", Scope: "local", Internal: true, Attachable: true,
					ICC: true, Default: true, Subnets: []topology.Subnet{{Subnet: "10.0.0.0/24", Gateway: "10.0.0.1"}},
					Options: map[string]string{"o": "1"}, Labels: map[string]string{"l": "1"},
				},
			}
		},
		"volume": func() topology.Node {
			return topology.Node{
				ID: "v:data", Kind: topology.KindVolume, Label: "data",
				Volume: &topology.VolumeInfo{
					Name: "data", Driver: "local", Mountpoint: "/var/lib/docker/volumes/data/_data", Anonymous: true,
					Labels: map[string]string{"l": "1"}, Options: map[string]string{"type": "none"}, Backing: "bind /srv",
				},
			}
		},
		"bind": func() topology.Node {
			return topology.Node{ID: "b:/srv", Kind: topology.KindBind, Label: "/srv", Bind: &topology.BindInfo{Path: "/srv"}}
		},
		"ghost": func() topology.Node {
			return topology.Node{ID: "g:db-dockmap-old-0123456789ab", Kind: topology.KindGhost, Label: "db-dockmap-old-0123456789ab",
				Ghost: &topology.GhostInfo{Name: "db-dockmap-old-0123456789ab", Original: "db"}}
		},
		"swarm-node": func() topology.Node {
			return topology.Node{ID: "sn:1", Kind: topology.KindSwarmNode, Label: "lab1", Engine: "lab1", Host: "lab1",
				SwarmNode: &topology.SwarmNode{ID: "1", Hostname: "lab1", Role: "manager", Availability: "active", State: "ready",
					Message: "m", Addr: "10.0.0.1", Leader: true, Reachability: "reachable", EngineVersion: "20.10"}}
		},
		"service": func() topology.Node {
			return topology.Node{ID: "sv:1", Kind: topology.KindService, Label: "web", Engine: "lab1",
				Service: &topology.SwarmService{ID: "1", Name: "web", Mode: "replicated", Wanted: 3, Running: 2, Image: "busybox",
					Ports:    []topology.SwarmPort{{Published: 80, Target: 8080, Protocol: "tcp", Mode: "ingress"}},
					VIPs:     []topology.SwarmVIP{{NetworkID: "n", NetworkName: "ov", Addr: "10.0.1.2/24"}},
					Networks: []topology.NetworkRef{{ID: "n", Name: "ov"}}}}
		},
		"project": func() topology.Node {
			return topology.Node{ID: "p:shop", Kind: topology.KindProject, Label: "shop",
				Project: &topology.ProjectInfo{Name: "shop", WorkingDir: "/src/shop", ConfigFiles: []string{"/src/shop/compose.yaml"},
					Services: []string{"api", "web"}, Containers: 3, Running: 2, Networks: []string{"shop_default"}}}
		},
		"task": func() topology.Node {
			return topology.Node{ID: "t:1", Kind: topology.KindTask, Label: "web.1", Engine: "lab1", Host: "node:lab4",
				Task: &topology.SwarmTask{ID: "1", ServiceID: "s", ServiceName: "web", Slot: 1, NodeID: "n", DesiredState: "running",
					State: "failed", Error: "network sandbox join failed", Message: "m", ContainerID: "c",
					Networks: []topology.SwarmTaskNetwork{{ID: "n", Name: "ov", Addresses: []string{"10.0.1.5/24"}}}}}
		},
	}, topology.Node.Equal)
}

func TestEdgeEqualSeesEveryField(t *testing.T) {
	checkEqualSeesEveryField(t, map[string]func() topology.Edge{
		"link": func() topology.Edge {
			return topology.Edge{ID: "l:1>2:db", Kind: topology.EdgeLink, From: "c:1", To: "c:2", Link: &topology.LinkInfo{Alias: "db", Target: "db", Network: "appnet"}}
		},
		"member": func() topology.Edge {
			return topology.Edge{
				ID: "m:1@9", Kind: topology.EdgeMember, From: "c:1", To: "n:9",
				Member: &topology.MemberInfo{
					NetworkName: "appnet", NetworkID: "9", EndpointID: "e", IP: "10.0.0.2", PrefixLen: 24,
					Gateway: "10.0.0.1", IPv6: "fd00::2", MAC: "02:42:0a:00:00:02", Aliases: []string{"web"}, Links: []string{"db:database"},
				},
			}
		},
		"mount": func() topology.Edge {
			return topology.Edge{
				ID: "mt:1>v:data:/data", Kind: topology.EdgeMount, From: "c:1", To: "v:data",
				Mount: &topology.MountInfo{Type: "volume", Destination: "/data", ReadOnly: true, Mode: "z"},
			}
		},
		"netns": func() topology.Edge {
			return topology.Edge{ID: "ns:1>2", Kind: topology.EdgeNetNS, From: "c:1", To: "c:2"}
		},
		"volumes-from": func() topology.Edge {
			return topology.Edge{
				ID: "vf:1>2", Kind: topology.EdgeVolumesFrom, From: "c:1", To: "c:2",
				VolumesFrom: &topology.VolumesFromInfo{ReadOnly: true, Ref: "db"},
			}
		},
		"depends-on": func() topology.Edge {
			return topology.Edge{ID: "d:1>2", Kind: topology.EdgeDependsOn, From: "c:1", To: "c:2",
				DependsOn: &topology.DependsOnInfo{Service: "db", Condition: "service_healthy"}}
		},
	}, topology.Edge.Equal)
}

// apply replays d on g the way the browser does, and reports a delta that
// adds what is there, changes or removes what is not, or "changes" a thing
// into an equal one.
func apply(t *testing.T, g topology.Graph, d topology.Delta) topology.Graph {
	t.Helper()
	nodes := make(map[topology.NodeID]topology.Node, len(g.Nodes))
	for _, n := range g.Nodes {
		nodes[n.ID] = n
	}
	for _, id := range d.RemovedNodes {
		if _, ok := nodes[id]; !ok {
			t.Errorf("removed node %q is not in the old graph", id)
		}
		delete(nodes, id)
	}
	for _, n := range d.AddedNodes {
		if _, ok := nodes[n.ID]; ok {
			t.Errorf("added node %q is already in the old graph", n.ID)
		}
		nodes[n.ID] = n
	}
	for _, n := range d.ChangedNodes {
		if old, ok := nodes[n.ID]; !ok || old.Equal(n) {
			t.Errorf("changed node %q: in old graph = %v, equal to old = %v", n.ID, ok, old.Equal(n))
		}
		nodes[n.ID] = n
	}
	edges := make(map[topology.EdgeID]topology.Edge, len(g.Edges))
	for _, e := range g.Edges {
		edges[e.ID] = e
	}
	for _, id := range d.RemovedEdges {
		if _, ok := edges[id]; !ok {
			t.Errorf("removed edge %q is not in the old graph", id)
		}
		delete(edges, id)
	}
	for _, e := range d.AddedEdges {
		if _, ok := edges[e.ID]; ok {
			t.Errorf("added edge %q is already in the old graph", e.ID)
		}
		edges[e.ID] = e
	}
	for _, e := range d.ChangedEdges {
		if old, ok := edges[e.ID]; !ok || old.Equal(e) {
			t.Errorf("changed edge %q: in old graph = %v, equal to old = %v", e.ID, ok, old.Equal(e))
		}
		edges[e.ID] = e
	}
	return topology.Graph{
		Nodes: slices.SortedFunc(maps.Values(nodes), func(a, b topology.Node) int { return strings.Compare(string(a.ID), string(b.ID)) }),
		Edges: slices.SortedFunc(maps.Values(edges), func(a, b topology.Edge) int { return strings.Compare(string(a.ID), string(b.ID)) }),
	}
}

// TestDiffApply is a property test: for random graphs a and b, applying
// Diff(a, b) to a gives b (by the test's own apply and by topology.Apply),
// and Diff(a, a) is empty.
func TestDiffApply(t *testing.T) {
	size := sceneSize{containers: 60, networks: 8, volumes: 20}
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 42))
		var a, b topology.Graph
		switch seed % 4 {
		case 0: // a few changes, as between two polls
			a = topology.Build(randomInventory(rand.New(rand.NewPCG(seed, 0)), size))
			b = topology.Build(mutateInventory(r, randomInventory(rand.New(rand.NewPCG(seed, 0)), size), 0.1))
		case 1: // things come and go
			a = topology.Build(randomInventory(rand.New(rand.NewPCG(seed, 0)), size))
			b = topology.Build(dropSome(r, mutateInventory(r, randomInventory(rand.New(rand.NewPCG(seed, 0)), size), 0.3)))
		case 2: // two unrelated engines that share IDs
			a = topology.Build(randomInventory(rand.New(rand.NewPCG(seed, 1)), size))
			b = topology.Build(randomInventory(rand.New(rand.NewPCG(seed, 2)), sceneSize{containers: 40 + r.IntN(40), networks: 1 + r.IntN(10), volumes: r.IntN(30)}))
		case 3: // one side empty
			a = topology.Build(randomInventory(rand.New(rand.NewPCG(seed, 0)), size))
			if r.IntN(2) == 0 {
				a, b = b, a
			}
		}
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			d := topology.Diff(a, b)
			checkDeltaSorted(t, d)
			if diff := cmp.Diff(b, apply(t, a, d), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("apply(a, Diff(a, b)) != b (-b +got):\n%s", diff)
			}
			if diff := cmp.Diff(b, topology.Apply(a, d), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Apply(a, Diff(a, b)) != b (-b +got):\n%s", diff)
			}
			if d := topology.Diff(a, a); !d.Empty() {
				t.Errorf("Diff(a, a) = %+v, want empty", summarize(d))
			}
			if got, want := d.Empty(), cmp.Equal(a, b, cmpopts.EquateEmpty()); got != want {
				t.Errorf("Diff(a, b).Empty() = %v, but a == b is %v", got, want)
			}
		})
	}
}

// dropSome removes about a tenth of the containers, networks and volumes.
func dropSome(r *rand.Rand, inv topology.Inventory) topology.Inventory {
	inv.Containers = slices.DeleteFunc(inv.Containers, func(topology.Container) bool { return r.IntN(10) == 0 })
	inv.Networks = slices.DeleteFunc(inv.Networks, func(topology.Network) bool { return r.IntN(10) == 0 })
	inv.Volumes = slices.DeleteFunc(inv.Volumes, func(topology.Volume) bool { return r.IntN(10) == 0 })
	return inv
}

// checkDeltaSorted checks that every list of d is in ID order, as the merge
// walk leaves it.
func checkDeltaSorted(t *testing.T, d topology.Delta) {
	t.Helper()
	s := summarize(d)
	for name, ids := range map[string][]topology.NodeID{"AddedNodes": s.AddedNodes, "ChangedNodes": s.ChangedNodes, "RemovedNodes": s.RemovedNodes} {
		if !slices.IsSorted(ids) {
			t.Errorf("%s not sorted: %v", name, ids)
		}
	}
	for name, ids := range map[string][]topology.EdgeID{"AddedEdges": s.AddedEdges, "ChangedEdges": s.ChangedEdges, "RemovedEdges": s.RemovedEdges} {
		if !slices.IsSorted(ids) {
			t.Errorf("%s not sorted: %v", name, ids)
		}
	}
}

// ignoredByEqual lists the fields Node.Equal skips on purpose (see
// ContainerInfo.equal): a change to them alone must not count.
var ignoredByEqual = map[string]bool{"container.Container.Status": true}
