// Package compose writes a Compose file that re-creates a set of
// containers: their networks and aliases, links, volumes, ports, env and
// labels. It is pure: internal/docker inspects the engine and fills the
// plain descriptions below; Build turns them into a compose-go Project and
// Marshal writes it. What a Compose file cannot carry, or dockmap will not
// write (a container given the host), is left out and said in Notes.
package compose

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

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

// netKey is how the file names one network and declares it.
type netKey struct {
	key    string
	config types.NetworkConfig
	used   bool
}

// networkKeys names every network of the set in the file. A network is the
// project's own, declared with its driver and options and made again
// under the new project's name, when Compose made it for this project, or
// when it is a user-defined network of no other project that only the set's
// containers are on. Any other is external: the new containers join it as
// it is.
func networkKeys(sel Selection, inSet map[string]bool) map[string]*netKey {
	out := map[string]*netKey{}
	taken := map[string]bool{}
	names := slices.Sorted(maps.Keys(sel.Networks))
	for _, n := range names {
		nw := sel.Networks[n]
		own := false
		key := n
		if proj := nw.Labels[LabelProject]; proj != "" {
			own = proj == sel.Project
			if own && nw.Labels[LabelNetwork] != "" {
				key = nw.Labels[LabelNetwork]
			}
		} else if !predefined(n) {
			own = true
			for _, m := range nw.Members {
				if !inSet[m] {
					own = false
				}
			}
		}
		for taken[key] {
			key += "_"
		}
		taken[key] = true
		nk := &netKey{key: key}
		if own {
			nk.config = types.NetworkConfig{
				Driver: nw.Driver, DriverOpts: types.Options(cloneNonEmpty(nw.Options)),
				Internal: nw.Internal, Attachable: nw.Attachable,
				Labels: types.Labels(withoutCompose(nw.Labels, nil)),
			}
			if nk.config.Driver == "bridge" {
				nk.config.Driver = ""
			}
		} else {
			nk.config = types.NetworkConfig{Name: n, External: true}
		}
		out[n] = nk
	}
	return out
}

// needSubnets gives an own network its subnets: a static address asks
// for one (Compose refuses ipv4_address on a network without a subnet).
// Otherwise none, so that the re-created project can run beside the old.
func needSubnets(nk *netKey, nw Network) {
	if nk.config.External || len(nk.config.Ipam.Config) > 0 {
		return
	}
	for _, s := range nw.Subnets {
		nk.config.Ipam.Config = append(nk.config.Ipam.Config, &types.IPAMPool{Subnet: s.Subnet, Gateway: s.Gateway})
	}
}

// predefined says whether a network is one the engine makes itself.
func predefined(n string) bool { return n == "bridge" || n == "host" || n == "none" }

// volKey is how the file names one named volume; an empty key is an
// anonymous volume, mounted by its path alone.
type volKey struct {
	key    string
	config types.VolumeConfig
}

// volumeKeys names every named volume of the set, by the same rule as
// networks: Compose's for this project, or no project's and used only by
// the set, is declared and made again; any other is external and shared.
func volumeKeys(sel Selection, inSet map[string]bool) map[string]*volKey {
	out := map[string]*volKey{}
	taken := map[string]bool{}
	for _, n := range slices.Sorted(maps.Keys(sel.Volumes)) {
		v := sel.Volumes[n]
		if v.Anonymous {
			out[n] = &volKey{}
			continue
		}
		own := false
		key := n
		if proj := v.Labels[LabelProject]; proj != "" {
			own = proj == sel.Project
			if own && v.Labels[LabelVolume] != "" {
				key = v.Labels[LabelVolume]
			}
		} else {
			own = true
			for _, u := range v.Users {
				if !inSet[u] {
					own = false
				}
			}
		}
		for taken[key] {
			key += "_"
		}
		taken[key] = true
		vk := &volKey{key: key}
		if own {
			vk.config = types.VolumeConfig{
				DriverOpts: types.Options(cloneNonEmpty(v.Options)),
				Labels:     types.Labels(withoutCompose(v.Labels, nil)),
			}
			if v.Driver != "" && v.Driver != "local" {
				vk.config.Driver = v.Driver
			}
		} else {
			vk.config = types.VolumeConfig{Name: n, External: true}
		}
		out[n] = vk
	}
	return out
}

