package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// A workshop participant with the viewer URL sees the map change live and
// an operator's probe results, and has no control that changes anything:
// not in the header, not in a panel, not behind a keyboard shortcut.
func TestBrowserViewerWatchesOnly(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	base, _, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	b := newBrowser(t)
	load(t, b, "log in as a viewer", `window.dockmap && window.dockmap.connected && window.cy`,
		chromedp.Navigate(base+"/login?token="+viewToken))
	waitJS(t, b, `location.pathname === '/' && location.search === ''`, waitTimeout)
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=role]')?.textContent.trim() ?? ''`); got != "viewer" {
		t.Errorf("role shown = %q, want viewer", got)
	}

	// Live: a container started now appears without a reload.
	web := dockertest.RunContainer(t, c)
	db := dockertest.RunContainer(t, c)
	waitJS(t, b, nodeExists(string(topology.ContainerNodeID(web))), waitTimeout)
	waitJS(t, b, nodeExists(string(topology.ContainerNodeID(db))), waitTimeout)

	clickNode(t, b, string(topology.ContainerNodeID(web)))
	waitJS(t, b, panelShows(string(topology.ContainerNodeID(web))), waitTimeout)

	// An operator pings from web to db with a script; the viewer's open
	// panel shows the result as it comes.
	body, _ := json.Marshal(map[string]any{"from": web, "to": db, "by": "ip"})
	req, _ := http.NewRequest("POST", base+"/api/probes", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+opToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: waitTimeout}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("operator's probe = %s", resp.Status)
	}
	waitJS(t, b, resultRow(db, "ip")+`?.dataset.ok === 'true'`, waitTimeout)
	// The matrix is theirs too.
	mustDo(t, b, "open the matrix", chromedp.KeyEvent("m"))
	waitJS(t, b, `!document.querySelector('[data-testid=matrix]').hidden && document.querySelectorAll('[data-testid=matrix-table] td').length > 0`, waitTimeout)

	// No action anywhere on the page, even hidden.
	controls := `button[data-action], form[data-form], .operator, .toolbar, dialog form, [data-testid=audit]`
	if got := mustEval[[]string](t, b, fmt.Sprintf(`[...document.querySelectorAll(%s)].map((e) => e.outerHTML.slice(0, 120))`, jsString(controls))); len(got) != 0 {
		t.Errorf("the viewer's page has action controls: %q", got)
	}
	// Shortcuts open nothing.
	for _, key := range []string{"r", "n", "v", "l", "p"} {
		mustDo(t, b, "press "+key, chromedp.KeyEvent(key))
	}
	if got := mustEval[int](t, b, `document.querySelectorAll('dialog[open]').length`); got != 0 {
		t.Errorf("%d dialogs open after the action shortcuts, want 0", got)
	}
	// And the server refuses what the page does not offer (the browser
	// logs the 403 it expects).
	b.allow(regexp.MustCompile(`status of 403 \(Forbidden\)`))
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	status, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(`fetch('/api/containers/%s/stop', {method: 'POST'}).then((r) => r.status)`, web), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusForbidden {
		t.Errorf("viewer's POST stop = %v, want 403", status)
	}
	if running, _, err := c.ContainerStarted(engineCtx(t), web); err != nil || !running {
		t.Errorf("web running = %v (%v) after the viewer's attempt, want still running", running, err)
	}
}

// An operator's browser is on dockmap; a page on another origin posts
// forms and fetches at it. Nothing changes, and the refusals are in the
// trail. With tokens the session cookie (SameSite=Strict) and the origin
// check both stand in the way; on loopback without tokens, the origin check
// alone must.
func TestBrowserCrossOriginFormChangesNothing(t *testing.T) {
	t.Run("signed in", func(t *testing.T) { crossOriginForms(t, "--operator-token", opToken) })
	t.Run("loopback without tokens", func(t *testing.T) { crossOriginForms(t) })
}

