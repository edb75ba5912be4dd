package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Browser tests wait this long for anything the page, the server or the
// engine does eventually. It is generous on purpose: CI runs on two slow
// cores, and a wait returns as soon as its condition holds.
const waitTimeout = 20 * time.Second

// requireBrowserEnv turns a missing Chromium from a skip into a failure
// when set to "1" (CI sets it).
const requireBrowserEnv = "REQUIRE_BROWSER"

// servingLine is what run prints once it listens.
var servingLine = regexp.MustCompile(`serving (https?://\S+)`)

// startDockmap runs the whole program, as main does, on a free loopback
// port, with env laid over the process environment, and returns its base
// URL once /healthz answers. It is stopped when the test ends, and the test
// fails if run then returns an error.
func startDockmap(t testing.TB, env map[string]string) (baseURL string) {
	t.Helper()
	baseURL, _ = launchDockmap(t, env, "127.0.0.1:0")
	return baseURL
}

// launchDockmap is startDockmap on a given address, and returns stop as
// well, which ends run early and reports what run returned. Cleanup calls
// stop too; a second call does nothing.
func launchDockmap(t testing.TB, env map[string]string, addr string) (baseURL string, stop func() error) {
	t.Helper()
	baseURL, _, stop = launch(t, env, nil, "-addr", addr)
	return baseURL, stop
}

// launch runs the program with these arguments and returns its base URL
// once /healthz answers (through hc, or a plain client when nil), what it
// has printed so far (call it again for more), and stop.
func launch(t testing.TB, env map[string]string, hc *http.Client, args ...string) (baseURL string, output func() string, stop func() error) {
	t.Helper()
	var outMu sync.Mutex
	var out strings.Builder
	output = func() string {
		outMu.Lock()
		defer outMu.Unlock()
		return out.String()
	}
	getenv := func(key string) string {
		if v, ok := env[key]; ok {
			return v
		}
		return os.Getenv(key)
	}
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := run(ctx, append([]string{"dockmap"}, args...), getenv, pw)
		pw.Close()
		done <- err
	}()

	// run writes its logs to the same stdout, so the pipe is read to the
	// end, or run would block on its next log line.
	urls := make(chan string, 1)
	drained := make(chan struct{})
	var logMu sync.Mutex
	logOpen := true // t.Logf panics once the test is over
	go func() {
		defer close(drained)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		found := false
		for sc.Scan() {
			line := sc.Text()
			outMu.Lock()
			out.WriteString(line + "\n")
			outMu.Unlock()
			if !found {
				if m := servingLine.FindStringSubmatch(line); m != nil {
					found = true
					urls <- m[1]
				}
			}
			logMu.Lock()
			if logOpen {
				t.Logf("dockmap: %s", line)
			}
			logMu.Unlock()
		}
		close(urls)
		// Keep run unblocked if the scanner stopped on a too-long line.
		_, _ = io.Copy(io.Discard, pr)
	}()

	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			<-drained
			return err
		case <-time.After(30 * time.Second):
			logMu.Lock()
			logOpen = false
			logMu.Unlock()
			return errors.New("run did not return within 30s of cancel")
		}
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("run() = %v, want nil after cancel", err)
		}
	})

	select {
	case u, ok := <-urls:
		if !ok {
			t.Fatalf("dockmap exited before serving: %v", stop())
		}
		baseURL = u
	case <-time.After(waitTimeout):
		t.Fatalf("dockmap did not print its URL within %v", waitTimeout)
	}
	waitForReady(t, hc, baseURL+"/healthz")
	return baseURL, output, stop
}

