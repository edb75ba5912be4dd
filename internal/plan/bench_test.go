package plan_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// benchGraph is an engine of the size DESIGN.md budgets for (like the
// topology package's benchmark graph): 1,000 containers on 100 networks
// with 500 volumes, about 10% of them with a legacy link, 5% in another's
// network namespace and 7% with another's volumes.
func benchGraph() topology.Graph {
	r := rand.New(rand.NewPCG(1, 1))
	hexID := func() string {
		return fmt.Sprintf("%016x%016x%016x%016x", r.Uint64(), r.Uint64(), r.Uint64(), r.Uint64())
	}
	var inv topology.Inventory
	for i := range 100 {
		n := topology.Network{ID: hexID(), Name: fmt.Sprintf("net%03d", i), Driver: "bridge", Scope: "local", ICC: true,
			Subnets: []topology.Subnet{{Subnet: fmt.Sprintf("10.%d.%d.0/24", i/256, i%256), Gateway: fmt.Sprintf("10.%d.%d.1", i/256, i%256)}}}
		if i == 0 {
			n.Name, n.Default = "bridge", true
		}
		inv.Networks = append(inv.Networks, n)
	}
	for i := range 500 {
		inv.Volumes = append(inv.Volumes, topology.Volume{Name: fmt.Sprintf("vol%04d", i), Driver: "local"})
	}
	for i := range 1000 {
		c := topology.Container{ID: hexID(), Name: fmt.Sprintf("ctr%04d", i), Image: "example/app:latest", State: "running", Status: "Up 3 hours"}
		if r.IntN(4) == 0 {
			c.State, c.Status = "exited", "Exited (0) 2 hours ago"
		}
		c.Names = []string{c.Name}
		if i > 0 && r.IntN(20) == 0 {
			c.NetworkMode = "container:" + inv.Containers[r.IntN(i)].ID
		} else {
			for k, ni := range r.Perm(100)[:1+r.IntN(3)] {
				n := inv.Networks[ni]
				if k == 0 {
					c.NetworkMode = n.Name
				}
				ep := topology.Endpoint{NetworkID: n.ID, NetworkName: n.Name, EndpointID: hexID(), IP: fmt.Sprintf("10.%d.%d.%d", ni/256, ni%256, 2+i%250)}
				if ni != 0 {
					ep.Aliases = []string{c.Name}
				}
				c.Endpoints = append(c.Endpoints, ep)
			}
			slices.SortFunc(c.Endpoints, func(a, b topology.Endpoint) int { return strings.Compare(a.NetworkName, b.NetworkName) })
		}
		for k := range 1 + r.IntN(2) {
			name := fmt.Sprintf("vol%04d", r.IntN(500))
			c.Mounts = append(c.Mounts, topology.Mount{Type: "volume", Name: name, Destination: fmt.Sprintf("/data%d", k), Driver: "local", RW: true})
		}
		inv.Containers = append(inv.Containers, c)
	}
	for i := range inv.Containers {
		if i > 0 && r.IntN(10) == 0 {
			target := &inv.Containers[r.IntN(i)]
			target.Names = append(target.Names, inv.Containers[i].Name+"/"+target.Name)
			inv.Containers[i].Links = append(inv.Containers[i].Links, topology.LinkRef{Target: target.Name, Alias: target.Name})
		}
		if i > 0 && r.IntN(15) == 0 {
			donor := inv.Containers[r.IntN(i)]
			inv.Containers[i].VolumesFrom = []string{[]string{donor.Name, donor.ID}[r.IntN(2)]}
		}
	}
	return topology.Build(inv)
}

