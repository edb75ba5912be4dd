package docker

import (
	"fmt"
	"path"
	"slices"
	"strings"

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

// dangerousPaths are host paths whose bind mount gives a container the
// host: its root, the Docker socket, and the directories that hold it.
var dangerousPaths = []string{"/", "/var", "/var/run", "/run", "/var/run/docker.sock", "/run/docker.sock"}

// dangerousCaps are the capabilities named first in the reason, as the
// ones that give the host away most directly.
var dangerousCaps = []string{"ALL", "SYS_ADMIN", "SYS_MODULE", "SYS_PTRACE", "NET_ADMIN", "SYS_RAWIO", "DAC_READ_SEARCH"}

// dangerousSpec says, in plain words, what in a container spec gives the
// container power over the host; nil means nothing does. It is pure: the
// same check runs on the spec of a container to re-create and on the spec
// built for its replacement.
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
	for _, b := range hc.Binds {
		src, _, named := strings.Cut(b, ":")
		if named && path.IsAbs(src) && dangerousPath(src) {
			why = append(why, bindReason(src))
		}
	}
	for _, m := range hc.Mounts {
		switch {
		case m.Type == mount.TypeBind && dangerousPath(m.Source):
			why = append(why, bindReason(m.Source))
		case m.Type == mount.TypeVolume && m.VolumeOptions != nil && m.VolumeOptions.DriverConfig != nil && !localDriver(m.VolumeOptions.DriverConfig.Name):
			why = append(why, "with a volume of the driver "+m.VolumeOptions.DriverConfig.Name+" at "+m.Target)
		}
	}
	if !localDriver(hc.VolumeDriver) {
		why = append(why, "with the volume driver "+hc.VolumeDriver)
	}
	return why
}

// checkSpec refuses a spec dangerousSpec objects to, unless the client
// allows dangerous specs: the one validator for create and re-create. verb
// is what would be done ("create", "re-create"); who says whose spec it is
// ("web", "the re-created web").
func (c *Client) checkSpec(verb, who string, cfg *container.Config, hc *container.HostConfig) error {
	if c.allowDangerous {
		return nil
	}
	why := dangerousSpec(cfg, hc)
	if len(why) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s runs %s: dockmap will not %s such a container unless started with --%s",
		topology.ErrInvalid, who, strings.Join(why, ", "), verb, AllowDangerousSpecsFlag)
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

// dangerousPath reports whether binding a host path gives the host away:
// the root, the Docker socket (anywhere), or a directory holding it.
func dangerousPath(p string) bool {
	if p == "" {
		return false
	}
	p = path.Clean("/" + p)
	return slices.Contains(dangerousPaths, p) || path.Base(p) == "docker.sock"
}

func bindReason(src string) string {
	p := path.Clean("/" + src)
	switch {
	case p == "/":
		return "with the host's root / bind-mounted"
	case path.Base(p) == "docker.sock":
		return "with the Docker socket " + p + " bind-mounted"
	}
	return "with " + p + " (which holds the Docker socket) bind-mounted"
}

// localDriver reports whether a volume driver name is the built-in one.
func localDriver(d string) bool {
	return d == "" || d == "local"
}
