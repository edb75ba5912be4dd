package reach_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// The Swarm lab: three engines, lab1 (the default one, its IDs bare),
// lab2 and lab3 (their IDs end in @lab2, @lab3), each a node of one Swarm
// whose manager is lab1. The service api runs three tasks, api.1.aaa,
// api.2.bbb and api.3.ccc, one per host, on the attachable overlay appnet
// and on the ingress network (it publishes 8080→80). On lab1, client is a
// plain container on lab1's bridge, probe a plain one on lab1's bridge and
// appnet, hostmon one in host mode; on lab2, worker is a plain one on
// lab2's bridge and appnet. Every bridge hands out 172.17.0.x: addresses
// repeat from host to host.
var labHosts = []string{"lab1", "lab2", "lab3"}

// lab is the inventories of the three engines and the Swarm as lab1
// tells it, for a test to change before swarmGraph draws them.
type lab struct {
	inv   [3]topology.Inventory
	view  topology.SwarmView
	skip3 bool // dockmap does not connect to lab3's engine
}

// ep attaches a container to a network with the given address.
func ep(network, netID, ip string) option {
	return func(c *topology.Container) {
		c.Endpoints = append(c.Endpoints, topology.Endpoint{
			NetworkName: network, NetworkID: netID, EndpointID: "ep-" + c.Name + "-" + network, IP: ip, PrefixLen: 16,
		})
	}
}

var (
	appnetOv  = topology.Network{ID: "ov-appnet", Name: "appnet", Driver: "overlay", Scope: "swarm", ICC: true}
	ingressOv = topology.Network{ID: "ingress-id", Name: "ingress", Driver: "overlay", Scope: "swarm", ICC: true}
)

func newLab() *lab {
	l := &lab{}
	task := func(slot string, ip string) topology.Container {
		return ctr("api."+slot, ep("appnet", "ov-appnet", "10.0.1."+ip), ep("ingress", "ingress-id", "10.0.0."+ip), port(80))
	}
	for i, h := range labHosts {
		br := topology.Network{ID: "br" + h[3:], Name: "bridge", Driver: "bridge", Scope: "local", ICC: true, Default: true}
		l.inv[i].Networks = []topology.Network{br, appnetOv, ingressOv}
	}
	l.inv[0].Containers = []topology.Container{
		ctr("client", ep("bridge", "br1", "172.17.0.2")),
		ctr("probe", ep("bridge", "br1", "172.17.0.3"), ep("appnet", "ov-appnet", "10.0.1.10")),
		ctr("hostmon", mode("host")),
		task("1.aaa", "3"),
	}
	l.inv[1].Containers = []topology.Container{
		task("2.bbb", "4"),
		ctr("worker", ep("bridge", "br2", "172.17.0.2"), ep("appnet", "ov-appnet", "10.0.1.11")),
	}
	l.inv[2].Containers = []topology.Container{task("3.ccc", "5")}

	taskOf := func(n int, node, cid, ip string) topology.SwarmTask {
		slot := string(rune('0' + n))
		return topology.SwarmTask{
			ID: "t" + slot, ServiceID: "s-api", ServiceName: "api", Slot: n, NodeID: node,
			DesiredState: "running", State: "running", ContainerID: id(cid),
			Networks: []topology.SwarmTaskNetwork{
				{ID: "ov-appnet", Name: "appnet", Addresses: []string{"10.0.1." + ip + "/24"}},
				{ID: "ingress-id", Name: "ingress", Addresses: []string{"10.0.0." + ip + "/24"}},
			},
		}
	}
	l.view = topology.SwarmView{
		Manager: "lab1", Default: "lab1",
		Engines: map[string]string{"n1": "lab1", "n2": "lab2", "n3": "lab3"},
		State: topology.SwarmState{
			Active: true, LocalState: "active", ID: "cluster", NodeID: "n1",
			Nodes: []topology.SwarmNode{
				{ID: "n1", Hostname: "lab1", Role: "manager", Availability: "active", State: "ready", Leader: true},
				{ID: "n2", Hostname: "lab2", Role: "worker", Availability: "active", State: "ready"},
				{ID: "n3", Hostname: "lab3", Role: "worker", Availability: "active", State: "ready"},
			},
			Services: []topology.SwarmService{{
				ID: "s-api", Name: "api", Mode: "replicated", Wanted: 3, Running: 3,
				Ports: []topology.SwarmPort{{Published: 8080, Target: 80, Protocol: "tcp", Mode: "ingress"}},
				VIPs: []topology.SwarmVIP{
					{NetworkID: "ingress-id", NetworkName: "ingress", Addr: "10.0.0.2/24"},
					{NetworkID: "ov-appnet", NetworkName: "appnet", Addr: "10.0.1.2/24"},
				},
				Networks: []topology.NetworkRef{{ID: "ov-appnet", Name: "appnet"}},
			}},
			Tasks: []topology.SwarmTask{
				taskOf(1, "n1", "api.1.aaa", "3"),
				taskOf(2, "n2", "api.2.bbb", "4"),
				taskOf(3, "n3", "api.3.ccc", "5"),
			},
			Networks: []topology.SwarmNetwork{
				{ID: "ingress-id", Name: "ingress", Driver: "overlay", Scope: "swarm", Ingress: true},
				{ID: "ov-appnet", Name: "appnet", Driver: "overlay", Scope: "swarm", Attachable: true},
			},
		},
	}
	return l
}

