package docker

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"

	"github.com/dockmap/dockmap/internal/topology"
)

// SwarmState is a Swarm as one of its managers knows it. The words in
// Role, Availability and the states are the engine's own (Engine API
// v1.41, the NodeSpec, NodeStatus, TaskState and ServiceStatus
// definitions, https://docs.docker.com/reference/api/engine/version/v1.41/):
// dockmap shows them, it does not rename them.
//
// An engine in no Swarm gives Active false and its LocalState
// ("inactive", "pending", "error", "locked"), without the lists: omitzero
// leaves them out then, while an active Swarm's empty lists stay [].
type SwarmState struct {
	Active bool `json:"active"`
	// LocalState is this engine's Info.Swarm.LocalNodeState.
	LocalState string `json:"localState"`
	// Error is the engine's word on why it is not in its Swarm (state
	// "error").
	Error string `json:"error,omitempty"`
	// ID is the Swarm's (the cluster's) ID.
	ID string `json:"id,omitempty"`
	// NodeID is the node of the engine that answered.
	NodeID   string         `json:"nodeId,omitempty"`
	Nodes    []SwarmNode    `json:"nodes,omitzero"`
	Services []SwarmService `json:"services,omitzero"`
	Tasks    []SwarmTask    `json:"tasks,omitzero"`
	Networks []SwarmNetwork `json:"networks,omitzero"`
}

// SwarmNode is one node (a host) of the Swarm.
type SwarmNode struct {
	ID       string `json:"id"`
	Hostname string `json:"hostname"`
	// Role is "manager" or "worker".
	Role string `json:"role"`
	// Availability is "active", "pause" or "drain".
	Availability string `json:"availability"`
	// State is "ready", "down", "unknown" or "disconnected".
	State string `json:"state"`
	// Message is the engine's reason for State, when it gives one.
	Message string `json:"message,omitempty"`
	// Addr is the node's IP as the managers see it.
	Addr   string `json:"addr"`
	Leader bool   `json:"leader"`
	// Reachability is a manager's in the Raft quorum ("reachable",
	// "unreachable", "unknown"); empty for a worker.
	Reachability  string `json:"reachability,omitempty"`
	EngineVersion string `json:"engineVersion"`
}

// SwarmService is one service and how many of its tasks run.
type SwarmService struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Mode is "replicated", "global", "replicated-job" or "global-job".
	Mode string `json:"mode"`
	// Wanted is the replicas asked for; for a global service, the tasks
	// the managers want (one per eligible node).
	Wanted  uint64      `json:"wanted"`
	Running uint64      `json:"running"`
	Image   string      `json:"image"`
	Ports   []SwarmPort `json:"ports"`
	VIPs    []SwarmVIP  `json:"vips"`
	// Networks are the networks the service's tasks join.
	Networks []NetworkRef `json:"networks"`
}

// SwarmPort is a published port of a service.
type SwarmPort struct {
	Published uint32 `json:"published"`
	Target    uint32 `json:"target"`
	// Protocol is "tcp", "udp" or "sctp".
	Protocol string `json:"protocol"`
	// Mode is "ingress" (the routing mesh, on every node) or "host".
	Mode string `json:"mode"`
}

// SwarmVIP is a service's virtual IP on one network (CIDR form, as the
// engine gives it). The VIP is an IPVS address: it answers TCP and UDP on
// the service's ports, not ping.
type SwarmVIP struct {
	NetworkID   string `json:"networkId"`
	NetworkName string `json:"networkName"`
	Addr        string `json:"addr"`
}

// NetworkRef names a network.
type NetworkRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SwarmTask is one task (a slot's container on a node), current or past:
// the managers keep a few shut-down tasks per slot as history.
type SwarmTask struct {
	ID          string `json:"id"`
	ServiceID   string `json:"serviceId"`
	ServiceName string `json:"serviceName"`
	// Slot is the replica's number; 0 for a global service's task.
	Slot   int    `json:"slot"`
	NodeID string `json:"nodeId"`
	// DesiredState and State are the engine's words ("running",
	// "shutdown", "pending", "rejected", "failed", …).
	DesiredState string `json:"desiredState"`
	State        string `json:"state"`
	// Error and Message are the engine's, e.g. "network sandbox join
	// failed" or "no suitable node".
	Error       string             `json:"error,omitempty"`
	Message     string             `json:"message,omitempty"`
	ContainerID string             `json:"containerId,omitempty"`
	Networks    []SwarmTaskNetwork `json:"networks"`
}

// SwarmTaskNetwork is a task's attachment to one network.
type SwarmTaskNetwork struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// Addresses are CIDR forms (10.0.1.5/24).
	Addresses []string `json:"addresses"`
}

