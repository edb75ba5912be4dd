package docker

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/dockmap/dockmap/internal/topology"
)

// Leftover is a container left half-way by an interrupted recreate: the
// old container, renamed "<name>-dockmap-old-<short id>", and the new one
// that may hold the original name.
type Leftover struct {
	OldID   string `json:"oldID"`
	OldName string `json:"oldName"`
	// OriginalName is the name the old container had before the recreate.
	OriginalName string `json:"originalName"`
	// NewID is the container that now holds OriginalName, or "" if none.
	NewID      string `json:"newID"`
	NewRunning bool   `json:"newRunning"`
}

// leftoverName matches the name a recreate gives the old container.
var leftoverName = regexp.MustCompile(`^(.+)` + regexp.QuoteMeta(oldMarker) + `[0-9a-f]{12}$`)

// Leftovers finds the containers left by interrupted recreates (dockmap
// killed, engine restarted), in name order, with one list call. Recreates
// this Client is running now are not leftovers and are not listed.
func (c *Client) Leftovers(ctx context.Context) ([]Leftover, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	cs, err := c.api.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return nil, translate("list containers", err)
	}
	byName := make(map[string]container.Summary, len(cs))
	for _, s := range cs {
		byName[primaryName(s.Names)] = s
	}
	c.rec.mu.Lock()
	busy := func(id string) bool { _, b := c.rec.busy[id]; return b }
	var out []Leftover
	for _, s := range cs {
		name := primaryName(s.Names)
		m := leftoverName.FindStringSubmatch(name)
		if m == nil || busy(s.ID) {
			continue
		}
		lo := Leftover{OldID: s.ID, OldName: name, OriginalName: m[1]}
		if nw, ok := byName[m[1]]; ok {
			lo.NewID, lo.NewRunning = nw.ID, nw.State == container.StateRunning
		}
		out = append(out, lo)
	}
	c.rec.mu.Unlock()
	slices.SortFunc(out, func(a, b Leftover) int { return strings.Compare(a.OldName, b.OldName) })
	return out, nil
}

// lockLeftover locks a leftover and its original name, and returns the
// old container's inspect and its original name. It returns ErrInvalid if
// the container is not a leftover.
func (c *Client) lockLeftover(ctx context.Context, op, oldID string) (*lease, container.InspectResponse, string, error) {
	l, info, err := c.lockContainer(ctx, op, oldID)
	if err != nil {
		return nil, info, "", err
	}
	m := leftoverName.FindStringSubmatch(containerName(info))
	if m == nil {
		l.release()
		return nil, info, "", fmt.Errorf("%s %s: %w: %s is not left over from a recreate", op, oldID, topology.ErrInvalid, containerName(info))
	}
	if err := l.add(m[1]); err != nil {
		l.release()
		return nil, info, "", fmt.Errorf("%s %s: %w", op, oldID, err)
	}
	return l, info, m[1], nil
}

// RollbackLeftover puts the old container of an interrupted recreate back:
// it removes the new container holding the original name, if any (without
// its volumes), renames the old one back, reconnects it to the networks it
// was taken off, and starts it.
//
// The networks come from the new container, which was given the old
// one's; without a new container the old one gets its primary network
// back (its aliases and static IP there, and any other network, are then
// lost: the interrupted recreate held them only in memory).
//
// It returns ErrInvalid if oldID is not a leftover, ErrNotFound if it does
// not exist, ErrBusy if it is being changed.
func (c *Client) RollbackLeftover(ctx context.Context, oldID string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	l, old, orig, err := c.lockLeftover(ctx, "roll back", oldID)
	if err != nil {
		return err
	}
	defer l.release()
	fail := func(err error) error { return fmt.Errorf("roll back %s: %w", orig, err) }

	var want map[string]*network.EndpointSettings
	nw, err := c.inspect(ctx, orig)
	switch {
	case errors.Is(err, topology.ErrNotFound):
	case err != nil:
		return fail(err)
	default:
		_, want, _ = planEndpoints(nw, nil)
		if _, err := c.removeNew(ctx, nw.ID, old); err != nil {
			return fail(translate("remove new container", err))
		}
	}
	if err := c.api.ContainerRename(ctx, old.ID, orig); err != nil {
		return fail(translate("rename", err))
	}
	var have map[string]*network.EndpointSettings
	if old.NetworkSettings != nil {
		have = old.NetworkSettings.Networks
	}
	mode := old.HostConfig.NetworkMode
	if len(want) == 0 && len(have) == 0 {
		switch {
		case mode.IsDefault() || mode.IsBridge():
			want = map[string]*network.EndpointSettings{"bridge": {}}
		case mode.IsUserDefined():
			want = map[string]*network.EndpointSettings{string(mode): {}}
		}
	}
	for _, n := range sortedKeys(want) {
		if have[n] != nil {
			continue
		}
		if err := c.api.NetworkConnect(ctx, n, old.ID, want[n]); err != nil {
			return fail(translate("reconnect "+n, err))
		}
	}
	if old.State == nil || !old.State.Running {
		if err := c.api.ContainerStart(ctx, old.ID, container.StartOptions{}); err != nil {
			return fail(translate("start", err))
		}
	}
	return nil
}

// FinishLeftover completes an interrupted recreate by removing the old
// container (without its volumes). It does so only when a new container
// holds the original name and runs; otherwise it returns ErrConflict (roll
// back instead). It returns ErrInvalid if oldID is not a leftover.
func (c *Client) FinishLeftover(ctx context.Context, oldID string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	l, old, orig, err := c.lockLeftover(ctx, "finish", oldID)
	if err != nil {
		return err
	}
	defer l.release()
	nw, err := c.inspect(ctx, orig)
	switch {
	case errors.Is(err, topology.ErrNotFound):
		return fmt.Errorf("finish %s: %w: no container holds the name %s: roll back instead", orig, topology.ErrConflict, orig)
	case err != nil:
		return fmt.Errorf("finish %s: %w", orig, err)
	case nw.State == nil || !nw.State.Running:
		return fmt.Errorf("finish %s: %w: the new %s is not running: roll back instead, or start it first", orig, topology.ErrConflict, orig)
	}
	if err := c.api.ContainerRemove(ctx, old.ID, container.RemoveOptions{}); err != nil {
		return translate("finish "+orig+": remove old container", err)
	}
	return nil
}
