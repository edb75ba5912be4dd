package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// Volumes is what the volume and sharing routes need from the engine.
// Errors wrap topology sentinels: ErrConflict for a name taken or a
// volume in use, ErrNotFound for an unknown volume or container.
type Volumes interface {
	CreateNamedVolume(ctx context.Context, name string, labels map[string]string) error
	RemoveVolume(ctx context.Context, name string) error
	// VolumeUsage asks the engine's disk-usage call, which can be slow.
	VolumeUsage(ctx context.Context, name string) (docker.VolumeUsage, error)
	// ShareTest writes a marker from one mounter of volume and looks for
	// it from every other, reporting each result as it comes.
	ShareTest(ctx context.Context, volume string, mounts []docker.ShareMount, progress func(docker.ShareResult)) ([]docker.ShareResult, error)
	// Recreate is the safe re-create, as for links.
	Recreate(ctx context.Context, id string, ch docker.RecreateChange, progress func(docker.Step)) (string, error)
}

var _ Volumes = (*docker.Client)(nil)

// Limits on a volume's labels.
const (
	maxLabels        = 64
	maxLabelKeyLen   = 256
	maxLabelValueLen = 4096
)

// volumeRequest is the body of POST /api/volumes.
type volumeRequest struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// validate checks a create request against the rules and the graph; no
// engine call.
func (r volumeRequest) validate(g topology.Graph) error {
	if err := topology.ValidateVolumeName(r.Name); err != nil {
		return err
	}
	if len(r.Labels) > maxLabels {
		return fmt.Errorf("%w: %d labels; at most %d are allowed", topology.ErrInvalid, len(r.Labels), maxLabels)
	}
	for k, v := range r.Labels {
		if k == "" || len(k) > maxLabelKeyLen || len(v) > maxLabelValueLen || strings.ContainsRune(k+v, 0) {
			return fmt.Errorf("%w: label %.40q: keys are 1 to %d bytes, values at most %d, no NUL",
				topology.ErrInvalid, k, maxLabelKeyLen, maxLabelValueLen)
		}
	}
	if _, ok := g.Node(topology.VolumeNodeID(r.Name)); ok {
		return fmt.Errorf("%w: a volume named %q already exists", topology.ErrConflict, r.Name)
	}
	return nil
}

// handleCreateVolume serves "POST /api/volumes" {name, labels}: 201 {name}.
func handleCreateVolume(src LiveSource, v Volumes) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req volumeRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := req.validate(src.Snapshot().Graph); err != nil {
			return err
		}
		if err := v.CreateNamedVolume(c.Request().Context(), req.Name, req.Labels); err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, map[string]string{"name": req.Name})
	}
}