// SwarmNetwork is a network of the Swarm (scope "swarm"): the overlays
// and the ingress network.
type SwarmNetwork struct {
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Driver     string            `json:"driver"`
	Scope      string            `json:"scope"`
	Attachable bool              `json:"attachable"`
	Encrypted  bool              `json:"encrypted"`
	Ingress    bool              `json:"ingress"`
	Internal   bool              `json:"internal"`
	Subnets    []topology.Subnet `json:"subnets"`
}

// SwarmWorkerError is the answer of an engine that is in a Swarm as a
// worker: only managers hold the Swarm's state, so it cannot list it. It
// matches topology.ErrConflict.
type SwarmWorkerError struct {
	// NodeID is the worker's node.
	NodeID string
	// Managers are the managers the worker knows (Info.Swarm.RemoteManagers).
	Managers []SwarmPeer
}

// SwarmPeer is a manager as a worker knows it.
type SwarmPeer struct {
	NodeID string `json:"nodeId"`
	// Addr is its Swarm address (host:2377).
	Addr string `json:"addr"`
}

func (e *SwarmWorkerError) Error() string {
	addrs := make([]string, len(e.Managers))
	for i, m := range e.Managers {
		addrs[i] = m.Addr
	}
	return fmt.Sprintf("a Swarm worker: only a manager (%s) knows the Swarm", strings.Join(addrs, ", "))
}

// Is makes errors.Is(err, topology.ErrConflict) hold: asking a worker is
// asking the wrong engine, not a fault.
func (e *SwarmWorkerError) Is(target error) bool { return target == topology.ErrConflict }

// optionEncrypted is the overlay driver option that turns IPsec on.
const optionEncrypted = "encrypted"

