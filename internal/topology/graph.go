// Package topology is dockmap's pure domain: it turns what the engine has
// (an Inventory) into a Graph of nodes and edges, and computes the Delta
// between two graphs. It does no I/O and imports only the standard library,
// so every rule here is tested with tables and golden files.
package topology

import (
	"maps"
	"slices"
	"strings"
	"time"
)

// NodeID names a node: "c:<container id>", "n:<network id>", "v:<volume
// name>", "b:<host path>" or "g:<container name>".
type NodeID string

// EdgeID names an edge; the forms are listed with each EdgeKind.
type EdgeID string

// NodeKind says what a node stands for.
type NodeKind string

// Node kinds.
const (
	KindContainer NodeKind = "container"
	KindNetwork   NodeKind = "network"
	KindVolume    NodeKind = "volume"
	KindBind      NodeKind = "bind"
	// KindGhost stands for a container that is gone but that a broken
	// link still names.
	KindGhost NodeKind = "ghost"
	// KindSwarmNode is a host of a Swarm as its managers know it:
	// "sn:<node id>".
	KindSwarmNode NodeKind = "swarm-node"
	// KindService is a Swarm service: "sv:<service id>".
	KindService NodeKind = "service"
	// KindTask is a Swarm task whose container no connected engine shows
	// (its node's engine is not one of dockmap's): "t:<task id>". A task
	// whose container is on the map is that container's node, carrying
	// the task.
	KindTask NodeKind = "task"
)

// EdgeKind says what an edge stands for.
type EdgeKind string

// Edge kinds.
const (
	// EdgeLink is a legacy link, directed from the container that has
	// --link to its target: "l:<from id>><to id>:<alias>".
	EdgeLink EdgeKind = "link"
	// EdgeBrokenLink is a legacy link whose target was removed, from the
	// container that has it to the ghost of the target's last name:
	// "bl:<from id>:<alias>".
	EdgeBrokenLink EdgeKind = "broken-link"
	// EdgeMember joins a container to a network: "m:<container id>@<network id>".
	EdgeMember EdgeKind = "member"
	// EdgeMount joins a container to a volume or bind node:
	// "mt:<container id>><node id>:<destination>".
	EdgeMount EdgeKind = "mount"
	// EdgeNetNS joins a container in `--network container:X` mode to X:
	// "ns:<container id>><donor id>".
	EdgeNetNS EdgeKind = "netns"
	// EdgeVolumesFrom joins a container created with --volumes-from to its
	// donor, whose mounts it copied at create: "vf:<container id>><donor id>".
	EdgeVolumesFrom EdgeKind = "volumes-from"
	// EdgeReplica joins a Swarm service to one of its tasks (a task node,
	// or the container node that runs it): "r:<service node>><task node>".
	EdgeReplica EdgeKind = "replica"
)

// Graph is the whole picture. Nodes and Edges are sorted by ID, which Diff
// relies on.
type Graph struct {
	Nodes []Node `json:"nodes"`
	Edges []Edge `json:"edges"`
}

// Node is one vertex. Exactly one of the kind-specific fields is set.
type Node struct {
	ID    NodeID   `json:"id"`
	Kind  NodeKind `json:"kind"`
	Label string   `json:"label"`
	// Engine names the engine that reported the node (engines.Local for
	// the default one); for what a Swarm's managers report, the manager's.
	Engine string `json:"engine,omitempty"`
	// Host is the host the node is drawn in: an engine's name, or
	// "node:<hostname>" for a Swarm node whose engine dockmap does not
	// connect to. Services and Swarm-wide networks belong to no host.
	Host string `json:"host,omitempty"`
	// Group is the node whose box the node is drawn in, inside its host's:
	// the Compose project of a container, or of a network or volume that
	// project made.
	Group     NodeID         `json:"group,omitempty"`
	Container *ContainerInfo `json:"container,omitempty"`
	Network   *NetworkInfo   `json:"network,omitempty"`
	Volume    *VolumeInfo    `json:"volume,omitempty"`
	Bind      *BindInfo      `json:"bind,omitempty"`
	Ghost     *GhostInfo     `json:"ghost,omitempty"`
	SwarmNode *SwarmNode     `json:"swarmNode,omitempty"`
	Service   *SwarmService  `json:"service,omitempty"`
	Project   *ProjectInfo   `json:"project,omitempty"`
	// Task is set on a task node, and on the container node of a task
	// (then beside Container).
	Task *SwarmTask `json:"task,omitempty"`
}

