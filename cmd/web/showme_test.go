package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
)

// "Show me" on lesson steps (issue 11): an operator takes lesson 1's steps
// through the page's own dialogs, filled in for the participant, and only
// confirms; a viewer has no such button.

// showMeButton is a JS expression: step id's "Show me" button, or null.
func showMeButton(id string) string {
	return fmt.Sprintf(`document.querySelector('[data-testid=lesson-step][data-step=%s] [data-testid=lesson-show-me]')`, jsString(id))
}

// clickShowMe clicks step id's "Show me" once it is there and enabled. The
// list is redrawn on every lesson frame, so the button is found and
// clicked in one go.
func clickShowMe(t testing.TB, b *browser, id string) {
	t.Helper()
	waitJS(t, b, showMeButton(id)+` && !`+showMeButton(id)+`.disabled`, waitTimeout)
	mustEval[bool](t, b, `(() => { `+showMeButton(id)+`.click(); return true; })()`)
}

// runFromShowMe uses step's "Show me" to open the Run dialog, checks the
// name it filled in is name on the default network, picks image and runs
// it; it returns the new container's ID, tracked for clean-up.
func runFromShowMe(t testing.TB, b *browser, base, step, image, name string) string {
	t.Helper()
	c := dockertest.Client(t)
	const dlg = `document.querySelector('[data-testid=run-dialog]')`
	clickShowMe(t, b, step)
	waitJS(t, b, dlg+`.open`, waitTimeout)
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=run-name]').value`); got != name {
		t.Errorf("Show me on %s: the Run dialog's name is %q, want %q", step, got, name)
	}
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=run-network]').value`); got != "" {
		t.Errorf("Show me on %s: the Run dialog's network is %q, want the default bridge", step, got)
	}
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=run-image] option')].some((o) => o.value === %s) && !document.querySelector('[data-testid=run-image]').disabled`, jsString(image)), waitTimeout)
	mustDo(t, b, "pick the image and run",
		chromedp.SetValue(chromedp.CSS(`[data-testid=run-image]`), image),
		chromedp.Click(chromedp.CSS(`[data-testid=run-submit]`)),
	)
	return waitRun(t, b, c, base, name)
}

func TestBrowserShowMe(t *testing.T) {
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	op := newBrowser(t)
	signInWith(t, op, printedLogin(t, output(), "operator"), base, mapReady)
	viewer := newBrowser(t)
	signInWith(t, viewer, printedLogin(t, output(), "viewer"), base, mapReady)
	prefix := randomPrefix(t)
	for _, b := range []*browser{op, viewer} {
		chooseLesson(t, b, "links", prefix)
	}
	dbName, webName := prefix+"database", prefix+"web"

	// Before anything runs: a probe step waits for its containers, and
	// add-link waits for the step it needs.
	waitJS(t, op, showMeButton("run-database"), waitTimeout)
	waitJS(t, op, showMeButton("ping-ip")+`?.disabled`, waitTimeout)
	if got := mustEval[string](t, op, showMeButton("ping-ip")+`.title`); got != "Run "+dbName+" first" && got != "Run "+webName+" first" {
		t.Errorf("ping-ip's disabled Show me says %q, want what to run first", got)
	}
	if mustEval[bool](t, op, showMeButton("add-link")+` !== null`) {
		t.Error("add-link has Show me before ping-name-fails, which it needs, is done")
	}
	if n := mustEval[int](t, viewer, `document.querySelectorAll('[data-testid=lesson-show-me]').length`); n != 0 {
		t.Errorf("the viewer's Lesson tab has %d Show me buttons, want none", n)
	}

	dbID := runFromShowMe(t, op, base, "run-database", image, dbName)
	waitStepDone(t, "run-database", op, viewer)
	webID := runFromShowMe(t, op, base, "run-web", image, webName)
	waitStepDone(t, "run-web", op, viewer)
	if mustEval[bool](t, op, showMeButton("run-web")+` !== null`) {
		t.Error("run-web is done and still has Show me")
	}

	// add-link needs ping-name-fails: its Show me runs that probe, and web
	// is selected so that its panel shows the result.
	clickShowMe(t, op, "ping-name-fails")
	waitStepDone(t, "ping-name-fails", op, viewer)
	waitJS(t, op, panelShows("c:"+webID), waitTimeout)
	waitJS(t, op, resultRow(dbID, "name"), waitTimeout)

	// The link's plan, filled in: only Confirm is left.
	clickShowMe(t, op, "add-link")
	waitDialog(t, op, "link", "ready")
	if got, want := mustEval[string](t, op, `document.querySelector('[data-testid=link-title]').textContent`), "Add link: "+webName+" → "+dbName+" as database"; got != want {
		t.Errorf("the link dialog says %q, want %q", got, want)
	}
	confirmAndWait(t, op, "link")
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		id, ok := graphContainerID(t, base, webName)
		if ok && id != webID {
			dockertest.TrackContainer(t, c, id)
			return true, ""
		}
		return false, fmt.Sprintf("%s is %q (was %s)", webName, id, webID)
	})
	waitStepDone(t, "add-link", op, viewer)

	if n := mustEval[int](t, viewer, `document.querySelectorAll('[data-testid=lesson-show-me]').length`); n != 0 {
		t.Errorf("the viewer's Lesson tab has %d Show me buttons, want none", n)
	}
}

