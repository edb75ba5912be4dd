// Package compose writes a Compose file that re-creates a set of
// containers: their networks and aliases, links, volumes, ports, env and
// labels. It is pure: internal/docker inspects the engine and fills the
// plain descriptions below; Build turns them into a compose-go Project and
// Marshal writes it. What a Compose file cannot carry, or dockmap will not
// write (a container given the host), is left out and said in Notes.
package compose

import (
	"fmt"
	"slices"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

// Compose's own labels on what it creates.
const (
	LabelProject    = "com.docker.compose.project"
	LabelService    = "com.docker.compose.service"
	LabelNetwork    = "com.docker.compose.network"
	LabelVolume     = "com.docker.compose.volume"
	LabelDependsOn  = "com.docker.compose.depends_on"
	labelNumber     = "com.docker.compose.container-number"
	composeLabelPre = "com.docker.compose."
)

// Image is what a container inherits from its image unless told otherwise.
type Image struct {
	Entrypoint, Cmd, Env []string
	User, WorkingDir     string
	Labels               map[string]string
}

// Container is one container as `docker inspect` describes it: its own
// configuration, not what the engine derived from it.
type Container struct {
	ID   string
	Name string // without the leading slash
	// Image is the reference the container was created from.
	Image      string
	ImageSpec  Image
	Entrypoint []string
	Cmd        []string
	Env        []string
	User       string
	WorkingDir string
	Labels     map[string]string
	// NetworkMode is HostConfig.NetworkMode: "default", "bridge", "host",
	// "none", "container:<id>" or a network's name or ID.
	NetworkMode string
	Endpoints   []Endpoint
	Ports       []Port
	Mounts      []Mount
	// Links are HostConfig.Links and the endpoints' links, each the
	// target container's name and the alias.
	Links []Link
	// Restart is the restart policy as the CLI writes it: "", "no",
	// "always", "unless-stopped", "on-failure" or "on-failure:N".
	Restart    string
	Privileged bool
	PIDHost    bool
	Devices    []string // host paths
}

// Endpoint is a container's membership of one network.
type Endpoint struct {
	Network string // the network's name
	Aliases []string
	// IPv4 is the address asked for (IPAMConfig), empty when the engine
	// chose one.
	IPv4 string
}

// Port is one published port.
type Port struct {
	Target   uint32
	Protocol string // tcp, udp, sctp
	HostIP   string
	HostPort string // empty: any free port
}

// Mount is one mount of a container.
type Mount struct {
	Type     string // volume, bind, tmpfs
	Source   string // the volume's name or the host path
	Target   string
	ReadOnly bool
}

// Link is one legacy link: the target container's name and the alias.
type Link struct {
	Target string
	Alias  string
}

// Network is a network some container of the set is on.
type Network struct {
	Name       string
	Driver     string
	Options    map[string]string
	Labels     map[string]string
	Internal   bool
	Attachable bool
	Subnets    []Subnet
	// Members are the IDs of every container on it, in the set or not.
	Members []string
}

// Subnet is one IPAM pool.
type Subnet struct{ Subnet, Gateway string }

// Volume is a named volume some container of the set mounts.
type Volume struct {
	Name      string
	Driver    string
	Options   map[string]string
	Labels    map[string]string
	Anonymous bool
	// Users are the IDs of every container that mounts it.
	Users []string
}

// Selection is what to export.
type Selection struct {
	// Project names the exported project: the Compose project's name
	// when the set is one, else one made up by the caller.
	Project    string
	Containers []Container
	Networks   map[string]Network // by name
	Volumes    map[string]Volume  // by name
}

// Notes say, per service, what the file leaves out.
type Notes map[string][]string

func (n Notes) add(svc, format string, args ...any) {
	n[svc] = append(n[svc], fmt.Sprintf(format, args...))
}

// Build makes the Compose project that re-creates sel's containers.
func Build(sel Selection) (*types.Project, Notes, error) {
	if len(sel.Containers) == 0 {
		return nil, nil, fmt.Errorf("nothing to export")
	}
	// Compose takes only lower-case names of [a-z0-9_-]: a label written
	// by another tool may hold anything.
	name := loader.NormalizeProjectName(sel.Project)
	if name == "" {
		name = "export"
	}
	p := &types.Project{Name: name, Services: types.Services{}}
	notes := Notes{}
	inSet := map[string]bool{}
	svcOf := map[string]string{} // container name → service name
	for _, c := range sel.Containers {
		inSet[c.ID] = true
	}
	for _, c := range sel.Containers {
		name := ServiceName(c)
		if _, dup := p.Services[name]; dup {
			// A scaled service (web_1, web_2): one service describes
			// them all.
			notes.add(name, "container %s is another replica of service %s: exported once", c.Name, name)
			continue
		}
		svcOf[c.Name] = name
		p.Services[name] = types.ServiceConfig{Name: name}
	}
	nets := networkKeys(sel, inSet)
	vols := volumeKeys(sel, inSet)
	for _, c := range sel.Containers {
		name := svcOf[c.Name]
		if name == "" {
			continue
		}
		p.Services[name] = service(sel, c, name, svcOf, nets, vols, notes)
	}
	for _, nk := range nets {
		if nk.used {
			if p.Networks == nil {
				p.Networks = types.Networks{}
			}
			p.Networks[nk.key] = nk.config
		}
	}
	for _, vk := range vols {
		if vk.key != "" {
			if p.Volumes == nil {
				p.Volumes = types.Volumes{}
			}
			p.Volumes[vk.key] = vk.config
		}
	}
	if len(notes) > 0 {
		ext := map[string]any{}
		for s, ns := range notes {
			ext[s] = slices.Clone(ns)
		}
		p.Extensions = types.Extensions{NotesKey: ext}
	}
	return p, notes, nil
}

// NotesKey is the extension field that lists what the file leaves out.
const NotesKey = "x-dockmap-notes"

// ServiceName is the service a container becomes: Compose's own service
// label when it has one, else its name.
func ServiceName(c Container) string {
	if s := c.Labels[LabelService]; s != "" {
		return s
	}
	return c.Name
}
