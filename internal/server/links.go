package server

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// linkBody is the body of POST /api/links.
type linkBody struct {
	plan.LinkRequest
	confirmation
}

// unlinkBody is the body of DELETE /api/links.
type unlinkBody struct {
	plan.UnlinkRequest
	confirmation
}

// repairBody is the body of POST /api/links/repair.
type repairBody struct {
	plan.RepairRequest
	confirmation
}

// handleLinkPlan serves "GET /api/links/plan?from=&to=&alias=
// [&recreateDependents=false]": the plan of adding the link, with the files
// a re-create would lose.
func handleLinkPlan(d jobDeps, pl *plan.Planner) echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		return d.answerPlan(c, func(g topology.Graph) (*plan.Plan, error) {
			return pl.AddLink(g, plan.LinkRequest{From: q.Get("from"), To: q.Get("to"), Alias: q.Get("alias"),
				RecreateDependents: queryBool(q, "recreateDependents")})
		})
	}
}

// handleAddLink serves "POST /api/links" {from, to, alias,
// recreateDependents, confirm, plan}: a job (202 {job, plan}) that carries
// out the plan: an endpoint alias, or a re-create (428 without confirm).
func handleAddLink(d jobDeps, pl *plan.Planner) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req linkBody
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := notBusy(d.r, req.From, req.To); err != nil {
			return err
		}
		planFor := func(g topology.Graph) (*plan.Plan, error) { return pl.AddLink(g, req.LinkRequest) }
		p, err := planned(c.Request().Context(), d.src, req.confirmation, planFor)
		if err != nil {
			return err
		}
		to := p.Subject.Name
		if len(p.Recreates) > 0 && len(p.Recreates[0].Change.AddLinks) > 0 {
			to = p.Recreates[0].Change.AddLinks[0].Target.Name
		} else if len(p.Endpoints) > 0 && p.Endpoints[0].Peer != nil {
			to = p.Endpoints[0].Peer.Name
		}
		return d.startPlan(c, p, fmt.Sprintf("link %s → %s as %s", p.Subject.Name, to, req.Alias), planFor)
	}
}

// handleRemoveLink serves "DELETE /api/links" {from, alias,
// recreateDependents, confirm, plan}: in place (204), or, for a broken link
// the engine can no longer remove, a re-create job (202).
func handleRemoveLink(d jobDeps, pl *plan.Planner) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req unlinkBody
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := notBusy(d.r, req.From); err != nil {
			return err
		}
		planFor := func(g topology.Graph) (*plan.Plan, error) { return pl.RemoveLink(g, req.UnlinkRequest) }
		p, err := planned(c.Request().Context(), d.src, req.confirmation, planFor)
		if err != nil {
			return err
		}
		if p.Job {
			return d.startPlan(c, p, fmt.Sprintf("remove the broken link %s of %s", req.Alias, p.Subject.Name), planFor)
		}
		if _, err := d.carryOut(c.Request().Context(), nil, p, nil); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// handleRepairLink serves "POST /api/links/repair" {from, alias,
// recreateDependents, confirm, plan}: a broken legacy link re-pointed at
// the container that has its target's name now, by a re-create job.
func handleRepairLink(d jobDeps, pl *plan.Planner) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req repairBody
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		if err := notBusy(d.r, req.From); err != nil {
			return err
		}
		planFor := func(g topology.Graph) (*plan.Plan, error) { return pl.RepairLink(g, req.RepairRequest) }
		p, err := planned(c.Request().Context(), d.src, req.confirmation, planFor)
		if err != nil {
			return err
		}
		return d.startPlan(c, p, fmt.Sprintf("repair the link %s of %s", req.Alias, p.Subject.Name), planFor)
	}
}

// handleRecreatePreview serves "GET /api/containers/:id/recreate-preview":
// what a re-create of that container would lose (its writable layer's
// files) and who depends on it.
func handleRecreatePreview(src LiveSource, r Recreator) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := src.Snapshot().Graph.ContainerByRef(c.Param("id"))
		if err != nil {
			return err
		}
		p, err := r.PreviewRecreate(c.Request().Context(), n.Container.ID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	}
}

// handleLeftovers serves "GET /api/recreate/leftovers": re-creates that did
// not finish (their dockmap was killed), and those another running dockmap
// is carrying out (elsewhere: shown, never to be rolled back).
func handleLeftovers(r Recreator) echo.HandlerFunc {
	return func(c echo.Context) error {
		left, err := r.Leftovers(c.Request().Context())
		if err != nil {
			return err
		}
		if left == nil {
			left = []docker.Leftover{}
		}
		return c.JSON(http.StatusOK, left)
	}
}

// handleLeftoverAction serves "POST /api/recreate/leftovers/:id/:action"
// (rollback or finish).
func handleLeftoverAction(src LiveSource, r Recreator) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		if !topology.IsFullID(id) {
			return fmt.Errorf("%w: give the full ID of the leftover", topology.ErrInvalid)
		}
		var err error
		switch c.Param("action") {
		case "rollback":
			err = r.RollbackLeftover(c.Request().Context(), id)
		case "finish":
			err = r.FinishLeftover(c.Request().Context(), id)
		default:
			return echo.NewHTTPError(http.StatusNotFound, "unknown action: use rollback or finish")
		}
		src.Refresh()
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
