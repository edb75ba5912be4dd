package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/plan"
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
}

var _ Volumes = (*docker.Client)(nil)

// volumeBody is the body of POST /api/volumes.
type volumeBody struct {
	plan.VolumeRequest
	confirmation
}

// handleCreateVolume serves "POST /api/volumes" {name, labels}: 201 {name}.
func handleCreateVolume(src LiveSource, pl *plan.Planner, v Volumes) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req volumeBody
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		p, err := planned(c.Request().Context(), src, req.confirmation, func(g topology.Graph) (*plan.Plan, error) {
			return pl.CreateVolume(g, req.VolumeRequest)
		})
		if err != nil {
			return err
		}
		if err := v.CreateNamedVolume(c.Request().Context(), p.Volume.Name, p.Volume.Labels); err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, map[string]string{"name": p.Volume.Name})
	}
}

// volumeDetail is the answer to GET /api/volumes/:name.
type volumeDetail struct {
	Name       string            `json:"name"`
	Driver     string            `json:"driver"`
	Mountpoint string            `json:"mountpoint"`
	Anonymous  bool              `json:"anonymous"`
	Backing    string            `json:"backing,omitempty"`
	Labels     map[string]string `json:"labels"`
	Users      []plan.VolumeUser `json:"users"`
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
			Anonymous: n.Volume.Anonymous, Backing: n.Volume.Backing, Labels: labels, Users: plan.VolumeUsers(g, n)})
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
// refused (409, naming them) while containers use it, and without confirm
// equal to the name, since its data goes with it.
func handleRemoveVolume(src LiveSource, pl *plan.Planner, v Volumes) echo.HandlerFunc {
	return func(c echo.Context) error {
		conf := confirmation{Plan: c.QueryParam("plan")}
		p, err := planned(c.Request().Context(), src, conf, func(g topology.Graph) (*plan.Plan, error) {
			return pl.RemoveVolume(g, plan.RemoveVolumeRequest{Volume: c.Param("name"), Confirm: c.QueryParam("confirm")})
		})
		if err != nil {
			return err
		}
		if err := v.RemoveVolume(c.Request().Context(), p.Subject.Name); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// mountBody is the body of POST /api/containers/:id/mounts.
type mountBody struct {
	plan.MountRequest
	confirmation
}

// handleAddMount serves "POST /api/containers/:id/mounts" {volume |
// volumesFrom | bind, target, readOnly, recreateDependents, confirm,
// plan}: a job (202 {job, plan}) re-creating the container with the mount
// added, and the containers that depend on it unless told not to. Without
// confirm it answers 428 with the plan.
func handleAddMount(d jobDeps, pl *plan.Planner) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req mountBody
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		req.Container = c.Param("id")
		if err := notBusy(d.r, req.Container, req.VolumesFrom); err != nil {
			return err
		}
		planFor := func(g topology.Graph) (*plan.Plan, error) { return pl.Mount(g, req.MountRequest) }
		p, err := planned(c.Request().Context(), d.src, req.confirmation, planFor)
		if err != nil {
			return err
		}
		return d.startPlan(c, p, strings.TrimPrefix(p.Recreates[0].Why, "to ")+" in "+p.Subject.Name, planFor)
	}
}

// shareMounts lists the mounts of volume node v for a share test.
func shareMounts(g topology.Graph, v topology.Node) []docker.ShareMount {
	users := plan.VolumeUsers(g, v)
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
