package topology_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/topology"
)

// netGraph has the default bridge, a user network appnet (10.42.0.0/24,
// gateway 10.42.0.1) with web on 10.42.0.2, and containers in host, none
// and container: modes.
func netGraph() topology.Graph {
	id := func(c byte) string { return strings.Repeat(string(c), 64) }
	return topology.Build(topology.Inventory{
		Networks: []topology.Network{
			{ID: id('b'), Name: "bridge", Driver: "bridge", Default: true, ICC: true, Subnets: []topology.Subnet{{Subnet: "172.17.0.0/16", Gateway: "172.17.0.1"}}},
			{ID: id('a'), Name: "appnet", Driver: "bridge", ICC: true, Subnets: []topology.Subnet{{Subnet: "10.42.0.0/24", Gateway: "10.42.0.1"}}},
			{ID: id('h'), Name: "host", Driver: "host"},
			{ID: id('0'), Name: "none", Driver: "null"},
		},
		Containers: []topology.Container{
			{ID: id('1'), Name: "web", State: "running", NetworkMode: "appnet", Endpoints: []topology.Endpoint{{NetworkID: id('a'), NetworkName: "appnet", IP: "10.42.0.2"}}},
			{ID: id('2'), Name: "database", State: "exited", NetworkMode: "bridge"},
			{ID: id('3'), Name: "hosty", State: "running", NetworkMode: "host"},
			{ID: id('4'), Name: "lonely", State: "running", NetworkMode: "none"},
			{ID: id('5'), Name: "sidecar", State: "running", NetworkMode: "container:" + id('1')},
		},
	})
}

func node(t *testing.T, g topology.Graph, id topology.NodeID) topology.Node {
	t.Helper()
	n, ok := g.Node(id)
	if !ok {
		t.Fatalf("no node %s", id)
	}
	return n
}

func wantErr(t *testing.T, what string, err, want error, detail string) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s = %v, want no error", what, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s = %v, want %v", what, err, want)
	case want != nil && !strings.Contains(err.Error(), detail):
		t.Errorf("%s = %v, want it to say %q", what, err, detail)
	}
}

func TestValidateNetworkName(t *testing.T) {
	tests := []struct {
		name   string
		want   error
		detail string
	}{
		{"appnet", nil, ""},
		{"my-net_2.x", nil, ""},
		{"bridge", topology.ErrInvalid, "engine's own"},
		{"host", topology.ErrInvalid, "engine's own"},
		{"none", topology.ErrInvalid, "engine's own"},
		{"default", topology.ErrInvalid, "engine's own"},
		{"^", topology.ErrInvalid, "letters, digits"},
		{"my net", topology.ErrInvalid, "letters, digits"},
		{"", topology.ErrInvalid, "empty"},
		{"-x", topology.ErrInvalid, "letters, digits"},
		{strings.Repeat("n", 64), topology.ErrInvalid, "at most"},
	}
	for _, tt := range tests {
		wantErr(t, "ValidateNetworkName("+tt.name+")", topology.ValidateNetworkName(tt.name), tt.want, tt.detail)
	}
}

func TestValidateSubnetAndGateway(t *testing.T) {
	g := netGraph()
	subnets := []struct {
		subnet string
		want   error
		detail string
	}{
		{"10.43.0.0/24", nil, ""},
		{"10.0.0.0/8", topology.ErrConflict, "overlaps 10.42.0.0/24 of network appnet"},
		{"10.42.0.128/25", topology.ErrConflict, "overlaps"},
		{"172.17.5.0/24", topology.ErrConflict, "network bridge"},
		{"10.0.0.0/33", topology.ErrInvalid, "not a CIDR"},
		{"nonsense", topology.ErrInvalid, "not a CIDR"},
		{"10.44.0.0/30", topology.ErrInvalid, "between /8 and /29"},
		{"10.0.0.0/7", topology.ErrInvalid, "between /8 and /29"},
		{"10.44.0.5/24", topology.ErrInvalid, "write it as 10.44.0.0/24"},
		{"fd00::/64", topology.ErrInvalid, "not IPv4"},
	}
	for _, tt := range subnets {
		_, err := topology.ValidateSubnet(g, tt.subnet)
		wantErr(t, "ValidateSubnet("+tt.subnet+")", err, tt.want, tt.detail)
	}
	p, err := topology.ValidateSubnet(g, "10.43.0.0/24")
	if err != nil {
		t.Fatal(err)
	}
	gateways := []struct {
		gw     string
		want   error
		detail string
	}{
		{"10.43.0.1", nil, ""},
		{"10.43.0.254", nil, ""},
		{"10.44.0.1", topology.ErrInvalid, "outside the subnet"},
		{"10.43.0.0", topology.ErrInvalid, "network or broadcast"},
		{"10.43.0.255", topology.ErrInvalid, "network or broadcast"},
		{"gw", topology.ErrInvalid, "not an IPv4"},
	}
	for _, tt := range gateways {
		wantErr(t, "ValidateGateway("+tt.gw+")", topology.ValidateGateway(p, tt.gw), tt.want, tt.detail)
	}
}

