package topology_test

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockmap/dockmap/internal/topology"
)

// running is a bare running container with one name.
func running(id, name string) topology.Container {
	return topology.Container{ID: id, Name: name, Names: []string{name}, State: "running", Status: "Up 1 minute"}
}

// containerNode is the node Build makes of running(id, name).
func containerNode(id, name string) topology.Node {
	return topology.Node{
		ID: topology.ContainerNodeID(id), Kind: topology.KindContainer, Label: name,
		Container: &topology.ContainerInfo{ID: id, Name: name, State: "running", Status: "Up 1 minute"},
	}
}

// withNames returns c with the given names (the primary one included).
func withNames(c topology.Container, names ...string) topology.Container {
	c.Names = names
	return c
}

func withNetworkMode(c topology.Container, mode string) topology.Container {
	c.NetworkMode = mode
	return c
}

func withEndpoints(c topology.Container, eps ...topology.Endpoint) topology.Container {
	c.Endpoints = eps
	return c
}

func withMounts(c topology.Container, ms ...topology.Mount) topology.Container {
	c.Mounts = ms
	return c
}

// nodeWith returns n after f has changed its container info.
func nodeWith(n topology.Node, f func(*topology.ContainerInfo)) topology.Node {
	f(n.Container)
	return n
}

func bridgeNetwork(id, name string) topology.Network {
	return topology.Network{ID: id, Name: name, Driver: "bridge", Scope: "local", ICC: true}
}

func networkNode(id, name string) topology.Node {
	return topology.Node{
		ID: topology.NetworkNodeID(id), Kind: topology.KindNetwork, Label: name,
		Network: &topology.NetworkInfo{ID: id, Name: name, Driver: "bridge", Scope: "local", ICC: true},
	}
}

func volumeNode(name string) topology.Node {
	return topology.Node{
		ID: topology.VolumeNodeID(name), Kind: topology.KindVolume, Label: name,
		Volume: &topology.VolumeInfo{Name: name, Driver: "local"},
	}
}

func volumeMount(name, dest string) topology.Mount {
	return topology.Mount{Type: "volume", Name: name, Source: "/var/lib/docker/volumes/" + name + "/_data", Destination: dest, Driver: "local", RW: true}
}

func mountEdge(cid string, to topology.NodeID, dest string, ro bool, typ, mode string) topology.Edge {
	return topology.Edge{
		ID:   topology.EdgeID("mt:" + cid + ">" + string(to) + ":" + dest),
		Kind: topology.EdgeMount, From: topology.ContainerNodeID(cid), To: to,
		Mount: &topology.MountInfo{Type: typ, Destination: dest, ReadOnly: ro, Mode: mode},
	}
}

func linkEdge(from, to, alias string) topology.Edge {
	return topology.Edge{
		ID:   topology.EdgeID("l:" + from + ">" + to + ":" + alias),
		Kind: topology.EdgeLink, From: topology.ContainerNodeID(from), To: topology.ContainerNodeID(to),
		Link: &topology.LinkInfo{Alias: alias},
	}
}

func netnsEdge(from, donor string) topology.Edge {
	return topology.Edge{
		ID:   topology.EdgeID("ns:" + from + ">" + donor),
		Kind: topology.EdgeNetNS, From: topology.ContainerNodeID(from), To: topology.ContainerNodeID(donor),
	}
}

func withVolumesFrom(c topology.Container, from ...string) topology.Container {
	c.VolumesFrom = from
	return c
}

func volumesFromEdge(from, donor, ref string, ro bool) topology.Edge {
	return topology.Edge{
		ID:   topology.EdgeID("vf:" + from + ">" + donor),
		Kind: topology.EdgeVolumesFrom, From: topology.ContainerNodeID(from), To: topology.ContainerNodeID(donor),
		VolumesFrom: &topology.VolumesFromInfo{ReadOnly: ro, Ref: ref},
	}
}

