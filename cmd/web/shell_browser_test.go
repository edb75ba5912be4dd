package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// termText is a JS expression: the lines the panel's terminal shows
// (xterm's screen-reader rows), joined by newlines.
const termText = `[...document.querySelectorAll('[data-testid=shell-term] .xterm-accessibility-tree > div')].map((e) => e.textContent.replace(/\u00a0/g, ' ').trimEnd()).join('\n')`

// shellStatus is a JS expression: the Shell section's status line.
const shellStatus = `(document.querySelector('[data-testid=shell-status]')?.textContent ?? '')`

// An operator opens a shell in web from its panel, pings database by name
// and sees the reply; the terminal's size follows the window (stty);
// Escape stays in the terminal; exit ends the session, and the audit has
// its start and end. A viewer's panel has no Shell, and the route answers
// 403.
func TestBrowserShell(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	db := dockertest.UniqueName(t, "database")
	dockertest.RunContainer(t, c, dockertest.WithName(db))
	web := dockertest.UniqueName(t, "web")
	webID := dockertest.RunContainer(t, c, dockertest.WithName(web), dockertest.WithLink(db, "database"))
	webNode := string(topology.ContainerNodeID(webID))

	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken, "--shell")
	b := newBrowser(t)
	signInWith(t, b, printedLogin(t, output(), "operator"), base, `window.dockmap && window.dockmap.connected && window.cy`)
	waitJS(t, b, nodeExists(webNode), waitTimeout)
	clickNode(t, b, webNode)
	waitJS(t, b, panelShows(webNode), waitTimeout)
	waitJS(t, b, `document.querySelector('[data-testid=shell-open]')`, waitTimeout)

	// The button is reached by the keyboard: focused, then Enter.
	mustDo(t, b, "focus Open a shell", chromedp.Focus(chromedp.CSS(`[data-testid=shell-open]`)))
	mustDo(t, b, "press Enter", chromedp.KeyEvent("\r"))
	waitJS(t, b, shellStatus+`.startsWith('sh in `+web+`')`, waitTimeout)
	waitJS(t, b, `document.activeElement?.classList.contains('xterm-helper-textarea')`, waitTimeout)

	// waitTerm polls until the terminal shows want, as waitJS does, and
	// shows the screen when it does not.
	waitScreen := func(what string, ok func(string) bool) {
		t.Helper()
		deadline := time.Now().Add(waitTimeout)
		for {
			got := mustEval[string](t, b, termText)
			if ok(got) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("the terminal never showed %s; it shows:\n%s", what, got)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitTerm := func(want string) {
		t.Helper()
		waitScreen(strconv.Quote(want), func(s string) bool { return strings.Contains(s, want) })
	}
	mustDo(t, b, "type ping", chromedp.KeyEvent("ping -c1 database\r"))
	waitTerm("1 packets received")

	// stty size agrees with the size the page shows, before and after
	// the window changes.
	size := func() (rows, cols int) {
		t.Helper()
		var st string
		waitJS(t, b, shellStatus+`.match(/, (\d+)×(\d+)$/)`, waitTimeout)
		st = mustEval[string](t, b, shellStatus)
		if _, err := fmt.Sscanf(st[strings.LastIndex(st, ", ")+2:], "%d×%d", &cols, &rows); err != nil {
			t.Fatalf("status %q: %v", st, err)
		}
		return rows, cols
	}
	stty := func(rows, cols int) {
		t.Helper()
		mark := strings.Count(mustEval[string](t, b, termText), "stty-said")
		mustDo(t, b, "type stty size", chromedp.KeyEvent("echo stty-said $(busybox stty size)\r"))
		want := fmt.Sprintf("stty-said %d %d", rows, cols)
		waitJS(t, b, fmt.Sprintf(`%s.split('stty-said').length - 1 > %d`, termText, mark+1), waitTimeout)
		got := mustEval[string](t, b, termText)
		if !strings.Contains(got, want) {
			t.Errorf("stty size: terminal shows\n%s\nwant a line %q", got, want)
		}
	}
	r1, c1 := size()
	stty(r1, c1)
	mustDo(t, b, "a smaller window", chromedp.EmulateViewport(1100, 600))
	waitJS(t, b, fmt.Sprintf(`!%s.endsWith(', %d×%d')`, shellStatus, c1, r1), waitTimeout)
	r2, c2 := size()
	if r2 >= r1 {
		t.Errorf("rows %d → %d in a lower window, want fewer", r1, r2)
	}
	stty(r2, c2)

	// A clear screen first, so that the prompts counted below stay on it.
	mustDo(t, b, "clear the screen", chromedp.KeyEvent(`printf '\033[H\033[2J'`+"\r"))
	waitScreen("a cleared screen", func(s string) bool {
		lines := strings.Fields(strings.ReplaceAll(strings.ReplaceAll(s, "Blank line", ""), "/ #", "prompt"))
		return len(lines) > 0 && len(lines) <= 2 && !slices.ContainsFunc(lines, func(l string) bool { return l != "prompt" })
	})

	// Escape goes to the shell: the panel and the session stay.
	mustDo(t, b, "press Escape", chromedp.KeyEvent("\x1b"))
	if !mustEval[bool](t, b, `document.activeElement?.classList.contains('xterm-helper-textarea')`) {
		t.Error("Escape took the keyboard away from the terminal")
	}
	// busybox's line editor takes what follows an Escape quickly as part
	// of an escape sequence, Ctrl-C included: Ctrl-C until it answers with
	// a fresh prompt, then a command.
	prompts := func() int { return strings.Count(mustEval[string](t, b, termText), "/ #") }
	for n, deadline := prompts(), time.Now().Add(waitTimeout); prompts() <= n; {
		if time.Now().After(deadline) {
			t.Fatalf("no fresh prompt after Escape and Ctrl-C; the terminal shows:\n%s", mustEval[string](t, b, termText))
		}
		mustDo(t, b, "Ctrl-C", chromedp.KeyEvent("c", chromedp.KeyModifiers(chromedp.ModifierCtrl)))
		for end := time.Now().Add(time.Second); prompts() <= n && time.Now().Before(end); {
			time.Sleep(50 * time.Millisecond)
		}
	}
	mustDo(t, b, "then a command", chromedp.KeyEvent("echo still-$((40+2))\r"))
	waitTerm("still-42")
	if got := mustEval[string](t, b, shellStatus); strings.HasPrefix(got, "session ended") {
		t.Errorf("after Escape the status says %q", got)
	}
	if !mustEval[bool](t, b, panelShows(webNode)) {
		t.Error("Escape in the terminal cleared the panel")
	}

	mustDo(t, b, "type exit", chromedp.KeyEvent("exit\r"))
	waitJS(t, b, shellStatus+`.startsWith('session ended')`, waitTimeout)
	waitJS(t, b, `!document.querySelector('[data-testid=shell-open]').hidden && document.querySelector('[data-testid=shell-close]').hidden`, waitTimeout)

	// The audit has the session, who opened it and when it started and
	// ended.
	var start, end *protocol.AuditEntry
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		req, _ := http.NewRequest("GET", base+"/api/audit", nil)
		req.Header.Set("Authorization", "Bearer "+opToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var got struct{ Entries []protocol.AuditEntry }
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			return false, err.Error()
		}
		start, end = nil, nil
		for i, e := range got.Entries {
			if e.Shell != nil && e.Shell.ContainerID == webID {
				if e.Shell.Event == "start" {
					start = &got.Entries[i]
				} else {
					end = &got.Entries[i]
				}
			}
		}
		return start != nil && end != nil, "the session's two audit entries"
	})
	if start.Role != "operator" || start.Remote == "" || start.Shell.Container != web {
		t.Errorf("start %+v %+v, want the operator's, in %s", start, start.Shell, web)
	}
	if end.Shell.Reason != protocol.ShellEndExit || end.Shell.Exit == nil || *end.Shell.Exit != 0 || end.Shell.End.Before(end.Shell.Start) {
		t.Errorf("end %+v, want exit 0 after the start", end.Shell)
	}

	// A viewer: no Shell in the panel, and the route refuses.
	v := newBrowser(t)
	v.allow(regexp.MustCompile(`status of 403 \(Forbidden\)`))
	signInWith(t, v, printedLogin(t, output(), "viewer"), base, `window.dockmap && window.dockmap.connected && window.cy`)
	waitJS(t, v, nodeExists(webNode), waitTimeout)
	clickNode(t, v, webNode)
	waitJS(t, v, panelShows(webNode), waitTimeout)
	if n := mustEval[int](t, v, `document.querySelectorAll('[data-testid=shell], [data-action^=shell]').length`); n != 0 {
		t.Errorf("the viewer's panel has %d Shell elements, want none", n)
	}
	ctx, cancel := context.WithTimeout(v.ctx, waitTimeout)
	defer cancel()
	status, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(`fetch('/api/containers/%s/shell').then((r) => r.status)`, web), chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if status != http.StatusForbidden {
		t.Errorf("viewer's GET shell = %v, want 403", status)
	}
}

