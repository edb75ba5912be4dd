package docker

import (
	"context"
	"path"
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
}

// PreviewRecreate lists what a recreate of the container (name or full
// ID) would lose: the files of its writable layer. Who depends on it is
// the planner's to say (plan.Dependents), from the map. It changes
// nothing. It returns ErrNotFound if the container does not exist.
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

// primaryName is the name in a list entry that is not a link name.
func primaryName(names []string) string {
	for _, n := range names {
		if n = strings.TrimPrefix(n, "/"); !strings.Contains(n, "/") {
			return n
		}
	}
	return ""
}
