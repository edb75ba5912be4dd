package templates_test

import (
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web/templates"
)

// swarmMap is a merged map of two engines, lab1 a manager with a service
// web of two tasks: one whose container lab1 shows, one on a node dockmap
// does not connect to, rejected with the engine's error.
func swarmMap() topology.Graph {
	lab1 := topology.Stamp(topology.Build(topology.Inventory{
		Networks: []topology.Network{{ID: "ov", Name: "ov", Driver: "overlay", Scope: "swarm", Attachable: true}},
		Containers: []topology.Container{{ID: strings.Repeat("a", 64), Name: "web.1.x", Names: []string{"web.1.x"}, State: "running", Status: "Up", NetworkMode: "default",
			Endpoints: []topology.Endpoint{{NetworkID: "ov", NetworkName: "ov", EndpointID: "e1", IP: "10.0.1.5", PrefixLen: 24}}}},
	}), "lab1", true)
	return topology.AddSwarm(topology.Merge(lab1), topology.SwarmView{Manager: "lab1", Default: "local", Engines: map[string]string{"n1": "lab1"},
		State: topology.SwarmState{Active: true, NodeID: "n1",
			Nodes: []topology.SwarmNode{{ID: "n1", Hostname: "lab1", Role: "manager", Availability: "active", State: "ready", Leader: true},
				{ID: "n9", Hostname: "far", Role: "worker", Availability: "drain", State: "down", Message: "heartbeat failure"}},
			Services: []topology.SwarmService{{ID: "s1", Name: "web", Mode: "replicated", Wanted: 2, Running: 1,
				Ports: []topology.SwarmPort{{Published: 8080, Target: 80, Protocol: "tcp", Mode: "ingress"}},
				VIPs:  []topology.SwarmVIP{{NetworkID: "ov", NetworkName: "ov", Addr: "10.0.1.2/24"}}}},
			Tasks: []topology.SwarmTask{
				{ID: "t1", ServiceID: "s1", ServiceName: "web", Slot: 1, NodeID: "n1", DesiredState: "running", State: "running", ContainerID: strings.Repeat("a", 64)},
				{ID: "t2", ServiceID: "s1", ServiceName: "web", Slot: 2, NodeID: "n9", DesiredState: "running", State: "rejected", Error: "network sandbox join failed"},
			},
			Networks: []topology.SwarmNetwork{{ID: "ov", Name: "ov", Driver: "overlay", Scope: "swarm", Attachable: true}},
		}})
}

// The service panel lists its tasks with the engine's states and error,
// its VIP with why it answers no ping, and, for an operator only, the
// scale form and probes from a container on its network.
func TestServicePanel(t *testing.T) {
	v, ok := templates.NewServicePanelView(swarmMap(), topology.ServiceNodeID("s1"))
	if !ok {
		t.Fatal("no service panel for sv:s1")
	}
	doc, _ := mustRender(t, templates.ServicePanel(v))
	tasks := texts(doc.Find("[data-testid=swarm-task]"))
	if len(tasks) != 2 || !strings.Contains(tasks[0], "web.1 on lab1: running") || !strings.Contains(tasks[1], "rejected") || !strings.Contains(tasks[1], "network sandbox join failed") {
		t.Errorf("tasks = %q", tasks)
	}
	if got := testText(doc.Selection, "service-replicas"); got != "1 running of 2 wanted" {
		t.Errorf("replicas = %q", got)
	}
	if vips := testText(doc.Selection, "service-vips"); !strings.Contains(vips, "10.0.1.2/24") || !strings.Contains(vips, "never ping") {
		t.Errorf("VIPs = %q, want the VIP and why it answers no ping", vips)
	}
	if doc.Find("[data-testid=scale-replicas]").AttrOr("value", "") != "2" || doc.Find("[data-testid=probe-tcp]").AttrOr("data-port", "") != "80" {
		t.Errorf("an operator's scale form or TCP probe is missing or wrong")
	}
	if from := doc.Find("[data-testid=service-probe-from] option").AttrOr("value", ""); from != strings.Repeat("a", 64)+"@lab1" {
		t.Errorf("probe from %q, want web.1's container by its map ID", from)
	}
	viewer, _ := mustRenderAs(t, templates.Access{Role: "viewer"}, templates.ServicePanel(v))
	if viewer.Find("[data-testid=scale-form], [data-testid=service-probe]").Length() != 0 {
		t.Error("a viewer gets the scale form or the probes")
	}
}

// A Swarm node's panel says its state with the managers' reason, its
// availability (the current one's button off) and that dockmap does not
// connect to its engine; a task's panel gives the engine's error.
func TestSwarmNodeAndTaskPanels(t *testing.T) {
	g := swarmMap()
	v, ok := templates.NewSwarmNodePanelView(g, topology.SwarmNodeID("n9"))
	if !ok {
		t.Fatal("no panel for sn:n9")
	}
	doc, html := mustRender(t, templates.SwarmNodePanel(v))
	if got := testText(doc.Selection, "swarm-node-state"); got != "down: heartbeat failure" {
		t.Errorf("state = %q", got)
	}
	if _, off := doc.Find("[data-testid=node-drain]").Attr("disabled"); !off {
		t.Error("Drain is offered on a drained node")
	}
	if _, off := doc.Find("[data-testid=node-active]").Attr("disabled"); off {
		t.Error("Activate is off on a drained node")
	}
	if !strings.Contains(html, "not one of dockmap") {
		t.Error("the panel does not say dockmap has no engine on far")
	}
	tv, ok := templates.NewTaskPanelView(g, topology.TaskNodeID("t2"))
	if !ok {
		t.Fatal("no panel for t:t2")
	}
	doc, _ = mustRender(t, templates.TaskPanel(tv))
	if got := testText(doc.Selection, "task-error"); got != "network sandbox join failed" {
		t.Errorf("task error = %q", got)
	}
}
