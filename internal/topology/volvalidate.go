package topology

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// MaxPathLen caps mount targets and host paths (Linux PATH_MAX).
const MaxPathLen = 4096

// dockerSockets are the engine's socket paths on the host. No bind may
// reach them: a container holding the socket is root on the host.
var dockerSockets = []string{"/var/run/docker.sock", "/run/docker.sock"}

// ErrBindNotAllowed is returned, wrapped, for a bind of a host path the
// operator has not allowed (dockmap --allow-bind). It wraps ErrForbidden.
var ErrBindNotAllowed = fmt.Errorf("%w: host path not allowed", ErrForbidden)

// ValidateVolumeName checks the name of a volume to create: the engine's
// rule for local volume names, the name length cap, and no "..". It
// refuses every name that a "-v" string would read as a host path ("/",
// "/etc"), or that carries extra fields ("x:/etc", "x:/t:rw"), and ".",
// ".." and one-character names.
func ValidateVolumeName(name string) error {
	if err := ValidateName("volume name", name); err != nil {
		return err
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("%w: volume name %q contains \"..\"", ErrInvalid, name)
	}
	return nil
}

// VolumeByRef finds a volume node by exact name, or by the 64-hex name the
// engine gives an anonymous volume. Errors wrap ErrInvalid for a name no
// volume can have and ErrNotFound for an unknown one.
func (g Graph) VolumeByRef(ref string) (Node, error) {
	ref = strings.TrimPrefix(ref, "v:")
	if !IsFullID(ref) {
		// The engine's own rule, not ValidateVolumeName: a volume made
		// elsewhere as "a..b" must still be found.
		if err := ValidateName("volume name", ref); err != nil {
			return Node{}, err
		}
	}
	if n, ok := g.Node(VolumeNodeID(ref)); ok && n.Volume != nil {
		return n, nil
	}
	return Node{}, fmt.Errorf("%w: no volume named %q", ErrNotFound, ref)
}

// validPath checks what a mount target and a host path share: absolute,
// clean, not "/", no ':' (the field separator of "-v" strings) and no NUL,
// at most MaxPathLen bytes.
func validPath(what, p string) error {
	switch {
	case p == "":
		return fmt.Errorf("%w: %s is empty", ErrInvalid, what)
	case len(p) > MaxPathLen:
		return fmt.Errorf("%w: %s is %d bytes long; at most %d are allowed", ErrInvalid, what, len(p), MaxPathLen)
	case strings.ContainsAny(p, ":\x00"):
		return fmt.Errorf("%w: %s %q contains ':' or NUL", ErrInvalid, what, p)
	case !path.IsAbs(p):
		return fmt.Errorf("%w: %s %q is not an absolute path such as /data", ErrInvalid, what, p)
	case path.Clean(p) != p:
		return fmt.Errorf("%w: %s %q is not clean: write it as %s", ErrInvalid, what, p, path.Clean(p))
	case p == "/":
		return fmt.Errorf("%w: %s cannot be / itself", ErrInvalid, what)
	}
	return nil
}

