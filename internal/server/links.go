package server

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/topology"
)

// Linker is what the link and recreate routes need from the engine.
type Linker interface {
	PreviewRecreate(ctx context.Context, id string) (docker.RecreatePreview, error)
	Recreate(ctx context.Context, id string, ch docker.RecreateChange, progress func(docker.Step)) (string, error)
	AddLink(ctx context.Context, from, to, alias string, progress func(docker.Step)) (docker.LinkResult, error)
	RemoveLink(ctx context.Context, from, alias string) error
	Leftovers(ctx context.Context) ([]docker.Leftover, error)
	RollbackLeftover(ctx context.Context, oldID string) error
	FinishLeftover(ctx context.Context, oldID string) error
}

var _ Linker = (*docker.Client)(nil)

// linkRequest is the body of POST /api/links.
type linkRequest struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Alias string `json:"alias"`
	// Confirm is required when the link needs a re-create (default bridge):
	// the caller has seen the preview of what would be lost.
	Confirm bool `json:"confirm"`
	// RecreateDependents also re-creates the containers that link to From,
	// which the re-create would otherwise leave broken.
	RecreateDependents bool `json:"recreateDependents"`
}

// linkPlan is what adding a link will do, as GET /api/links/plan answers
// and as POST /api/links answers when confirmation is missing.
type linkPlan struct {
	Method  string                  `json:"method"` // "recreate" or "endpoint-alias"
	Network string                  `json:"network,omitempty"`
	Message string                  `json:"message"`
	Preview *docker.RecreatePreview `json:"preview,omitempty"`
}

// validateLink checks a link request against the graph; no engine call.
func validateLink(g topology.Graph, fromRef, toRef, alias string) (from, to topology.Node, err error) {
	if from, err = g.ContainerByRef(fromRef); err != nil {
		return from, to, err
	}
	if to, err = g.ContainerByRef(toRef); err != nil {
		return from, to, err
	}
	if from.ID == to.ID {
		return from, to, fmt.Errorf("%w: a container cannot link to itself", topology.ErrInvalid)
	}
	if err = topology.ValidateAlias(alias); err != nil {
		return from, to, err
	}
	mode := from.Container.NetworkMode
	if mode == "host" || mode == "none" || strings.HasPrefix(mode, "container:") {
		return from, to, fmt.Errorf("%w: %s uses network mode %q, where links do not exist", topology.ErrInvalid, from.Container.Name, mode)
	}
	for _, e := range g.EdgesOf(from.ID) {
		if e.Kind == topology.EdgeLink && e.From == from.ID && e.Link.Alias == alias {
			return from, to, fmt.Errorf("%w: %s already has a link named %q", topology.ErrConflict, from.Container.Name, alias)
		}
	}
	return from, to, nil
}

// planLink says how a link from → to can be made: on the default bridge
// only by re-creating from; on a user-defined network both share, as an
// endpoint alias (disconnect + connect).
func planLink(g topology.Graph, from, to topology.Node) linkPlan {
	shared := ""
	toNets := map[topology.NodeID]bool{}
	for _, e := range g.EdgesOf(to.ID) {
		if e.Kind == topology.EdgeMember && e.From == to.ID {
			toNets[e.To] = true
		}
	}
	onDefault := false
	for _, e := range g.EdgesOf(from.ID) {
		if e.Kind != topology.EdgeMember || e.From != from.ID {
			continue
		}
		n, _ := g.Node(e.To)
		if n.Network != nil && n.Network.Default {
			onDefault = true
			continue
		}
		if toNets[e.To] && shared == "" {
			shared = e.Member.NetworkName
		}
	}
	if shared != "" && !onDefault {
		return linkPlan{Method: "endpoint-alias", Network: shared, Message: fmt.Sprintf(
			"%s and %s share the user-defined network %s: the alias is added by disconnecting %s from it and connecting it again (a moment without that network; no re-create)",
			from.Container.Name, to.Container.Name, shared, from.Container.Name)}
	}
	return linkPlan{Method: "recreate", Message: fmt.Sprintf(
		"%s is on the default bridge, where a link can only be set when a container is created: dockmap re-creates %s with every setting carried over",
		from.Container.Name, from.Container.Name)}
}

func stepPublisher(pub Publisher, job string) func(docker.Step) {
	return func(s docker.Step) {
		publishProgress(pub, progressFrame{Job: job, Status: s.Name + ": " + s.State, Detail: s.Detail,
			Failed: s.State == "failed"})
	}
}

