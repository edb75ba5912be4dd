package topology_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/topology"
)

// composed is a container as docker-compose makes it: its labels name the
// project, the service and the replica number.
func composed(id, project, service, number string, extra map[string]string, nets ...string) topology.Container {
	labels := map[string]string{
		topology.ComposeProjectLabel:     project,
		topology.ComposeServiceLabel:     service,
		topology.ComposeNumberLabel:      number,
		topology.ComposeOneOffLabel:      "False",
		topology.ComposeWorkingDirLabel:  "/src/" + project,
		topology.ComposeConfigFilesLabel: "/src/" + project + "/docker-compose.yml",
	}
	for k, v := range extra {
		labels[k] = v
	}
	c := topology.Container{ID: id, Name: project + "_" + service + "_" + number, State: "running", Labels: labels, NetworkMode: nets[0]}
	for _, n := range nets {
		c.Endpoints = append(c.Endpoints, topology.Endpoint{NetworkID: n, NetworkName: n, Aliases: []string{service}})
	}
	return c
}

func composeInventory() topology.Inventory {
	projectNet := func(id, project string) topology.Network {
		return topology.Network{ID: id, Name: id, Driver: "bridge", Scope: "local",
			Labels: map[string]string{topology.ComposeProjectLabel: project, topology.ComposeNetworkLabel: id}}
	}
	return topology.Inventory{
		Containers: []topology.Container{
			composed("w1", "shop", "web", "1", map[string]string{topology.ComposeDependsOnLabel: "api:service_started:false"}, "shop_front"),
			composed("w2", "shop", "web", "2", map[string]string{topology.ComposeDependsOnLabel: "api:service_started:false"}, "shop_front"),
			composed("a1", "shop", "api", "1", map[string]string{topology.ComposeDependsOnLabel: "db:service_healthy:true,gone"}, "shop_front", "shop_back"),
			composed("d1", "shop", "db", "1", nil, "shop_back"),
			// A one-off (docker-compose run) counts in its project but
			// depends on nothing: Compose starts its dependencies once.
			composed("o1", "shop", "web", "3", map[string]string{topology.ComposeOneOffLabel: "True", topology.ComposeDependsOnLabel: "api"}, "shop_front"),
			composed("x1", "blog", "app", "1", nil, "blog_default"),
			{ID: "z1", Name: "loose", State: "exited", NetworkMode: "bridge"},
		},
		Networks: []topology.Network{
			projectNet("shop_front", "shop"), projectNet("shop_back", "shop"), projectNet("blog_default", "blog"),
			// A project's network left after its containers went (or one
			// of a project not running): no box of its own.
			projectNet("old_default", "old"),
			{ID: "bridge", Name: "bridge", Driver: "bridge", Scope: "local", Default: true},
		},
		Volumes: []topology.Volume{
			{Name: "shop_data", Driver: "local", Labels: map[string]string{topology.ComposeProjectLabel: "shop"}},
			{Name: "plain", Driver: "local"},
		},
	}
}

func TestComposeProjects(t *testing.T) {
	g := topology.Build(composeInventory())
	checkGraph(t, g)

	shop, ok := g.Node("p:shop")
	if !ok {
		t.Fatal("no node p:shop")
	}
	want := &topology.ProjectInfo{
		Name: "shop", WorkingDir: "/src/shop", ConfigFiles: []string{"/src/shop/docker-compose.yml"},
		Services: []string{"api", "db", "web"}, Containers: 5, Running: 5, Networks: []string{"shop_back", "shop_front"},
	}
	if diff := cmp.Diff(want, shop.Project); diff != "" || shop.Kind != topology.KindProject || shop.Label != "shop" {
		t.Errorf("p:shop (-want +got):\n%s (kind %q, label %q)", diff, shop.Kind, shop.Label)
	}
	if _, ok := g.Node("p:old"); ok {
		t.Error("a project with no container drawn as a box")
	}

	groups := map[topology.NodeID]topology.NodeID{}
	for _, n := range g.Nodes {
		if n.Group != "" {
			groups[n.ID] = n.Group
		}
	}
	wantGroups := map[topology.NodeID]topology.NodeID{
		"c:w1": "p:shop", "c:w2": "p:shop", "c:a1": "p:shop", "c:d1": "p:shop", "c:o1": "p:shop",
		"n:shop_front": "p:shop", "n:shop_back": "p:shop", "v:shop_data": "p:shop",
		"c:x1": "p:blog", "n:blog_default": "p:blog",
	}
	if diff := cmp.Diff(wantGroups, groups); diff != "" {
		t.Errorf("groups (-want +got):\n%s", diff)
	}

	web, _ := g.Node("c:w2")
	if c := web.Container; c.Project != "shop" || c.Service != "web" || c.Number != 2 || c.OneOff {
		t.Errorf("c:w2 carries project %q service %q number %d oneoff %v", c.Project, c.Service, c.Number, c.OneOff)
	}
	if one, _ := g.Node("c:o1"); !one.Container.OneOff {
		t.Error("c:o1 not marked one-off")
	}

	var deps []string
	for _, e := range g.Edges {
		if e.Kind == topology.EdgeDependsOn {
			deps = append(deps, string(e.ID)+" "+e.DependsOn.Service+" "+e.DependsOn.Condition)
		}
	}
	wantDeps := []string{
		"d:a1>d1 db service_healthy",
		"d:w1>a1 api service_started",
		"d:w2>a1 api service_started",
	}
	if diff := cmp.Diff(wantDeps, deps); diff != "" {
		t.Errorf("depends-on edges (-want +got):\n%s", diff)
	}

	// On another engine, the box and what it holds carry the engine too.
	lab := topology.Stamp(g, "lab1", true)
	n, ok := lab.Node("c:w1@lab1")
	if _, box := lab.Node(n.Group); !ok || n.Group != "p:shop@lab1" || !box {
		t.Errorf("stamped c:w1 has group %q (box on map: %v)", n.Group, box)
	}
}

func TestParseDependsOn(t *testing.T) {
	got := topology.ParseDependsOn("db:service_healthy:true, cache ,,:x,api:service_started")
	want := []topology.DependsOnInfo{{Service: "db", Condition: "service_healthy"}, {Service: "cache"}, {Service: "api", Condition: "service_started"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseDependsOn (-want +got):\n%s", diff)
	}
}
