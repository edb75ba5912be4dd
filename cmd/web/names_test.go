package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// The Run dialog refuses a name that reads as an IP address and says why,
// next to the button; nothing is created.
func TestBrowserRunRefusesAddressName(t *testing.T) {
	image := dockertest.FixtureImage(t)
	base, _, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0")
	b := newBrowser(t)
	// The page's fetch of the refused run is logged as a failed load.
	b.allow(regexp.MustCompile(`status of 400 \(Bad Request\)`))
	openMap(t, b, base)
	const dlg = `document.querySelector('[data-testid=run-dialog]')`
	mustDo(t, b, "open the Run dialog", chromedp.Click(chromedp.CSS(`[data-testid=run-open]`)))
	waitJS(t, b, dlg+`.open`, waitTimeout)
	waitJS(t, b, fmt.Sprintf(`[...document.querySelectorAll('[data-testid=run-image] option')].some((o) => o.value === %s)`, jsString(image)), waitTimeout)
	clearInput(t, b, `[data-testid=run-name]`)
	mustDo(t, b, "run a container named 172.17.0.1",
		chromedp.SetValue(chromedp.CSS(`[data-testid=run-image]`), image),
		chromedp.SendKeys(chromedp.CSS(`[data-testid=run-name]`), "172.17.0.1"),
		chromedp.Click(chromedp.CSS(`[data-testid=run-submit]`)),
	)
	waitJS(t, b, `!document.querySelector('[data-testid=run-error]').hidden`, waitTimeout)
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=run-error]').textContent`); !strings.Contains(got, "reads as an IP address") {
		t.Errorf("run-error = %q, want it to say the name reads as an IP address", got)
	}
	if !mustEval[bool](t, b, dlg+`.open`) {
		t.Errorf("the Run dialog closed after a refused name")
	}
	if _, ok := graphContainerID(t, base, "172.17.0.1"); ok {
		t.Errorf("a container named 172.17.0.1 is on the map")
	}
}