// graph draws the lab as the server does: each engine's graph stamped
// with its name, merged, and the Swarm added on top.
func (l *lab) graph() topology.Graph {
	var parts []topology.Graph
	for i, h := range labHosts {
		if i == 2 && l.skip3 {
			continue
		}
		parts = append(parts, topology.Stamp(topology.Build(l.inv[i]), h, i > 0))
	}
	return topology.AddSwarm(topology.Merge(parts...), l.view)
}

// at is the node of a lab container: bare on lab1, suffixed elsewhere.
func at(name, host string) topology.NodeID {
	if host == "lab1" {
		return node(name)
	}
	return topology.NodeID(string(node(name)) + "@" + host)
}

// where says on which host each lab container runs.
var where = map[string]string{
	"client": "lab1", "probe": "lab1", "hostmon": "lab1", "api.1.aaa": "lab1",
	"api.2.bbb": "lab2", "worker": "lab2", "api.3.ccc": "lab3",
}

func labNode(name string) topology.NodeID { return at(name, where[name]) }

// setTask changes the task of slot n in the Swarm and the state of its
// container on its engine.
func (l *lab) setTask(n int, state, taskErr, ctrState string) {
	l.view.State.Tasks[n-1].State, l.view.State.Tasks[n-1].Error = state, taskErr
	for i := range l.inv {
		for j := range l.inv[i].Containers {
			if c := &l.inv[i].Containers[j]; c.ID == l.view.State.Tasks[n-1].ContainerID {
				c.State = ctrState
			}
		}
	}
}

func (l *lab) appnet(f func(*topology.SwarmNetwork)) { f(&l.view.State.Networks[1]) }

