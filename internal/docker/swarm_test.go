package docker_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/swarm"
	"github.com/docker/docker/client"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestSwarmOfAnEngineInNoSwarm: the machine's engine, in no Swarm, is a
// state saying so, not an error.
func TestSwarmOfAnEngineInNoSwarm(t *testing.T) {
	c := dockertest.Client(t)
	st, err := c.Swarm(t.Context())
	if err != nil {
		t.Fatalf("Swarm: %v", err)
	}
	if st.LocalState == string(swarm.LocalNodeStateActive) {
		t.Skip("the machine's engine is in a Swarm")
	}
	if st.Active || st.Nodes != nil || st.Services != nil || st.Tasks != nil || st.Networks != nil {
		t.Errorf("Swarm of an engine in no Swarm = %+v, want inactive and nothing listed", st)
	}
	if st.LocalState != string(swarm.LocalNodeStateInactive) {
		t.Errorf("LocalState = %q, want inactive", st.LocalState)
	}
}

// labSDK is the SDK's own client for a lab engine: the ground truth, and
// the hands that make the test's service.
func labSDK(t *testing.T, host string) *client.Client {
	t.Helper()
	api, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("sdk client for %s: %v", host, err)
	}
	t.Cleanup(func() { _ = api.Close() })
	return api
}