// A shell for a container that stopped says why in the terminal's status,
// at once, and one without any shell says it has none.
func TestBrowserShellRefused(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	web := dockertest.UniqueName(t, "web")
	webID := dockertest.RunContainer(t, c, dockertest.WithName(web))
	bare := dockertest.UniqueName(t, "distroless")
	bareID := dockertest.RunNoShellContainer(t, c, bare)

	base, output, _ := launch(t, nil, nil, "-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken, "--shell")
	b := newBrowser(t)
	// The refused upgrade and the GET that asks why log their statuses.
	b.allow(regexp.MustCompile(`WebSocket connection to .*/shell.* failed|status of 409 \(Conflict\)`))
	signInWith(t, b, printedLogin(t, output(), "operator"), base, `window.dockmap && window.dockmap.connected && window.cy`)

	bareNode := string(topology.ContainerNodeID(bareID))
	waitJS(t, b, nodeExists(bareNode), waitTimeout)
	clickNode(t, b, bareNode)
	waitJS(t, b, panelShows(bareNode), waitTimeout)
	mustDo(t, b, "open a shell", chromedp.Click(chromedp.CSS(`[data-testid=shell-open]`)))
	waitJS(t, b, shellStatus+`.includes('has no shell')`, waitTimeout)

	// web stops while its panel (with the Shell button) is open.
	webNode := string(topology.ContainerNodeID(webID))
	clickNode(t, b, webNode)
	waitJS(t, b, panelShows(webNode)+` && document.querySelector('[data-testid=shell-open]')`, waitTimeout)
	// The panel is taken as it is now: the stop's refresh would take the
	// button away, so the click goes through the element held here.
	mustEval[bool](t, b, `(window.heldOpen = document.querySelector('[data-testid=shell-open]')) !== null`)
	if err := c.StopContainer(engineCtx(t), webID, time.Second); err != nil {
		t.Fatal(err)
	}
	// The click must reach the page's handler, which looks the panel up
	// again: put the held section back if a refresh replaced it.
	waitJS(t, b, `document.querySelector('[data-testid=container-state]')?.textContent !== 'running'`, waitTimeout)
	mustEval[bool](t, b, `(() => {
		const sec = window.heldOpen.closest('[data-testid=shell]');
		if (!sec.isConnected) document.querySelector('[data-testid=container-panel]').append(sec);
		window.heldOpen.click();
		return true;
	})()`)
	waitJS(t, b, shellStatus+`.includes('start it to open a shell')`, waitTimeout)
}