// BenchmarkPlanEveryAction plans every action for every container of
// benchGraph: a link to its neighbour, a mount, the removal of a link it
// has (or one it has not), start, stop, restart, removal, an attach and a
// detach; and once each a network and a volume created and removed. Refused
// plans count too: a refusal costs the same look-ups.
func BenchmarkPlanEveryAction(b *testing.B) {
	g := benchGraph()
	pl := plan.New(plan.Options{AllowBinds: []string{"/srv"}})
	var containers, networks []topology.Node
	for _, n := range g.Nodes {
		switch {
		case n.Container != nil:
			containers = append(containers, n)
		case n.Network != nil:
			networks = append(networks, n)
		}
	}
	type call struct {
		action string
		plan   func() (*plan.Plan, error)
	}
	var calls []call
	add := func(action string, f func() (*plan.Plan, error)) { calls = append(calls, call{action, f}) }
	for i, c := range containers {
		name := c.Container.Name
		next := containers[(i+1)%len(containers)].Container.Name
		alias := "missing"
		detach := networks[1+i%(len(networks)-1)].Network.Name
		for _, e := range g.EdgesOf(c.ID) {
			switch {
			case e.From == c.ID && (e.Kind == topology.EdgeLink || e.Kind == topology.EdgeBrokenLink):
				alias = e.Link.Alias
			case e.From == c.ID && e.Kind == topology.EdgeMember:
				detach = e.Member.NetworkName
			}
		}
		connect := networks[1+(i*7)%(len(networks)-1)].Network.Name
		vol := fmt.Sprintf("vol%04d", i%500)
		cr := plan.ContainerRequest{Container: name}
		add("add-link", func() (*plan.Plan, error) { return pl.AddLink(g, plan.LinkRequest{From: name, To: next, Alias: "nb"}) })
		add("mount", func() (*plan.Plan, error) {
			return pl.Mount(g, plan.MountRequest{Container: name, Volume: vol, Target: "/bench"})
		})
		add("remove-link", func() (*plan.Plan, error) { return pl.RemoveLink(g, plan.UnlinkRequest{From: name, Alias: alias}) })
		add("start", func() (*plan.Plan, error) { return pl.Start(g, cr) })
		add("stop", func() (*plan.Plan, error) { return pl.Stop(g, cr) })
		add("restart", func() (*plan.Plan, error) { return pl.Restart(g, cr) })
		add("remove", func() (*plan.Plan, error) {
			return pl.RemoveContainer(g, plan.ContainerRequest{Container: name, Force: true})
		})
		add("connect", func() (*plan.Plan, error) {
			return pl.Connect(g, plan.ConnectRequest{Network: connect, Container: name, Aliases: []string{"bench"}})
		})
		add("disconnect", func() (*plan.Plan, error) {
			return pl.Disconnect(g, plan.DisconnectRequest{Network: detach, Container: name})
		})
	}
	add("create-network", func() (*plan.Plan, error) {
		return pl.CreateNetwork(g, plan.NetworkRequest{Name: "benchnet", Subnet: "10.200.0.0/24"})
	})
	add("create-volume", func() (*plan.Plan, error) { return pl.CreateVolume(g, plan.VolumeRequest{Name: "benchvol"}) })
	add("remove-volume", func() (*plan.Plan, error) {
		return pl.RemoveVolume(g, plan.RemoveVolumeRequest{Volume: "vol0499", Confirm: "vol0499"})
	})
	add("remove-network", func() (*plan.Plan, error) {
		return pl.RemoveNetwork(g, plan.RemoveNetworkRequest{Network: "net099", Detach: true})
	})
	refused := 0
	// Time per action, to tell which one is slow; a clock read costs
	// little next to a plan.
	spent, count := map[string]time.Duration{}, map[string]int{}
	b.ReportAllocs()
	for b.Loop() {
		refused = 0
		for _, c := range calls {
			start := time.Now()
			if _, err := c.plan(); err != nil {
				refused++
			}
			spent[c.action] += time.Since(start)
			count[c.action]++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(calls)), "ns/plan")
	b.ReportMetric(float64(len(calls)), "plans/op")
	b.ReportMetric(float64(refused), "refused/op")
	b.ReportMetric(float64(len(g.Edges)), "edges")
	for a, d := range spent {
		b.ReportMetric(float64(d.Nanoseconds())/float64(count[a]), "ns/"+a)
	}
}
