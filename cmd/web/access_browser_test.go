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
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	b := newBrowser(t)
	signInWith(t, b, printedLogin(t, output(), "viewer"), base, `window.dockmap && window.dockmap.connected && window.cy`)
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
	controls := `button[data-action], form[data-form], .operator, .toolbar, dialog form, [data-testid=audit], [data-testid=invite-open]`
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
	base, output, _ := launch(t, nil, nil, append([]string{"-addr", "127.0.0.1:0"}, flags...)...)
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
	if len(flags) > 0 {
		signInWith(t, b, printedLogin(t, output(), "operator"), base, `window.dockmap && window.dockmap.connected`)
	} else {
		load(t, b, "open dockmap as the operator", `window.dockmap && window.dockmap.connected`, chromedp.Navigate(base+"/"))
	}
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
	base, output, stop := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	b := newBrowser(t)
	// The restart makes the browser log failed reconnections.
	b.allow(regexp.MustCompile(`WebSocket|ERR_CONNECTION_REFUSED|status of 401`))
	signInWith(t, b, printedLogin(t, output(), "viewer"), base, `window.dockmap && window.dockmap.connected`)
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

// A participant clicks a viewer login link in a chat (another site):
// the login's redirect is part of a cross-site navigation, which keeps the
// SameSite=Strict cookie out, and yet they end up on the map, signed in.
func TestBrowserLoginLinkFromAnotherSite(t *testing.T) {
	_, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	link := printedLogin(t, output(), "viewer")
	chat := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<!DOCTYPE html><html><body><a id="join" href="%s">join the workshop</a></body></html>`, link)
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

// signInWith opens a one-use login link in b, then the map, and waits for
// ready. The link is opened once: when a host network change cuts a load
// short, it is the map that is loaded again, never the link, which the
// first load may already have used up.
func signInWith(t testing.TB, b *browser, link, base, ready string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	err := chromedp.Do(ctx, chromedp.Navigate(link))
	cancel()
	if err != nil && !strings.Contains(err.Error(), networkChanged) {
		t.Fatalf("open the login link: %v", err)
	}
	load(t, b, "open the map, signed in", ready, chromedp.Navigate(base+"/"))
}

// An operator invites a participant from the page: Invite… makes a viewer
// link with its expiry and a Copy button; the link signs another browser
// in as a viewer, once; opened again it says it is used up. A token put in
// a link signs nobody in: the login page asks for it to be pasted.
func TestBrowserInviteMakesOneUseLinks(t *testing.T) {
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	op := newBrowser(t)
	signInWith(t, op, printedLogin(t, output(), "operator"), base, `window.dockmap && window.dockmap.connected`)
	mustDo(t, op, "open Invite…", chromedp.Click(chromedp.CSS(`[data-testid=invite-open]`)))
	waitJS(t, op, `document.querySelector('[data-testid=invite-dialog]').open`, waitTimeout)
	mustDo(t, op, "make a viewer link",
		chromedp.Click(chromedp.CSS(`[data-testid=invite-role-viewer]`)),
		chromedp.Click(chromedp.CSS(`[data-testid=invite-submit]`)))
	waitJS(t, op, `!document.querySelector('[data-testid=invite-result]').hidden`, waitTimeout)
	link := mustEval[string](t, op, `document.querySelector('[data-testid=invite-url]').value`)
	if !strings.HasPrefix(link, base+"/login?code=") {
		t.Fatalf("invite link %q, want %s/login?code=…", link, base)
	}
	if got := mustEval[string](t, op, `document.querySelector('[data-testid=invite-expiry]').textContent`); !strings.Contains(got, "viewer link: one use, expires at") {
		t.Errorf("expiry shown %q, want who it is for and when it expires", got)
	}
	mustDo(t, op, "copy the link", chromedp.Click(chromedp.CSS(`[data-testid=invite-copy]`)))
	waitJS(t, op, `['Copied', 'Select and copy it'].includes(document.querySelector('[data-testid=invite-copy]').textContent)`, waitTimeout)
	// Closing the dialog forgets the link.
	// The dialog's close event comes a task after the click: wait for it.
	mustDo(t, op, "close the dialog", chromedp.Click(chromedp.CSS(`[data-testid=invite-close]`)))
	waitJS(t, op, `!document.querySelector('[data-testid=invite-dialog]').open && document.querySelector('[data-testid=invite-url]').value === ''`, waitTimeout)

	guest := newBrowser(t)
	signInWith(t, guest, link, base, `window.dockmap && window.dockmap.connected`)
	if got := mustEval[string](t, guest, `document.querySelector('[data-testid=role]')?.textContent.trim() ?? ''`); got != "viewer" {
		t.Errorf("the invited browser signed in as %q, want viewer", got)
	}
	if n := mustEval[int](t, guest, `document.querySelectorAll('[data-testid=invite-open]').length`); n != 0 {
		t.Errorf("the viewer's page has %d Invite controls, want none", n)
	}

	late := newBrowser(t)
	// The used link answers 401 with the login page.
	late.allow(regexp.MustCompile(`status of 401 \(Unauthorized\)`))
	mustDo(t, late, "open the used link", chromedp.Navigate(link))
	if got := mustEval[string](t, late, `document.querySelector('[data-testid=login-error]')?.textContent ?? ''`); !strings.Contains(got, "already used or has expired") {
		t.Errorf("a used link shows %q, want it to say it is used up", got)
	}
	// A token in a link is not taken; pasted, it is.
	mustDo(t, late, "open a link with a token", chromedp.Navigate(base+"/login?token="+viewToken))
	if got := mustEval[string](t, late, `document.querySelector('[data-testid=login-error]')?.textContent ?? ''`); !strings.Contains(got, "Tokens are not accepted in links") {
		t.Errorf("a token in a link shows %q, want it refused with the reason", got)
	}
	if got := mustEval[string](t, late, `location.pathname`); got != "/login" {
		t.Errorf("a token in a link led to %q, want to stay on /login", got)
	}
	mustDo(t, late, "paste the token",
		chromedp.SendKeys(`[data-testid=login-token]`, viewToken),
		chromedp.Click(`[data-testid=login-submit]`))
	waitJS(t, late, `location.pathname === '/' && window.dockmap && window.dockmap.connected`, waitTimeout)
}

// An operator shows a class invite: the dialog's class choice makes a QR
// code (a PNG the browser draws) and a /join link, and lists the invite
// with an End button; the link signs any number of browsers in as
// viewers; End takes them out and the link then says the invite ended.
func TestBrowserClassInvite(t *testing.T) {
	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken)
	op := newBrowser(t)
	signInWith(t, op, printedLogin(t, output(), "operator"), base, `window.dockmap && window.dockmap.connected`)
	mustDo(t, op, "open Invite…", chromedp.Click(chromedp.CSS(`[data-testid=invite-open]`)))
	waitJS(t, op, `document.querySelector('[data-testid=invite-dialog]').open`, waitTimeout)
	mustDo(t, op, "make a class invite",
		chromedp.Click(chromedp.CSS(`[data-testid=invite-kind-class]`)),
		chromedp.SendKeys(`[data-testid=class-label]`, "room 2"),
		chromedp.Click(chromedp.CSS(`[data-testid=invite-submit]`)))
	waitJS(t, op, `(() => { const q = document.querySelector('[data-testid=class-qr]');
		return !document.querySelector('[data-testid=class-result]').hidden && q.complete && q.naturalWidth > 0 && q.getBoundingClientRect().width >= 300; })()`, waitTimeout)
	link := mustEval[string](t, op, `document.querySelector('[data-testid=class-url]').value`)
	if !strings.HasPrefix(link, base+"/join?code=") {
		t.Fatalf("invite link %q, want %s/join?code=…", link, base)
	}
	waitJS(t, op, `document.querySelectorAll('[data-testid=class-item]').length === 1 && document.querySelector('[data-testid=class-item]').textContent.includes('room 2')`, waitTimeout)

	guests := []*browser{newBrowser(t), newBrowser(t)}
	for _, g := range guests {
		signInWith(t, g, link, base, `window.dockmap && window.dockmap.connected`)
		if got := mustEval[string](t, g, `document.querySelector('[data-testid=role]')?.textContent.trim() ?? ''`); got != "viewer" {
			t.Errorf("a browser that joined signed in as %q, want viewer", got)
		}
	}
	for _, g := range guests {
		// Signed out, their pages find out from a 401 the browser logs.
		g.allow(regexp.MustCompile(`status of 401 \(Unauthorized\)|WebSocket`))
	}
	mustDo(t, op, "end the invite", chromedp.Click(chromedp.CSS(`[data-testid=class-end]`)))
	waitJS(t, op, `document.querySelectorAll('[data-testid=class-item]').length === 0 && document.querySelector('[data-testid=class-result]').hidden`, waitTimeout)
	for _, g := range guests {
		waitJS(t, g, `fetch('/api/session').then(r => r.status === 401)`, waitTimeout)
	}
	late := newBrowser(t)
	late.allow(regexp.MustCompile(`status of 401 \(Unauthorized\)`))
	mustDo(t, late, "open the ended invite", chromedp.Navigate(link))
	if got := mustEval[string](t, late, `document.querySelector('[data-testid=join-error]')?.textContent ?? ''`); got != "This invite has ended. Ask the instructor for a new one." {
		t.Errorf("an ended invite shows %q, want it to say so", got)
	}
}
