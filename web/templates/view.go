package templates

import (
	"cmp"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// PageView is what TopologyPage renders. The graph itself is not in it: the
// page's scripts take it from the WebSocket's first message.
type PageView struct {
	// AssetVersion is in every /static/ URL (assetURL) so a new build is
	// never served from a browser's cache.
	AssetVersion string
	// Engine is the engine state at render time; the badge is then kept
	// up to date by the live connection.
	Engine topology.EngineState
	// ReadOnlyMode is dockmap's --read-only. Who is looking, and so what
	// the page offers, comes from the request context (Access), as for
	// every panel.
	ReadOnlyMode bool
}

// ContainerPanelView is what ContainerPanel renders: one container as
// docker inspect would show it, with its edges in the graph resolved to the
// names of what they join. Build it with NewContainerPanelView.
type ContainerPanelView struct {
	// NodeID is the container's node in the graph ("c:<full id>").
	NodeID topology.NodeID
	// Engine is the engine the node is on when it is not the default
	// one ("lab1"), or empty.
	Engine  string
	ID      string // full 64-digit container ID
	ShortID string // first 12 digits, as docker ps shows it
	Name    string
	Image   string
	// Compose says which Compose project and service the container is
	// ("project shop · service web · replica 2"), "" for a plain one.
	Compose     string
	State       string // running, exited, created, paused, ...
	Health      string // healthy, unhealthy, starting or empty
	Status      string // e.g. "Up 3 minutes (healthy)"
	Command     string
	NetworkMode string
	Labels      []LabelView
	Networks    []EndpointView
	// HasIPv6 is true when any endpoint has an IPv6 address, so the panel
	// shows that row only when it says something.
	HasIPv6 bool
	Ports   []PortView
	Mounts  []MountView
	Tmpfs   []string
	// LinksOut are the container's own --link entries (it can reach these
	// by alias); LinksIn are the containers that link to it.
	LinksOut []LinkView
	LinksIn  []LinkView
	// NetNSDonor is the container whose network stack this one shares
	// (--network container:X), if any; NetNSUsers share this one's.
	NetNSDonor *PeerView
	NetNSUsers []PeerView
	// Targets are the other containers of the graph, by name: what the
	// panel's Ping and Add link forms offer as a target.
	Targets []TargetView
	// Joinable are the user-defined networks the container is not on yet,
	// for the Networks section's "Attach to…" form; CanJoin is false in
	// host, none and container: network mode (the engine refuses).
	Joinable []NetworkChoice
	CanJoin  bool
	// Volumes are the named volumes of the graph, for the "Mount…" form;
	// VolumesFrom are the containers whose volumes this one mounts
	// (--volumes-from), and VolumesTo those that mount this one's.
	Volumes     []VolumeChoice
	VolumesFrom []PeerView
	VolumesTo   []PeerView
	// BindsAllowed offers a host path in the "Mount…" form. The panel
	// handler sets it when dockmap was started with allowed bind paths;
	// the server checks every path anyway.
	BindsAllowed bool
}

// Running reports whether the container is up.
func (v ContainerPanelView) Running() bool { return v.State == "running" }

// LabelView is one container label.
type LabelView struct {
	Key   string
	Value string
}

// EndpointView is one network attachment, with the fields docker inspect
// shows under NetworkSettings.Networks.
type EndpointView struct {
	NetworkNodeID  topology.NodeID
	NetworkName    string
	NetworkID      string
	NetworkShortID string
	// Default marks the engine's default bridge (no DNS by name there).
	Default         bool
	EndpointID      string
	EndpointShortID string
	IP              string
	PrefixLen       int
	Gateway         string
	IPv6            string
	MAC             string
	Aliases         []string
}

// IPWithPrefix is the address in CIDR form ("172.17.0.2/16"), the address
// alone when the prefix is unknown, or "" when there is none (a stopped
// container has no address).
func (e EndpointView) IPWithPrefix() string {
	if e.IP == "" {
		return ""
	}
	if e.PrefixLen == 0 {
		return e.IP
	}
	return e.IP + "/" + strconv.Itoa(e.PrefixLen)
}

// PortView is one exposed or published port.
type PortView struct {
	PrivatePort uint16
	PublicPort  uint16 // 0 when not published
	Type        string // tcp, udp, sctp
	HostIP      string
}

// MountView is one volume or bind mount of the container.
type MountView struct {
	Type string // volume or bind
	// Source is the volume name or the host path; SourceShort is what to
	// print (an anonymous volume's 64-digit name is cut to 12).
	Source      string
	SourceShort string
	Anonymous   bool
	Destination string
	ReadOnly    bool
	Mode        string
	// TargetID is the volume or bind node in the graph.
	TargetID topology.NodeID
}

// Access is "ro" or "rw", as docker inspect's Mounts[].RW shows it.
func (m MountView) Access() string {
	if m.ReadOnly {
		return "ro"
	}
	return "rw"
}

// LinkView is one link seen from one end: Peer is the other end.
type LinkView struct {
	Alias string
	Peer  PeerView
	// Network, for an endpoint alias, is the user-defined network it lives
	// on ("" for a legacy link).
	Network string
	// Broken marks a legacy link whose target was removed: Peer is then
	// the ghost of its last name, and RepairTo the container the link
	// would be re-pointed at ("" when no container has that name now).
	Broken   bool
	RepairTo string
}

// PeerView names another container of the graph.
type PeerView struct {
	NodeID topology.NodeID
	Name   string
}

// TargetView is another container the panel's forms can aim at.
type TargetView struct {
	NodeID  topology.NodeID
	ID      string // full container ID, what the JSON API takes
	Name    string
	Running bool
}

// NewContainerPanelView builds the view of the container node id from g. It
// is pure. It returns false when g has no such node or the node is not a
// container.
func NewContainerPanelView(g topology.Graph, id topology.NodeID) (ContainerPanelView, bool) {
	n, ok := findNode(g, id)
	if !ok || n.Kind != topology.KindContainer || n.Container == nil {
		return ContainerPanelView{}, false
	}
	c := n.Container
	v := ContainerPanelView{
		NodeID:      n.ID,
		Engine:      otherEngine(n),
		ID:          c.ID,
		ShortID:     shortID(c.ID),
		Name:        cmp.Or(c.Name, n.Label),
		Image:       c.Image,
		State:       c.State,
		Health:      c.Health,
		Status:      c.Status,
		Command:     c.Command,
		NetworkMode: c.NetworkMode,
		Tmpfs:       slices.Sorted(slices.Values(c.Tmpfs)),
		Compose:     composeLine(c),
	}
	for _, k := range slices.Sorted(maps.Keys(c.Labels)) {
		v.Labels = append(v.Labels, LabelView{Key: k, Value: c.Labels[k]})
	}
	for _, p := range c.Ports {
		v.Ports = append(v.Ports, PortView{PrivatePort: p.PrivatePort, PublicPort: p.PublicPort, Type: p.Type, HostIP: p.IP})
	}
	slices.SortFunc(v.Ports, func(a, b PortView) int {
		return cmp.Or(cmp.Compare(a.PrivatePort, b.PrivatePort), strings.Compare(a.Type, b.Type),
			strings.Compare(a.HostIP, b.HostIP), cmp.Compare(a.PublicPort, b.PublicPort))
	})

	for _, e := range g.EdgesOf(id) {
		switch e.Kind {
		case topology.EdgeMember:
			if e.From == id && e.Member != nil {
				v.Networks = append(v.Networks, endpointView(g, e))
			}
		case topology.EdgeMount:
			if e.From == id && e.Mount != nil {
				v.Mounts = append(v.Mounts, mountView(g, e))
			}
		case topology.EdgeLink:
			if e.Link == nil {
				continue
			}
			// A self-link is impossible in Docker, but if one came through
			// it would be listed both ways, which is what it is.
			if e.From == id {
				v.LinksOut = append(v.LinksOut, LinkView{Alias: e.Link.Alias, Peer: peer(g, e.To), Network: e.Link.Network})
			}
			if e.To == id {
				v.LinksIn = append(v.LinksIn, LinkView{Alias: e.Link.Alias, Peer: peer(g, e.From), Network: e.Link.Network})
			}
		case topology.EdgeBrokenLink:
			if e.Link == nil || e.From != id {
				continue
			}
			l := LinkView{Alias: e.Link.Alias, Peer: PeerView{NodeID: e.To, Name: e.Link.Target}, Broken: true}
			if to, err := g.ContainerByRef(plan.RepairTarget(e.Link.Target)); err == nil {
				l.RepairTo = to.Container.Name
			}
			v.LinksOut = append(v.LinksOut, l)
		case topology.EdgeVolumesFrom:
			if e.From == id {
				v.VolumesFrom = append(v.VolumesFrom, peer(g, e.To))
			} else {
				v.VolumesTo = append(v.VolumesTo, peer(g, e.From))
			}
		case topology.EdgeNetNS:
			if e.From == id {
				p := peer(g, e.To)
				v.NetNSDonor = &p
			} else {
				v.NetNSUsers = append(v.NetNSUsers, peer(g, e.From))
			}
		}
	}
	for _, ep := range v.Networks {
		v.HasIPv6 = v.HasIPv6 || ep.IPv6 != ""
	}
	slices.SortFunc(v.Networks, func(a, b EndpointView) int {
		return cmp.Or(strings.Compare(a.NetworkName, b.NetworkName), strings.Compare(a.NetworkID, b.NetworkID))
	})
	slices.SortFunc(v.Mounts, func(a, b MountView) int {
		return cmp.Or(strings.Compare(a.Destination, b.Destination), strings.Compare(a.Source, b.Source))
	})
	byLink := func(a, b LinkView) int {
		return cmp.Or(strings.Compare(a.Peer.Name, b.Peer.Name), strings.Compare(a.Alias, b.Alias))
	}
	slices.SortFunc(v.LinksOut, byLink)
	slices.SortFunc(v.LinksIn, byLink)
	slices.SortFunc(v.NetNSUsers, func(a, b PeerView) int { return strings.Compare(a.Name, b.Name) })
	for _, o := range g.Nodes {
		if o.Kind != topology.KindContainer || o.Container == nil || o.ID == id {
			continue
		}
		v.Targets = append(v.Targets, TargetView{
			NodeID: o.ID, ID: o.Container.ID, Name: cmp.Or(o.Container.Name, o.Label, shortID(o.Container.ID)),
			Running: o.Container.State == "running",
		})
	}
	slices.SortFunc(v.Targets, func(a, b TargetView) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	v.CanJoin = c.OwnStack()
	v.Joinable = joinableNetworks(g, c, v.Networks)
	v.Volumes = namedVolumes(g)
	byName := func(a, b PeerView) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(v.VolumesFrom, byName)
	slices.SortFunc(v.VolumesTo, byName)
	return v, true
}

// findNode looks id up in g. Graph.Node needs the nodes sorted, as Build
// leaves them; a hand-made graph may not be, so fall back to a scan rather
// than report a present node as missing.
// otherEngine is n's engine when that is not the default one: only
// another engine's IDs end in "@<engine>" (topology.EngineSep).
func otherEngine(n topology.Node) string {
	if n.Engine != "" && strings.HasSuffix(string(n.ID), topology.EngineSep+n.Engine) {
		return n.Engine
	}
	return ""
}

func findNode(g topology.Graph, id topology.NodeID) (topology.Node, bool) {
	if n, ok := g.Node(id); ok {
		return n, true
	}
	for _, n := range g.Nodes {
		if n.ID == id {
			return n, true
		}
	}
	return topology.Node{}, false
}

func endpointView(g topology.Graph, e topology.Edge) EndpointView {
	m := e.Member
	ev := EndpointView{
		NetworkNodeID:   e.To,
		NetworkName:     m.NetworkName,
		NetworkID:       m.NetworkID,
		NetworkShortID:  shortID(m.NetworkID),
		EndpointID:      m.EndpointID,
		EndpointShortID: shortID(m.EndpointID),
		IP:              m.IP,
		PrefixLen:       m.PrefixLen,
		Gateway:         m.Gateway,
		IPv6:            m.IPv6,
		MAC:             m.MAC,
		Aliases:         m.Aliases,
	}
	// The network node is the fresher source for its name and for whether
	// it is the default bridge; the endpoint only copies the name.
	if n, ok := findNode(g, e.To); ok && n.Network != nil {
		ev.NetworkName = cmp.Or(n.Network.Name, ev.NetworkName)
		ev.Default = n.Network.Default
	}
	return ev
}

func mountView(g topology.Graph, e topology.Edge) MountView {
	mv := MountView{
		Type:        e.Mount.Type,
		Destination: e.Mount.Destination,
		ReadOnly:    e.Mount.ReadOnly,
		Mode:        e.Mount.Mode,
		TargetID:    e.To,
	}
	n, ok := findNode(g, e.To)
	switch {
	case ok && n.Volume != nil:
		mv.Source, mv.Anonymous = n.Volume.Name, n.Volume.Anonymous
	case ok && n.Bind != nil:
		mv.Source = n.Bind.Path
	default:
		// The node ID carries the name or path after its "v:"/"b:" prefix.
		_, mv.Source, _ = strings.Cut(string(e.To), ":")
	}
	mv.SourceShort = mv.Source
	if mv.Anonymous {
		mv.SourceShort = shortID(mv.Source)
	}
	return mv
}

// peer names the container node id, falling back to its short ID when the
// graph does not hold it (an edge can outlive its node for one re-list).
func peer(g topology.Graph, id topology.NodeID) PeerView {
	p := PeerView{NodeID: id}
	if n, ok := findNode(g, id); ok {
		p.Name = n.Label
		if n.Container != nil && n.Container.Name != "" {
			p.Name = n.Container.Name
		}
	}
	if p.Name == "" {
		p.Name = shortID(strings.TrimPrefix(string(id), "c:"))
	}
	return p
}

// shortID cuts a Docker ID to the 12 digits docker ps shows.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// engineState is the first part of the engine badge: connected or not.
// badges.js (engineParts) formats both parts the same way when the live
// connection reports a change.
func engineState(e topology.EngineState) string {
	if e.Connected {
		return "connected"
	}
	return "engine unreachable"
}

// engineTitle is the badge's tooltip: where the engine is, and its version
// (which the badge itself may leave out).
func engineTitle(e topology.EngineState) string {
	var parts []string
	if e.Host != "" {
		parts = append(parts, e.Host)
	}
	if e.Version != "" {
		parts = append(parts, "Docker "+e.Version)
	}
	return strings.Join(parts, " · ")
}

// engineDetail is the rest: the engine's version, which a narrow screen
// leaves out (style.css), or why it cannot be reached, which it never does.
func engineDetail(e topology.EngineState) string {
	switch {
	case e.Connected && e.Version != "":
		return " · Docker " + e.Version
	case !e.Connected && e.LastError != "":
		return ": " + e.LastError
	}
	return ""
}

// assetURL is the URL of a file under /static/ with the cache-busting
// version, when there is one, as a folder of the path (/static/v/<version>/):
// the page's modules import each other by relative URLs, which then carry
// the version too, so that a reload takes all of them from the browser's
// cache instead of asking again for each one (six at a time over HTTP/1.1:
// a third of a second before the map could start). Characters a path
// segment would have to escape become "_".
func assetURL(path, version string) string {
	if version == "" {
		return "/static/" + path
	}
	return "/static/v/" + versionSegment.ReplaceAllString(version, "_") + "/" + path
}

var versionSegment = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// DefaultAlias is what the Add link form's alias starts as: the name of
// the first target, which is what `--link name` would use.
func (v ContainerPanelView) DefaultAlias() string {
	if len(v.Targets) == 0 {
		return ""
	}
	// Aliases take no dots (topology.ValidateAlias): "my.db" suggests "my-db".
	return strings.ReplaceAll(v.Targets[0].Name, ".", "-")
}

// roleTitle explains the role badge.
func roleTitle(a Access, v PageView) string {
	switch {
	case a.Role == "viewer":
		return "You are a viewer: you see everything live but cannot change anything"
	case v.ReadOnlyMode:
		return "You are an operator, but dockmap runs with --read-only"
	}
	return "You are an operator: every action is yours (root on the Docker host)"
}

// GhostPanelView is what GhostPanel renders: a removed container that
// broken links still name. Build it with NewGhostPanelView.
type GhostPanelView struct {
	NodeID   topology.NodeID
	Name     string
	Original string
	Links    []GhostLinkView
}

// GhostLinkView is one broken link to the ghost, from a container.
type GhostLinkView struct {
	From   PeerView
	FromID string
	Link   LinkView
}

// NewGhostPanelView builds the view of the ghost node id from g. It is
// pure; it returns false when g has no such ghost.
func NewGhostPanelView(g topology.Graph, id topology.NodeID) (GhostPanelView, bool) {
	n, ok := findNode(g, id)
	if !ok || n.Kind != topology.KindGhost || n.Ghost == nil {
		return GhostPanelView{}, false
	}
	v := GhostPanelView{NodeID: n.ID, Name: n.Ghost.Name, Original: n.Ghost.Original}
	for _, e := range g.EdgesOf(id) {
		if e.Kind != topology.EdgeBrokenLink || e.To != id || e.Link == nil {
			continue
		}
		l := LinkView{Alias: e.Link.Alias, Peer: PeerView{NodeID: id, Name: n.Ghost.Name}, Broken: true}
		if to, err := g.ContainerByRef(plan.RepairTarget(n.Ghost.Name)); err == nil {
			l.RepairTo = to.Container.Name
		}
		v.Links = append(v.Links, GhostLinkView{From: peer(g, e.From), FromID: containerIDOf(g, e.From), Link: l})
	}
	slices.SortFunc(v.Links, func(a, b GhostLinkView) int {
		return cmp.Or(strings.Compare(a.From.Name, b.From.Name), strings.Compare(a.Link.Alias, b.Link.Alias))
	})
	return v, true
}

// composeLine says which Compose project and service c belongs to.
func composeLine(c *topology.ContainerInfo) string {
	if c.Project == "" {
		return ""
	}
	s := "project " + c.Project + " · service " + c.Service
	if c.OneOff {
		s += " · one-off (docker-compose run)"
	} else if c.Number > 0 {
		s += " · replica " + strconv.Itoa(c.Number)
	}
	return s
}