// Swarm reads the Swarm this engine manages: its nodes, services, tasks
// and Swarm-scoped networks. An engine in no Swarm (or not in it yet) is
// a state with Active false, not an error; a worker is a
// *SwarmWorkerError. Info says which before any manager-only call: on a
// worker those fail with the engine's "This node is not a swarm manager"
// (503), which would read as an engine fault.
func (c *Client) Swarm(ctx context.Context) (SwarmState, error) {
	if err := c.ready(ctx); err != nil {
		return SwarmState{}, err
	}
	info, err := c.api.Info(ctx)
	if err != nil {
		return SwarmState{}, translate("engine info", err)
	}
	si := info.Swarm
	st := SwarmState{LocalState: string(si.LocalNodeState), Error: si.Error, NodeID: si.NodeID}
	if si.LocalNodeState != swarm.LocalNodeStateActive {
		return st, nil
	}
	if !si.ControlAvailable {
		we := &SwarmWorkerError{NodeID: si.NodeID}
		for _, p := range si.RemoteManagers {
			we.Managers = append(we.Managers, SwarmPeer{NodeID: p.NodeID, Addr: p.Addr})
		}
		return SwarmState{}, we
	}
	st.Active = true
	if si.Cluster != nil {
		st.ID = si.Cluster.ID
	}

	nodes, err := c.api.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		return SwarmState{}, translate("list swarm nodes", err)
	}
	// Status asks the managers for each service's running and desired
	// task counts (API ≥ 1.41).
	services, err := c.api.ServiceList(ctx, swarm.ServiceListOptions{Status: true})
	if err != nil {
		return SwarmState{}, translate("list swarm services", err)
	}
	tasks, err := c.api.TaskList(ctx, swarm.TaskListOptions{})
	if err != nil {
		return SwarmState{}, translate("list swarm tasks", err)
	}
	nets, err := c.api.NetworkList(ctx, network.ListOptions{Filters: filters.NewArgs(filters.Arg("scope", "swarm"))})
	if err != nil {
		return SwarmState{}, translate("list swarm networks", err)
	}

	netName := make(map[string]string, len(nets))
	st.Networks = make([]SwarmNetwork, 0, len(nets))
	for _, n := range nets {
		netName[n.ID] = n.Name
		sn := SwarmNetwork{
			ID: n.ID, Name: n.Name, Driver: n.Driver, Scope: n.Scope, Attachable: n.Attachable,
			Ingress: n.Ingress, Internal: n.Internal, Subnets: []topology.Subnet{},
		}
		// The CLI's --opt encrypted gives "" as the value: the key is the
		// switch.
		_, sn.Encrypted = n.Options[optionEncrypted]
		for _, cfg := range n.IPAM.Config {
			sn.Subnets = append(sn.Subnets, topology.Subnet{Subnet: cfg.Subnet, Gateway: cfg.Gateway})
		}
		st.Networks = append(st.Networks, sn)
	}

	st.Nodes = make([]SwarmNode, 0, len(nodes))
	for _, n := range nodes {
		sn := SwarmNode{
			ID: n.ID, Hostname: n.Description.Hostname, Role: string(n.Spec.Role),
			Availability: string(n.Spec.Availability), State: string(n.Status.State),
			Message: n.Status.Message, Addr: n.Status.Addr, EngineVersion: n.Description.Engine.EngineVersion,
		}
		if m := n.ManagerStatus; m != nil {
			sn.Leader, sn.Reachability = m.Leader, string(m.Reachability)
		}
		st.Nodes = append(st.Nodes, sn)
	}

	// Counted here too, for engines that give no ServiceStatus. A task
	// the managers gave up on (its node down) may still say "running",
	// so only those meant to run count, as ServiceStatus does.
	running := map[string]uint64{}
	for _, t := range tasks {
		if t.Status.State == swarm.TaskStateRunning && t.DesiredState == swarm.TaskStateRunning {
			running[t.ServiceID]++
		}
	}
	svcName := make(map[string]string, len(services))
	st.Services = make([]SwarmService, 0, len(services))
	for _, s := range services {
		svcName[s.ID] = s.Spec.Name
		ss := SwarmService{
			ID: s.ID, Name: s.Spec.Name, Mode: serviceMode(s.Spec.Mode), Running: running[s.ID],
			Ports: []SwarmPort{}, VIPs: []SwarmVIP{}, Networks: []NetworkRef{},
		}
		if cs := s.Spec.TaskTemplate.ContainerSpec; cs != nil {
			ss.Image = cs.Image
		}
		if r := s.Spec.Mode.Replicated; r != nil && r.Replicas != nil {
			ss.Wanted = *r.Replicas
		}
		if stat := s.ServiceStatus; stat != nil {
			ss.Running = stat.RunningTasks
			if s.Spec.Mode.Replicated == nil {
				ss.Wanted = stat.DesiredTasks
			}
		}
		for _, p := range s.Endpoint.Ports {
			ss.Ports = append(ss.Ports, SwarmPort{
				Published: p.PublishedPort, Target: p.TargetPort, Protocol: string(p.Protocol), Mode: string(p.PublishMode),
			})
		}
		for _, v := range s.Endpoint.VirtualIPs {
			ss.VIPs = append(ss.VIPs, SwarmVIP{NetworkID: v.NetworkID, NetworkName: netName[v.NetworkID], Addr: v.Addr})
		}
		attach := s.Spec.TaskTemplate.Networks
		if len(attach) == 0 {
			//lint:ignore SA1019 engines before API 1.44 keep what older clients put there.
			attach = s.Spec.Networks
		}
		for _, a := range attach {
			ss.Networks = append(ss.Networks, NetworkRef{ID: a.Target, Name: netName[a.Target]})
		}
		st.Services = append(st.Services, ss)
	}

	st.Tasks = make([]SwarmTask, 0, len(tasks))
	for _, t := range tasks {
		tt := SwarmTask{
			ID: t.ID, ServiceID: t.ServiceID, ServiceName: svcName[t.ServiceID], Slot: t.Slot, NodeID: t.NodeID,
			DesiredState: string(t.DesiredState), State: string(t.Status.State),
			Error: t.Status.Err, Message: t.Status.Message, Networks: []SwarmTaskNetwork{},
		}
		if cs := t.Status.ContainerStatus; cs != nil {
			tt.ContainerID = cs.ContainerID
		}
		for _, a := range t.NetworksAttachments {
			tt.Networks = append(tt.Networks, SwarmTaskNetwork{
				ID: a.Network.ID, Name: a.Network.Spec.Name, Addresses: append([]string{}, a.Addresses...),
			})
		}
		st.Tasks = append(st.Tasks, tt)
	}
	sortSwarm(&st)
	return st, nil
}

// sortSwarm orders what the engine lists in no set order, so that two
// reads of an unchanged Swarm are equal.
func sortSwarm(st *SwarmState) {
	slices.SortFunc(st.Nodes, func(a, b SwarmNode) int { return cmp.Or(cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(st.Services, func(a, b SwarmService) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
	slices.SortFunc(st.Tasks, func(a, b SwarmTask) int {
		return cmp.Or(cmp.Compare(a.ServiceName, b.ServiceName), cmp.Compare(a.Slot, b.Slot), cmp.Compare(a.NodeID, b.NodeID), cmp.Compare(a.ID, b.ID))
	})
	slices.SortFunc(st.Networks, func(a, b SwarmNetwork) int { return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID)) })
}

func serviceMode(m swarm.ServiceMode) string {
	switch {
	case m.Replicated != nil:
		return "replicated"
	case m.Global != nil:
		return "global"
	case m.ReplicatedJob != nil:
		return "replicated-job"
	case m.GlobalJob != nil:
		return "global-job"
	}
	return ""
}
