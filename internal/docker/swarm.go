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

// The Swarm's types are topology's, where the map is made of them; the
// old names stay for this package's callers.
type (
	SwarmState       = topology.SwarmState
	SwarmNode        = topology.SwarmNode
	SwarmService     = topology.SwarmService
	SwarmPort        = topology.SwarmPort
	SwarmVIP         = topology.SwarmVIP
	NetworkRef       = topology.NetworkRef
	SwarmTask        = topology.SwarmTask
	SwarmTaskNetwork = topology.SwarmTaskNetwork
	SwarmNetwork     = topology.SwarmNetwork
)

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

// ScaleService sets a replicated service's replica count. The update
// carries the version the engine gave with the spec, so a change made by
// someone else in between is refused (409) rather than overwritten.
func (c *Client) ScaleService(ctx context.Context, serviceID string, replicas uint64) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	svc, _, err := c.api.ServiceInspectWithRaw(ctx, serviceID, swarm.ServiceInspectOptions{})
	if err != nil {
		return translate("inspect service "+serviceID, err)
	}
	if svc.Spec.Mode.Replicated == nil {
		return fmt.Errorf("scale service %s: %w: it is not replicated (mode %s): a global service runs one task per node", svc.Spec.Name, topology.ErrConflict, serviceMode(svc.Spec.Mode))
	}
	svc.Spec.Mode.Replicated.Replicas = &replicas
	_, err = c.api.ServiceUpdate(ctx, svc.ID, svc.Version, svc.Spec, swarm.ServiceUpdateOptions{})
	return translate("scale service "+svc.Spec.Name, err)
}

// SetNodeAvailability sets a Swarm node's availability ("active",
// "pause" or "drain"), with the node's version as for ScaleService.
func (c *Client) SetNodeAvailability(ctx context.Context, nodeID, availability string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	n, _, err := c.api.NodeInspectWithRaw(ctx, nodeID)
	if err != nil {
		return translate("inspect node "+nodeID, err)
	}
	n.Spec.Availability = swarm.NodeAvailability(availability)
	return translate("set node "+n.Description.Hostname+" "+availability, c.api.NodeUpdate(ctx, n.ID, n.Version, n.Spec))
}
