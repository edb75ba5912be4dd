package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// composeShop is a Compose project as a developer has one: web on the
// front network, api on front and back (two replicas, and on a network
// made outside the project, declared external), db on back with a named
// volume. docker-compose 1.29 writes no depends_on label (Compose v2
// does, "svc:condition:restart"): web's labels carry one as v2 would.
func composeShop(image, shared string) string {
	labels := dockertest.ComposeLabels("      ")
	return `version: "2.4"
services:
  web:
    image: ` + image + `
    command: ["sleep", "3600"]
    networks: [front]
    depends_on: [api]
    labels:
      com.docker.compose.depends_on: "api:service_started:false"
` + labels + `  api:
    image: ` + image + `
    command: ["sleep", "3600"]
    scale: 2
    networks: [front, back, shared]
    labels:
` + labels + `  db:
    image: ` + image + `
    command: ["sleep", "3600"]
    networks:
      back:
        aliases: [database]
    volumes: ["data:/data"]
    labels:
` + labels + `networks:
  front:
    labels:
` + dockertest.ComposeLabels("      ") + `  back:
    labels:
` + dockertest.ComposeLabels("      ") + `  shared:
    external: true
    name: ` + shared + `
volumes:
  data:
    labels:
` + dockertest.ComposeLabels("      ")
}

// composeGraph is the map's view of one project: its node, and its
// containers by service.
type composeGraph struct {
	project  topology.Node
	services map[string][]topology.Node
	g        topology.Snapshot
}

func readCompose(t *testing.T, base, project string) (composeGraph, bool) {
	t.Helper()
	var g topology.Snapshot
	if st := apiAs(t, base, "GET", "/api/graph", nil, &g); st != http.StatusOK {
		t.Fatalf("GET /api/graph: %d", st)
	}
	cg := composeGraph{services: map[string][]topology.Node{}, g: g}
	p, ok := g.Node(topology.ProjectNodeID(project))
	if !ok {
		return cg, false
	}
	cg.project = p
	for _, n := range g.Nodes {
		if n.Container != nil && n.Container.Project == project {
			cg.services[n.Container.Service] = append(cg.services[n.Container.Service], n)
		}
	}
	return cg, true
}

// TestComposeOnTheMap: a project brought up with docker-compose is one
// project node with its three services by name, its containers, networks
// and volume grouped in it; depends_on is an edge; and the explainer says
// why web (front) cannot reach db (back), naming the compose-file fix, and
// that web reaches api by its service name.
func TestComposeOnTheMap(t *testing.T) {
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	project := dockertest.ComposeProject(t, "shop")
	shared := dockertest.UniqueName(t, "shared")
	dockertest.CreateNetwork(t, c, shared)
	dockertest.ComposeUp(t, project, composeShop(image, shared))
	base, _, _ := launch(t, nil, nil, "--addr", "127.0.0.1:0", "--operator-token", opToken)

	var cg composeGraph
	waitUntil(t, "the project on the map with its four containers", func() (bool, string) {
		var ok bool
		cg, ok = readCompose(t, base, project)
		if !ok {
			return false, "no project node"
		}
		return cg.project.Project.Containers == 4 && cg.project.Project.Running == 4, fmt.Sprintf("%+v", cg.project.Project)
	})
	info := cg.project.Project
	if cg.project.Kind != topology.KindProject || info.Name != project || !slices.Equal(info.Services, []string{"api", "db", "web"}) {
		t.Errorf("project node: kind %q, %+v", cg.project.Kind, info)
	}
	if !slices.Equal(info.Networks, []string{project + "_back", project + "_front"}) {
		t.Errorf("project networks %v", info.Networks)
	}
	if len(info.ConfigFiles) != 1 || !strings.HasSuffix(info.ConfigFiles[0], "docker-compose.yml") {
		t.Errorf("project config files %v", info.ConfigFiles)
	}
	if len(cg.services["api"]) != 2 || len(cg.services["web"]) != 1 || len(cg.services["db"]) != 1 {
		t.Fatalf("services on the map: %v", cg.services)
	}
	numbers := []int{cg.services["api"][0].Container.Number, cg.services["api"][1].Container.Number}
	slices.Sort(numbers)
	if !slices.Equal(numbers, []int{1, 2}) {
		t.Errorf("api replica numbers %v", numbers)
	}
	// Grouped in the box: the containers, the project's networks and
	// volume; not the external network.
	for _, n := range cg.g.Nodes {
		inProject := n.Container != nil && n.Container.Project == project ||
			n.Network != nil && (n.Network.Name == project+"_front" || n.Network.Name == project+"_back") ||
			n.Volume != nil && n.Volume.Name == project+"_data"
		if inProject != (n.Group == cg.project.ID) {
			t.Errorf("node %s (%s) grouped in %q", n.ID, n.Label, n.Group)
		}
	}
	web, db, api := cg.services["web"][0], cg.services["db"][0], cg.services["api"][0]
	deps := 0
	for _, e := range cg.g.Edges {
		if e.Kind == topology.EdgeDependsOn && e.From == web.ID {
			deps++
			if e.DependsOn.Service != "api" || !slices.ContainsFunc(cg.services["api"], func(n topology.Node) bool { return n.ID == e.To }) {
				t.Errorf("depends-on edge %+v", e)
			}
		}
	}
	if deps != 2 {
		t.Errorf("web has %d depends-on edges, want one to each api replica", deps)
	}

	// web → db: no common network, in Compose's words.
	var p reach.Prediction
	q := url.Values{"from": {string(web.ID)}, "to": {string(db.ID)}}
	if st := apiAs(t, base, "GET", "/api/reach?"+q.Encode(), nil, &p); st != http.StatusOK {
		t.Fatalf("GET /api/reach: %d", st)
	}
	if p.ByName.OK || len(p.ByName.Reasons) == 0 || p.ByName.Reasons[0].Code != "compose-no-common-network" {
		t.Fatalf("web → db by name: %+v", p.ByName)
	}
	r := p.ByName.Reasons[0]
	for _, want := range []string{"add back to the networks: of service web", "docker-compose up -d", "docker network connect " + project + "_back"} {
		if !strings.Contains(r.Fix, want) {
			t.Errorf("fix %q lacks %q", r.Fix, want)
		}
	}
	if !strings.Contains(r.Text, "web") || !strings.Contains(r.Text, "front") || !strings.Contains(r.Text, "back") {
		t.Errorf("reason %q does not say which networks", r.Text)
	}
	// web → api by the service name: Compose's alias on front.
	var o reach.Outcome
	q = url.Values{"from": {string(web.ID)}, "to": {string(api.ID)}, "name": {"api"}}
	if st := apiAs(t, base, "GET", "/api/reach?"+q.Encode(), nil, &o); st != http.StatusOK {
		t.Fatalf("GET /api/reach by name: %d", st)
	}
	if !o.OK || len(o.Reasons) == 0 || !strings.Contains(o.Reasons[0].Text, "Compose gives every service its service name") {
		t.Errorf("web → api by name api: %+v", o)
	}
}

