package main

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// TestBrowserInternalAndICCOff: on an internal network the page predicts
// that members reach each other and the probe is green; on a network with
// inter-container communication off it predicts a failure with that reason
// and the probe is red; in both the prediction and the measure agree.
func TestBrowserInternalAndICCOff(t *testing.T) {
	c := dockertest.Client(t)
	internal := dockertest.UniqueName(t, "vault")
	quiet := dockertest.UniqueName(t, "quiet")
	dockertest.CreateNetwork(t, c, internal, dockertest.WithInternal())
	dockertest.CreateNetwork(t, c, quiet, dockertest.WithoutICC())
	a := dockertest.RunContainer(t, c, dockertest.WithNetwork(internal))
	bID := dockertest.RunContainer(t, c, dockertest.WithNetwork(internal))
	x := dockertest.RunContainer(t, c, dockertest.WithNetwork(quiet))
	y := dockertest.RunContainer(t, c, dockertest.WithNetwork(quiet))

	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	for _, id := range []string{a, bID, x, y} {
		waitJS(t, b, fmt.Sprintf(`window.cy.getElementById(%s).nonempty()`, jsString("c:"+id)), waitTimeout)
	}

	tests := []struct {
		name     string
		from, to string
		ok       bool
		code     string // a reason the page must show beside a red probe
	}{
		{"internal", a, bID, true, ""},
		{"icc off", x, y, false, "icc-off"},
	}
	for _, tc := range tests {
		clickNode(t, b, "c:"+tc.from)
		waitJS(t, b, panelShows("c:"+tc.from), waitTimeout)
		mustDo(t, b, "aim the ping form", chromedp.SetValue(chromedp.CSS(`#panel [data-testid=ping-target]`), tc.to))
		mustEval[bool](t, b, `(() => { const s = document.querySelector('#panel [data-testid=ping-target]'); s.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`)
		waitJS(t, b, fmt.Sprintf(`document.querySelector('#panel [data-testid=reach-prediction][data-by=name]')?.dataset.ok === '%v'`, tc.ok), waitTimeout)
		pingFromPanel(t, b, tc.to, "name")
		waitJS(t, b, resultRow(tc.to, "name")+fmt.Sprintf(`?.dataset.ok === '%v'`, tc.ok), waitTimeout)
		if got := mustEval[string](t, b, resultRow(tc.to, "name")+`.dataset.mismatch || 'false'`); got != "false" {
			t.Errorf("%s: measured and predicted disagree (mismatch %s)", tc.name, got)
		}
		if tc.code != "" {
			waitJS(t, b, resultRow(tc.to, "name")+fmt.Sprintf(`.querySelector('[data-testid=reach-reason][data-code=%q]') !== null`, tc.code), waitTimeout)
		}
	}
}
