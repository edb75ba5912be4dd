package plan_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// Fuzz targets for the link actions: AddLink, RemoveLink, RepairLink.

func FuzzAddLink(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "db", "db2", true)
		f.Add("web", s, "db2", true)
		f.Add("web", "db", s, true)
	}
	f.Add("client", "db", "link", true)
	f.Add("hosty", "db", "x1", true)
	f.Add("sidecar", "db", "x1", true)
	f.Add("db", "client", "cl2", true)
	f.Add("db", "client", "cl2", false)
	f.Add("client", "frozen", "fz", true)
	f.Add("legacy", "db", "olddb", true)
	f.Add("web", "db", "dbal", true)
	f.Add("web", "db", "stale", true)
	f.Add("temp", "db", "x1", true)
	f.Add("cache-dockmap-old-0123456789ab", "db", "x1", true)
	f.Add("client", "sidecar", "x1", true)
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, fromRef, toRef, alias string, deps bool) {
		req := plan.LinkRequest{From: fromRef, To: toRef, Alias: alias, RecreateDependents: &deps}
		p := checkPlanned(t, g, "AddLink", func() (*plan.Plan, error) { return pl.AddLink(g, req) })
		if p == nil {
			return
		}
		checkSubject(t, g, "AddLink", p)
		from, _ := containerIn(g, p.Subject.ID)
		var to plan.Ref
		switch p.Method {
		case plan.MethodRecreate:
			ch := p.Recreates[0].Change
			if len(ch.AddLinks) != 1 || ch.AddLinks[0].Alias != alias || !dropsBrokenOnly(g, p.Subject.ID, ch.RemoveLinks) || len(ch.AddMounts)+len(ch.AddVolumesFrom) != 0 {
				t.Fatalf("AddLink: change %+v, want the one link %s", ch, alias)
			}
			to = ch.AddLinks[0].Target
			if tn, _ := containerIn(g, to.ID); tn.Container == nil || !tn.Container.Running() {
				t.Errorf("legacy link to %s accepted, but it is not running", to.Name)
			}
		case plan.MethodEndpointAlias:
			if len(p.Endpoints) != 1 || p.Endpoints[0].Peer == nil {
				t.Fatalf("AddLink: endpoints %+v, want one with its peer", p.Endpoints)
			}
			ec := p.Endpoints[0]
			to = *ec.Peer
			n, ok := networkIn(g, ec.Network.ID)
			if !ok || n.Network.Predefined() {
				t.Fatalf("AddLink: endpoint alias on %+v, which is no user-defined network of the graph", ec.Network)
			}
			_, m1 := g.MemberEdge(from.ID, n.ID)
			_, m2 := g.MemberEdge(topology.ContainerNodeID(to.ID), n.ID)
			if !m1 || !m2 {
				t.Errorf("AddLink: endpoint alias on %s, which %s and %s do not share", n.Network.Name, from.Label, to.Name)
			}
			if !slices.Contains(ec.Links, to.Name+":"+alias) {
				t.Errorf("AddLink: endpoint links %v, want %s:%s among them", ec.Links, to.Name, alias)
			}
			if n := len(slices.DeleteFunc(slices.Clone(ec.Links), func(l string) bool { return linkAlias(l) != alias })); n != 1 {
				t.Errorf("AddLink: endpoint links %v name %s %d times, want once", ec.Links, alias, n)
			}
		default:
			t.Fatalf("AddLink: method %s", p.Method)
		}
		if _, ok := containerIn(g, to.ID); !ok || to.ID == p.Subject.ID {
			t.Fatalf("link %q → %q accepted, but its ends are not two containers of the graph", fromRef, toRef)
		}
		checkName(t, "link alias", alias)
		if hasAlias(g, from, alias) {
			t.Errorf("AddLink: %s already has a link named %s, live, broken or on an endpoint", from.Label, alias)
		}
		if strings.Contains(alias, ".") {
			t.Errorf("link alias %q accepted with a dot (SEC-15)", alias)
		}
		if m := from.Container.NetworkMode; m == "host" || m == "none" || strings.HasPrefix(m, "container:") {
			t.Errorf("link from %s accepted in network mode %q", from.Container.Name, m)
		}
	})
}

