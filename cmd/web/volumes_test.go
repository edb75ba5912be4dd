package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
)

// TestBrowserVolumes is the tutorial's third chapter (issue 5), driven
// from the page on the real engine: create the volume shared-data from the
// header's "Volume…" dialog; run writer with it at /data and reader with
// it at /data read-only (the Run dialog cannot mount, so the engine
// helpers make those two); "Test sharing" in the volume panel: writer
// wrote its marker, reader sees it and its own write is refused. Then
// mount shared-data into an existing web from its panel's "Mount…" form,
// through the re-create confirm: the steps run to done and the new web
// has a mount edge to the volume.
func TestBrowserVolumes(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)

	// Create the volume from the page.
	volName := dockertest.UniqueName(t, "shared-data")
	volNode := "v:" + volName
	const volDlg = `document.querySelector('[data-testid=volume-dialog]')`
	mustDo(t, b, "open the Volume dialog", chromedp.Click(chromedp.CSS(`[data-testid=volume-open]`)))
	waitJS(t, b, volDlg+`.open`, waitTimeout)
	// Registered before the click, so a half-way failure still cleans up.
	dockertest.TrackVolume(t, c, volName)
	mustDo(t, b, "fill the Volume dialog",
		chromedp.SendKeys(chromedp.CSS(`[data-testid=volume-name-input]`), volName),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=volume-labels-input]`), "chapter=3"),
		chromedp.Click(chromedp.CSS(`[data-testid=volume-create]`)),
	)
	// Generous: the engine can be slow to answer right after other tests'
	// clean-ups; the message says where a slow create got to.
	dockertest.WaitFor(t, 3*waitTimeout, func() (bool, string) {
		ok, _ := evalAs[bool](b, nodeExists(volNode))
		msg, _ := evalAs[string](b, `document.querySelector('[data-testid=volume-dialog-error]').textContent`)
		btn, _ := evalAs[string](b, `document.querySelector('[data-testid=volume-create]').textContent`)
		typed, _ := evalAs[string](b, `document.querySelector('[data-testid=volume-name-input]').value`)
		_, engErr := c.InspectVolume(t.Context(), volName)
		return ok, fmt.Sprintf("%s not on the graph; dialog error %q, button %q, typed %q, engine inspect: %v",
			volNode, msg, btn, typed, engErr)
	})
	waitJS(t, b, `!`+volDlg+`.open`, waitTimeout)
	// The new volume opens in the panel, with its label.
	waitJS(t, b, volumePanelShows(volNode), waitTimeout)
	if got := mustEval[string](t, b, `document.querySelector('#panel [data-testid=volume-label-value]')?.textContent || ''`); got != "3" {
		t.Errorf("volume label chapter = %q, want 3", got)
	}
	screenshot(t, b, "volume-created")

	// writer mounts it read-write, reader read-only.
	writerID := dockertest.RunContainer(t, c, dockertest.WithName(dockertest.UniqueName(t, "writer")),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: volName, Target: "/data"}))
	readerID := dockertest.RunContainer(t, c, dockertest.WithName(dockertest.UniqueName(t, "reader")),
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: volName, Target: "/data", ReadOnly: true}))
	waitJS(t, b, mountEdge(writerID, volNode)+`.length === 1`, waitTimeout)
	waitJS(t, b, mountEdge(readerID, volNode)+`.length === 1 && `+mountEdge(readerID, volNode)+`.hasClass('ro')`, waitTimeout)

	// The panel lists both users; Test sharing proves it.
	clickNode(t, b, volNode)
	waitJS(t, b, volumePanelShows(volNode)+` && document.querySelector('#panel [data-testid=volume-panel]').dataset.users === '2'`, waitTimeout)
	if got := mustEval[string](t, b, fmt.Sprintf(`document.querySelector('#panel [data-testid=volume-user][data-container-id=%q]')?.dataset.access || ''`, readerID)); got != "ro" {
		t.Errorf("reader's access in the volume panel = %q, want ro", got)
	}
	mustDo(t, b, "test sharing", chromedp.Click(chromedp.CSS(`#panel [data-testid=volume-share-test]`)))
	waitJS(t, b, `document.querySelector('#panel [data-testid=share-results]')?.dataset.state === 'done'`, 3*waitTimeout)
	rows := mustEval[string](t, b, `[...document.querySelectorAll('#panel [data-testid=share-result]')].map((r) => r.dataset.name + ' ' + r.dataset.role + ' ' + r.dataset.state + ': ' + r.textContent).join('\n')`)
	t.Logf("share test:\n%s", rows)
	for _, want := range []struct{ id, state string }{{writerID, "written"}, {readerID, "seen"}, {readerID, "read-only"}} {
		if !mustEval[bool](t, b, shareRow(want.id, want.state)+` !== null`) {
			t.Errorf("no share-result %s for %s; rows:\n%s", want.state, want.id[:12], rows)
		}
	}
	screenshot(t, b, "share-tested")

	// Mount it into an existing web from web's panel, through the confirm.
	webName := dockertest.UniqueName(t, "web")
	webID := dockertest.RunContainer(t, c, dockertest.WithName(webName))
	// Running on the map: a plan made while web is still "created" has no
	// stop, and is out of date (409) by the time it is confirmed.
	waitJS(t, b, running(webID), waitTimeout)
	clickNode(t, b, "c:"+webID)
	waitJS(t, b, panelShows("c:"+webID), waitTimeout)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('#panel [data-testid=mount-volume] option')].some((o) => o.value === %s)`, jsString(volName)), waitTimeout)
	mustDo(t, b, "fill the Mount form",
		chromedp.Click(chromedp.CSS(`#panel [data-testid=mount-kind-volume] + span`)),
		chromedp.SetValue(chromedp.CSS(`#panel [data-testid=mount-volume]`), volName),
		chromedp.SendKeys(chromedp.CSS(`#panel [data-testid=mount-target]`), "/data"),
		chromedp.Click(chromedp.CSS(`#panel [data-testid=mount-submit]`)),
	)
	const mountDlg = `document.querySelector('[data-testid=mount-dialog]')`
	waitJS(t, b, mountDlg+`.open`, waitTimeout)
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		state, _ := evalAs[string](b, mountDlg+`.dataset.state`)
		msg, _ := evalAs[string](b, `document.querySelector('[data-testid=mount-error]').textContent`)
		return state == "ready", fmt.Sprintf("mount dialog state %q, error %q", state, msg)
	})
	// The confirm shows what the re-create would lose, as for a link.
	if n := mustEval[int](t, b, `document.querySelectorAll('[data-testid=mount-lost] li').length`); n == 0 {
		t.Errorf("the mount confirm shows no lost-files list")
	}
	screenshot(t, b, "mount-plan")
	mustDo(t, b, "confirm the mount", chromedp.Click(chromedp.CSS(`[data-testid=mount-confirm]`)))
	dockertest.WaitFor(t, 4*waitTimeout, func() (bool, string) {
		state, _ := evalAs[string](b, mountDlg+`.dataset.state`)
		msg, _ := evalAs[string](b, `document.querySelector('[data-testid=mount-error]').textContent`)
		return state == "done", fmt.Sprintf("mount dialog state %q, error %q", state, msg)
	})
	steps := mustEval[string](t, b, `[...document.querySelectorAll('[data-testid=mount-step]')].map((s) => s.dataset.state + ' ' + s.textContent).join('\n')`)
	t.Logf("mount steps:\n%s", steps)
	if steps == "" {
		t.Errorf("the mount dialog showed no steps")
	}
	checkStepsDone(t, b, "mount-step")
	// The re-created web has a new ID: clean it up too.
	var newID string
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		id, ok := graphContainerID(t, base, webName)
		newID = id
		return ok && id != webID, fmt.Sprintf("%s in /api/graph: %q (old %s)", webName, id, webID[:12])
	})
	dockertest.TrackContainer(t, c, newID)
	waitJS(t, b, mountEdge(newID, volNode)+`.length === 1 && `+mountEdge(newID, volNode)+`.data('mount').destination === '/data'`, waitTimeout)
	mustDo(t, b, "close the mount dialog", chromedp.Click(chromedp.CSS(`[data-testid=mount-cancel]`)))
	// The panel followed web to its new ID.
	waitJS(t, b, panelShows("c:"+newID), waitTimeout)
	screenshot(t, b, "mounted")
}

// volumePanelShows is a JS expression: the side panel shows this volume.
func volumePanelShows(nodeID string) string {
	return fmt.Sprintf(`document.querySelector('#panel [data-testid=volume-panel]')?.dataset.id === %s`, jsString(nodeID))
}

// mountEdge is a JS expression: the mount edges from the container with
// full ID id to the node volNode.
func mountEdge(id, volNode string) string {
	return fmt.Sprintf(`window.cy.edges('edge.mount').filter((e) => e.source().id() === %s && e.target().id() === %s)`,
		jsString("c:"+id), jsString(volNode))
}

// shareRow is a JS expression: the volume panel's share-test row for the
// container with full ID id in state state, or null.
func shareRow(id, state string) string {
	return fmt.Sprintf(`document.querySelector('#panel [data-testid=share-result][data-container-id=%q][data-state=%q]')`, id, state)
}
