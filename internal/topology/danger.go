package topology

import (
	"path"
	"slices"
	"strings"
)

// What gives a container power over the host through its mounts: the one
// rule the planner (on the graph) and the engine adapter (on the resolved
// spec of the container it is about to create) both apply
// (research/security-reliability-anchors.md SEC-16).

// dangerousPaths are host paths whose bind gives a container the host: its
// root, the Docker socket, and the directories that hold it.
var dangerousPaths = []string{"/", "/var", "/var/run", "/run", "/var/run/docker.sock", "/run/docker.sock"}

// DangerousHostPath reports whether binding the host path p gives the host
// away: the root, the Docker socket (anywhere) or a directory holding it.
func DangerousHostPath(p string) bool {
	if p == "" {
		return false
	}
	p = path.Clean("/" + p)
	return slices.Contains(dangerousPaths, p) || path.Base(p) == "docker.sock"
}

// BindDanger says why binding host path p gives the host away, or "".
func BindDanger(p string) string {
	if !DangerousHostPath(p) {
		return ""
	}
	p = path.Clean("/" + p)
	switch {
	case p == "/":
		return "with the host's root / bind-mounted"
	case path.Base(p) == "docker.sock":
		return "with the Docker socket " + p + " bind-mounted"
	}
	return "with " + p + " (which holds the Docker socket) bind-mounted"
}

// LocalDriver reports whether a volume driver name is the built-in one.
func LocalDriver(d string) bool { return d == "" || d == "local" }

// Volume backings, as VolumeBacking names them.
const (
	// BackingBind is a local volume that bind-mounts a host path
	// ("-o type=none -o o=bind -o device=/srv/data").
	BackingBind = "bind"
)

// VolumeBacking reads a volume's driver and options for what it mounts
// beyond a directory of the engine's own: "bind" and the host path for a
// bind-backed local volume (o=bind, or type none with a device), or the
// file system type and its device for any type but none and tmpfs (a host
// block device, nfs, cifs...). A plain or tmpfs volume, or one of another
// driver, gives "".
func VolumeBacking(driver string, opts map[string]string) (kind, device string) {
	if !LocalDriver(driver) || len(opts) == 0 {
		return "", ""
	}
	typ, dev := strings.TrimSpace(opts["type"]), strings.TrimSpace(opts["device"])
	bind := false
	for _, o := range strings.Split(opts["o"], ",") {
		if o = strings.TrimSpace(o); o == "bind" || o == "rbind" {
			bind = true
		}
	}
	switch {
	case bind || (typ == "none" && dev != ""):
		return BackingBind, dev
	case typ == "" || typ == "none" || typ == "tmpfs":
		return "", ""
	}
	return typ, dev
}

// BackingText says a backing in words for the map ("bind /srv/data").
func BackingText(kind, device string) string {
	if kind == "" {
		return ""
	}
	if device == "" {
		return kind
	}
	return kind + " " + device
}

// EffectiveMount is one mount a container would really get, whatever
// brought it (its own spec, another container's volumes, a volume's
// options).
type EffectiveMount struct {
	// Type is "bind", "volume" or "tmpfs".
	Type string
	// Source is the host path of a bind, the name of a volume.
	Source      string
	Destination string
	// Driver and Options are a volume's.
	Driver  string
	Options map[string]string
	// Via says what brought the mount, for messages: "" (the container's
	// own spec) or "the volumes of db".
	Via string
}

// HostPath is the host path the mount exposes: a bind's source, or the
// device of a bind-backed local volume; "" for anything else.
func (m EffectiveMount) HostPath() string {
	switch m.Type {
	case "bind":
		return m.Source
	case "volume":
		if kind, dev := VolumeBacking(m.Driver, m.Options); kind == BackingBind {
			return dev
		}
	}
	return ""
}

// Danger says why the mount gives the container power over the host, or
// "": a bind (direct, or through a bind-backed volume) of / or the Docker
// socket, a volume that mounts a host device or a network file system, a
// volume of a driver other than local.
func (m EffectiveMount) Danger() string {
	why := ""
	switch m.Type {
	case "bind":
		why = BindDanger(m.Source)
	case "volume":
		kind, dev := VolumeBacking(m.Driver, m.Options)
		switch {
		case !LocalDriver(m.Driver):
			why = "with a volume of the driver " + m.Driver + " at " + m.Destination
		case kind == BackingBind:
			if d := BindDanger(dev); d != "" {
				why = d + " through the volume " + m.Source
			}
		case kind != "":
			why = "with the volume " + m.Source + ", which mounts " + BackingText(kind, dev) + " from the host"
		}
	}
	if why != "" && m.Via != "" {
		why += " (" + m.Via + ")"
	}
	return why
}
