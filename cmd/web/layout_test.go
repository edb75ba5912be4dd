package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// On a projector 1280 px wide the top bar keeps to one row for the widest
// header there is, a signed-in operator's (every tool, the role and Log
// out), so that the map keeps its height; the engine's version moves from
// the badge to its title. Wider screens show it in the badge.
func TestBrowserTopBarFitsAProjector(t *testing.T) {
	// An extra engine that never answers: the header then shows the
	// engines pill too, amber, as wide as it gets in a workshop.
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken,
		"--engine", "spare=unix:///nonexistent/dockmap-spare.sock")
	b := newBrowser(t)
	signInWith(t, b, printedLogin(t, output(), "operator"), base, `window.dockmap && window.dockmap.connected && window.cy`)
	waitJS(t, b, `document.querySelector('[data-testid=engines]').textContent === '1/2'`, waitTimeout)
	// Rows of the top bar: its visible children in order of their tops; a
	// child starts a new row when it begins below the bottom of the row so
	// far (children of one row differ in height, so their tops differ).
	const rows = `(() => {
		const boxes = [...document.querySelector('.topbar').children]
			.filter((el) => el.offsetWidth > 0 && !el.classList.contains('spacer'))
			.map((el) => el.getBoundingClientRect()).sort((a, b) => a.top - b.top);
		let rows = 0, bottom = -Infinity;
		for (const r of boxes) {
			if (r.top >= bottom) { rows++; bottom = r.bottom; } else bottom = Math.max(bottom, r.bottom);
		}
		return rows;
	})()`
	const detailShown = `getComputedStyle(document.querySelector('[data-testid=engine-badge] .badge-detail')).display !== 'none'`
	for _, tc := range []struct {
		width   int64
		version bool
	}{{1280, false}, {1600, true}} {
		mustDo(t, b, fmt.Sprintf("a %d px screen", tc.width), chromedp.EmulateViewport(tc.width, 720))
		if n := mustEval[int](t, b, rows); n != 1 {
			t.Errorf("%d px: the top bar takes %d rows, want 1", tc.width, n)
			t.Log(mustEval[string](t, b, `[...document.querySelector('.topbar').children].filter((el) => el.offsetWidth > 0).map((el) => (el.id||el.className) + ':' + Math.round(el.getBoundingClientRect().left) + '+' + el.offsetWidth + '@' + Math.round(el.getBoundingClientRect().top)).join(' ')`))
		}
		if got := mustEval[bool](t, b, detailShown); got != tc.version {
			t.Errorf("%d px: engine version shown in the badge = %v, want %v", tc.width, got, tc.version)
		}
		if title := mustEval[string](t, b, `document.querySelector('[data-testid=engine-badge]').title`); !strings.Contains(title, "Docker ") {
			t.Errorf("%d px: badge title %q, want the engine's version in it", tc.width, title)
		}
	}
	// Fitting the map, right after the window changed size, keeps every
	// node inside the map and clear of what floats over it: the search and
	// zoom controls and the legend.
	const covered = `(() => {
		const g = document.querySelector('[data-testid=graph]').getBoundingClientRect();
		const over = ['map-controls', 'legend'].map((id) => document.querySelector('[data-testid=' + id + ']').getBoundingClientRect());
		return window.cy.nodes().filter((n) => {
			const b = n.renderedBoundingBox({ includeLabels: true });
			const outside = b.x1 < 0 || b.y1 < 0 || b.x2 > g.width || b.y2 > g.height;
			return outside || over.some((r) => b.x1 + g.left < r.right && b.x2 + g.left > r.left && b.y1 + g.top < r.bottom && b.y2 + g.top > r.top);
		}).map((n) => n.id());
	})()`
	for _, size := range [][2]int64{{1280, 720}, {1024, 768}, {1600, 900}} {
		mustDo(t, b, fmt.Sprintf("a %dx%d screen, then Fit", size[0], size[1]),
			chromedp.EmulateViewport(size[0], size[1]), chromedp.Click(chromedp.CSS(`[data-testid=zoom-fit]`)))
		if ids := mustEval[[]string](t, b, covered); len(ids) > 0 {
			t.Errorf("%dx%d: after Fit, %v lie past the map's edge or under the map controls or the legend", size[0], size[1], ids)
		}
	}
	// The buttons that make the header widest are all there.
	if n := mustEval[int](t, b, `document.querySelectorAll('.topbar .toolbar button, [data-testid=logout], [data-testid=matrix-toggle]').length`); n < 8 {
		t.Errorf("only %d header buttons: not the operator's full header", n)
	}
}
