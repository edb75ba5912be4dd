package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// SwarmActor changes a Swarm through one of its managers (*docker.Client).
type SwarmActor interface {
	ScaleService(ctx context.Context, serviceID string, replicas uint64) error
	SetNodeAvailability(ctx context.Context, nodeID, availability string) error
}

// SwarmActors finds the engine of that name to act on its Swarm.
type SwarmActors func(engine string) (SwarmActor, bool)

// swarmPoller is the merged map (live.Union) reading the Swarms at once:
// a Swarm's change makes no event the map would follow by itself.
type swarmPoller interface{ PollSwarms(ctx context.Context) }

type scaleBody struct {
	plan.ScaleRequest
	confirmation
}

type availabilityBody struct {
	plan.AvailabilityRequest
	confirmation
}

// handleScaleService serves "POST /api/services/:id/scale": through the
// manager that reported the service, on the merged map.
func handleScaleService(src LiveSource, pl *plan.Planner, actors SwarmActors) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req scaleBody
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		req.Service = c.Param("id")
		ctx := c.Request().Context()
		p, err := planned(ctx, src, req.confirmation, func(g topology.Graph) (*plan.Plan, error) { return pl.ScaleService(g, req.ScaleRequest) })
		if err != nil {
			return err
		}
		a, engine, err := managerOf(src, topology.ServiceNodeID(p.Subject.ID), actors)
		if err != nil {
			return err
		}
		if err := a.ScaleService(ctx, p.Subject.ID, *req.Replicas); err != nil {
			return fmt.Errorf("engine %s: %w", engine, err)
		}
		pollSwarms(ctx, src)
		return c.JSON(http.StatusOK, created{ID: p.Subject.ID, Name: p.Subject.Name})
	}
}

// handleNodeAvailability serves "POST /api/swarm-nodes/:id/availability".
func handleNodeAvailability(src LiveSource, pl *plan.Planner, actors SwarmActors) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req availabilityBody
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		req.Node = c.Param("id")
		ctx := c.Request().Context()
		p, err := planned(ctx, src, req.confirmation, func(g topology.Graph) (*plan.Plan, error) {
			return pl.NodeAvailability(g, req.AvailabilityRequest)
		})
		if err != nil {
			return err
		}
		a, engine, err := managerOf(src, topology.SwarmNodeID(p.Subject.ID), actors)
		if err != nil {
			return err
		}
		if err := a.SetNodeAvailability(ctx, p.Subject.ID, req.Availability); err != nil {
			return fmt.Errorf("engine %s: %w", engine, err)
		}
		pollSwarms(ctx, src)
		return c.JSON(http.StatusOK, created{ID: p.Subject.ID, Name: p.Subject.Name})
	}
}

// managerOf is the engine that reported node id (a manager of its
// Swarm), to act through.
func managerOf(src LiveSource, id topology.NodeID, actors SwarmActors) (SwarmActor, string, error) {
	n, ok := src.Snapshot().Node(id)
	if !ok {
		return nil, "", fmt.Errorf("%w: %s is no longer on the map", topology.ErrNotFound, id)
	}
	var a SwarmActor
	if actors != nil {
		a, ok = actors(n.Engine)
	}
	if !ok {
		return nil, n.Engine, fmt.Errorf("%w: engine %q, which manages this Swarm, is not one dockmap acts on", topology.ErrNotFound, n.Engine)
	}
	return a, n.Engine, nil
}

// pollSwarms has the merged map read the Swarms now, so that the answer
// comes once the map shows the change the managers made.
func pollSwarms(ctx context.Context, src LiveSource) {
	if p, ok := src.(swarmPoller); ok {
		p.PollSwarms(ctx)
	}
}
