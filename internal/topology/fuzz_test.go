package topology_test

import (
	"errors"
	"net"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/dockmap/dockmap/internal/topology"
)

// Fuzz targets for every validator (issue 6). Their seed corpus, the nasty
// inputs of research/security-reliability-anchors.md §7.1 (SEC-12…SEC-17)
// plus valid ones, runs with plain `go test`; `go test -fuzz '^FuzzX$'`
// explores further.

// nastyInputs are SEC-12…SEC-17 inputs, shared by every target.
var nastyInputs = []string{
	"", "a", "-x", ".x", "_x", "x/y", "x:y", "../x", "x y", "ümlaut", "\x00", "a\x00b", "\n", "web\n",
	"--privileged", "; id", "$(reboot)", "`reboot`", "127.0.0.1 -f", "-c 100000", "169.254.169.254",
	"/", "/etc", "/var/run/docker.sock", "/run/docker.sock", "/var/run", "x:/etc", "x:/t:rw", "..", ".",
	"a:b:c", ":x", "x:", "A B", "bridge", "host", "none", "default", "   ", "^", "aaaa",
	strings.Repeat("a", 63), strings.Repeat("a", 64), strings.Repeat("h", 300), strings.Repeat("a", 256),
	strings.Repeat("a", 4096), "/" + strings.Repeat("a", 4096), "a..b", "web", "db-1", "my_app.v2",
	"busybox", "busybox:latest", "registry.local:5000/team/app:1.0", "sha256:" + strings.Repeat("a", 64),
	"nginx@sha256:" + strings.Repeat("0", 64), "BusyBox", "busybox latest",
	"10.10.0.0/24", "10.10.0.1/24", "10.42.0.0/16", "0.0.0.0/0", "::/0", "fe80::/64", "::ffff:10.0.0.0/120",
	"10.0.0.0/8", "192.168.0.0/29", "192.168.0.0/30", "10.10.0.1", "10.10.0.255", "10.42.0.1", "10.42.0.2",
	"10.42.0.3", "1.2.3.4%eth0", "010.042.000.003", "/data", "/data/", "/data/../etc", "/srv/share/x",
	"/srv/share", "/srv/sharex", "/srv/share/../../etc", "//srv/share", "/mnt/x", "relative/path",
}

// appNameRule is the engine's container and volume name rule, written out
// again here so that a change to the validator's copy cannot hide.
var appNameRule = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func seed(f *testing.F) {
	for _, s := range nastyInputs {
		f.Add(s)
	}
}

// checkAcceptedName asserts what every accepted container, volume, network
// or alias name must be.
func checkAcceptedName(t *testing.T, what, name string) {
	t.Helper()
	if !appNameRule.MatchString(name) {
		t.Errorf("%s %q accepted, but it does not match %s", what, name, appNameRule)
	}
	if len(name) > topology.MaxNameLen {
		t.Errorf("%s %q accepted with %d bytes, want at most %d", what, name, len(name), topology.MaxNameLen)
	}
	if strings.ContainsAny(name, "/:\x00") || strings.IndexFunc(name, unicode.IsSpace) >= 0 {
		t.Errorf("%s %q accepted, but it holds '/', ':', NUL or whitespace", what, name)
	}
}

// checkErr asserts that a refusal wraps one of the documented sentinels.
func checkErr(t *testing.T, what string, err error, sentinels ...error) {
	t.Helper()
	if len(sentinels) == 0 {
		sentinels = []error{topology.ErrInvalid}
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return
		}
	}
	t.Errorf("%s = %v, want it to wrap one of %v", what, err, sentinels)
}

func FuzzValidateName(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, name string) {
		if err := topology.ValidateName("container name", name); err != nil {
			checkErr(t, "ValidateName", err)
			return
		}
		checkAcceptedName(t, "container name", name)
	})
}