// volumeUser is one container that mounts a volume.
type volumeUser struct {
	ContainerID string `json:"containerId"`
	Name        string `json:"name"`
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"readOnly"`
	Running     bool   `json:"running"`
}

// volumeDetail is the answer to GET /api/volumes/:name.
type volumeDetail struct {
	Name       string            `json:"name"`
	Driver     string            `json:"driver"`
	Mountpoint string            `json:"mountpoint"`
	Anonymous  bool              `json:"anonymous"`
	Labels     map[string]string `json:"labels"`
	Users      []volumeUser      `json:"users"`
}

// volumeUsers lists the containers that mount volume node v, by name
// then destination.
func volumeUsers(g topology.Graph, v topology.Node) []volumeUser {
	users := []volumeUser{}
	for _, e := range g.EdgesOf(v.ID) {
		if e.Kind != topology.EdgeMount || e.To != v.ID || e.Mount == nil {
			continue
		}
		ct, ok := g.Node(e.From)
		if !ok || ct.Container == nil {
			continue
		}
		users = append(users, volumeUser{ContainerID: ct.Container.ID, Name: ct.Container.Name,
			Destination: e.Mount.Destination, ReadOnly: e.Mount.ReadOnly, Running: ct.Container.Running()})
	}
	slices.SortFunc(users, func(a, b volumeUser) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.Destination, b.Destination)
	})
	return users
}

// handleVolumeDetail serves "GET /api/volumes/:name" from the graph (no
// engine call).
func handleVolumeDetail(src LiveSource) echo.HandlerFunc {
	return func(c echo.Context) error {
		g := src.Snapshot().Graph
		n, err := g.VolumeByRef(c.Param("name"))
		if err != nil {
			return err
		}
		labels := n.Volume.Labels
		if labels == nil {
			labels = map[string]string{}
		}
		return c.JSON(http.StatusOK, volumeDetail{Name: n.Volume.Name, Driver: n.Volume.Driver, Mountpoint: n.Volume.Mountpoint,
			Anonymous: n.Volume.Anonymous, Labels: labels, Users: volumeUsers(g, n)})
	}
}

// handleVolumeUsage serves "GET /api/volumes/:name/usage": {size,
// refCount} from the engine's disk-usage call, answered when it is done
// (the page shows progress meanwhile).
func handleVolumeUsage(src LiveSource, v Volumes) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := src.Snapshot().Graph.VolumeByRef(c.Param("name"))
		if err != nil {
			return err
		}
		u, err := v.VolumeUsage(c.Request().Context(), n.Volume.Name)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, u)
	}
}

// handleRemoveVolume serves "DELETE /api/volumes/:name?confirm=<name>":
// refused (409, naming them) while the graph shows containers using it,
// and without confirm equal to the name, since its data goes with it.
func handleRemoveVolume(src LiveSource, v Volumes) echo.HandlerFunc {
	return func(c echo.Context) error {
		g := src.Snapshot().Graph
		n, err := g.VolumeByRef(c.Param("name"))
		if err != nil {
			return err
		}
		if users := volumeUsers(g, n); len(users) > 0 {
			names := make([]string, 0, len(users))
			for _, u := range users {
				names = append(names, u.Name+" at "+u.Destination)
			}
			return fmt.Errorf("%w: volume %s is in use by %s; remove those containers first (stopped ones count)",
				topology.ErrConflict, n.Volume.Name, strings.Join(names, ", "))
		}
		if c.QueryParam("confirm") != n.Volume.Name {
			return fmt.Errorf("%w: type the volume's name to confirm (?confirm=%s): its data goes with it", topology.ErrInvalid, n.Volume.Name)
		}
		if err := v.RemoveVolume(c.Request().Context(), n.Volume.Name); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// mountRequest is the body of POST /api/containers/:id/mounts: exactly one
// of Volume, VolumesFrom and Bind.
type mountRequest struct {
	// Volume is an existing volume to mount at Target.
	Volume string `json:"volume"`
	// VolumesFrom is a container whose mounts to take, at their own
	// destinations (no Target).
	VolumesFrom string `json:"volumesFrom"`
	// Bind is a host path to mount at Target, only under a prefix the
	// operator allowed with --allow-bind.
	Bind     string `json:"bind"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly"`
	// Confirm says the caller has seen GET
	// /api/containers/:id/recreate-preview: mounting re-creates the
	// container.
	Confirm bool `json:"confirm"`
}

// plan checks a mount request against the rules and the graph, and
// returns the container to re-create, the change, and a description of
// the job. It makes no engine call, and builds structured mounts only:
// never a "-v" or Binds string, whose ':' fields a name could smuggle a
// host path into.
func (r mountRequest) plan(g topology.Graph, ref string, allowBinds []string) (topology.Node, docker.RecreateChange, string, error) {
	var ch docker.RecreateChange
	ct, err := g.ContainerByRef(ref)
	if err != nil {
		return ct, ch, "", err
	}
	given := 0
	for _, s := range []string{r.Volume, r.VolumesFrom, r.Bind} {
		if s != "" {
			given++
		}
	}
	if given != 1 {
		return ct, ch, "", fmt.Errorf("%w: give exactly one of volume, volumesFrom and bind", topology.ErrInvalid)
	}
	mode := "read-write"
	if r.ReadOnly {
		mode = "read-only"
	}
	switch {
	case r.VolumesFrom != "":
		if r.Target != "" {
			return ct, ch, "", fmt.Errorf("%w: volumesFrom takes the donor's mounts at their own paths: give no target", topology.ErrInvalid)
		}
		donor, err := g.ContainerByRef(r.VolumesFrom)
		if err != nil {
			return ct, ch, "", err
		}
		if err := topology.ValidateVolumesFrom(g, ct, donor); err != nil {
			return ct, ch, "", err
		}
		from := donor.Container.ID
		if r.ReadOnly {
			from += ":ro"
		}
		ch.AddVolumesFrom = []string{from}
		return ct, ch, fmt.Sprintf("give %s the volumes of %s (%s)", ct.Container.Name, donor.Container.Name, mode), nil
	case r.Volume != "":
		v, err := g.VolumeByRef(r.Volume)
		if err != nil {
			return ct, ch, "", err
		}
		if v.Volume.Driver != "local" {
			return ct, ch, "", fmt.Errorf("%w: volume %s uses the %q driver; dockmap mounts local volumes only", topology.ErrInvalid, v.Volume.Name, v.Volume.Driver)
		}
		if err := topology.ValidateMountTarget(g, ct, r.Target); err != nil {
			return ct, ch, "", err
		}
		ch.AddMounts = []docker.MountSpec{{Type: "volume", Source: v.Volume.Name, Target: r.Target, ReadOnly: r.ReadOnly}}
		return ct, ch, fmt.Sprintf("mount volume %s into %s at %s (%s)", v.Volume.Name, ct.Container.Name, r.Target, mode), nil
	default:
		host, err := topology.ValidateBindSource(allowBinds, r.Bind)
		if err != nil {
			return ct, ch, "", err
		}
		if err := topology.ValidateMountTarget(g, ct, r.Target); err != nil {
			return ct, ch, "", err
		}
		ch.AddMounts = []docker.MountSpec{{Type: "bind", Source: host, Target: r.Target, ReadOnly: r.ReadOnly}}
		return ct, ch, fmt.Sprintf("bind %s into %s at %s (%s)", host, ct.Container.Name, r.Target, mode), nil
	}
}