// ContainerInfo is what a container node carries.
type ContainerInfo struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Image       string            `json:"image"`
	ImageID     string            `json:"imageId"`
	Command     string            `json:"command"`
	Created     int64             `json:"created"`
	State       string            `json:"state"`
	Status      string            `json:"status"`
	Health      string            `json:"health,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Ports       []Port            `json:"ports,omitempty"`
	NetworkMode string            `json:"networkMode,omitempty"`
	// Tmpfs lists the destinations of tmpfs mounts, drawn as a badge.
	Tmpfs []string `json:"tmpfs,omitempty"`
	// AutoRemove is set for a container run with --rm.
	AutoRemove bool `json:"autoRemove,omitempty"`
	// Project and Service name the Compose project and service of a
	// container Compose made (its labels say); Number is its replica
	// number, OneOff marks a `docker-compose run` container.
	Project string `json:"project,omitempty"`
	Service string `json:"service,omitempty"`
	Number  int    `json:"number,omitempty"`
	OneOff  bool   `json:"oneOff,omitempty"`
}

// Running reports whether the container is up.
func (c *ContainerInfo) Running() bool { return c.State == "running" }

// OwnStack reports whether the container has a network stack of its own:
// not the host's, none, or another container's (--network container:X).
// Only such a container can join networks, have links or get aliases.
func (c *ContainerInfo) OwnStack() bool {
	m := c.NetworkMode
	return m != "host" && m != "none" && !strings.HasPrefix(m, "container:")
}

// Predefined reports whether the network is one of the engine's own (the
// default bridge, host, none): no DNS by name, no aliases, never removed.
func (n *NetworkInfo) Predefined() bool {
	return n.Default || IsReservedNetworkName(n.Name) || n.Driver == "host" || n.Driver == "null"
}

// NetworkInfo is what a network node carries.
type NetworkInfo struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Driver     string `json:"driver"`
	Scope      string `json:"scope"`
	Internal   bool   `json:"internal"`
	Attachable bool   `json:"attachable"`
	ICC        bool   `json:"icc"`
	Default    bool   `json:"default"`
	// Ingress marks a Swarm's routing-mesh network, Encrypted an overlay
	// with IPsec on (--opt encrypted); both come from a manager.
	Ingress   bool              `json:"ingress,omitempty"`
	Encrypted bool              `json:"encrypted,omitempty"`
	Subnets   []Subnet          `json:"subnets,omitempty"`
	Options   map[string]string `json:"options,omitempty"`
	Labels    map[string]string `json:"labels,omitempty"`
}

// VolumeInfo is what a volume node carries.
type VolumeInfo struct {
	Name       string            `json:"name"`
	Driver     string            `json:"driver"`
	Mountpoint string            `json:"mountpoint,omitempty"`
	Anonymous  bool              `json:"anonymous"`
	Labels     map[string]string `json:"labels,omitempty"`
	// Options are the driver options; they stay on the server, since a
	// network file system's options can hold a password.
	Options map[string]string `json:"-"`
	// Backing says what a local volume mounts when its options make it a
	// mount of a host path or device ("bind /srv/data", "nfs"), else "".
	Backing string `json:"backing,omitempty"`
}

// BindInfo is what a bind-mount node carries.
type BindInfo struct {
	Path string `json:"path"`
}

// GhostInfo is what a ghost node carries: the name a broken link still
// gives its removed target and, when that name is one dockmap's re-create
// gave the old container ("db-dockmap-old-…"), the name it had before.
type GhostInfo struct {
	Name     string `json:"name"`
	Original string `json:"original,omitempty"`
}

// Edge is one connection between two nodes. At most one of the
// kind-specific fields is set (netns edges carry none).
type Edge struct {
	ID   EdgeID   `json:"id"`
	Kind EdgeKind `json:"kind"`
	From NodeID   `json:"from"`
	To   NodeID   `json:"to"`
	// Engine names the engine that reported the edge, as on Node.
	Engine      string           `json:"engine,omitempty"`
	Link        *LinkInfo        `json:"link,omitempty"`
	Member      *MemberInfo      `json:"member,omitempty"`
	Mount       *MountInfo       `json:"mount,omitempty"`
	VolumesFrom *VolumesFromInfo `json:"volumesFrom,omitempty"`
	DependsOn   *DependsOnInfo   `json:"dependsOn,omitempty"`
}

// LinkInfo is what a link edge carries.
type LinkInfo struct {
	Alias string `json:"alias"`
	// Target, on a broken link, is the removed target's last name.
	Target string `json:"target,omitempty"`
	// Network, on a link that is an endpoint alias of a user-defined
	// network, names that network ("" for a legacy link).
	Network string `json:"network,omitempty"`
}

// MemberInfo is what a membership edge carries: the endpoint as docker
// inspect shows it under NetworkSettings.Networks.
type MemberInfo struct {
	NetworkName string   `json:"networkName"`
	NetworkID   string   `json:"networkId"`
	EndpointID  string   `json:"endpointId"`
	IP          string   `json:"ip,omitempty"`
	PrefixLen   int      `json:"prefixLen,omitempty"`
	Gateway     string   `json:"gateway,omitempty"`
	IPv6        string   `json:"ipv6,omitempty"`
	MAC         string   `json:"mac,omitempty"`
	Aliases     []string `json:"aliases,omitempty"`
	// Links are the endpoint's links, "target:alias" as the engine keeps
	// them: aliases that resolve the target's name on this network.
	Links []string `json:"links,omitempty"`
}

// MountInfo is what a mount edge carries.
type MountInfo struct {
	Type        string `json:"type"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"readOnly"`
	Mode        string `json:"mode,omitempty"`
}

// VolumesFromInfo is what a volumes-from edge carries.
type VolumesFromInfo struct {
	// ReadOnly is set for "--volumes-from donor:ro": every copied mount is
	// read-only in the container, whatever it is in the donor.
	ReadOnly bool `json:"readOnly"`
	// Ref is the donor as the container's spec names it: a name, which
	// follows a re-created donor, or an ID, which does not.
	Ref string `json:"ref"`
}

// EngineState is what dockmap knows about its connection to the engine.
type EngineState struct {
	Connected  bool      `json:"connected"`
	Version    string    `json:"version,omitempty"`
	APIVersion string    `json:"apiVersion,omitempty"`
	Host       string    `json:"host,omitempty"`
	LastError  string    `json:"lastError,omitempty"`
	Since      time.Time `json:"since"`
}

// Snapshot is the whole graph at one seq, as sent first on /live and by
// GET /api/graph.
type Snapshot struct {
	Seq    uint64      `json:"seq"`
	Engine EngineState `json:"engine"`
	Graph
}

// Node returns the node with the given ID.
func (g Graph) Node(id NodeID) (Node, bool) {
	i, ok := slices.BinarySearchFunc(g.Nodes, id, func(n Node, id NodeID) int {
		return strings.Compare(string(n.ID), string(id))
	})
	if !ok {
		return Node{}, false
	}
	return g.Nodes[i], true
}

// Edge returns the edge with the given ID.
func (g Graph) Edge(id EdgeID) (Edge, bool) {
	i, ok := slices.BinarySearchFunc(g.Edges, id, func(e Edge, id EdgeID) int {
		return strings.Compare(string(e.ID), string(id))
	})
	if !ok {
		return Edge{}, false
	}
	return g.Edges[i], true
}

// EdgesOf returns every edge that starts or ends at id, in ID order.
func (g Graph) EdgesOf(id NodeID) []Edge {
	var out []Edge
	for _, e := range g.Edges {
		if e.From == id || e.To == id {
			out = append(out, e)
		}
	}
	return out
}

// ContainerNodeID is the node ID of a container.
func ContainerNodeID(id string) NodeID { return NodeID("c:" + id) }

// NetworkNodeID is the node ID of a network.
func NetworkNodeID(id string) NodeID { return NodeID("n:" + id) }

// VolumeNodeID is the node ID of a volume.
func VolumeNodeID(name string) NodeID { return NodeID("v:" + name) }

// BindNodeID is the node ID of a bind-mounted host path.
func BindNodeID(path string) NodeID { return NodeID("b:" + path) }

// GhostNodeID is the node ID of a removed container a broken link names.
func GhostNodeID(name string) NodeID { return NodeID("g:" + name) }

// SwarmNodeID is the node ID of a Swarm node (a host).
func SwarmNodeID(id string) NodeID { return NodeID("sn:" + id) }

// ServiceNodeID is the node ID of a Swarm service.
func ServiceNodeID(id string) NodeID { return NodeID("sv:" + id) }

// TaskNodeID is the node ID of a Swarm task that no container node stands for.
func TaskNodeID(id string) NodeID { return NodeID("t:" + id) }

// Equal reports whether two nodes carry the same data.
func (n Node) Equal(o Node) bool {
	if n.ID != o.ID || n.Kind != o.Kind || n.Label != o.Label || n.Engine != o.Engine || n.Host != o.Host || n.Group != o.Group {
		return false
	}
	if (n.Task == nil) != (o.Task == nil) || n.Task != nil && !n.Task.equal(o.Task) {
		return false
	}
	switch {
	case n.Container != nil || o.Container != nil:
		return n.Container != nil && o.Container != nil && n.Container.equal(o.Container)
	case n.Network != nil || o.Network != nil:
		return n.Network != nil && o.Network != nil && n.Network.equal(o.Network)
	case n.Volume != nil || o.Volume != nil:
		return n.Volume != nil && o.Volume != nil && n.Volume.equal(o.Volume)
	case n.Bind != nil || o.Bind != nil:
		return n.Bind != nil && o.Bind != nil && *n.Bind == *o.Bind
	case n.Ghost != nil || o.Ghost != nil:
		return n.Ghost != nil && o.Ghost != nil && *n.Ghost == *o.Ghost
	case n.SwarmNode != nil || o.SwarmNode != nil:
		return n.SwarmNode != nil && o.SwarmNode != nil && *n.SwarmNode == *o.SwarmNode
	case n.Service != nil || o.Service != nil:
		return n.Service != nil && o.Service != nil && n.Service.equal(o.Service)
	case n.Project != nil || o.Project != nil:
		return n.Project != nil && o.Project != nil && n.Project.equal(o.Project)
	}
	return true
}

func (c *ContainerInfo) equal(o *ContainerInfo) bool {
	// Status is left out on purpose: its text ("Up 12 minutes") ages by
	// itself, and comparing it would send every running container as changed
	// on every re-list. State and Health carry what the map shows; the panel
	// renders Status fresh from the current graph.
	return c.ID == o.ID && c.Name == o.Name && c.Image == o.Image && c.ImageID == o.ImageID &&
		c.Command == o.Command && c.Created == o.Created && c.State == o.State &&
		c.Health == o.Health && c.NetworkMode == o.NetworkMode &&
		maps.Equal(c.Labels, o.Labels) && slices.Equal(c.Ports, o.Ports) && slices.Equal(c.Tmpfs, o.Tmpfs) &&
		c.AutoRemove == o.AutoRemove && c.Project == o.Project && c.Service == o.Service &&
		c.Number == o.Number && c.OneOff == o.OneOff
}

func (n *NetworkInfo) equal(o *NetworkInfo) bool {
	return n.ID == o.ID && n.Name == o.Name && n.Driver == o.Driver && n.Scope == o.Scope &&
		n.Internal == o.Internal && n.Attachable == o.Attachable && n.ICC == o.ICC &&
		n.Default == o.Default && n.Ingress == o.Ingress && n.Encrypted == o.Encrypted && slices.Equal(n.Subnets, o.Subnets) &&
		maps.Equal(n.Options, o.Options) && maps.Equal(n.Labels, o.Labels)
}

func (v *VolumeInfo) equal(o *VolumeInfo) bool {
	return v.Name == o.Name && v.Driver == o.Driver && v.Mountpoint == o.Mountpoint &&
		v.Anonymous == o.Anonymous && maps.Equal(v.Labels, o.Labels) && maps.Equal(v.Options, o.Options) &&
		v.Backing == o.Backing
}

// Equal reports whether two edges carry the same data.
func (e Edge) Equal(o Edge) bool {
	if e.ID != o.ID || e.Kind != o.Kind || e.From != o.From || e.To != o.To || e.Engine != o.Engine {
		return false
	}
	switch {
	case e.Link != nil || o.Link != nil:
		return e.Link != nil && o.Link != nil && *e.Link == *o.Link
	case e.Member != nil || o.Member != nil:
		return e.Member != nil && o.Member != nil && e.Member.equal(o.Member)
	case e.Mount != nil || o.Mount != nil:
		return e.Mount != nil && o.Mount != nil && *e.Mount == *o.Mount
	case e.VolumesFrom != nil || o.VolumesFrom != nil:
		return e.VolumesFrom != nil && o.VolumesFrom != nil && *e.VolumesFrom == *o.VolumesFrom
	case e.DependsOn != nil || o.DependsOn != nil:
		return e.DependsOn != nil && o.DependsOn != nil && *e.DependsOn == *o.DependsOn
	}
	return true
}

func (m *MemberInfo) equal(o *MemberInfo) bool {
	return m.NetworkName == o.NetworkName && m.NetworkID == o.NetworkID &&
		m.EndpointID == o.EndpointID && m.IP == o.IP && m.PrefixLen == o.PrefixLen &&
		m.Gateway == o.Gateway && m.IPv6 == o.IPv6 && m.MAC == o.MAC &&
		slices.Equal(m.Aliases, o.Aliases) && slices.Equal(m.Links, o.Links)
}