func FuzzValidateAlias(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, alias string) {
		if err := topology.ValidateAlias(alias); err != nil {
			checkErr(t, "ValidateAlias", err)
			return
		}
		checkAcceptedName(t, "alias", alias)
		if strings.Contains(alias, ".") {
			t.Errorf("alias %q with a dot accepted", alias)
		}
	})
}

func FuzzValidateAliases(f *testing.F) {
	seed(f)
	f.Add("web,db,cache")
	f.Add("web,web")
	f.Add(strings.Repeat("a1,", 17) + "zz")
	f.Fuzz(func(t *testing.T, joined string) {
		aliases := strings.Split(joined, ",")
		if err := topology.ValidateAliases(aliases); err != nil {
			checkErr(t, "ValidateAliases", err)
			return
		}
		if len(aliases) > topology.MaxAliases {
			t.Errorf("%d aliases accepted, want at most %d", len(aliases), topology.MaxAliases)
		}
		for i, a := range aliases {
			checkAcceptedName(t, "alias", a)
			if slices.Contains(aliases[:i], a) {
				t.Errorf("alias %q accepted twice", a)
			}
		}
	})
}

func FuzzValidateNetworkName(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, name string) {
		if err := topology.ValidateNetworkName(name); err != nil {
			checkErr(t, "ValidateNetworkName", err)
			return
		}
		checkAcceptedName(t, "network name", name)
		if topology.IsReservedNetworkName(name) {
			t.Errorf("network name %q accepted, but it is predefined", name)
		}
	})
}

func FuzzValidateVolumeName(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, name string) {
		if err := topology.ValidateVolumeName(name); err != nil {
			checkErr(t, "ValidateVolumeName", err)
			return
		}
		checkAcceptedName(t, "volume name", name)
		if strings.Contains(name, "..") {
			t.Errorf("volume name %q accepted, but it holds \"..\"", name)
		}
	})
}

func FuzzValidateImageRef(f *testing.F) {
	seed(f)
	f.Fuzz(func(t *testing.T, ref string) {
		if err := topology.ValidateImageRef(ref); err != nil {
			checkErr(t, "ValidateImageRef", err)
			return
		}
		if ref == "" || len(ref) > 255 {
			t.Errorf("image %q accepted with %d bytes", ref, len(ref))
		}
		if strings.ContainsAny(ref, ";$`|&<>()'\"\\\x00") || strings.IndexFunc(ref, unicode.IsSpace) >= 0 {
			t.Errorf("image %q accepted, but it holds whitespace or shell syntax", ref)
		}
		if strings.HasPrefix(ref, "-") {
			t.Errorf("image %q accepted, but it reads as a flag", ref)
		}
		if strings.IndexFunc(ref, func(r rune) bool { return r > unicode.MaxASCII || unicode.IsControl(r) }) >= 0 {
			t.Errorf("image %q accepted, but it holds non-ASCII or control characters", ref)
		}
	})
}

// fuzzGraph has the default bridge (172.17.0.0/16), appnet (10.42.0.0/24,
// gateway 10.42.0.1) with web on 10.42.0.2 (mounting volume data at
// /data, tmpfs at /tmp) and db on 10.42.0.3, and an IP-less network.
func fuzzGraph() topology.Graph {
	id := func(c byte) string { return strings.Repeat(string(c), 64) }
	return topology.Build(topology.Inventory{
		Networks: []topology.Network{
			{ID: id('b'), Name: "bridge", Driver: "bridge", Default: true, ICC: true, Subnets: []topology.Subnet{{Subnet: "172.17.0.0/16", Gateway: "172.17.0.1"}}},
			{ID: id('a'), Name: "appnet", Driver: "bridge", ICC: true, Subnets: []topology.Subnet{{Subnet: "10.42.0.0/24", Gateway: "10.42.0.1"}}},
			{ID: id('e'), Name: "empty", Driver: "bridge", ICC: true},
		},
		Containers: []topology.Container{
			{ID: id('1'), Name: "web", Names: []string{"web"}, State: "running", NetworkMode: "appnet",
				Endpoints: []topology.Endpoint{{NetworkID: id('a'), NetworkName: "appnet", IP: "10.42.0.2"}},
				Mounts:    []topology.Mount{{Type: "volume", Name: "data", Destination: "/data", Driver: "local", RW: true}}},
			{ID: id('2'), Name: "db", Names: []string{"db"}, State: "running", NetworkMode: "appnet",
				Endpoints: []topology.Endpoint{{NetworkID: id('a'), NetworkName: "appnet", IP: "10.42.0.3"}}},
		},
		Volumes: []topology.Volume{{Name: "data", Driver: "local"}},
	})
}