// TestBrowserCompose: the page draws the project as a box holding its
// services by name (api.1, api.2 for two replicas), the depends_on arrow,
// collapses the box to one node with an edge to the outside network, and
// shows the project alone through the filter.
func TestBrowserCompose(t *testing.T) {
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	project := dockertest.ComposeProject(t, "shop")
	shared := dockertest.UniqueName(t, "shared")
	sharedID := dockertest.CreateNetwork(t, c, shared)
	loose := dockertest.RunContainer(t, c, dockertest.WithNetwork(shared))
	dockertest.ComposeUp(t, project, composeShop(image, shared))

	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	box := jsString(string(topology.ProjectNodeID(project)))
	waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).children('.container').length === 4`, box), waitTimeout)

	labels := mustEval[[]string](t, b, fmt.Sprintf(`window.cy.getElementById(%s).children('.container').map((n) => n.data('label')).sort()`, box))
	if !slices.Equal(labels, []string{"api.1", "api.2", "db", "web"}) {
		t.Errorf("service labels %v", labels)
	}
	if got := mustEval[string](t, b, fmt.Sprintf(`window.cy.getElementById(%s).data('label')`, box)); got != project+" (compose)" {
		t.Errorf("box label %q", got)
	}
	inBox := mustEval[[]string](t, b, fmt.Sprintf(`window.cy.getElementById(%s).children().not('.container').map((n) => n.data('name')).sort()`, box))
	if !slices.Equal(inBox, []string{project + "_back", project + "_data", project + "_front"}) {
		t.Errorf("networks and volumes in the box: %v", inBox)
	}
	screenshot(t, b, "compose-project")
	if n := mustEval[int](t, b, `window.cy.edges('.depends-on').filter((e) => e.source().data('label') === 'web' && e.target().data('label').startsWith('api.')).length`); n != 2 {
		t.Errorf("%d depends-on arrows from web to api", n)
	}

	// Collapse with the keyboard: the box becomes one node, with an edge
	// to the external network api is on.
	clickNode(t, b, string(topology.ProjectNodeID(project)))
	waitJS(t, b, `document.querySelector('[data-testid=project-menu]') !== null`, waitTimeout)
	mustDo(t, b, "press Enter", chromedp.KeyEvent("\r"))
	waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).hasClass('collapsed')`, box), waitTimeout)
	folded := fmt.Sprintf(`window.cy.getElementById(%s).hasClass('collapsed') && window.cy.getElementById(%s).descendants(':visible').empty()`, box, box)
	if !pollJS(b, folded, waitTimeout) {
		t.Errorf("members still shown in the collapsed box: %s", mustEval[string](t, b, fmt.Sprintf(`JSON.stringify({members: window.cy.getElementById(%s).descendants(':visible').map((n) => n.id().slice(0, 14) + ' ' + n.classes().join(',')), box: window.cy.getElementById(%s).classes(), focus: document.activeElement && document.activeElement.outerHTML.slice(0, 120)})`, box, box)))
	}

	edge := jsString("hx:" + string(topology.ProjectNodeID(project)) + ">" + string(topology.NetworkNodeID(sharedID)))
	waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).nonempty()`, edge), waitTimeout)
	screenshot(t, b, "compose-collapsed")
	if got := mustEval[string](t, b, fmt.Sprintf(`window.cy.getElementById(%s).data('label')`, box)); !strings.Contains(got, "3 services, 4 containers") {
		t.Errorf("collapsed label %q", got)
	}
	// And back.
	mustEval[bool](t, b, fmt.Sprintf(`(() => { window.cy.getElementById(%s).emit('dbltap'); return true; })()`, box))
	waitJS(t, b, fmt.Sprintf(`!window.cy.getElementById(%s).hasClass('collapsed') && window.cy.getElementById(%s).descendants(':visible').length === 7`, box, box), waitTimeout)

	// Tidy lays the box out clear of everything not in it; Bands keeps
	// every node apart (the box spans the bands its members are in).
	intruders := fmt.Sprintf(`(() => {
  const box = window.cy.getElementById(%s), bb = box.boundingBox();
  return window.cy.nodes(':visible').not('.overlay, .host, .project').filter((n) => !n.parent().same(box)).filter((n) => {
    const r = n.boundingBox();
    return r.x1 < bb.x2 && bb.x1 < r.x2 && r.y1 < bb.y2 && bb.y1 < r.y2;
  }).map((n) => n.id());
})()`, box)
	overlaps := `(() => {
  const ns = window.cy.nodes(':visible').not('.overlay, .host, .project').map((n) => ({ id: n.id(), b: n.boundingBox({ includeLabels: false }) }));
  const out = [];
  for (let i = 0; i < ns.length; i++) for (let j = i + 1; j < ns.length; j++) {
    const p = ns[i].b, q = ns[j].b;
    if (p.x1 < q.x2 && q.x1 < p.x2 && p.y1 < q.y2 && q.y1 < p.y2) out.push(ns[i].id + ' ' + ns[j].id);
  }
  return out;
})()`
	mustEval[bool](t, b, `(window.cy.elements().unselect(), document.body.dataset.layout = '', true)`)
	mustDo(t, b, "Tidy", chromedp.Click(chromedp.CSS(`#tidy`)))
	waitJS(t, b, `document.body.dataset.layout === 'done'`, waitTimeout)
	if in := mustEval[[]string](t, b, intruders); len(in) > 0 {
		t.Errorf("after Tidy, nodes of no project inside its box: %v", in)
	}
	if o := mustEval[[]string](t, b, overlaps); len(o) > 0 {
		t.Errorf("after Tidy, nodes overlap: %v", o)
	}
	mustEval[bool](t, b, `(document.body.dataset.layout = '', true)`)
	mustDo(t, b, "Bands", chromedp.Click(chromedp.CSS(`#bands`)))
	waitJS(t, b, `document.body.dataset.layout === 'done'`, waitTimeout)
	if o := mustEval[[]string](t, b, overlaps); len(o) > 0 {
		t.Errorf("after Bands, nodes overlap: %v", o)
	}
	screenshot(t, b, "compose-bands")
	mustDo(t, b, "Bands off", chromedp.Click(chromedp.CSS(`#bands`)))

	// Show only the project: the loose container on the shared network
	// goes, the project and the network it uses stay.
	mustDo(t, b, "show only the project", chromedp.Click(`[data-testid=project-only]`))
	waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).hasClass('focus-hidden')`, jsString("c:"+loose)), waitTimeout)
	if !mustEval[bool](t, b, fmt.Sprintf(`window.cy.getElementById(%s).visible() && window.cy.getElementById(%s).visible()`, box, jsString(string(topology.NetworkNodeID(sharedID))))) {
		t.Error("the project or its external network hidden by show only this project")
	}
	if got := mustEval[string](t, b, `new URL(location.href).searchParams.get('focus')`); got != "project:"+project {
		t.Errorf("address focus %q", got)
	}
}