// waitForReady polls url until it answers 200.
func waitForReady(t testing.TB, hc *http.Client, url string) {
	t.Helper()
	if hc == nil {
		hc = &http.Client{Timeout: 5 * time.Second}
	}
	deadline := time.Now().Add(waitTimeout)
	last := "no answer yet"
	for {
		resp, err := hc.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s not 200 within %v: %s", url, waitTimeout, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// chromiumPath finds a Chromium or Chrome binary, or "".
func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is one headless Chromium with one tab, and what the page did
// that a test must not let pass: console errors, uncaught exceptions, CSP
// violations and JavaScript dialogs (the sign of an XSS).
type browser struct {
	ctx context.Context // chromedp context of the tab

	mu       sync.Mutex // protects the fields below
	problems []string
	dialogs  []string
	allowed  []*regexp.Regexp
	// netChanges counts the loads Chromium cancelled for a host network
	// change (see networkChanged).
	netChanges int
}

// networkChanged is how Chromium reports a load or fetch it cancelled
// because a network interface appeared on the host or left it, as every
// Docker network does when another test makes or removes one.
const networkChanged = "ERR_NETWORK_CHANGED"

// allow makes problems that match re expected: a test that takes the
// server down expects the browser to log the failed reconnections.
func (b *browser) allow(re *regexp.Regexp) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.allowed = append(b.allowed, re)
}

// reportCSP makes every CSP violation a console error, whatever the
// browser's own log says about it. It is injected before any page script.
const reportCSP = `document.addEventListener('securitypolicyviolation', (e) => {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
    ' at ' + e.sourceFile + ':' + e.lineNumber);
});`

// newBrowser starts a headless Chromium with a fresh profile. The test is
// skipped when there is none, or fails when REQUIRE_BROWSER=1. When the
// test ends, it fails if the page logged an error, threw, broke its CSP or
// opened a dialog the test did not take with takeDialogs.
func newBrowser(t testing.TB) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv(requireBrowserEnv) == "1" {
			t.Fatalf("Chromium required (%s=1) but not found", requireBrowserEnv)
		}
		t.Skipf("no Chromium found (set %s=1 to fail instead)", requireBrowserEnv)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(actx)
	b := &browser{ctx: ctx}
	// The page asks the explainer about pairs it still shows; when the
	// server has just removed one of them (another test's cleanup, a
	// re-create) the answer is 404, which reach.js ignores by design, but
	// Chromium logs every failed fetch.
	b.allow(regexp.MustCompile(`status of 404 \(Not Found\) \S+/api/reach(/matrix)?\?`))
	// Likewise a panel asked for while its container is being removed (a
	// re-create): panel.js shows "removed" on the 404 by design.
	b.allow(regexp.MustCompile(`status of 404 \(Not Found\) \S+/panel/`))
	// Other tests make and remove networks at any time, and Chromium logs
	// every load and fetch that cancels; load starts a page it cut short
	// over, and what a test checks on the page still has to come true.
	b.allow(regexp.MustCompile(networkChanged))
	t.Cleanup(func() {
		// A round trip first: Listen's func has seen every event the
		// browser sent before the answer.
		if _, err := b.eval(`true`); err != nil {
			t.Logf("browser: final round trip: %v", err)
		}
		cancelTab()
		cancelAlloc()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, p := range b.problems {
			t.Errorf("page: %s", p)
		}
		for _, d := range b.dialogs {
			t.Errorf("page opened a JavaScript dialog: %q", d)
		}
	})

	// Start the browser and the tab with no timeout: the first Run binds
	// the browser's life to its context.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	if err := chromedp.Listen(ctx, b.onEvent); err != nil {
		t.Fatalf("listen to the page: %v", err)
	}
	cctx, cancel := context.WithTimeout(ctx, waitTimeout)
	defer cancel()
	if _, err := chromedp.Call(cctx, page.AddScriptToEvaluateOnNewDocument,
		page.AddScriptToEvaluateOnNewDocumentParams{Source: reportCSP}); err != nil {
		t.Fatalf("inject the CSP reporter: %v", err)
	}
	return b
}

