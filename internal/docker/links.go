package docker

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/dockmap/dockmap/internal/topology"
)

// Link methods, as LinkResult.Method says.
const (
	// LinkByRecreate is a legacy link on the default bridge: the
	// container was re-created with it (a link cannot be added otherwise).
	LinkByRecreate = "recreate"
	// LinkByEndpointAlias is an alias on the endpoint of a user-defined
	// network, added by disconnect + connect: same container, no recreate.
	LinkByEndpointAlias = "endpoint-alias"
)

// LinkResult says how AddLink made the link.
type LinkResult struct {
	// Method is LinkByRecreate or LinkByEndpointAlias.
	Method string
	// ContainerID is the linking container's ID: a new one after a
	// recreate, the same one for an endpoint alias.
	ContainerID string
	// Network is the network the link lives on ("bridge" for a legacy
	// link).
	Network string
}

// AddLink makes the container to reachable from the container from under
// the name alias (containers named by name or full ID).
//
// When from is on the default bridge and to is too, that is a legacy link,
// and from is re-created with it (see Recreate: progress gets its steps).
// When from and to share a user-defined network, the alias is added to
// from's endpoint there by disconnect + connect with every other endpoint
// setting kept (aliases, static IP); the container stays the same, but a
// running one is off that network for a moment and, without a static IP,
// may get a new address.
//
// It returns ErrInvalid for a bad alias, a link to itself, or containers
// that share no network where a link can live; ErrNotFound if a container
// does not exist; ErrBusy if from is already being changed; ErrConflict if
// from already has a link named alias.
func (c *Client) AddLink(ctx context.Context, from, to, alias string, progress func(Step)) (LinkResult, error) {
	if err := topology.ValidateAlias(alias); err != nil {
		return LinkResult{}, fmt.Errorf("add link: %w", err)
	}
	if from == "" || to == "" {
		return LinkResult{}, fmt.Errorf("add link: %w: a link needs a source and a target container", topology.ErrInvalid)
	}
	if err := c.ready(ctx); err != nil {
		return LinkResult{}, err
	}
	l, info, err := c.lockContainer(ctx, "add link", from)
	if err != nil {
		return LinkResult{}, err
	}
	defer l.release()
	name := containerName(info)
	target, err := c.inspect(ctx, to)
	if err != nil {
		return LinkResult{}, fmt.Errorf("add link %s → %s: %w", name, to, err)
	}
	toName := containerName(target)
	if target.ID == info.ID {
		return LinkResult{}, fmt.Errorf("add link: %w: %s cannot link to itself", topology.ErrInvalid, name)
	}
	mode := info.HostConfig.NetworkMode
	shared := sharedNetwork(info, target)
	onBridge := func(ct container.InspectResponse) bool {
		return ct.NetworkSettings != nil && ct.NetworkSettings.Networks["bridge"] != nil
	}

	legacy := (mode.IsDefault() || mode.IsBridge()) && (onBridge(target) || target.HostConfig.NetworkMode.IsContainer())
	switch {
	case legacy:
		newID, err := c.recreate(ctx, info, RecreateChange{AddLinks: []Link{{Target: toName, Alias: alias}}}, progress)
		res := LinkResult{Method: LinkByRecreate, ContainerID: newID, Network: "bridge"}
		if err != nil {
			return res, fmt.Errorf("add link %s → %s: %w", name, toName, err)
		}
		return res, nil
	case mode.IsContainer() || mode.IsHost() || mode.IsNone():
		return LinkResult{}, fmt.Errorf("add link: %w", legacyLinksAllowed(name, mode))
	case shared == "":
		return LinkResult{}, fmt.Errorf("add link: %w: %s and %s share no network; connect them to one user-defined network first", topology.ErrInvalid, name, toName)
	}

	ep := info.NetworkSettings.Networks[shared]
	for _, lk := range ep.Links {
		if _, a := parseLink(lk); a == alias {
			return LinkResult{}, fmt.Errorf("add link: %w: %s already has a link named %q on %s", topology.ErrConflict, name, alias, shared)
		}
	}
	links := append(slices.Clone(ep.Links), toName+":"+alias)
	if err := c.relink(ctx, info, shared, links, progress); err != nil {
		return LinkResult{}, fmt.Errorf("add link %s → %s: %w", name, toName, err)
	}
	return LinkResult{Method: LinkByEndpointAlias, ContainerID: info.ID, Network: shared}, nil
}

