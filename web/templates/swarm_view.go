package templates

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// SwarmTaskView is one task as the Swarm panels list it.
type SwarmTaskView struct {
	// NodeID is the task's node on the map: its container's, or a task node.
	NodeID       topology.NodeID
	Name         string // "web.2"
	Service      string
	Host         string // the Swarm node's hostname
	DesiredState string
	State        string
	Error        string
	Addresses    []string
}

// ServicePanelView is what ServicePanel renders: a Swarm service as
// docker service inspect and docker service ps show it.
type ServicePanelView struct {
	NodeID  topology.NodeID
	Engine  string // the manager that reported it
	Service topology.SwarmService
	Tasks   []SwarmTaskView
	// Probers are the containers on a network of the service's (its own
	// tasks included), which can probe it.
	Probers []TargetView
}

// Replicated says whether the service has a replica count to scale.
func (v ServicePanelView) Replicated() bool { return v.Service.Mode == "replicated" }

// Port is the first target port, for the TCP probe (0: none).
func (v ServicePanelView) Port() uint32 {
	if len(v.Service.Ports) == 0 {
		return 0
	}
	return v.Service.Ports[0].Target
}

// SwarmNodePanelView is what SwarmNodePanel renders: a host of the Swarm
// as docker node inspect shows it, with the tasks on it.
type SwarmNodePanelView struct {
	NodeID topology.NodeID
	// Engine is the manager that reported it; Own is the engine dockmap
	// connects to on that host, if any (its Host).
	Engine, Own string
	Node        topology.SwarmNode
	Tasks       []SwarmTaskView
}

// StateText is the node's state with the managers' reason.
func (v SwarmNodePanelView) StateText() string {
	if v.Node.Message == "" {
		return v.Node.State
	}
	return v.Node.State + ": " + v.Node.Message
}

// TaskPanelView is what TaskPanel renders: a task whose container no
// connected engine shows.
type TaskPanelView struct {
	NodeID topology.NodeID
	Engine string
	Task   SwarmTaskView
	Slot   int
}

// NewServicePanelView builds the panel of service node id.
func NewServicePanelView(g topology.Graph, id topology.NodeID) (ServicePanelView, bool) {
	n, ok := g.Node(id)
	if !ok || n.Service == nil {
		return ServicePanelView{}, false
	}
	v := ServicePanelView{NodeID: id, Engine: n.Engine, Service: *n.Service}
	nets := map[topology.NodeID]bool{}
	for _, e := range g.EdgesOf(id) {
		switch {
		case e.Kind == topology.EdgeReplica && e.From == id:
			if t, ok := g.Node(e.To); ok && t.Task != nil {
				v.Tasks = append(v.Tasks, taskView(g, t))
			}
		case e.Kind == topology.EdgeMember && e.From == id:
			nets[e.To] = true
		}
	}
	slices.SortFunc(v.Tasks, func(a, b SwarmTaskView) int { return strings.Compare(a.Name, b.Name) })
	seen := map[topology.NodeID]bool{}
	for net := range nets {
		for _, e := range g.EdgesOf(net) {
			if e.Kind != topology.EdgeMember || e.To != net || seen[e.From] {
				continue
			}
			if c, ok := g.Node(e.From); ok && c.Container != nil && c.Container.Running() {
				seen[e.From] = true
				v.Probers = append(v.Probers, TargetView{NodeID: c.ID, ID: strings.TrimPrefix(string(c.ID), "c:"), Name: c.Label})
			}
		}
	}
	slices.SortFunc(v.Probers, func(a, b TargetView) int { return strings.Compare(a.Name, b.Name) })
	return v, true
}

// NewSwarmNodePanelView builds the panel of Swarm node id.
func NewSwarmNodePanelView(g topology.Graph, id topology.NodeID) (SwarmNodePanelView, bool) {
	n, ok := g.Node(id)
	if !ok || n.SwarmNode == nil {
		return SwarmNodePanelView{}, false
	}
	v := SwarmNodePanelView{NodeID: id, Engine: n.Engine, Node: *n.SwarmNode}
	if !strings.HasPrefix(n.Host, "node:") {
		v.Own = n.Host
	}
	for _, t := range g.Nodes {
		if t.Task != nil && t.Task.NodeID == n.SwarmNode.ID && t.Task.DesiredState == "running" {
			v.Tasks = append(v.Tasks, taskView(g, t))
		}
	}
	slices.SortFunc(v.Tasks, func(a, b SwarmTaskView) int { return strings.Compare(a.Name, b.Name) })
	return v, true
}

// NewTaskPanelView builds the panel of task node id.
func NewTaskPanelView(g topology.Graph, id topology.NodeID) (TaskPanelView, bool) {
	n, ok := g.Node(id)
	if !ok || n.Task == nil {
		return TaskPanelView{}, false
	}
	return TaskPanelView{NodeID: id, Engine: n.Engine, Task: taskView(g, n), Slot: n.Task.Slot}, true
}

func taskView(g topology.Graph, n topology.Node) SwarmTaskView {
	t := n.Task
	name := fmt.Sprintf("%s.%d", t.ServiceName, t.Slot)
	host := t.NodeID
	if sn, ok := g.Node(topology.SwarmNodeID(t.NodeID)); ok && sn.SwarmNode != nil {
		host = sn.SwarmNode.Hostname
	}
	if t.Slot == 0 {
		name = t.ServiceName + "." + host
	}
	v := SwarmTaskView{NodeID: n.ID, Name: name, Service: t.ServiceName, Host: host, DesiredState: t.DesiredState, State: t.State,
		Error: cmp.Or(t.Error, t.Message)}
	for _, a := range t.Networks {
		for _, addr := range a.Addresses {
			v.Addresses = append(v.Addresses, a.Name+" "+addr)
		}
	}
	return v
}
