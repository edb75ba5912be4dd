package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// swarmGraph is what the test reads off the map each time.
type swarmGraph struct {
	topology.Snapshot
}

func (g swarmGraph) swarmNodes() map[string]*topology.SwarmNode {
	out := map[string]*topology.SwarmNode{}
	for _, n := range g.Nodes {
		if n.SwarmNode != nil {
			out[n.SwarmNode.Hostname] = n.SwarmNode
		}
	}
	return out
}

// runningTasks are the nodes (containers or task nodes) of service svc's
// tasks meant to run and running, by host.
func (g swarmGraph) runningTasks(svc string) map[string][]topology.Node {
	out := map[string][]topology.Node{}
	for _, n := range g.Nodes {
		if n.Task != nil && n.Task.ServiceID == svc && n.Task.DesiredState == "running" && n.Task.State == "running" {
			out[n.Host] = append(out[n.Host], n)
		}
	}
	return out
}

func countTasks(m map[string][]topology.Node) int {
	n := 0
	for _, l := range m {
		n += len(l)
	}
	return n
}

// TestSwarmOnTheMap is issue 12's acceptance on the lab's real Swarm
// (lab1 manager, lab2 and lab3 workers) with the machine's own engine:
// four hosts, three Swarm nodes, a service of three tasks spread over
// them on one overlay that reaches the three hosts, all as the managers
// say; a probe across hosts by tasks.<svc> and TCP to the service is
// green and ping to its VIP is red; scale, drain and activate through
// plans; a partitioned host is shown down and its task moves; a stopped
// engine holds nobody else up.
func TestSwarmOnTheMap(t *testing.T) {
	image := dockertest.FixtureImage(t)
	lab := dockertest.Lab(t, 3, true)
	lab.Load(t, image)
	base, _, _ := launch(t, nil, nil, "--addr", "127.0.0.1:0", "--operator-token", opToken,
		"--engine", "lab1="+lab.Hosts[0], "--engine", "lab2="+lab.Hosts[1], "--engine", "lab3="+lab.Hosts[2])
	manager := labClient(t, lab.Hosts[0])
	ctx := t.Context()
	prefix := randomPrefix(t)

	// The overlay through dockmap, as a person would: on a worker it is
	// refused with the engine's name, on the manager it is made.
	ovName := prefix + "ov"
	var e apiErr
	if st := apiErrAs(t, base, "POST", "/api/networks?engine=lab2", map[string]any{"name": ovName, "driver": "overlay", "attachable": true}, &e); st != http.StatusConflict ||
		!strings.Contains(e.Detail, "engine lab2") || !strings.Contains(e.Detail, "manager") {
		t.Errorf("an overlay on a worker: HTTP %d %q, want 409 naming lab2 and saying a manager makes it", st, e.Detail)
	}
	var ov struct{ ID string }
	if st := apiAs(t, base, "POST", "/api/networks?engine=lab1", map[string]any{"name": ovName, "driver": "overlay", "attachable": true}, &ov); st != http.StatusCreated {
		t.Fatalf("create the overlay on lab1: HTTP %d", st)
	}
	svcName := prefix + "web"
	svcID, err := manager.CreateTestService(ctx, docker.TestService{Name: svcName, Image: image, Cmd: []string{"httpd", "-f", "-p", "8080"},
		Network: ov.ID, Replicas: 3, TargetPort: 8080, Labels: dockertest.Labels()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = manager.RemoveService(context.Background(), svcID) })

	var g swarmGraph
	read := func() swarmGraph {
		var s topology.Snapshot
		apiAs(t, base, "GET", "/api/graph", nil, &s)
		return swarmGraph{s}
	}
	waitUntil(t, "3 running tasks of the service on lab1, lab2 and lab3", func() (bool, string) {
		g = read()
		tasks := g.runningTasks(svcID)
		return len(tasks["lab1"]) == 1 && len(tasks["lab2"]) == 1 && len(tasks["lab3"]) == 1, fmt.Sprintf("%d running tasks by host: %v", countTasks(tasks), keys(tasks))
	})

	// The managers' word, read through the engine API, is the map's.
	st, err := manager.Swarm(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Host != "" {
			hosts[n.Host] = true
		}
	}
	if want := []string{"lab1", "lab2", "lab3", "local"}; !slices.Equal(keys(hosts), want) {
		t.Errorf("hosts = %v, want %v", keys(hosts), want)
	}
	nodes := g.swarmNodes()
	for _, sn := range st.Nodes {
		got := nodes[sn.Hostname]
		if got == nil || got.ID != sn.ID || got.Role != sn.Role || got.State != "ready" || got.Availability != "active" {
			t.Errorf("Swarm node %s on the map = %+v, the manager says %+v", sn.Hostname, got, sn)
		}
		if n, _ := g.Node(topology.SwarmNodeID(sn.ID)); n.Host != sn.Hostname {
			t.Errorf("Swarm node %s is drawn in host %q, want its own engine's", sn.Hostname, n.Host)
		}
	}
	svc, ok := g.Node(topology.ServiceNodeID(svcID))
	if !ok || svc.Service.Wanted != 3 || svc.Service.Running != 3 || len(svc.Service.VIPs) == 0 {
		t.Fatalf("service on the map = %+v, want 3 wanted, 3 running, with a VIP", svc.Service)
	}
	overlay, ok := g.Node(topology.NetworkNodeID(ov.ID))
	if !ok || overlay.Network.Scope != "swarm" || overlay.Host != "" {
		t.Fatalf("overlay on the map = %+v, want one Swarm-scoped network of no host", overlay)
	}
	reached := map[string]bool{}
	for _, tk := range st.Tasks {
		if tk.ServiceID != svcID || tk.DesiredState != "running" {
			continue
		}
		node := g.nodeOfTask(tk.ID)
		if node.ID == "" || node.Kind != topology.KindContainer || node.Container.ID != tk.ContainerID {
			t.Errorf("task %s (container %s) is %+v on the map, want its container's node", tk.ID, tk.ContainerID, node.ID)
			continue
		}
		var addr string
		for _, a := range tk.Networks {
			if a.ID == ov.ID && len(a.Addresses) > 0 {
				addr, _, _ = strings.Cut(a.Addresses[0], "/")
			}
		}
		edge, ok := g.MemberEdge(node.ID, overlay.ID)
		if !ok || edge.Member.IP != addr {
			t.Errorf("task %s on the overlay: %+v, the manager gives it %s", tk.ID, edge.Member, addr)
		}
		reached[node.Engine] = true
	}
	if len(reached) != 3 {
		t.Errorf("the overlay reaches %v, want lab1, lab2 and lab3", keys(reached))
	}

	// Across hosts: from lab3's task, tasks.<svc> and TCP to the service
	// answer; the VIP does not answer ping.
	from := g.runningTasks(svcID)["lab3"][0]
	fromRef := strings.TrimPrefix(string(from.ID), "c:")
	probe := func(body map[string]any) (ok bool, detail string) {
		t.Helper()
		var pr struct {
			Results []struct {
				OK             bool
				Target, Detail string
			}
		}
		body["from"] = fromRef
		if st := apiAs(t, base, "POST", "/api/probes", body, &pr); st != http.StatusOK || len(pr.Results) != 1 {
			t.Fatalf("probe %v: HTTP %d, %+v", body, st, pr.Results)
		}
		return pr.Results[0].OK, pr.Results[0].Target + ": " + pr.Results[0].Detail
	}
	if ok, d := probe(map[string]any{"service": svcID, "name": "tasks." + svcName}); !ok {
		t.Errorf("ping tasks.%s from lab3 failed: %s", svcName, d)
	}
	if ok, d := probe(map[string]any{"service": svcID, "name": "tasks." + svcName, "port": 8080}); !ok {
		t.Errorf("TCP to the service's port 8080 (tasks.%s) from lab3 failed: %s", svcName, d)
	}
	// TCP to the VIP needs IPVS in the hosts' kernel; this machine's has
	// no ip_vs module (and cannot load one), so there the VIP answers
	// nothing at all ("no route to host"), which the probe reports.
	if ipvs() {
		if ok, d := probe(map[string]any{"service": svcID, "by": "ip", "port": 8080}); !ok {
			t.Errorf("TCP to the service's VIP port 8080 from lab3 failed: %s", d)
		}
	} else {
		t.Logf("no IPVS in this kernel: TCP to the VIP is not checked")
	}
	if ok, d := probe(map[string]any{"service": svcID, "by": "ip"}); ok {
		t.Errorf("ping of the VIP answered (%s): a VIP answers no ping", d)
	}
	// Predicted as measured, with the VIP's reason.
	var pred reach.ServicePrediction
	if st := apiAs(t, base, "GET", "/api/reach?from="+url.QueryEscape(fromRef)+"&service="+svcID, nil, &pred); st != http.StatusOK {
		t.Fatalf("GET /api/reach for the service: HTTP %d", st)
	}
	if pred.PingVIP.OK || len(pred.PingVIP.Reasons) == 0 || pred.PingVIP.Reasons[0].Code != "vip-no-ping" || !strings.Contains(pred.PingVIP.Reasons[0].Fix, "tasks."+svcName) {
		t.Errorf("predicted ping of the VIP = %+v, want red with vip-no-ping and tasks.%s as the fix", pred.PingVIP, svcName)
	}
	if !pred.PingTasks.OK || pred.VIP == "" || pred.TasksName != "tasks."+svcName {
		t.Errorf("predicted = %+v, want tasks.%s green and the VIP named", pred, svcName)
	}
	lab1Task := g.runningTasks(svcID)["lab1"][0]
	if ok, d := probe(map[string]any{"to": strings.TrimPrefix(string(lab1Task.ID), "c:"), "by": "ip"}); !ok {
		t.Errorf("ping from lab3's task to lab1's over the overlay failed: %s", d)
	}

	// Scale to 5 through a plan: the map follows to five running tasks.
	if st := apiAs(t, base, "POST", "/api/services/"+svcID+"/scale", map[string]any{"replicas": 5}, &struct{}{}); st != http.StatusOK {
		t.Fatalf("scale to 5: HTTP %d", st)
	}
	waitUntil(t, "5 running tasks after the scale", func() (bool, string) {
		g = read()
		s, _ := g.Node(topology.ServiceNodeID(svcID))
		return countTasks(g.runningTasks(svcID)) == 5 && s.Service.Wanted == 5, fmt.Sprintf("%v", keys(g.runningTasks(svcID)))
	})

	// Drain lab3: asks for a confirm of the plan that says what moves;
	// then lab3 runs none of them.
	var pe struct {
		Plan struct {
			ID    string
			Loses []struct{ Text string }
		}
	}
	if st := apiAny(t, base, "POST", "/api/swarm-nodes/lab3/availability", map[string]any{"availability": "drain"}, &pe); st != http.StatusPreconditionRequired ||
		len(pe.Plan.Loses) == 0 || !strings.Contains(pe.Plan.Loses[0].Text, "lab3") {
		t.Fatalf("drain without confirm: HTTP %d, plan %+v; want 428 with what moves", st, pe.Plan)
	}
	if st := apiAs(t, base, "POST", "/api/swarm-nodes/lab3/availability", map[string]any{"availability": "drain", "confirm": true, "plan": pe.Plan.ID}, &struct{}{}); st != http.StatusOK {
		t.Fatalf("drain lab3: HTTP %d", st)
	}
	waitSwarm(t, "lab3 drained and its tasks running elsewhere", func() (bool, string) {
		g = read()
		tasks := g.runningTasks(svcID)
		return g.swarmNodes()["lab3"].Availability == "drain" && len(tasks["lab3"]) == 0 && countTasks(tasks) == 5, fmt.Sprintf("%v", keys(tasks))
	})
	if st := apiAs(t, base, "POST", "/api/swarm-nodes/lab3/availability", map[string]any{"availability": "active"}, &struct{}{}); st != http.StatusOK {
		t.Fatalf("activate lab3: HTTP %d", st)
	}

	// A partition: the managers find lab2 down (their own detection
	// time), its tasks start again on lab1 and lab3; mended, it is back.
	lab.Cut(t, 2)
	waitSwarm(t, "lab2 down on the map and its tasks elsewhere", func() (bool, string) {
		g = read()
		tasks := g.runningTasks(svcID)
		n := g.swarmNodes()["lab2"]
		return n.State == "down" && countTasks(tasks) == 5 && len(tasks["lab2"]) == 0, fmt.Sprintf("lab2 %s, %d tasks on %v", n.State, countTasks(tasks), keys(tasks))
	})
	lab.Mend(t, 2)
	waitSwarm(t, "lab2 ready again", func() (bool, string) {
		g = read()
		return g.swarmNodes()["lab2"].State == "ready", g.swarmNodes()["lab2"].State
	})

	// A stopped engine: its host's engine is down, the others' maps go on.
	lab.Stop(t, 3)
	t.Cleanup(func() { lab.Start(t, 3) })
	var other struct{ ID string }
	if st := apiAs(t, base, "POST", "/api/containers?engine=lab1", map[string]any{"name": prefix + "late", "image": image, "cmd": []string{"sleep", "3600"}}, &other); st != http.StatusCreated {
		t.Fatalf("run on lab1 while lab3 is stopped: HTTP %d", st)
	}
	waitUntil(t, "lab1's new container on the map while lab3 is stopped", func() (bool, string) {
		g = read()
		_, ok := g.Node(topology.ContainerNodeID(other.ID + "@lab1"))
		return ok, fmt.Sprintf("%d nodes", len(g.Nodes))
	})
}

// swarmWait bounds what waits on the Swarm's own timers: a node is found
// down after missed heartbeats (5 s each by default), and its tasks are
// then scheduled, pulled (here: loaded) and started elsewhere.
const swarmWait = 2 * time.Minute

// waitSwarm is waitUntil with swarmWait.
func waitSwarm(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	waitWithin(t, swarmWait, what, cond)
}

// ipvs reports whether the kernel has IP virtual server, which a
// service's VIP is made of.
func ipvs() bool {
	data, err := os.ReadFile("/proc/modules")
	if err == nil && strings.Contains(string(data), "ip_vs ") {
		return true
	}
	_, err = os.Stat("/proc/net/ip_vs")
	return err == nil
}

// nodeOfTask is the node that carries task id.
func (g swarmGraph) nodeOfTask(id string) topology.Node {
	for _, n := range g.Nodes {
		if n.Task != nil && n.Task.ID == id {
			return n
		}
	}
	return topology.Node{}
}

// keys lists a map's keys in order.
func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
