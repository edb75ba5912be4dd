package plan

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// What an action does to a container others depend on.
type effect int

const (
	effectRecreate effect = iota
	effectStop
	effectRemove
)

// Dependents returns the containers that depend on container c: those
// with a legacy link to it, those in its network namespace and those that
// took its volumes (--volumes-from), each once per way, linkers first. It
// is the one answer to "who depends on whom"; what happens to each depends
// on the action (DependentsOf says it for an action's effect).
func Dependents(g topology.Graph, c topology.Node) []Dependent {
	return dependents(g, c, effectRecreate)
}

func dependents(g topology.Graph, c topology.Node, eff effect) []Dependent {
	on := ref(c)
	var out []Dependent
	for _, e := range g.EdgesOf(c.ID) {
		if e.To != c.ID {
			continue
		}
		d, ok := g.Node(e.From)
		if !ok || d.Container == nil {
			continue
		}
		dep := Dependent{Container: ref(d), On: on}
		switch e.Kind {
		case topology.EdgeLink:
			if e.Link == nil {
				continue
			}
			dep.Kind, dep.Alias = DependsLink, e.Link.Alias
			if e.Link.Network != "" {
				// An endpoint link resolves the target's name live on the
				// network: a new container with that name is found by
				// itself.
				continue
			}
			dep.Breaks = true
			switch eff {
			case effectRecreate:
				dep.Text = fmt.Sprintf("%s reaches %s as %s through a legacy link, which holds on to the old container: once it goes, %s cannot start and nothing runs in it (probes included) until it is re-created too",
					d.Container.Name, on.Name, dep.Alias, d.Container.Name)
			case effectStop:
				dep.Text = fmt.Sprintf("%s reaches %s as %s through a legacy link: while %s is stopped, %s cannot start and nothing runs in it (probes included)",
					d.Container.Name, on.Name, dep.Alias, on.Name, d.Container.Name)
			case effectRemove:
				dep.Text = fmt.Sprintf("%s reaches %s as %s through a legacy link: the link breaks for good, and %s cannot start until the link is repaired or removed",
					d.Container.Name, on.Name, dep.Alias, d.Container.Name)
			}
		case topology.EdgeNetNS:
			dep.Kind, dep.Breaks = DependsNetNS, true
			switch eff {
			case effectStop:
				dep.Text = fmt.Sprintf("%s shares the network stack of %s: it has no network while %s is stopped", d.Container.Name, on.Name, on.Name)
			default:
				dep.Text = fmt.Sprintf("%s shares the network stack of %s: it loses its network when the old %s goes, until it is re-created too", d.Container.Name, on.Name, on.Name)
			}
		case topology.EdgeVolumesFrom:
			if eff == effectStop {
				continue // the mounts it took stay whatever the donor does
			}
			dep.Kind = DependsVolumesFrom
			byName := e.VolumesFrom != nil && e.VolumesFrom.Ref == on.Name
			switch {
			case eff == effectRecreate && byName:
				dep.Text = fmt.Sprintf("%s took the volumes of %s by name: it keeps its mounts, and the new %s keeps the name", d.Container.Name, on.Name, on.Name)
			case eff == effectRecreate:
				dep.Breaks = true
				dep.Text = fmt.Sprintf("%s took the volumes of %s by its ID: it keeps its mounts, but can no longer be re-created once that ID is gone, until it is re-created too", d.Container.Name, on.Name)
			default:
				dep.Text = fmt.Sprintf("%s took the volumes of %s: it keeps its mounts (the volumes stay), but cannot be re-created while %s does not exist", d.Container.Name, on.Name, on.Name)
			}
		default:
			continue
		}
		out = append(out, dep)
	}
	order := map[string]int{DependsLink: 0, DependsNetNS: 1, DependsVolumesFrom: 2}
	slices.SortFunc(out, func(a, b Dependent) int {
		return cmp.Or(cmp.Compare(order[a.Kind], order[b.Kind]), strings.Compare(a.Container.Name, b.Container.Name), strings.Compare(a.Alias, b.Alias))
	})
	return out
}