func TestSwarmExplain(t *testing.T) {
	tests := []struct {
		name            string
		edit            func(*lab)
		from, to        string
		ip, byName, tcp result
		texts           []string
	}{
		{
			name: "a plain container on lab1's bridge and a task on lab2 share no network",
			from: "client", to: "api.2.bbb",
			ip: no("different-hosts"), byName: no("different-hosts"), tcp: no("different-hosts"),
			texts: []string{
				"client runs on lab1 and api.2.bbb on lab2, and they share no network: a bridge network exists on one host only; only an overlay network spans hosts.",
				"Attach client to appnet (docker network connect appnet client on lab1).",
			},
		},
		{
			name: "the task's overlay is not attachable: a plain container cannot join it",
			edit: func(l *lab) { l.appnet(func(n *topology.SwarmNetwork) { n.Attachable = false }) },
			from: "client", to: "api.2.bbb",
			ip: no("different-hosts", "not-attachable"), byName: no("different-hosts", "not-attachable"), tcp: no("different-hosts", "not-attachable"),
			texts: []string{
				"appnet is an overlay that is not attachable: only services' tasks join it, and client is a plain container.",
				"docker service create --network appnet",
				"docker network create -d overlay --attachable appnet), then docker network connect appnet client on lab1 and docker service update --network-add appnet api.",
			},
		},
		{
			name: "a task to a plain container on another host's bridge",
			from: "api.2.bbb", to: "client",
			ip: no("different-hosts"), byName: no("different-hosts"), tcp: no("different-hosts"),
			texts: []string{"api.2.bbb runs on lab2 and client on lab1", "docker network connect appnet client on lab1"},
		},
		{
			name: "two plain containers on two hosts' bridges: create an attachable overlay",
			edit: func(l *lab) {
				l.inv[1].Containers[1] = ctr("worker", ep("bridge", "br2", "172.17.0.2"))
				l.inv[0].Containers[1] = ctr("probe", ep("bridge", "br1", "172.17.0.3"))
			},
			from: "probe", to: "worker",
			ip: no("different-hosts"), byName: no("different-hosts"), tcp: no("different-hosts"),
			texts: []string{"On a Swarm manager, create an attachable overlay (docker network create -d overlay --attachable appnet), then docker network connect appnet probe on lab1 and docker network connect appnet worker on lab2."},
		},
		{
			name: "a container attached to the overlay reaches a task on another host, by name too",
			from: "probe", to: "api.2.bbb",
			ip: okVia("appnet"), byName: okVia("appnet", "common-network"), tcp: okVia("appnet"),
		},
		{
			name: "tasks of one service on two hosts: the overlay, not the ingress network",
			from: "api.1.aaa", to: "api.3.ccc",
			ip: okVia("appnet"), byName: okVia("appnet", "common-network"), tcp: okVia("appnet"),
		},
		{
			name: "an encrypted overlay: still reachable, with a note on ESP",
			edit: func(l *lab) { l.appnet(func(n *topology.SwarmNetwork) { n.Encrypted = true }) },
			from: "probe", to: "api.2.bbb",
			ip: okVia("appnet", "encrypted-overlay"), byName: okVia("appnet", "common-network", "encrypted-overlay"), tcp: okVia("appnet", "encrypted-overlay"),
			texts: []string{"appnet is an encrypted overlay: between hosts its traffic is IPsec (ESP, IP protocol 50), which every firewall between lab1 and lab2 must let through."},
		},
		{
			name: "the target's Swarm node is down",
			edit: func(l *lab) {
				l.view.State.Nodes[2].State, l.view.State.Nodes[2].Message = "down", "heartbeat failure"
			},
			from: "probe", to: "api.3.ccc",
			ip: no("node-down"), byName: no("node-down"), tcp: no("node-down"),
			texts: []string{"api.3.ccc runs on lab3, whose Swarm node lab3 is down (heartbeat failure): nothing on it is reachable.", "docker node ls"},
		},
		{
			name: "the asking container's Swarm node is disconnected",
			edit: func(l *lab) { l.view.State.Nodes[0].State = "disconnected" },
			from: "probe", to: "api.2.bbb",
			ip: no("node-down"), byName: no("node-down"), tcp: no("node-down"),
			texts: []string{"probe runs on lab1, whose Swarm node lab1 is disconnected"},
		},
		{
			name: "a task on a drained node is on its way out",
			edit: func(l *lab) { l.view.State.Nodes[2].Availability = "drain" },
			from: "probe", to: "api.3.ccc",
			ip: no("node-down"), byName: no("node-down"), tcp: no("node-down"),
			texts: []string{"api.3.ccc runs on lab3, whose Swarm node lab3 is drained"},
		},
		{
			name: "a plain container on a drained node stays",
			edit: func(l *lab) { l.view.State.Nodes[1].Availability = "drain" },
			from: "probe", to: "worker",
			ip: okVia("appnet"), byName: okVia("appnet", "common-network"), tcp: no("no-exposed-port"),
		},
		{
			name: "a task that is not running shows the engine's error, not just stopped",
			edit: func(l *lab) { l.setTask(2, "rejected", "network sandbox join failed", "created") },
			from: "probe", to: "api.2.bbb",
			ip: no("task-not-running"), byName: no("task-not-running"), tcp: no("task-not-running"),
			texts: []string{"api.2.bbb on lab2 is task 2 of service api, and it is rejected: network sandbox join failed.", "UDP 4789"},
		},
		{
			name: "tasks that share only the ingress network: by IP, not by name",
			edit: func(l *lab) {
				for _, c := range []*topology.Container{&l.inv[0].Containers[3], &l.inv[2].Containers[0]} {
					c.Endpoints = c.Endpoints[1:]
				}
			},
			from: "api.1.aaa", to: "api.3.ccc",
			ip: okVia("ingress"), byName: no("ingress-no-dns"), tcp: okVia("ingress"),
			texts: []string{"the routing mesh's network: it carries published ports, and Docker's DNS serves no names on it."},
		},
		{
			name: "host mode on lab1 does not reach a task on lab2",
			from: "hostmon", to: "api.2.bbb",
			ip: no("different-hosts"), byName: no("different-hosts"), tcp: no("different-hosts"),
			texts: []string{"hostmon uses lab1's network stack and api.2.bbb runs on lab2: a host reaches the container addresses of its own bridges only"},
		},
		{
			name: "host mode does not reach overlay addresses, even on its own host",
			from: "hostmon", to: "api.1.aaa",
			ip: no("host-network"), byName: no("host-network"), tcp: no("host-network"),
			texts: []string{"an overlay's addresses are not routed from the host"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab()
			if tt.edit != nil {
				tt.edit(l)
			}
			p, err := reach.Explain(l.graph(), labNode(tt.from), labNode(tt.to))
			if err != nil {
				t.Fatalf("Explain: %v", err)
			}
			for _, o := range []struct {
				by   string
				got  reach.Outcome
				want result
			}{{"ByIP", p.ByIP, tt.ip}, {"ByName", p.ByName, tt.byName}, {"TCP", p.TCP, tt.tcp}} {
				if diff := cmp.Diff(o.want, resultOf(o.got)); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s\nreasons: %+v", o.by, diff, o.got.Reasons)
				}
				checkReasons(t, o.by, o.got)
			}
			all := allText(p)
			for _, want := range tt.texts {
				if !strings.Contains(all, want) {
					t.Errorf("reasons lack %q; they are:\n%s", want, all)
				}
			}
		})
	}
}

