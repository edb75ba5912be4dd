package lesson

import (
	"fmt"
	"strings"
	"time"

	"github.com/dockmap/dockmap/internal/topology"
)

// Step states.
const (
	StateDone   = "done"
	StateTodo   = "todo"
	StateFailed = "failed"
)

// StepState is a step of a lesson for one participant.
type StepState struct {
	ID     string `json:"id"`
	Title  string `json:"title"`
	State  string `json:"state"`
	Detail string `json:"detail"`
}

// Probes gives the latest probe result between two containers (by ID),
// "name" or "ip"; found is false when there is none.
type Probes interface {
	Latest(from, to, by string) (ok bool, at time.Time, found bool)
}

// Evaluate says where a participant (whose names start with prefix) is in
// l, on the map g and the probe results p (nil: none).
//
// ticked holds the participant's steps that were done at some point
// (nil: none kept); Evaluate adds the ones done now. A ticked step stays
// done: the lesson moves on, and a later step may undo an earlier one on
// purpose (chapter 1's "ping by name fails" stops failing once the link
// is added, which is the point).
func Evaluate(l Lesson, g topology.Graph, prefix string, p Probes, ticked map[string]bool) []StepState {
	out := make([]StepState, 0, len(l.Steps))
	done := map[string]bool{}
	for _, s := range l.Steps {
		st := StepState{ID: s.ID, Title: s.Title}
		if n, ok := firstUndone(s.Needs, done); ok {
			st.State, st.Detail = StateTodo, "after the step "+n
		} else {
			st.State, st.Detail = check(s.Check, g, prefix, p)
		}
		if st.State != StateDone && ticked[s.ID] {
			st.State, st.Detail = StateDone, "done earlier; now: "+st.Detail
		}
		if st.State == StateDone && ticked != nil {
			ticked[s.ID] = true
		}
		done[s.ID] = st.State == StateDone
		out = append(out, st)
	}
	return out
}

func firstUndone(needs []string, done map[string]bool) (string, bool) {
	for _, n := range needs {
		if !done[n] {
			return n, true
		}
	}
	return "", false
}

// check evaluates one check for a participant.
func check(c Check, g topology.Graph, prefix string, p Probes) (state, detail string) {
	find := func(name string) (topology.Node, string, bool) {
		full := prefix + name
		n, err := g.ContainerByRef(full)
		if err != nil || n.Container == nil {
			return topology.Node{}, full, false
		}
		return n, full, true
	}
	if c.Kind == KindRunning {
		n, name, ok := find(c.Container)
		if !ok {
			return StateTodo, "no container named " + name + " yet"
		}
		if !n.Container.Running() {
			return StateTodo, name + " is " + n.Container.State
		}
		return StateDone, name + " is running"
	}
	// Every other check is about two containers, both on the map.
	x, y := c.From, c.To
	if c.Kind == KindNetwork || c.Kind == KindVolume {
		x, y = c.A, c.B
	}
	a, aname, okA := find(x)
	b, bname, okB := find(y)
	switch {
	case !okA && !okB:
		return StateTodo, "no containers named " + aname + " and " + bname + " yet"
	case !okA:
		return StateTodo, "no container named " + aname + " yet"
	case !okB:
		return StateTodo, "no container named " + bname + " yet"
	}
	switch c.Kind {
	case KindLink:
		for _, e := range g.EdgesOf(a.ID) {
			if e.Kind == topology.EdgeLink && e.From == a.ID && e.To == b.ID {
				return StateDone, fmt.Sprintf("%s reaches %s as %s", aname, bname, e.Link.Alias)
			}
		}
		return StateTodo, aname + " has no link to " + bname + " yet"
	case KindNetwork:
		want := ""
		if c.Network != "" {
			want = networkName(prefix, c.Network)
		}
		nets := networksOf(g, a.ID)
		for id := range networksOf(g, b.ID) {
			if name, ok := nets[id]; ok && (want == "" || name == want) {
				return StateDone, fmt.Sprintf("%s and %s share %s", aname, bname, name)
			}
		}
		if want != "" {
			return StateTodo, fmt.Sprintf("%s and %s are not both on %s yet", aname, bname, want)
		}
		return StateTodo, aname + " and " + bname + " share no network yet"
	case KindVolume:
		if v, ok := sharedVolume(g, a.ID, b.ID); ok {
			return StateDone, fmt.Sprintf("%s and %s share %s", aname, bname, v)
		}
		return StateTodo, aname + " and " + bname + " share no volume yet"
	case KindProbe:
		what := fmt.Sprintf("ping %s → %s by %s", aname, bname, c.By)
		if p == nil {
			return StateTodo, what + ": not probed yet"
		}
		// The map's IDs: on a merged map another engine's carry its name,
		// as the probe results do.
		ok, at, found := p.Latest(strings.TrimPrefix(string(a.ID), "c:"), strings.TrimPrefix(string(b.ID), "c:"), c.By)
		if !found {
			return StateTodo, what + ": not probed yet"
		}
		got := "fails"
		if ok {
			got = "works"
		}
		when := at.UTC().Format("15:04:05")
		if ok == (c.Expect == "ok") {
			return StateDone, fmt.Sprintf("%s %s (%s)", what, got, when)
		}
		return StateFailed, fmt.Sprintf("%s %s (%s); the step wants it to %s", what, got, when, map[string]string{"ok": "work", "fail": "fail"}[c.Expect])
	}
	return StateFailed, "unknown check kind " + c.Kind
}

// networkName is a participant's name for a lesson's network: the
// engine's own networks are everyone's.
func networkName(prefix, name string) string {
	switch name {
	case "bridge", "host", "none":
		return name
	}
	return prefix + name
}

// networksOf maps the networks container c is on to their names.
func networksOf(g topology.Graph, c topology.NodeID) map[topology.NodeID]string {
	out := map[topology.NodeID]string{}
	for _, e := range g.EdgesOf(c) {
		if e.Kind != topology.EdgeMember || e.From != c {
			continue
		}
		if n, ok := g.Node(e.To); ok && n.Network != nil {
			out[n.ID] = n.Network.Name
		}
	}
	return out
}

// sharedVolume finds a volume both a and b mount, or a volumes-from
// between them; it returns how to name it.
func sharedVolume(g topology.Graph, a, b topology.NodeID) (string, bool) {
	vols := map[topology.NodeID]bool{}
	for _, e := range g.EdgesOf(a) {
		if e.Kind == topology.EdgeVolumesFrom && (e.To == b || e.From == b) {
			return "volumes (--volumes-from)", true
		}
		if e.Kind == topology.EdgeMount && e.From == a {
			vols[e.To] = true
		}
	}
	for _, e := range g.EdgesOf(b) {
		if e.Kind == topology.EdgeMount && e.From == b && vols[e.To] {
			if n, ok := g.Node(e.To); ok {
				return n.Label, true
			}
			return string(e.To), true
		}
	}
	return "", false
}