func mustNode(t *testing.T, g topology.Graph, id topology.NodeID) topology.Node {
	t.Helper()
	n, ok := g.Node(id)
	if !ok {
		t.Fatalf("no node %s", id)
	}
	return n
}

func FuzzContainerByRef(f *testing.F) {
	seed(f)
	f.Add(strings.Repeat("1", 64))
	f.Add("c:" + strings.Repeat("1", 64))
	f.Add(strings.Repeat("1", 12))
	f.Add("c:web")
	g := fuzzGraph()
	f.Fuzz(func(t *testing.T, ref string) {
		n, err := g.ContainerByRef(ref)
		if err != nil {
			checkErr(t, "ContainerByRef", err, topology.ErrInvalid, topology.ErrNotFound)
			return
		}
		r := strings.TrimPrefix(ref, "c:")
		if n.Container == nil || (n.Container.Name != r && n.Container.ID != r) {
			t.Errorf("ContainerByRef(%q) = %v, want the container with that exact name or full ID", ref, n.ID)
		}
	})
}

func FuzzVolumeByRef(f *testing.F) {
	seed(f)
	f.Add("v:data")
	f.Add("dat")
	g := fuzzGraph()
	f.Fuzz(func(t *testing.T, ref string) {
		n, err := g.VolumeByRef(ref)
		if err != nil {
			checkErr(t, "VolumeByRef", err, topology.ErrInvalid, topology.ErrNotFound)
			return
		}
		if n.Volume == nil || n.Volume.Name != strings.TrimPrefix(ref, "v:") {
			t.Errorf("VolumeByRef(%q) = %v, want the volume with that exact name", ref, n.ID)
		}
	})
}

// subnetsOf returns every IPv4 subnet in g.
func subnetsOf(g topology.Graph) []*net.IPNet {
	var out []*net.IPNet
	for _, n := range g.Nodes {
		if n.Network == nil {
			continue
		}
		for _, s := range n.Network.Subnets {
			if _, ipn, err := net.ParseCIDR(s.Subnet); err == nil {
				out = append(out, ipn)
			}
		}
	}
	return out
}

func overlaps(a, b *net.IPNet) bool { return a.Contains(b.IP) || b.Contains(a.IP) }

// lastAddr is the broadcast address of an IPv4 net.
func lastAddr(n *net.IPNet) net.IP {
	ip := slices.Clone(n.IP.To4())
	for i := range ip {
		ip[i] |= ^n.Mask[len(n.Mask)-4+i]
	}
	return ip
}