// handleAddMount serves "POST /api/containers/:id/mounts" {volume |
// volumesFrom | bind, target, readOnly, confirm}: a safe re-create of the
// container with the mount added, progress streamed as for links; 200
// {container: new ID}. Without confirm it answers 428: the page shows
// the re-create preview first.
func handleAddMount(src LiveSource, v Volumes, pub Publisher, allowBinds []string) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req mountRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		ct, ch, job, err := req.plan(src.Snapshot().Graph, c.Param("id"), allowBinds)
		if errors.Is(err, topology.ErrBindNotAllowed) {
			return echo.NewHTTPError(http.StatusForbidden, err.Error())
		}
		if err != nil {
			return err
		}
		if !req.Confirm {
			return echo.NewHTTPError(http.StatusPreconditionRequired, fmt.Sprintf(
				"mounting re-creates %s with every setting carried over; review GET /api/containers/%s/recreate-preview and send confirm: true",
				ct.Container.Name, ct.Container.ID))
		}
		newID, err := v.Recreate(c.Request().Context(), ct.Container.ID, ch, stepPublisher(pub, job))
		if err != nil {
			publishProgress(pub, progressFrame{Job: job, Status: "failed", Detail: err.Error(), Done: true, Failed: true})
			return err
		}
		publishProgress(pub, progressFrame{Job: job, Status: "done", Done: true})
		return c.JSON(http.StatusOK, map[string]string{"container": newID})
	}
}

// shareMounts lists the mounts of volume node v for a share test.
func shareMounts(g topology.Graph, v topology.Node) []docker.ShareMount {
	users := volumeUsers(g, v)
	mounts := make([]docker.ShareMount, 0, len(users))
	for _, u := range users {
		mounts = append(mounts, docker.ShareMount{ContainerID: u.ContainerID, Name: u.Name,
			Destination: u.Destination, ReadOnly: u.ReadOnly, Running: u.Running})
	}
	return mounts
}

// handleShareTest serves "POST /api/volumes/:name/share-test": one
// running read-write mounter writes a marker, every other mounter looks
// for it (and tries to write, to show read-only). Each result is streamed
// to every browser as a "share" message; the answer is {results}. With no
// running read-write mounter it answers 409.
func handleShareTest(src LiveSource, v Volumes, pub Publisher) echo.HandlerFunc {
	return func(c echo.Context) error {
		g := src.Snapshot().Graph
		n, err := g.VolumeByRef(c.Param("name"))
		if err != nil {
			return err
		}
		mounts := shareMounts(g, n)
		if !slices.ContainsFunc(mounts, func(m docker.ShareMount) bool { return m.Running && !m.ReadOnly }) {
			return fmt.Errorf("%w: no running container mounts %s read-write, so none can write the marker: start one first",
				topology.ErrConflict, n.Volume.Name)
		}
		name := n.Volume.Name
		results, err := v.ShareTest(c.Request().Context(), name, mounts, func(r docker.ShareResult) {
			pub.Publish(protocol.Message(&protocol.Share{Volume: name, Result: r}))
		})
		if err != nil {
			return err
		}
		if results == nil {
			results = []docker.ShareResult{}
		}
		return c.JSON(http.StatusOK, map[string]any{"results": results})
	}
}