func crossOriginForms(t *testing.T, flags ...string) {
	c := dockertest.Client(t)
	image := dockertest.FixtureImage(t)
	base, _, _ := launch(t, nil, nil, append([]string{"-addr", "127.0.0.1:0"}, flags...)...)
	// What the other site tries to create; removed if the test fails.
	evilName := dockertest.UniqueName(t, "evil")
	t.Cleanup(func() { _ = c.RemoveContainer(context.Background(), evilName, true) })
	id := dockertest.RunContainer(t, c)
	_, started, err := c.ContainerStarted(engineCtx(t), id)
	if err != nil {
		t.Fatal(err)
	}

	// The attacker's page: another origin (localhost, not 127.0.0.1, and
	// another port), with a script of its own, so no CSP of ours applies.
	target := base + "/api/containers/" + id
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!DOCTYPE html><html><body>
<iframe name="sink"></iframe>
<form id="plain" method="POST" action="%[1]s/stop" target="sink"><input name="x" value="1"></form>
<form id="text" method="POST" action="%[1]s/kill" enctype="text/plain" target="sink"><input name='{"a":"' value='"}'></form>
<script>
document.getElementById('plain').submit();
setTimeout(() => document.getElementById('text').submit(), 300);
fetch(%[2]q, {method: 'DELETE', mode: 'no-cors', credentials: 'include'}).catch(() => {});
fetch(%[3]q, {method: 'POST', mode: 'no-cors', credentials: 'include', headers: {'Content-Type': 'text/plain'},
  body: JSON.stringify({name: %[4]q, image: %[5]q, cmd: ['sleep', '60']})}).catch(() => {});
setTimeout(() => { document.title = 'sent'; }, 1500);
</script></body></html>`, target, target+"?force=true", base+"/api/containers", evilName, image)
	}))
	t.Cleanup(evil.Close)
	evilURL := strings.Replace(evil.URL, "127.0.0.1", "localhost", 1)

	b := newBrowser(t)
	// The browser itself reports what it blocked on the other site's
	// behalf: that is the point of the test.
	b.allow(regexp.MustCompile(`ERR_BLOCKED_BY_RESPONSE|frame-ancestors|Failed to load resource: the server responded with a status of 40[13]`))
	login := base + "/"
	if len(flags) > 0 {
		login = base + "/login?token=" + opToken
	}
	load(t, b, "open dockmap as the operator", `window.dockmap && window.dockmap.connected`, chromedp.Navigate(login))
	load(t, b, "visit the other site", `document.title === 'sent'`, chromedp.Navigate(evilURL))
	// Give the last request time to land before looking.
	time.Sleep(time.Second)

	if running, again, err := c.ContainerStarted(engineCtx(t), id); err != nil || !running || !again.Equal(started) {
		t.Errorf("container running = %v since %v (%v) after the other site's forms, want still running since %v", running, again, err, started)
	}
	// And no container was made.
	if _, _, err := c.ContainerStarted(engineCtx(t), evilName); err == nil {
		t.Errorf("the other site created a container")
	}
	// The operator's own page still works, and its Changes list shows the
	// refused attempts and nothing done.
	load(t, b, "back to dockmap", `window.dockmap && window.dockmap.connected`, chromedp.Navigate(base+"/"))
	waitJS(t, b, `document.querySelectorAll('[data-testid=audit-row]').length >= 2`, waitTimeout)
	if done := mustEval[int](t, b, `document.querySelectorAll('[data-testid=audit-row].ok').length`); done != 0 {
		t.Errorf("%d changes done by the other site, want 0", done)
	}
}

// A browser whose sign-in no longer holds (dockmap restarted with other
// tokens) lands on the login page by itself instead of reconnecting
// forever, and signs in again there.
func TestBrowserLostSessionGoesToLogin(t *testing.T) {
	base, _, stop := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	b := newBrowser(t)
	// The restart makes the browser log failed reconnections.
	b.allow(regexp.MustCompile(`WebSocket|ERR_CONNECTION_REFUSED|status of 401`))
	load(t, b, "log in as a viewer", `window.dockmap && window.dockmap.connected`, chromedp.Navigate(base+"/login?token="+viewToken))
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	const otherViewer = "view-0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"
	again, _, _ := launch(t, nil, nil, "-addr", strings.TrimPrefix(base, "http://"), "--operator-token", opToken, "--viewer-token", otherViewer)
	if again != base {
		t.Fatalf("restarted on %s, want %s", again, base)
	}
	waitJS(t, b, `location.pathname === '/login'`, waitTimeout)
	mustDo(t, b, "sign in with the form",
		chromedp.SendKeys(`[data-testid=login-token]`, otherViewer),
		chromedp.Click(`[data-testid=login-submit]`),
	)
	waitJS(t, b, `location.pathname === '/' && window.dockmap && window.dockmap.connected`, waitTimeout)
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=role]')?.textContent.trim() ?? ''`); got != "viewer" {
		t.Errorf("role after signing in again = %q, want viewer", got)
	}
}

// A participant clicks the viewer URL in a chat or a slide (another site):
// the login's redirect is part of a cross-site navigation, which keeps the
// SameSite=Strict cookie out, and yet they end up on the map, signed in.
func TestBrowserLoginLinkFromAnotherSite(t *testing.T) {
	base, _, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!DOCTYPE html><html><body><a id="join" href="%s/login?token=%s">join the workshop</a></body></html>`, base, viewToken)
	}))
	t.Cleanup(chat.Close)
	b := newBrowser(t)
	// The first load of the map after the cross-site redirect is refused
	// (401) before the page loads itself again.
	b.allow(regexp.MustCompile(`status of 401 \(Unauthorized\) \S+/$`))
	load(t, b, "follow the link from the chat", `location.pathname === '/' && window.dockmap && window.dockmap.connected`,
		chromedp.Navigate(strings.Replace(chat.URL, "127.0.0.1", "localhost", 1)),
		chromedp.Click(`#join`))
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=role]')?.textContent.trim() ?? ''`); got != "viewer" {
		t.Errorf("role = %q, want viewer", got)
	}
}