func FuzzValidateSubnet(f *testing.F) {
	seed(f)
	g := fuzzGraph()
	existing := subnetsOf(g)
	f.Fuzz(func(t *testing.T, subnet string) {
		p, err := topology.ValidateSubnet(g, subnet)
		if err != nil {
			checkErr(t, "ValidateSubnet", err, topology.ErrInvalid, topology.ErrConflict)
			return
		}
		ip, ipn, err := net.ParseCIDR(subnet)
		if err != nil {
			t.Fatalf("subnet %q accepted, but net.ParseCIDR says %v", subnet, err)
		}
		if ip.To4() == nil || strings.Contains(subnet, ":") {
			t.Errorf("subnet %q accepted, but it is not IPv4", subnet)
		}
		if !ip.Equal(ipn.IP) {
			t.Errorf("subnet %q accepted with host bits set", subnet)
		}
		if ones, _ := ipn.Mask.Size(); ones < 8 || ones > 29 {
			t.Errorf("subnet %q accepted with prefix /%d, want /8 to /29", subnet, ones)
		}
		if p.String() != ipn.String() {
			t.Errorf("ValidateSubnet(%q) = %s, net.ParseCIDR says %s", subnet, p, ipn)
		}
		for _, e := range existing {
			if overlaps(ipn, e) {
				t.Errorf("subnet %q accepted, but it overlaps %s", subnet, e)
			}
		}
	})
}

func FuzzValidateGateway(f *testing.F) {
	for _, s := range nastyInputs {
		f.Add("10.10.0.0/24", s)
		f.Add(s, "10.10.0.1")
	}
	f.Add("192.168.0.0/29", "192.168.0.6")
	f.Add("192.168.0.0/29", "192.168.0.7")
	f.Add("10.0.0.0/8", "10.255.255.254")
	f.Add("10.10.0.0/24", "::ffff:10.10.0.1")
	var empty topology.Graph
	f.Fuzz(func(t *testing.T, subnet, gateway string) {
		p, err := topology.ValidateSubnet(empty, subnet)
		if err != nil {
			return
		}
		if err := topology.ValidateGateway(p, gateway); err != nil {
			checkErr(t, "ValidateGateway", err)
			return
		}
		_, ipn, err := net.ParseCIDR(subnet)
		if err != nil {
			t.Fatalf("subnet %q: %v", subnet, err)
		}
		gw := net.ParseIP(gateway)
		if gw == nil || gw.To4() == nil || strings.Contains(gateway, ":") {
			t.Fatalf("gateway %q accepted for %s, but it is not an IPv4 address", gateway, subnet)
		}
		if !ipn.Contains(gw) {
			t.Errorf("gateway %q accepted, but it is outside %s", gateway, ipn)
		}
		if gw.Equal(ipn.IP) || gw.Equal(lastAddr(ipn)) {
			t.Errorf("gateway %q accepted, but it is the network or broadcast address of %s", gateway, ipn)
		}
	})
}

func FuzzValidateStaticIP(f *testing.F) {
	for _, s := range nastyInputs {
		f.Add(uint8(0), s)
	}
	for i := range uint8(3) {
		for _, ip := range []string{"10.42.0.2", "10.42.0.3", "10.42.0.4", "10.42.0.1", "10.42.0.255", "172.17.0.9", "172.17.255.255"} {
			f.Add(i, ip)
		}
	}
	g := fuzzGraph()
	id := func(c byte) string { return strings.Repeat(string(c), 64) }
	nets := []topology.NodeID{topology.NetworkNodeID(id('a')), topology.NetworkNodeID(id('b')), topology.NetworkNodeID(id('e'))}
	f.Fuzz(func(t *testing.T, which uint8, ip string) {
		n := mustNode(t, g, nets[int(which)%len(nets)])
		c := mustNode(t, g, topology.ContainerNodeID(id('1')))
		if err := topology.ValidateStaticIP(g, n, c, ip); err != nil {
			checkErr(t, "ValidateStaticIP", err, topology.ErrInvalid, topology.ErrConflict)
			return
		}
		a := net.ParseIP(ip)
		if a == nil || a.To4() == nil || strings.Contains(ip, ":") {
			t.Fatalf("static IP %q accepted on %s, but it is not an IPv4 address", ip, n.Network.Name)
		}
		inside := false
		for _, s := range n.Network.Subnets {
			_, ipn, err := net.ParseCIDR(s.Subnet)
			if err != nil || !ipn.Contains(a) {
				continue
			}
			inside = true
			if a.Equal(ipn.IP) || a.Equal(lastAddr(ipn)) || a.Equal(net.ParseIP(s.Gateway)) {
				t.Errorf("static IP %q accepted, but it is the network, broadcast or gateway address of %s", ip, s.Subnet)
			}
		}
		if !inside {
			t.Errorf("static IP %q accepted, but it is outside every subnet of %s", ip, n.Network.Name)
		}
		for _, m := range g.EdgesOf(n.ID) {
			if m.Kind == topology.EdgeMember && m.Member != nil && m.From != c.ID && net.ParseIP(m.Member.IP).Equal(a) {
				t.Errorf("static IP %q accepted, but %s holds it", ip, m.From)
			}
		}
	})
}