// onEvent runs on chromedp's read loop: it must return fast and must not
// run commands itself.
func (b *browser) onEvent(ev any) {
	switch ev := ev.(type) {
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		b.problem("uncaught exception: %s (%s:%d)", text, d.URL, d.LineNumber)
	case *runtime.EventConsoleAPICalled:
		if ev.Type != runtime.ConsoleAPICalledTypeError {
			return
		}
		var args []string
		for _, a := range ev.Args {
			switch {
			case a.Description != "":
				args = append(args, a.Description)
			case len(a.Value) > 0:
				args = append(args, string(a.Value))
			default:
				args = append(args, string(a.Type))
			}
		}
		b.problem("console.error: %s", strings.Join(args, " "))
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level == log.EntryLevelError || strings.Contains(e.Text, "Content Security Policy") {
			b.problem("browser log (%s, %s): %s %s", e.Source, e.Level, e.Text, e.URL)
		}
	case *page.EventJavascriptDialogOpening:
		b.mu.Lock()
		b.dialogs = append(b.dialogs, string(ev.Type)+": "+ev.Message)
		b.mu.Unlock()
		// The dialog blocks the page until someone answers it.
		go func() {
			cctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
			defer cancel()
			_, _ = chromedp.Call(cctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}()
	}
}

func (b *browser) problem(format string, args ...any) {
	p := fmt.Sprintf(format, args...)
	b.mu.Lock()
	defer b.mu.Unlock()
	if strings.Contains(p, networkChanged) {
		b.netChanges++
	}
	for _, re := range b.allowed {
		if re.MatchString(p) {
			return
		}
	}
	b.problems = append(b.problems, p)
}

// takeDialogs returns the dialogs the page opened so far and forgets them,
// so that a test that expects none can say so at the right moment.
func (b *browser) takeDialogs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	d := b.dialogs
	b.dialogs = nil
	return d
}

// eval runs one expression with its own timeout, so that a stuck page
// fails the test instead of hanging it.
func (b *browser) eval(expr string) (any, error) {
	return evalAs[any](b, expr)
}

func evalAs[T any](b *browser, expr string) (T, error) {
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr))
}