// recreateSet works out what re-creating subject (with change) takes: the
// containers to re-create, in an order where each comes after every one it
// depends on, and the dependents, of which those that break and are not
// re-created (withDeps false, or they cannot be) are the plan's breaks. A
// dependency cycle cannot be kept whole: the link back to a container
// re-created earlier breaks, and says so.
func recreateSet(g topology.Graph, subject topology.Node, change Change, why string, withDeps bool) (rs []Recreate, deps, breaks []Dependent) {
	in := map[string]topology.Node{subject.Container.ID: subject}
	// dependsOn[d] lists the set members d depends on, as found.
	dependsOn := map[string][]Dependent{}
	queue := []topology.Node{subject}
	seen := map[string]bool{}
	for len(queue) > 0 {
		x := queue[0]
		queue = queue[1:]
		for _, d := range dependents(g, x, effectRecreate) {
			key := d.Container.ID + "|" + d.On.ID + "|" + d.Kind + "|" + d.Alias
			if seen[key] {
				continue
			}
			seen[key] = true
			deps = append(deps, d)
			if !d.Breaks {
				continue
			}
			if !withDeps {
				breaks = append(breaks, d)
				continue
			}
			node, _ := g.Node(topology.ContainerNodeID(d.Container.ID))
			if err := canRecreate(node); err != nil {
				d.Text += " (and dockmap cannot re-create it: " + strings.TrimPrefix(err.Error(), "invalid input: ") + ")"
				d.Text = strings.TrimPrefix(d.Text, "conflict: ")
				breaks = append(breaks, d)
				continue
			}
			dependsOn[d.Container.ID] = append(dependsOn[d.Container.ID], d)
			if _, ok := in[d.Container.ID]; !ok {
				in[d.Container.ID] = node
				queue = append(queue, node)
			}
		}
	}

	// Order the set: the subject first, then each container once all it
	// depends on are placed (ties by name). When none is ready, what is
	// left hangs on a cycle: one of its members goes next (cycleEntry),
	// and its link back to a member placed after it breaks.
	placed := map[string]bool{}
	order := []string{subject.Container.ID}
	placed[subject.Container.ID] = true
	rest := slices.Collect(maps.Keys(in))
	slices.SortFunc(rest, func(a, b string) int { return strings.Compare(in[a].Container.Name, in[b].Container.Name) })
	for len(order) < len(in) {
		progress := false
		for _, id := range rest {
			if placed[id] {
				continue
			}
			ready := true
			for _, d := range dependsOn[id] {
				if !placed[d.On.ID] {
					ready = false
					break
				}
			}
			if ready {
				placed[id], order, progress = true, append(order, id), true
			}
		}
		if !progress {
			id := cycleEntry(rest, placed, dependsOn)
			placed[id], order = true, append(order, id)
		}
	}
	pos := map[string]int{}
	for i, id := range order {
		pos[id] = i
	}
	for i, id := range order {
		n := in[id]
		r := Recreate{Container: ref(n), Expect: expect(g, n)}
		var whys []string
		for _, d := range dependsOn[id] {
			if pos[d.On.ID] > i {
				d.Text = fmt.Sprintf("%s and %s depend on each other: %s is re-created first, so its dependency on %s breaks once %s is re-created too",
					d.Container.Name, d.On.Name, d.Container.Name, d.On.Name, d.On.Name)
				breaks = append(breaks, d)
				continue
			}
			if !slices.ContainsFunc(r.Change.Follow, func(f Ref) bool { return f.ID == d.On.ID }) {
				r.Change.Follow = append(r.Change.Follow, d.On)
			}
			whys = append(whys, dependsWhy(d))
		}
		slices.SortFunc(r.Change.Follow, func(a, b Ref) int { return pos[a.ID] - pos[b.ID] })
		r.Why = strings.Join(whys, "; ")
		if i == 0 {
			r.Change, r.Why = change, why
		}
		r.Change.RemoveLinks = withBrokenLinks(g, n, r.Change)
		rs = append(rs, r)
	}
	return rs, deps, breaks
}

// cycleEntry picks the container to re-create next when none left is
// ready: the first by name that depends on one placed and whose other
// dependencies all lead back to it, so that only links inside its cycle
// break, never the link of a container that merely depends on a cycle
// (re-created before the cycle, it would break for nothing). One always
// exists: a cycle that depends on no other one left was reached from a
// placed container.
func cycleEntry(rest []string, placed map[string]bool, dependsOn map[string][]Dependent) string {
	reaches := func(from, to string) bool {
		seen := map[string]bool{}
		for stack := []string{from}; len(stack) > 0; {
			x := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if x == to {
				return true
			}
			if seen[x] {
				continue
			}
			seen[x] = true
			for _, d := range dependsOn[x] {
				if !placed[d.On.ID] {
					stack = append(stack, d.On.ID)
				}
			}
		}
		return false
	}
	first := ""
	for _, id := range rest {
		if placed[id] {
			continue
		}
		first = cmp.Or(first, id)
		fromPlaced, closed := false, true
		for _, d := range dependsOn[id] {
			if placed[d.On.ID] {
				fromPlaced = true
			} else if !reaches(d.On.ID, id) {
				closed = false
			}
		}
		if fromPlaced && closed {
			return id
		}
	}
	return first // not reached (see above), but never stuck
}

// withBrokenLinks adds to a change's removed links the broken legacy links
// of c that it does not already remove: the engine refuses to create a
// container with a link to a container that no longer exists, so a copy
// cannot keep them.
func withBrokenLinks(g topology.Graph, c topology.Node, ch Change) []string {
	out := slices.Clone(ch.RemoveLinks)
	for _, e := range liveLinks(g, c) {
		if e.Kind == topology.EdgeBrokenLink && !slices.Contains(out, e.Link.Alias) {
			out = append(out, e.Link.Alias)
		}
	}
	return out
}

// dependsWhy says why a dependent is re-created.
func dependsWhy(d Dependent) string {
	switch d.Kind {
	case DependsLink:
		return "it links to " + d.On.Name + " as " + d.Alias
	case DependsNetNS:
		return "it shares the network stack of " + d.On.Name
	}
	return "it took the volumes of " + d.On.Name + " by ID"
}