// checkReasons checks what the page relies on: every reason has a code and
// a text, and a failure offers a fix.
func checkReasons(t *testing.T, by string, o reach.Outcome) {
	t.Helper()
	fixed := false
	for _, r := range o.Reasons {
		if r.Text == "" || r.Code == "" {
			t.Errorf("%s has a reason without code or text: %+v", by, r)
		}
		fixed = fixed || r.Fix != ""
	}
	if !o.OK && !fixed {
		t.Errorf("%s fails and no reason offers a fix: %+v", by, o.Reasons)
	}
}

func TestSwarmExplainName(t *testing.T) {
	g := newLab().graph()
	for name, want := range map[string]bool{"api.2.bbb": true, "API.2.BBB": true, "worker": false} {
		o, err := reach.ExplainName(g, labNode("probe"), labNode("api.2.bbb"), name)
		if err != nil {
			t.Fatal(err)
		}
		if o.OK != want {
			t.Errorf("probe → api.2.bbb by %q = %+v, want ok %v", name, o, want)
		}
	}
	o, err := reach.ExplainName(g, labNode("client"), labNode("api.2.bbb"), "api.2.bbb")
	if err != nil {
		t.Fatal(err)
	}
	if o.OK || !hasCode(o.Reasons, "different-hosts") {
		t.Errorf("client → api.2.bbb by name = %+v, want different-hosts", o)
	}
}