// service describes one container as a service.
func service(sel Selection, c Container, name string, svcOf map[string]string, nets map[string]*netKey, vols map[string]*volKey, notes Notes) types.ServiceConfig {
	s := types.ServiceConfig{Name: name}
	s.Image = c.Image
	img := c.ImageSpec
	entrypointSet := !slices.Equal(c.Entrypoint, img.Entrypoint)
	if entrypointSet {
		s.Entrypoint = types.ShellCommand(orEmpty(c.Entrypoint))
	}
	// A new entrypoint drops the image's command, so the container's own
	// is written whenever the entrypoint is.
	if !slices.Equal(c.Cmd, img.Cmd) || (entrypointSet && len(c.Cmd) > 0) {
		s.Command = types.ShellCommand(orEmpty(c.Cmd))
	}
	if c.User != img.User {
		s.User = c.User
	}
	if c.WorkingDir != img.WorkingDir && c.WorkingDir != "" {
		s.WorkingDir = c.WorkingDir
	}
	for _, e := range c.Env {
		if slices.Contains(img.Env, e) {
			continue
		}
		if s.Environment == nil {
			s.Environment = types.MappingWithEquals{}
		}
		k, v, ok := strings.Cut(e, "=")
		if ok {
			s.Environment[k] = &v
		} else {
			s.Environment[k] = nil
		}
	}
	if l := withoutCompose(c.Labels, img.Labels); len(l) > 0 {
		s.Labels = types.Labels(l)
	}
	if dep := c.Labels[LabelDependsOn]; dep != "" {
		for _, d := range strings.Split(dep, ",") {
			svc, _, _ := strings.Cut(d, ":")
			if _, ok := findService(svcOf, svc); ok && svc != name {
				if s.DependsOn == nil {
					s.DependsOn = types.DependsOnConfig{}
				}
				s.DependsOn[svc] = types.ServiceDependency{Condition: types.ServiceConditionStarted, Required: true}
			}
		}
	}
	switch r := c.Restart; {
	case r == "" || r == "no":
	case r == "on-failure:0":
		s.Restart = "on-failure"
	default:
		s.Restart = r
	}
	for _, pt := range c.Ports {
		s.Ports = append(s.Ports, types.ServicePortConfig{
			Target: pt.Target, Published: pt.HostPort, HostIP: pt.HostIP, Protocol: cmp.Or(pt.Protocol, "tcp"),
		})
	}
	slices.SortFunc(s.Ports, func(a, b types.ServicePortConfig) int {
		return cmp.Or(cmp.Compare(a.Target, b.Target), cmp.Compare(a.Protocol, b.Protocol), cmp.Compare(a.Published, b.Published))
	})
	serviceNetworks(sel, c, name, &s, nets, notes)
	for _, m := range c.Mounts {
		switch m.Type {
		case "volume":
			vk := vols[m.Source]
			v := types.ServiceVolumeConfig{Type: types.VolumeTypeVolume, Target: m.Target, ReadOnly: m.ReadOnly}
			if vk != nil && vk.key != "" {
				v.Source = vk.key
			}
			s.Volumes = append(s.Volumes, v)
		case "bind":
			s.Volumes = append(s.Volumes, types.ServiceVolumeConfig{Type: types.VolumeTypeBind, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
		case "tmpfs":
			s.Tmpfs = append(s.Tmpfs, m.Target)
		default:
			notes.add(name, "the %s mount at %s is left out", m.Type, m.Target)
		}
	}
	slices.SortFunc(s.Volumes, func(a, b types.ServiceVolumeConfig) int { return cmp.Compare(a.Target, b.Target) })
	links(c, name, &s, svcOf, sel)
	if c.Privileged {
		notes.add(name, "privileged is left out: dockmap does not write a spec that gives a container the host")
	}
	if c.PIDHost {
		notes.add(name, "pid: host (the host's PID namespace) is left out")
	}
	if len(c.Devices) > 0 {
		notes.add(name, "the host devices %s are left out", strings.Join(c.Devices, ", "))
	}
	return s
}

// serviceNetworks puts the service on its container's networks, with the
// aliases given to it: not the container's short ID, which the engine
// adds, nor the service's name, which Compose adds.
func serviceNetworks(sel Selection, c Container, name string, s *types.ServiceConfig, nets map[string]*netKey, notes Notes) {
	mode := c.NetworkMode
	switch {
	case mode == "host":
		notes.add(name, "network_mode: host (the host's network) is left out; the service gets the project's default network")
		return
	case mode == "none":
		s.NetworkMode = "none"
		return
	case strings.HasPrefix(mode, "container:"):
		notes.add(name, "network_mode: %s (another container's network stack) is left out; the service gets the project's default network", mode)
		return
	}
	onBridge := false
	var eps []Endpoint
	for _, ep := range c.Endpoints {
		if ep.Network == "bridge" {
			onBridge = true
			continue
		}
		if predefined(ep.Network) {
			continue
		}
		eps = append(eps, ep)
	}
	if onBridge && len(eps) == 0 {
		s.NetworkMode = "bridge"
		return
	}
	if onBridge {
		notes.add(name, "the default bridge is left out: Compose cannot put a service on it besides other networks")
	}
	for _, ep := range eps {
		nk := nets[ep.Network]
		if nk == nil {
			notes.add(name, "the network %s is left out: it was not found", ep.Network)
			continue
		}
		nk.used = true
		cfg := &types.ServiceNetworkConfig{}
		for _, a := range ep.Aliases {
			if a == shortID(c.ID) || a == name || a == c.Name || slices.Contains(cfg.Aliases, a) {
				continue
			}
			cfg.Aliases = append(cfg.Aliases, a)
		}
		slices.Sort(cfg.Aliases)
		if ep.IPv4 != "" {
			cfg.Ipv4Address = ep.IPv4
			needSubnets(nk, sel.Networks[ep.Network])
		}
		if len(cfg.Aliases) == 0 && cfg.Ipv4Address == "" {
			cfg = nil
		}
		if s.Networks == nil {
			s.Networks = map[string]*types.ServiceNetworkConfig{}
		}
		s.Networks[nk.key] = cfg
	}
}

// links writes the container's legacy links: to a container of the set as
// "service:alias", to any other as an external link by container name.
func links(c Container, name string, s *types.ServiceConfig, svcOf map[string]string, sel Selection) {
	byName := map[string]Container{}
	for _, o := range sel.Containers {
		byName[o.Name] = o
	}
	seen := map[string]bool{}
	for _, l := range c.Links {
		target, ok := byName[l.Target]
		if !ok {
			ext := l.Target + ":" + l.Alias
			if !seen[ext] {
				seen[ext] = true
				s.ExternalLinks = append(s.ExternalLinks, ext)
			}
			continue
		}
		svc := svcOf[l.Target]
		if svc == "" {
			svc = ServiceName(target)
		}
		// Compose links a service under its container's names too; those
		// names change with the project, so only chosen aliases are kept.
		if target.Labels[LabelService] != "" && (l.Alias == target.Name || l.Alias == svc+"_"+target.Labels[labelNumber]) {
			continue
		}
		ln := svc + ":" + l.Alias
		if l.Alias == svc {
			ln = svc
		}
		if !seen[ln] && svc != name {
			seen[ln] = true
			s.Links = append(s.Links, ln)
		}
	}
	slices.Sort(s.Links)
	slices.Sort(s.ExternalLinks)
}

func findService(svcOf map[string]string, svc string) (string, bool) {
	for _, s := range svcOf {
		if s == svc {
			return s, true
		}
	}
	return "", false
}

// withoutCompose drops Compose's own labels and those the image sets to
// the same value.
func withoutCompose(labels, image map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		if strings.HasPrefix(k, composeLabelPre) {
			continue
		}
		if iv, ok := image[k]; ok && iv == v {
			continue
		}
		out[k] = v
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func cloneNonEmpty(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	return maps.Clone(m)
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// ParseRestart writes a restart policy as the CLI does.
func ParseRestart(name string, maxRetry int) string {
	if name == "on-failure" && maxRetry > 0 {
		return name + ":" + strconv.Itoa(maxRetry)
	}
	return name
}
