package topology

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

// nameRule is the engine's own rule for container and local volume names
// (moby daemon/names/names.go RestrictedNamePattern).
var nameRule = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// MaxNameLen caps names and aliases: the engine has no cap, but a longer
// name is no longer a usable DNS label on a user-defined network.
const MaxNameLen = 63

// ValidateName checks a container name (what) against the engine's rule
// and our length cap. Errors wrap ErrInvalid and say what is allowed.
func ValidateName(what, name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalid, what)
	case len(name) > MaxNameLen:
		return fmt.Errorf("%w: %s is %d characters long; at most %d are allowed", ErrInvalid, what, len(name), MaxNameLen)
	case !nameRule.MatchString(name):
		return fmt.Errorf("%w: %s %q: use 2 or more letters, digits, '_', '.' or '-', starting with a letter or digit", ErrInvalid, what, name)
	}
	return nil
}

// ValidateContainerName checks the name of a container to be created: the
// engine's rule, our length cap, and not an IP address. A container named
// 172.17.0.1 would turn every probe "by name" of it into a probe of that
// address (the gateway, another host, a metadata service), so such a name
// is refused before the engine is asked.
func ValidateContainerName(name string) error {
	if err := ValidateName("container name", name); err != nil {
		return err
	}
	if LooksLikeAddress(name) {
		return fmt.Errorf("%w: container name %q reads as an IP address: a probe by that name would reach the address, not the container; put a letter in it", ErrInvalid, name)
	}
	return nil
}

// LooksLikeAddress reports whether a name would be taken for an IP address
// by the tools a probe runs: what netip.ParseAddr accepts (IPv4 and IPv6),
// and the older IPv4 spellings that inet_aton, and so ping, nc and
// getaddrinfo, read as addresses too: one to four dot-separated numbers,
// each decimal, octal (a leading 0) or hexadecimal (0x), as in "10"
// (0.0.0.10), "127.1", "0x7f.1" and "2130706433" (127.0.0.1).
func LooksLikeAddress(name string) bool {
	if _, err := netip.ParseAddr(name); err == nil {
		return true
	}
	parts := strings.Split(name, ".")
	if len(parts) > 4 {
		return false
	}
	for _, p := range parts {
		if !isCNumber(p) {
			return false
		}
	}
	return true
}

// isCNumber reports whether p is a number as C spells one: decimal or
// octal digits, or 0x followed by hexadecimal digits (none at all is 0 to
// inet_aton). Out-of-range values still count: refusing a name that only
// nearly parses costs nothing.
func isCNumber(p string) bool {
	if len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') {
		for _, r := range p[2:] {
			if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
				return false
			}
		}
		return true
	}
	if p == "" {
		return false
	}
	for _, r := range p {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// ValidateAlias checks a link alias or network alias. The engine applies no
// rule of its own, so the container-name rule is used (it keeps aliases
// usable as host names), without dots: every container on the network (or
// the linking one) would resolve an alias such as api.github.com to this
// container instead of the real host, a quiet way to intercept traffic
// (security-reliability-anchors.md, SEC-15).
func ValidateAlias(alias string) error {
	if err := ValidateName("alias", alias); err != nil {
		return err
	}
	if strings.Contains(alias, ".") {
		return fmt.Errorf("%w: alias %q has a dot: it would hide the real host of that name from the containers that see the alias; use letters, digits, '_' and '-'", ErrInvalid, alias)
	}
	return nil
}

// imageRefRule is a conservative form of a Docker image reference:
// [registry[:port]/]path[:tag][@digest], lowercase path components.
var imageRefRule = regexp.MustCompile(`^([a-zA-Z0-9][a-zA-Z0-9.-]*(:[0-9]+)?/)?[a-z0-9]+([._-]{1,2}[a-z0-9]+)*(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)*(:[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,127})?(@sha256:[a-f0-9]{64})?$`)

// ValidateImageRef checks an image reference, or a full image ID
// ("sha256:<64 hex>").
func ValidateImageRef(ref string) error {
	if strings.HasPrefix(ref, "sha256:") && len(ref) == 71 && isHex(ref[7:]) {
		return nil
	}
	if ref == "" || len(ref) > 255 || !imageRefRule.MatchString(ref) {
		return fmt.Errorf("%w: image %q is not an image reference like busybox:latest", ErrInvalid, ref)
	}
	return nil
}

// IsFullID reports whether s is a full 64-hex-digit engine ID.
func IsFullID(s string) bool { return len(s) == 64 && isHex(s) }

func isHex(s string) bool {
	for _, r := range s {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// ContainerByRef finds a container node by full ID or exact name, never by
// ID prefix: the engine would accept a prefix, and a typed "a1" must not
// hit someone else's container.
func (g Graph) ContainerByRef(ref string) (Node, error) {
	ref = strings.TrimPrefix(ref, "c:")
	if id, engine, ok := strings.Cut(ref, EngineSep); ok && IsFullID(id) && engine != "" {
		// Another engine's container on a merged map.
		if n, ok := g.Node(ContainerNodeID(ref)); ok && n.Container != nil {
			return n, nil
		}
		return Node{}, fmt.Errorf("%w: no container with ID %s on engine %s", ErrNotFound, id[:12], engine)
	}
	if IsFullID(ref) {
		if n, ok := g.Node(ContainerNodeID(ref)); ok {
			return n, nil
		}
		return Node{}, fmt.Errorf("%w: no container with ID %s", ErrNotFound, ref[:12])
	}
	if err := ValidateName("container name", ref); err != nil {
		return Node{}, err
	}
	for _, n := range g.Nodes {
		if n.Kind == KindContainer && n.Container.Name == ref {
			return n, nil
		}
	}
	return Node{}, fmt.Errorf("%w: no container named %q", ErrNotFound, ref)
}

// ServiceByRef finds a Swarm service node by node ID ("sv:<id>"), service
// ID or name.
func (g Graph) ServiceByRef(ref string) (Node, error) {
	ref = strings.TrimPrefix(ref, "sv:")
	for _, n := range g.Nodes {
		if n.Service != nil && (n.Service.ID == ref || n.Service.Name == ref) {
			return n, nil
		}
	}
	return Node{}, fmt.Errorf("%w: no Swarm service %q on the map (it may have been removed)", ErrNotFound, ref)
}

// SwarmNodeByRef finds a Swarm node by node ID ("sn:<id>"), Swarm node ID
// or hostname.
func (g Graph) SwarmNodeByRef(ref string) (Node, error) {
	ref = strings.TrimPrefix(ref, "sn:")
	for _, n := range g.Nodes {
		if n.SwarmNode != nil && (n.SwarmNode.ID == ref || n.SwarmNode.Hostname == ref) {
			return n, nil
		}
	}
	return Node{}, fmt.Errorf("%w: no Swarm node %q on the map (it may have left the Swarm)", ErrNotFound, ref)
}

// NetworkByRef finds a network node by full ID, node ID ("n:<id>") or exact
// name, never by ID prefix (the engine would accept one).
func (g Graph) NetworkByRef(ref string) (Node, error) {
	ref = strings.TrimPrefix(ref, "n:")
	for _, n := range g.Nodes {
		if n.Kind == KindNetwork && (n.Network.ID == ref || n.Network.Name == ref) {
			return n, nil
		}
	}
	return Node{}, fmt.Errorf("%w: no network named %q", ErrNotFound, ref)
}
