package topology

// Inventory is what the engine has right now, as the Docker adapter read it
// from three list calls. It mirrors the engine's vocabulary; Build turns it
// into a Graph.
type Inventory struct {
	Containers []Container
	Networks   []Network
	Volumes    []Volume
}

// Container is one container as the engine lists it.
type Container struct {
	ID string
	// Name is the primary name without the leading slash.
	Name string
	// Names holds every name the engine reserves for the container, without
	// the leading slash. Legacy links show up here on the link target as
	// "<parent>/<alias>" (research/docker-api-semantics.md §1.1).
	Names       []string
	Image       string
	ImageID     string
	Command     string
	Created     int64
	State       string
	Status      string
	Labels      map[string]string
	Ports       []Port
	NetworkMode string
	Endpoints   []Endpoint
	Mounts      []Mount
	// VolumesFrom holds HostConfig.VolumesFrom as the engine stores it:
	// the donor's name or ID, with ":ro" or ":rw" when given ("web",
	// "web:ro"). The list call does not carry it; the adapter reads it from
	// one inspect per container.
	VolumesFrom []string
	// Links are the legacy links the engine holds for this container, as
	// its inspect shows them (read with VolumesFrom). A link whose target
	// was removed stays here, naming the removed container, while the list
	// no longer shows it: that link is broken (the container cannot start
	// and no exec runs in it until it is re-created without it).
	Links []LinkRef
	// AutoRemove is set for a container run with --rm: stopping it
	// removes it (read from the same inspect).
	AutoRemove bool
}

// LinkRef is one legacy link of a container: the target's name as the
// engine shows it (the name it had when it was removed, for a broken link)
// and the alias.
type LinkRef struct {
	Target string
	Alias  string
}

// Port is one exposed or published port.
type Port struct {
	IP          string `json:"ip,omitempty"`
	PrivatePort uint16 `json:"private"`
	PublicPort  uint16 `json:"public,omitempty"`
	Type        string `json:"type"`
}

// Endpoint is a container's attachment to one network, with the fields that
// docker inspect shows under NetworkSettings.Networks.
type Endpoint struct {
	NetworkID   string
	NetworkName string
	EndpointID  string
	IP          string
	PrefixLen   int
	Gateway     string
	IPv6        string
	MAC         string
	// Aliases are the user-given DNS names on this network; the engine's
	// automatic ones (short ID, hostname) are left out.
	Aliases []string
	// Links are the endpoint's links on a user-defined network,
	// "target:alias" as the engine keeps them (read with the aliases).
	Links []string
}

// Mount is one mount of a container.
type Mount struct {
	// Type is "volume", "bind", "tmpfs" or "npipe".
	Type        string
	Name        string
	Source      string
	Destination string
	Driver      string
	Mode        string
	RW          bool
}

// Network is one network as the engine lists it.
type Network struct {
	ID         string
	Name       string
	Driver     string
	Scope      string
	Internal   bool
	Attachable bool
	// ICC is false when inter-container communication is off
	// (com.docker.network.bridge.enable_icc=false; a missing key means on).
	ICC bool
	// Default marks the engine's default bridge.
	Default bool
	Subnets []Subnet
	Options map[string]string
	Labels  map[string]string
}

// Subnet is one IPAM pool of a network.
type Subnet struct {
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway,omitempty"`
}

// Volume is one volume as the engine lists it.
type Volume struct {
	Name       string
	Driver     string
	Mountpoint string
	Labels     map[string]string
	// Options are the driver options the volume was created with ("type",
	// "o", "device" for the local driver): they can make it a mount of a
	// host path or device (VolumeBacking).
	Options map[string]string
	// Anonymous is true for volumes the engine named itself (image VOLUME
	// or `-v /path`).
	Anonymous bool
}
