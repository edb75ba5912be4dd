package topology

import (
	"slices"
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
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Driver     string   `json:"driver"`
	Scope      string   `json:"scope"`
	Attachable bool     `json:"attachable"`
	Encrypted  bool     `json:"encrypted"`
	Ingress    bool     `json:"ingress"`
	Internal   bool     `json:"internal"`
	Subnets    []Subnet `json:"subnets"`
}

func (s *SwarmService) equal(o *SwarmService) bool {
	return s.ID == o.ID && s.Name == o.Name && s.Mode == o.Mode && s.Wanted == o.Wanted && s.Running == o.Running &&
		s.Image == o.Image && slices.Equal(s.Ports, o.Ports) && slices.Equal(s.VIPs, o.VIPs) && slices.Equal(s.Networks, o.Networks)
}

func (t *SwarmTask) equal(o *SwarmTask) bool {
	return t.ID == o.ID && t.ServiceID == o.ServiceID && t.ServiceName == o.ServiceName && t.Slot == o.Slot &&
		t.NodeID == o.NodeID && t.DesiredState == o.DesiredState && t.State == o.State && t.Error == o.Error &&
		t.Message == o.Message && t.ContainerID == o.ContainerID &&
		slices.EqualFunc(t.Networks, o.Networks, func(a, b SwarmTaskNetwork) bool {
			return a.ID == b.ID && a.Name == b.Name && slices.Equal(a.Addresses, b.Addresses)
		})
}
