package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// Swarm actions, made on a manager of the Swarm.
const (
	ActionScaleService     Action = "scale-service"
	ActionNodeAvailability Action = "node-availability"
)

// maxReplicas bounds a scale from the page: a typo of 10000 would start
// that many containers across the hosts.
const maxReplicas = 200

// ScaleRequest asks to set a replicated service's replicas.
type ScaleRequest struct {
	Service  string  `json:"-"`
	Replicas *uint64 `json:"replicas"`
}

// AvailabilityRequest asks to set a Swarm node's availability.
type AvailabilityRequest struct {
	Node         string `json:"-"`
	Availability string `json:"availability"`
}

// ScaleService plans setting a service's replicas. Scaling down stops
// tasks (their containers' writable layers go with them): it asks for a
// confirm.
func (p *Planner) ScaleService(g topology.Graph, req ScaleRequest) (*Plan, error) {
	n, err := g.ServiceByRef(req.Service)
	if err != nil {
		return nil, err
	}
	s := n.Service
	if s.Mode != "replicated" {
		return nil, fmt.Errorf("%w: %s is a %s service: it runs one task per eligible node and has no replica count", topology.ErrConflict, s.Name, s.Mode)
	}
	if req.Replicas == nil {
		return nil, fmt.Errorf("%w: give replicas, the number of tasks wanted", topology.ErrInvalid)
	}
	want := *req.Replicas
	if want > maxReplicas {
		return nil, fmt.Errorf("%w: at most %d replicas from here (asked %d)", topology.ErrInvalid, maxReplicas, want)
	}
	if want == s.Wanted {
		return nil, fmt.Errorf("%w: %s has %d replicas wanted already", topology.ErrConflict, s.Name, want)
	}
	summary := fmt.Sprintf("scale the service %s from %d to %d replicas", s.Name, s.Wanted, want)
	pl := &Plan{Action: ActionScaleService, Method: MethodInPlace, Subject: Ref{ID: s.ID, Name: s.Name}, Summary: summary,
		Steps: []Step{{ID: "scale", Kind: "scale", Text: summary}}}
	if want < s.Wanted {
		// The managers stop the highest slots first.
		var gone []string
		for _, t := range tasksOf(g, n.ID) {
			if t.Slot > int(want) {
				gone = append(gone, fmt.Sprintf("%s.%d on %s", t.ServiceName, t.Slot, hostOf(g, t.NodeID)))
			}
		}
		pl.Confirm = true
		text := fmt.Sprintf("%d task(s) of %s stop and are removed", s.Wanted-want, s.Name)
		if len(gone) > 0 {
			text += ": " + strings.Join(gone, ", ")
		}
		pl.Loses = append(pl.Loses, Loss{Kind: LossContainer, Of: Ref{ID: s.ID, Name: s.Name}, Text: text})
	} else {
		pl.Notes = append(pl.Notes, fmt.Sprintf("The managers place %d new task(s) on nodes that are ready and active; a drained or down node gets none.", want-s.Wanted))
	}
	return pl.seal(), nil
}

// NodeAvailability plans setting a Swarm node's availability. Draining
// moves its tasks to other nodes (each restarts there, new container,
// new address): it asks for a confirm.
func (p *Planner) NodeAvailability(g topology.Graph, req AvailabilityRequest) (*Plan, error) {
	n, err := g.SwarmNodeByRef(req.Node)
	if err != nil {
		return nil, err
	}
	sn := n.SwarmNode
	switch req.Availability {
	case "active", "pause", "drain":
	default:
		return nil, fmt.Errorf("%w: availability must be active, pause or drain, not %q", topology.ErrInvalid, req.Availability)
	}
	if sn.Availability == req.Availability {
		return nil, fmt.Errorf("%w: node %s is %s already", topology.ErrConflict, sn.Hostname, sn.Availability)
	}
	verb := map[string]string{"active": "activate", "pause": "pause", "drain": "drain"}[req.Availability]
	summary := fmt.Sprintf("%s the Swarm node %s (%s now)", verb, sn.Hostname, sn.Availability)
	pl := &Plan{Action: ActionNodeAvailability, Method: MethodInPlace, Subject: Ref{ID: sn.ID, Name: sn.Hostname}, Summary: summary,
		Steps: []Step{{ID: "availability", Kind: "availability", Text: summary}}}
	switch req.Availability {
	case "drain":
		var moved []string
		for _, t := range tasksOn(g, sn.ID) {
			moved = append(moved, fmt.Sprintf("%s.%d", t.ServiceName, t.Slot))
		}
		pl.Confirm = true
		text := fmt.Sprintf("the tasks on %s stop there and are started again on other nodes (new containers, new addresses)", sn.Hostname)
		if len(moved) > 0 {
			text = fmt.Sprintf("%s: %s", text, strings.Join(moved, ", "))
		}
		pl.Loses = append(pl.Loses, Loss{Kind: LossContainer, Of: Ref{ID: sn.ID, Name: sn.Hostname}, Text: text})
		if sn.Role == "manager" {
			pl.Notes = append(pl.Notes, sn.Hostname+" stays a manager: draining moves tasks, not the Swarm's control.")
		}
	case "pause":
		pl.Notes = append(pl.Notes, "A paused node keeps its tasks and gets no new ones.")
	case "active":
		pl.Notes = append(pl.Notes, "The managers do not move running tasks back: new and rescheduled tasks may go to "+sn.Hostname+" again.")
	}
	return pl.seal(), nil
}

// tasksOf lists the tasks shown for a service, by slot.
func tasksOf(g topology.Graph, svc topology.NodeID) []topology.SwarmTask {
	var out []topology.SwarmTask
	for _, e := range g.EdgesOf(svc) {
		if e.Kind != topology.EdgeReplica || e.From != svc {
			continue
		}
		if n, ok := g.Node(e.To); ok && n.Task != nil {
			out = append(out, *n.Task)
		}
	}
	slices.SortFunc(out, func(a, b topology.SwarmTask) int { return a.Slot - b.Slot })
	return out
}

// tasksOn lists the running tasks shown on a Swarm node.
func tasksOn(g topology.Graph, node string) []topology.SwarmTask {
	var out []topology.SwarmTask
	for _, n := range g.Nodes {
		if n.Task != nil && n.Task.NodeID == node && n.Task.DesiredState == "running" {
			out = append(out, *n.Task)
		}
	}
	slices.SortFunc(out, func(a, b topology.SwarmTask) int {
		return strings.Compare(fmt.Sprintf("%s.%04d", a.ServiceName, a.Slot), fmt.Sprintf("%s.%04d", b.ServiceName, b.Slot))
	})
	return out
}

// hostOf is a Swarm node's hostname, or its ID.
func hostOf(g topology.Graph, node string) string {
	if n, ok := g.Node(topology.SwarmNodeID(node)); ok && n.SwarmNode != nil {
		return n.SwarmNode.Hostname
	}
	return node
}
