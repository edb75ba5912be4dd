package docker

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/dockmap/dockmap/internal/topology"
)

// aliasRecord is what one inspect told us about a container's aliases.
// key is the set of its endpoint IDs: the engine makes a new endpoint on
// every connect, so aliases cannot change while the key stays the same.
type aliasRecord struct {
	key     string
	aliases map[string][]string // aliasNetKey → user-given aliases
}

// inspectConcurrency bounds the inspects a cold start sends at once.
const inspectConcurrency = 8

// fillAliases sets Endpoint.Aliases on containers attached to user-defined
// networks. The list call does not carry aliases, so each such container is
// inspected once per endpoint change and the answer cached; containers only
// on the default bridge are never inspected (aliases need the embedded DNS).
func (c *Client) fillAliases(ctx context.Context, cs []topology.Container, ns []topology.Network) error {
	netName := make(map[string]string, len(ns))
	for _, n := range ns {
		netName[n.ID] = n.Name
	}
	type job struct {
		i   int
		key string
	}
	var jobs []job
	seen := make(map[string]bool, len(cs))

	c.mu.Lock()
	for i := range cs {
		ct := &cs[i]
		seen[ct.ID] = true
		key, needs := aliasKey(ct, netName)
		if !needs {
			delete(c.aliases, ct.ID)
			continue
		}
		if rec, ok := c.aliases[ct.ID]; ok && rec.key == key {
			applyAliases(ct, rec.aliases)
			continue
		}
		jobs = append(jobs, job{i, key})
	}
	for id := range c.aliases {
		if !seen[id] {
			delete(c.aliases, id)
		}
	}
	c.mu.Unlock()

	if len(jobs) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(inspectConcurrency)
	recs := make([]map[string][]string, len(jobs))
	for k, j := range jobs {
		g.Go(func() error {
			a, err := c.inspectAliases(gctx, &cs[j.i])
			if errors.Is(err, topology.ErrNotFound) {
				return nil // removed since the list: the next re-list drops it
			}
			recs[k] = a
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, j := range jobs {
		if recs[k] == nil {
			continue
		}
		c.aliases[cs[j.i].ID] = aliasRecord{key: j.key, aliases: recs[k]}
		applyAliases(&cs[j.i], recs[k])
	}
	return nil
}

func aliasKey(ct *topology.Container, netName map[string]string) (key string, needed bool) {
	ids := make([]string, 0, len(ct.Endpoints))
	for _, ep := range ct.Endpoints {
		if UserDefined(netName[ep.NetworkID]) {
			needed = true
		}
		ids = append(ids, ep.NetworkID+"="+ep.EndpointID)
	}
	sort.Strings(ids)
	return strings.Join(ids, ","), needed
}

func applyAliases(ct *topology.Container, aliases map[string][]string) {
	for i := range ct.Endpoints {
		ct.Endpoints[i].Aliases = aliases[aliasNetKey(ct.Endpoints[i].NetworkID, ct.Endpoints[i].NetworkName)]
	}
}

// inspectAliases reads the user-given aliases of each endpoint. Engines
// answering API < 1.45 add the short ID and the hostname to Aliases
// themselves (research/docker-api-semantics.md §3.1); those are dropped.
func (c *Client) inspectAliases(ctx context.Context, ct *topology.Container) (map[string][]string, error) {
	info, err := c.api.ContainerInspect(ctx, ct.ID)
	if err != nil {
		return nil, translate("inspect container "+ct.Name, err)
	}
	auto := map[string]bool{shortID(ct.ID): true}
	if info.Config != nil {
		auto[info.Config.Hostname] = true
	}
	out := make(map[string][]string)
	if info.NetworkSettings == nil {
		return out, nil
	}
	for name, ep := range info.NetworkSettings.Networks {
		if ep == nil {
			continue
		}
		var as []string
		for _, a := range ep.Aliases {
			if !auto[a] && !slices.Contains(as, a) {
				as = append(as, a)
			}
		}
		slices.Sort(as)
		out[aliasNetKey(ep.NetworkID, name)] = as
	}
	return out, nil
}

// aliasNetKey keys aliases by network ID; a container that never ran has
// no network IDs yet (every endpoint says ""), so its are keyed by name.
func aliasNetKey(networkID, networkName string) string {
	if networkID == "" {
		return "name:" + networkName
	}
	return networkID
}
