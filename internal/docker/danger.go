package docker

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/dockmap/dockmap/internal/topology"
)

// AllowDangerousSpecsFlag is the command-line flag that lets dockmap
// re-create containers whose spec gives them the host (dangerousSpec).
const AllowDangerousSpecsFlag = "allow-dangerous-specs"

// WithDangerousSpecs says whether the client may create or re-create a
// container whose spec gives it power over the host (privileged, added
// capabilities, host namespaces, devices, unconfined security profiles,
// binds of / or of the Docker socket, a non-local volume driver). Without
// it, or with false, such a re-create is refused with ErrInvalid before
// anything is touched (research/security-reliability-anchors.md SEC-16).
func WithDangerousSpecs(allowed bool) Option {
	return func(o *options) { o.allowDangerous = allowed }
}

// dangerousCaps are the capabilities named first in the reason, as the
// ones that give the host away most directly.
var dangerousCaps = []string{"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "NET_ADMIN", "SYS_RAWIO", "DAC_READ_SEARCH"}

// dangerousSpec says, in plain words, what in a container spec other than
// its mounts gives the container power over the host; nil means nothing
// does. It is pure: the same check runs on the spec of a container to
// re-create and on the spec built for its replacement. The mounts are
// judged on what they resolve to (effectiveMounts, topology's rule).
func dangerousSpec(cfg *container.Config, hc *container.HostConfig) []string {
	_ = cfg // nothing in Config alone reaches the host; kept for the symmetry of create
	if hc == nil {
		return nil
	}
	var why []string
	if hc.Privileged {
		why = append(why, "privileged")
	}
	if caps := capNames(hc.CapAdd); len(caps) > 0 {
		why = append(why, "with the added capabilities "+strings.Join(caps, ", "))
	}
	if hc.PidMode.IsHost() {
		why = append(why, "with the host's PID namespace")
	}
	if hc.NetworkMode.IsHost() {
		why = append(why, "with the host's network")
	}
	if hc.IpcMode.IsHost() {
		why = append(why, "with the host's IPC namespace")
	}
	if hc.UTSMode.IsHost() {
		why = append(why, "with the host's UTS namespace")
	}
	if hc.UsernsMode.IsHost() {
		why = append(why, "with the host's user namespace")
	}
	if len(hc.Devices) > 0 {
		var ds []string
		for _, d := range hc.Devices {
			ds = append(ds, d.PathOnHost)
		}
		why = append(why, "with the host devices "+strings.Join(ds, ", "))
	}
	if len(hc.DeviceCgroupRules) > 0 {
		why = append(why, "with device cgroup rules "+strings.Join(hc.DeviceCgroupRules, ", "))
	}
	if len(hc.DeviceRequests) > 0 {
		why = append(why, "with device requests (GPUs or other host devices)")
	}
	for _, o := range hc.SecurityOpt {
		if unconfinedOpt(o) {
			why = append(why, "with the security option "+o)
		}
	}
	for _, m := range hc.Mounts {
		if m.Type == mount.TypeVolume && m.VolumeOptions != nil && m.VolumeOptions.DriverConfig != nil && !topology.LocalDriver(m.VolumeOptions.DriverConfig.Name) {
			why = append(why, "with a volume of the driver "+m.VolumeOptions.DriverConfig.Name+" at "+m.Target)
		}
	}
	if !topology.LocalDriver(hc.VolumeDriver) {
		why = append(why, "with the volume driver "+hc.VolumeDriver)
	}
	return why
}

// checkSpec refuses a spec that gives the container the host, unless the
// client allows dangerous specs: the one validator for create and
// re-create. The mounts are judged on what they really bring, resolved
// through the engine: another container's volumes (volumes-from), and what
// a volume's driver options mount. verb is what would be done ("create",
// "re-create"); who says whose spec it is ("web", "the re-created web").
// The error wraps topology.ErrForbidden.
func (c *Client) checkSpec(ctx context.Context, verb, who string, cfg *container.Config, hc *container.HostConfig) error {
	if c.allowDangerous {
		return nil
	}
	why := dangerousSpec(cfg, hc)
	ms, err := c.effectiveMounts(ctx, hc)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if d := m.Danger(); d != "" && !slices.Contains(why, d) {
			why = append(why, d)
		}
	}
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s runs %s: dockmap will not %s such a container unless started with --%s",
		topology.ErrForbidden, who, strings.Join(why, ", "), verb, AllowDangerousSpecsFlag)
}

