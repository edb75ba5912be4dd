package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/job"
	"github.com/dockmap/dockmap/internal/protocol"
)

// handleJobs serves "GET /api/jobs": every job this dockmap holds, newest
// first, for the Activity panel.
func handleJobs(jobs *job.Registry) echo.HandlerFunc {
	return func(c echo.Context) error {
		list := jobs.List()
		if list == nil {
			list = []protocol.JobInfo{}
		}
		return c.JSON(http.StatusOK, map[string]any{"jobs": list})
	}
}

// handleJob serves "GET /api/jobs/:id": the job with its steps.
func handleJob(jobs *job.Registry) echo.HandlerFunc {
	return func(c echo.Context) error {
		info, err := jobs.Get(c.Param("id"))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, info)
	}
}

// handleJobAction serves "POST /api/jobs/:id/cancel" (a re-create rolls
// back; 409 once it is finishing or has ended) and "POST
// /api/jobs/:id/kill" (the container a stop waits for is killed now).
func handleJobAction(jobs *job.Registry) echo.HandlerFunc {
	return func(c echo.Context) error {
		var err error
		switch c.Param("action") {
		case "cancel":
			err = jobs.Cancel(c.Param("id"))
		case "kill":
			err = jobs.Kill(c.Param("id"))
		default:
			return echo.NewHTTPError(http.StatusNotFound, "unknown action: use cancel or kill")
		}
		if err != nil {
			return err
		}
		info, err := jobs.Get(c.Param("id"))
		if err != nil {
			return err
		}
		return c.JSON(http.StatusAccepted, info)
	}
}