// Target aims a probe at the overlay address when the two run on
// different hosts: the bridge address 172.17.0.2 is a stranger's on the
// asking host.
func TestSwarmTarget(t *testing.T) {
	tests := []struct {
		name     string
		from, to string
		want     string
	}{
		{"a shared overlay", "probe", "worker", "10.0.1.11"},
		{"no shared network, different hosts: the overlay address, not the bridge one", "client", "worker", "10.0.1.11"},
		{"tasks of one service: the overlay before the ingress network", "api.1.aaa", "api.3.ccc", "10.0.1.5"},
	}
	x := reach.New(newLab().graph())
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := x.Target(labNode(tt.from), labNode(tt.to))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Target(%s, %s) = %q, want %q", tt.from, tt.to, got, tt.want)
			}
		})
	}
}

func TestExplainService(t *testing.T) {
	type addrs struct {
		Network, VIP, TasksName, Name string
		Port                          uint16
	}
	onAppnet := addrs{Network: "appnet", VIP: "10.0.1.2", TasksName: "tasks.api", Name: "api", Port: 80}
	offNet := addrs{TasksName: "tasks.api", Name: "api", Port: 80}
	tests := []struct {
		name                    string
		edit                    func(*lab)
		from                    string
		vip, byName, tasks, tcp result
		addrs                   addrs
		texts                   []string
	}{
		{
			name: "on the service's overlay: the VIP takes TCP, not ping; tasks.api pings",
			from: "probe",
			vip:  no("vip-no-ping"), byName: no("vip-no-ping"), tasks: okVia("appnet"), tcp: okVia("appnet"),
			addrs: onAppnet,
			texts: []string{
				"api's VIP 10.0.1.2 is a virtual address: it answers TCP and UDP on the service's ports, not ping.",
				"Probe TCP port 80, or ping tasks.api",
				"the name api resolves to the service's VIP, and api's VIP 10.0.1.2 is a virtual address",
			},
		},
		{
			name: "from another host's task, over the overlay",
			from: "api.2.bbb",
			vip:  no("vip-no-ping"), byName: no("vip-no-ping"), tasks: okVia("appnet"), tcp: okVia("appnet"),
			addrs: onAppnet,
		},
		{
			name: "a plain container on lab1's bridge shares no overlay with the service",
			from: "client",
			vip:  no("no-common-overlay", "vip-no-ping"), byName: no("no-common-overlay", "vip-no-ping"),
			tasks: no("no-common-overlay"), tcp: no("no-common-overlay"),
			addrs: offNet,
			texts: []string{"client (on lab1) is on none of api's networks (appnet)", "docker network connect appnet client on lab1"},
		},
		{
			name: "the service's overlay is not attachable",
			edit: func(l *lab) { l.appnet(func(n *topology.SwarmNetwork) { n.Attachable = false }) },
			from: "client",
			vip:  no("no-common-overlay", "not-attachable", "vip-no-ping"), byName: no("no-common-overlay", "not-attachable", "vip-no-ping"),
			tasks: no("no-common-overlay", "not-attachable"), tcp: no("no-common-overlay", "not-attachable"),
			addrs: offNet,
			texts: []string{"appnet is an overlay that is not attachable"},
		},
		{
			name: "no task runs: tasks.api resolves to nothing, with the engine's errors",
			edit: func(l *lab) {
				l.setTask(1, "rejected", "network sandbox join failed", "created")
				l.setTask(2, "failed", "task: non-zero exit (1)", "exited")
				l.setTask(3, "rejected", "network sandbox join failed", "created")
				l.view.State.Services[0].Running = 0
			},
			from: "probe",
			vip:  no("vip-no-ping"), byName: no("vip-no-ping"), tasks: no("no-running-task"), tcp: no("no-running-task"),
			addrs: onAppnet,
			texts: []string{
				"no task of api runs on appnet (0 of 3 running), so tasks.api resolves to nothing: api.1.aaa on lab1: rejected: network sandbox join failed; api.2.bbb on lab2: failed: task: non-zero exit (1)",
				"UDP 4789",
			},
		},
		{
			name: "tasks on down nodes do not count",
			edit: func(l *lab) {
				l.setTask(1, "failed", "task: non-zero exit (1)", "exited")
				l.view.State.Nodes[1].State = "down"
				l.view.State.Nodes[2].State = "unknown"
			},
			from: "probe",
			vip:  no("vip-no-ping"), byName: no("vip-no-ping"), tasks: no("no-running-task"), tcp: no("no-running-task"),
			addrs: onAppnet,
			texts: []string{"api.2.bbb on lab2: its node lab2 is down", "api.3.ccc on lab3: its node lab3 is unknown"},
		},
		{
			name: "tasks on drained nodes do not count",
			edit: func(l *lab) {
				l.setTask(1, "failed", "task: non-zero exit (1)", "exited")
				l.view.State.Nodes[1].Availability = "drain"
				l.view.State.Nodes[2].Availability = "drain"
			},
			from: "probe",
			vip:  no("vip-no-ping"), byName: no("vip-no-ping"), tasks: no("no-running-task"), tcp: no("no-running-task"),
			addrs: onAppnet,
			texts: []string{"api.3.ccc on lab3: its node lab3 is drained"},
		},
		{
			name: "a running task on a host dockmap does not connect to counts, by the manager's word",
			edit: func(l *lab) {
				l.skip3 = true
				l.view.Engines = map[string]string{"n1": "lab1", "n2": "lab2"}
				l.setTask(1, "failed", "task: non-zero exit (1)", "exited")
				l.setTask(2, "failed", "task: non-zero exit (1)", "exited")
			},
			from: "probe",
			vip:  no("vip-no-ping"), byName: no("vip-no-ping"), tasks: okVia("appnet"), tcp: okVia("appnet"),
			addrs: onAppnet,
		},
		{
			name: "the asking container's node is down",
			edit: func(l *lab) { l.view.State.Nodes[0].State = "down" },
			from: "probe",
			vip:  no("node-down", "vip-no-ping"), byName: no("node-down", "vip-no-ping"), tasks: no("node-down"), tcp: no("node-down"),
			addrs: onAppnet,
		},
		{
			name: "host mode: no overlay, no Docker DNS",
			from: "hostmon",
			vip:  no("host-network", "vip-no-ping"), byName: no("host-network", "vip-no-ping"), tasks: no("host-network"), tcp: no("host-network"),
			addrs: offNet,
		},
		{
			name: "no published port: a port the tasks expose",
			edit: func(l *lab) { l.view.State.Services[0].Ports = nil },
			from: "probe",
			vip:  no("vip-no-ping"), byName: no("vip-no-ping"), tasks: okVia("appnet"), tcp: okVia("appnet"),
			addrs: onAppnet,
		},
		{
			name: "no port known at all",
			edit: func(l *lab) {
				l.view.State.Services[0].Ports = nil
				for i := range l.inv {
					for j := range l.inv[i].Containers {
						l.inv[i].Containers[j].Ports = nil
					}
				}
			},
			from: "probe",
			vip:  no("vip-no-ping"), byName: no("vip-no-ping"), tasks: okVia("appnet"), tcp: no("no-target-port"),
			addrs: addrs{Network: "appnet", VIP: "10.0.1.2", TasksName: "tasks.api", Name: "api"},
			texts: []string{"Probe TCP on the port api listens on, or ping tasks.api"},
		},
		{
			name: "endpoint mode dnsrr: no VIP, the name resolves to the tasks",
			edit: func(l *lab) { l.view.State.Services[0].VIPs = nil },
			from: "probe",
			vip:  no("no-vip"), byName: okVia("appnet", "dnsrr"), tasks: okVia("appnet"), tcp: okVia("appnet"),
			addrs: addrs{Network: "appnet", TasksName: "tasks.api", Name: "api", Port: 80},
		},
		{
			name: "an encrypted overlay is noted",
			edit: func(l *lab) { l.appnet(func(n *topology.SwarmNetwork) { n.Encrypted = true }) },
			from: "probe",
			vip:  no("vip-no-ping"), byName: no("vip-no-ping"), tasks: okVia("appnet", "encrypted-overlay"), tcp: okVia("appnet", "encrypted-overlay"),
			addrs: onAppnet,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newLab()
			if tt.edit != nil {
				tt.edit(l)
			}
			p, err := reach.ExplainService(l.graph(), labNode(tt.from), topology.ServiceNodeID("s-api"))
			if err != nil {
				t.Fatalf("ExplainService: %v", err)
			}
			if p.From != id(tt.from) || p.Service != "s-api" {
				t.Errorf("From, Service = %s, %s", p.From, p.Service)
			}
			got := addrs{Network: p.Network, VIP: p.VIP, TasksName: p.TasksName, Name: p.Name, Port: p.Port}
			if diff := cmp.Diff(tt.addrs, got); diff != "" {
				t.Errorf("addresses (-want +got):\n%s", diff)
			}
			var all strings.Builder
			for _, o := range []struct {
				by   string
				got  reach.Outcome
				want result
			}{{"PingVIP", p.PingVIP, tt.vip}, {"PingName", p.PingName, tt.byName}, {"PingTasks", p.PingTasks, tt.tasks}, {"TCP", p.TCP, tt.tcp}} {
				if diff := cmp.Diff(o.want, resultOf(o.got)); diff != "" {
					t.Errorf("%s mismatch (-want +got):\n%s\nreasons: %+v", o.by, diff, o.got.Reasons)
				}
				checkReasons(t, o.by, o.got)
				for _, r := range o.got.Reasons {
					all.WriteString(r.Code + ": " + r.Text + " | " + r.Fix + "\n")
				}
			}
			for _, want := range tt.texts {
				if !strings.Contains(all.String(), want) {
					t.Errorf("reasons lack %q; they are:\n%s", want, all.String())
				}
			}
		})
	}
}

