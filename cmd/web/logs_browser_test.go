package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// counterCmd prints "line N" every second, and "err N" on stderr every
// third.
const counterCmd = `i=0; while true; do i=$((i+1)); echo line $i; [ $((i%3)) = 0 ] && echo err $i >&2; sleep 1; done`

// lastLogNumber asks the logs API (without following) for the number of
// the last "line N" the container printed.
func lastLogNumber(t *testing.T, base, id string) int {
	t.Helper()
	resp, err := (&http.Client{Timeout: waitTimeout}).Get(base + "/api/containers/" + id + "/logs?tail=4")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("logs: %s", resp.Status)
	}
	last := 0
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var l struct{ Text string }
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatal(err)
		}
		if n, ok := strings.CutPrefix(l.Text, "line "); ok {
			last, _ = strconv.Atoi(n)
		}
	}
	return last
}

// numbers are the N of each shown line "<prefix> N", in page order.
func shownNumbers(t *testing.T, b *browser, prefix string) []int {
	t.Helper()
	texts := mustEval[[]string](t, b, `[...document.querySelectorAll('[data-testid=logs-list] [data-testid=log-text]')].map((e) => e.textContent)`)
	var out []int
	for _, s := range texts {
		if n, ok := strings.CutPrefix(s, prefix); ok {
			v, err := strconv.Atoi(n)
			if err != nil {
				t.Fatalf("line %q", s)
			}
			out = append(out, v)
		}
	}
	return out
}

// The Logs tab follows a container, tells stderr apart, and across a close
// and a reopen of the panel shows every line once: no line lost while the
// panel was closed, none doubled where the stream resumed.
func TestBrowserLogsResumeAcrossClose(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	base := startDockmap(t, nil)
	id := dockertest.RunContainer(t, c, dockertest.WithCmd("sh", "-c", counterCmd))
	node := string(topology.ContainerNodeID(id))
	b := newBrowser(t)
	openMap(t, b, base)
	waitJS(t, b, nodeExists(node), waitTimeout)
	clickNode(t, b, node)
	waitJS(t, b, panelShows(node), waitTimeout)

	mustDo(t, b, "open the Logs tab", chromedp.Click(chromedp.CSS(`[data-testid=logs-tab]`)))
	const lines = `[...document.querySelectorAll('[data-testid=logs-list] [data-testid=log-text]')]`
	waitJS(t, b, lines+`.filter((e) => e.textContent.startsWith('line ')).length >= 4`, waitTimeout)
	// stderr has a text mark, not colour alone.
	waitJS(t, b, `[...document.querySelectorAll('[data-testid=log-line][data-stream=stderr]')].some((r) => r.querySelector('.log-mark').textContent === 'err' && r.textContent.includes('err 3'))`, waitTimeout)
	if got := mustEval[string](t, b, `document.querySelector('[data-testid=log-line] time')?.textContent ?? ''`); !strings.Contains(got, ":") {
		t.Errorf("a line's time = %q, want a clock time", got)
	}

	// Close the panel: the stream stops.
	if !mustEval[bool](t, b, `window.dockmap.logsFollowing === true`) {
		t.Errorf("the open Logs tab does not follow")
	}
	mustDo(t, b, "press Escape", chromedp.KeyEvent("\x1b"))
	waitJS(t, b, `!document.querySelector('#panel [data-testid=container-panel]') && window.dockmap.logsFollowing === false`, waitTimeout)
	closedAt := lastLogNumber(t, base, id)
	// The container goes on printing while nobody watches.
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		n := lastLogNumber(t, base, id)
		return n >= closedAt+3, fmt.Sprintf("the container's last line is %d, it was %d when the panel closed", n, closedAt)
	})
	after := lastLogNumber(t, base, id)

	// Reopen: the tab is open again and catches up.
	clickNode(t, b, node)
	waitJS(t, b, panelShows(node), waitTimeout)
	waitJS(t, b, fmt.Sprintf(`%s.some((e) => e.textContent === 'line %d')`, lines, after+1), waitTimeout)

	got := shownNumbers(t, b, "line ")
	for i := 1; i < len(got); i++ {
		if got[i] != got[i-1]+1 {
			t.Fatalf("lines shown %v: %d follows %d (lost or doubled across the close)", got, got[i], got[i-1])
		}
	}
	if got[0] != 1 {
		t.Errorf("first line shown = %d, want 1 (the last 200 lines)", got[0])
	}
	errs := shownNumbers(t, b, "err ")
	var want []int
	for n := 3; n <= errs[len(errs)-1]; n += 3 {
		want = append(want, n)
	}
	if !slices.Equal(errs, want) {
		t.Errorf("stderr lines shown %v, want %v", errs, want)
	}

	// The search box filters: only err lines match "err".
	mustDo(t, b, "search", chromedp.SendKeys(chromedp.CSS(`[data-testid=logs-search]`), "err"))
	waitJS(t, b, `[...document.querySelectorAll('[data-testid=log-line]')].every((r) => r.hidden === (r.dataset.stream !== 'stderr')) && document.querySelector('[data-testid=log-line] mark')`, waitTimeout)
	screenshot(t, b, "logs")
	// Logs stop following when the panel closes: no stream is left.
	// (Escape in the search box is the box's own.)
	mustEval[bool](t, b, `(document.activeElement.blur(), true)`)
	mustDo(t, b, "press Escape", chromedp.KeyEvent("\x1b"))
	waitJS(t, b, `!document.querySelector('#panel [data-testid=container-panel]')`, waitTimeout)
	waitJS(t, b, `window.dockmap.logsFollowing === false`, waitTimeout)
}