// checkCleanPath asserts what every accepted mount target and host path is.
func checkCleanPath(t *testing.T, what, p string) {
	t.Helper()
	if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
		t.Errorf("%s %q accepted, but it is not a clean absolute path other than /", what, p)
	}
	if strings.ContainsAny(p, ":\x00") || len(p) > topology.MaxPathLen {
		t.Errorf("%s %q accepted, but it holds ':' or NUL or is longer than %d bytes", what, p, topology.MaxPathLen)
	}
}

func FuzzValidateMountTarget(f *testing.F) {
	seed(f)
	g := fuzzGraph()
	f.Fuzz(func(t *testing.T, target string) {
		c := mustNode(t, g, topology.ContainerNodeID(strings.Repeat("1", 64)))
		if err := topology.ValidateMountTarget(g, c, target); err != nil {
			checkErr(t, "ValidateMountTarget", err, topology.ErrInvalid, topology.ErrConflict)
			return
		}
		checkCleanPath(t, "mount target", target)
		if slices.Contains(g.MountDestinations(c), target) {
			t.Errorf("mount target %q accepted, but the container already mounts something there", target)
		}
	})
}

// socketPaths are the Docker socket paths no bind may reach.
var socketPaths = []string{"/var/run/docker.sock", "/run/docker.sock"}

func FuzzValidateBindSource(f *testing.F) {
	for _, s := range nastyInputs {
		f.Add("/srv/share", s)
		f.Add(s, "/srv/share/x")
	}
	f.Add("/srv/share/", "/srv/share/./x/../y")
	f.Add("/var", "/var/run/docker.sock")
	f.Add("/var/run/docker.sock/x", "/var/run/docker.sock/x")
	f.Fuzz(func(t *testing.T, prefix, hostPath string) {
		allowed, err := topology.ValidateBindPrefixes([]string{prefix})
		if err != nil {
			checkErr(t, "ValidateBindPrefixes", err, topology.ErrInvalid, topology.ErrForbidden)
			allowed = nil
		}
		for _, a := range allowed {
			checkCleanPath(t, "allowed bind prefix", a)
			for _, s := range socketPaths {
				if a == s || strings.HasPrefix(s, a+"/") {
					t.Errorf("allowed bind prefix %q accepted, but it is or holds %s", a, s)
				}
			}
		}
		got, err := topology.ValidateBindSource(allowed, hostPath)
		if err != nil {
			checkErr(t, "ValidateBindSource", err, topology.ErrInvalid, topology.ErrForbidden)
			return
		}
		checkCleanPath(t, "host path", got)
		if got != path.Clean(hostPath) {
			t.Errorf("ValidateBindSource(%q) = %q, want %q", hostPath, got, path.Clean(hostPath))
		}
		if !slices.ContainsFunc(allowed, func(a string) bool { return got == a || strings.HasPrefix(got, a+"/") }) {
			t.Errorf("host path %q accepted as %q, but it is under none of %q", hostPath, got, allowed)
		}
		for _, s := range socketPaths {
			if got == s || strings.HasPrefix(s, got+"/") {
				t.Errorf("host path %q accepted as %q, but it is or holds %s", hostPath, got, s)
			}
		}
	})
}
