package plan_test

import (
	"net"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// Fuzz targets for the network actions: CreateNetwork, RemoveNetwork,
// Connect, Disconnect.

func FuzzCreateNetwork(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "", "")
		f.Add("newnet", s, "")
		f.Add("newnet", "10.50.0.0/24", s)
	}
	f.Add("newnet", "", "10.50.0.1")
	f.Add("newnet", "10.42.0.0/16", "10.42.0.1")
	f.Add("aaaa", "", "")
	f.Add("AAAA", "", "")
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, name, subnet, gateway string) {
		req := plan.NetworkRequest{Name: name, Subnet: subnet, Gateway: gateway}
		p := checkPlanned(t, g, "CreateNetwork", func() (*plan.Plan, error) { return pl.CreateNetwork(g, req) })
		if p == nil {
			return
		}
		spec := p.Network
		if spec == nil || p.Method != plan.MethodCreate || p.Subject.Name != spec.Name {
			t.Fatalf("CreateNetwork: plan %+v, want a create with its network spec", p)
		}
		checkName(t, "network name", spec.Name)
		if topology.IsReservedNetworkName(spec.Name) {
			t.Errorf("network name %q accepted, but it is predefined", spec.Name)
		}
		if _, err := g.NetworkByRef(spec.Name); err == nil {
			t.Errorf("network name %q accepted, but a network has it", spec.Name)
		}
		for _, n := range g.Nodes {
			if n.Network != nil && strings.HasPrefix(n.Network.ID, strings.ToLower(spec.Name)) {
				t.Errorf("network name %q accepted, but it is the start of network %s's ID (SEC-14)", spec.Name, n.Network.Name)
			}
		}
		if spec.Subnet == "" {
			if spec.Gateway != "" {
				t.Errorf("gateway %q accepted without a subnet", spec.Gateway)
			}
			return
		}
		ip, ipn, err := net.ParseCIDR(spec.Subnet)
		if err != nil || ip.To4() == nil {
			t.Fatalf("subnet %q accepted as %q, which is no IPv4 CIDR: %v", subnet, spec.Subnet, err)
		}
		for _, n := range g.Nodes {
			for _, s := range nodeSubnets(n) {
				if _, other, err := net.ParseCIDR(s.Subnet); err == nil && (other.Contains(ipn.IP) || ipn.Contains(other.IP)) {
					t.Errorf("subnet %s accepted, but it overlaps %s of %s", spec.Subnet, s.Subnet, n.Label)
				}
			}
		}
		if spec.Gateway != "" {
			gw := net.ParseIP(spec.Gateway)
			if gw == nil || gw.To4() == nil || !ipn.Contains(gw) || gw.Equal(ipn.IP) {
				t.Errorf("gateway %q accepted, but it is no usable IPv4 address of %s", spec.Gateway, ipn)
			}
		}
	})
}

func nodeSubnets(n topology.Node) []topology.Subnet {
	if n.Network == nil {
		return nil
	}
	return n.Network.Subnets
}

func FuzzRemoveNetwork(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, false)
		f.Add(s, true)
	}
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, netRef string, detach bool) {
		req := plan.RemoveNetworkRequest{Network: netRef, Detach: detach}
		p := checkPlanned(t, g, "RemoveNetwork", func() (*plan.Plan, error) { return pl.RemoveNetwork(g, req) })
		if p == nil {
			return
		}
		n, ok := networkIn(g, p.Subject.ID)
		if !ok || p.Method != plan.MethodRemove {
			t.Fatalf("RemoveNetwork: plan %+v, want the removal of a network of the graph", p)
		}
		if n.Network.Predefined() {
			t.Errorf("RemoveNetwork: the engine's own network %s accepted", n.Network.Name)
		}
		members := g.Members(n.ID)
		if len(members) > 0 && !detach {
			t.Errorf("RemoveNetwork: %s has %d members, yet its removal is accepted without detach", n.Network.Name, len(members))
		}
		if len(p.Detach) != len(members) {
			t.Errorf("RemoveNetwork: detaches %v, want all %d members", p.Detach, len(members))
		}
		for _, m := range p.Detach {
			if _, ok := g.MemberEdge(topology.ContainerNodeID(m.ID), n.ID); !ok {
				t.Errorf("RemoveNetwork: detaches %+v, which is no member of %s", m, n.Network.Name)
			}
		}
		if last := p.Steps[len(p.Steps)-1]; last.Kind != "remove" || last.Network != n.Network.Name {
			t.Errorf("RemoveNetwork: last step %+v, want the removal of %s", last, n.Network.Name)
		}
	})
}

