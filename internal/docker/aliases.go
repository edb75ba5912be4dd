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

// inspectRecord is what one inspect told us about a container that the
// list call does not carry.
//
// volumesFrom and autoRemove come from HostConfig, which never changes for
// a container ID (a recreate makes a new ID), so they are read once per
// container. The aliases may change, but only with the endpoints: the
// engine makes a new endpoint on every connect, so key, the set of endpoint
// IDs the aliases were read under, tells when they must be read again. The
// legacy links inspect shows change when one is removed or its target
// goes, and both change the links the list shows (extra names of the
// targets), which key holds too. One inspect serves all.
type inspectRecord struct {
	volumesFrom []string
	autoRemove  bool
	links       []topology.LinkRef
	key         string
	aliases     map[string][]string // aliasNetKey → user-given aliases
	epLinks     map[string][]string // aliasNetKey → endpoint links
}

// staleKey marks aliases that must be read again whatever the endpoints
// say; aliasKey never returns it.
const staleKey = "\x00stale"

// inspectConcurrency bounds the inspects a cold start sends at once.
const inspectConcurrency = 8

// fillInspected sets what only an inspect tells on the listed containers:
// Container.VolumesFrom on all of them, and Endpoint.Aliases on those
// attached to user-defined networks (aliases need the embedded DNS, so
// containers only on the default bridge get none).
//
// Each container is inspected once, when first seen (a cold start sends at
// most inspectConcurrency at once), and again only when its endpoints
// change or forgetAliases was called for it; otherwise the cached answer is
// used, so a re-list of an idle engine makes no inspect at all.
func (c *Client) fillInspected(ctx context.Context, cs []topology.Container, ns []topology.Network) error {
	netName := make(map[string]string, len(ns))
	for _, n := range ns {
		netName[n.ID] = n.Name
	}
	type job struct {
		i     int
		key   string
		needs bool
	}
	var jobs []job
	seen := make(map[string]bool, len(cs))
	listed := listedLinks(cs)

	c.mu.Lock()
	for i := range cs {
		ct := &cs[i]
		seen[ct.ID] = true
		key, needs := aliasKey(ct, netName)
		if !needs {
			// Aliases need the embedded DNS: only the links can change.
			key = ""
		}
		key += "|" + listed[ct.Name]
		rec, ok := c.inspected[ct.ID]
		if !ok || rec.key != key {
			jobs = append(jobs, job{i, key, needs})
			continue
		}
		rec.applyTo(ct, needs)
	}
	for id := range c.inspected {
		if !seen[id] {
			delete(c.inspected, id)
		}
	}
	c.mu.Unlock()

	if len(jobs) == 0 {
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(inspectConcurrency)
	recs := make([]*inspectRecord, len(jobs))
	for k, j := range jobs {
		g.Go(func() error {
			rec, err := c.inspectRecord(gctx, &cs[j.i])
			if errors.Is(err, topology.ErrNotFound) {
				return nil // removed since the list: the next re-list drops it
			}
			if err != nil {
				return err
			}
			rec.key = j.key
			recs[k] = &rec
			return nil
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
		c.inspected[cs[j.i].ID] = *recs[k]
		recs[k].applyTo(&cs[j.i], j.needs)
	}
	return nil
}

// applyTo copies the record onto a listed container; the aliases only if
// the container is on a user-defined network.
func (r inspectRecord) applyTo(ct *topology.Container, aliases bool) {
	ct.VolumesFrom = r.volumesFrom
	ct.AutoRemove = r.autoRemove
	ct.Links = r.links
	if !aliases {
		return
	}
	for i := range ct.Endpoints {
		k := aliasNetKey(ct.Endpoints[i].NetworkID, ct.Endpoints[i].NetworkName)
		ct.Endpoints[i].Aliases, ct.Endpoints[i].Links = r.aliases[k], r.epLinks[k]
	}
}

// forgetAliases makes the next re-list read a container's aliases again
// (aliases.go): a stopped container keeps an empty endpoint ID across
// disconnect and connect, so the cache key would not notice the change.
// What never changes (its --volumes-from) stays cached.
func (c *Client) forgetAliases(containerID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if topology.IsFullID(containerID) {
		if rec, ok := c.inspected[containerID]; ok {
			rec.key = staleKey
			c.inspected[containerID] = rec
		}
		return
	}
	// A name: the cache is keyed by full ID, so every container's aliases
	// are read again (only those on user-defined networks need it).
	for id, rec := range c.inspected {
		rec.key = staleKey
		c.inspected[id] = rec
	}
}

// listedLinks returns, by parent name, the aliases of the legacy links the
// list shows (a link is an extra name "<parent>/<alias>" of its target),
// sorted and joined, so a link removed or broken changes its parent's
// cache key.
func listedLinks(cs []topology.Container) map[string]string {
	by := make(map[string][]string)
	for _, ct := range cs {
		for _, n := range ct.Names {
			if parent, alias, ok := strings.Cut(n, "/"); ok {
				by[parent] = append(by[parent], alias)
			}
		}
	}
	out := make(map[string]string, len(by))
	for p, as := range by {
		slices.Sort(as)
		out[p] = strings.Join(as, ",")
	}
	return out
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

// inspectRecord inspects a container for its --volumes-from and the
// user-given aliases of each endpoint. Engines answering API < 1.45 add the
// short ID and the hostname to Aliases themselves
// (research/docker-api-semantics.md §3.1); those are dropped.
func (c *Client) inspectRecord(ctx context.Context, ct *topology.Container) (inspectRecord, error) {
	info, err := c.api.ContainerInspect(ctx, ct.ID)
	if err != nil {
		return inspectRecord{}, translate("inspect container "+ct.Name, err)
	}
	rec := inspectRecord{aliases: make(map[string][]string), epLinks: make(map[string][]string)}
	if info.ContainerJSONBase != nil && info.HostConfig != nil {
		if len(info.HostConfig.VolumesFrom) > 0 {
			rec.volumesFrom = slices.Clone(info.HostConfig.VolumesFrom)
		}
		rec.autoRemove = info.HostConfig.AutoRemove
		for _, l := range info.HostConfig.Links {
			target, alias := parseLink(l)
			rec.links = append(rec.links, topology.LinkRef{Target: target, Alias: alias})
		}
		slices.SortFunc(rec.links, func(a, b topology.LinkRef) int { return strings.Compare(a.Alias, b.Alias) })
	}
	auto := map[string]bool{shortID(ct.ID): true}
	if info.Config != nil {
		auto[info.Config.Hostname] = true
	}
	if info.NetworkSettings == nil {
		return rec, nil
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
		rec.aliases[aliasNetKey(ep.NetworkID, name)] = as
		if len(ep.Links) > 0 {
			rec.epLinks[aliasNetKey(ep.NetworkID, name)] = slices.Sorted(slices.Values(ep.Links))
		}
	}
	return rec, nil
}

// aliasNetKey keys aliases by network ID; a container that never ran has
// no network IDs yet (every endpoint says ""), so its are keyed by name.
func aliasNetKey(networkID, networkName string) string {
	if networkID == "" {
		return "name:" + networkName
	}
	return networkID
}
