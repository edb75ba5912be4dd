package server_test

// Access control against the security checklist (SEC-01…SEC-19 in
// research/security-reliability-anchors.md §7.1), with tokens configured.
// Covered elsewhere and not repeated here:
//   - SEC-01…SEC-03 with access control off: TestLiveRefusesOtherOrigins
//     (server_test.go);
//   - SEC-05 through net/http with access control off:
//     TestForeignHostIsRefusedEverywhere (server_test.go);
//   - SEC-06 on the container routes with access control off:
//     TestBadInputChangesNothing (containers_test.go), and the audit line of
//     a refused cross-site action: TestMutationsAreAudited (audit_test.go);
//   - SEC-07's structural half: TestRouteTableIsWhatEchoServes and
//     TestOnlyActionsAreGuarded (routes_internal_test.go);
//   - SEC-11's token entropy and limiter unit tests: internal/auth;
//   - SEC-19 with access control off, and no inline script or handler in
//     the page: TestSecurityHeaders (server_test.go);
//   - SEC-12…SEC-18: the bad-input tables and fuzz targets of each feature.

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/server"
)

// authServer is the whole server with access control on, on the fake
// engine (fakeserver_test.go): the gate's work is done before any engine
// call, so every engine call the fake records is one the gate let through.
type authServer struct {
	*testServer
	engine *fakeEngine
	auth   *auth.Auth
	op     string // operator token
	view   string // viewer token
	log    *syncBuffer
}

func startAuthed(t *testing.T, opts ...func(*server.Deps)) *authServer {
	t.Helper()
	return startAuthedWith(t, nil, opts...)
}