func FuzzConnect(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "client", "", "")
		f.Add("appnet", s, "", "")
		f.Add("appnet", "client", s, "")
		f.Add("appnet", "client", "", s)
	}
	f.Add("n:"+fid('a'), "client", "c1,c2", "10.42.0.9")
	f.Add("appnet", "web", "api", "10.42.0.2")
	f.Add("appnet", "web", "api2", "")
	f.Add("bridge", "web", "", "")
	f.Add("host", "client", "", "")
	f.Add("spare", "sidecar", "", "")
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, netRef, container, aliases, ip string) {
		req := plan.ConnectRequest{Network: netRef, Container: container, Aliases: split(aliases), IP: ip}
		p := checkPlanned(t, g, "Connect", func() (*plan.Plan, error) { return pl.Connect(g, req) })
		if p == nil {
			return
		}
		checkSubject(t, g, "Connect", p)
		ct, ok := containerIn(g, p.Subject.ID)
		if !ok || p.Network == nil {
			t.Fatalf("Connect: plan %+v, want a container of the graph and the attach settings", p)
		}
		n, err := g.NetworkByRef(netRef)
		if err != nil || n.Network.Driver != "bridge" {
			t.Fatalf("network %q accepted, which is no bridge network of the graph (%v)", netRef, err)
		}
		if last := p.Steps[len(p.Steps)-1]; last.Kind != "connect" || last.Network != n.Network.Name || last.Container != ct.Container.Name {
			t.Errorf("Connect: last step %+v, want %s attached to %s", last, ct.Container.Name, n.Network.Name)
		}
		if !ct.Container.OwnStack() {
			t.Errorf("Connect: %s accepted in network mode %q", ct.Container.Name, ct.Container.NetworkMode)
		}
		_, attached := g.MemberEdge(ct.ID, n.ID)
		if p.Network.Reattach != attached {
			t.Errorf("Connect: Reattach = %v, but attached already = %v", p.Network.Reattach, attached)
		}
		spec := p.Network
		if len(spec.Aliases) > topology.MaxAliases {
			t.Errorf("%d aliases accepted", len(spec.Aliases))
		}
		if n.Network.Default && (len(spec.Aliases) > 0 || spec.IP != "") {
			t.Errorf("aliases %v or IP %q accepted on the default bridge", spec.Aliases, spec.IP)
		}
		for _, a := range spec.Aliases {
			checkName(t, "alias", a)
		}
		if spec.IP != "" {
			a := net.ParseIP(spec.IP)
			inside := false
			for _, s := range n.Network.Subnets {
				if _, ipn, err := net.ParseCIDR(s.Subnet); err == nil && a != nil && ipn.Contains(a) {
					inside = true
				}
			}
			if a == nil || a.To4() == nil || !inside {
				t.Errorf("static IP %q accepted, but it is outside every subnet of %s", spec.IP, n.Network.Name)
			}
		}
	})
}

func FuzzDisconnect(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "db")
		f.Add("appnet", s)
		f.Add("bridge", s)
	}
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, netRef, container string) {
		req := plan.DisconnectRequest{Network: netRef, Container: container}
		p := checkPlanned(t, g, "Disconnect", func() (*plan.Plan, error) { return pl.Disconnect(g, req) })
		if p == nil {
			return
		}
		checkSubject(t, g, "Disconnect", p)
		ct, ok := containerIn(g, p.Subject.ID)
		if !ok || p.Method != plan.MethodInPlace || len(p.Steps) != 1 {
			t.Fatalf("Disconnect: plan %+v, want one step on a container of the graph", p)
		}
		n, err := g.NetworkByRef(p.Steps[0].Network)
		if err != nil || n.Network.Driver != "bridge" {
			t.Fatalf("Disconnect: from %q, which is no bridge network of the graph (%v)", p.Steps[0].Network, err)
		}
		if _, ok := g.MemberEdge(ct.ID, n.ID); !ok {
			t.Errorf("Disconnect: %s is not attached to %s", ct.Container.Name, n.Network.Name)
		}
		for _, l := range p.Loses {
			if _, ok := g.MemberEdge(topology.ContainerNodeID(l.Of.ID), n.ID); !ok || l.Of.ID == ct.Container.ID {
				t.Errorf("Disconnect: loses %+v, which is no other member of %s", l, n.Network.Name)
			}
		}
	})
}
