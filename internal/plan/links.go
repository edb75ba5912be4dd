package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// LinkRequest asks that container From reach container To under the name
// Alias (POST /api/links, GET /api/links/plan).
type LinkRequest struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Alias string `json:"alias"`
	// RecreateDependents, when a re-create is needed, re-creates the
	// containers that would break with it too; nil means yes.
	RecreateDependents *bool `json:"recreateDependents"`
}

// UnlinkRequest asks that container From lose its link Alias (DELETE
// /api/links).
type UnlinkRequest struct {
	From               string `json:"from"`
	Alias              string `json:"alias"`
	RecreateDependents *bool  `json:"recreateDependents"`
}

// RepairRequest asks that the broken link Alias of container From point at
// the container that has its target's name now (POST /api/links/repair).
type RepairRequest struct {
	From               string `json:"from"`
	Alias              string `json:"alias"`
	RecreateDependents *bool  `json:"recreateDependents"`
}

func withDeps(b *bool) bool { return b == nil || *b }

// AddLink plans a link from → to as alias. Where the two share a
// user-defined network the link is an alias on from's endpoint there
// (disconnect + connect, nothing lost); otherwise, on the default bridge,
// it is a legacy link, which only a re-create of from can add.
func (p *Planner) AddLink(g topology.Graph, req LinkRequest) (*Plan, error) {
	from, err := container(g, "container the link starts from", req.From)
	if err != nil {
		return nil, err
	}
	to, err := container(g, "link target", req.To)
	if err != nil {
		return nil, err
	}
	if from.ID == to.ID {
		return nil, fmt.Errorf("%w: a container cannot link to itself", topology.ErrInvalid)
	}
	if err := topology.ValidateAlias(req.Alias); err != nil {
		return nil, err
	}
	fc, tc := from.Container, to.Container
	if !fc.OwnStack() {
		return nil, fmt.Errorf("%w: %s uses network mode %q, where links do not exist", topology.ErrInvalid, fc.Name, fc.NetworkMode)
	}
	for _, e := range liveLinks(g, from) {
		if e.Link.Alias != req.Alias {
			continue
		}
		if e.Kind == topology.EdgeBrokenLink {
			return nil, fmt.Errorf("%w: %s has a broken link named %q (to the removed %s): repair or remove it first", topology.ErrConflict, fc.Name, req.Alias, e.Link.Target)
		}
		return nil, fmt.Errorf("%w: %s already has a link named %q", topology.ErrConflict, fc.Name, req.Alias)
	}
	// An endpoint keeps a link whose target is gone, undrawn: its alias
	// is taken all the same (and RemoveLink would take both).
	for _, m := range memberships(g, from) {
		for _, l := range m.Member.Links {
			if target, a := splitLink(l); a == req.Alias {
				return nil, fmt.Errorf("%w: %s already has a link named %q on %s (to %s, which is no container now): remove it first",
					topology.ErrConflict, fc.Name, req.Alias, m.Member.NetworkName, target)
			}
		}
	}

	if n, m, ok := sharedUserNetwork(g, from, to); ok {
		links := append(slices.Clone(m.Member.Links), tc.Name+":"+req.Alias)
		peer := ref(to)
		pl := &Plan{
			Action: ActionAddLink, Method: MethodEndpointAlias, Subject: ref(from), Job: true,
			Summary: fmt.Sprintf("%s and %s share the user-defined network %s: the alias %s is added to %s's endpoint there by disconnecting %s from %s and connecting it again (no re-create, nothing lost)",
				fc.Name, tc.Name, n.Network.Name, req.Alias, fc.Name, fc.Name, n.Network.Name),
			Endpoints: []EndpointChange{{Container: ref(from), Network: ref(n), Links: links, Expect: expect(g, from), Peer: &peer}},
		}
		pl.Steps = endpointSteps(pl.Endpoints[0], fmt.Sprintf("with the link %s → %s", req.Alias, tc.Name))
		pl.Loses = endpointLosses(from, n)
		return pl.seal(), nil
	}

	// A legacy link: both on the default bridge (the target itself or the
	// container whose network it shares).
	mode := fc.NetworkMode
	if mode != "" && mode != "default" && mode != "bridge" {
		return nil, fmt.Errorf("%w: %s and %s share no network: connect them to one user-defined network first (a link there is an alias)", topology.ErrInvalid, fc.Name, tc.Name)
	}
	if !onDefaultBridge(g, from) {
		return nil, fmt.Errorf("%w: %s is not on the default bridge and shares no user-defined network with %s: connect both to one user-defined network (a link there is an alias)", topology.ErrInvalid, fc.Name, tc.Name)
	}
	if !onDefaultBridge(g, to) {
		return nil, fmt.Errorf("%w: %s is not on the default bridge, where a legacy link needs it, and shares no user-defined network with %s: connect both to one user-defined network", topology.ErrInvalid, tc.Name, fc.Name)
	}
	if err := p.canRecreate(from); err != nil {
		return nil, err
	}
	if !running(to) {
		return nil, fmt.Errorf("%w: %s is not running, and the engine links only to a running container: start %s first", topology.ErrConflict, tc.Name, tc.Name)
	}
	change := Change{AddLinks: []Link{{Target: ref(to), Alias: req.Alias}}}
	pl := p.recreatePlan(g, ActionAddLink, from, change, fmt.Sprintf("to add the link %s → %s", req.Alias, tc.Name), withDeps(req.RecreateDependents))
	pl.Summary = fmt.Sprintf("%s is on the default bridge, where a link can only be set when a container is created: dockmap re-creates %s with --link %s:%s and every setting carried over",
		fc.Name, fc.Name, tc.Name, req.Alias) + pl.Summary
	return pl.seal(), nil
}