// sharedNetwork returns a user-defined network both containers are on:
// from's primary network if it is one, else the first by name.
func sharedNetwork(from, to container.InspectResponse) string {
	if from.NetworkSettings == nil || to.NetworkSettings == nil {
		return ""
	}
	onTo := func(n string, ep *network.EndpointSettings) bool {
		for tn, tep := range to.NetworkSettings.Networks {
			if tn == n || (ep != nil && tep != nil && ep.NetworkID != "" && ep.NetworkID == tep.NetworkID) {
				return true
			}
		}
		return false
	}
	var found []string
	for n, ep := range from.NetworkSettings.Networks {
		if UserDefined(n) && onTo(n, ep) {
			if n == string(from.HostConfig.NetworkMode) {
				return n
			}
			found = append(found, n)
		}
	}
	slices.Sort(found)
	if len(found) == 0 {
		return ""
	}
	return found[0]
}

// relink replaces the endpoint links of the container on one network:
// the engine updates an endpoint only by disconnect + connect, so the
// endpoint is re-made with every other setting it had. If the connect
// fails, the old endpoint is put back.
func (c *Client) relink(ctx context.Context, info container.InspectResponse, net string, links []string, progress func(Step)) error {
	old := endpointConfig(info.NetworkSettings.Networks[net], info.ID, nil)
	next := endpointConfig(info.NetworkSettings.Networks[net], info.ID, nil)
	next.Links = links
	err := c.doStep(ctx, progress, "disconnect "+net, func(ctx context.Context) (string, error) {
		return "off " + net + " to re-make its endpoint", c.api.NetworkDisconnect(ctx, net, info.ID, false)
	})
	if err != nil {
		return err
	}
	err = c.doStep(ctx, progress, "connect "+net, func(ctx context.Context) (string, error) {
		detail := "back on " + net + " with links " + strings.Join(links, ", ")
		if old.IPAMConfig == nil {
			detail += " (no static IP: the address may change)"
		}
		return detail, c.api.NetworkConnect(ctx, net, info.ID, next)
	})
	if err == nil {
		return nil
	}
	rb := c.doStep(context.WithoutCancel(ctx), progress, "rollback: reconnect "+net, func(ctx context.Context) (string, error) {
		return "back on " + net + " as before", c.api.NetworkConnect(ctx, net, info.ID, old)
	})
	if rb != nil {
		return fmt.Errorf("%w (rollback failed: %v)", err, rb)
	}
	return fmt.Errorf("%w (rolled back)", err)
}

// RemoveLink removes the link named alias from the container from (name
// or full ID), in place: a legacy link through the engine's link removal
// (`docker rm --link`), an endpoint alias by disconnect + connect without
// it on every user-defined network that has it.
//
// The engine forgets a removed legacy link at once, but keeps it in the
// container's stored configuration: a daemon restart brings it back.
//
// It returns ErrNotFound if the container or the link does not exist,
// ErrInvalid for a bad alias, ErrBusy if the container is being changed.
func (c *Client) RemoveLink(ctx context.Context, from, alias string) error {
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
	found := false
	for _, lk := range info.HostConfig.Links {
		if _, a := parseLink(lk); a == alias {
			found = true
			break
		}
	}
	if found {
		err := c.api.ContainerRemove(ctx, "/"+name+"/"+alias, container.RemoveOptions{RemoveLinks: true})
		if err != nil {
			return translate("remove link "+name+"/"+alias, err)
		}
	}
	if info.NetworkSettings != nil {
		for _, n := range sortedKeys(info.NetworkSettings.Networks) {
			ep := info.NetworkSettings.Networks[n]
			if ep == nil {
				continue
			}
			keep := slices.DeleteFunc(slices.Clone(ep.Links), func(lk string) bool {
				_, a := parseLink(lk)
				return a == alias
			})
			if len(keep) == len(ep.Links) {
				continue
			}
			found = true
			if err := c.relink(ctx, info, n, keep, nil); err != nil {
				return fmt.Errorf("remove link %s/%s: %w", name, alias, err)
			}
		}
	}
	if !found {
		return fmt.Errorf("remove link: %w: %s has no link named %q", topology.ErrNotFound, name, alias)
	}
	return nil
}

// doStep reports a step as it starts, runs the test hook and fn, and
// reports how it ended: done (rolled-back for an undo step, whose name
// starts with "rollback: ") or failed. fn's error is translated with the
// step's name.
func (c *Client) doStep(ctx context.Context, progress func(Step), name string, fn func(context.Context) (string, error)) error {
	if progress == nil {
		progress = func(Step) {}
	}
	progress(Step{Name: name, State: StepRunning})
	detail, err := "", c.runHook(name)
	if err == nil {
		detail, err = fn(ctx)
	}
	if err != nil {
		err = translate(name, err)
		progress(Step{Name: name, State: StepFailed, Detail: err.Error()})
		return err
	}
	done := StepDone
	if strings.HasPrefix(name, "rollback: ") {
		done = StepRolledBack
	}
	progress(Step{Name: name, State: done, Detail: detail})
	return nil
}