func TestValidateAttach(t *testing.T) {
	g := netGraph()
	a := strings.Repeat("a", 64)
	appnet := node(t, g, topology.NetworkNodeID(a))
	bridge := node(t, g, topology.NetworkNodeID(strings.Repeat("b", 64)))
	host := node(t, g, topology.NetworkNodeID(strings.Repeat("h", 64)))
	db := node(t, g, topology.ContainerNodeID(strings.Repeat("2", 64)))
	web := node(t, g, topology.ContainerNodeID(strings.Repeat("1", 64)))

	wantErr(t, "appnet with settings", topology.AttachableNetwork(appnet, true), nil, "")
	wantErr(t, "bridge without settings", topology.AttachableNetwork(bridge, false), nil, "")
	wantErr(t, "bridge with settings", topology.AttachableNetwork(bridge, true), topology.ErrInvalid, "no aliases")
	wantErr(t, "host network", topology.AttachableNetwork(host, false), topology.ErrInvalid, `"host" driver`)

	for _, tt := range []struct {
		id     byte
		want   error
		detail string
	}{
		{'2', nil, ""},
		{'3', topology.ErrInvalid, "network mode host"},
		{'4', topology.ErrInvalid, "network mode none"},
		{'5', topology.ErrInvalid, "network mode container:"},
	} {
		c := node(t, g, topology.ContainerNodeID(strings.Repeat(string(tt.id), 64)))
		wantErr(t, "AttachableContainer("+c.Container.Name+")", topology.AttachableContainer(c), tt.want, tt.detail)
	}

	for _, tt := range []struct {
		ip     string
		c      topology.Node
		want   error
		detail string
	}{
		{"10.42.0.10", db, nil, ""},
		{"10.42.0.2", web, nil, ""}, // web's own address
		{"10.42.0.2", db, topology.ErrConflict, "already used by web"},
		{"10.42.0.1", db, topology.ErrInvalid, "gateway"},
		{"10.42.0.255", db, topology.ErrInvalid, "broadcast"},
		{"10.43.0.5", db, topology.ErrInvalid, "outside the subnet of network appnet (10.42.0.0/24)"},
		{"x", db, topology.ErrInvalid, "not an IPv4"},
	} {
		wantErr(t, "ValidateStaticIP("+tt.ip+")", topology.ValidateStaticIP(g, appnet, tt.c, tt.ip), tt.want, tt.detail)
	}

	wantErr(t, "aliases ok", topology.ValidateAliases([]string{"db", "postgres"}), nil, "")
	wantErr(t, "alias with spaces", topology.ValidateAliases([]string{"my db"}), topology.ErrInvalid, "alias")
	wantErr(t, "duplicate alias", topology.ValidateAliases([]string{"db", "db"}), topology.ErrInvalid, "twice")
	many := make([]string, topology.MaxAliases+1)
	for i := range many {
		many[i] = "a" + strings.Repeat("x", i+1)
	}
	wantErr(t, "too many aliases", topology.ValidateAliases(many), topology.ErrInvalid, "at most 16")

	if e, ok := g.MemberEdge(web.ID, appnet.ID); !ok || e.Member.IP != "10.42.0.2" {
		t.Errorf("MemberEdge(web, appnet) = %v %v, want web's endpoint", e, ok)
	}
	if _, ok := g.MemberEdge(db.ID, appnet.ID); ok {
		t.Error("MemberEdge(database, appnet) found, want none")
	}
	if m := g.Members(appnet.ID); len(m) != 1 || m[0].ID != web.ID {
		t.Errorf("Members(appnet) = %v, want web", m)
	}
}
