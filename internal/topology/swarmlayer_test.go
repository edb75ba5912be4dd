package topology_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/topology"
)

// swarmEngine is one engine's map: container cid on its bridge and on the
// overlay ov1, which an engine lists without the manager's flags.
func swarmEngine(cid string) topology.Graph {
	return topology.Graph{
		Nodes: []topology.Node{
			{ID: topology.ContainerNodeID(cid), Kind: topology.KindContainer, Label: "web." + cid, Container: &topology.ContainerInfo{ID: cid, Name: "web." + cid, State: "running"}},
			{ID: "n:br", Kind: topology.KindNetwork, Label: "bridge", Network: &topology.NetworkInfo{ID: "br", Name: "bridge", Driver: "bridge", Scope: "local"}},
			{ID: "n:ov1", Kind: topology.KindNetwork, Label: "ov1", Network: &topology.NetworkInfo{
				ID: "ov1", Name: "ov1", Driver: "overlay", Scope: "swarm", Subnets: []topology.Subnet{{Subnet: "10.0.1.0/24"}},
			}},
		},
		Edges: []topology.Edge{
			{ID: topology.EdgeID("m:" + cid + "@br"), Kind: topology.EdgeMember, From: topology.ContainerNodeID(cid), To: "n:br"},
			{ID: topology.EdgeID("m:" + cid + "@ov1"), Kind: topology.EdgeMember, From: topology.ContainerNodeID(cid), To: "n:ov1",
				Member: &topology.MemberInfo{NetworkName: "ov1", NetworkID: "ov1", IP: "10.0.1.3", PrefixLen: 24}},
		},
	}
}

// swarmFixture is a map of two engines, "local" (the default) and "lab1",
// and the Swarm they are in as lab1 (a manager) tells it: three nodes, the
// third ("far") an engine dockmap does not connect to.
func swarmFixture() (topology.Graph, topology.SwarmView) {
	g := topology.Merge(topology.Stamp(swarmEngine("ca"), "local", false), topology.Stamp(swarmEngine("cb"), "lab1", true))
	ov1 := []topology.SwarmTaskNetwork{{ID: "ov1", Name: "ov1", Addresses: []string{"10.0.1.7/24"}}}
	v := topology.SwarmView{
		Manager: "lab1",
		Default: "local",
		Engines: map[string]string{"n1": "local", "n2": "lab1"},
		State: topology.SwarmState{
			Active: true, LocalState: "active", ID: "cluster", NodeID: "n2",
			Nodes: []topology.SwarmNode{
				{ID: "n1", Hostname: "dock", Role: "worker", Availability: "active", State: "ready"},
				{ID: "n2", Hostname: "lab", Role: "manager", Availability: "active", State: "ready", Leader: true},
				{ID: "n3", Hostname: "far", Role: "worker", Availability: "active", State: "ready"},
			},
			Services: []topology.SwarmService{
				{ID: "s1", Name: "web", Mode: "replicated", Wanted: 5, Running: 3, VIPs: []topology.SwarmVIP{
					{NetworkID: "ingress", NetworkName: "ingress", Addr: "10.0.0.5/24"},
					{NetworkID: "ov1", NetworkName: "ov1", Addr: "10.0.1.2/24"},
					{NetworkID: "gone", NetworkName: "gone", Addr: "10.9.0.2/24"}, // listed by no one
				}},
				{ID: "s2", Name: "agent", Mode: "global", Wanted: 1, Running: 1},
			},
			Tasks: []topology.SwarmTask{
				{ID: "ta", ServiceID: "s1", ServiceName: "web", Slot: 1, NodeID: "n1", DesiredState: "running", State: "running", ContainerID: "ca", Networks: ov1},
				{ID: "tb", ServiceID: "s1", ServiceName: "web", Slot: 2, NodeID: "n2", DesiredState: "running", State: "running", ContainerID: "cb", Networks: ov1},
				{ID: "tc", ServiceID: "s1", ServiceName: "web", Slot: 3, NodeID: "n3", DesiredState: "running", State: "running", ContainerID: "cc", Networks: ov1},
				{ID: "tf1", ServiceID: "s1", ServiceName: "web", Slot: 4, NodeID: "n3", DesiredState: "shutdown", State: "failed", Error: "task: non-zero exit (1)"},
				{ID: "tf2", ServiceID: "s1", ServiceName: "web", Slot: 4, NodeID: "n3", DesiredState: "shutdown", State: "rejected", Error: "older"},
				{ID: "th", ServiceID: "s1", ServiceName: "web", Slot: 1, NodeID: "n1", DesiredState: "shutdown", State: "failed", Error: "replaced by ta"},
				{ID: "tp", ServiceID: "s1", ServiceName: "web", Slot: 5, DesiredState: "running", State: "pending", Message: "no suitable node"},
				{ID: "tg1", ServiceID: "s2", ServiceName: "agent", NodeID: "n3", DesiredState: "running", State: "running"},
				{ID: "tg2", ServiceID: "s2", ServiceName: "agent", NodeID: "n3", DesiredState: "shutdown", State: "failed", Error: "replaced by tg1"},
				{ID: "tg3", ServiceID: "s2", ServiceName: "agent", NodeID: "n3", DesiredState: "remove", State: "shutdown"},
			},
			Networks: []topology.SwarmNetwork{
				{ID: "ingress", Name: "ingress", Driver: "overlay", Scope: "swarm", Ingress: true, Subnets: []topology.Subnet{{Subnet: "10.0.0.0/24"}}},
				{ID: "ov1", Name: "ov1", Driver: "overlay", Scope: "swarm", Attachable: true, Encrypted: true, Subnets: []topology.Subnet{{Subnet: "10.0.1.0/24"}}},
			},
		},
	}
	return g, v
}

