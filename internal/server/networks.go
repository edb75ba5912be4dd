package server

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/reach"
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

// networkRequest is the body of POST /api/networks.
type networkRequest struct {
	Name    string `json:"name"`
	Subnet  string `json:"subnet"`
	Gateway string `json:"gateway"`
	// Internal networks have no route outside.
	Internal bool `json:"internal"`
	// ICC is inter-container communication; absent means on, as in Docker.
	ICC        *bool `json:"icc"`
	Attachable bool  `json:"attachable"`
}

// validate checks a create request against the rules and the graph, and
// returns the spec to create. It makes no engine call.
func (r networkRequest) validate(g topology.Graph) (docker.NetworkCreate, error) {
	if err := topology.ValidateNetworkName(r.Name); err != nil {
		return docker.NetworkCreate{}, err
	}
	if _, err := g.NetworkByRef(r.Name); err == nil {
		return docker.NetworkCreate{}, fmt.Errorf("%w: a network named %q already exists", topology.ErrConflict, r.Name)
	}
	// The docker CLI takes an ID prefix where a name is asked for, so a
	// network named like the start of another's ID makes `docker network
	// rm ab12` ambiguous (SEC-14).
	for _, n := range g.Nodes {
		if n.Network != nil && strings.HasPrefix(n.Network.ID, strings.ToLower(r.Name)) {
			return docker.NetworkCreate{}, fmt.Errorf("%w: %q is the start of network %s's ID; pick a name that cannot be taken for an ID", topology.ErrInvalid, r.Name, n.Network.Name)
		}
	}
	spec := docker.NetworkCreate{Name: r.Name, Internal: r.Internal, ICC: r.ICC == nil || *r.ICC, Attachable: r.Attachable}
	switch {
	case r.Subnet != "":
		p, err := topology.ValidateSubnet(g, r.Subnet)
		if err != nil {
			return docker.NetworkCreate{}, err
		}
		spec.Subnet = p.String()
		if r.Gateway != "" {
			if err := topology.ValidateGateway(p, r.Gateway); err != nil {
				return docker.NetworkCreate{}, err
			}
			spec.Gateway = r.Gateway
		}
	case r.Gateway != "":
		return docker.NetworkCreate{}, fmt.Errorf("%w: a gateway needs a subnet: give both, or neither to let Docker pick", topology.ErrInvalid)
	}
	return spec, nil
}

// handleCreateNetwork serves "POST /api/networks": 201 {id, name}.
func handleCreateNetwork(src LiveSource, nw Networker) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req networkRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		spec, err := req.validate(src.Snapshot().Graph)
		if err != nil {
			return err
		}
		id, err := nw.CreateBridgeNetwork(c.Request().Context(), spec)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, created{ID: id, Name: spec.Name})
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
func handleRemoveNetwork(src LiveSource, nw Networker) echo.HandlerFunc {
	return func(c echo.Context) error {
		g := src.Snapshot().Graph
		n, err := g.NetworkByRef(c.Param("id"))
		if err != nil {
			return err
		}
		if builtinNetwork(n) {
			return fmt.Errorf("%w: %s is one of the engine's own networks and cannot be removed", topology.ErrInvalid, n.Network.Name)
		}
		detach := c.QueryParam("detach") == "1" || c.QueryParam("detach") == "true"
		members := g.Members(n.ID)
		names := make([]string, 0, len(members))
		for _, m := range members {
			names = append(names, m.Container.Name)
		}
		slices.Sort(names)
		if len(members) > 0 && !detach {
			return fmt.Errorf("%w: network %s still has members: %s; detach them first (or send ?detach=1)",
				topology.ErrConflict, n.Network.Name, strings.Join(names, ", "))
		}
		ctx := c.Request().Context()
		for _, m := range members {
			if err := nw.Detach(ctx, n.Network.ID, m.Container.ID); err != nil {
				return fmt.Errorf("detach %s before removing %s: %w", m.Container.Name, n.Network.Name, err)
			}
		}
		if err := nw.RemoveNetwork(ctx, n.Network.ID); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, removed{ID: n.Network.ID, Name: n.Network.Name, Detached: names})
	}
}

