package plan

import (
	"fmt"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// MountRequest asks for a mount in Container: exactly one of Volume,
// VolumesFrom and Bind (POST /api/containers/{id}/mounts).
type MountRequest struct {
	Container string `json:"-"`
	// Volume is an existing volume to mount at Target.
	Volume string `json:"volume"`
	// VolumesFrom is a container whose mounts to take, at their own
	// destinations (no Target).
	VolumesFrom string `json:"volumesFrom"`
	// Bind is a host path to mount at Target, under an --allow-bind prefix.
	Bind               string `json:"bind"`
	Target             string `json:"target"`
	ReadOnly           bool   `json:"readOnly"`
	RecreateDependents *bool  `json:"recreateDependents"`
}

// Mount plans a mount: a re-create of the container, since the engine adds
// no mount to an existing one. The guards look at what the container would
// really get (topology.EffectiveMount): the donor's mounts for
// volumesFrom, and the host path or device a volume's driver options
// mount, not only the request's fields.
func (p *Planner) Mount(g topology.Graph, req MountRequest) (*Plan, error) {
	ct, err := container(g, "container", req.Container)
	if err != nil {
		return nil, err
	}
	given := 0
	for _, s := range []string{req.Volume, req.VolumesFrom, req.Bind} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		return nil, fmt.Errorf("%w: give exactly one of volume, volumesFrom and bind", topology.ErrInvalid)
	}
	mode := "read-write"
	if req.ReadOnly {
		mode = "read-only"
	}
	var change Change
	var why string
	var effective []topology.EffectiveMount
	switch {
	case req.VolumesFrom != "":
		if req.Target != "" {
			return nil, fmt.Errorf("%w: volumesFrom takes the donor's mounts at their own paths: give no target", topology.ErrInvalid)
		}
		donor, err := g.ContainerByRef(req.VolumesFrom)
		if err != nil {
			return nil, err
		}
		if err := topology.ValidateVolumesFrom(g, ct, donor); err != nil {
			return nil, err
		}
		via := "the volumes of " + donor.Container.Name
		for _, e := range g.EdgesOf(donor.ID) {
			if e.Kind == topology.EdgeMount && e.From == donor.ID && e.Mount != nil {
				effective = append(effective, effectiveMount(g, e, via))
			}
		}
		change.AddVolumesFrom = []VolumesFrom{{Donor: ref(donor), ReadOnly: req.ReadOnly}}
		why = fmt.Sprintf("to take the volumes of %s (%s)", donor.Container.Name, mode)
	case req.Volume != "":
		v, err := g.VolumeByRef(req.Volume)
		if err != nil {
			return nil, err
		}
		if !topology.LocalDriver(v.Volume.Driver) {
			return nil, fmt.Errorf("%w: volume %s uses the %q driver; dockmap mounts local volumes only", topology.ErrForbidden, v.Volume.Name, v.Volume.Driver)
		}
		if err := topology.ValidateMountTarget(g, ct, req.Target); err != nil {
			return nil, err
		}
		em := topology.EffectiveMount{Type: "volume", Source: v.Volume.Name, Destination: req.Target, Driver: v.Volume.Driver, Options: v.Volume.Options}
		if host := em.HostPath(); host != "" {
			// A bind-backed volume is a bind of its device: the same
			// --allow-bind rule as a bind asked directly.
			if _, err := topology.ValidateBindSource(p.opts.AllowBinds, host); err != nil {
				return nil, fmt.Errorf("volume %s mounts the host path %s (its driver options bind it): %w", v.Volume.Name, host, err)
			}
		}
		effective = append(effective, em)
		change.AddMounts = []MountSpec{{Type: "volume", Source: v.Volume.Name, Target: req.Target, ReadOnly: req.ReadOnly}}
		why = fmt.Sprintf("to mount the volume %s at %s (%s)", v.Volume.Name, req.Target, mode)
	default:
		host, err := topology.ValidateBindSource(p.opts.AllowBinds, req.Bind)
		if err != nil {
			return nil, err
		}
		if err := topology.ValidateMountTarget(g, ct, req.Target); err != nil {
			return nil, err
		}
		effective = append(effective, topology.EffectiveMount{Type: "bind", Source: host, Destination: req.Target})
		change.AddMounts = []MountSpec{{Type: "bind", Source: host, Target: req.Target, ReadOnly: req.ReadOnly}}
		why = fmt.Sprintf("to bind %s at %s (%s)", host, req.Target, mode)
	}
	if err := p.checkMounts(ct, effective); err != nil {
		return nil, err
	}
	if err := p.canRecreate(ct); err != nil {
		return nil, err
	}
	pl := p.recreatePlan(g, ActionMount, ct, change, why, withDeps(req.RecreateDependents))
	pl.Summary = fmt.Sprintf("the engine adds no mount to an existing container: dockmap re-creates %s %s, with every setting carried over", ct.Container.Name, why) + pl.Summary
	return pl.seal(), nil
}

// effectiveMount is what a mount edge of the graph mounts, with the
// volume's driver and options when it is a volume.
func effectiveMount(g topology.Graph, e topology.Edge, via string) topology.EffectiveMount {
	m := topology.EffectiveMount{Type: e.Mount.Type, Destination: e.Mount.Destination, Via: via}
	if n, ok := g.Node(e.To); ok {
		switch {
		case n.Bind != nil:
			m.Source = n.Bind.Path
		case n.Volume != nil:
			m.Source, m.Driver, m.Options = n.Volume.Name, n.Volume.Driver, n.Volume.Options
		}
	}
	return m
}

// checkMounts refuses mounts that would give the container the host,
// unless the operator allowed that.
func (p *Planner) checkMounts(ct topology.Node, ms []topology.EffectiveMount) error {
	if p.opts.AllowDangerous {
		return nil
	}
	var why []string
	for _, m := range ms {
		if d := m.Danger(); d != "" {
			why = append(why, d)
		}
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%w: the re-created %s would run %s: dockmap will not give a container the host unless started with --allow-dangerous-specs",
		topology.ErrForbidden, ct.Container.Name, strings.Join(why, ", "))
}
