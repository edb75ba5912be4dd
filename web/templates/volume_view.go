package templates

import (
	"cmp"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// VolumePanelView is what VolumePanel renders: one volume as docker volume
// inspect shows it, with the containers that mount it. Build it with
// NewVolumePanelView.
type VolumePanelView struct {
	// NodeID is the volume's node in the graph ("v:<name>").
	NodeID topology.NodeID
	// Engine is the engine the node is on when it is not the default
	// one ("lab1"), or empty.
	Engine string
	Name   string
	// ShortName is what to print: an anonymous volume's 64-digit name is
	// cut to 12.
	ShortName  string
	Driver     string
	Mountpoint string
	Anonymous  bool
	Labels     []LabelView
	// Users are the containers that mount the volume themselves, by name.
	Users []VolumeUserView
	// Borrowers see the volume through --volumes-from a user.
	Borrowers []VolumeBorrowerView
}

// VolumeUserView is one container that mounts the volume.
type VolumeUserView struct {
	NodeID      topology.NodeID
	ContainerID string
	Name        string
	Running     bool
	Destination string
	ReadOnly    bool
}

// Access is "ro" or "rw".
func (u VolumeUserView) Access() string {
	if u.ReadOnly {
		return "ro"
	}
	return "rw"
}

// VolumeBorrowerView is a container that sees the volume through
// --volumes-from Donor (at the donor's destination).
type VolumeBorrowerView struct {
	NodeID      topology.NodeID
	ContainerID string
	Name        string
	Donor       PeerView
	Destination string
}

// InUse reports whether any container uses the volume: the engine then
// refuses to remove it.
func (v VolumePanelView) InUse() bool { return len(v.Users) > 0 || len(v.Borrowers) > 0 }

// UserCount is the number of containers that mount it, as text.
func (v VolumePanelView) UserCount() string { return strconv.Itoa(len(v.Users) + len(v.Borrowers)) }

// UserNames are the users' names, for the remove dialog.
func (v VolumePanelView) UserNames() string {
	var names []string
	for _, u := range v.Users {
		names = append(names, u.Name)
	}
	for _, b := range v.Borrowers {
		names = append(names, b.Name)
	}
	return strings.Join(names, ", ")
}

// NewVolumePanelView builds the view of the volume node id from g. It is
// pure. It returns false when g has no such node or the node is not a
// volume.
func NewVolumePanelView(g topology.Graph, id topology.NodeID) (VolumePanelView, bool) {
	n, ok := findNode(g, id)
	if !ok || n.Kind != topology.KindVolume {
		return VolumePanelView{}, false
	}
	v := VolumePanelView{NodeID: n.ID, Engine: otherEngine(n)}
	if vol := n.Volume; vol != nil {
		v.Name, v.Driver, v.Mountpoint, v.Anonymous = vol.Name, vol.Driver, vol.Mountpoint, vol.Anonymous
		for _, k := range slices.Sorted(maps.Keys(vol.Labels)) {
			v.Labels = append(v.Labels, LabelView{Key: k, Value: vol.Labels[k]})
		}
	}
	if v.Name == "" {
		v.Name = cmp.Or(strings.TrimPrefix(string(n.ID), "v:"), n.Label)
	}
	v.ShortName = v.Name
	if v.Anonymous {
		v.ShortName = shortID(v.Name)
	}
	v.Users = mountUsers(g, id)
	// Who borrows a user's volumes sees this one too, at the same path.
	for _, u := range v.Users {
		for _, e := range g.EdgesOf(u.NodeID) {
			if e.Kind != topology.EdgeVolumesFrom || e.To != u.NodeID {
				continue
			}
			p := peer(g, e.From)
			v.Borrowers = append(v.Borrowers, VolumeBorrowerView{
				NodeID: e.From, ContainerID: containerIDOf(g, e.From), Name: p.Name,
				Donor: PeerView{NodeID: u.NodeID, Name: u.Name}, Destination: u.Destination,
			})
		}
	}
	slices.SortFunc(v.Borrowers, func(a, b VolumeBorrowerView) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Destination, b.Destination))
	})
	return v, true
}

// BindPanelView is what BindPanel renders: one bind-mounted host path and
// the containers that mount it. Build it with NewBindPanelView.
type BindPanelView struct {
	// NodeID is the bind's node in the graph ("b:<path>").
	NodeID topology.NodeID
	Path   string
	Users  []VolumeUserView
}

// NewBindPanelView builds the view of the bind node id from g. It is pure.
// It returns false when g has no such node or the node is not a bind.
func NewBindPanelView(g topology.Graph, id topology.NodeID) (BindPanelView, bool) {
	n, ok := findNode(g, id)
	if !ok || n.Kind != topology.KindBind {
		return BindPanelView{}, false
	}
	v := BindPanelView{NodeID: n.ID, Path: strings.TrimPrefix(string(n.ID), "b:")}
	if n.Bind != nil && n.Bind.Path != "" {
		v.Path = n.Bind.Path
	}
	v.Users = mountUsers(g, id)
	return v, true
}

// mountUsers lists the containers that mount the node id (a volume or a
// bind), by name then destination: the planner's answer to "who uses it".
func mountUsers(g topology.Graph, id topology.NodeID) []VolumeUserView {
	var out []VolumeUserView
	for _, u := range plan.VolumeUsers(g, topology.Node{ID: id}) {
		out = append(out, VolumeUserView{NodeID: topology.ContainerNodeID(u.ContainerID), ContainerID: u.ContainerID, Name: u.Name,
			Running: u.Running, Destination: u.Destination, ReadOnly: u.ReadOnly})
	}
	return out
}

// containerIDOf is the full container ID of the container node id.
func containerIDOf(g topology.Graph, id topology.NodeID) string {
	if c, ok := findNode(g, id); ok && c.Container != nil && c.Container.ID != "" {
		return c.Container.ID
	}
	return strings.TrimPrefix(string(id), "c:")
}

// VolumeChoice is a named volume a container could mount, for the
// container panel's "Mount…" form.
type VolumeChoice struct {
	NodeID topology.NodeID
	Name   string
}

// namedVolumes lists the named (not anonymous) volumes of g, by name.
func namedVolumes(g topology.Graph) []VolumeChoice {
	var out []VolumeChoice
	for _, n := range g.Nodes {
		if n.Kind != topology.KindVolume || n.Volume == nil || n.Volume.Anonymous || n.Volume.Name == "" {
			continue
		}
		out = append(out, VolumeChoice{NodeID: n.ID, Name: n.Volume.Name})
	}
	slices.SortFunc(out, func(a, b VolumeChoice) int { return strings.Compare(a.Name, b.Name) })
	return out
}
