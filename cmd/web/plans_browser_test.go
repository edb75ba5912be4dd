package main

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
)

// linkedPair is the end of the tutorial's first chapter, made from the
// page: database and web on the default bridge, web linked to database as
// "database" through the link dialog.
type linkedPair struct {
	base           string
	c              *docker.Client
	b              *browser
	dbName, dbID   string
	webName, webID string
}

// newLinkedPair runs database and web from the Run dialog and links web →
// database as "database" from web's panel, confirming the plan; webID is
// then the re-created web's.
func newLinkedPair(t *testing.T) *linkedPair {
	t.Helper()
	p := &linkedPair{c: dockertest.Client(t)}
	image := dockertest.FixtureImage(t)
	p.base = startDockmap(t, nil)
	p.b = newBrowser(t)
	allowPanelOfGone(p.b)
	openMap(t, p.b, p.base)
	p.dbName = dockertest.UniqueName(t, "database")
	p.webName = dockertest.UniqueName(t, "web")
	p.dbID = runFromPage(t, p.b, p.c, p.base, image, p.dbName)
	p.webID = runFromPage(t, p.b, p.c, p.base, image, p.webName)

	b := p.b
	// Running on the map: a plan made while one is still "created" has no
	// stop, and is out of date by the time it is confirmed.
	waitJS(t, b, running(p.dbID)+` && `+running(p.webID), waitTimeout)
	clickNode(t, b, "c:"+p.webID)
	waitJS(t, b, panelShows("c:"+p.webID), waitTimeout)
	addLinkFromPanel(t, b, p.dbID, "database")
	waitDialog(t, b, "link", "ready")
	confirmAndWait(t, b, "link")
	p.webID = renamedTo(t, p, p.webName, p.webID)
	return p
}

// allowPanelOfGone expects the browser to log a 404 for the panel of a
// container a re-create removed: the panel shows the container it
// re-creates, a refresh of it can be in flight when the old one goes, and
// panel.js then follows the new one by name (Chromium logs the failed
// fetch all the same).
func allowPanelOfGone(b *browser) {
	b.allow(regexp.MustCompile(`status of 404 \(Not Found\) \S+/panel/container/`))
}

// recreateSetup starts dockmap and a browser for a test that re-creates
// containers from the page (the fixture image built, panels of removed
// containers allowed); the test opens the map when it is ready.
func recreateSetup(t *testing.T) (*docker.Client, string, *browser) {
	t.Helper()
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	base := startDockmap(t, nil)
	b := newBrowser(t)
	allowPanelOfGone(b)
	return c, base, b
}

