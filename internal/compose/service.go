package compose

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
)

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
