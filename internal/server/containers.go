package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/topology"
)

// Engine is what the container lifecycle routes need from the engine.
// Errors wrap topology sentinels (ErrNotFound, ErrConflict, ...).
type Engine interface {
	RunContainer(ctx context.Context, spec docker.RunSpec) (string, error)
	StartContainer(ctx context.Context, id string) error
	StopContainer(ctx context.Context, id string, timeout time.Duration) error
	RestartContainer(ctx context.Context, id string, timeout time.Duration) error
	RemoveContainer(ctx context.Context, id string, force bool) error
	ListImages(ctx context.Context) ([]docker.Image, error)
	PullImage(ctx context.Context, ref string, progress func(docker.PullProgress)) error
}

var _ Engine = (*docker.Client)(nil)

// Publisher sends a live message to every browser.
type Publisher interface{ Publish(hub.Message) }

// stopTimeout is how long a stop waits before it kills, as `docker stop`.
const stopTimeout = 10 * time.Second

// Limits on a run request: generous for people, small for abuse.
const (
	maxCmdArgs   = 64
	maxCmdArgLen = 1024
)

// runRequest is the body of POST /api/containers.
type runRequest struct {
	Name    string   `json:"name"`
	Image   string   `json:"image"`
	Cmd     []string `json:"cmd"`
	Network string   `json:"network"`
}

// validate checks the request against the engine's rules and the current
// graph, and returns the spec to run. It makes no engine call.
func (r runRequest) validate(g topology.Graph) (docker.RunSpec, error) {
	if err := topology.ValidateContainerName(r.Name); err != nil {
		return docker.RunSpec{}, err
	}
	if err := topology.ValidateImageRef(r.Image); err != nil {
		return docker.RunSpec{}, err
	}
	if len(r.Cmd) > maxCmdArgs {
		return docker.RunSpec{}, fmt.Errorf("%w: at most %d command arguments", topology.ErrInvalid, maxCmdArgs)
	}
	for _, a := range r.Cmd {
		if len(a) > maxCmdArgLen || strings.ContainsRune(a, 0) {
			return docker.RunSpec{}, fmt.Errorf("%w: a command argument is too long or holds a NUL byte", topology.ErrInvalid)
		}
	}
	if _, err := g.ContainerByRef(r.Name); err == nil {
		return docker.RunSpec{}, fmt.Errorf("%w: a container named %q already exists", topology.ErrConflict, r.Name)
	}
	spec := docker.RunSpec{Name: r.Name, Image: r.Image, Cmd: r.Cmd}
	if r.Network != "" && r.Network != "bridge" {
		n, err := g.NetworkByRef(r.Network)
		if err != nil {
			return docker.RunSpec{}, err
		}
		if n.Network.Driver == "host" || n.Network.Driver == "null" {
			return docker.RunSpec{}, fmt.Errorf("%w: run on a bridge network, not %q", topology.ErrInvalid, n.Network.Name)
		}
		spec.Network = n.Network.ID
	}
	return spec, nil
}

// decodeJSON reads a small JSON body, refusing unknown fields so a typo is
// an error rather than a silent default.
func decodeJSON(c echo.Context, v any) error {
	dec := json.NewDecoder(c.Request().Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: request body: %v", topology.ErrInvalid, err)
	}
	return nil
}

// created is the answer to a successful create.
type created struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// handleRunContainer serves "POST /api/containers".
func handleRunContainer(src LiveSource, eng Engine) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req runRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		spec, err := req.validate(src.Snapshot().Graph)
		if err != nil {
			return err
		}
		id, err := eng.RunContainer(c.Request().Context(), spec)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, created{ID: id, Name: spec.Name})
	}
}

// handleContainerAction serves "POST /api/containers/:id/:action" for
// start, stop and restart.
func handleContainerAction(src LiveSource, eng Engine) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := src.Snapshot().Graph.ContainerByRef(c.Param("id"))
		if err != nil {
			return err
		}
		ctx, id := c.Request().Context(), n.Container.ID
		switch c.Param("action") {
		case "start":
			err = eng.StartContainer(ctx, id)
		case "stop":
			err = eng.StopContainer(ctx, id, stopTimeout)
		case "restart":
			err = eng.RestartContainer(ctx, id, stopTimeout)
		default:
			return echo.NewHTTPError(http.StatusNotFound, "unknown action: use start, stop or restart")
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, created{ID: id, Name: n.Container.Name})
	}
}

// handleRemoveContainer serves "DELETE /api/containers/:id[?force=1]". A
// running container is removed only with force; volumes are always kept.
func handleRemoveContainer(src LiveSource, eng Engine) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := src.Snapshot().Graph.ContainerByRef(c.Param("id"))
		if err != nil {
			return err
		}
		force := c.QueryParam("force") == "1" || c.QueryParam("force") == "true"
		if n.Container.Running() && !force {
			return fmt.Errorf("%w: %s is running: stop it first, or force-remove it", topology.ErrConflict, n.Container.Name)
		}
		if err := eng.RemoveContainer(c.Request().Context(), n.Container.ID, force); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// handleListImages serves "GET /api/images": the local images one can run.
func handleListImages(eng Engine) echo.HandlerFunc {
	return func(c echo.Context) error {
		imgs, err := eng.ListImages(c.Request().Context())
		if err != nil {
			return err
		}
		if imgs == nil {
			imgs = []docker.Image{}
		}
		return c.JSON(http.StatusOK, imgs)
	}
}

// pullRequest is the body of POST /api/images/pull.
type pullRequest struct {
	Image string `json:"image"`
}

// progressFrame is a live "progress" message: one step of a long job.
type progressFrame struct {
	Type   string `json:"type"`
	Job    string `json:"job"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
	Done   bool   `json:"done,omitempty"`
	Failed bool   `json:"failed,omitempty"`
}

func publishProgress(pub Publisher, f progressFrame) {
	f.Type = "progress"
	data, err := json.Marshal(f)
	if err != nil {
		return
	}
	pub.Publish(hub.Message{Type: "progress", Data: data})
}

// handlePullImage serves "POST /api/images/pull": it pulls an image and
// streams the engine's progress to every browser as "progress" messages.
// A failed pull answers 502 with the engine's own message.
func handlePullImage(eng Engine, pub Publisher) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req pullRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := topology.ValidateImageRef(req.Image); err != nil {
			return err
		}
		job := "pull " + req.Image
		publishProgress(pub, progressFrame{Job: job, Status: "pulling " + req.Image})
		err := eng.PullImage(c.Request().Context(), req.Image, func(p docker.PullProgress) {
			status := p.Status
			if p.ID != "" {
				status = p.ID + ": " + status
			}
			publishProgress(pub, progressFrame{Job: job, Status: status, Detail: p.Progress})
		})
		if err != nil {
			publishProgress(pub, progressFrame{Job: job, Status: "pull failed", Detail: err.Error(), Done: true, Failed: true})
			if _, _, isSentinel := sentinelOf(err); isSentinel {
				return err
			}
			return echo.NewHTTPError(http.StatusBadGateway, err.Error())
		}
		publishProgress(pub, progressFrame{Job: job, Status: "pulled " + req.Image, Done: true})
		return c.JSON(http.StatusOK, map[string]string{"image": req.Image, "status": "pulled"})
	}
}