// sharedUserNetwork returns a user-defined network both containers are on
// (from's network mode first, then by name) and from's membership there.
func sharedUserNetwork(g topology.Graph, from, to topology.Node) (topology.Node, topology.Edge, bool) {
	toNets := map[topology.NodeID]bool{}
	for _, e := range memberships(g, to) {
		toNets[e.To] = true
	}
	var found []topology.Edge
	for _, e := range memberships(g, from) {
		n, ok := g.Node(e.To)
		if !ok || n.Network == nil || n.Network.Predefined() || !toNets[e.To] {
			continue
		}
		if n.Network.Name == from.Container.NetworkMode || n.Network.ID == from.Container.NetworkMode {
			return n, e, true
		}
		found = append(found, e)
	}
	if len(found) == 0 {
		return topology.Node{}, topology.Edge{}, false
	}
	n, _ := g.Node(found[0].To)
	return n, found[0], true
}

// endpointSteps are the two steps of an endpoint change.
func endpointSteps(ec EndpointChange, what string) []Step {
	c, n := ec.Container.Name, ec.Network.Name
	return []Step{
		{ID: "endpoint.disconnect:" + n, Kind: "disconnect", Container: c, Network: n, Text: "take " + c + " off " + n},
		{ID: "endpoint.connect:" + n, Kind: "connect", Container: c, Network: n, Text: "connect " + c + " to " + n + " again " + what + ", its aliases and static IP kept"},
	}
}

// endpointLosses are what re-making an endpoint costs.
func endpointLosses(c, n topology.Node) []Loss {
	out := []Loss{{Kind: LossNetworkMoment, Of: ref(c), Text: c.Container.Name + " is off " + n.Network.Name + " for a moment"}}
	if running(c) {
		out = append(out, Loss{Kind: LossAddress, Of: ref(c), Text: c.Container.Name + " may get a new address on " + n.Network.Name + " unless it has a static one"})
	}
	return out
}

// RemoveLink plans removing the link alias of container from: a live
// legacy link goes in place (the engine's link removal), an endpoint alias
// by re-making the endpoint without it, and a broken legacy link, which
// the engine can no longer remove, by re-creating from without it.
func (p *Planner) RemoveLink(g topology.Graph, req UnlinkRequest) (*Plan, error) {
	from, err := container(g, "container", req.From)
	if err != nil {
		return nil, err
	}
	if err := topology.ValidateAlias(req.Alias); err != nil {
		return nil, err
	}
	fc := from.Container
	var legacy, broken *topology.Edge
	var endpoint []topology.Edge
	for _, e := range liveLinks(g, from) {
		switch {
		case e.Link.Alias != req.Alias:
		case e.Kind == topology.EdgeBrokenLink:
			broken = &e
		case e.Link.Network != "":
			endpoint = append(endpoint, e)
		default:
			legacy = &e
		}
	}
	// An endpoint alias whose target no longer exists is not drawn, but
	// still held by the endpoint: look there too.
	for _, m := range memberships(g, from) {
		for _, l := range m.Member.Links {
			if _, a := splitLink(l); a == req.Alias && !slices.ContainsFunc(endpoint, func(e topology.Edge) bool { return e.Link.Network == m.Member.NetworkName }) {
				endpoint = append(endpoint, topology.Edge{Kind: topology.EdgeLink, From: from.ID, Link: &topology.LinkInfo{Alias: req.Alias, Network: m.Member.NetworkName}})
			}
		}
	}
	switch {
	case broken != nil && legacy == nil:
		if err := p.canRecreate(from); err != nil {
			return nil, err
		}
		change := Change{RemoveLinks: []string{req.Alias}}
		pl := p.recreatePlan(g, ActionRemoveLink, from, change,
			fmt.Sprintf("to drop the broken link %s (to the removed %s)", req.Alias, broken.Link.Target), withDeps(req.RecreateDependents))
		pl.Summary = fmt.Sprintf("the link %s of %s points at %s, which was removed: the engine cannot remove such a link, so dockmap re-creates %s without it",
			req.Alias, fc.Name, broken.Link.Target, fc.Name) + pl.Summary
		return pl.seal(), nil
	case legacy == nil && len(endpoint) == 0:
		return nil, fmt.Errorf("%w: %s has no link named %q", topology.ErrNotFound, fc.Name, req.Alias)
	}
	pl := &Plan{Action: ActionRemoveLink, Method: MethodInPlace, Subject: ref(from)}
	var what []string
	if legacy != nil {
		target, _ := g.Node(legacy.To)
		pl.Steps = append(pl.Steps, Step{ID: "unlink", Kind: "unlink", Container: fc.Name,
			Text: fmt.Sprintf("remove the legacy link %s → %s (docker rm --link /%s/%s)", req.Alias, target.Label, fc.Name, req.Alias)})
		pl.Unlink = req.Alias
		pl.Notes = append(pl.Notes, "The engine forgets the link at once but keeps it in "+fc.Name+"'s stored settings: a restart of the Docker daemon brings it back.")
		what = append(what, "the legacy link")
	}
	slices.SortFunc(endpoint, func(a, b topology.Edge) int { return strings.Compare(a.Link.Network, b.Link.Network) })
	for _, e := range endpoint {
		n, err := g.NetworkByRef(e.Link.Network)
		if err != nil {
			return nil, err
		}
		m, _ := g.MemberEdge(from.ID, n.ID)
		var keep []string
		if m.Member != nil {
			keep = slices.DeleteFunc(slices.Clone(m.Member.Links), func(l string) bool { _, a := splitLink(l); return a == req.Alias })
		}
		ec := EndpointChange{Container: ref(from), Network: ref(n), Links: keep, Expect: expect(g, from)}
		pl.Endpoints = append(pl.Endpoints, ec)
		pl.Steps = append(pl.Steps, endpointSteps(ec, "without the alias "+req.Alias)...)
		pl.Loses = append(pl.Loses, endpointLosses(from, n)...)
		what = append(what, "the alias on "+n.Network.Name)
	}
	pl.Summary = fmt.Sprintf("%s loses %s %s in place: no re-create", fc.Name, strings.Join(what, " and "), req.Alias)
	return pl.seal(), nil
}

