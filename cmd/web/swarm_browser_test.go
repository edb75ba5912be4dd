package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestBrowserSwarm is issue 12's page on the lab's real Swarm (lab1
// manager, lab2 and lab3 workers), signed in as an operator: three Swarm
// nodes, a service "web 3/3" with a replica edge to each of its three
// task containers, labelled by task in three host boxes; the service's
// panel scales it to 4 through the plan dialog, and the map follows; lab3's
// Swarm node is drained through its plan, which names what moves, and its
// tasks leave lab3's box; the service's probes from a task show each
// result beside its prediction: tasks.<svc> answers, the VIP answers no
// ping, as predicted.
func TestBrowserSwarm(t *testing.T) {
	image := dockertest.FixtureImage(t)
	lab := dockertest.Lab(t, 3, true)
	lab.Load(t, image)
	base, output, _ := launch(t, nil, nil, "--addr", "127.0.0.1:0", "--operator-token", opToken,
		"--engine", "lab1="+lab.Hosts[0], "--engine", "lab2="+lab.Hosts[1], "--engine", "lab3="+lab.Hosts[2])
	manager := labClient(t, lab.Hosts[0])
	prefix := randomPrefix(t)

	var ov struct{ ID string }
	if st := apiAs(t, base, "POST", "/api/networks?engine=lab1", map[string]any{"name": prefix + "ov", "driver": "overlay", "attachable": true}, &ov); st != http.StatusCreated {
		t.Fatalf("create the overlay on lab1: HTTP %d", st)
	}
	svcName := prefix + "web"
	svcID, err := manager.CreateTestService(t.Context(), docker.TestService{Name: svcName, Image: image, Cmd: []string{"httpd", "-f", "-p", "8080"},
		Network: ov.ID, Replicas: 3, TargetPort: 8080, Labels: dockertest.Labels()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = manager.RemoveService(context.Background(), svcID) })
	// The lab is shared: lab3 goes back to active whatever happens here.
	t.Cleanup(func() {
		apiAny(t, base, "POST", "/api/swarm-nodes/lab3/availability", map[string]any{"availability": "active"}, &struct{}{})
	})

	b := newBrowser(t)
	signInWith(t, b, printedLogin(t, output(), "operator"), base, `window.dockmap && window.dockmap.connected && window.cy`)
	markPage(t, b)

	svcNode := string(topology.ServiceNodeID(svcID))
	svc := `window.cy.getElementById(` + jsString(svcNode) + `)`
	// tasks are the service's task containers meant to run and running.
	tasks := fmt.Sprintf(`window.cy.nodes('.task-container').filter((n) => n.data('task').serviceId === %s && n.data('task').desiredState === 'running' && n.data('task').state === 'running')`, jsString(svcID))
	tasksIn := func(host string) string { return tasks + `.filter((n) => n.parent().id() === 'h:` + host + `').length` }

	// The map: three Swarm nodes, the service 3/3 with a replica edge to
	// each of its three tasks, one per lab host, labelled "<svc>.<slot>".
	waitJS(t, b, `window.cy.nodes('.swarm-node').length === 3 && `+svc+`.data('label') === `+jsString(svcName+" 3/3")+
		` && `+tasksIn("lab1")+` === 1 && `+tasksIn("lab2")+` === 1 && `+tasksIn("lab3")+` === 1`, swarmWait)
	if got := mustEval[[]string](t, b, `window.cy.nodes('.swarm-node').map((n) => n.parent().id()).sort()`); strings.Join(got, ",") != "h:lab1,h:lab2,h:lab3" {
		t.Errorf("Swarm nodes are in the boxes %v, want h:lab1, h:lab2 and h:lab3", got)
	}
	labels := mustEval[[]string](t, b, tasks+`.map((n) => n.data('label')).sort()`)
	for i, l := range labels {
		if want := fmt.Sprintf("%s.%d", svcName, i+1); l != want {
			t.Errorf("task container %d is labelled %q, want %q", i, l, want)
		}
	}
	if n := mustEval[int](t, b, svc+`.connectedEdges('.replica').filter((e) => e.source().same(`+svc+`) && e.target().hasClass('task-container')).length`); n != 3 {
		t.Errorf("%d replica edges from the service to its task containers, want 3", n)
	}
	if s := mustEval[string](t, b, svc+`.style('shape')`); s != "hexagon" {
		t.Errorf("the service is drawn as a %q, want its own shape (hexagon)", s)
	}
	if l := mustEval[string](t, b, `window.cy.getElementById(`+jsString(string(topology.NetworkNodeID(ov.ID)))+`).data('label')`); !strings.Contains(l, "overlay") {
		t.Errorf("the overlay is labelled %q, want it to say overlay", l)
	}

	// Scale to 4 from the service's panel: the plan is shown, confirmed,
	// and the map follows to 4/4 with a fourth task.
	clickService(t, b, svcNode)
	waitJS(t, b, `document.querySelector('#panel [data-testid=service-panel]')?.dataset.id === `+jsString(svcNode), waitTimeout)
	mustEval[bool](t, b, `(() => {
  const f = document.querySelector('#panel [data-testid=scale-form]');
  f.elements.replicas.value = '4';
  f.querySelector('[data-testid=scale-service]').click();
  return true;
})()`)
	waitJS(t, b, `document.querySelector('#confirm-dialog').open && !document.querySelector('#confirm-plan').hidden && document.querySelector('#confirm-summary')?.textContent.includes('from 3 to 4')`, waitTimeout)
	mustDo(t, b, "confirm the scale", chromedp.Click(chromedp.CSS(`#confirm-ok`)))
	waitJS(t, b, svc+`.data('label') === `+jsString(svcName+" 4/4")+` && `+tasks+`.length === 4`, swarmWait)
	if e := mustEval[string](t, b, `document.querySelector('#panel [data-testid=swarm-error]')?.textContent ?? ''`); e != "" {
		t.Errorf("the panel shows an error after the scale: %q", e)
	}

	// Drain lab3 from its Swarm node's panel: the plan names what moves;
	// confirmed, lab3's box keeps none of the service's tasks.
	snLab3 := mustEval[string](t, b, `window.cy.nodes('.swarm-node').filter((n) => n.data('swarmNode').hostname === 'lab3').first().id()`)
	clickNode(t, b, snLab3)
	waitJS(t, b, `document.querySelector('#panel [data-testid=swarm-node-panel]')?.dataset.name === 'lab3'`, waitTimeout)
	mustDo(t, b, "click Drain…", chromedp.Click(chromedp.CSS(`#panel [data-testid=node-drain]`)))
	waitJS(t, b, `document.querySelector('#confirm-dialog').open && [...document.querySelectorAll('#confirm-plan [data-testid=loss]')].some((l) => l.textContent.includes('lab3') && l.textContent.includes(`+jsString(svcName+".")+`))`, waitTimeout)
	mustDo(t, b, "confirm the drain", chromedp.Click(chromedp.CSS(`#confirm-ok`)))
	waitJS(t, b, tasksIn("lab3")+` === 0 && `+tasks+`.length === 4 && window.cy.getElementById(`+jsString(snLab3)+`).hasClass('swarm-drain')`, swarmWait)

	// Probes of the service from one of its tasks, in its panel: each
	// result with its prediction beside it.
	from := mustEval[string](t, b, tasks+`.first().id().replace(/^c:/, '')`)
	clickService(t, b, svcNode)
	waitJS(t, b, `document.querySelector('#panel [data-testid=service-panel]')?.dataset.id === `+jsString(svcNode)+
		` && [...document.querySelectorAll('#panel [data-testid=service-probe-from] option')].some((o) => o.value === `+jsString(from)+`)`, waitTimeout)
	probe := func(how string) {
		t.Helper()
		mustEval[bool](t, b, `(() => {
  const s = document.querySelector('#panel [data-testid=service-probe-from]');
  s.value = `+jsString(from)+`;
  s.dispatchEvent(new Event('change', { bubbles: true }));
  return true;
})()`)
		mustDo(t, b, "probe "+how, chromedp.Click(chromedp.CSS(`#panel [data-testid=probe-`+how+`]`)))
	}
	row := func(how string) string {
		return `document.querySelector('#panel [data-testid=service-probe-result][data-how=` + how + `]')`
	}
	probe("tasks")
	waitJS(t, b, row("tasks")+`?.dataset.ok === 'true' && `+row("tasks")+`.querySelector('[data-testid=service-probe-prediction]')?.textContent.startsWith('predicted: reachable')`, waitTimeout)
	if l := mustEval[string](t, b, row("tasks")+`.textContent`); !strings.Contains(l, "tasks."+svcName) {
		t.Errorf("the tasks probe's row says %q, want its target tasks.%s", l, svcName)
	}
	// The result is drawn on the map too, an arrow to the service.
	waitJS(t, b, `window.cy.edges('.probe').some((e) => e.target().id() === `+jsString(svcNode)+`)`, waitTimeout)

	probe("vip")
	waitJS(t, b, row("vip")+`?.dataset.ok === 'false' && `+row("vip")+`.dataset.predicted === 'false'`, waitTimeout)
	if p := mustEval[string](t, b, row("vip")+`.querySelector('[data-testid=service-probe-prediction]').textContent`); !strings.Contains(p, "is a virtual address") || !strings.Contains(p, "not ping") || !strings.Contains(p, "tasks."+svcName) {
		t.Errorf("the VIP probe's prediction says %q, want the VIP answers no ping, and tasks.%s as the fix", p, svcName)
	}
}

// clickService clicks the service node id. A service is in no host's
// box, and the boxes grow round the tasks that come after it was placed:
// the map moves it out of any box that grows over it (evictLoose), which
// is checked first. The Tidy (t) then is for the click: the nodes placed
// one by one inside the boxes may still stand on each other.
func clickService(t *testing.T, b *browser, id string) {
	t.Helper()
	waitJS(t, b, `(() => {
		const r = window.cy.getElementById(`+jsString(id)+`).boundingBox();
		return window.cy.nodes('.host:visible').every((h) => {
			const b = h.boundingBox();
			return r.x1 >= b.x2 || r.x2 <= b.x1 || r.y1 >= b.y2 || r.y2 <= b.y1;
		});
	})()`, waitTimeout)
	mustEval[bool](t, b, `(delete document.body.dataset.layout, true)`)
	mustDo(t, b, "tidy (t)", chromedp.KeyEvent("t"))
	waitJS(t, b, `document.body.dataset.layout === 'done'`, waitTimeout)
	clickNode(t, b, id)
}
