package main

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// TestBrowserExport drives the Export menu and the matrix's export
// buttons in Chromium, with the downloads going to a directory the test
// reads: the selection as a 1920×1080 projector PNG and as a print PNG
// at 3× on white, the selected containers as a Compose file, and the
// reachability matrix as CSV and Markdown, each matching the matrix the
// page shows. export-table.js is checked on its own in the page too.
func TestBrowserExport(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	netName := dockertest.UniqueName(t, "expnet")
	dockertest.CreateNetwork(t, c, netName)
	aName, bName := dockertest.UniqueName(t, "alpha"), dockertest.UniqueName(t, "beta")
	aID := dockertest.RunContainer(t, c, dockertest.WithName(aName), dockertest.WithNetwork(netName))
	bID := dockertest.RunContainer(t, c, dockertest.WithName(bName), dockertest.WithNetwork(netName))
	base := startDockmap(t, nil)
	b := newBrowser(t)
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
		Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
	}); err != nil {
		t.Fatalf("let the browser download into %s: %v", dir, err)
	}
	openMap(t, b, base)
	waitJS(t, b, nodeExists("c:"+aID)+` && `+nodeExists("c:"+bID), waitTimeout)

	// The table conversion alone.
	got, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`import('/static/export-table.js').then((m) => JSON.stringify([
  m.toCSV([['from \\ to', 'a,b'], ['say "hi"', ' x'], ['multi\nline', '-']]),
  m.toMarkdown([['from', 'a|b'], ['x', 'line\nbreak']]),
]))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("import export-table.js: %v", err)
	}
	want := `["from \\ to,\"a,b\"\r\n\"say \"\"hi\"\"\",\" x\"\r\n\"multi\nline\",-\r\n","| from | a\\|b |\n| --- | --- |\n| x | line break |\n"]`
	if got != want {
		t.Errorf("export-table.js:\n got %s\nwant %s", got, want)
	}

	selectBoth := fmt.Sprintf(`(window.cy.elements().unselect(), window.cy.getElementById(%s).select(), window.cy.getElementById(%s).select(), true)`,
		jsString("c:"+aID), jsString("c:"+bID))
	mustEval[bool](t, b, selectBoth)
	// The selection's box at zoom 1, as a print PNG of it is drawn.
	bb := mustEval[map[string]float64](t, b, `(() => { const n = window.cy.nodes(':selected'); const bb = n.union(n.edgesWith(n)).boundingBox(); return { w: bb.w, h: bb.h }; })()`)
	all := mustEval[map[string]float64](t, b, `(() => { const bb = window.cy.elements(':visible').boundingBox(); return { w: bb.w, h: bb.h }; })()`)

	exportMenu := func(item string) {
		t.Helper()
		mustDo(t, b, "export "+item,
			chromedp.Click(chromedp.CSS(`[data-testid=export-menu] summary`)),
			chromedp.Click(chromedp.CSS(`[data-testid=`+item+`]`)),
		)
	}

	exportMenu("export-png-projector")
	img := decodePNG(t, waitDownload(t, dir, "dockmap-selection-1920x1080.png"))
	if s := img.Bounds().Size(); s.X != 1920 || s.Y != 1080 {
		t.Errorf("projector PNG is %dx%d, want 1920x1080", s.X, s.Y)
	}

	exportMenu("export-png-print")
	img = decodePNG(t, waitDownload(t, dir, "dockmap-selection-print.png"))
	// Cytoscape draws the box of what is shown at 3× its whole pixels;
	// labels are sized to the zoom, so the box is the selection's at least
	// and less than the whole map's.
	s := img.Bounds().Size()
	if s.X%3 != 0 || s.Y%3 != 0 || float64(s.X) < 3*bb["w"]-3 || float64(s.Y) < 3*bb["h"]-3 || float64(s.X*s.Y) >= 9*all["w"]*all["h"] {
		t.Errorf("print PNG of the selection is %dx%d, want 3× a box of at least the selection's %.0fx%.0f and less than the map's %.0fx%.0f",
			s.X, s.Y, bb["w"], bb["h"], all["w"], all["h"])
	}
	if r, g, bl, a := img.At(0, 0).RGBA(); r>>8 != 255 || g>>8 != 255 || bl>>8 != 255 || a>>8 != 255 {
		t.Errorf("print PNG's corner is %v, want opaque white", img.At(0, 0))
	}

	exportMenu("export-compose")
	yaml := string(waitDownload(t, dir, "dockmap-export-compose.yaml"))
	for _, w := range []string{"services:", "  " + aName + ":", "  " + bName + ":", netName} {
		if !strings.Contains(yaml, w) {
			t.Errorf("the Compose file has no %q:\n%s", w, yaml)
		}
	}

	// The matrix: ping the pair, both ways, by IP and by name.
	mustEval[bool](t, b, selectBoth)
	mustDo(t, b, "ping the selection", chromedp.Click(chromedp.CSS(`[data-testid=ping-selection]`)))
	if mustEval[bool](t, b, `document.querySelector('[data-testid=matrix]').hidden`) {
		mustDo(t, b, "show the matrix", chromedp.Click(chromedp.CSS(`[data-testid=matrix-toggle]`)))
	}
	for _, p := range [][2]string{{aID, bID}, {bID, aID}} {
		for _, by := range []string{"ip", "name"} {
			waitJS(t, b, fmt.Sprintf(`['ok', 'fail'].includes(document.querySelector('[data-testid=matrix-cell][data-from=%q][data-to=%q][data-by=%q]')?.dataset.state)`,
				p[0], p[1], by), 2*waitTimeout)
		}
	}
	shown := mustEval[[][]string](t, b, `(() => {
  const t = document.querySelector('[data-testid=matrix-table]');
  const word = { ok: 'ok', fail: 'fail', unknown: '-', unmeasured: 'unmeasured' };
  const rows = [['from \\ to', ...[...t.querySelectorAll('thead th.col-name')].map((th) => th.textContent)]];
  for (const tr of t.querySelectorAll('tbody tr')) {
    rows.push([tr.querySelector('th').textContent, ...[...tr.querySelectorAll('td')].map((td) => td.classList.contains('self') ? '-' :
      ['ip', 'name'].map((by) => (by === 'ip' ? 'IP' : 'name') + ': ' + word[td.querySelector('[data-by=' + by + ']').dataset.state]).join('; '))]);
  }
  return rows;
})()`)
	mustDo(t, b, "export the matrix as CSV", chromedp.Click(chromedp.CSS(`[data-testid=matrix-export-csv]`)))
	rows, err := csv.NewReader(bytes.NewReader(waitDownload(t, dir, "dockmap-reachability.csv"))).ReadAll()
	if err != nil {
		t.Fatalf("read the CSV: %v", err)
	}
	// A cell may add the prediction the matrix shows: "IP: ok (predicted ok)".
	predicted := regexp.MustCompile(` \(predicted (ok|fail)\)`)
	for i := range rows {
		for j := range rows[i] {
			rows[i][j] = predicted.ReplaceAllString(rows[i][j], "")
		}
	}
	if fmt.Sprint(rows) != fmt.Sprint(shown) {
		t.Errorf("the CSV:\n%q\nthe matrix shown:\n%q", rows, shown)
	}
	if len(shown) != 3 {
		t.Errorf("the matrix shows %d rows, want a header and two containers", len(shown))
	}

	mustDo(t, b, "export the matrix as Markdown", chromedp.Click(chromedp.CSS(`[data-testid=matrix-export-md]`)))
	md := strings.Split(strings.TrimSpace(string(waitDownload(t, dir, "dockmap-reachability.md"))), "\n")
	if len(md) != len(shown)+1 || !strings.HasPrefix(md[1], "| --- |") || !strings.Contains(md[0], aName) || !strings.Contains(md[0], bName) {
		t.Errorf("the Markdown table:\n%s", strings.Join(md, "\n"))
	}
}

// waitDownload waits for the browser to finish downloading name into dir
// and returns its content.
func waitDownload(t *testing.T, dir, name string) []byte {
	t.Helper()
	var data []byte
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		var err error
		data, err = os.ReadFile(filepath.Join(dir, name))
		entries, _ := os.ReadDir(dir)
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		return err == nil && len(data) > 0, fmt.Sprintf("%s not downloaded; the directory has %v", name, names)
	})
	return data
}

func decodePNG(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode PNG: %v", err)
	}
	return img
}