// addLinkFromPanel fills the panel's Add link form (target toID, alias)
// and submits it, in one go: deltas about the containers re-render the
// panel at any moment, which would swap the form between two steps.
func addLinkFromPanel(t testing.TB, b *browser, toID, alias string) {
	t.Helper()
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('#panel [data-testid=link-target] option')].some((o) => o.value === %s)`, jsString(toID)), waitTimeout)
	mustEval[bool](t, b, fmt.Sprintf(`(() => {
  const f = document.querySelector('#panel form[data-form=link]');
  f.querySelector('[data-testid=link-target]').value = %s;
  f.querySelector('[data-testid=link-alias]').value = %s;
  f.querySelector('[data-testid=link-add]').click();
  return true;
})()`, jsString(toID), jsString(alias)))
}

// running is a JS expression: the map shows the container with full ID id
// running.
func running(id string) string {
	return fmt.Sprintf(`window.cy.getElementById(%s).data('state') === 'running'`, jsString("c:"+id))
}

// dialogJS is a JS expression: the dialog of prefix (link, mount).
func dialogJS(prefix string) string {
	return fmt.Sprintf(`document.querySelector('[data-testid=%s-dialog]')`, prefix)
}

// waitDialog waits until the dialog of prefix is open in state want (or
// in a state it cannot leave by itself, which fails the test).
func waitDialog(t testing.TB, b *browser, prefix, want string) {
	t.Helper()
	dlg := dialogJS(prefix)
	dockertest.WaitFor(t, 4*waitTimeout, func() (bool, string) {
		state, _ := evalAs[string](b, dlg+`.open ? `+dlg+`.dataset.state : 'closed'`)
		msg, _ := evalAs[string](b, fmt.Sprintf(`document.querySelector('[data-testid=%s-error]').textContent`, prefix))
		if state != want && (state == "error" || state == "failed" || (want == "done" && state == "ready")) {
			t.Fatalf("%s dialog: state %q, want %q; error %q; stale %q", prefix, state, want, msg,
				mustEval[string](t, b, fmt.Sprintf(`document.querySelector('[data-testid=%s-stale]').textContent`, prefix)))
		}
		return state == want, fmt.Sprintf("%s dialog state %q, error %q", prefix, state, msg)
	})
}

// confirmAndWait confirms the plan the dialog of prefix shows, waits for
// its job to be done, checks every step was ticked and closes the dialog.
func confirmAndWait(t testing.TB, b *browser, prefix string) {
	t.Helper()
	mustDo(t, b, "confirm the "+prefix+" plan", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=%s-confirm]`, prefix))))
	waitDialog(t, b, prefix, "done")
	t.Logf("%s done: %s", prefix, mustEval[string](t, b, fmt.Sprintf(`document.querySelector('[data-testid=%s-done]').textContent`, prefix)))
	checkStepsDone(t, b, prefix+"-step")
	mustDo(t, b, "close the "+prefix+" dialog", chromedp.Click(chromedp.CSS(fmt.Sprintf(`[data-testid=%s-cancel]`, prefix))))
	waitJS(t, b, `!`+dialogJS(prefix)+`.open`, waitTimeout)
}

// renamedTo waits until the container named name has an ID other than
// old on the map (a re-create made it), tracks it for clean-up and
// returns it.
func renamedTo(t testing.TB, p *linkedPair, name, old string) string {
	t.Helper()
	var id string
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		var ok bool
		id, ok = graphContainerID(t, p.base, name)
		return ok && id != old, fmt.Sprintf("%s is %q (was %s)", name, id, old)
	})
	dockertest.TrackContainer(t, p.c, id)
	waitJS(t, p.b, nodeExists("c:"+id), waitTimeout)
	return id
}

// openMountDialog fills database's Mount form with a new volume at /data
// and waits for the plan.
func (p *linkedPair) openMountDialog(t *testing.T) (volName string) {
	t.Helper()
	b := p.b
	volName = dockertest.CreateVolume(t, p.c, dockertest.UniqueName(t, "dbdata"))
	waitJS(t, b, nodeExists("v:"+volName), waitTimeout)
	clickNode(t, b, "c:"+p.dbID)
	waitJS(t, b, panelShows("c:"+p.dbID), waitTimeout)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('#panel [data-testid=mount-volume] option')].some((o) => o.value === %s)`, jsString(volName)), waitTimeout)
	mustDo(t, b, "fill the Mount form",
		chromedp.Click(chromedp.CSS(`#panel [data-testid=mount-kind-volume] + span`)),
		chromedp.SetValue(chromedp.CSS(`#panel [data-testid=mount-volume]`), volName),
		chromedp.SendKeys(chromedp.CSS(`#panel [data-testid=mount-target]`), "/data"),
		chromedp.Click(chromedp.CSS(`#panel [data-testid=mount-submit]`)),
	)
	waitDialog(t, b, "mount", "ready")
	return volName
}

// depRows is a JS expression: the dependent rows matching sel, each as
// "container>on:alias".
func depRows(sel string) string {
	return fmt.Sprintf(`[...document.querySelectorAll(%s)].map((e) => e.dataset.container + '>' + e.dataset.on + ':' + e.dataset.alias)`, jsString(sel))
}