// mustEval evaluates expr in the page and decodes its value into T.
func mustEval[T any](t testing.TB, b *browser, expr string) T {
	t.Helper()
	v, err := evalAs[T](b, expr)
	if err != nil {
		t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// mustDo runs actions on the tab, each bounded by waitTimeout.
func mustDo(t testing.TB, b *browser, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// waitJS polls until the JavaScript expression expr is truthy, and fails
// the test with expr's last value if that does not happen within timeout.
// An expression that throws counts as false.
func waitJS(t testing.TB, b *browser, expr string, timeout time.Duration) {
	t.Helper()
	check := fmt.Sprintf(`(() => { try { return !!(%s); } catch (e) { return false; } })()`, expr)
	deadline := time.Now().Add(timeout)
	wait := 20 * time.Millisecond
	for {
		ok, err := evalAs[bool](b, check)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			last, lerr := evalAs[string](b, fmt.Sprintf(`(() => { try { return String(%s); } catch (e) { return 'throws ' + e; } })()`, expr))
			if lerr != nil {
				last = "(" + lerr.Error() + ")"
			}
			if err != nil {
				last += "; evaluate: " + err.Error()
			}
			t.Fatalf("not true after %v: %s\nlast value: %s", timeout, expr, last)
		}
		time.Sleep(wait)
		wait = min(2*wait, 200*time.Millisecond)
	}
}

// openMap navigates to the map and waits until the graph is visible and
// the WebSocket has delivered its snapshot.
func openMap(t testing.TB, b *browser, baseURL string) {
	t.Helper()
	load(t, b, "open the map", `window.dockmap && window.dockmap.connected && window.cy`,
		chromedp.Navigate(baseURL+"/"),
		chromedp.WaitVisible(chromedp.CSS(`[data-testid=graph]`)),
	)
}

// load runs actions that load a page (a navigation, or a click on a link)
// and waits until the JavaScript expression ready is truthy. A host
// network change can cancel the navigation, or one of the page's module
// loads, which leaves a page that never starts: when Chromium reported one
// meanwhile, load starts over, up to three times in all. Any other failure
// fails the test at once.
func load(t testing.TB, b *browser, what, ready string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	const tries = 3
	for try := 1; ; try++ {
		seen := b.networkChanges()
		cut := func(err error) bool {
			return b.networkChanges() > seen || (err != nil && strings.Contains(err.Error(), networkChanged))
		}
		ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
		err := chromedp.Do(ctx, actions...)
		cancel()
		// A page that was cut short never gets ready: it is not waited
		// for as long, unless this is the last try.
		if err == nil && (pollJS(b, ready, waitTimeout/4) ||
			(!cut(nil) || try == tries) && pollJS(b, ready, waitTimeout*3/4)) {
			return
		}
		if !cut(err) || try == tries {
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			// Fails the test, with ready's last value.
			waitJS(t, b, ready, time.Second)
			return
		}
		t.Logf("%s: a host network change cut the load short (try %d of %d, %v); loading again", what, try, tries, err)
	}
}

// networkChanges is how many loads Chromium has cancelled so far for a
// host network change.
func (b *browser) networkChanges() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.netChanges
}

// clickNode clicks the node with a real mouse event at the point where it
// is drawn, once it has stopped moving (a new node is placed, then settled
// by a local layout) and nothing covers it.
func clickNode(t testing.TB, b *browser, id string) {
	t.Helper()
	node := fmt.Sprintf(`window.cy.getElementById(%s)`, jsString(id))
	// Bring the node into view, away from the floating legend, if it is
	// not already where a click reaches it.
	mustEval[bool](t, b, fmt.Sprintf(`(() => {
  const n = %s;
  const r = document.querySelector('[data-testid=graph]').getBoundingClientRect();
  const p = n.renderedPosition();
  const hit = document.elementFromPoint(r.left + p.x, r.top + p.y);
  if (!hit || !hit.closest('[data-testid=graph]')) window.cy.center(n);
  return true;
})()`, node))
	var pos []float64
	// Stable: the same rendered position on two polls in a row.
	deadline := time.Now().Add(waitTimeout)
	for {
		p := mustEval[[]float64](t, b, fmt.Sprintf(`(() => {
  const r = document.querySelector('[data-testid=graph]').getBoundingClientRect();
  const p = %s.renderedPosition();
  return [r.left + p.x, r.top + p.y];
})()`, node))
		if len(p) != 2 {
			t.Fatalf("position of %s = %v, want [x, y]", id, p)
		}
		if slices.Equal(p, pos) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s still moving after %v: at %v", id, waitTimeout, p)
		}
		pos = p
		time.Sleep(150 * time.Millisecond)
	}
	// Click where the node is the topmost thing: not under another
	// element of the page, nor under another node (on a shared engine,
	// other tests' containers come and go around ours). The host box it
	// sits in does not count: a click inside a box selects the member.
	at := mustEval[[]float64](t, b, fmt.Sprintf(`(() => {
  const n = %s, cy = window.cy;
  const r = document.querySelector('[data-testid=graph]').getBoundingClientRect();
  const bb = n.renderedBoundingBox({ includeLabels: false, includeOverlays: false });
  // Shown nodes only: a hidden one (another test's container, out of a
  // lesson's focus) covers nothing, wherever it stands.
  const others = cy.nodes(':visible').not(n).not(n.ancestors()).map((m) => m.renderedBoundingBox({ includeLabels: false, includeOverlays: false }));
  const cx = (bb.x1 + bb.x2) / 2, cy0 = (bb.y1 + bb.y2) / 2, q = Math.min(bb.w, bb.h) / 4;
  let tries = [[0, 0], [q, 0], [-q, 0], [0, q], [0, -q]];
  // A box (a host's, a project's) has its members, and edges between
  // them, across its middle: a person clicks it just inside a corner.
  if (n.isParent()) tries = [[-1, -1], [1, -1], [-1, 1], [1, 1]].map(([sx, sy]) => [sx * (bb.w / 2 - 8), sy * (bb.h / 2 - 8)]).concat(tries);
  const out = [];
  for (const [dx, dy] of tries) {
    const x = cx + dx, y = cy0 + dy;
    if (others.some((o) => x >= o.x1 && x <= o.x2 && y >= o.y1 && y <= o.y2)) continue;
    const hit = document.elementFromPoint(r.left + x, r.top + y);
    if (hit && hit.closest('[data-testid=graph]')) out.push(r.left + x, r.top + y);
  }
  return out;
})()`, node))
	if len(at) < 2 {
		t.Fatalf("node %s at %v: no point of it is free to click (covered by other nodes or elements)", id, pos)
	}
	box := mustEval[bool](t, b, node+`.isParent()`)
	for i := 0; i+1 < len(at); i += 2 {
		mustDo(t, b, "click "+id,
			chromedp.MouseEvent(chromedp.MouseMoved, at[i], at[i+1]),
			chromedp.MouseClickXY(at[i], at[i+1]),
		)
		// A box's point may still lie on an edge, which the click then
		// selects instead: the next point.
		if !box || pollJS(b, node+`.selected()`, time.Second) {
			return
		}
	}
	t.Fatalf("box %s: no click selected it", id)
}

// jsString quotes s as a JavaScript string literal (JSON is a subset).
func jsString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // a string always marshals
	}
	return string(b)
}