func TestExplainServiceErrors(t *testing.T) {
	x := reach.New(newLab().graph())
	tests := []struct {
		name      string
		from, svc topology.NodeID
		want      error
	}{
		{"unknown service", labNode("probe"), topology.ServiceNodeID("nope"), topology.ErrNotFound},
		{"a container is not a service", labNode("probe"), labNode("worker"), topology.ErrInvalid},
		{"a service does not ask", topology.ServiceNodeID("s-api"), topology.ServiceNodeID("s-api"), topology.ErrInvalid},
		{"unknown container", node("nobody"), topology.ServiceNodeID("s-api"), topology.ErrNotFound},
	}
	for _, tt := range tests {
		if _, err := x.ExplainService(tt.from, tt.svc); !errors.Is(err, tt.want) {
			t.Errorf("%s: error = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestAgreeService(t *testing.T) {
	p := reach.ServicePrediction{PingTasks: reach.Outcome{OK: true}, TCP: reach.Outcome{OK: true}}
	for by, want := range map[string]bool{"vip": false, "name": false, "tasks": true, "tcp": true} {
		if !reach.AgreeService(p, by, want) || reach.AgreeService(p, by, !want) {
			t.Errorf("AgreeService by %s disagrees with the prediction", by)
		}
	}
	if reach.AgreeService(p, "ip", true) || reach.AgreeService(p, "ip", false) {
		t.Error("an unknown probe agreed")
	}
}

// A probe result between a container and a task is stale once the task's
// state or its node's changes.
func TestSwarmBetween(t *testing.T) {
	fp := func(edit func(*lab)) string {
		l := newLab()
		if edit != nil {
			edit(l)
		}
		return reach.New(l.graph()).Between(labNode("probe"), labNode("api.2.bbb"))
	}
	before := fp(nil)
	for what, edit := range map[string]func(*lab){
		"the task fails":       func(l *lab) { l.setTask(2, "failed", "task: non-zero exit (1)", "running") },
		"its node goes down":   func(l *lab) { l.view.State.Nodes[1].State = "down" },
		"appnet gets IPsec on": func(l *lab) { l.appnet(func(n *topology.SwarmNetwork) { n.Encrypted = true }) },
	} {
		if got := fp(edit); got == before {
			t.Errorf("%s: Between unchanged; a probe result from before is stale", what)
		}
	}
	if got := fp(func(l *lab) { l.view.State.Nodes[2].State = "down" }); got != before {
		t.Errorf("lab3 going down changed Between of probe → api.2.bbb (%s → %s)", before, got)
	}
}