// TestSwarmOfTheLab: on the lab's Swarm (lab1 manager, lab2 and lab3
// workers), a replicated service of 3 tasks on an attachable overlay is
// read from lab1 as the engine's own API lists it, and lab2 answers that
// it is a worker, naming lab1's node as its manager.
func TestSwarmOfTheLab(t *testing.T) {
	img := dockertest.FixtureImage(t)
	lab := dockertest.Lab(t, 3, true)
	lab.Load(t, img)
	api := labSDK(t, lab.Hosts[0])
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()

	labels := dockertest.Labels()
	netName := dockertest.UniqueName(t, "ov")
	nr, err := api.NetworkCreate(ctx, netName, network.CreateOptions{Driver: "overlay", Attachable: true, Labels: labels})
	if err != nil {
		t.Fatalf("create overlay: %v", err)
	}
	replicas := uint64(3)
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: dockertest.UniqueName(t, "svc"), Labels: labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: img, Command: []string{"sleep", "3600"}, Labels: labels},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: nr.ID}},
		},
		Mode:         swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
		EndpointSpec: &swarm.EndpointSpec{Ports: []swarm.PortConfig{{Protocol: swarm.PortConfigProtocolTCP, TargetPort: 8080, PublishMode: swarm.PortConfigPublishModeIngress}}},
	}
	sr, err := api.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{})
	if err != nil {
		t.Fatalf("create service: %v", err)
	}
	// Last in, first out: the service goes before its network.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := api.NetworkRemove(ctx, nr.ID); err != nil {
			// Its tasks' endpoints go a moment after the service.
			time.Sleep(2 * time.Second)
			_ = api.NetworkRemove(ctx, nr.ID)
		}
	})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := api.ServiceRemove(ctx, sr.ID); err != nil {
			t.Errorf("remove service: %v", err)
		}
	})

	var tasks []swarm.Task
	for {
		tasks, err = api.TaskList(ctx, swarm.TaskListOptions{Filters: filters.NewArgs(filters.Arg("service", sr.ID), filters.Arg("desired-state", "running"))})
		if err != nil {
			t.Fatalf("list tasks: %v", err)
		}
		n := 0
		for _, tk := range tasks {
			if tk.Status.State == swarm.TaskStateRunning {
				n++
			}
		}
		if n == 3 {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("3 tasks did not run in time: %+v", tasks)
		}
		time.Sleep(500 * time.Millisecond)
	}

	c, err := docker.New(docker.WithHost(lab.Hosts[0]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	st, err := c.Swarm(ctx)
	if err != nil {
		t.Fatalf("Swarm of lab1: %v", err)
	}

	sw, err := api.SwarmInspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	info, err := api.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Active || st.LocalState != "active" || st.ID != sw.ID || st.NodeID != info.Swarm.NodeID {
		t.Errorf("Swarm = active %v, state %q, ID %q, node %q; want active, %q, %q", st.Active, st.LocalState, st.ID, st.NodeID, sw.ID, info.Swarm.NodeID)
	}

	// Nodes: lab1..3 by hostname, as NodeList has them.
	nodes, err := api.NodeList(ctx, swarm.NodeListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Nodes) != 3 || len(nodes) != 3 {
		t.Fatalf("nodes = %+v, the engine lists %d", st.Nodes, len(nodes))
	}
	hostOf := map[string]string{}
	for i, n := range st.Nodes {
		hostOf[n.ID] = n.Hostname
		want := "lab" + string(rune('1'+i))
		role, leader := "worker", false
		if i == 0 {
			role, leader = "manager", true
		}
		if n.Hostname != want || n.Role != role || n.Leader != leader || n.Availability != "active" || n.State != "ready" {
			t.Errorf("node %d = %+v, want %s, %s, leader %v, active, ready", i, n, want, role, leader)
		}
		i := slices.IndexFunc(nodes, func(sn swarm.Node) bool { return sn.ID == n.ID })
		if i < 0 {
			t.Errorf("node %s (%s) is not in NodeList", n.ID, n.Hostname)
			continue
		}
		sn := nodes[i]
		if n.Addr != sn.Status.Addr || n.EngineVersion != sn.Description.Engine.EngineVersion || n.EngineVersion == "" {
			t.Errorf("node %s: addr %q version %q, the engine says %q %q", n.Hostname, n.Addr, n.EngineVersion, sn.Status.Addr, sn.Description.Engine.EngineVersion)
		}
	}

	// The overlay: swarm scope, attachable, its subnets as the engine has them.
	ni, err := api.NetworkInspect(ctx, nr.ID, network.InspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(st.Networks, func(n docker.SwarmNetwork) bool { return n.ID == nr.ID })
	if i < 0 {
		t.Fatalf("the overlay %s is not in %+v", netName, st.Networks)
	}
	ov := st.Networks[i]
	if ov.Name != netName || ov.Scope != "swarm" || ov.Driver != "overlay" || !ov.Attachable || ov.Ingress || ov.Encrypted {
		t.Errorf("overlay = %+v, want %s, swarm, overlay, attachable, not ingress, not encrypted", ov, netName)
	}
	var subnets []topology.Subnet
	for _, cfg := range ni.IPAM.Config {
		subnets = append(subnets, topology.Subnet{Subnet: cfg.Subnet, Gateway: cfg.Gateway})
	}
	if !slices.Equal(ov.Subnets, subnets) || len(subnets) == 0 {
		t.Errorf("overlay subnets = %v, the engine says %v", ov.Subnets, subnets)
	}
	if !slices.ContainsFunc(st.Networks, func(n docker.SwarmNetwork) bool { return n.Ingress && n.Name == "ingress" }) {
		t.Errorf("no ingress network in %+v", st.Networks)
	}

	// The service: 3 of 3, its VIP on the overlay, its published port.
	svc, _, err := api.ServiceInspectWithRaw(ctx, sr.ID, swarm.ServiceInspectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	i = slices.IndexFunc(st.Services, func(s docker.SwarmService) bool { return s.ID == sr.ID })
	if i < 0 {
		t.Fatalf("service %s is not in %+v", spec.Name, st.Services)
	}
	s := st.Services[i]
	if s.Name != spec.Name || s.Mode != "replicated" || s.Wanted != 3 || s.Running != 3 || s.Image != img {
		t.Errorf("service = %+v, want %s replicated 3/3 of %s", s, spec.Name, img)
	}
	var ovVIP string
	for _, v := range svc.Endpoint.VirtualIPs {
		if v.NetworkID == nr.ID {
			ovVIP = v.Addr
		}
	}
	if ovVIP == "" || !slices.Contains(s.VIPs, docker.SwarmVIP{NetworkID: nr.ID, NetworkName: netName, Addr: ovVIP}) || len(s.VIPs) != len(svc.Endpoint.VirtualIPs) {
		t.Errorf("VIPs = %+v, the engine says %+v", s.VIPs, svc.Endpoint.VirtualIPs)
	}
	if len(s.Ports) != 1 || s.Ports[0].Target != 8080 || s.Ports[0].Protocol != "tcp" || s.Ports[0].Mode != "ingress" ||
		len(svc.Endpoint.Ports) != 1 || s.Ports[0].Published != svc.Endpoint.Ports[0].PublishedPort || s.Ports[0].Published == 0 {
		t.Errorf("ports = %+v, the engine says %+v", s.Ports, svc.Endpoint.Ports)
	}
	if !slices.Contains(s.Networks, docker.NetworkRef{ID: nr.ID, Name: netName}) {
		t.Errorf("service networks = %+v, want %s", s.Networks, netName)
	}

	// The tasks: one on each node, each with its address on the overlay
	// as TaskList has it.
	hosts := map[string]bool{}
	for _, tk := range tasks {
		i := slices.IndexFunc(st.Tasks, func(x docker.SwarmTask) bool { return x.ID == tk.ID })
		if i < 0 {
			t.Errorf("task %s is not in Swarm()", tk.ID)
			continue
		}
		x := st.Tasks[i]
		hosts[hostOf[x.NodeID]] = true
		if x.ServiceID != sr.ID || x.ServiceName != spec.Name || x.Slot != tk.Slot || x.NodeID != tk.NodeID ||
			x.State != "running" || x.DesiredState != "running" || x.Error != "" ||
			tk.Status.ContainerStatus == nil || x.ContainerID != tk.Status.ContainerStatus.ContainerID {
			t.Errorf("task = %+v, the engine says %+v", x, tk)
		}
		var want []string
		for _, a := range tk.NetworksAttachments {
			if a.Network.ID == nr.ID {
				want = a.Addresses
			}
		}
		j := slices.IndexFunc(x.Networks, func(n docker.SwarmTaskNetwork) bool { return n.ID == nr.ID })
		if len(want) == 0 || j < 0 || x.Networks[j].Name != netName || !slices.Equal(x.Networks[j].Addresses, want) {
			t.Errorf("task %d on %s: networks %+v, the engine says %+v", x.Slot, hostOf[x.NodeID], x.Networks, tk.NetworksAttachments)
		}
	}
	if len(hosts) != 3 {
		t.Errorf("tasks on %v, want spread over lab1..3", hosts)
	}

	// lab2 is a worker: a typed error, naming lab1's node as its manager.
	w, err := docker.New(docker.WithHost(lab.Hosts[1]))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	_, err = w.Swarm(ctx)
	var we *docker.SwarmWorkerError
	if !errors.As(err, &we) || !errors.Is(err, topology.ErrConflict) {
		t.Fatalf("Swarm of lab2 = %v, want a *SwarmWorkerError matching ErrConflict", err)
	}
	if len(we.Managers) != 1 || we.Managers[0].NodeID != info.Swarm.NodeID || we.NodeID == "" || hostOf[we.NodeID] != "lab2" {
		t.Errorf("worker error = %+v, want node lab2 and manager %s", we, info.Swarm.NodeID)
	}
	t.Logf("lab2: %v", err)
}