// reachesByName pings, from the page, the container toID from fromID by
// name and fails unless it answers.
func (p *linkedPair) reachesByName(t *testing.T, fromID, toID string) {
	t.Helper()
	clickNode(t, p.b, "c:"+fromID)
	waitJS(t, p.b, panelShows("c:"+fromID), waitTimeout)
	pingFromPanel(t, p.b, toID, "name")
	if ok := mustEval[string](t, p.b, resultRow(toID, "name")+`.dataset.ok`); ok != "true" {
		t.Errorf("%s → %s by name: %s", fromID[:12], toID[:12], mustEval[string](t, p.b, resultRow(toID, "name")+`.textContent`))
	}
}

// noOldContainers fails the test if the engine holds a container renamed
// aside by a re-create of one of names.
func noOldContainers(t *testing.T, c *docker.Client, names ...string) {
	t.Helper()
	inv, err := c.ListInventory(t.Context())
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	for _, ct := range inv.Containers {
		for _, n := range names {
			if strings.HasPrefix(ct.Name, n+"-dockmap-old-") {
				dockertest.TrackContainer(t, c, ct.ID)
				t.Errorf("container %s is left on the engine after the re-create", ct.Name)
			}
		}
	}
}

// TestBrowserMountTakesDependentsAlong continues the tutorial: with web
// linked to database, mount a new volume into database from its panel. The
// plan names web as a dependent, and "re-create them too" is ticked: the
// plan re-creates database, then web pointing at the new database, and
// breaks nothing. Afterwards web still reaches database by name, and no
// container renamed aside is left.
func TestBrowserMountTakesDependentsAlong(t *testing.T) {
	p := newLinkedPair(t)
	b := p.b
	p.openMountDialog(t)

	if !mustEval[bool](t, b, `document.querySelector('[data-testid=mount-recreate-dependents]').checked`) {
		t.Errorf(`"re-create them too" is not ticked by default`)
	}
	if got, want := mustEval[[]string](t, b, depRows(`[data-testid=mount-dependent]`)), []string{p.webName + ">" + p.dbName + ":database"}; !slices.Equal(got, want) {
		t.Errorf("mount plan dependents = %v, want %v", got, want)
	}
	if got := mustEval[[]string](t, b, depRows(`[data-testid=mount-break]`)); len(got) != 0 {
		t.Errorf("mount plan breaks %v, want nothing", got)
	}
	if got, want := mustEval[[]string](t, b, `[...document.querySelectorAll('[data-testid=mount-recreated]')].map((e) => e.dataset.container)`),
		[]string{p.dbName, p.webName}; !slices.Equal(got, want) {
		t.Errorf("mount plan re-creates %v, want %v", got, want)
	}
	// The second container's steps are in the plan too.
	if !mustEval[bool](t, b, `document.querySelector('[data-testid=mount-step][data-step="r1.create"]') !== null`) {
		t.Errorf("the mount plan lists no r1.create step: %s", mustEval[string](t, b,
			`[...document.querySelectorAll('[data-testid=mount-step]')].map((e) => e.dataset.step).join(' ')`))
	}
	confirmAndWait(t, b, "mount")

	newDB := renamedTo(t, p, p.dbName, p.dbID)
	newWeb := renamedTo(t, p, p.webName, p.webID)
	waitJS(t, b, fmt.Sprintf(`window.cy.edges('.link').some((e) => e.source().id() === %s && e.target().id() === %s && e.data('label') === 'database')`,
		jsString("c:"+newWeb), jsString("c:"+newDB)), waitTimeout)
	// Ours only: other tests on a shared engine may break links of their
	// own.
	ours := fmt.Sprintf(`window.cy.edges('.broken-link').filter((e) => [%s, %s].includes(e.source().id()))`, jsString("c:"+newWeb), jsString("c:"+newDB))
	if n := mustEval[int](t, b, ours+`.length`); n != 0 {
		t.Errorf("%d broken links on the map after a re-create that took its dependents along: %s", n,
			mustEval[string](t, b, ours+`.map((e) => e.id()).join(' ')`))
	}
	p.reachesByName(t, newWeb, newDB)
	noOldContainers(t, p.c, p.dbName, p.webName)
}