func taskOf(v topology.SwarmView, id string) *topology.SwarmTask {
	for _, t := range v.State.Tasks {
		if t.ID == id {
			return &t
		}
	}
	panic("no task " + id)
}

func TestAddSwarm(t *testing.T) {
	_, fv := swarmFixture()
	tests := []struct {
		name string
		edit func(*topology.Graph, *topology.SwarmView)
		// want are nodes and edges that must be in the result, as given;
		// absent are IDs of nodes or edges that must not.
		want      []topology.Node
		wantEdges []topology.Edge
		absent    []string
	}{
		{
			name:   "an engine in no Swarm adds nothing",
			edit:   func(_ *topology.Graph, v *topology.SwarmView) { v.State.Active = false },
			absent: []string{"sn:n1", "sv:s1", "t:tc", "n:ingress", "r:sv:s1>c:ca"},
		},
		{
			name: "Swarm nodes sit in their engine's host, or in a host of their own",
			want: []topology.Node{
				{ID: "sn:n1", Kind: topology.KindSwarmNode, Label: "dock", Engine: "lab1", Host: "local", SwarmNode: &fv.State.Nodes[0]},
				{ID: "sn:n2", Kind: topology.KindSwarmNode, Label: "lab", Engine: "lab1", Host: "lab1", SwarmNode: &fv.State.Nodes[1]},
				{ID: "sn:n3", Kind: topology.KindSwarmNode, Label: "far", Engine: "lab1", Host: "node:far", SwarmNode: &fv.State.Nodes[2]},
			},
		},
		{
			name: "a task on the default engine is its container's node",
			want: []topology.Node{{ID: "c:ca", Kind: topology.KindContainer, Label: "web.ca", Engine: "local", Host: "local",
				Container: &topology.ContainerInfo{ID: "ca", Name: "web.ca", State: "running"}, Task: taskOf(fv, "ta")}},
			wantEdges: []topology.Edge{{ID: "r:sv:s1>c:ca", Kind: topology.EdgeReplica, From: "sv:s1", To: "c:ca", Engine: "lab1"}},
			absent:    []string{"t:ta", "m:t:ta@ov1"},
		},
		{
			name: "a task on a suffixed engine is its container's node",
			want: []topology.Node{{ID: "c:cb@lab1", Kind: topology.KindContainer, Label: "web.cb", Engine: "lab1", Host: "lab1",
				Container: &topology.ContainerInfo{ID: "cb", Name: "web.cb", State: "running"}, Task: taskOf(fv, "tb")}},
			wantEdges: []topology.Edge{{ID: "r:sv:s1>c:cb@lab1", Kind: topology.EdgeReplica, From: "sv:s1", To: "c:cb@lab1", Engine: "lab1"}},
			absent:    []string{"t:tb", "c:cb", "m:t:tb@ov1"},
		},
		{
			name: "a task whose container the engine does not show yet is a task node in that engine's host",
			edit: func(_ *topology.Graph, v *topology.SwarmView) { v.State.Tasks[1].ContainerID = "new" },
			want: []topology.Node{{ID: "t:tb", Kind: topology.KindTask, Label: "web.2", Engine: "lab1", Host: "lab1",
				Task: func() *topology.SwarmTask { t := *taskOf(fv, "tb"); t.ContainerID = "new"; return &t }()}},
			absent: []string{"c:new@lab1"},
		},
		{
			name: "a task on an unconnected node is a task node with its address",
			want: []topology.Node{{ID: "t:tc", Kind: topology.KindTask, Label: "web.3", Engine: "lab1", Host: "node:far", Task: taskOf(fv, "tc")}},
			wantEdges: []topology.Edge{
				{ID: "m:t:tc@ov1", Kind: topology.EdgeMember, From: "t:tc", To: "n:ov1", Engine: "lab1",
					Member: &topology.MemberInfo{NetworkName: "ov1", NetworkID: "ov1", IP: "10.0.1.7", PrefixLen: 24}},
				{ID: "r:sv:s1>t:tc", Kind: topology.EdgeReplica, From: "sv:s1", To: "t:tc", Engine: "lab1"},
			},
			absent: []string{"c:cc", "c:cc@far"},
		},
		{
			name: "history is hidden; a slot with no current task shows its first failure",
			want: []topology.Node{{ID: "t:tf1", Kind: topology.KindTask, Label: "web.4", Engine: "lab1", Host: "node:far", Task: taskOf(fv, "tf1")}},
			wantEdges: []topology.Edge{
				{ID: "r:sv:s1>t:tf1", Kind: topology.EdgeReplica, From: "sv:s1", To: "t:tf1", Engine: "lab1"},
			},
			absent: []string{"t:th", "t:tf2", "t:tg2", "t:tg3"},
		},
		{
			name: "a global service's slot is its node, and its task is named by that node",
			edit: func(_ *topology.Graph, v *topology.SwarmView) {
				// The slot on n3 runs tg1; a failure on n1 is the only word
				// on the slot there.
				v.State.Tasks = append(v.State.Tasks, topology.SwarmTask{ID: "tg4", ServiceID: "s2", ServiceName: "agent", NodeID: "n1", DesiredState: "shutdown", State: "rejected", Error: "no such image"})
			},
			want: []topology.Node{
				{ID: "t:tg1", Kind: topology.KindTask, Label: "agent.far", Engine: "lab1", Host: "node:far", Task: taskOf(fv, "tg1")},
				{ID: "t:tg4", Kind: topology.KindTask, Label: "agent.dock", Engine: "lab1", Host: "local",
					Task: &topology.SwarmTask{ID: "tg4", ServiceID: "s2", ServiceName: "agent", NodeID: "n1", DesiredState: "shutdown", State: "rejected", Error: "no such image"}},
			},
			absent: []string{"t:tg2"},
		},
		{
			name:   "a task not yet scheduled is in no host",
			want:   []topology.Node{{ID: "t:tp", Kind: topology.KindTask, Label: "web.5", Engine: "lab1", Task: taskOf(fv, "tp")}},
			absent: []string{"m:t:tp@ov1"},
		},
		{
			name: "a service belongs to no host and joins its networks by its VIPs",
			want: []topology.Node{{ID: "sv:s1", Kind: topology.KindService, Label: "web", Engine: "lab1", Service: &fv.State.Services[0]}},
			wantEdges: []topology.Edge{
				{ID: "m:sv:s1@ingress", Kind: topology.EdgeMember, From: "sv:s1", To: "n:ingress", Engine: "lab1",
					Member: &topology.MemberInfo{NetworkName: "ingress", NetworkID: "ingress", IP: "10.0.0.5", PrefixLen: 24}},
				{ID: "m:sv:s1@ov1", Kind: topology.EdgeMember, From: "sv:s1", To: "n:ov1", Engine: "lab1",
					Member: &topology.MemberInfo{NetworkName: "ov1", NetworkID: "ov1", IP: "10.0.1.2", PrefixLen: 24}},
			},
			absent: []string{"m:sv:s1@gone", "n:gone"},
		},
		{
			name:   "a task of a service the manager no longer lists hangs on no edge",
			edit:   func(_ *topology.Graph, v *topology.SwarmView) { v.State.Services = v.State.Services[1:] },
			want:   []topology.Node{{ID: "t:tc", Kind: topology.KindTask, Label: "web.3", Engine: "lab1", Host: "node:far", Task: taskOf(fv, "tc")}},
			absent: []string{"sv:s1", "r:sv:s1>t:tc", "r:sv:s1>c:ca"},
		},
		{
			name: "an overlay no engine shows is added from the manager",
			want: []topology.Node{{ID: "n:ingress", Kind: topology.KindNetwork, Label: "ingress", Engine: "lab1", Network: &topology.NetworkInfo{
				ID: "ingress", Name: "ingress", Driver: "overlay", Scope: "swarm", Ingress: true, Subnets: []topology.Subnet{{Subnet: "10.0.0.0/24"}},
			}}},
		},
		{
			name: "an overlay an engine shows gets the manager's flags and spans the hosts",
			edit: func(g *topology.Graph, _ *topology.SwarmView) {
				// As if an engine had listed it as its own.
				for i := range g.Nodes {
					if g.Nodes[i].ID == "n:ov1" {
						g.Nodes[i].Host = "local"
						g.Nodes[i].Network.Scope = "local"
					}
				}
			},
			want: []topology.Node{{ID: "n:ov1", Kind: topology.KindNetwork, Label: "ov1", Engine: "local", Network: &topology.NetworkInfo{
				ID: "ov1", Name: "ov1", Driver: "overlay", Scope: "swarm", Attachable: true, Encrypted: true, Subnets: []topology.Subnet{{Subnet: "10.0.1.0/24"}},
			}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, v := swarmFixture()
			if tt.edit != nil {
				tt.edit(&g, &v)
			}
			before := snapshot(t, g)
			out := topology.AddSwarm(g, v)

			if after := snapshot(t, g); after != before {
				t.Errorf("AddSwarm changed its input graph:\nbefore %s\nafter  %s", before, after)
			}
			if !v.State.Active {
				if diff := cmp.Diff(g, out); diff != "" {
					t.Errorf("an inactive Swarm changed the map (-in +out):\n%s", diff)
				}
			}
			for _, w := range tt.want {
				got, ok := out.Node(w.ID)
				if !ok {
					t.Errorf("node %s missing", w.ID)
					continue
				}
				if diff := cmp.Diff(w, got); diff != "" {
					t.Errorf("node %s (-want +got):\n%s", w.ID, diff)
				}
			}
			for _, w := range tt.wantEdges {
				got, ok := out.Edge(w.ID)
				if !ok {
					t.Errorf("edge %s missing", w.ID)
					continue
				}
				if diff := cmp.Diff(w, got); diff != "" {
					t.Errorf("edge %s (-want +got):\n%s", w.ID, diff)
				}
			}
			for _, id := range tt.absent {
				if _, ok := out.Node(topology.NodeID(id)); ok {
					t.Errorf("node %s is on the map", id)
				}
				if _, ok := out.Edge(topology.EdgeID(id)); ok {
					t.Errorf("edge %s is on the map", id)
				}
			}
			checkWellFormed(t, g, out, v.Manager)
		})
	}
}

// snapshot is g as JSON, deep through its pointers, to tell whether a call
// wrote through them.
func snapshot(t *testing.T, g topology.Graph) string {
	t.Helper()
	b, err := json.Marshal(g)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkWellFormed checks what Diff and the page rely on: nodes and edges
// sorted with unique IDs, no edge with a missing end, and every edge the
// Swarm added stamped with the manager.
func checkWellFormed(t *testing.T, in, out topology.Graph, manager string) {
	t.Helper()
	if !slices.IsSortedFunc(out.Nodes, func(a, b topology.Node) int { return strings.Compare(string(a.ID), string(b.ID)) }) {
		t.Error("nodes not sorted by ID")
	}
	if !slices.IsSortedFunc(out.Edges, func(a, b topology.Edge) int { return strings.Compare(string(a.ID), string(b.ID)) }) {
		t.Error("edges not sorted by ID")
	}
	for i := 1; i < len(out.Nodes); i++ {
		if out.Nodes[i].ID == out.Nodes[i-1].ID {
			t.Errorf("node %s twice", out.Nodes[i].ID)
		}
	}
	for i := 1; i < len(out.Edges); i++ {
		if out.Edges[i].ID == out.Edges[i-1].ID {
			t.Errorf("edge %s twice", out.Edges[i].ID)
		}
	}
	if d := topology.Diff(out, out); !d.Empty() {
		t.Errorf("the result differs from itself: %+v", d)
	}
	for _, e := range out.Edges {
		if _, ok := out.Node(e.From); !ok {
			t.Errorf("edge %s starts at %s, which is not on the map", e.ID, e.From)
		}
		if _, ok := out.Node(e.To); !ok {
			t.Errorf("edge %s ends at %s, which is not on the map", e.ID, e.To)
		}
		if _, ok := in.Edge(e.ID); !ok && e.Engine != manager {
			t.Errorf("added edge %s has engine %q, want the manager's %q", e.ID, e.Engine, manager)
		}
	}
}

// The result's task is a copy: a later change to the manager's answer (the
// poller reuses its state) must not reach the map.
func TestAddSwarmCopiesTheManagersAnswer(t *testing.T) {
	g, v := swarmFixture()
	out := topology.AddSwarm(g, v)
	v.State.Tasks[2].Networks[0].Addresses[0] = "10.0.1.99/24"
	v.State.Services[0].VIPs[0].Addr = "10.0.0.99/24"
	v.State.Nodes[0].Hostname = "renamed"
	tc, _ := out.Node("t:tc")
	if got := tc.Task.Networks[0].Addresses[0]; got != "10.0.1.7/24" {
		t.Errorf("task address followed the manager's answer: %s", got)
	}
	sv, _ := out.Node("sv:s1")
	if got := sv.Service.VIPs[0].Addr; got != "10.0.0.5/24" {
		t.Errorf("service VIP followed the manager's answer: %s", got)
	}
	sn, _ := out.Node("sn:n1")
	if got := sn.SwarmNode.Hostname; got != "dock" {
		t.Errorf("Swarm node followed the manager's answer: %s", got)
	}
}