// builtinNetwork reports whether n is one of the engine's predefined
// networks (the default bridge, host, none).
func builtinNetwork(n topology.Node) bool {
	return n.Network.Default || topology.IsReservedNetworkName(n.Network.Name) ||
		n.Network.Driver == "host" || n.Network.Driver == "null"
}

// connectRequest is the body of POST /api/networks/:id/connect.
type connectRequest struct {
	Container string   `json:"container"`
	Aliases   []string `json:"aliases"`
	IP        string   `json:"ip"`
}

// attached is the answer to connect and disconnect.
type attached struct {
	Network   string   `json:"network"`
	Container string   `json:"container"`
	Aliases   []string `json:"aliases"`
	IP        string   `json:"ip,omitempty"`
}

// validateConnect checks an attach against the graph; no engine call.
func validateConnect(g topology.Graph, netRef string, req connectRequest) (n, ct topology.Node, err error) {
	if n, err = g.NetworkByRef(netRef); err != nil {
		return n, ct, err
	}
	if ct, err = g.ContainerByRef(req.Container); err != nil {
		return n, ct, err
	}
	if err = topology.AttachableContainer(ct); err != nil {
		return n, ct, err
	}
	if err = topology.AttachableNetwork(n, len(req.Aliases) > 0 || req.IP != ""); err != nil {
		return n, ct, err
	}
	if err = topology.ValidateAliases(req.Aliases); err != nil {
		return n, ct, err
	}
	if req.IP != "" {
		if err = topology.ValidateStaticIP(g, n, ct, req.IP); err != nil {
			return n, ct, err
		}
	}
	if e, ok := g.MemberEdge(ct.ID, n.ID); ok {
		want := slices.Sorted(slices.Values(req.Aliases))
		have := slices.Sorted(slices.Values(e.Member.Aliases))
		if slices.Equal(want, have) && (req.IP == "" || req.IP == e.Member.IP) {
			return n, ct, fmt.Errorf("%w: %s is already attached to %s with these settings", topology.ErrConflict, ct.Container.Name, n.Network.Name)
		}
	}
	return n, ct, nil
}

// handleConnect serves "POST /api/networks/:id/connect" {container,
// aliases, ip}: running or stopped, and again with new settings.
func handleConnect(src LiveSource, nw Networker) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req connectRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		n, ct, err := validateConnect(src.Snapshot().Graph, c.Param("id"), req)
		if err != nil {
			return err
		}
		if err := nw.Attach(c.Request().Context(), n.Network.ID, ct.Container.ID, req.Aliases, req.IP); err != nil {
			return err
		}
		aliases := req.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		return c.JSON(http.StatusOK, attached{Network: n.Network.ID, Container: ct.Container.ID, Aliases: aliases, IP: req.IP})
	}
}

// disconnectRequest is the body of POST /api/networks/:id/disconnect.
type disconnectRequest struct {
	Container string `json:"container"`
}

// handleDisconnect serves "POST /api/networks/:id/disconnect" {container}.
func handleDisconnect(src LiveSource, nw Networker) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req disconnectRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		g := src.Snapshot().Graph
		n, err := g.NetworkByRef(c.Param("id"))
		if err != nil {
			return err
		}
		ct, err := g.ContainerByRef(req.Container)
		if err != nil {
			return err
		}
		if err := topology.AttachableNetwork(n, false); err != nil {
			return err
		}
		if _, ok := g.MemberEdge(ct.ID, n.ID); !ok {
			return fmt.Errorf("%w: %s is not attached to %s", topology.ErrConflict, ct.Container.Name, n.Network.Name)
		}
		if err := nw.Detach(c.Request().Context(), n.Network.ID, ct.Container.ID); err != nil {
			return err
		}
		return c.JSON(http.StatusOK, attached{Network: n.Network.ID, Container: ct.Container.ID, Aliases: []string{}})
	}
}

// handleReach serves "GET /api/reach?from=&to=": what the graph predicts
// about reaching to from from, with the reasons (internal/reach).
func handleReach(src LiveSource) echo.HandlerFunc {
	return func(c echo.Context) error {
		g := src.Snapshot().Graph
		from, err := g.ContainerByRef(c.QueryParam("from"))
		if err != nil {
			return err
		}
		to, err := g.ContainerByRef(c.QueryParam("to"))
		if err != nil {
			return err
		}
		p, err := reach.Explain(g, from.ID, to.ID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	}
}
