package main

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// These tests run the whole program against the real engine and drive the
// page in headless Chromium (STYLE.md, "Testing", E2E). They wait for
// what happens eventually, with waitTimeout, and time nothing.

// engineCtx bounds one direct call to the engine.
func engineCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// endpointIP is the IP of the container's first endpoint as the engine
// lists it, with its prefix length as the panel writes it ("a.b.c.d/n").
func endpointIP(t *testing.T, c *docker.Client, id string) string {
	t.Helper()
	inv, err := c.ListInventory(engineCtx(t))
	if err != nil {
		t.Fatalf("ListInventory: %v", err)
	}
	i := slices.IndexFunc(inv.Containers, func(ct topology.Container) bool { return ct.ID == id })
	if i < 0 {
		t.Fatalf("container %s not in the engine's inventory", id)
	}
	eps := inv.Containers[i].Endpoints
	if len(eps) == 0 || eps[0].IP == "" {
		t.Fatalf("container %s has no endpoint with an IP: %+v", id, eps)
	}
	if eps[0].PrefixLen == 0 {
		return eps[0].IP
	}
	return eps[0].IP + "/" + strconv.Itoa(eps[0].PrefixLen)
}

// nodeExists is a JS expression: the graph has the node with this ID.
func nodeExists(nodeID string) string {
	return fmt.Sprintf(`window.cy.getElementById(%s).length === 1`, jsString(nodeID))
}

// panelShows is a JS expression: the side panel shows this container.
func panelShows(nodeID string) string {
	return fmt.Sprintf(`document.querySelector('#panel [data-testid=container-panel]')?.dataset.id === %s`, jsString(nodeID))
}

// markPage sets a marker that only a reload would remove.
func markPage(t *testing.T, b *browser) {
	t.Helper()
	mustEval[bool](t, b, `(window.__marker = 1) === 1`)
}

// checkNotReloaded fails the test if the page was reloaded since markPage.
func checkNotReloaded(t *testing.T, b *browser, when string) {
	t.Helper()
	if got := mustEval[bool](t, b, `window.__marker === 1`); !got {
		t.Fatalf("%s: page was reloaded (window.__marker gone)", when)
	}
}

func TestBrowserLiveMap(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t) // built before the page opens
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	markPage(t, b)

	id := dockertest.RunContainer(t, c)
	nodeID := topology.ContainerNodeID(id)
	node := string(nodeID)
	waitJS(t, b, nodeExists(node), waitTimeout)
	checkNotReloaded(t, b, "after create")

	// A real click where the node is drawn opens its panel, which shows
	// the IP the engine gave it.
	clickNode(t, b, node)
	waitJS(t, b, panelShows(node), waitTimeout)
	if got := mustEval[string](t, b, `String(window.dockmap.selected)`); got != node {
		t.Errorf("window.dockmap.selected = %q, want %q", got, node)
	}
	wantIP := endpointIP(t, c, id)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('#panel [data-testid=ip]')].some((e) => e.textContent.trim() === %s)`,
		jsString(wantIP)), waitTimeout)

	// Stop: the node turns grey and the open panel follows.
	if err := c.StopContainer(engineCtx(t), id, 0); err != nil {
		t.Fatalf("StopContainer: %v", err)
	}
	waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).hasClass('stopped')`, jsString(node)), waitTimeout)
	waitJS(t, b, `document.querySelector('#panel [data-testid=container-state]')?.textContent.trim() === 'exited'`, waitTimeout)
	checkNotReloaded(t, b, "after stop")

	// Remove: the node goes and the panel says so.
	if err := c.RemoveContainer(engineCtx(t), id, false); err != nil {
		t.Fatalf("RemoveContainer: %v", err)
	}
	waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).length === 0`, jsString(node)), waitTimeout)
	waitJS(t, b, `document.querySelector('#panel [data-testid=panel-removed]') !== null`, waitTimeout)
	checkNotReloaded(t, b, "after remove")
	if got := mustEval[string](t, b, `String(window.dockmap.selected)`); got != "null" {
		t.Errorf("window.dockmap.selected = %q after remove, want null", got)
	}
}

func TestBrowserEscapesDockerText(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)

	// Names cannot hold markup; labels (and so the event attributes that
	// repeat them) can hold anything.
	labels := map[string]string{
		"x": `<script>alert(1)</script>`,
		"y": `"><img src=x onerror=alert(2)>`,
	}
	id := dockertest.RunContainer(t, c,
		dockertest.WithLabel("x", labels["x"]),
		dockertest.WithLabel("y", labels["y"]),
	)
	node := string(topology.ContainerNodeID(id))
	waitJS(t, b, nodeExists(node), waitTimeout)
	clickNode(t, b, node)
	waitJS(t, b, panelShows(node), waitTimeout)

	values := mustEval[[]string](t, b,
		`[...document.querySelectorAll('#panel [data-testid=label-value]')].map((e) => e.textContent)`)
	for k, v := range labels {
		if !slices.Contains(values, v) {
			t.Errorf("label %s: panel label values = %q, want one to read %q literally", k, values, v)
		}
	}
	// The event feed repeats the labels (engine event attributes) too.
	waitJS(t, b, `document.querySelectorAll('[data-testid=event-list] > *').length > 0`, waitTimeout)

	// onerror would fire once the image fails to load: give it a moment,
	// then check that nothing was injected and no dialog opened.
	time.Sleep(500 * time.Millisecond)
	if n := mustEval[int](t, b, `document.querySelectorAll('img[src=x], img[src="x"]').length`); n != 0 {
		t.Errorf("document has %d img[src=x] elements, want 0 (label markup was parsed as HTML)", n)
	}
	if n := mustEval[int](t, b, `document.querySelectorAll('body script:not([src])').length`); n != 0 {
		t.Errorf("document has %d inline script elements, want 0", n)
	}
	if d := b.takeDialogs(); len(d) != 0 {
		t.Errorf("page opened dialogs %q, want none (XSS)", d)
	}
}

