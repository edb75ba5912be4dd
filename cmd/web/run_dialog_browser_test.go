package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// TestBrowserRunDialogKeepsItsList: the Run dialog lists the images again
// when it is opened again (and when its engine choice refreshes), and an
// image already chosen stays chosen, the list never emptied to "loading
// images…" meanwhile: setting the image in that moment failed the
// tutorial's tests now and then.
func TestBrowserRunDialogKeepsItsList(t *testing.T) {
	image := dockertest.FixtureImage(t)
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	mustDo(t, b, "open the Run dialog", chromedp.Click(chromedp.CSS(`[data-testid=run-open]`)))
	hasImage := fmt.Sprintf(`[...document.querySelectorAll('[data-testid=run-image] option')].some((o) => o.value === %s)`, jsString(image))
	waitJS(t, b, hasImage+` && !document.querySelector('[data-testid=run-image]').disabled`, waitTimeout)
	mustDo(t, b, "choose the image", chromedp.SetValue(chromedp.CSS(`[data-testid=run-image]`), image))
	// Every list the select shows from now on, and a second listing.
	mustEval[bool](t, b, `(() => {
  const sel = document.querySelector('[data-testid=run-image]');
  window.runLists = [];
  new MutationObserver(() => window.runLists.push([...sel.options].map((o) => o.text).join('|'))).observe(sel, { childList: true });
  document.querySelector('[data-testid=run-open]').click();
  return true;
})()`)
	waitJS(t, b, `window.runLists.length > 0 && !document.querySelector('[data-testid=run-image]').disabled && `+hasImage, waitTimeout)
	for _, l := range mustEval[[]string](t, b, `window.runLists`) {
		if !strings.Contains("|"+l+"|", "|"+image+"|") {
			t.Errorf("on a second listing the image list showed %q, without %s", l, image)
		}
	}
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=run-image]').value`); got != image {
		t.Errorf("after the second listing the image chosen is %q, want %q", got, image)
	}
}