// breakLink mounts a new volume into database with "re-create them too"
// unticked, checking the plan names exactly the link that breaks, and
// returns the new database's ID and a JS expression for web's broken link
// on the map, once it is drawn (red, dashed, to a grey ghost).
func (p *linkedPair) breakLink(t *testing.T) (newDB, broken string) {
	t.Helper()
	b := p.b
	p.openMountDialog(t)
	firstPlan := mustEval[string](t, b, dialogJS("mount")+`.dataset.plan`)

	// Untick: the plan is asked again, and differs.
	mustDo(t, b, `untick "re-create them too"`, chromedp.Click(chromedp.CSS(`[data-testid=mount-recreate-dependents]`)))
	waitJS(t, b, dialogJS("mount")+`.dataset.state === 'ready' && `+dialogJS("mount")+`.dataset.plan !== `+jsString(firstPlan), waitTimeout)
	if got, want := mustEval[[]string](t, b, depRows(`[data-testid=mount-break]`)), []string{p.webName + ">" + p.dbName + ":database"}; !slices.Equal(got, want) {
		t.Errorf("mount plan breaks %v, want exactly %v", got, want)
	}
	if got, want := mustEval[[]string](t, b, `[...document.querySelectorAll('[data-testid=mount-recreated]')].map((e) => e.dataset.container)`),
		[]string{p.dbName}; !slices.Equal(got, want) {
		t.Errorf("mount plan re-creates %v, want %v", got, want)
	}
	confirmAndWait(t, b, "mount")
	newDB = renamedTo(t, p, p.dbName, p.dbID)

	// web kept its ID; its link is broken and drawn to the ghost.
	broken = fmt.Sprintf(`window.cy.edges('.broken-link').filter((e) => e.source().id() === %s && e.data('link').alias === 'database')`, jsString("c:"+p.webID))
	waitJS(t, b, broken+`.length === 1`, waitTimeout)
	if !mustEval[bool](t, b, broken+`.visible() && `+broken+`.target().hasClass('ghost') && `+broken+`.target().visible()`) {
		t.Errorf("the broken link or its ghost is not visible")
	}
	if got := mustEval[string](t, b, broken+`.style('line-style')`); got != "dashed" {
		t.Errorf("broken link line-style = %q, want dashed", got)
	}
	if got := mustEval[string](t, b, broken+`.target().style('opacity')`); got != "1" {
		t.Errorf("ghost opacity = %q, want 1", got)
	}
	if got := mustEval[string](t, b, broken+`.data('label')`); !strings.Contains(got, "database") {
		t.Errorf("broken link label = %q, want its alias", got)
	}
	return newDB, broken
}