func TestBrowserEngineCutAndBack(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	proxy := dockertest.StartProxy(t)
	base := startDockmap(t, map[string]string{"DOCKER_HOST": proxy.Host})
	b := newBrowser(t)
	openMap(t, b, base)
	markPage(t, b)

	const badge = `document.querySelector('[data-testid=engine-badge]')`
	// dockmap must talk to the engine through the proxy, or cutting the
	// proxy proves nothing.
	if got := mustEval[string](t, b, badge+`.title`); got != proxy.Host && !strings.HasPrefix(got, proxy.Host+" · ") {
		t.Fatalf("engine badge title = %q, want the proxy %q: run does not take DOCKER_HOST from getenv", got, proxy.Host)
	}
	waitJS(t, b, badge+`.textContent.startsWith('connected')`, waitTimeout)

	proxy.Cut()
	waitJS(t, b, badge+`.textContent.includes('unreachable')`, waitTimeout)
	if got := mustEval[string](t, b, badge+`.dataset.connected`); got != "false" {
		t.Errorf("engine badge data-connected = %q while cut, want false", got)
	}

	// Made behind dockmap's back: only a resync can show it.
	id := dockertest.RunContainer(t, c)
	node := string(topology.ContainerNodeID(id))
	if mustEval[bool](t, b, nodeExists(node)) {
		t.Fatalf("node %s shown while the engine is cut off", node)
	}

	proxy.Restore()
	waitJS(t, b, badge+`.textContent.startsWith('connected')`, waitTimeout)
	waitJS(t, b, nodeExists(node), waitTimeout)
	waitJS(t, b, `!document.querySelector('[data-testid=graph]').classList.contains('engine-down')`, waitTimeout)
	checkNotReloaded(t, b, "after the engine came back")
}

func TestBrowserReconnectsAfterServerRestart(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	base, stop := launchDockmap(t, nil, "127.0.0.1:0")
	b := newBrowser(t)
	// While the server is down, every reconnection attempt fails, and
	// Chromium logs each one.
	b.allow(regexp.MustCompile(`WebSocket connection to '.*/live' failed`))
	openMap(t, b, base)
	markPage(t, b)

	if err := stop(); err != nil {
		t.Fatalf("run() = %v, want nil after cancel", err)
	}
	waitJS(t, b, `!window.dockmap.connected && document.querySelector('[data-testid=live-status]').textContent === 'reconnecting…'`, waitTimeout)

	// Made while no server watches: the new server's snapshot brings it.
	id := dockertest.RunContainer(t, c)
	node := string(topology.ContainerNodeID(id))

	// The same address, so the page's WebSocket URL still points at it.
	addr := strings.TrimPrefix(base, "http://")
	if again, _ := launchDockmap(t, nil, addr); again != base {
		t.Fatalf("restarted dockmap serves %s, want %s", again, base)
	}
	waitJS(t, b, `window.dockmap.connected && document.querySelector('[data-testid=live-status]').textContent === 'live'`, waitTimeout)
	waitJS(t, b, nodeExists(node), waitTimeout)
	waitJS(t, b, `!document.querySelector('[data-testid=graph]').classList.contains('stale')`, waitTimeout)
	checkNotReloaded(t, b, "after the server restarted")
}
