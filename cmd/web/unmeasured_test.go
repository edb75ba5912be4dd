package main

import (
	"debug/elf"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// TestBrowserUnmeasuredProbe: a probe that could not run (failure
// probe-impossible) measured nothing. Where the prediction says the pair
// is reachable, the page must not call that a disagreement ("measured
// differs from prediction… a firewall?", orange): the row says "could not
// measure: <why>" in grey, beside the prediction, and the probe edge is
// grey too.
//
// The source has no ping (the test removes it), so the prober turns to
// its helper, which the dockmap under test cannot make: it runs in this
// process, and its helper binary, the running executable, is this test
// binary, linked dynamically under -race.
func TestBrowserUnmeasuredProbe(t *testing.T) {
	requireNoHelper(t)
	c := dockertest.Client(t)
	net := dockertest.UniqueName(t, "net")
	dockertest.CreateNetwork(t, c, net)
	a := dockertest.RunContainer(t, c, dockertest.WithNetwork(net))
	bID := dockertest.RunContainer(t, c, dockertest.WithNetwork(net))
	if res, err := c.Exec(engineCtx(t), a, []string{"rm", "/bin/ping"}, "0"); err != nil || res.ExitCode != 0 {
		t.Fatalf("remove ping from the source: %+v, %v", res, err)
	}

	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	for _, id := range []string{a, bID} {
		waitJS(t, b, nodeExists("c:"+id), waitTimeout)
	}
	clickNode(t, b, "c:"+a)
	waitJS(t, b, panelShows("c:"+a), waitTimeout)
	mustDo(t, b, "aim the ping form", chromedp.SetValue(chromedp.CSS(`#panel [data-testid=ping-target]`), bID))
	mustEval[bool](t, b, `(() => { const s = document.querySelector('#panel [data-testid=ping-target]'); s.dispatchEvent(new Event('change', { bubbles: true })); return true; })()`)
	waitJS(t, b, `document.querySelector('#panel [data-testid=reach-prediction][data-by=name]')?.dataset.ok === 'true'`, waitTimeout)

	pingFromPanel(t, b, bID, "name")
	row := resultRow(bID, "name")
	waitJS(t, b, row+`?.dataset.failure === 'probe-impossible'`, waitTimeout)
	// Wait until the row knows the prediction: it then shows it, or, as
	// a page that took no measure for a measure did, turns orange.
	waitJS(t, b, `(() => { const r = `+row+`; return !!r && (r.dataset.mismatch === 'true' || !!r.querySelector('[data-testid=ping-prediction]')); })()`, waitTimeout)

	got := mustEval[map[string]any](t, b, `(() => { const r = `+row+`; return {
		mismatch: r.dataset.mismatch, state: r.dataset.state, classes: r.className,
		warning: r.querySelector('[data-testid=reach-mismatch]')?.textContent || '',
		detail: r.querySelector('[data-testid=ping-detail]')?.textContent || '',
		prediction: r.querySelector('[data-testid=ping-prediction]')?.textContent || '',
	}; })()`)
	t.Logf("row: %v", got)
	if got["mismatch"] != "false" || got["warning"] != "" || strings.Contains(fmt.Sprint(got["classes"]), "mismatch") {
		t.Errorf("a probe that could not run is shown as a disagreement: %v", got)
	}
	if got["state"] != "unmeasured" || strings.Contains(fmt.Sprint(got["classes"]), "fail") {
		t.Errorf("row state %v, classes %q; want unmeasured, neither failed nor orange", got["state"], got["classes"])
	}
	if d := fmt.Sprint(got["detail"]); !strings.HasPrefix(d, "could not measure: ") || len(d) <= len("could not measure: ") {
		t.Errorf("detail = %q, want \"could not measure: <why>\"", d)
	}
	if p := fmt.Sprint(got["prediction"]); !strings.HasPrefix(p, "predicted: reachable by name") {
		t.Errorf("prediction beside the row = %q, want \"predicted: reachable by name…\"", p)
	}
	edge := fmt.Sprintf(`window.cy.getElementById(%s)`, jsString("p:"+a+">"+bID+":name"))
	waitJS(t, b, edge+`.hasClass('probe-unmeasured') && !`+edge+`.hasClass('probe-fail')`, waitTimeout)
}

// requireNoHelper skips the test when this test binary is statically
// linked (built without -race and without cgo): the dockmap under test
// would then make its helper image from it and run the test binary as its
// probe helper.
func requireNoHelper(t *testing.T) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("find the test binary: %v", err)
	}
	f, err := elf.Open(exe)
	if err != nil {
		t.Skipf("not an ELF test binary (%v): the probe helper cannot be unavailable on purpose", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return
		}
	}
	t.Skip("this test binary is static, so the dockmap under test could use it as its probe helper; run with -race")
}