// TestBrowserMountBreaksLinkThenRepair is the same mount with "re-create
// them too" unticked: the plan, asked again, names exactly the link that
// breaks (web → database). After the mount the broken link is drawn, red
// and dashed, to a grey ghost of the old database; web's panel explains it
// and offers Repair, which re-points the link at the new database through
// its own plan and job. Then web reaches database by name again.
func TestBrowserMountBreaksLinkThenRepair(t *testing.T) {
	p := newLinkedPair(t)
	b := p.b
	newDB, broken := p.breakLink(t)
	web := "c:" + p.webID
	if os.Getenv("DOCKMAP_SCREENSHOTS") != "" {
		// On a busy engine the pair may be anywhere: show it.
		mustEval[bool](t, b, `(() => { const e = `+broken+`; window.cy.fit(e.union(e.connectedNodes()), 150); return true; })()`)
		screenshot(t, b, "broken-link")
	}

	// web's panel explains it and offers Repair → database.
	clickNode(t, b, web)
	waitJS(t, b, panelShows(web)+` && document.querySelector('#panel [data-testid=link-broken]') !== null`, waitTimeout)
	if got := mustEval[string](t, b, `document.querySelector('#panel [data-testid=link-broken-why]').textContent`); !strings.Contains(got, "removed") {
		t.Errorf("broken link explanation = %q, want it to say the target was removed", got)
	}
	if got := mustEval[string](t, b, `document.querySelector('#panel [data-testid=link-repair]')?.dataset.peerName || ''`); got != p.dbName {
		t.Errorf("Repair points at %q, want %q", got, p.dbName)
	}
	mustDo(t, b, "click Repair", chromedp.Click(chromedp.CSS(`#panel [data-testid=link-repair]`)))
	waitDialog(t, b, "link", "ready")
	if got := mustEval[string](t, b, dialogJS("link")+`.dataset.action`); got != "repair-link" {
		t.Errorf("link dialog action = %q, want repair-link", got)
	}
	if m := mustEval[string](t, b, `document.querySelector('[data-testid=link-method]').dataset.method`); m != "recreate" {
		t.Errorf("repair plan method = %q, want recreate", m)
	}
	confirmAndWait(t, b, "link")
	newWeb := renamedTo(t, p, p.webName, p.webID)

	waitJS(t, b, fmt.Sprintf(`window.cy.edges('.link').some((e) => e.source().id() === %s && e.target().id() === %s && e.data('label') === 'database')`,
		jsString("c:"+newWeb), jsString("c:"+newDB)), waitTimeout)
	waitJS(t, b, `window.cy.edges('.broken-link').filter((e) => e.source().id() === `+jsString("c:"+newWeb)+`).length === 0`, waitTimeout)
	p.reachesByName(t, newWeb, newDB)
	noOldContainers(t, p.c, p.dbName, p.webName)
}

// TestBrowserStopCountdownKillNow re-creates, through the link dialog, a
// container whose main process ignores SIGTERM: while the stop waits, the
// dialog's stop step and its Activity row say so and count down to the
// engine's kill, and Kill now ends the wait at once, well before it.
func TestBrowserStopCountdownKillNow(t *testing.T) {
	c, base, b := recreateSetup(t)
	openMap(t, b, base)
	dbName := dockertest.UniqueName(t, "database")
	stubbornName := dockertest.UniqueName(t, "stubborn")
	dbID := dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	stubbornID := dockertest.RunContainer(t, c, dockertest.WithName(stubbornName),
		dockertest.WithCmd("sh", "-c", `trap "" TERM; while :; do sleep 1; done`))
	// Running on the map (see newLinkedPair).
	waitJS(t, b, running(dbID)+` && `+running(stubbornID), waitTimeout)

	clickNode(t, b, "c:"+stubbornID)
	waitJS(t, b, panelShows("c:"+stubbornID), waitTimeout)
	addLinkFromPanel(t, b, dbID, "db")
	waitDialog(t, b, "link", "ready")
	mustDo(t, b, "confirm the link plan", chromedp.Click(chromedp.CSS(`[data-testid=link-confirm]`)))

	// The stop waits: the countdown shows in the dialog and in Activity.
	const stop = `document.querySelector('[data-testid=link-step][data-step="r0.stop"]')`
	countdown := stop + `.querySelector('[data-testid=step-countdown]')`
	waitJS(t, b, `!`+countdown+`.hidden && `+stop+`.dataset.state === 'running'`, 2*waitTimeout)
	text := mustEval[string](t, b, countdown+`.textContent`)
	want := stubbornName + "'s main process ignores the stop signal; the engine kills it in "
	if !strings.Contains(text, want) || !strings.HasSuffix(text, " s") {
		t.Errorf("countdown = %q, want %q N s", text, want)
	}
	first := mustEval[int](t, b, `Number(`+countdown+`.dataset.seconds)`)
	if first < 1 || first > 10 {
		t.Errorf("countdown starts at %d s, want 1..10 (the engine's 10 s stop timeout)", first)
	}
	job := mustEval[string](t, b, stop+`.dataset.job`)
	activity := fmt.Sprintf(`document.querySelector('[data-testid=job][data-job=%s] [data-testid=job-step][data-step="r0.stop"] [data-testid=step-countdown]')`, jsString(job))
	// Visible there too: the row opens by itself.
	waitJS(t, b, activity+`?.offsetParent != null`, waitTimeout)
	// It counts down.
	waitJS(t, b, `Number(`+countdown+`.dataset.seconds) < `+fmt.Sprint(first), waitTimeout)
	deadline := mustEval[float64](t, b, `Number(`+countdown+`.dataset.deadline)`)

	mustDo(t, b, "click Kill now", chromedp.Click(chromedp.CSS(`[data-testid=link-step][data-step="r0.stop"] [data-testid=step-kill]`)))
	waitJS(t, b, stop+`.dataset.state === 'done'`, waitTimeout)
	if left := mustEval[float64](t, b, fmt.Sprintf(`%v - Date.now()`, deadline)); left <= 0 {
		t.Errorf("the stop ended %.0f ms after the engine's own kill deadline: Kill now did not kill", -left)
	}
	if !mustEval[bool](t, b, countdown+`.hidden`) {
		t.Errorf("the countdown still shows after the stop ended")
	}
	waitDialog(t, b, "link", "done")
	checkStepsDone(t, b, "link-step")

	var newID string
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		var ok bool
		newID, ok = graphContainerID(t, base, stubbornName)
		return ok && newID != stubbornID, fmt.Sprintf("%s is %q", stubbornName, newID)
	})
	dockertest.TrackContainer(t, c, newID)
}

