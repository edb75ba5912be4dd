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
	"github.com/dockmap/dockmap/internal/job"
	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/protocol"
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

// runBody is the body of POST /api/containers.
type runBody struct {
	plan.RunRequest
	confirmation
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
func handleRunContainer(src LiveSource, pl *plan.Planner, eng Engine) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req runBody
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		p, err := planned(c.Request().Context(), src, req.confirmation, func(g topology.Graph) (*plan.Plan, error) {
			return pl.Run(g, req.RunRequest)
		})
		if err != nil {
			return err
		}
		r := p.Run
		id, err := eng.RunContainer(c.Request().Context(), docker.RunSpec{Name: r.Name, Image: r.Image, Cmd: r.Cmd, Network: r.Network})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, created{ID: id, Name: r.Name})
	}
}

// handleContainerAction serves "POST /api/containers/:id/:action" for
// start, stop and restart.
func handleContainerAction(src LiveSource, pl *plan.Planner, eng Engine, r Recreator) echo.HandlerFunc {
	return func(c echo.Context) error {
		action := plan.Action(c.Param("action"))
		switch action {
		case plan.ActionStart, plan.ActionStop, plan.ActionRestart:
		default:
			return echo.NewHTTPError(http.StatusNotFound, "unknown action: use start, stop or restart")
		}
		if err := notBusy(r, c.Param("id")); err != nil {
			return err
		}
		var conf confirmation
		if c.Request().ContentLength != 0 {
			if err := decodeJSON(c, &conf); err != nil {
				return err
			}
		}
		ctx := c.Request().Context()
		p, err := planned(ctx, src, conf, func(g topology.Graph) (*plan.Plan, error) {
			return lifecyclePlan(pl, action)(g, plan.ContainerRequest{Container: c.Param("id")})
		})
		if err != nil {
			return err
		}
		id := p.Subject.ID
		switch action {
		case plan.ActionStart:
			err = eng.StartContainer(ctx, id)
		case plan.ActionStop:
			err = eng.StopContainer(ctx, id, stopTimeout)
		case plan.ActionRestart:
			err = eng.RestartContainer(ctx, id, stopTimeout)
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, created{ID: id, Name: p.Subject.Name})
	}
}

// handleRemoveContainer serves "DELETE /api/containers/:id[?force=1]". A
// running container is removed only with force; volumes are always kept.
func handleRemoveContainer(src LiveSource, pl *plan.Planner, eng Engine, r Recreator) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := notBusy(r, c.Param("id")); err != nil {
			return err
		}
		force := c.QueryParam("force") == "1" || c.QueryParam("force") == "true"
		conf := confirmation{Plan: c.QueryParam("plan")}
		p, err := planned(c.Request().Context(), src, conf, func(g topology.Graph) (*plan.Plan, error) {
			return pl.RemoveContainer(g, plan.ContainerRequest{Container: c.Param("id"), Force: force})
		})
		if err != nil {
			return err
		}
		if err := eng.RemoveContainer(c.Request().Context(), p.Subject.ID, p.Force); err != nil {
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

// handlePullImage serves "POST /api/images/pull" {image}: a job (202
// {job}) that pulls the image, each layer a step with the engine's
// progress. The job of a failed pull fails with the engine's own words
// (502 with ?wait=1).
func handlePullImage(eng Engine, jobs *job.Registry) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req pullRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := topology.ValidateImageRef(req.Image); err != nil {
			return err
		}
		spec := job.Spec{Kind: "pull", Title: "pull " + req.Image, Role: roleOf(c).String(), Remote: c.RealIP(), Cancelable: true,
			Steps: []job.StepSpec{{ID: "pull", Text: "pull " + req.Image}}}
		id, err := jobs.Start(spec, func(ctx context.Context, j *job.Job) (map[string]any, error) {
			j.Step(protocol.StepInfo{ID: "pull", State: protocol.StepRunning, Detail: "asking the registry"})
			err := eng.PullImage(ctx, req.Image, func(p docker.PullProgress) {
				if p.ID == "" {
					j.Step(protocol.StepInfo{ID: "pull", State: protocol.StepRunning, Detail: p.Status})
					return
				}
				state := protocol.StepRunning
				if strings.HasPrefix(p.Status, "Pull complete") || strings.HasPrefix(p.Status, "Already exists") {
					state = protocol.StepDone
				}
				j.Step(protocol.StepInfo{ID: "layer:" + p.ID, Text: "layer " + p.ID, State: state, Detail: strings.TrimSpace(p.Status + " " + p.Progress)})
			})
			if err != nil {
				j.Step(protocol.StepInfo{ID: "pull", State: protocol.StepFailed, Detail: err.Error()})
				if _, _, isSentinel := sentinelOf(err); isSentinel {
					return nil, err
				}
				return nil, echo.NewHTTPError(http.StatusBadGateway, err.Error())
			}
			j.Step(protocol.StepInfo{ID: "pull", State: protocol.StepDone, Detail: "pulled " + req.Image})
			return map[string]any{"image": req.Image}, nil
		})
		if err != nil {
			return err
		}
		return jobDeps{jobs: jobs}.answerJob(c, id, nil)
	}
}