// MountDestinations returns the destinations of container c's mounts as
// the graph has them: volume and bind mounts (including those inherited
// through --volumes-from, which the engine lists as the container's own)
// and tmpfs.
func (g Graph) MountDestinations(c Node) []string {
	var out []string
	for _, e := range g.EdgesOf(c.ID) {
		if e.Kind == EdgeMount && e.From == c.ID && e.Mount != nil {
			out = append(out, path.Clean(e.Mount.Destination))
		}
	}
	if c.Container != nil {
		for _, d := range c.Container.Tmpfs {
			out = append(out, path.Clean(d))
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ValidateMountTarget checks where a mount goes in container c: a clean
// absolute path other than "/", and no destination c already mounts
// something at. A target inside (or around) an existing mount is allowed,
// as Docker allows it.
func ValidateMountTarget(g Graph, c Node, target string) error {
	if err := validPath("mount target", target); err != nil {
		return err
	}
	if slices.Contains(g.MountDestinations(c), target) {
		return fmt.Errorf("%w: %s already has a mount at %s", ErrConflict, containerName(c), target)
	}
	return nil
}

// ValidateVolumesFrom checks that container c can take donor's volumes
// (--volumes-from): another container, not already a donor of c, whose
// mount destinations c does not already use.
func ValidateVolumesFrom(g Graph, c, donor Node) error {
	if donor.Container == nil {
		return fmt.Errorf("%w: %s is not a container", ErrInvalid, donor.ID)
	}
	if c.ID == donor.ID {
		return fmt.Errorf("%w: a container cannot take volumes from itself", ErrInvalid)
	}
	for _, e := range g.EdgesOf(c.ID) {
		if e.Kind == EdgeVolumesFrom && e.From == c.ID && e.To == donor.ID {
			return fmt.Errorf("%w: %s already has the volumes of %s", ErrConflict, containerName(c), containerName(donor))
		}
	}
	// The engine hands on the donor's volume and bind mounts, not its
	// tmpfs mounts.
	have := g.MountDestinations(c)
	var clash []string
	for _, e := range g.EdgesOf(donor.ID) {
		if e.Kind == EdgeMount && e.From == donor.ID && e.Mount != nil && slices.Contains(have, path.Clean(e.Mount.Destination)) {
			clash = append(clash, path.Clean(e.Mount.Destination))
		}
	}
	if len(clash) > 0 {
		return fmt.Errorf("%w: %s and %s both mount something at %s", ErrConflict,
			containerName(c), containerName(donor), strings.Join(clash, ", "))
	}
	return nil
}

func containerName(n Node) string {
	if n.Container != nil {
		return n.Container.Name
	}
	return string(n.ID)
}

// ValidateBindPrefixes checks the host path prefixes the operator allows
// binds under (dockmap --allow-bind) and returns them cleaned: each one
// absolute, not "/", and neither a Docker socket nor a directory holding
// one.
func ValidateBindPrefixes(prefixes []string) ([]string, error) {
	out := make([]string, 0, len(prefixes))
	for _, p := range prefixes {
		if !path.IsAbs(p) {
			return nil, fmt.Errorf("%w: allowed bind prefix %q is not an absolute path", ErrInvalid, p)
		}
		p = path.Clean(p)
		if err := validPath("allowed bind prefix", p); err != nil {
			return nil, err
		}
		if err := notSocket("allowed bind prefix", p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// notSocket refuses the Docker socket and every directory above it.
func notSocket(what, p string) error {
	for _, s := range dockerSockets {
		if p == s || under(s, p) {
			return fmt.Errorf("%w: %s %s is or holds the Docker socket %s, which is root on the host", ErrBindNotAllowed, what, p, s)
		}
	}
	return nil
}

// under reports whether p is strictly inside dir (both clean).
func under(p, dir string) bool {
	return p != dir && strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

// ValidateBindSource checks a host path to bind-mount and returns it
// cleaned. Binds are refused unless the operator allowed prefixes
// (already checked with ValidateBindPrefixes), and then only paths at or
// under one of them, never "/" and never the Docker socket or a directory
// holding it. The check is on the path's text: the host's symlinks are
// not resolved (dockmap may not even see the host's file system), so
// allow only prefixes whose contents the operator trusts. Errors wrap
// ErrBindNotAllowed (and so ErrInvalid).
func ValidateBindSource(allowed []string, hostPath string) (string, error) {
	if len(allowed) == 0 {
		return "", fmt.Errorf("%w: binding host paths is off; start dockmap with --allow-bind PREFIX to allow paths under PREFIX", ErrBindNotAllowed)
	}
	if !path.IsAbs(hostPath) {
		return "", fmt.Errorf("%w: host path %q is not absolute", ErrInvalid, hostPath)
	}
	p := path.Clean(hostPath)
	if err := notSocket("host path", p); err != nil {
		return "", err
	}
	if err := validPath("host path", p); err != nil {
		return "", err
	}
	for _, a := range allowed {
		if p == a || under(p, a) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: host path %s is not under an allowed prefix (%s)", ErrBindNotAllowed, p, strings.Join(allowed, ", "))
}