// TestBrowserPullFollowsItsJob pulls, from the Run dialog, an image no
// registry serves: the pull is a job, the dialog follows it by the ID its
// POST answered and says why it failed in the engine's words, and the
// Activity row of that job ends failed with its pull step failed.
func TestBrowserPullFollowsItsJob(t *testing.T) {
	dockertest.Client(t)
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	// Nothing listens on port 1: the engine's pull fails at once.
	ref := "127.0.0.1:1/" + strings.ToLower(dockertest.UniqueName(t, "nothing")) + ":latest"
	const dlg = `document.querySelector('[data-testid=run-dialog]')`
	mustDo(t, b, "open the Run dialog", chromedp.Click(chromedp.CSS(`[data-testid=run-open]`)))
	waitJS(t, b, dlg+`.open`, waitTimeout)
	mustDo(t, b, "pull",
		chromedp.SendKeys(chromedp.CSS(`[data-testid=pull-image]`), ref),
		chromedp.Click(chromedp.CSS(`[data-testid=pull-button]`)),
	)
	waitJS(t, b, `!document.querySelector('[data-testid=pull-error]').hidden`, 3*waitTimeout)
	msg := mustEval[string](t, b, `document.querySelector('[data-testid=pull-error]').textContent`)
	t.Logf("pull error: %s", msg)
	if !strings.HasPrefix(msg, "Pull failed: ") || !strings.Contains(msg, "127.0.0.1:1") {
		t.Errorf("pull error = %q, want the engine's words about 127.0.0.1:1", msg)
	}
	row := fmt.Sprintf(`[...document.querySelectorAll('[data-testid=job]')].find((r) => r.querySelector('[data-testid=job-name]').textContent === %s)`, jsString("pull "+ref))
	waitJS(t, b, row+`?.dataset.state === 'failed'`, waitTimeout)
	if st := mustEval[string](t, b, row+`.querySelector('[data-testid=job-step][data-step=pull]')?.dataset.state || ''`); st != "failed" {
		t.Errorf("the pull job's pull step is %q, want failed", st)
	}
}