// Lesson 2's network step takes three Show me clicks: New network with the
// participant's name for it, then Attach for each container not on it yet;
// then a probe step's Show me pings by name.
func TestBrowserShowMeNetwork(t *testing.T) {
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	prefix := randomPrefix(t)
	chooseLesson(t, b, "bridges", prefix)
	apiName, dbName, netName := prefix+"api", prefix+"db", prefix+"backend"

	runFromShowMe(t, b, base, "run-api", image, apiName)
	waitStepDone(t, "run-api", b)
	runFromShowMe(t, b, base, "run-db", image, dbName)
	waitStepDone(t, "run-db", b)

	const netDlg = `document.querySelector('[data-testid=network-dialog]')`
	clickShowMe(t, b, "share-network")
	waitJS(t, b, netDlg+`.open`, waitTimeout)
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=network-name-input]').value`); got != netName {
		t.Errorf("Show me on share-network: the network's name is %q, want %q", got, netName)
	}
	mustDo(t, b, "create the network", chromedp.Click(chromedp.CSS(`[data-testid=network-create]`)))
	var netID string
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		var ok bool
		netID, ok = graphNetworkID(t, base, netName)
		msg, _ := evalAs[string](b, `document.querySelector('[data-testid=network-dialog-error]').textContent`)
		return ok, fmt.Sprintf("%s not in /api/graph; dialog error %q", netName, msg)
	})
	dockertest.TrackNetwork(t, c, netID)
	waitJS(t, b, `!`+netDlg+`.open`+` && `+nodeExists("n:"+netID), waitTimeout)

	// One container at a time, whichever is not on it yet.
	const attachDlg = `document.querySelector('[data-testid=attach-dialog]')`
	attached := map[string]bool{}
	for range 2 {
		clickShowMe(t, b, "share-network")
		waitJS(t, b, attachDlg+`.open`, waitTimeout)
		title := mustEval[string](t, b, `document.querySelector('[data-testid=attach-dialog-title]').textContent`)
		var who string
		for _, n := range []string{apiName, dbName} {
			if title == "Attach "+n+" to "+netName+"?" {
				who = n
			}
		}
		if who == "" || attached[who] {
			t.Fatalf("Show me on share-network opened %q, want the attach of a container not on %s yet", title, netName)
		}
		attached[who] = true
		mustDo(t, b, "attach", chromedp.Click(chromedp.CSS(`[data-testid=attach-dialog-ok]`)))
		waitJS(t, b, `!`+attachDlg+`.open`, waitTimeout)
		id, _ := graphContainerID(t, base, who)
		waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).connectedEdges('edge.member').some((e) => e.target().id() === %s)`, jsString("c:"+id), jsString("n:"+netID)), waitTimeout)
	}
	waitStepDone(t, "share-network", b)

	clickShowMe(t, b, "api-to-db")
	waitStepDone(t, "api-to-db", b)
}

// Lesson 3's volume step: Show me waits for writer, then opens the plan
// for mounting writer's volume into reader at the same path.
func TestBrowserShowMeVolume(t *testing.T) {
	c := dockertest.Client(t)
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	prefix := randomPrefix(t)
	chooseLesson(t, b, "sharing", prefix)
	writerName, readerName := prefix+"writer", prefix+"reader"

	readerID := dockertest.RunContainer(t, c, dockertest.WithName(readerName))
	waitStepDone(t, "run-reader", b)
	waitJS(t, b, showMeButton("share-volume")+`?.title === `+jsString("Run "+writerName+" first"), waitTimeout)
	if !mustEval[bool](t, b, showMeButton("share-volume")+`.disabled`) {
		t.Error("share-volume's Show me is enabled while writer is missing")
	}

	vol := dockertest.CreateVolume(t, c, "")
	dockertest.RunContainer(t, c, dockertest.WithName(writerName),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: vol, Target: "/data"}))
	waitStepDone(t, "run-writer", b)
	clickShowMe(t, b, "share-volume")
	waitDialog(t, b, "mount", "ready")
	if got, want := mustEval[string](t, b, `document.querySelector('[data-testid=mount-title]').textContent`), "Mount "+vol+" into "+readerName+" at /data"; got != want {
		t.Errorf("the mount dialog says %q, want %q", got, want)
	}
	confirmAndWait(t, b, "mount")
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		id, ok := graphContainerID(t, base, readerName)
		if ok && id != readerID {
			dockertest.TrackContainer(t, c, id)
			return true, ""
		}
		return false, fmt.Sprintf("%s is %q (was %s)", readerName, id, readerID)
	})
	waitStepDone(t, "share-volume", b)
}
