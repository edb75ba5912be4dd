package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// Limits on a volume's labels.
const (
	maxLabels        = 64
	maxLabelKeyLen   = 256
	maxLabelValueLen = 4096
)

// VolumeRequest asks for a named local volume (POST /api/volumes).
type VolumeRequest struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// RemoveVolumeRequest asks to remove a volume (DELETE
// /api/volumes/{name}?confirm={name}); Confirm must repeat the name,
// since the data goes with it.
type RemoveVolumeRequest struct {
	Volume  string `json:"-"`
	Confirm string `json:"confirm"`
}

// CreateVolume plans a named local volume.
func (p *Planner) CreateVolume(g topology.Graph, req VolumeRequest) (*Plan, error) {
	if err := topology.ValidateVolumeName(req.Name); err != nil {
		return nil, err
	}
	if len(req.Labels) > maxLabels {
		return nil, fmt.Errorf("%w: %d labels; at most %d are allowed", topology.ErrInvalid, len(req.Labels), maxLabels)
	}
	for k, v := range req.Labels {
		if k == "" || len(k) > maxLabelKeyLen || len(v) > maxLabelValueLen || strings.ContainsRune(k+v, 0) {
			return nil, fmt.Errorf("%w: label %.40q: keys are 1 to %d bytes, values at most %d, no NUL",
				topology.ErrInvalid, k, maxLabelKeyLen, maxLabelValueLen)
		}
	}
	if _, ok := g.Node(topology.VolumeNodeID(req.Name)); ok {
		return nil, fmt.Errorf("%w: a volume named %q already exists", topology.ErrConflict, req.Name)
	}
	pl := &Plan{Action: ActionCreateVolume, Method: MethodCreate, Subject: Ref{ID: req.Name, Name: req.Name},
		Volume:  &VolumeSpec{Name: req.Name, Labels: req.Labels},
		Summary: "create the local volume " + req.Name,
		Steps:   []Step{{ID: "create", Kind: "create", Text: "create the local volume " + req.Name}}}
	return pl.seal(), nil
}

// VolumeUser is one container that mounts a volume.
type VolumeUser struct {
	ContainerID string `json:"containerId"`
	Name        string `json:"name"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"readOnly"`
	Running     bool   `json:"running"`
}

// VolumeUsers lists the containers that mount node v (a volume, or a bind
// of a host path), by name then destination: the one answer to "who uses
// this volume".
func VolumeUsers(g topology.Graph, v topology.Node) []VolumeUser {
	users := []VolumeUser{}
	for _, e := range g.EdgesOf(v.ID) {
		if e.Kind != topology.EdgeMount || e.To != v.ID || e.Mount == nil {
			continue
		}
		ct, ok := g.Node(e.From)
		if !ok || ct.Container == nil {
			continue
		}
		users = append(users, VolumeUser{ContainerID: ct.Container.ID, Name: ct.Container.Name,
			Destination: e.Mount.Destination, ReadOnly: e.Mount.ReadOnly, Running: ct.Container.Running()})
	}
	slices.SortFunc(users, func(a, b VolumeUser) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Destination, b.Destination)
	})
	return users
}

// RemoveVolume plans removing a volume: refused while a container (a
// stopped one too) mounts it, and unless Confirm repeats its name.
func (p *Planner) RemoveVolume(g topology.Graph, req RemoveVolumeRequest) (*Plan, error) {
	n, err := g.VolumeByRef(req.Volume)
	if err != nil {
		return nil, err
	}
	name := n.Volume.Name
	if users := VolumeUsers(g, n); len(users) > 0 {
		us := make([]string, 0, len(users))
		for _, u := range users {
			us = append(us, u.Name+" at "+u.Destination)
		}
		return nil, fmt.Errorf("%w: volume %s is in use by %s; remove those containers first (stopped ones count)",
			topology.ErrConflict, name, strings.Join(us, ", "))
	}
	if req.Confirm != name {
		return nil, fmt.Errorf("%w: type the volume's name to confirm (?confirm=%s): its data goes with it", topology.ErrInvalid, name)
	}
	pl := &Plan{Action: ActionRemoveVolume, Method: MethodRemove, Subject: ref(n),
		Summary: "remove the volume " + name + " and its data",
		Steps:   []Step{{ID: "remove", Kind: "remove", Text: "remove the volume " + name}},
		Loses:   []Loss{{Kind: LossVolumeData, Of: ref(n), Text: "every file in " + name}}}
	if n.Volume.Backing != "" {
		pl.Notes = append(pl.Notes, name+" mounts "+n.Volume.Backing+": removing the volume does not remove what it mounts")
		pl.Loses = nil
	}
	return pl.seal(), nil
}
