package topology_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// pad turns a readable hex prefix into a 64-digit engine ID, so that golden
// files stay legible: pad("0eb") is "0eb000…000".
func pad(prefix string) string { return prefix + strings.Repeat("0", 64-len(prefix)) }

// IDs of the tutorial scene.
var (
	idDatabase = pad("da7aba5e")
	idWeb      = pad("0eb")
	idExporter = pad("e4907e7")
	idMigrate  = pad("319a7e")
	idCache    = pad("cac4e")

	idBridge = pad("b1d9e")
	idHost   = pad("4057")
	idNone   = pad("0e0e")
	idAppnet = pad("a99e7")

	// anonVolume is a name the engine picked itself (64 hex digits).
	anonVolume = "7d2f4c1e9a8b6d5c3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d"
)

const created = 1767225600 // 2026-01-01T00:00:00Z

// tutorialInventory is the scene of the Docker links tutorial, grown a little:
// web links to database (alias "database") on the default bridge, both are
// also on the user network appnet, web mounts a named volume shared with a
// stopped migrate job, a read-only bind and an anonymous volume, and a
// metrics exporter shares web's network namespace. It is built the way
// internal/docker fills an Inventory: names without the leading slash and
// sorted, ports/endpoints/mounts sorted, Anonymous already decided.
func tutorialInventory() topology.Inventory {
	return topology.Inventory{
		Networks: []topology.Network{
			{
				ID: idBridge, Name: "bridge", Driver: "bridge", Scope: "local", ICC: true, Default: true,
				Subnets: []topology.Subnet{{Subnet: "172.17.0.0/16", Gateway: "172.17.0.1"}},
				Options: map[string]string{
					"com.docker.network.bridge.default_bridge":       "true",
					"com.docker.network.bridge.enable_icc":           "true",
					"com.docker.network.bridge.enable_ip_masquerade": "true",
					"com.docker.network.bridge.host_binding_ipv4":    "0.0.0.0",
					"com.docker.network.bridge.name":                 "docker0",
					"com.docker.network.driver.mtu":                  "1500",
				},
			},
			{ID: idHost, Name: "host", Driver: "host", Scope: "local", ICC: true},
			{ID: idNone, Name: "none", Driver: "null", Scope: "local", ICC: true},
			{
				ID: idAppnet, Name: "appnet", Driver: "bridge", Scope: "local", ICC: true,
				Subnets: []topology.Subnet{{Subnet: "172.18.0.0/16", Gateway: "172.18.0.1"}},
				Labels:  map[string]string{"com.example.team": "web"},
			},
		},
		Volumes: []topology.Volume{
			{Name: "dbdata", Driver: "local", Mountpoint: "/var/lib/docker/volumes/dbdata/_data"},
			{
				Name: "uploads", Driver: "local", Mountpoint: "/var/lib/docker/volumes/uploads/_data",
				Labels: map[string]string{"com.example.backup": "nightly"},
			},
			{
				Name: anonVolume, Driver: "local", Mountpoint: "/var/lib/docker/volumes/" + anonVolume + "/_data",
				Labels: map[string]string{topology.AnonymousVolumeLabel: ""}, Anonymous: true,
			},
		},
		Containers: []topology.Container{
			{
				ID: idDatabase, Name: "database", Names: []string{"database", "web/database"},
				Image: "postgres:16", ImageID: "sha256:" + pad("9057"),
				Command: "docker-entrypoint.sh postgres", Created: created,
				State: "running", Status: "Up 12 minutes (healthy)",
				Labels:      map[string]string{"com.example.role": "db"},
				Ports:       []topology.Port{{PrivatePort: 5432, Type: "tcp"}},
				NetworkMode: "bridge",
				Endpoints: []topology.Endpoint{
					{
						NetworkID: idAppnet, NetworkName: "appnet", EndpointID: pad("e1a"),
						IP: "172.18.0.2", PrefixLen: 16, Gateway: "172.18.0.1", MAC: "02:42:ac:12:00:02",
						Aliases: []string{"db"},
					},
					{
						NetworkID: idBridge, NetworkName: "bridge", EndpointID: pad("e1b"),
						IP: "172.17.0.2", PrefixLen: 16, Gateway: "172.17.0.1", MAC: "02:42:ac:11:00:02",
					},
				},
				Mounts: []topology.Mount{{
					Type: "volume", Name: "dbdata", Source: "/var/lib/docker/volumes/dbdata/_data",
					Destination: "/var/lib/postgresql/data", Driver: "local", Mode: "z", RW: true,
				}},
			},
			{
				ID: idWeb, Name: "web", Names: []string{"web"},
				Image: "training/webapp", ImageID: "sha256:" + pad("3ebab9"),
				Command: "python app.py", Created: created + 60,
				State: "running", Status: "Up 11 minutes",
				Ports: []topology.Port{
					{IP: "0.0.0.0", PrivatePort: 5000, PublicPort: 32768, Type: "tcp"},
					{IP: "::", PrivatePort: 5000, PublicPort: 32768, Type: "tcp"},
				},
				NetworkMode: "bridge",
				Endpoints: []topology.Endpoint{
					{
						NetworkID: idAppnet, NetworkName: "appnet", EndpointID: pad("e2a"),
						IP: "172.18.0.3", PrefixLen: 16, Gateway: "172.18.0.1", MAC: "02:42:ac:12:00:03",
						Aliases: []string{"frontend"},
					},
					{
						NetworkID: idBridge, NetworkName: "bridge", EndpointID: pad("e2b"),
						IP: "172.17.0.3", PrefixLen: 16, Gateway: "172.17.0.1", MAC: "02:42:ac:11:00:03",
					},
				},
				Mounts: []topology.Mount{
					{Type: "bind", Source: "/srv/web/nginx.conf", Destination: "/etc/nginx/nginx.conf", Mode: "ro"},
					{
						Type: "volume", Name: "uploads", Source: "/var/lib/docker/volumes/uploads/_data",
						Destination: "/opt/webapp/uploads", Driver: "local", Mode: "z", RW: true,
					},
					{Type: "tmpfs", Destination: "/run", RW: true},
					{
						Type: "volume", Name: anonVolume, Source: "/var/lib/docker/volumes/" + anonVolume + "/_data",
						Destination: "/var/cache/webapp", Driver: "local", RW: true,
					},
				},
			},
			{
				ID: idExporter, Name: "web-exporter", Names: []string{"web-exporter"},
				Image: "prom/statsd-exporter:v0.28.0", ImageID: "sha256:" + pad("57a75d"),
				Command: "/bin/statsd_exporter", Created: created + 120,
				State: "running", Status: "Up 11 minutes",
				NetworkMode: "container:" + idWeb,
			},
			{
				ID: idMigrate, Name: "migrate", Names: []string{"migrate"},
				Image: "training/webapp", ImageID: "sha256:" + pad("3ebab9"),
				Command: "python migrate.py", Created: created + 30,
				State: "exited", Status: "Exited (0) 10 minutes ago",
				NetworkMode: "appnet",
				// A stopped container keeps its network but has no endpoint.
				Endpoints: []topology.Endpoint{{NetworkID: idAppnet, NetworkName: "appnet"}},
				Mounts: []topology.Mount{{
					Type: "volume", Name: "uploads", Source: "/var/lib/docker/volumes/uploads/_data",
					Destination: "/opt/webapp/uploads", Driver: "local", Mode: "z", RW: true,
				}},
			},
		},
	}
}