// effectiveMounts resolves what a spec mounts: its binds and volumes, with
// each named volume's driver and options from the engine, and the mounts
// of every container it takes the volumes of. A donor or volume that does
// not exist (yet) adds nothing: the engine refuses such a spec anyway.
func (c *Client) effectiveMounts(ctx context.Context, hc *container.HostConfig) ([]topology.EffectiveMount, error) {
	out, vols := specMounts(hc)
	resolve := func(m topology.EffectiveMount) error {
		if m.Source != "" {
			v, err := c.api.VolumeInspect(ctx, m.Source)
			switch {
			case err == nil:
				m.Driver, m.Options = v.Driver, v.Options
			case !cerrdefs.IsNotFound(err):
				return translate("inspect volume "+m.Source, err)
			}
		}
		out = append(out, m)
		return nil
	}
	for _, m := range vols {
		if err := resolve(m); err != nil {
			return nil, err
		}
	}
	if hc == nil {
		return out, nil
	}
	for _, vf := range hc.VolumesFrom {
		ref, _, _ := strings.Cut(vf, ":")
		d, err := c.api.ContainerInspect(ctx, strings.TrimPrefix(ref, "/"))
		if cerrdefs.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, translate("inspect volumes-from donor "+ref, err)
		}
		via := "the volumes of " + containerName(d)
		for _, m := range d.Mounts {
			switch m.Type {
			case mount.TypeBind:
				out = append(out, topology.EffectiveMount{Type: "bind", Source: m.Source, Destination: m.Destination, Via: via})
			case mount.TypeVolume:
				if err := resolve(topology.EffectiveMount{Type: "volume", Source: m.Name, Destination: m.Destination, Via: via, Driver: "local"}); err != nil {
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// specMounts reads a spec's own mounts without asking the engine: its
// binds as they are, and its volumes, whose driver and options the engine
// must still tell.
func specMounts(hc *container.HostConfig) (binds, volumes []topology.EffectiveMount) {
	if hc == nil {
		return nil, nil
	}
	for _, b := range hc.Binds {
		parts := strings.Split(b, ":")
		switch {
		case len(parts) < 2:
			// An anonymous volume: a fresh directory of the engine's.
		case path.IsAbs(parts[0]):
			binds = append(binds, topology.EffectiveMount{Type: "bind", Source: parts[0], Destination: parts[1]})
		default:
			volumes = append(volumes, topology.EffectiveMount{Type: "volume", Source: parts[0], Destination: parts[1], Driver: "local"})
		}
	}
	for _, m := range hc.Mounts {
		switch m.Type {
		case mount.TypeBind:
			binds = append(binds, topology.EffectiveMount{Type: "bind", Source: m.Source, Destination: m.Target})
		case mount.TypeVolume:
			volumes = append(volumes, topology.EffectiveMount{Type: "volume", Source: m.Source, Destination: m.Target, Driver: "local"})
		}
	}
	return binds, volumes
}

// capNames normalises capability names ("cap_sys_admin" → "SYS_ADMIN"),
// the most dangerous first, without duplicates.
func capNames(caps []string) []string {
	var out []string
	for _, c := range caps {
		c = strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(c)), "CAP_")
		if c != "" && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.SortStableFunc(out, func(a, b string) int {
		ra, rb := slices.Index(dangerousCaps, a), slices.Index(dangerousCaps, b)
		if ra < 0 {
			ra = len(dangerousCaps)
		}
		if rb < 0 {
			rb = len(dangerousCaps)
		}
		return ra - rb
	})
	return out
}

// unconfinedOpt reports whether a security option turns a confinement off.
func unconfinedOpt(o string) bool {
	k, v, ok := strings.Cut(strings.TrimSpace(o), "=")
	if !ok {
		k, v, ok = strings.Cut(o, ":")
	}
	if !ok {
		return false
	}
	k, v = strings.ToLower(strings.TrimSpace(k)), strings.ToLower(strings.TrimSpace(v))
	switch k {
	case "seccomp", "apparmor", "systempaths":
		return v == "unconfined"
	case "label":
		return v == "disable"
	}
	return false
}
