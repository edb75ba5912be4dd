package topology

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// Limits on network requests.
const (
	// MaxAliases caps the network aliases one attach may give.
	MaxAliases = 16
	// Subnet prefix lengths a new network may ask for: /8 is already
	// enormous, and /29 leaves 5 addresses once the network, broadcast and
	// gateway are taken.
	minPrefix = 8
	maxPrefix = 29
)

// IsReservedNetworkName reports whether name is one of the engine's
// predefined network names, which no user network may take
// (research/security-reliability-anchors.md §4).
func IsReservedNetworkName(name string) bool {
	switch name {
	case "bridge", "host", "none", "default":
		return true
	}
	return false
}

// ValidateNetworkName checks the name of a network to create: the
// container-name rule (the engine has none, and accepts "^" or spaces) and
// none of the predefined names.
func ValidateNetworkName(name string) error {
	if err := ValidateName("network name", name); err != nil {
		return err
	}
	if IsReservedNetworkName(name) {
		return fmt.Errorf("%w: %q is one of the engine's own networks (bridge, host, none, default): pick another name", ErrInvalid, name)
	}
	return nil
}

// ValidateSubnet parses a subnet for a new network: IPv4 CIDR in its
// canonical form (no host bits), prefix /8 to /29, overlapping no subnet of
// a network already in g.
func ValidateSubnet(g Graph, subnet string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(subnet)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%w: subnet %q is not a CIDR such as 10.10.0.0/24", ErrInvalid, subnet)
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%w: subnet %q is not IPv4; dockmap creates IPv4 networks", ErrInvalid, subnet)
	}
	if p.Bits() < minPrefix || p.Bits() > maxPrefix {
		return netip.Prefix{}, fmt.Errorf("%w: subnet %q: the prefix must be between /%d and /%d", ErrInvalid, subnet, minPrefix, maxPrefix)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%w: subnet %q has host bits set: write it as %s", ErrInvalid, subnet, p.Masked())
	}
	for _, n := range g.Nodes {
		if n.Kind != KindNetwork || n.Network == nil {
			continue
		}
		for _, s := range n.Network.Subnets {
			q, err := netip.ParsePrefix(s.Subnet)
			if err != nil || !q.Addr().Is4() {
				continue
			}
			if p.Overlaps(q.Masked()) {
				return netip.Prefix{}, fmt.Errorf("%w: subnet %s overlaps %s of network %s", ErrConflict, p, q, n.Network.Name)
			}
		}
	}
	return p, nil
}

// ValidateGateway checks a gateway for subnet p: an IPv4 address inside p
// that is neither its network nor its broadcast address.
func ValidateGateway(p netip.Prefix, gateway string) error {
	a, err := netip.ParseAddr(gateway)
	if err != nil || !a.Is4() {
		return fmt.Errorf("%w: gateway %q is not an IPv4 address", ErrInvalid, gateway)
	}
	if !p.Contains(a) {
		return fmt.Errorf("%w: gateway %s is outside the subnet %s", ErrInvalid, a, p)
	}
	if a == p.Addr() || a == broadcast(p) {
		return fmt.Errorf("%w: gateway %s is the network or broadcast address of %s", ErrInvalid, a, p)
	}
	return nil
}

// broadcast is the last address of an IPv4 prefix.
func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v |= host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// ValidateAliases checks network aliases: each by the alias rule, no
// duplicates, at most MaxAliases.
func ValidateAliases(aliases []string) error {
	if len(aliases) > MaxAliases {
		return fmt.Errorf("%w: %d aliases; at most %d are allowed", ErrInvalid, len(aliases), MaxAliases)
	}
	for i, a := range aliases {
		if err := ValidateAlias(a); err != nil {
			return err
		}
		if slices.Contains(aliases[:i], a) {
			return fmt.Errorf("%w: alias %q is given twice", ErrInvalid, a)
		}
	}
	return nil
}

// AttachableNetwork checks that containers can be attached to network n
// with the given settings: a bridge network, and on the default bridge no
// aliases and no static IP (the engine refuses both there).
func AttachableNetwork(n Node, withSettings bool) error {
	if n.Network == nil {
		return fmt.Errorf("%w: %s is not a network", ErrInvalid, n.ID)
	}
	switch {
	case n.Network.Driver == "overlay" && n.Network.Ingress:
		return fmt.Errorf("%w: %s is the Swarm's routing mesh (ingress): the engine joins published services to it, never a container", ErrInvalid, n.Network.Name)
	case n.Network.Driver == "overlay" && !n.Network.Attachable:
		// Docker: only services' tasks join an overlay made without
		// --attachable (docs.docker.com/engine/network/drivers/overlay).
		return fmt.Errorf("%w: the overlay %s is not attachable: only services' tasks join it; make an overlay with --attachable for plain containers", ErrConflict, n.Network.Name)
	case n.Network.Driver == "overlay":
	case n.Network.Driver != "bridge":
		return fmt.Errorf("%w: network %s uses the %q driver; dockmap attaches containers to bridge and attachable overlay networks only", ErrInvalid, n.Network.Name, n.Network.Driver)
	}
	if n.Network.Default && withSettings {
		return fmt.Errorf("%w: the default bridge %s takes no aliases and no static IP: use a user-defined network", ErrInvalid, n.Network.Name)
	}
	return nil
}

