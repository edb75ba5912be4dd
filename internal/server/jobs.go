package server

import (
	"context"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/job"
	"github.com/dockmap/dockmap/internal/protocol"
)

// handleJobs serves "GET /api/jobs": every job this dockmap holds, newest
// first, for the Activity panel, and the re-creates the engine's journals
// tell of that are not this dockmap's: interrupted ones (their dockmap is
// gone: roll back or finish) and those another running dockmap carries
// out (elsewhere). One list, whoever started the job.
func handleJobs(jobs *job.Registry, r Recreator) echo.HandlerFunc {
	return func(c echo.Context) error {
		list := jobs.List()
		if list == nil {
			list = []protocol.JobInfo{}
		}
		left, err := r.Leftovers(c.Request().Context())
		if err != nil {
			// The engine is down: this dockmap's own jobs are still known.
			return c.JSON(http.StatusOK, map[string]any{"jobs": list})
		}
		for _, lo := range left {
			if lo.Job == "" || slices.ContainsFunc(list, func(j protocol.JobInfo) bool { return j.ID == lo.Job }) {
				continue
			}
			list = append(list, leftoverJob(lo))
		}
		return c.JSON(http.StatusOK, map[string]any{"jobs": list})
	}
}

// leftoverJob is an unfinished re-create as a job.
func leftoverJob(lo docker.Leftover) protocol.JobInfo {
	var names []string
	for _, c := range lo.Containers {
		names = append(names, c.OriginalName)
	}
	info := protocol.JobInfo{ID: lo.Job, Kind: "recreate", Title: "re-create " + strings.Join(names, ", "),
		State: protocol.JobInterrupted, Started: lo.Started, Steps: []protocol.StepInfo{}}
	if lo.Elsewhere {
		info.State = protocol.JobElsewhere
	}
	return info
}

// handleJob serves "GET /api/jobs/:id": the job with its steps.
func handleJob(jobs *job.Registry, r Recreator) echo.HandlerFunc {
	return func(c echo.Context) error {
		info, err := jobs.Get(c.Param("id"))
		if err == nil {
			return c.JSON(http.StatusOK, info)
		}
		if lo, ok := leftoverOfJob(c.Request().Context(), r, c.Param("id")); ok {
			return c.JSON(http.StatusOK, leftoverJob(lo))
		}
		return err
	}
}

// leftoverOfJob finds the unfinished re-create of a job.
func leftoverOfJob(ctx context.Context, r Recreator, id string) (docker.Leftover, bool) {
	left, err := r.Leftovers(ctx)
	if err != nil {
		return docker.Leftover{}, false
	}
	for _, lo := range left {
		if lo.Job != "" && lo.Job == id {
			return lo, true
		}
	}
	return docker.Leftover{}, false
}

// handleJobAction serves "POST /api/jobs/:id/cancel" (a re-create rolls
// back; 409 once it is finishing or has ended), "POST /api/jobs/:id/kill"
// (the container a stop step waits for is killed now), and, for an
// interrupted re-create, "POST /api/jobs/:id/rollback" and "/finish".
func handleJobAction(src LiveSource, jobs *job.Registry, r Recreator) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		var err error
		switch c.Param("action") {
		case "cancel":
			err = jobs.Cancel(id)
		case "kill":
			err = jobs.Kill(id)
		case "rollback", "finish":
			lo, ok := leftoverOfJob(c.Request().Context(), r, id)
			if !ok {
				if _, gerr := jobs.Get(id); gerr != nil {
					return gerr
				}
				return echo.NewHTTPError(http.StatusConflict, "job "+id+" is not an interrupted re-create")
			}
			if c.Param("action") == "rollback" {
				err = r.RollbackLeftover(c.Request().Context(), lo.ID)
			} else {
				err = r.FinishLeftover(c.Request().Context(), lo.ID)
			}
			src.Refresh()
			if err != nil {
				return err
			}
			return c.NoContent(http.StatusNoContent)
		default:
			return echo.NewHTTPError(http.StatusNotFound, "unknown action: use cancel, kill, rollback or finish")
		}
		if err != nil {
			return err
		}
		info, err := jobs.Get(id)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, info)
	}
}