func TestBuild(t *testing.T) {
	var (
		web, db, api, side = pad("0eb"), pad("db"), pad("a91"), pad("5de")
		netA, netB         = pad("a"), pad("b")
		anon               = strings.Repeat("0123456789abcdef", 4)
	)
	tests := []struct {
		name string
		inv  topology.Inventory
		want topology.Graph
	}{
		{
			name: "empty",
		},
		{
			name: "container fields are carried over",
			inv: topology.Inventory{Containers: []topology.Container{{
				ID: web, Name: "web", Names: []string{"web"}, Image: "nginx:1.27", ImageID: "sha256:" + pad("1"),
				Command: "nginx -g 'daemon off;'", Created: created, State: "running", Status: "Up 2 hours",
				Labels: map[string]string{"a": "b"}, NetworkMode: "host",
				Ports: []topology.Port{{IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp"}},
			}}},
			want: topology.Graph{Nodes: []topology.Node{{
				ID: topology.ContainerNodeID(web), Kind: topology.KindContainer, Label: "web",
				Container: &topology.ContainerInfo{
					ID: web, Name: "web", Image: "nginx:1.27", ImageID: "sha256:" + pad("1"),
					Command: "nginx -g 'daemon off;'", Created: created, State: "running", Status: "Up 2 hours",
					Labels: map[string]string{"a": "b"}, NetworkMode: "host",
					Ports: []topology.Port{{IP: "0.0.0.0", PrivatePort: 80, PublicPort: 8080, Type: "tcp"}},
				},
			}}},
		},
		{
			name: "link from parent to target",
			inv: topology.Inventory{Containers: []topology.Container{
				withNames(running(db, "database"), "database", "web/db"),
				running(web, "web"),
			}},
			want: topology.Graph{
				Nodes: []topology.Node{containerNode(web, "web"), containerNode(db, "database")},
				Edges: []topology.Edge{linkEdge(web, db, "db")},
			},
		},
		{
			name: "link from an unknown parent is ignored",
			inv: topology.Inventory{Containers: []topology.Container{
				withNames(running(db, "database"), "database", "gone/db"),
				running(web, "web"),
			}},
			want: topology.Graph{Nodes: []topology.Node{containerNode(web, "web"), containerNode(db, "database")}},
		},
		{
			name: "two parents link to one target",
			inv: topology.Inventory{Containers: []topology.Container{
				running(api, "api"),
				withNames(running(db, "database"), "api/pg", "database", "web/db"),
				running(web, "web"),
			}},
			want: topology.Graph{
				Nodes: []topology.Node{containerNode(web, "web"), containerNode(api, "api"), containerNode(db, "database")},
				Edges: []topology.Edge{linkEdge(web, db, "db"), linkEdge(api, db, "pg")},
			},
		},
		{
			name: "duplicate link edges are compacted",
			inv: topology.Inventory{Containers: []topology.Container{
				withNames(running(db, "database"), "database", "web/db", "web/db"),
				running(web, "web"),
			}},
			want: topology.Graph{
				Nodes: []topology.Node{containerNode(web, "web"), containerNode(db, "database")},
				Edges: []topology.Edge{linkEdge(web, db, "db")},
			},
		},
		{
			name: "container on two networks",
			inv: topology.Inventory{
				Networks: []topology.Network{bridgeNetwork(netB, "back"), bridgeNetwork(netA, "front")},
				Containers: []topology.Container{withEndpoints(running(web, "web"),
					topology.Endpoint{
						NetworkID: netB, NetworkName: "back", EndpointID: pad("e1"), IP: "172.20.0.5", PrefixLen: 16,
						Gateway: "172.20.0.1", IPv6: "fd00::5", MAC: "02:42:ac:14:00:05", Aliases: []string{"web", "www"},
					},
					topology.Endpoint{
						NetworkID: netA, NetworkName: "front", EndpointID: pad("e2"), IP: "10.0.0.7", PrefixLen: 24,
						Gateway: "10.0.0.1", MAC: "02:42:0a:00:00:07",
					},
				)},
			},
			want: topology.Graph{
				Nodes: []topology.Node{containerNode(web, "web"), networkNode(netA, "front"), networkNode(netB, "back")},
				Edges: []topology.Edge{
					{
						ID: topology.EdgeID("m:" + web + "@" + netA), Kind: topology.EdgeMember,
						From: topology.ContainerNodeID(web), To: topology.NetworkNodeID(netA),
						Member: &topology.MemberInfo{
							NetworkName: "front", NetworkID: netA, EndpointID: pad("e2"), IP: "10.0.0.7", PrefixLen: 24,
							Gateway: "10.0.0.1", MAC: "02:42:0a:00:00:07",
						},
					},
					{
						ID: topology.EdgeID("m:" + web + "@" + netB), Kind: topology.EdgeMember,
						From: topology.ContainerNodeID(web), To: topology.NetworkNodeID(netB),
						Member: &topology.MemberInfo{
							NetworkName: "back", NetworkID: netB, EndpointID: pad("e1"), IP: "172.20.0.5", PrefixLen: 16,
							Gateway: "172.20.0.1", IPv6: "fd00::5", MAC: "02:42:ac:14:00:05", Aliases: []string{"web", "www"},
						},
					},
				},
			},
		},
		{
			name: "member of a network missing from the list is dropped",
			inv: topology.Inventory{
				Networks: []topology.Network{bridgeNetwork(netA, "front")},
				Containers: []topology.Container{withEndpoints(running(web, "web"),
					topology.Endpoint{NetworkID: netA, NetworkName: "front", IP: "10.0.0.7"},
					topology.Endpoint{NetworkID: netB, NetworkName: "back", IP: "172.20.0.5"},
				)},
			},
			want: topology.Graph{
				Nodes: []topology.Node{containerNode(web, "web"), networkNode(netA, "front")},
				Edges: []topology.Edge{{
					ID: topology.EdgeID("m:" + web + "@" + netA), Kind: topology.EdgeMember,
					From: topology.ContainerNodeID(web), To: topology.NetworkNodeID(netA),
					Member: &topology.MemberInfo{NetworkName: "front", NetworkID: netA, IP: "10.0.0.7"},
				}},
			},
		},
		{
			name: "default bridge is marked, icc off is kept",
			inv: topology.Inventory{Networks: []topology.Network{
				{
					ID: netA, Name: "bridge", Driver: "bridge", Scope: "local", ICC: true, Default: true,
					Subnets: []topology.Subnet{{Subnet: "172.17.0.0/16", Gateway: "172.17.0.1"}},
					Options: map[string]string{"com.docker.network.bridge.default_bridge": "true"},
				},
				{
					ID: netB, Name: "isolated", Driver: "bridge", Scope: "local", Internal: true, Attachable: true,
					Options: map[string]string{"com.docker.network.bridge.enable_icc": "false"},
					Labels:  map[string]string{"team": "ops"},
				},
			}},
			want: topology.Graph{Nodes: []topology.Node{
				{
					ID: topology.NetworkNodeID(netA), Kind: topology.KindNetwork, Label: "bridge",
					Network: &topology.NetworkInfo{
						ID: netA, Name: "bridge", Driver: "bridge", Scope: "local", ICC: true, Default: true,
						Subnets: []topology.Subnet{{Subnet: "172.17.0.0/16", Gateway: "172.17.0.1"}},
						Options: map[string]string{"com.docker.network.bridge.default_bridge": "true"},
					},
				},
				{
					ID: topology.NetworkNodeID(netB), Kind: topology.KindNetwork, Label: "isolated",
					Network: &topology.NetworkInfo{
						ID: netB, Name: "isolated", Driver: "bridge", Scope: "local", Internal: true, Attachable: true,
						Options: map[string]string{"com.docker.network.bridge.enable_icc": "false"},
						Labels:  map[string]string{"team": "ops"},
					},
				},
			}},
		},
		{
			name: "netns donor by ID and by name, unknown donors dropped",
			inv: topology.Inventory{Containers: []topology.Container{
				running(web, "web"),
				withNetworkMode(running(side, "by-id"), "container:"+web),
				withNetworkMode(running(api, "by-name"), "container:web"),
				withNetworkMode(running(db, "gone-name"), "container:gone"),
				withNetworkMode(running(pad("f"), "gone-id"), "container:"+pad("dead")),
			}},
			want: topology.Graph{
				Nodes: []topology.Node{
					containerNode(web, "web"),
					nodeWith(containerNode(side, "by-id"), func(c *topology.ContainerInfo) { c.NetworkMode = "container:" + web }),
					nodeWith(containerNode(api, "by-name"), func(c *topology.ContainerInfo) { c.NetworkMode = "container:web" }),
					nodeWith(containerNode(db, "gone-name"), func(c *topology.ContainerInfo) { c.NetworkMode = "container:gone" }),
					nodeWith(containerNode(pad("f"), "gone-id"), func(c *topology.ContainerInfo) { c.NetworkMode = "container:" + pad("dead") }),
				},
				Edges: []topology.Edge{netnsEdge(side, web), netnsEdge(api, web)},
			},
		},
		{
			name: "volumes-from by name and by ID, ro and rw, unknown donors dropped",
			inv: topology.Inventory{Containers: []topology.Container{
				running(web, "web"),
				running(db, "database"),
				withVolumesFrom(running(side, "by-name"), "web", "/database:ro"),
				withVolumesFrom(running(api, "by-id"), web+":rw", "gone:ro", pad("dead")),
			}},
			want: topology.Graph{
				Nodes: []topology.Node{
					containerNode(web, "web"), containerNode(side, "by-name"),
					containerNode(api, "by-id"), containerNode(db, "database"),
				},
				Edges: []topology.Edge{
					volumesFromEdge(side, web, "web", false), volumesFromEdge(side, db, "database", true),
					volumesFromEdge(api, web, web, false),
				},
			},
		},
		{
			name: "volume shared by two containers",
			inv: topology.Inventory{
				Volumes: []topology.Volume{{Name: "data", Driver: "local"}},
				Containers: []topology.Container{
					withMounts(running(web, "web"), volumeMount("data", "/srv")),
					withMounts(running(db, "database"), volumeMount("data", "/var/lib/data")),
				},
			},
			want: topology.Graph{
				Nodes: []topology.Node{containerNode(web, "web"), containerNode(db, "database"), volumeNode("data")},
				Edges: []topology.Edge{
					mountEdge(web, topology.VolumeNodeID("data"), "/srv", false, "volume", ""),
					mountEdge(db, topology.VolumeNodeID("data"), "/var/lib/data", false, "volume", ""),
				},
			},
		},
		{
			name: "read-only bind shared by two containers",
			inv: topology.Inventory{Containers: []topology.Container{
				withMounts(running(web, "web"), topology.Mount{Type: "bind", Source: "/srv/conf", Destination: "/etc/app", Mode: "ro"}),
				withMounts(running(db, "database"), topology.Mount{Type: "bind", Source: "/srv/conf", Destination: "/conf", RW: true}),
			}},
			want: topology.Graph{
				Nodes: []topology.Node{
					{ID: topology.BindNodeID("/srv/conf"), Kind: topology.KindBind, Label: "/srv/conf", Bind: &topology.BindInfo{Path: "/srv/conf"}},
					containerNode(web, "web"), containerNode(db, "database"),
				},
				Edges: []topology.Edge{
					mountEdge(web, topology.BindNodeID("/srv/conf"), "/etc/app", true, "bind", "ro"),
					mountEdge(db, topology.BindNodeID("/srv/conf"), "/conf", false, "bind", ""),
				},
			},
		},
		{
			name: "anonymous volume gets a short label",
			inv: topology.Inventory{
				Volumes:    []topology.Volume{{Name: anon, Driver: "local", Labels: map[string]string{topology.AnonymousVolumeLabel: ""}, Anonymous: true}},
				Containers: []topology.Container{withMounts(running(web, "web"), volumeMount(anon, "/cache"))},
			},
			want: topology.Graph{
				Nodes: []topology.Node{
					containerNode(web, "web"),
					{
						ID: topology.VolumeNodeID(anon), Kind: topology.KindVolume, Label: "0123456789ab",
						Volume: &topology.VolumeInfo{Name: anon, Driver: "local", Anonymous: true, Labels: map[string]string{topology.AnonymousVolumeLabel: ""}},
					},
				},
				Edges: []topology.Edge{mountEdge(web, topology.VolumeNodeID(anon), "/cache", false, "volume", "")},
			},
		},
		{
			name: "named volumes keep their whole name as label",
			inv: topology.Inventory{Volumes: []topology.Volume{
				{Name: "myproject_postgres-data", Driver: "local"},
				// Only the adapter decides anonymity; a user may pick a hex name.
				{Name: anon, Driver: "local"},
			}},
			want: topology.Graph{Nodes: []topology.Node{volumeNode(anon), volumeNode("myproject_postgres-data")}},
		},
		{
			name: "volumes missing from the list are drawn from their mounts",
			inv: topology.Inventory{Containers: []topology.Container{
				withMounts(running(web, "web"), volumeMount("late", "/a"), volumeMount(anon, "/b")),
				withMounts(running(db, "database"), volumeMount("late", "/c")),
			}},
			want: topology.Graph{
				Nodes: []topology.Node{
					containerNode(web, "web"), containerNode(db, "database"),
					{
						ID: topology.VolumeNodeID(anon), Kind: topology.KindVolume, Label: "0123456789ab",
						Volume: &topology.VolumeInfo{Name: anon, Driver: "local", Anonymous: true},
					},
					volumeNode("late"),
				},
				Edges: []topology.Edge{
					mountEdge(web, topology.VolumeNodeID(anon), "/b", false, "volume", ""),
					mountEdge(web, topology.VolumeNodeID("late"), "/a", false, "volume", ""),
					mountEdge(db, topology.VolumeNodeID("late"), "/c", false, "volume", ""),
				},
			},
		},
		{
			name: "tmpfs is a badge, not an edge; npipe is ignored",
			inv: topology.Inventory{Containers: []topology.Container{withMounts(running(web, "web"),
				topology.Mount{Type: "tmpfs", Destination: "/run", RW: true},
				topology.Mount{Type: "tmpfs", Destination: "/tmp", RW: true},
				topology.Mount{Type: "npipe", Source: `\\.\pipe\docker_engine`, Destination: `\\.\pipe\docker_engine`, RW: true},
			)}},
			want: topology.Graph{Nodes: []topology.Node{
				nodeWith(containerNode(web, "web"), func(c *topology.ContainerInfo) { c.Tmpfs = []string{"/run", "/tmp"} }),
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := topology.Build(tt.inv)
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Build() mismatch (-want +got):\n%s", diff)
			}
			checkGraph(t, got)
		})
	}
}

func TestBuildHealth(t *testing.T) {
	tests := []struct {
		status string
		want   string
	}{
		{"Up 2 minutes (healthy)", "healthy"},
		{"Up 5 seconds (unhealthy)", "unhealthy"},
		{"Up 3 seconds (health: starting)", "starting"},
		{"Up 2 minutes", ""},
		{"Up 2 minutes (Paused)", ""},
		{"Exited (0) 3 minutes ago", ""},
		{"Created", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.status, func(t *testing.T) {
			c := running(pad("1"), "c")
			c.Status = tt.status
			g := topology.Build(topology.Inventory{Containers: []topology.Container{c}})
			n, ok := g.Node(topology.ContainerNodeID(c.ID))
			if !ok {
				t.Fatalf("Node(%q) missing", c.ID)
			}
			if got := n.Container.Health; got != tt.want {
				t.Errorf("Health of %q = %q, want %q", tt.status, got, tt.want)
			}
		})
	}
}

func TestLooksAnonymous(t *testing.T) {
	hex64 := strings.Repeat("0123456789abcdef", 4)
	tests := []struct {
		name   string
		volume string
		labels map[string]string
		want   bool
	}{
		{"64 hex digits", hex64, nil, true},
		{"anonymous label", "myvol", map[string]string{topology.AnonymousVolumeLabel: ""}, true},
		{"named", "dbdata", nil, false},
		{"63 hex digits", hex64[:63], nil, false},
		{"65 hex digits", hex64 + "0", nil, false},
		{"upper case hex", strings.ToUpper(hex64), nil, false},
		{"64 non-hex", strings.Repeat("g", 64), nil, false},
		{"other labels only", "dbdata", map[string]string{"com.docker.compose.volume": "dbdata"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := topology.LooksAnonymous(tt.volume, tt.labels); got != tt.want {
				t.Errorf("LooksAnonymous(%q, %v) = %v, want %v", tt.volume, tt.labels, got, tt.want)
			}
		})
	}
}

// TestBuildEmptyJSON pins that an empty graph goes out as empty arrays, not
// null, so the browser can iterate without checks.
func TestBuildEmptyJSON(t *testing.T) {
	got, err := json.Marshal(topology.Build(topology.Inventory{}))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"nodes":[],"edges":[]}`; string(got) != want {
		t.Errorf("json.Marshal(Build(empty)) = %s, want %s", got, want)
	}
}

// TestBuildDeterministic shuffles every list of the inventory (and the
// names and endpoints of each container) and expects the same graph.
func TestBuildDeterministic(t *testing.T) {
	scenes := map[string]topology.Inventory{
		"tutorial": tutorialInventory(),
		"random":   randomInventory(rand.New(rand.NewPCG(1, 2)), sceneSize{containers: 200, networks: 20, volumes: 80}),
	}
	for name, inv := range scenes {
		t.Run(name, func(t *testing.T) {
			want := topology.Build(inv)
			r := rand.New(rand.NewPCG(3, 4))
			for range 20 {
				shuffled := shuffle(r, inv)
				if diff := cmp.Diff(want, topology.Build(shuffled)); diff != "" {
					t.Fatalf("Build(shuffled) differs (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// shuffle returns a copy of inv with its lists in a random order. Mounts keep
// their order: the adapter sorts them and Tmpfs follows it.
func shuffle(r *rand.Rand, inv topology.Inventory) topology.Inventory {
	out := topology.Inventory{
		Containers: slices.Clone(inv.Containers),
		Networks:   slices.Clone(inv.Networks),
		Volumes:    slices.Clone(inv.Volumes),
	}
	r.Shuffle(len(out.Containers), func(i, j int) { out.Containers[i], out.Containers[j] = out.Containers[j], out.Containers[i] })
	r.Shuffle(len(out.Networks), func(i, j int) { out.Networks[i], out.Networks[j] = out.Networks[j], out.Networks[i] })
	r.Shuffle(len(out.Volumes), func(i, j int) { out.Volumes[i], out.Volumes[j] = out.Volumes[j], out.Volumes[i] })
	for i := range out.Containers {
		c := &out.Containers[i]
		c.Names = slices.Clone(c.Names)
		c.Endpoints = slices.Clone(c.Endpoints)
		r.Shuffle(len(c.Names), func(i, j int) { c.Names[i], c.Names[j] = c.Names[j], c.Names[i] })
		r.Shuffle(len(c.Endpoints), func(i, j int) { c.Endpoints[i], c.Endpoints[j] = c.Endpoints[j], c.Endpoints[i] })
	}
	return out
}

// TestBuildInvariants checks, on generated engines of several sizes, what
// Diff and the browser rely on: nodes and edges sorted by ID with no
// repeats, every edge between two existing nodes, each edge kind between
// the right node kinds, and exactly one info struct per node.
func TestBuildInvariants(t *testing.T) {
	sizes := []sceneSize{{0, 0, 0}, {1, 1, 1}, {10, 0, 0}, {30, 3, 10}, {300, 30, 100}}
	for seed := range uint64(20) {
		size := sizes[seed%uint64(len(sizes))]
		inv := randomInventory(rand.New(rand.NewPCG(seed, seed)), size)
		checkGraph(t, topology.Build(inv))
	}
	checkGraph(t, topology.Build(tutorialInventory()))
	checkGraph(t, topology.Build(tutorialLater()))
}

// checkGraph reports every broken invariant of g.
func checkGraph(t *testing.T, g topology.Graph) {
	t.Helper()
	for i := 1; i < len(g.Nodes); i++ {
		if g.Nodes[i-1].ID >= g.Nodes[i].ID {
			t.Errorf("Nodes[%d].ID = %q, not after Nodes[%d].ID = %q", i, g.Nodes[i].ID, i-1, g.Nodes[i-1].ID)
		}
	}
	for i := 1; i < len(g.Edges); i++ {
		if g.Edges[i-1].ID >= g.Edges[i].ID {
			t.Errorf("Edges[%d].ID = %q, not after Edges[%d].ID = %q", i, g.Edges[i].ID, i-1, g.Edges[i-1].ID)
		}
	}
	prefix := map[topology.NodeKind]string{
		topology.KindContainer: "c:", topology.KindNetwork: "n:", topology.KindVolume: "v:", topology.KindBind: "b:",
		topology.KindProject: "p:",
	}
	for _, n := range g.Nodes {
		if !strings.HasPrefix(string(n.ID), prefix[n.Kind]) || prefix[n.Kind] == "" {
			t.Errorf("node %q has kind %q", n.ID, n.Kind)
		}
		set := map[topology.NodeKind]bool{
			topology.KindContainer: n.Container != nil, topology.KindNetwork: n.Network != nil,
			topology.KindVolume: n.Volume != nil, topology.KindBind: n.Bind != nil,
			topology.KindProject: n.Project != nil,
		}
		if n.Group != "" {
			if box, ok := g.Node(n.Group); !ok || box.Kind != topology.KindProject {
				t.Errorf("node %q is grouped in %q, not a project node on the map", n.ID, n.Group)
			}
		}
		for kind, ok := range set {
			if ok != (kind == n.Kind) {
				t.Errorf("node %q of kind %q: %s info set = %v", n.ID, n.Kind, kind, ok)
			}
		}
	}
	ends := map[topology.EdgeKind][2]topology.NodeKind{
		topology.EdgeLink:        {topology.KindContainer, topology.KindContainer},
		topology.EdgeMember:      {topology.KindContainer, topology.KindNetwork},
		topology.EdgeNetNS:       {topology.KindContainer, topology.KindContainer},
		topology.EdgeVolumesFrom: {topology.KindContainer, topology.KindContainer},
		topology.EdgeDependsOn:   {topology.KindContainer, topology.KindContainer},
	}
	for _, e := range g.Edges {
		from, ok := g.Node(e.From)
		if !ok {
			t.Errorf("edge %q starts at missing node %q", e.ID, e.From)
			continue
		}
		to, ok := g.Node(e.To)
		if !ok {
			t.Errorf("edge %q ends at missing node %q", e.ID, e.To)
			continue
		}
		want, ok := ends[e.Kind]
		if e.Kind == topology.EdgeMount {
			want, ok = [2]topology.NodeKind{topology.KindContainer, to.Kind}, to.Kind == topology.KindVolume || to.Kind == topology.KindBind
		}
		if got := [2]topology.NodeKind{from.Kind, to.Kind}; !ok || got != want {
			t.Errorf("edge %q of kind %q joins %v", e.ID, e.Kind, got)
		}
		infos := 0
		for _, set := range []bool{e.Link != nil, e.Member != nil, e.Mount != nil, e.VolumesFrom != nil, e.DependsOn != nil} {
			if set {
				infos++
			}
		}
		if wantInfos := map[bool]int{true: 0, false: 1}[e.Kind == topology.EdgeNetNS]; infos != wantInfos {
			t.Errorf("edge %q of kind %q carries %d info structs, want %d", e.ID, e.Kind, infos, wantInfos)
		}
	}
}

func TestGraphLookups(t *testing.T) {
	g := topology.Build(tutorialInventory())
	for _, n := range g.Nodes {
		got, ok := g.Node(n.ID)
		if !ok || !got.Equal(n) {
			t.Errorf("Node(%q) = %v, %v; want the node, true", n.ID, got, ok)
		}
	}
	if got, ok := g.Node("c:nope"); ok {
		t.Errorf("Node(c:nope) = %v, true; want false", got)
	}

	var got []topology.EdgeID
	for _, e := range g.EdgesOf(topology.ContainerNodeID(idDatabase)) {
		got = append(got, e.ID)
	}
	want := []topology.EdgeID{
		topology.EdgeID("l:" + idWeb + ">" + idDatabase + ":database"),
		topology.EdgeID("m:" + idDatabase + "@" + idAppnet),
		topology.EdgeID("m:" + idDatabase + "@" + idBridge),
		topology.EdgeID("mt:" + idDatabase + ">v:dbdata:/var/lib/postgresql/data"),
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("EdgesOf(database) mismatch (-want +got):\n%s", diff)
	}
}

// A container that never ran lists its network by name with no ID (seen
// on engine 20.10); it is still a member of that network.
func TestBuildNeverStartedContainerJoinsNetworkByName(t *testing.T) {
	inv := topology.Inventory{
		Networks: []topology.Network{{ID: "net1", Name: "bridge", Default: true}},
		Containers: []topology.Container{{
			ID: "c1", Name: "fresh", Names: []string{"fresh"}, State: "created",
			Endpoints: []topology.Endpoint{{NetworkName: "bridge"}},
		}},
	}
	g := topology.Build(inv)
	want := topology.EdgeID("m:c1@net1")
	if len(g.Edges) != 1 || g.Edges[0].ID != want || g.Edges[0].To != topology.NetworkNodeID("net1") {
		t.Fatalf("edges = %+v, want one member edge %s", g.Edges, want)
	}
}

func TestBuildBrokenLinks(t *testing.T) {
	web, db, api := pad("we"), pad("db"), pad("a0")
	old := "database-dockmap-old-0123456789ab"
	withLinks := func(c topology.Container, ls ...topology.LinkRef) topology.Container {
		c.Links = ls
		return c
	}
	inv := topology.Inventory{Containers: []topology.Container{
		// web's link "db" is live (the list names it on database); its link
		// "old" names a container that was removed.
		withLinks(running(web, "web"), topology.LinkRef{Target: "database", Alias: "db"}, topology.LinkRef{Target: old, Alias: "old"}),
		withNames(running(db, "database"), "database", "web/db"),
		// api's link names the same removed container: one ghost for both.
		withLinks(running(api, "api"), topology.LinkRef{Target: old, Alias: "legacy"}),
	}}
	g := topology.Build(inv)
	ghost, ok := g.Node(topology.GhostNodeID(old))
	if !ok || ghost.Kind != topology.KindGhost || ghost.Ghost == nil {
		t.Fatalf("ghost node %s = %+v (found %v), want a ghost", old, ghost, ok)
	}
	if diff := cmp.Diff(topology.GhostInfo{Name: old, Original: "database"}, *ghost.Ghost); diff != "" {
		t.Errorf("ghost info mismatch (-want +got):\n%s", diff)
	}
	var got []topology.Edge
	for _, e := range g.Edges {
		if e.Kind == topology.EdgeBrokenLink {
			got = append(got, e)
		}
	}
	want := []topology.Edge{
		{ID: topology.EdgeID("bl:" + api + ":legacy"), Kind: topology.EdgeBrokenLink, From: topology.ContainerNodeID(api),
			To: topology.GhostNodeID(old), Link: &topology.LinkInfo{Alias: "legacy", Target: old}},
		{ID: topology.EdgeID("bl:" + web + ":old"), Kind: topology.EdgeBrokenLink, From: topology.ContainerNodeID(web),
			To: topology.GhostNodeID(old), Link: &topology.LinkInfo{Alias: "old", Target: old}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("broken links mismatch (-want +got):\n%s", diff)
	}
	if _, ok := g.Edge(topology.EdgeID("l:" + web + ">" + db + ":db")); !ok {
		t.Errorf("the live link web → database as db is missing")
	}
	if !slices.IsSortedFunc(g.Edges, func(a, b topology.Edge) int { return strings.Compare(string(a.ID), string(b.ID)) }) {
		t.Errorf("edges are not sorted by ID")
	}
}

func TestBuildVolumeBacking(t *testing.T) {
	inv := topology.Inventory{Volumes: []topology.Volume{
		{Name: "plain", Driver: "local"},
		{Name: "hostroot", Driver: "local", Options: map[string]string{"type": "none", "o": "bind", "device": "/"}},
		{Name: "disk", Driver: "local", Options: map[string]string{"type": "ext4", "device": "/dev/sda1"}},
		{Name: "ram", Driver: "local", Options: map[string]string{"type": "tmpfs", "device": "tmpfs", "o": "size=10m"}},
	}}
	g := topology.Build(inv)
	for name, want := range map[string]string{"plain": "", "hostroot": "bind /", "disk": "ext4 /dev/sda1", "ram": ""} {
		n, _ := g.Node(topology.VolumeNodeID(name))
		if n.Volume.Backing != want {
			t.Errorf("volume %s: Backing = %q, want %q", name, n.Volume.Backing, want)
		}
	}
}
