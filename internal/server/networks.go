package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// Networker is what the network routes need from the engine. Errors wrap
// topology sentinels: ErrNotFound for an unknown network or container,
// ErrConflict for a clash with the current state (already attached, members
// remain, name taken), ErrInvalid for settings the engine refuses.
type Networker interface {
	CreateBridgeNetwork(ctx context.Context, spec docker.NetworkCreate) (string, error)
	InspectNetwork(ctx context.Context, id string) (docker.NetworkDetail, error)
	Attach(ctx context.Context, networkID, containerID string, aliases []string, ip string) error
	Detach(ctx context.Context, networkID, containerID string) error
	RemoveNetwork(ctx context.Context, id string) error
}

var _ Networker = (*docker.Client)(nil)

// networkBody is the body of POST /api/networks.
type networkBody struct {
	plan.NetworkRequest
	confirmation
}

// handleCreateNetwork serves "POST /api/networks": 201 {id, name}.
func handleCreateNetwork(src LiveSource, pl *plan.Planner, nw Networker) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req networkBody
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		p, err := planned(c.Request().Context(), src, req.confirmation, func(g topology.Graph) (*plan.Plan, error) {
			return pl.CreateNetwork(g, req.NetworkRequest)
		})
		if err != nil {
			return err
		}
		n := p.Network
		id, err := nw.CreateBridgeNetwork(c.Request().Context(), docker.NetworkCreate{Name: n.Name, Subnet: n.Subnet, Gateway: n.Gateway,
			Internal: n.Internal, ICC: n.ICC, Attachable: n.Attachable, Driver: n.Driver, Encrypted: n.Encrypted})
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, created{ID: id, Name: n.Name})
	}
}

// handleNetworkDetail serves "GET /api/networks/:id": the network with every
// member (stopped ones too), their IPs and aliases.
func handleNetworkDetail(src LiveSource, nw Networker) echo.HandlerFunc {
	return func(c echo.Context) error {
		n, err := src.Snapshot().Graph.NetworkByRef(c.Param("id"))
		if err != nil {
			return err
		}
		d, err := nw.InspectNetwork(c.Request().Context(), n.Network.ID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, d)
	}
}

// removed is the answer to DELETE /api/networks/:id.
type removed struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Detached names the members detached first (with ?detach=1).
	Detached []string `json:"detached"`
}

// handleRemoveNetwork serves "DELETE /api/networks/:id[?detach=1]". While
// members remain (stopped ones count: the engine would remove the network
// and leave them unable to start) it answers 409 naming them, unless
// detach=1 asks to detach them all first.
func handleRemoveNetwork(src LiveSource, pl *plan.Planner, nw Networker) echo.HandlerFunc {
	return func(c echo.Context) error {
		detach := c.QueryParam("detach") == "1" || c.QueryParam("detach") == "true"
		ctx := c.Request().Context()
		p, err := planned(ctx, src, confirmation{Plan: c.QueryParam("plan")}, func(g topology.Graph) (*plan.Plan, error) {
			return pl.RemoveNetwork(g, plan.RemoveNetworkRequest{Network: c.Param("id"), Detach: detach})
		})
		if err != nil {
			return err
		}
		names := []string{}
		for _, m := range p.Detach {
			if err := nw.Detach(ctx, p.Subject.ID, m.ID); err != nil {
				return fmt.Errorf("detach %s before removing %s: %w", m.Name, p.Subject.Name, err)
			}
			names = append(names, m.Name)
		}
		if err := nw.RemoveNetwork(ctx, p.Subject.ID); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, removed{ID: p.Subject.ID, Name: p.Subject.Name, Detached: names})
	}
}

// connectBody is the body of POST /api/networks/:id/connect.
type connectBody struct {
	plan.ConnectRequest
	confirmation
}

// attached is the answer to connect and disconnect.
type attached struct {
	Network   string   `json:"network"`
	Container string   `json:"container"`
	Aliases   []string `json:"aliases"`
	IP        string   `json:"ip,omitempty"`
}

// handleConnect serves "POST /api/networks/:id/connect" {container,
// aliases, ip}: running or stopped, and again with new settings.
func handleConnect(src LiveSource, pl *plan.Planner, nw Networker) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req connectBody
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		req.Network = c.Param("id")
		ctx := c.Request().Context()
		p, err := planned(ctx, src, req.confirmation, func(g topology.Graph) (*plan.Plan, error) { return pl.Connect(g, req.ConnectRequest) })
		if err != nil {
			return err
		}
		if err := nw.Attach(ctx, p.On.ID, p.Subject.ID, p.Network.Aliases, p.Network.IP); err != nil {
			return err
		}
		aliases := p.Network.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		return c.JSON(http.StatusOK, attached{Network: p.On.ID, Container: p.Subject.ID, Aliases: aliases, IP: p.Network.IP})
	}
}

// disconnectBody is the body of POST /api/networks/:id/disconnect.
type disconnectBody struct {
	plan.DisconnectRequest
	confirmation
}

// handleDisconnect serves "POST /api/networks/:id/disconnect" {container}.
func handleDisconnect(src LiveSource, pl *plan.Planner, nw Networker) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req disconnectBody
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		req.Network = c.Param("id")
		ctx := c.Request().Context()
		p, err := planned(ctx, src, req.confirmation, func(g topology.Graph) (*plan.Plan, error) { return pl.Disconnect(g, req.DisconnectRequest) })
		if err != nil {
			return err
		}
		if err := nw.Detach(ctx, p.On.ID, p.Subject.ID); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, attached{Network: p.On.ID, Container: p.Subject.ID, Aliases: []string{}})
	}
}