// RepairLink plans re-pointing the broken legacy link alias of container
// from at the container that has its target's name now: the name before
// dockmap's re-create renamed it ("db-dockmap-old-…" → "db"), or the same
// name (a container removed and run again). Only a re-create of from can
// change a legacy link.
func (p *Planner) RepairLink(g topology.Graph, req RepairRequest) (*Plan, error) {
	from, err := container(g, "container", req.From)
	if err != nil {
		return nil, err
	}
	if err := topology.ValidateAlias(req.Alias); err != nil {
		return nil, err
	}
	fc := from.Container
	e, ok := g.Edge(topology.EdgeID("bl:" + fc.ID + ":" + req.Alias))
	if !ok {
		return nil, fmt.Errorf("%w: %s has no broken link named %q", topology.ErrNotFound, fc.Name, req.Alias)
	}
	name := RepairTarget(e.Link.Target)
	to, err := g.ContainerByRef(name)
	if err != nil {
		return nil, fmt.Errorf("%w: no container is named %s now, so the link %s of %s cannot be re-pointed: remove it instead, or run a new %s first",
			topology.ErrConflict, name, req.Alias, fc.Name, name)
	}
	if to.ID == from.ID {
		return nil, fmt.Errorf("%w: the container named %s now is %s itself, and a container cannot link to itself: remove the link %s instead",
			topology.ErrConflict, name, fc.Name, req.Alias)
	}
	if !onDefaultBridge(g, to) {
		return nil, fmt.Errorf("%w: %s is not on the default bridge, where a legacy link needs it: remove the link and link them on a user-defined network instead", topology.ErrInvalid, name)
	}
	if !running(to) {
		return nil, fmt.Errorf("%w: %s is not running, and the engine links only to a running container: start %s first", topology.ErrConflict, name, name)
	}
	if err := p.canRecreate(from); err != nil {
		return nil, err
	}
	change := Change{RemoveLinks: []string{req.Alias}, AddLinks: []Link{{Target: ref(to), Alias: req.Alias}}}
	pl := p.recreatePlan(g, ActionRepairLink, from, change,
		fmt.Sprintf("to re-point the link %s from the removed %s to %s", req.Alias, e.Link.Target, name), withDeps(req.RecreateDependents))
	pl.Summary = fmt.Sprintf("the link %s of %s points at %s, which was removed: dockmap re-creates %s with the link pointing at %s",
		req.Alias, fc.Name, e.Link.Target, fc.Name, name) + pl.Summary
	return pl.seal(), nil
}

// RepairTarget is the name a broken link to target is re-pointed at: the
// name before a re-create renamed it, else the name itself.
func RepairTarget(target string) string {
	if orig, ok := topology.LeftoverName(target); ok {
		return orig
	}
	return target
}

// splitLink splits an endpoint link "target:alias" (or "target").
func splitLink(l string) (target, alias string) {
	target, alias, ok := strings.Cut(l, ":")
	target = strings.TrimPrefix(target, "/")
	if !ok {
		return target, target
	}
	return target, alias
}