// A viewer's panel has no Logs tab unless dockmap runs with
// --viewer-logs.
func TestBrowserLogsTabForViewers(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	id := dockertest.RunContainer(t, c, dockertest.WithCmd("sh", "-c", "echo hello; exec sleep 3600"))
	node := string(topology.ContainerNodeID(id))
	for _, viewerLogs := range []bool{false, true} {
		t.Run(fmt.Sprintf("viewer-logs=%v", viewerLogs), func(t *testing.T) {
			args := []string{"-addr", "127.0.0.1:0", "--operator-token", opToken, "--viewer-token", viewToken}
			if viewerLogs {
				args = append(args, "--viewer-logs")
			}
			// Cleanups run last first: the browser closes before dockmap stops.
			base, output, _ := launch(t, nil, nil, args...)
			b := newBrowser(t)
			signInWith(t, b, printedLogin(t, output(), "viewer"), base, `window.dockmap && window.dockmap.connected && window.cy`)
			waitJS(t, b, nodeExists(node), waitTimeout)
			clickNode(t, b, node)
			waitJS(t, b, panelShows(node), waitTimeout)
			has := mustEval[bool](t, b, `!!document.querySelector('#panel [data-testid=logs-tab]')`)
			if has != viewerLogs {
				t.Errorf("the viewer's panel has a Logs tab: %v, want %v", has, viewerLogs)
			}
			if viewerLogs {
				mustDo(t, b, "open the Logs tab", chromedp.Click(chromedp.CSS(`[data-testid=logs-tab]`)))
				waitJS(t, b, `[...document.querySelectorAll('[data-testid=log-text]')].some((e) => e.textContent === 'hello')`, waitTimeout)
			}
		})
	}
}

// A noisy container does not fill the page: "all" of 20,000 lines keeps
// the newest 5,000, in order, and a container that stopped says so.
func TestBrowserLogsKeepTheNewest(t *testing.T) {
	c := dockertest.Client(t)
	dockertest.FixtureImage(t)
	base := startDockmap(t, nil)
	id := dockertest.RunContainer(t, c, dockertest.WithCmd("sh", "-c", `i=0; while [ $i -lt 20000 ]; do i=$((i+1)); echo $i; done`))
	// All printed (the container may be gone from "running" already).
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		resp, err := http.Get(base + "/api/containers/" + id + "/logs?tail=1")
		if err != nil {
			return false, err.Error()
		}
		defer resp.Body.Close()
		var l struct{ Text string }
		_ = json.NewDecoder(resp.Body).Decode(&l)
		return l.Text == "20000", fmt.Sprintf("%s, last line %q", resp.Status, l.Text)
	})
	node := string(topology.ContainerNodeID(id))
	b := newBrowser(t)
	openMap(t, b, base)
	waitJS(t, b, nodeExists(node), waitTimeout)
	clickNode(t, b, node)
	waitJS(t, b, panelShows(node), waitTimeout)
	mustDo(t, b, "open the Logs tab", chromedp.Click(chromedp.CSS(`[data-testid=logs-tab]`)))
	waitJS(t, b, `document.querySelector('[data-testid=logs-list] [data-testid=log-text]')?.textContent === '19801'`, waitTimeout)
	mustDo(t, b, "choose all", chromedp.SetValue(chromedp.CSS(`[data-testid=logs-since]`), "all"))
	mustEval[bool](t, b, `(document.querySelector('[data-testid=logs-since]').dispatchEvent(new Event('change')), true)`)
	const texts = `[...document.querySelectorAll('[data-testid=logs-list] [data-testid=log-text]')].map((e) => e.textContent)`
	waitJS(t, b, texts+`.at(-1) === '20000' && document.querySelector('[data-testid=logs-status]').textContent.includes('stopped')`, waitTimeout)
	got := mustEval[[]string](t, b, texts)
	if len(got) != 5000 || got[0] != "15001" {
		t.Errorf("page keeps %d lines from %q, want 5000 from 15001", len(got), got[0])
	}
}