// tutorialLater is the tutorial scene a few minutes on: web-exporter was
// killed, migrate removed, database disconnected from appnet, and a new
// cache container started on the default bridge with --link database:db.
func tutorialLater() topology.Inventory {
	inv := tutorialInventory()
	inv.Containers = slices.DeleteFunc(inv.Containers, func(c topology.Container) bool { return c.ID == idMigrate })
	for i := range inv.Containers {
		c := &inv.Containers[i]
		switch c.ID {
		case idExporter:
			c.State, c.Status = "exited", "Exited (137) 3 seconds ago"
		case idDatabase:
			c.Names = []string{"cache/db", "database", "web/database"}
			c.Endpoints = slices.DeleteFunc(c.Endpoints, func(ep topology.Endpoint) bool { return ep.NetworkID == idAppnet })
		}
	}
	inv.Containers = append(inv.Containers, topology.Container{
		ID: idCache, Name: "cache", Names: []string{"cache"},
		Image: "redis:7", ImageID: "sha256:" + pad("7ed15"),
		Command: "docker-entrypoint.sh redis-server", Created: created + 900,
		State: "running", Status: "Up 2 seconds (health: starting)",
		Ports:       []topology.Port{{PrivatePort: 6379, Type: "tcp"}},
		NetworkMode: "bridge",
		Endpoints: []topology.Endpoint{{
			NetworkID: idBridge, NetworkName: "bridge", EndpointID: pad("e3b"),
			IP: "172.17.0.4", PrefixLen: 16, Gateway: "172.17.0.1", MAC: "02:42:ac:11:00:04",
		}},
	})
	return inv
}

