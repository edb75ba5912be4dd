package docker

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"

	"github.com/dockmap/dockmap/internal/topology"
)

// SetEndpointLinks re-makes the endpoint of a container (name or full ID)
// on one user-defined network with the given endpoint links
// ("target:alias"), every other endpoint setting kept (aliases, static
// IP, driver options): the engine updates an endpoint only by disconnect
// + connect. The container stays the same, but a running one is off that
// network for a moment and, without a static IP, may get a new address.
// If the connect fails, the old endpoint is put back.
//
// The plan that asked for it is checked first: the container must still
// be as expect says (ErrStale otherwise), and peer, when not empty, must
// still be on the network (the target of an alias added). It returns
// ErrNotFound if the container does not exist and ErrBusy if it is being
// changed.
func (c *Client) SetEndpointLinks(ctx context.Context, ref, net string, links []string, expect Expectation, peer string, progress func(Step)) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	l, info, err := c.lockContainer(ctx, "change links of", ref)
	if err != nil {
		return err
	}
	defer l.release()
	name := containerName(info)
	if err := expect.check(info); err != nil {
		return fmt.Errorf("change links of %s: %w", name, err)
	}
	if info.NetworkSettings == nil || info.NetworkSettings.Networks[net] == nil {
		return fmt.Errorf("change links of %s: %w: %s is not on %s", name, ErrStale, name, net)
	}
	if peer != "" {
		p, err := c.inspect(ctx, peer)
		if err != nil {
			return fmt.Errorf("change links of %s: %w", name, err)
		}
		if p.NetworkSettings == nil || p.NetworkSettings.Networks[net] == nil {
			return fmt.Errorf("change links of %s: %w: %s is no longer on %s", name, ErrStale, containerName(p), net)
		}
	}
	if err := c.relink(ctx, info, net, links, progress); err != nil {
		return fmt.Errorf("change links of %s: %w", name, err)
	}
	return nil
}

// relink replaces the endpoint links of the container on one network:
// the endpoint is re-made with every other setting it had. If the connect
// fails, the old endpoint is put back.
func (c *Client) relink(ctx context.Context, info container.InspectResponse, net string, links []string, progress func(Step)) error {
	old := endpointConfig(info.NetworkSettings.Networks[net], info.ID, nil)
	next := endpointConfig(info.NetworkSettings.Networks[net], info.ID, nil)
	next.Links = links
	err := c.doStep(ctx, progress, Step{Kind: "disconnect", Network: net}, func(ctx context.Context) (string, error) {
		return "off " + net + " to re-make its endpoint", c.api.NetworkDisconnect(ctx, net, info.ID, false)
	})
	if err != nil {
		return err
	}
	err = c.doStep(ctx, progress, Step{Kind: "connect", Network: net}, func(ctx context.Context) (string, error) {
		detail := "back on " + net + " with links " + strings.Join(links, ", ")
		if len(links) == 0 {
			detail = "back on " + net + " with no endpoint link"
		}
		if old.IPAMConfig == nil {
			detail += " (no static IP: the address may change)"
		}
		return detail, c.api.NetworkConnect(ctx, net, info.ID, next)
	})
	if err == nil {
		return nil
	}
	rb := c.doStep(context.WithoutCancel(ctx), progress, Step{Kind: "rollback:reconnect", Network: net}, func(ctx context.Context) (string, error) {
		return "back on " + net + " as before", c.api.NetworkConnect(ctx, net, info.ID, old)
	})
	if rb != nil {
		return fmt.Errorf("%w (rollback failed: %v)", err, rb)
	}
	return fmt.Errorf("%w (%w)", err, topology.ErrRolledBack)
}

// Unlink removes the legacy link named alias from the container from (name
// or full ID) in place, through the engine's link removal (`docker rm
// --link /from/alias`). The engine forgets the link at once, but keeps it
// in the container's stored configuration: a daemon restart brings it
// back. A link whose target was removed cannot be removed this way (the
// engine no longer knows its name): only a re-create without it can.
//
// It returns ErrNotFound if the container or the link does not exist,
// ErrInvalid for a bad alias, ErrBusy if the container is being changed.
func (c *Client) Unlink(ctx context.Context, from, alias string) error {
	if err := topology.ValidateAlias(alias); err != nil {
		return fmt.Errorf("remove link: %w", err)
	}
	if err := c.ready(ctx); err != nil {
		return err
	}
	l, info, err := c.lockContainer(ctx, "remove link", from)
	if err != nil {
		return err
	}
	defer l.release()
	name := containerName(info)
	if !slices.ContainsFunc(info.HostConfig.Links, func(lk string) bool { _, a := parseLink(lk); return a == alias }) {
		return fmt.Errorf("remove link: %w: %s has no legacy link named %q", topology.ErrNotFound, name, alias)
	}
	err = c.api.ContainerRemove(ctx, "/"+name+"/"+alias, container.RemoveOptions{RemoveLinks: true})
	return translate("remove link "+name+"/"+alias, err)
}
