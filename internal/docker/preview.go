package docker

import (
	"context"
	"path"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
)

// maxLostFiles caps RecreatePreview.LostFiles.
const maxLostFiles = 200

// FileChange is one change in a container's writable layer, as
// `docker diff` shows it.
type FileChange struct {
	Path string `json:"path"`
	// Kind is "changed", "added" or "deleted".
	Kind string `json:"kind"`
}

// PeerRef names another container and, for a link, the alias it uses.
type PeerRef struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Alias string `json:"alias,omitempty"`
}

// RecreatePreview says what a recreate of a container would cost, for the
// user to confirm before Recreate runs.
type RecreatePreview struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// LostFiles are the writable-layer changes a recreate loses (files
	// outside volumes and binds), at most maxLostFiles of them.
	LostFiles []FileChange `json:"lostFiles"`
	// Truncated is set when LostFiles was cut short.
	Truncated bool `json:"truncated"`
	// LinkedFrom are the containers with a legacy link to this one: a
	// recreate breaks them until they are re-created too.
	LinkedFrom []PeerRef `json:"linkedFrom"`
	// NetNSUsers are the containers in `container:<this>` network mode:
	// they lose their network when this one goes.
	NetNSUsers []PeerRef `json:"netnsUsers"`
}

// PreviewRecreate lists what a recreate of the container (name or full
// ID) would lose or break: writable-layer files, containers linking to it
// and containers sharing its network namespace. It changes nothing.
// It returns ErrNotFound if the container does not exist.
func (c *Client) PreviewRecreate(ctx context.Context, id string) (RecreatePreview, error) {
	if err := c.ready(ctx); err != nil {
		return RecreatePreview{}, err
	}
	info, err := c.inspect(ctx, id)
	if err != nil {
		return RecreatePreview{}, err
	}
	p := RecreatePreview{ID: info.ID, Name: containerName(info)}
	changes, err := c.api.ContainerDiff(ctx, info.ID)
	if err != nil {
		return RecreatePreview{}, translate("list changed files of "+p.Name, err)
	}
	skip := engineManaged(info)
	for _, ch := range changes {
		if skip(ch.Path) {
			continue
		}
		if len(p.LostFiles) == maxLostFiles {
			p.Truncated = true
			break
		}
		p.LostFiles = append(p.LostFiles, FileChange{Path: ch.Path, Kind: changeKind(ch.Kind)})
	}
	p.LinkedFrom, p.NetNSUsers, err = c.dependents(ctx, info)
	if err != nil {
		return RecreatePreview{}, err
	}
	return p, nil
}

// changeKind names a ContainerDiff change type.
func changeKind(k container.ChangeType) string {
	switch k {
	case container.ChangeAdd:
		return "added"
	case container.ChangeDelete:
		return "deleted"
	default:
		return "changed"
	}
}

// engineManaged reports the diff paths a recreate does not lose: mount
// points and what lies under them (the data is in the volume or on the
// host), their parent directories (changed only because the engine made
// the mount point), and the files the engine writes at every start.
func engineManaged(info container.InspectResponse) func(string) bool {
	dests := []string{"/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/.dockerenv", "/.dockerinit"}
	for _, m := range info.Mounts {
		dests = append(dests, path.Clean(m.Destination))
	}
	return func(p string) bool {
		p = path.Clean(p)
		for _, d := range dests {
			if p == d || strings.HasPrefix(p, d+"/") || strings.HasPrefix(d, p+"/") || p == "/" {
				return true
			}
		}
		return false
	}
}

// dependents lists the containers with a legacy link to info and those in
// its network namespace, with one list call. dockmap's own helpers are not
// dependents: a probe sidecar in the namespace is plumbing, which the
// prober replaces when the container comes back (helper_hidden.go).
func (c *Client) dependents(ctx context.Context, info container.InspectResponse) (linkedFrom, netns []PeerRef, err error) {
	cs, err := c.api.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return nil, nil, translate("list containers", err)
	}
	byName := make(map[string]string, len(cs)) // primary name → ID
	for _, s := range cs {
		for _, n := range s.Names {
			if n = strings.TrimPrefix(n, "/"); !strings.Contains(n, "/") {
				byName[n] = s.ID
			}
		}
	}
	name := containerName(info)
	for _, s := range cs {
		if s.ID == info.ID {
			// Link names of a target are extra names "/<parent>/<alias>".
			for _, n := range s.Names {
				parent, alias, ok := strings.Cut(strings.TrimPrefix(n, "/"), "/")
				if ok {
					linkedFrom = append(linkedFrom, PeerRef{ID: byName[parent], Name: parent, Alias: alias})
				}
			}
			continue
		}
		if c.isHelper(s) {
			// dockmap's own probe sidecars share the namespace too, but
			// they are not the user's and are replaced by themselves.
			continue
		}
		if donor, ok := strings.CutPrefix(s.HostConfig.NetworkMode, "container:"); ok {
			if donor == name || donor == info.ID || (len(donor) >= 12 && strings.HasPrefix(info.ID, donor)) {
				netns = append(netns, PeerRef{ID: s.ID, Name: primaryName(s.Names)})
			}
		}
	}
	slices.SortFunc(linkedFrom, func(a, b PeerRef) int { return strings.Compare(a.Name+"/"+a.Alias, b.Name+"/"+b.Alias) })
	slices.SortFunc(netns, func(a, b PeerRef) int { return strings.Compare(a.Name, b.Name) })
	return linkedFrom, netns, nil
}

// primaryName is the name in a list entry that is not a link name.
func primaryName(names []string) string {
	for _, n := range names {
		if n = strings.TrimPrefix(n, "/"); !strings.Contains(n, "/") {
			return n
		}
	}
	return ""
}