// startAuthedWith is startAuthed with options for auth.New (a clock).
func startAuthedWith(t *testing.T, aopts []auth.Option, opts ...func(*server.Deps)) *authServer {
	t.Helper()
	s := &authServer{op: auth.NewToken(), view: auth.NewToken(), log: &syncBuffer{}}
	a, err := auth.New(auth.Tokens{Operator: s.op, Viewer: s.view}, aopts...)
	if err != nil {
		t.Fatal(err)
	}
	s.auth = a
	opts = append([]func(*server.Deps){func(d *server.Deps) {
		d.Auth = a
		d.Logger = slog.New(slog.NewJSONHandler(s.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}}, opts...)
	s.testServer, s.engine = startFaked(t, opts...)
	return s
}

// cookie is the Cookie header of a signed-in role.
func (s *authServer) cookie(r auth.Role) string { return auth.CookieName + "=" + s.auth.Session(r) }

func (s *authServer) addr() string { return strings.TrimPrefix(s.URL, "http://") }

// logText is everything the server logged so far.
func (s *authServer) logText() string {
	s.log.mu.Lock()
	defer s.log.mu.Unlock()
	return s.log.b.String()
}

// auditLines are the audit entries logged so far.
func (s *authServer) auditLines() []map[string]any { return s.log.lines() }

// assertRefusalsAudited checks that the audit log holds want lines, one per
// refused action, each with role, status 403 and the client's address.
func (s *authServer) assertRefusalsAudited(t *testing.T, role string, want int) {
	t.Helper()
	lines := s.auditLines()
	if len(lines) != want {
		t.Errorf("%d audit lines, want %d (one per refused action)", len(lines), want)
	}
	for _, l := range lines {
		if l["role"] != role || l["status"] != float64(http.StatusForbidden) || l["remote"] == "" {
			t.Errorf("audit line %v, want role %s, status 403 and the client", l, role)
		}
	}
}

// engineCalls are the engine calls requests made since mark, reads
// included (image lists, volume and network inspects).
func (s *authServer) engineCalls(mark int) []string { return s.engine.callsSince(mark) }

// assertLeftAlone checks that no request asked the engine to change
// anything (the fake's cleanup checks it again at the end).
func (s *authServer) assertLeftAlone(t *testing.T) {
	t.Helper()
	if c := s.engine.changes(); len(c) != 0 {
		t.Errorf("the engine was asked for %v, want it left alone", c)
	}
}

// noFollow is a client that shows redirects instead of following them.
var noFollow = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	Timeout:       30 * time.Second,
}

type answer struct {
	*http.Response
	Body string
}

// send makes one request; hdr values set headers, and a body is sent as
// JSON unless hdr names another Content-Type.
func send(t *testing.T, c *http.Client, method, u string, hdr map[string]string, body string) answer {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{resp, string(data)}
}

// refusedAnonymous says whether the gate turned an anonymous request away:
// a 401 that says how to authenticate, or a browser's redirect to /login.
func refusedAnonymous(a answer) bool {
	return a.StatusCode == http.StatusUnauthorized && strings.HasPrefix(a.Header.Get("WWW-Authenticate"), "Bearer") ||
		a.StatusCode == http.StatusSeeOther && a.Header.Get("Location") == "/login"
}

// target turns a route into a URL path aimed at real objects, so that a
// request the gate wrongly let through would reach the engine.
func target(r server.Route, ctr, vol string) string {
	p := strings.NewReplacer(":id", ctr, ":name", vol, ":action", "stop", "*", "app.js").Replace(r.Path)
	switch key(r.Method, r.Path) {
	case "DELETE /api/containers/:id":
		p += "?force=1"
	case "DELETE /api/volumes/:name":
		p += "?confirm=" + vol
	case "DELETE /api/networks/:id":
		p += "?detach=1"
	case "GET /api/reach", "GET /api/links/plan", "DELETE /api/links":
		p += "?from=" + ctr + "&to=" + ctr
	case "GET /api/reach/matrix":
		p += "?ids=" + ctr
	}
	return p
}

func key(method, path string) string { return method + " " + path }

// actions are the table's routes that change something (mutationGuard's).
func actions() []server.Route {
	var out []server.Route
	for _, r := range server.RouteTable() {
		if r.Method != http.MethodGet && !r.Session {
			out = append(out, r)
		}
	}
	return out
}

// dial opens /live with the given headers (Origin and Cookie, say).
func dial(base string, hdr map[string]string) (*websocket.Conn, *http.Response, error) {
	h := http.Header{}
	for k, v := range hdr {
		h.Set(k, v)
	}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/live", h)
	if resp != nil {
		resp.Body.Close()
	}
	return conn, resp, err
}

// refusedUpgrades dials /live with each origin and a valid cookie and
// wants 403 with no subscription left behind; a same-origin dial with the
// same cookie first shows that the cookie alone would be let in.
func refusedUpgrades(t *testing.T, origins []string) {
	s := startAuthed(t)
	conn, _, err := dial(s.URL, map[string]string{"Origin": s.URL, "Cookie": s.cookie(auth.Viewer)})
	if err != nil {
		t.Fatalf("same-origin upgrade with a viewer cookie: %v", err)
	}
	// The snapshot comes after the server subscribed: only then can the
	// subscription's end be waited for.
	readFrame(t, conn)
	conn.Close()
	dockertest.WaitFor(t, 5*time.Second, func() (bool, string) { return s.Hub.Len() == 0, "subscription not gone" })
	for _, origin := range origins {
		for _, role := range []auth.Role{auth.Viewer, auth.Operator} {
			conn, resp, err := dial(s.URL, map[string]string{"Origin": origin, "Cookie": s.cookie(role)})
			if err == nil {
				conn.Close()
				t.Errorf("upgrade from Origin %q with a%s cookie accepted", origin, " "+role.String())
				continue
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Errorf("upgrade from Origin %q as %v: %v, want 403", origin, role, err)
			}
			if n := s.Hub.Len(); n != 0 {
				t.Errorf("hub has %d subscribers after a refused upgrade from %q, want 0", n, origin)
			}
		}
	}
}

// SEC-01: a signed-in browser visiting a foreign page cannot be made to
// open the live feed for it (cross-site WebSocket hijacking).
func TestSEC01LiveRefusesForeignOrigin(t *testing.T) {
	refusedUpgrades(t, []string{"http://evil.example", "https://evil.example"})
}

// SEC-02: nor can another service on this machine (Dozzle CVE-2026-44985).
func TestSEC02LiveRefusesOtherLocalPorts(t *testing.T) {
	refusedUpgrades(t, []string{"http://localhost:1", "http://127.0.0.1:3000"})
}

// SEC-03: nor a sandboxed frame, nor an Origin that does not parse.
func TestSEC03LiveRefusesNullAndBrokenOrigins(t *testing.T) {
	refusedUpgrades(t, []string{"null", "http://%zz", "::::", "http://[::1", "javascript:alert(1)"})
}

// SEC-04: a script with no Origin still needs a credential for /live.
func TestSEC04LiveNeedsCredential(t *testing.T) {
	s := startAuthed(t)
	for _, tc := range []struct {
		name string
		hdr  map[string]string
	}{
		{"nothing", nil},
		{"same origin, no credential", map[string]string{"Origin": s.URL}},
		{"wrong cookie", map[string]string{"Cookie": auth.CookieName + "=" + s.op}},
		{"wrong bearer", map[string]string{"Authorization": "Bearer " + s.view + "x"}},
	} {
		conn, resp, err := dial(s.URL, tc.hdr)
		if err == nil {
			conn.Close()
			t.Errorf("%s: upgrade accepted", tc.name)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %v, want 401", tc.name, err)
		}
	}
	if n := s.Hub.Len(); n != 0 {
		t.Errorf("hub has %d subscribers after refused upgrades, want 0", n)
	}
	// The same request with a viewer token gets the feed: the 401s above
	// are the missing credential's doing.
	conn, _, err := dial(s.URL, map[string]string{"Authorization": "Bearer " + s.view})
	if err != nil {
		t.Fatalf("upgrade with a viewer token and no Origin: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if f := readFrame(t, conn); f.Type != "snapshot" {
		t.Errorf("first frame %q, want the snapshot", f.Type)
	}
}

// rawStatus sends one HTTP/1.1 request over a fresh TCP connection, with
// exactly the Host header given (DNS rebinding sends the attacker's name).
func rawStatus(t *testing.T, addr, method, path, host string, hdr []string, body string) int {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(15 * time.Second))
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n", method, path, host)
	for _, h := range hdr {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		fmt.Fprintf(&b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b.WriteString("\r\n" + body)
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s %s with Host %s: %v", method, path, host, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// SEC-05: DNS rebinding. A page on evil.example whose name now resolves to
// 127.0.0.1 sends Host and Origin evil.example:PORT; with a valid
// credential even, nothing answers it. The loopback names and a configured
// LAN address are served.
func TestSEC05ForeignHostRefusedWithCredentials(t *testing.T) {
	const lanIP = "192.0.2.10"
	s := startAuthed(t, func(d *server.Deps) { d.AllowedHosts = []string{lanIP} })
	ctr := fakeWebID // running, on the map
	_, port, _ := net.SplitHostPort(s.addr())
	evil := "evil.example:" + port
	creds := []string{"Origin: http://" + evil, "Cookie: " + s.cookie(auth.Operator), "Authorization: Bearer " + s.op}
	upgrade := append([]string{"Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="}, creds...)
	before := s.engine.mark()
	for _, tc := range []struct {
		method, path string
		hdr          []string
		body         string
	}{
		{"GET", "/", creds, ""},
		{"GET", "/api/graph", creds, ""},
		{"GET", "/api/audit", creds, ""},
		{"GET", "/live", upgrade, ""},
		{"GET", "/login?token=" + s.op, creds[:1], ""},
		{"POST", "/api/containers/" + ctr + "/stop", creds, ""},
		{"DELETE", "/api/containers/" + ctr + "?force=1", creds, ""},
		{"POST", "/api/containers", creds, `{"name":"rebound","image":"busybox"}`},
	} {
		for _, host := range []string{evil, "evil.example", "127.0.0.1.nip.io:" + port} {
			got := rawStatus(t, s.addr(), tc.method, tc.path, host, tc.hdr, tc.body)
			if got != http.StatusMisdirectedRequest && got != http.StatusForbidden {
				t.Errorf("%s %s with Host %s = %d, want 421 or 403", tc.method, tc.path, host, got)
			}
		}
	}
	if calls := s.engineCalls(before); len(calls) != 0 {
		t.Errorf("engine calls for rebound requests: %v", calls)
	}
	s.assertLeftAlone(t)

	bearer := []string{"Authorization: Bearer " + s.view}
	for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port, "LOCALHOST:" + port, lanIP + ":" + port} {
		for _, path := range []string{"/", "/api/graph"} {
			if got := rawStatus(t, s.addr(), "GET", path, host, bearer, ""); got != http.StatusOK {
				t.Errorf("GET %s with Host %s = %d, want 200", path, host, got)
			}
		}
	}
}

// SEC-06: a signed-in operator's browser on a foreign page cannot be made
// to act, whether the page uses fetch (Sec-Fetch-Site, Origin) or a plain
// form (form-encoded or text/plain body); the container is left alone and
// the engine is not called. Login and logout refuse cross-site posts too
// (login CSRF, forced logout).
func TestSEC06CrossSiteActionsRefused(t *testing.T) {
	s := startAuthed(t)
	ctr := fakeWebID // running, on the map
	vol := fakeVolume
	opCookie := s.cookie(auth.Operator)
	before := s.engine.mark()
	for _, r := range actions() {
		u := s.URL + target(r, ctr, vol)
		for _, tc := range []struct {
			name string
			hdr  map[string]string
			body string
			want int
		}{
			{"cross-site fetch", map[string]string{"Cookie": opCookie, "Sec-Fetch-Site": "cross-site"}, "{}", http.StatusForbidden},
			{"same-site fetch", map[string]string{"Cookie": opCookie, "Sec-Fetch-Site": "same-site"}, "{}", http.StatusForbidden},
			{"foreign Origin", map[string]string{"Cookie": opCookie, "Origin": "http://evil.example"}, "{}", http.StatusForbidden},
			{"other local port", map[string]string{"Cookie": opCookie, "Origin": "http://127.0.0.1:1"}, "{}", http.StatusForbidden},
			{"form body", map[string]string{"Cookie": opCookie, "Content-Type": "application/x-www-form-urlencoded"}, "name=x&image=busybox", http.StatusUnsupportedMediaType},
			{"text/plain body", map[string]string{"Cookie": opCookie, "Content-Type": "text/plain"}, `{"name":"x"}`, http.StatusUnsupportedMediaType},
			{"multipart body", map[string]string{"Cookie": opCookie, "Content-Type": "multipart/form-data; boundary=x"}, "--x--", http.StatusUnsupportedMediaType},
			{"form body, no credential", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, "name=x", http.StatusUnauthorized},
		} {
			if got := send(t, noFollow, r.Method, u, tc.hdr, tc.body); got.StatusCode != tc.want {
				t.Errorf("%s %s, %s = %d %s, want %d", r.Method, r.Path, tc.name, got.StatusCode, got.Body, tc.want)
			}
		}
	}

	// A foreign page cannot sign the browser in as the attacker's role nor
	// out of its own session.
	login := send(t, noFollow, "POST", s.URL+"/login", map[string]string{
		"Sec-Fetch-Site": "cross-site", "Content-Type": "application/x-www-form-urlencoded"}, "token="+s.view)
	if login.StatusCode != http.StatusForbidden || len(login.Cookies()) != 0 {
		t.Errorf("cross-site POST /login = %d with cookies %v, want 403 and none", login.StatusCode, login.Cookies())
	}
	logout := send(t, noFollow, "POST", s.URL+"/logout", map[string]string{"Cookie": opCookie, "Origin": "http://evil.example"}, "")
	if logout.StatusCode != http.StatusForbidden || len(logout.Cookies()) != 0 {
		t.Errorf("cross-site POST /logout = %d with cookies %v, want 403 and none", logout.StatusCode, logout.Cookies())
	}

	if calls := s.engineCalls(before); len(calls) != 0 {
		t.Errorf("engine calls for cross-site requests: %v", calls)
	}
	s.assertLeftAlone(t)
	// The cookie used above is good: the refusals are the guard's.
	if got := send(t, noFollow, "GET", s.URL+"/api/audit", map[string]string{"Cookie": opCookie}, ""); got.StatusCode != http.StatusOK {
		t.Errorf("GET /api/audit with the operator cookie = %d, want 200", got.StatusCode)
	}
}

// SEC-07 by behaviour: an operator's GET on every GET route of the table
// (and an operator's /live connection sending action-like messages) makes
// only read calls to the engine.
func TestSEC07GetsChangeNothing(t *testing.T) {
	s := startAuthed(t)
	ctr := fakeWebID // running, on the map
	vol := fakeVolume
	before := s.engine.mark()
	n := 0
	for _, r := range server.RouteTable() {
		if r.Method != http.MethodGet || r.Path == "/live" {
			continue
		}
		n++
		got := send(t, noFollow, "GET", s.URL+target(r, ctr, vol), map[string]string{"Authorization": "Bearer " + s.op}, "")
		if r.Path == "/join" && got.StatusCode == http.StatusUnauthorized {
			continue // no invite code: refused whoever asks (TestClassInvite)
		}
		if got.StatusCode >= 500 || got.StatusCode == http.StatusUnauthorized || got.StatusCode == http.StatusForbidden {
			t.Errorf("GET %s as operator = %d %s", r.Path, got.StatusCode, got.Body)
		}
	}
	sendActionLikeMessages(t, s, map[string]string{"Authorization": "Bearer " + s.op}, ctr)
	calls := s.engineCalls(before)
	for _, c := range calls {
		if !slices.Contains(fakeReads, c) {
			t.Errorf("a GET made the engine call %s", c)
		}
	}
	if n < 10 {
		t.Errorf("only %d GET routes tried", n)
	}
	s.assertLeftAlone(t)
}

// sendActionLikeMessages opens /live with hdr, sends messages shaped like
// commands and waits until the server has read them all (a ping sent after
// them is answered after they are read).
func sendActionLikeMessages(t *testing.T, s *authServer, hdr map[string]string, ctr string) {
	t.Helper()
	h := map[string]string{"Origin": s.URL}
	for k, v := range hdr {
		h[k] = v
	}
	conn, _, err := dial(s.URL, h)
	if err != nil {
		t.Fatalf("dial /live: %v", err)
	}
	defer conn.Close()
	readFrame(t, conn) // snapshot
	for _, m := range []string{
		`{"type":"action","action":"stop","id":"` + ctr + `"}`,
		`{"method":"POST","path":"/api/containers/` + ctr + `/stop"}`,
		`{"method":"DELETE","path":"/api/containers/` + ctr + `?force=1"}`,
		`{"type":"probe","from":"` + ctr + `","to":"` + ctr + `"}`,
		`{"type":"exec","id":"` + ctr + `","cmd":["sh","-c","kill 1"]}`,
		`{"type":"subscribe","audit":true}`,
	} {
		if err := conn.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
			t.Fatalf("write %s: %v", m, err)
		}
	}
	pong := make(chan struct{})
	var once sync.Once
	conn.SetPongHandler(func(string) error { once.Do(func() { close(pong) }); return nil })
	if err := conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)); err != nil {
		t.Fatalf("ping: %v", err)
	}
	go func() {
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	select {
	case <-pong:
	case <-time.After(10 * time.Second):
		t.Fatal("no pong: the server did not read the messages")
	}
}

// SEC-08: with no credential, every route but the public few turns the
// caller away: 401 for scripts (and for /api and /live), a redirect to
// /login for a browser asking for a page. Routes outside the table are
// refused too (default deny).
func TestSEC08NoCredentialEverywhere(t *testing.T) {
	s := startAuthed(t)
	ctr := fakeWebID // running, on the map
	before := s.engine.mark()
	var open, public []string
	for _, r := range server.RouteTable() {
		k := key(r.Method, r.Path)
		if r.Role == server.Public {
			public = append(public, k)
		}
		u := s.URL + target(r, ctr, "vol")
		if r.Method != http.MethodGet {
			got := send(t, noFollow, r.Method, u, nil, "{}")
			if !refusedAnonymous(got) {
				open = append(open, k)
			} else if got.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s without credential = %d, want 401", k, got.StatusCode)
			}
			continue
		}
		page := !strings.HasPrefix(r.Path, "/api/") && r.Path != "/live"
		browser := send(t, noFollow, "GET", u, map[string]string{"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, "")
		script := send(t, noFollow, "GET", u, map[string]string{"Accept": "application/json"}, "")
		if refusedAnonymous(browser) != refusedAnonymous(script) {
			t.Errorf("%s: browser got %d, script %d: want both refused or both served", k, browser.StatusCode, script.StatusCode)
		}
		if k == "GET /join" {
			// Public, but without an invite's code it is a wrong
			// credential: 401 with a page saying so (TestClassInvite).
			if browser.StatusCode != http.StatusUnauthorized || script.StatusCode != http.StatusUnauthorized {
				t.Errorf("GET /join without a code = %d (browser) %d (script), want 401", browser.StatusCode, script.StatusCode)
			}
			open = append(open, k)
			continue
		}
		if !refusedAnonymous(script) {
			open = append(open, k)
			if browser.StatusCode >= 300 || script.StatusCode >= 300 {
				t.Errorf("public %s = %d (browser) %d (script), want it served", k, browser.StatusCode, script.StatusCode)
			}
			continue
		}
		if script.StatusCode != http.StatusUnauthorized {
			t.Errorf("script GET %s = %d, want 401", r.Path, script.StatusCode)
		}
		wantBrowser := http.StatusUnauthorized
		if page {
			wantBrowser = http.StatusSeeOther
		}
		if browser.StatusCode != wantBrowser {
			t.Errorf("browser GET %s = %d, want %d", r.Path, browser.StatusCode, wantBrowser)
		}
	}
	// POST /login with no token answers the login page with its own 401,
	// not the gate's: it is served.
	sort.Strings(open)
	sort.Strings(public)
	if diff := cmp.Diff(public, open); diff != "" {
		t.Errorf("routes answering without credential differ from the public ones (-public +open):\n%s", diff)
	}

	for _, tc := range []struct{ method, path string }{
		{"GET", "/nope"}, {"GET", "/api/nope"}, {"GET", "/api/containers"}, {"PUT", "/api/containers"},
		{"POST", "/api/graph"}, {"PATCH", "/api/containers/" + ctr}, {"HEAD", "/api/graph"}, {"HEAD", "/"},
		{"GET", "/api/graph/"}, {"GET", "//api/graph"},
	} {
		if got := send(t, noFollow, tc.method, s.URL+tc.path, map[string]string{"Accept": "application/json"}, ""); got.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s %s without credential = %d, want 401", tc.method, tc.path, got.StatusCode)
		}
	}
	// A path that climbs out of /static/ reaches nothing.
	if got := send(t, noFollow, "GET", s.URL+"/static/../api/graph", nil, ""); got.StatusCode < 400 {
		t.Errorf("GET /static/../api/graph without credential = %d, want refused", got.StatusCode)
	}
	// The health check tells a stranger only "up", not which engine or its
	// error; a viewer sees the engine's version.
	engineKeys := func(hdr map[string]string) []string {
		var h struct{ Engine map[string]any }
		got := send(t, noFollow, "GET", s.URL+"/healthz", hdr, "")
		if err := json.Unmarshal([]byte(got.Body), &h); err != nil {
			t.Fatalf("GET /healthz = %d %q: %v", got.StatusCode, got.Body, err)
		}
		var keys []string
		for k := range h.Engine {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return keys
	}
	if got := engineKeys(nil); !cmp.Equal(got, []string{"connected", "since"}) {
		t.Errorf("GET /healthz without credential shows engine %v, want only connected (and since)", got)
	}
	if got := engineKeys(map[string]string{"Authorization": "Bearer " + s.view}); !slices.Contains(got, "version") {
		t.Errorf("GET /healthz as viewer shows engine %v, want its version", got)
	}
	if calls := s.engineCalls(before); len(calls) != 0 {
		t.Errorf("engine calls for anonymous requests: %v", calls)
	}
	s.assertLeftAlone(t)
}

// SEC-09: a viewer, by token or cookie, is refused every operator route
// (403) before the engine is called, and its refused actions are audited
// as a viewer's; what a viewer sends on /live does nothing.
func TestSEC09ViewerCannotAct(t *testing.T) {
	s := startAuthed(t)
	ctr := fakeWebID // running, on the map
	vol := fakeVolume
	before := s.engine.mark()
	creds := map[string]map[string]string{
		"bearer": {"Authorization": "Bearer " + s.view},
		"cookie": {"Cookie": s.cookie(auth.Viewer), "Sec-Fetch-Site": "same-origin"},
	}
	wantAudit := 0
	for _, r := range server.RouteTable() {
		if r.Role != auth.Operator {
			continue
		}
		if r.Method != http.MethodGet {
			wantAudit += len(creds)
		}
		for name, hdr := range creds {
			body := ""
			if r.Method != http.MethodGet {
				body = `{"name":"viewer-made","image":"busybox","network":"` + ctr + `"}`
			}
			got := send(t, noFollow, r.Method, s.URL+target(r, ctr, vol), hdr, body)
			if got.StatusCode != http.StatusForbidden {
				t.Errorf("viewer %s: %s %s = %d %s, want 403", name, r.Method, r.Path, got.StatusCode, got.Body)
			}
		}
	}
	sendActionLikeMessages(t, s, creds["bearer"], ctr)
	sendActionLikeMessages(t, s, map[string]string{"Cookie": s.cookie(auth.Viewer)}, ctr)
	if calls := s.engineCalls(before); len(calls) != 0 {
		t.Errorf("engine calls for a viewer's actions: %v", calls)
	}
	s.assertLeftAlone(t)

	s.assertRefusalsAudited(t, "viewer", wantAudit)
	// The viewer is signed in all along: the 403s are the role's.
	if got := send(t, noFollow, "GET", s.URL+"/api/graph", creds["cookie"], ""); got.StatusCode != http.StatusOK {
		t.Errorf("GET /api/graph as viewer = %d, want 200", got.StatusCode)
	}
}

// --read-only: even an operator can do nothing, the engine is not called,
// and each refusal is audited with the operator's role and 403.
func TestReadOnlyRefusesOperators(t *testing.T) {
	s := startAuthed(t, func(d *server.Deps) { d.ReadOnly = true })
	ctr := fakeWebID // running, on the map
	vol := fakeVolume
	before := s.engine.mark()
	hdr := map[string]string{"Cookie": s.cookie(auth.Operator), "Sec-Fetch-Site": "same-origin"}
	wantAudit := 0
	for _, r := range server.RouteTable() {
		if r.Role != auth.Operator {
			continue
		}
		body := ""
		if r.Method != http.MethodGet {
			wantAudit++
			body = "{}"
		}
		if got := send(t, noFollow, r.Method, s.URL+target(r, ctr, vol), hdr, body); got.StatusCode != http.StatusForbidden {
			t.Errorf("read-only: operator %s %s = %d %s, want 403", r.Method, r.Path, got.StatusCode, got.Body)
		}
	}
	if calls := s.engineCalls(before); len(calls) != 0 {
		t.Errorf("engine calls in read-only mode: %v", calls)
	}
	s.assertLeftAlone(t)
	s.assertRefusalsAudited(t, "operator", wantAudit)
	if got := send(t, noFollow, "GET", s.URL+"/api/graph", hdr, ""); got.StatusCode != http.StatusOK {
		t.Errorf("read-only: GET /api/graph as operator = %d, want 200", got.StatusCode)
	}
}

// SEC-10, tightened: no URL signs in with a token, not even /login's (a
// link lingers in history, autocomplete and chats); a URL carries a
// one-use login code instead, swapped at /login for an HttpOnly,
// SameSite=Strict cookie that holds neither, and the redirect drops it
// from the address bar. Tokens, codes and sessions never reach a log or a
// Referer.
func TestSEC10NoTokenInAnyURL(t *testing.T) {
	s := startAuthed(t)
	ctr := fakeWebID // running, on the map
	before := s.engine.mark()
	for _, p := range []string{"/", "/login", "/api/graph", "/api/audit", "/api/images", "/panel/container/" + ctr, "/live", "/logout", "/static/app.js?x=1&"} {
		for _, q := range []string{"token=" + s.op, "access_token=" + s.op, "session=" + s.auth.Session(auth.Operator)} {
			sep := "?"
			if strings.Contains(p, "?") {
				sep = ""
			}
			u := s.URL + p + sep + q
			got := send(t, noFollow, "GET", u, map[string]string{"Accept": "application/json"}, "")
			switch {
			case strings.HasPrefix(p, "/static/") || p == "/login":
				// Public anyway; the token must not turn into a cookie.
				if len(got.Cookies()) != 0 || got.StatusCode != http.StatusOK {
					t.Errorf("GET %s?%.10s… = %d with cookies %v, want 200 and none", p, q, got.StatusCode, got.Cookies())
				}
			case !refusedAnonymous(got) || len(got.Cookies()) != 0:
				t.Errorf("GET %s?%.10s… = %d with cookies %v, want 401 and none", p, q, got.StatusCode, got.Cookies())
			}
		}
	}
	if got := send(t, noFollow, "POST", s.URL+"/api/containers/"+ctr+"/stop?token="+s.op, nil, ""); got.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST stop?token= = %d, want 401", got.StatusCode)
	}
	if calls := s.engineCalls(before); len(calls) != 0 {
		t.Errorf("engine calls for requests with a token in the URL: %v", calls)
	}

	var codes []string
	for _, role := range []auth.Role{auth.Operator, auth.Viewer} {
		code := s.mintCode(t, role)
		codes = append(codes, code.Code)
		got := send(t, noFollow, "GET", s.URL+"/login?code="+code.Code, nil, "")
		if got.StatusCode != http.StatusSeeOther || got.Header.Get("Location") != "/" {
			t.Fatalf("GET /login?code= (%v) = %d to %q, want 303 to /", role, got.StatusCode, got.Header.Get("Location"))
		}
		if rp := got.Header.Get("Referrer-Policy"); rp != "no-referrer" {
			t.Errorf("Referrer-Policy on /login = %q, want no-referrer", rp)
		}
		cookies := got.Cookies()
		if len(cookies) != 1 {
			t.Fatalf("GET /login?code= set %d cookies, want 1", len(cookies))
		}
		c := cookies[0]
		if c.Name != auth.CookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.MaxAge <= 0 {
			t.Errorf("session cookie %+v, want %s, HttpOnly, SameSite=Strict, Path=/ and a lifetime", c, auth.CookieName)
		}
		for _, secret := range []string{code.Code, s.op, s.view} {
			if strings.Contains(c.Value, secret) || strings.Contains(got.Body, secret) {
				t.Errorf("a code or token is in the cookie or the body of the %v login answer", role)
			}
		}
		// The cookie grants the role.
		audit := send(t, noFollow, "GET", s.URL+"/api/audit", map[string]string{"Cookie": c.Name + "=" + c.Value}, "")
		if want := map[auth.Role]int{auth.Operator: 200, auth.Viewer: 403}[role]; audit.StatusCode != want {
			t.Errorf("GET /api/audit with the %v cookie = %d, want %d", role, audit.StatusCode, want)
		}
	}
	// A wrong code gets the login page again, and no cookie.
	if got := send(t, noFollow, "GET", s.URL+"/login?code="+codes[0]+"x", nil, ""); got.StatusCode != http.StatusUnauthorized || len(got.Cookies()) != 0 {
		t.Errorf("GET /login with a wrong code = %d with cookies %v, want 401 and none", got.StatusCode, got.Cookies())
	}
	// The form posts the token in a body, never a URL.
	form := send(t, noFollow, "POST", s.URL+"/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": s.URL}, "token="+url.QueryEscape(s.op))
	if form.StatusCode != http.StatusSeeOther || form.Header.Get("Location") != "/" || len(form.Cookies()) != 1 {
		t.Errorf("POST /login = %d to %q with %d cookies, want 303 to / with the session", form.StatusCode, form.Header.Get("Location"), len(form.Cookies()))
	}
	if got := send(t, noFollow, "POST", s.URL+"/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": s.URL}, "token=wrong-"+s.op); got.StatusCode != http.StatusUnauthorized {
		t.Errorf("POST /login with a wrong token = %d, want 401", got.StatusCode)
	}
	out := send(t, noFollow, "POST", s.URL+"/logout", map[string]string{"Cookie": s.cookie(auth.Operator), "Origin": s.URL}, "")
	if cs := out.Cookies(); out.StatusCode != http.StatusSeeOther || len(cs) != 1 || cs[0].MaxAge >= 0 || cs[0].Value != "" {
		t.Errorf("POST /logout = %d with cookies %v, want 303 and the session cleared", out.StatusCode, cs)
	}

	logs := s.logText()
	if !strings.Contains(logs, `"path":"/login"`) {
		t.Fatalf("the request log did not capture the flow:\n%s", logs)
	}
	// Sign-ins and refusals are logged (with the address, not the secret).
	for _, want := range []string{`"msg":"login","role":"viewer"`, `"msg":"login refused: wrong login link"`, `"msg":"login refused: wrong token"`, `"msg":"login link made","role":"viewer"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s:\n%s", want, logs)
		}
	}
	for what, secret := range map[string]string{"operator token": s.op, "viewer token": s.view, "operator session": s.auth.Session(auth.Operator),
		"operator code": codes[0], "viewer code": codes[1]} {
		if strings.Contains(logs, secret) {
			t.Errorf("the %s is in the log", what)
		}
	}
}

// SEC-11: 10,000 wrong tokens from one client. After the burst its wrong
// tokens get 429 with Retry-After instead of 401, and X-Forwarded-For does
// not buy it a fresh address; yet the right token, cookie and login form
// from that same client still get in (everyone behind one ssh -L shares
// its address), and another client's budget is its own. Tokens carry at
// least 128 bits (NewToken and ValidateToken: internal/auth), and are
// compared as SHA-256 digests in constant time (auth.TokenRole).
func TestSEC11GuessingIsBraked(t *testing.T) {
	s := startAuthed(t)
	const tries, workers = 10000, 4
	var checked, braked, other, n atomic.Int64
	var noRetryAfter atomic.Int64
	tr := &http.Transport{MaxIdleConnsPerHost: workers}
	t.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	guess := s.op[:len(s.op)-8]
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := n.Add(1); i <= tries; i = n.Add(1) {
				req, _ := http.NewRequest("GET", s.URL+"/api/graph", nil)
				req.Header.Set("Authorization", "Bearer "+guess+strconv.FormatInt(i, 10))
				// A fresh address per try, were the headers believed.
				ip := "10." + strconv.Itoa(w) + "." + strconv.FormatInt(i/256%256, 10) + "." + strconv.FormatInt(i%256, 10)
				req.Header.Set("X-Forwarded-For", ip)
				req.Header.Set("X-Real-IP", ip)
				resp, err := client.Do(req)
				if err != nil {
					other.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusUnauthorized:
					checked.Add(1)
				case http.StatusTooManyRequests:
					braked.Add(1)
					if resp.Header.Get("Retry-After") == "" {
						noRetryAfter.Add(1)
					}
				default:
					other.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	maxChecked := int64(auth.DefaultFailureBurst) + int64(elapsed.Seconds()+1)*int64(auth.DefaultFailureRate)
	t.Logf("%d tries in %v: %d answered 401, %d braked", tries, elapsed, checked.Load(), braked.Load())
	if checked.Load() > maxChecked || checked.Load() < int64(auth.DefaultFailureBurst) {
		t.Errorf("%d wrong tokens answered 401 in %v, want between %d and %d (a burst, then one a second)",
			checked.Load(), elapsed, auth.DefaultFailureBurst, maxChecked)
	}
	if braked.Load()+checked.Load() != tries || other.Load() != 0 {
		t.Errorf("%d braked + %d checked + %d other answers, want %d 401 or 429", braked.Load(), checked.Load(), other.Load(), tries)
	}
	if noRetryAfter.Load() != 0 {
		t.Errorf("%d 429 answers without Retry-After", noRetryAfter.Load())
	}

	// The right credentials from the braked client get in, every way they
	// come. The bucket refills one a second (more so under the race
	// detector's slowness), so it is emptied again before each.
	drain := func() {
		t.Helper()
		for range 2 * auth.DefaultFailureBurst {
			r := send(t, noFollow, "GET", s.URL+"/api/graph", map[string]string{"Authorization": "Bearer " + guess}, "")
			if r.StatusCode == http.StatusTooManyRequests {
				return
			}
		}
		t.Fatal("wrong tokens are never braked")
	}
	drain()
	if got := send(t, noFollow, "GET", s.URL+"/api/graph", map[string]string{"Authorization": "Bearer " + s.op, "X-Forwarded-For": "203.0.113.5"}, ""); got.StatusCode != http.StatusOK {
		t.Errorf("right token from the braked client = %d, want 200", got.StatusCode)
	}
	drain()
	if got := send(t, noFollow, "GET", s.URL+"/api/graph", map[string]string{"Cookie": s.cookie(auth.Viewer)}, ""); got.StatusCode != http.StatusOK {
		t.Errorf("right cookie from the braked client = %d, want 200", got.StatusCode)
	}
	drain()
	form := send(t, noFollow, "POST", s.URL+"/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": s.URL}, "token="+url.QueryEscape(s.view))
	if form.StatusCode != http.StatusSeeOther || len(form.Cookies()) != 1 {
		t.Errorf("login form with the right token from the braked client = %d with cookies %v, want 303 and the session", form.StatusCode, form.Cookies())
	}
	drain()
	if got := send(t, noFollow, "POST", s.URL+"/login", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": s.URL}, "token=wrong-"+s.view); got.StatusCode != http.StatusTooManyRequests || got.Header.Get("Retry-After") == "" || len(got.Cookies()) != 0 {
		t.Errorf("login form with a wrong token from the braked client = %d (Retry-After %q) with cookies %v, want 429 with Retry-After and none",
			got.StatusCode, got.Header.Get("Retry-After"), got.Cookies())
	}
	// Another client (another loopback address) has a budget of its own.
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}
	probe, err := d.Dial("tcp", s.addr())
	if err != nil {
		t.Skipf("cannot dial from 127.0.0.2 here: %v", err)
	}
	probe.Close()
	otherTr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(otherTr.CloseIdleConnections)
	otherClient := &http.Client{Transport: otherTr, Timeout: 30 * time.Second}
	drain()
	if got := send(t, otherClient, "GET", s.URL+"/api/graph", map[string]string{"Authorization": "Bearer " + guess}, ""); got.StatusCode != http.StatusUnauthorized {
		t.Errorf("wrong token from another client = %d, want 401 within its own budget", got.StatusCode)
	}
	if _, err := auth.New(auth.Tokens{Operator: "short-token-1234567"}); err == nil {
		t.Errorf("auth.New accepted an operator token under 128 bits")
	}
}

// SEC-19: the security headers are on every answer with access control on,
// refusals and the login page included.
func TestSEC19HeadersWithAccessControl(t *testing.T) {
	s := startAuthed(t)
	for _, tc := range []struct {
		path string
		hdr  map[string]string
		want int
	}{
		{"/", map[string]string{"Cookie": s.cookie(auth.Viewer)}, 200},
		{"/", map[string]string{"Accept": "text/html"}, 303},
		{"/api/graph", nil, 401},
		{"/api/audit", map[string]string{"Authorization": "Bearer " + s.view}, 403},
		{"/login", nil, 200},
		{"/login?token=" + s.op, nil, 200},
		{"/login?code=" + s.mintCode(t, auth.Viewer).Code, nil, 303},
		{"/login?code=used-or-unknown", nil, 401},
	} {
		got := send(t, noFollow, "GET", s.URL+tc.path, tc.hdr, "")
		if got.StatusCode != tc.want {
			t.Errorf("GET %s = %d, want %d", tc.path, got.StatusCode, tc.want)
		}
		csp := got.Header.Get("Content-Security-Policy")
		for _, want := range []string{"frame-ancestors 'none'", "object-src 'none'", "script-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", tc.path, csp, want)
			}
		}
		for h, want := range map[string]string{
			"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
		} {
			if v := got.Header.Get(h); v != want {
				t.Errorf("GET %s: %s = %q, want %q", tc.path, h, v, want)
			}
		}
	}
}

// startTLS is the whole server (access control off, on the fake engine)
// behind httptest.NewTLSServer; it returns the https URL and a dialer that trusts
// its certificate.
func startTLS(t *testing.T) (string, *websocket.Dialer) {
	t.Helper()
	_, srv := serveFaked(t, &fakeEngine{inv: fakeInventory()}, httptest.NewTLSServer)
	return srv.URL, &websocket.Dialer{TLSClientConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig, HandshakeTimeout: 20 * time.Second}
}

// The WebSocket's Origin must match the page's origin scheme included: an
// https origin with the right host is refused on a plain-HTTP server, an
// http one on a TLS server; the right scheme (in any case) is let in, and
// an origin with a path is no origin a browser sends.
func TestSEC02bLiveOriginNeedsTheScheme(t *testing.T) {
	upgrade := func(d *websocket.Dialer, wsURL, origin string) int {
		t.Helper()
		conn, resp, err := d.Dial(wsURL, http.Header{"Origin": {origin}})
		if err == nil {
			conn.Close()
			return http.StatusSwitchingProtocols
		}
		if resp == nil {
			t.Fatalf("dial %s from %s: %v", wsURL, origin, err)
		}
		return resp.StatusCode
	}
	plain, _ := startFaked(t)
	host := strings.TrimPrefix(plain.URL, "http://")
	for origin, want := range map[string]int{
		"https://" + host:       http.StatusForbidden,
		"wss://" + host:         http.StatusForbidden,
		"http://" + host:        http.StatusSwitchingProtocols,
		"HTTP://" + host:        http.StatusSwitchingProtocols,
		"http://" + host + "/x": http.StatusForbidden,
		"http://u@" + host:      http.StatusForbidden,
	} {
		if got := upgrade(websocket.DefaultDialer, "ws://"+host+"/live", origin); got != want {
			t.Errorf("plain HTTP server, Origin %s: %d, want %d", origin, got, want)
		}
	}

	tlsURL, d := startTLS(t)
	host = strings.TrimPrefix(tlsURL, "https://")
	for origin, want := range map[string]int{
		"http://" + host:       http.StatusForbidden,
		"https://" + host:      http.StatusSwitchingProtocols,
		"https://evil.example": http.StatusForbidden,
	} {
		if got := upgrade(d, "wss://"+host+"/live", origin); got != want {
			t.Errorf("TLS server, Origin %s: %d, want %d", origin, got, want)
		}
	}
}