func FuzzRemoveLink(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "link", true)
		f.Add("legacy", s, true)
	}
	for _, c := range [][2]string{{"client", "link"}, {"legacy", "link2"}, {"legacy", "olddb"}, {"legacy", "gone"},
		{"web", "dbal"}, {"web", "stale"}, {"frozen", "cl"}, {"web", "api"}} {
		f.Add(c[0], c[1], true)
		f.Add(c[0], c[1], false)
	}
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, fromRef, alias string, deps bool) {
		req := plan.UnlinkRequest{From: fromRef, Alias: alias, RecreateDependents: &deps}
		p := checkPlanned(t, g, "RemoveLink", func() (*plan.Plan, error) { return pl.RemoveLink(g, req) })
		if p == nil {
			return
		}
		checkSubject(t, g, "RemoveLink", p)
		checkName(t, "link alias", alias)
		from, _ := containerIn(g, p.Subject.ID)
		switch p.Method {
		case plan.MethodRecreate:
			if ch := p.Recreates[0].Change; !slices.Contains(ch.RemoveLinks, alias) || !dropsBrokenOnly(g, p.Subject.ID, ch.RemoveLinks) || len(ch.AddLinks)+len(ch.AddMounts)+len(ch.AddVolumesFrom) != 0 {
				t.Errorf("RemoveLink: change %+v, want only the link %s dropped", ch, alias)
			}
			if _, ok := g.Edge(topology.EdgeID("bl:" + p.Subject.ID + ":" + alias)); !ok {
				t.Errorf("RemoveLink re-creates %s, but its link %s is not broken", from.Label, alias)
			}
		case plan.MethodInPlace:
			if p.Unlink == "" && len(p.Endpoints) == 0 {
				t.Fatalf("RemoveLink: in place with neither an unlink nor an endpoint change: %+v", p)
			}
			if p.Unlink != "" && (p.Unlink != alias || !hasLink(g, from, alias, topology.EdgeLink, "")) {
				t.Errorf("RemoveLink unlinks %q, but %s has no legacy link %s", p.Unlink, from.Label, alias)
			}
			for _, ec := range p.Endpoints {
				m, ok := g.MemberEdge(from.ID, topology.NetworkNodeID(ec.Network.ID))
				if !ok || ec.Container != p.Subject {
					t.Fatalf("RemoveLink: endpoint change %+v, but %s is not on that network", ec, from.Label)
				}
				if !slices.ContainsFunc(m.Member.Links, func(l string) bool { return linkAlias(l) == alias }) {
					t.Errorf("RemoveLink: %s has no endpoint link %s on %s", from.Label, alias, ec.Network.Name)
				}
				if slices.ContainsFunc(ec.Links, func(l string) bool { return linkAlias(l) == alias }) {
					t.Errorf("RemoveLink: endpoint links after the change %v still hold %s", ec.Links, alias)
				}
				if len(ec.Links) != len(m.Member.Links)-1 {
					t.Errorf("RemoveLink: endpoint links %v after the change, from %v: want only %s gone", ec.Links, m.Member.Links, alias)
				}
			}
		default:
			t.Fatalf("RemoveLink: method %s", p.Method)
		}
	})
}

// hasLink reports whether container c has a link edge of kind with alias
// (on network, "" for a legacy link).
func hasLink(g topology.Graph, c topology.Node, alias string, kind topology.EdgeKind, network string) bool {
	for _, e := range g.EdgesOf(c.ID) {
		if e.From == c.ID && e.Kind == kind && e.Link != nil && e.Link.Alias == alias && e.Link.Network == network {
			return true
		}
	}
	return false
}

// hasAlias reports whether container c has a link named alias: a legacy
// one (live or broken) or one kept by one of its endpoints, whether its
// target still exists or not.
func hasAlias(g topology.Graph, c topology.Node, alias string) bool {
	for _, e := range g.EdgesOf(c.ID) {
		switch {
		case e.From != c.ID:
		case (e.Kind == topology.EdgeLink || e.Kind == topology.EdgeBrokenLink) && e.Link != nil && e.Link.Alias == alias:
			return true
		case e.Kind == topology.EdgeMember && e.Member != nil && slices.ContainsFunc(e.Member.Links, func(l string) bool { return linkAlias(l) == alias }):
			return true
		}
	}
	return false
}

// linkAlias is the alias of an endpoint link "target:alias" (or "target").
func linkAlias(l string) string {
	target, alias, ok := strings.Cut(l, ":")
	if !ok {
		return strings.TrimPrefix(target, "/")
	}
	return alias
}

func FuzzRepairLink(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "olddb", true)
		f.Add("legacy", s, true)
	}
	f.Add("legacy", "olddb", false)
	f.Add("legacy", "gone", true)
	f.Add("legacy", "link2", true)
	f.Add("backup2", "self", true)
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, fromRef, alias string, deps bool) {
		req := plan.RepairRequest{From: fromRef, Alias: alias, RecreateDependents: &deps}
		p := checkPlanned(t, g, "RepairLink", func() (*plan.Plan, error) { return pl.RepairLink(g, req) })
		if p == nil {
			return
		}
		checkSubject(t, g, "RepairLink", p)
		if p.Method != plan.MethodRecreate {
			t.Fatalf("RepairLink: method %s, want a re-create", p.Method)
		}
		e, ok := g.Edge(topology.EdgeID("bl:" + p.Subject.ID + ":" + alias))
		if !ok {
			t.Fatalf("RepairLink accepted for %s's link %q, which is not broken", p.Subject.Name, alias)
		}
		ch := p.Recreates[0].Change
		if !slices.Contains(ch.RemoveLinks, alias) || !dropsBrokenOnly(g, p.Subject.ID, ch.RemoveLinks) || len(ch.AddLinks) != 1 || ch.AddLinks[0].Alias != alias {
			t.Fatalf("RepairLink: change %+v, want the link %s dropped and added again", ch, alias)
		}
		to, ok := containerIn(g, ch.AddLinks[0].Target.ID)
		if ok && to.Container.ID == p.Subject.ID {
			t.Errorf("RepairLink re-points %s of %s at itself", alias, p.Subject.Name)
		}
		if !ok || to.Container.Name != plan.RepairTarget(e.Link.Target) || !to.Container.Running() {
			t.Errorf("RepairLink re-points %s at %+v, want the running container named %s", alias, ch.AddLinks[0].Target, plan.RepairTarget(e.Link.Target))
		}
	})
}