// sceneSize is how big a generated inventory is.
type sceneSize struct{ containers, networks, volumes int }

// randomInventory generates a plausible engine: every container sits on one
// to three networks and has one or two mounts (mostly named volumes, some
// binds, a few anonymous volumes and tmpfs); about one in ten has a legacy
// link to an earlier container and one in twenty shares an earlier
// container's network namespace. The same r gives the same inventory.
func randomInventory(r *rand.Rand, size sceneSize) topology.Inventory {
	var inv topology.Inventory
	for i := range size.networks {
		n := topology.Network{
			ID: hexID(r), Name: fmt.Sprintf("net%03d", i),
			Driver: "bridge", Scope: "local", ICC: r.IntN(10) > 0, Default: i == 0,
			Subnets: []topology.Subnet{{Subnet: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), Gateway: fmt.Sprintf("10.%d.%d.1", i/256, i%256)}},
		}
		if i == 0 {
			n.Name = "bridge"
			n.Options = map[string]string{"com.docker.network.bridge.default_bridge": "true"}
		}
		inv.Networks = append(inv.Networks, n)
	}
	for i := range size.volumes {
		inv.Volumes = append(inv.Volumes, topology.Volume{
			Name: fmt.Sprintf("vol%04d", i), Driver: "local",
			Mountpoint: fmt.Sprintf("/var/lib/docker/volumes/vol%04d/_data", i),
			Labels:     map[string]string{"com.docker.compose.project": fmt.Sprintf("proj%02d", i%20)},
		})
	}
	states := []struct{ state, status string }{
		{"running", "Up 3 hours"}, {"running", "Up 5 minutes (healthy)"}, {"running", "Up 2 days (unhealthy)"},
		{"exited", "Exited (0) 2 hours ago"}, {"created", "Created"},
	}
	for i := range size.containers {
		st := states[r.IntN(len(states))]
		c := topology.Container{
			ID: hexID(r), Name: fmt.Sprintf("ctr%04d", i),
			Image: fmt.Sprintf("example/app%02d:latest", i%40), ImageID: fmt.Sprintf("sha256:%064x", i%40),
			Command: "/entrypoint.sh serve", Created: created + int64(i),
			State: st.state, Status: st.status,
			Labels: map[string]string{
				"com.docker.compose.project": fmt.Sprintf("proj%02d", i%20),
				"com.docker.compose.service": fmt.Sprintf("svc%d", i%7),
			},
			Ports: []topology.Port{{PrivatePort: uint16(8000 + i%50), Type: "tcp"}},
		}
		c.Names = []string{c.Name}
		switch {
		case i > 0 && r.IntN(20) == 0 && size.networks > 0:
			donor := inv.Containers[r.IntN(i)]
			if r.IntN(2) == 0 {
				c.NetworkMode = "container:" + donor.ID
			} else {
				c.NetworkMode = "container:" + donor.Name
			}
		case size.networks > 0:
			perm := r.Perm(size.networks)
			for k, ni := range perm[:min(1+r.IntN(3), size.networks)] {
				n := inv.Networks[ni]
				if k == 0 {
					c.NetworkMode = n.Name
				}
				ep := topology.Endpoint{NetworkID: n.ID, NetworkName: n.Name}
				if c.State == "running" {
					ep.EndpointID = hexID(r)
					ep.IP = fmt.Sprintf("10.%d.%d.%d", ni/256, ni%256, 2+i%250)
					ep.PrefixLen = 24
					ep.Gateway = n.Subnets[0].Gateway
					ep.MAC = fmt.Sprintf("02:42:0a:%02x:%02x:%02x", ni%256, i/256, i%256)
				}
				if ni != 0 {
					ep.Aliases = []string{c.Name, fmt.Sprintf("svc%d", i%7)}
				}
				c.Endpoints = append(c.Endpoints, ep)
			}
			slices.SortFunc(c.Endpoints, func(a, b topology.Endpoint) int { return strings.Compare(a.NetworkName, b.NetworkName) })
		}
		for k := range 1 + r.IntN(2) {
			dest := fmt.Sprintf("/data%d", k)
			switch p := r.IntN(20); {
			case p < 13 && size.volumes > 0:
				name := fmt.Sprintf("vol%04d", r.IntN(size.volumes))
				c.Mounts = append(c.Mounts, topology.Mount{Type: "volume", Name: name, Source: "/var/lib/docker/volumes/" + name + "/_data", Destination: dest, Driver: "local", RW: true})
			case p < 17:
				c.Mounts = append(c.Mounts, topology.Mount{Type: "bind", Source: fmt.Sprintf("/srv/app%02d/conf", i%40), Destination: dest, Mode: "ro"})
			case p < 19:
				name := hexID(r)
				c.Mounts = append(c.Mounts, topology.Mount{Type: "volume", Name: name, Source: "/var/lib/docker/volumes/" + name + "/_data", Destination: dest, Driver: "local", RW: true})
			default:
				c.Mounts = append(c.Mounts, topology.Mount{Type: "tmpfs", Destination: dest, RW: true})
			}
		}
		inv.Containers = append(inv.Containers, c)
	}
	// Links go on the target's names, "<parent>/<alias>".
	for i := range inv.Containers {
		if i == 0 || r.IntN(10) != 0 {
			continue
		}
		target := &inv.Containers[r.IntN(i)]
		target.Names = append(target.Names, inv.Containers[i].Name+"/"+target.Name)
		slices.Sort(target.Names)
	}
	// --volumes-from, by name or ID, read-only or not; drawn last so that
	// the rest of a seeded inventory stays what it was.
	for i := range inv.Containers {
		if i == 0 || r.IntN(15) != 0 {
			continue
		}
		donor := inv.Containers[r.IntN(i)]
		ref := donor.Name
		if r.IntN(2) == 0 {
			ref = donor.ID
		}
		if r.IntN(2) == 0 {
			ref += ":ro"
		}
		inv.Containers[i].VolumesFrom = append(inv.Containers[i].VolumesFrom, ref)
	}
	return inv
}

// hexID draws an engine-style ID: 64 random hex digits, so that sorting by
// ID costs what it costs on a real engine (IDs differ in their first bytes).
func hexID(r *rand.Rand) string {
	return fmt.Sprintf("%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())
}

// mutateInventory changes about frac of the containers of inv in place: a
// changed state, a new network or a dropped one, an extra label. It returns
// inv for convenience.
func mutateInventory(r *rand.Rand, inv topology.Inventory, frac float64) topology.Inventory {
	for i := range inv.Containers {
		if r.Float64() >= frac {
			continue
		}
		c := &inv.Containers[i]
		switch r.IntN(4) {
		case 0:
			if c.State == "running" {
				c.State, c.Status = "exited", "Exited (137) 1 second ago"
			} else {
				c.State, c.Status = "running", "Up 1 second"
			}
		case 1:
			if len(c.Endpoints) > 0 {
				c.Endpoints = c.Endpoints[1:]
			}
		case 2:
			c.Labels = map[string]string{"changed": "yes"}
		case 3:
			c.Status = "Up 2 seconds (health: starting)"
		}
	}
	return inv
}