// AttachableContainer checks that container c has a network stack of its
// own: one in host, none or container: mode cannot join a network.
func AttachableContainer(c Node) error {
	if c.Container == nil {
		return fmt.Errorf("%w: %s is not a container", ErrInvalid, c.ID)
	}
	mode := c.Container.NetworkMode
	switch {
	case mode == "host":
		return fmt.Errorf("%w: %s uses the host's network (network mode host) and cannot join a network", ErrInvalid, c.Container.Name)
	case mode == "none":
		return fmt.Errorf("%w: %s has networking turned off (network mode none) and cannot join a network", ErrInvalid, c.Container.Name)
	case strings.HasPrefix(mode, "container:"):
		return fmt.Errorf("%w: %s shares another container's network (network mode %s) and cannot join a network of its own", ErrInvalid, c.Container.Name, mode)
	}
	return nil
}

// ValidateStaticIP checks a static IPv4 address for container c on
// network n: inside one of n's subnets, not its network, broadcast or
// gateway address, and not held by another member of n.
func ValidateStaticIP(g Graph, n, c Node, ip string) error {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is4() {
		return fmt.Errorf("%w: IP %q is not an IPv4 address", ErrInvalid, ip)
	}
	var in *Subnet
	var p netip.Prefix
	for i, s := range n.Network.Subnets {
		q, err := netip.ParsePrefix(s.Subnet)
		if err == nil && q.Masked().Contains(a) {
			in, p = &n.Network.Subnets[i], q.Masked()
			break
		}
	}
	if in == nil {
		subnets := make([]string, 0, len(n.Network.Subnets))
		for _, s := range n.Network.Subnets {
			subnets = append(subnets, s.Subnet)
		}
		if len(subnets) == 0 {
			return fmt.Errorf("%w: network %s has no subnet to take a static IP from", ErrInvalid, n.Network.Name)
		}
		return fmt.Errorf("%w: IP %s is outside the subnet of network %s (%s)", ErrInvalid, a, n.Network.Name, strings.Join(subnets, ", "))
	}
	if a == p.Addr() || a == broadcast(p) {
		return fmt.Errorf("%w: IP %s is the network or broadcast address of %s", ErrInvalid, a, p)
	}
	if in.Gateway != "" {
		if gw, err := netip.ParseAddr(in.Gateway); err == nil && gw == a {
			return fmt.Errorf("%w: IP %s is the gateway of network %s", ErrInvalid, a, n.Network.Name)
		}
	}
	for _, e := range g.EdgesOf(n.ID) {
		if e.Kind != EdgeMember || e.Member == nil || e.From == c.ID {
			continue
		}
		if e.Member.IP == a.String() {
			holder := string(e.From)
			if m, ok := g.Node(e.From); ok && m.Container != nil {
				holder = m.Container.Name
			}
			return fmt.Errorf("%w: IP %s is already used by %s on network %s", ErrConflict, a, holder, n.Network.Name)
		}
	}
	return nil
}

// MemberEdge returns the membership edge of container c on network n.
func (g Graph) MemberEdge(c, n NodeID) (Edge, bool) {
	if e, ok := g.Edge(EdgeID("m:" + strings.TrimPrefix(string(c), "c:") + "@" + strings.TrimPrefix(string(n), "n:"))); ok {
		return e, true
	}
	// On a merged map another engine's edge IDs end in its name
	// (Stamp), and an overlay's node has none: look among c's edges.
	for _, e := range g.EdgesOf(c) {
		if e.Kind == EdgeMember && e.From == c && e.To == n {
			return e, true
		}
	}
	return Edge{}, false
}

// Members returns the container nodes attached to network n, in ID order.
func (g Graph) Members(n NodeID) []Node {
	var out []Node
	for _, e := range g.EdgesOf(n) {
		if e.Kind == EdgeMember && e.To == n {
			if c, ok := g.Node(e.From); ok {
				out = append(out, c)
			}
		}
	}
	return out
}