// handleLinkPlan serves "GET /api/links/plan?from=&to=&alias=": what adding
// the link would do and, for a re-create, what would be lost and who breaks.
func handleLinkPlan(src LiveSource, l Linker) echo.HandlerFunc {
	return func(c echo.Context) error {
		g := src.Snapshot().Graph
		from, to, err := validateLink(g, c.QueryParam("from"), c.QueryParam("to"), c.QueryParam("alias"))
		if err != nil {
			return err
		}
		plan := planLink(g, from, to)
		if plan.Method == "recreate" {
			p, err := l.PreviewRecreate(c.Request().Context(), from.Container.ID)
			if err != nil {
				return err
			}
			plan.Preview = &p
		}
		return c.JSON(http.StatusOK, plan)
	}
}

// handleAddLink serves "POST /api/links".
func handleAddLink(src LiveSource, l Linker, pub Publisher) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req linkRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		g := src.Snapshot().Graph
		from, to, err := validateLink(g, req.From, req.To, req.Alias)
		if err != nil {
			return err
		}
		plan := planLink(g, from, to)
		if plan.Method == "recreate" && !req.Confirm {
			return echo.NewHTTPError(http.StatusPreconditionRequired, plan.Message+
				"; review GET /api/links/plan and send confirm: true")
		}
		ctx := c.Request().Context()
		job := fmt.Sprintf("link %s → %s as %s", from.Container.Name, to.Container.Name, req.Alias)
		res, err := l.AddLink(ctx, from.Container.ID, to.Container.ID, req.Alias, stepPublisher(pub, job))
		if err != nil {
			publishProgress(pub, progressFrame{Job: job, Status: "failed", Detail: err.Error(), Done: true, Failed: true})
			return err
		}
		var dependents []string
		if res.Method == "recreate" && req.RecreateDependents {
			for _, e := range g.EdgesOf(from.ID) {
				if e.Kind != topology.EdgeLink || e.To != from.ID {
					continue
				}
				dep, _ := g.Node(e.From)
				djob := "re-create " + dep.Container.Name + " (it links to " + from.Container.Name + ")"
				if _, err := l.Recreate(ctx, dep.Container.ID, docker.RecreateChange{}, stepPublisher(pub, djob)); err != nil {
					publishProgress(pub, progressFrame{Job: djob, Status: "failed", Detail: err.Error(), Done: true, Failed: true})
					return fmt.Errorf("link added, but re-creating %s failed: %w", dep.Container.Name, err)
				}
				dependents = append(dependents, dep.Container.Name)
			}
		}
		publishProgress(pub, progressFrame{Job: job, Status: "done", Done: true})
		return c.JSON(http.StatusOK, map[string]any{
			"method": res.Method, "container": res.ContainerID, "network": res.Network, "recreated": dependents,
		})
	}
}

// unlinkRequest is the body of DELETE /api/links.
type unlinkRequest struct {
	From  string `json:"from"`
	Alias string `json:"alias"`
}

// handleRemoveLink serves "DELETE /api/links": the link goes in place.
func handleRemoveLink(src LiveSource, l Linker) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req unlinkRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		from, err := src.Snapshot().Graph.ContainerByRef(req.From)
		if err != nil {
			return err
		}
		if err := topology.ValidateAlias(req.Alias); err != nil {
			return err
		}
		if err := l.RemoveLink(c.Request().Context(), from.Container.ID, req.Alias); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// handleRecreatePreview serves "GET /api/containers/:id/recreate-preview".
func handleRecreatePreview(src LiveSource, l Linker) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := src.Snapshot().Graph.ContainerByRef(c.Param("id"))
		if err != nil {
			return err
		}
		p, err := l.PreviewRecreate(c.Request().Context(), n.Container.ID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	}
}

// handleLeftovers serves "GET /api/recreate/leftovers": containers left
// half-way by an interrupted re-create.
func handleLeftovers(l Linker) echo.HandlerFunc {
	return func(c echo.Context) error {
		left, err := l.Leftovers(c.Request().Context())
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
func handleLeftoverAction(l Linker) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Param("id")
		if !topology.IsFullID(id) {
			return fmt.Errorf("%w: give the full ID of the old container", topology.ErrInvalid)
		}
		var err error
		switch c.Param("action") {
		case "rollback":
			err = l.RollbackLeftover(c.Request().Context(), id)
		case "finish":
			err = l.FinishLeftover(c.Request().Context(), id)
		default:
			return echo.NewHTTPError(http.StatusNotFound, "unknown action: use rollback or finish")
		}
		if err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}