// TestBrowserRemoveBrokenLinkFromGhost breaks web's link as above, then
// removes it from the ghost's panel (click the grey ghost on the map): the
// link dialog shows the plan (a re-create of web without the link) and
// follows its job; afterwards web has no link, broken or not, and the
// ghost is gone from the map.
func TestBrowserRemoveBrokenLinkFromGhost(t *testing.T) {
	p := newLinkedPair(t)
	b := p.b
	_, broken := p.breakLink(t)
	ghost := mustEval[string](t, b, broken+`.target().id()`)

	clickNode(t, b, ghost)
	waitJS(t, b, fmt.Sprintf(`document.querySelector('#panel [data-testid=ghost-panel]')?.dataset.id === %s`, jsString(ghost)), waitTimeout)
	row := fmt.Sprintf(`document.querySelector('#panel [data-testid=link-broken][data-from=%s][data-alias=database]')`, jsString(p.webID))
	waitJS(t, b, row+` !== null`, waitTimeout)
	mustDo(t, b, "click Remove link", chromedp.Click(chromedp.CSS(fmt.Sprintf(`#panel [data-testid=link-broken][data-from=%q] [data-testid=link-remove]`, p.webID))))
	waitDialog(t, b, "link", "ready")
	if got := mustEval[string](t, b, dialogJS("link")+`.dataset.action`); got != "remove-link" {
		t.Errorf("link dialog action = %q, want remove-link", got)
	}
	if m := mustEval[string](t, b, `document.querySelector('[data-testid=link-method]').dataset.method`); m != "recreate" {
		t.Errorf("plan of removing a broken link: method %q, want recreate", m)
	}
	confirmAndWait(t, b, "link")
	newWeb := renamedTo(t, p, p.webName, p.webID)
	waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).empty()`, jsString(ghost)), waitTimeout)
	if n := mustEval[int](t, b, fmt.Sprintf(`window.cy.getElementById(%s).connectedEdges('.link, .broken-link').length`, jsString("c:"+newWeb))); n != 0 {
		t.Errorf("web has %d links after its broken link was removed, want 0", n)
	}
	noOldContainers(t, p.c, p.dbName, p.webName)
}

// TestBrowserLinkPlanOutOfDate opens the link dialog, then stops the
// source behind the page's back before Confirm: the plan shown (with a
// stop) is out of date, the server refuses it (409) with the plan of
// today, and the dialog shows that plan with a line saying why, to confirm
// again; the new one carries out.
func TestBrowserLinkPlanOutOfDate(t *testing.T) {
	c, base, b := recreateSetup(t)
	// The refused request is the point of the test.
	b.allow(regexp.MustCompile(`status of 409 \(Conflict\) \S+/api/links$`))
	openMap(t, b, base)
	dbID := dockertest.RunContainer(t, c, dockertest.WithName(dockertest.UniqueName(t, "database")))
	webName := dockertest.UniqueName(t, "web")
	webID := dockertest.RunContainer(t, c, dockertest.WithName(webName))
	waitJS(t, b, running(dbID)+` && `+running(webID), waitTimeout)

	clickNode(t, b, "c:"+webID)
	waitJS(t, b, panelShows("c:"+webID), waitTimeout)
	addLinkFromPanel(t, b, dbID, "db")
	waitDialog(t, b, "link", "ready")
	shown := mustEval[string](t, b, dialogJS("link")+`.dataset.plan`)
	const stopStep = `document.querySelector('[data-testid=link-step][data-step="r0.stop"]')`
	if !mustEval[bool](t, b, stopStep+` !== null`) {
		t.Fatalf("the plan for a running web has no stop step")
	}

	// The world changes: web is stopped, and the map has it.
	if err := c.StopContainer(t.Context(), webID, 0); err != nil {
		t.Fatalf("stop web: %v", err)
	}
	waitJS(t, b, `!(`+running(webID)+`)`, waitTimeout)

	mustDo(t, b, "confirm the old plan", chromedp.Click(chromedp.CSS(`[data-testid=link-confirm]`)))
	waitJS(t, b, dialogJS("link")+`.dataset.state === 'ready' && `+dialogJS("link")+`.dataset.plan !== `+jsString(shown), waitTimeout)
	stale := mustEval[string](t, b, `document.querySelector('[data-testid=link-stale]').textContent`)
	if !strings.Contains(stale, "The containers changed since this plan: review the new plan and confirm again") {
		t.Errorf("stale line = %q, want it to say the containers changed", stale)
	}
	if mustEval[bool](t, b, stopStep+` !== null`) {
		t.Errorf("the new plan still stops web, which is stopped")
	}
	confirmAndWait(t, b, "link")
	newID, ok := graphContainerID(t, base, webName)
	if ok {
		dockertest.TrackContainer(t, c, newID)
	}
	if !ok || newID == webID {
		t.Fatalf("web after the link: %q (was %s), want a new container", newID, webID)
	}
	waitJS(t, b, fmt.Sprintf(`window.cy.edges('.link').some((e) => e.source().id() === %s && e.target().id() === %s)`,
		jsString("c:"+newID), jsString("c:"+dbID)), waitTimeout)
}

// TestBrowserCancelRollsBack stops, from the link dialog, a re-create that
// waits for a container ignoring SIGTERM: the job ends cancelled, the
// dialog says the re-create rolled back, and the original container is
// still there under its name, running, with nothing renamed aside left.
func TestBrowserCancelRollsBack(t *testing.T) {
	c, base, b := recreateSetup(t)
	openMap(t, b, base)
	dbID := dockertest.RunContainer(t, c, dockertest.WithName(dockertest.UniqueName(t, "database")))
	stubbornName := dockertest.UniqueName(t, "stubborn")
	stubbornID := dockertest.RunContainer(t, c, dockertest.WithName(stubbornName),
		dockertest.WithCmd("sh", "-c", `trap "" TERM; while :; do sleep 1; done`))
	waitJS(t, b, running(dbID)+` && `+running(stubbornID), waitTimeout)

	clickNode(t, b, "c:"+stubbornID)
	waitJS(t, b, panelShows("c:"+stubbornID), waitTimeout)
	addLinkFromPanel(t, b, dbID, "db")
	waitDialog(t, b, "link", "ready")
	if !mustEval[bool](t, b, `document.querySelector('[data-testid=link-cancel-job]').hidden`) {
		t.Errorf("the dialog offers to stop a job before there is one")
	}
	mustDo(t, b, "confirm the link plan", chromedp.Click(chromedp.CSS(`[data-testid=link-confirm]`)))
	// While the stop waits, the job can still be stopped.
	waitJS(t, b, `document.querySelector('[data-testid=link-step][data-step="r0.stop"]')?.dataset.state === 'running'`, 2*waitTimeout)
	waitJS(t, b, `!document.querySelector('[data-testid=link-cancel-job]').hidden`, waitTimeout)
	mustDo(t, b, "stop the job", chromedp.Click(chromedp.CSS(`[data-testid=link-cancel-job]`)))
	waitDialog(t, b, "link", "failed")
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=link-error]').textContent`); !strings.Contains(got, "rolled back") {
		t.Errorf("link dialog after stopping the job = %q, want it to say the re-create rolled back", got)
	}
	job := mustEval[string](t, b, `document.querySelector('[data-testid=link-step][data-step="r0.stop"]').dataset.job`)
	waitJS(t, b, fmt.Sprintf(`document.querySelector('[data-testid=job][data-job=%s]')?.dataset.state === 'canceled'`, jsString(job)), waitTimeout)
	if !mustEval[bool](t, b, `document.querySelector('[data-testid=link-cancel-job]').hidden`) {
		t.Errorf("the dialog still offers to stop a job that has ended")
	}

	// The original is back, as it was.
	if id, ok := graphContainerID(t, base, stubbornName); !ok || id != stubbornID {
		t.Errorf("%s after the rollback: %q, want the original %s", stubbornName, id, stubbornID)
	}
	waitJS(t, b, running(stubbornID), 2*waitTimeout)
	noOldContainers(t, c, stubbornName)
}
