package server_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/job"
	"github.com/dockmap/dockmap/internal/live"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/server"
	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web"
)

type testServer struct {
	URL  string
	Live *live.Live
	Hub  *hub.Hub
}

// startServer runs the whole server on the real engine (or on c, when the
// test wants another engine address) behind httptest.
func startServer(t testing.TB, c *docker.Client, opts ...func(*server.Deps)) *testServer {
	t.Helper()
	var prober *probe.Prober
	ts, _ := serve(t, c, func(h *hub.Hub) (server.Prober, func()) {
		prober = probe.New(c, server.ProbePublisher(h))
		return prober, func() { prober.Close() }
	}, httptest.NewServer, opts...)
	return ts
}

// testEngine is what a test server runs on: the real engine's client, or
// the fake engine (fakeserver_test.go).
type testEngine interface {
	live.Source
	server.Engine
	server.Recreator
	server.Networker
	server.Volumes
}

// serve runs the whole server on e, with the prober newProber makes (and
// the function that closes it), served by newServer (httptest.NewServer or
// httptest.NewTLSServer). Everything stops when the test ends.
func serve(t testing.TB, e testEngine, newProber func(*hub.Hub) (server.Prober, func()), newServer func(http.Handler) *httptest.Server,
	opts ...func(*server.Deps)) (*testServer, *httptest.Server) {
	t.Helper()
	h := hub.New(hub.DefaultBuffer)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	l := live.New(e, h, log)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	static, err := fs.Sub(web.Static, "static")
	if err != nil {
		t.Fatal(err)
	}
	prober, closeProber := newProber(h)
	jobs := job.New(h)
	deps := server.Deps{
		Live: l, Engine: e, Recreator: e, Networks: e, Volumes: e, Prober: prober, Publisher: h, Jobs: jobs, Logger: log, Static: static, AssetVersion: "test",
	}
	for _, o := range opts {
		o(&deps)
	}
	// Run as run does, when a test asks for it (withLessonLive): its hub
	// subscription would count as a client in the tests that count them.
	lessonsDone := make(chan error, 1)
	if deps.LessonLive != nil {
		go func() { lessonsDone <- deps.LessonLive.Run(ctx) }()
	} else {
		lessonsDone <- nil
	}
	srv := newServer(server.New(deps))
	t.Cleanup(func() {
		jobs.Close()
		closeProber()
		h.Close()
		srv.Close()
		cancel()
		<-done
		<-lessonsDone
	})
	return &testServer{URL: srv.URL, Live: l, Hub: h}, srv
}

func startSynced(t testing.TB) (*testServer, *docker.Client) {
	t.Helper()
	c := dockertest.Client(t)
	ts := startServer(t, c)
	select {
	case <-ts.Live.Synced():
	case <-time.After(30 * time.Second):
		t.Fatal("never synced with the engine")
	}
	return ts, c
}

func dialLive(t testing.TB, base string, origin string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	hdr := http.Header{}
	if origin != "" {
		hdr.Set("Origin", origin)
	}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/live", hdr)
	if err == nil {
		t.Cleanup(func() { conn.Close() })
	}
	return conn, resp, err
}

type frame struct {
	Type string `json:"type"`
	Seq  uint64 `json:"seq"`
	topology.Delta
	Nodes  []topology.Node      `json:"nodes"`
	Engine topology.EngineState `json:"engine"`
}

func readFrame(t testing.TB, conn *websocket.Conn) frame {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, data, err := conn.ReadMessage()
	if err != nil {
		t.Fatalf("read /live: %v", err)
	}
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("decode %s: %v", data, err)
	}
	return f
}

func TestLiveSendsSnapshotThenDeltas(t *testing.T) {
	ts, c := startSynced(t)
	conn, _, err := dialLive(t, ts.URL, ts.URL)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	first := readFrame(t, conn)
	if first.Type != "snapshot" || !first.Engine.Connected {
		t.Fatalf("first frame type %q connected %v, want a snapshot with the engine connected", first.Type, first.Engine.Connected)
	}

	id := dockertest.RunContainer(t, c)
	last := first.Seq
	for {
		f := readFrame(t, conn)
		if f.Type != "delta" {
			continue
		}
		if f.Seq != last+1 {
			t.Fatalf("delta seq %d after %d, want consecutive", f.Seq, last)
		}
		last = f.Seq
		for _, n := range append(f.AddedNodes, f.ChangedNodes...) {
			if n.ID == topology.ContainerNodeID(id) && n.Container.Running() {
				return
			}
		}
	}
}

func TestLiveRefusesOtherOrigins(t *testing.T) {
	ts, _ := startFaked(t)
	u, _ := url.Parse(ts.URL)
	for _, origin := range []string{
		"http://evil.example",
		"http://localhost:1",         // same host, other port
		"http://127.0.0.1:3000",      // same host, other port
		"null",                       // sandboxed frames
		"http://" + u.Host + ".evil", // prefix trick
	} {
		t.Run(origin, func(t *testing.T) {
			_, resp, err := dialLive(t, ts.URL, origin)
			if err == nil {
				t.Fatal("upgrade accepted")
			}
			if resp == nil || resp.StatusCode != http.StatusForbidden {
				t.Fatalf("response %v, want 403", resp)
			}
			if n := ts.Hub.Len(); n != 0 {
				t.Errorf("hub has %d subscribers after a refused upgrade, want 0", n)
			}
		})
	}
}

func TestForeignHostIsRefusedEverywhere(t *testing.T) {
	ts, _ := startFaked(t)
	u, _ := url.Parse(ts.URL)
	_, port, _ := strings.Cut(u.Host, ":")
	paths := []string{"/", "/healthz", "/api/graph", "/live", "/static/app.js", "/panel/container/x", "/nope"}
	for _, p := range paths {
		for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1.nip.io:" + port} {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+p, nil)
			req.Host = host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMisdirectedRequest {
				t.Errorf("GET %s with Host %s = %d, want 421", p, host, resp.StatusCode)
			}
		}
		for _, host := range []string{"127.0.0.1:" + port, "localhost:" + port, "[::1]:" + port, "LOCALHOST:" + port} {
			if p == "/live" || p == "/nope" || p == "/panel/container/x" {
				continue
			}
			req, _ := http.NewRequest(http.MethodGet, ts.URL+p, nil)
			req.Host = host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET %s with Host %s = %d, want 200", p, host, resp.StatusCode)
			}
		}
	}
}

func TestSecurityHeaders(t *testing.T) {
	ts, _ := startFaked(t)
	resp, err := http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	csp := resp.Header.Get("Content-Security-Policy")
	for _, want := range []string{"frame-ancestors 'none'", "object-src 'none'", "script-src 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
		t.Errorf("CSP %q allows inline script or eval", csp)
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY",
	} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if src, ok := s.Attr("src"); !ok || src == "" {
			// JSON data blocks are not script, and CSP lets none run anyway.
			if typ, _ := s.Attr("type"); typ != "application/json" {
				t.Errorf("inline script in the page: %q", s.Text())
			}
		}
	})
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.HasPrefix(a.Key, "on") || a.Key == "style" {
				t.Errorf("inline %s attribute on <%s>", a.Key, goquery.NodeName(s))
			}
		}
	})
}

// GET /api/graph answers with the map as it is now. The map follows the
// fake engine here: that the map follows the real one is
// TestLiveSendsSnapshotThenDeltas's.
func TestGraphJSONIsTheSnapshot(t *testing.T) {
	ts, f := startFaked(t)
	id := strings.Repeat("2", 64)
	inv := fakeInventory()
	inv.Containers = append(inv.Containers, topology.Container{ID: id, Name: "later", Names: []string{"later"}, State: "running", NetworkMode: "bridge"})
	f.setInventory(inv)
	ts.Live.Refresh()
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		_, ok := ts.Live.Snapshot().Graph.Node(topology.ContainerNodeID(id))
		return ok, "container not in the graph yet"
	})
	resp, err := http.Get(ts.URL + "/api/graph")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	var got topology.Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got.Graph.Node(topology.ContainerNodeID(id)); !ok || got.Seq == 0 || !got.Engine.Connected {
		t.Errorf("GET /api/graph: seq %d, connected %v, container present %v", got.Seq, got.Engine.Connected, ok)
	}
}

func TestContainerPanelShowsEndpoint(t *testing.T) {
	ts, c := startSynced(t)
	id := dockertest.RunContainer(t, c, dockertest.WithLabel("note", `"><img src=x onerror=alert(1)><script>alert(2)</script>`))
	var ip string
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		for _, e := range ts.Live.Snapshot().Graph.EdgesOf(topology.ContainerNodeID(id)) {
			if e.Kind == topology.EdgeMember && e.Member.IP != "" {
				ip = e.Member.IP
			}
		}
		return ip != "", "no IP for the container yet"
	})
	for _, path := range []string{"/panel/container/" + url.PathEscape("c:"+id), "/panel/container/" + id} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", path, resp.StatusCode)
		}
		if got := strings.TrimSpace(doc.Find("[data-testid=ip]").First().Text()); !strings.Contains(got, ip) {
			t.Errorf("GET %s: ip cell %q, want %s", path, got, ip)
		}
		if doc.Find("script").Length() != 0 || doc.Find("img").Length() != 0 {
			t.Errorf("GET %s: a label became markup", path)
		}
	}
	resp, err := http.Get(ts.URL + "/panel/container/c:" + strings.Repeat("0", 64))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("panel of an unknown container = %d, want 404", resp.StatusCode)
	}
}

func TestAPIErrorsAreJSON(t *testing.T) {
	ts, _ := startFaked(t)
	resp, err := http.Get(ts.URL + "/api/nope")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Error, Detail string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusNotFound || body.Error == "" {
		t.Errorf("GET /api/nope = %d %+v (%v), want 404 with a JSON error", resp.StatusCode, body, err)
	}
}

func TestEngineUnreachableIsShown(t *testing.T) {
	dockertest.Client(t) // the real engine must be there; this test points away from it
	dead, err := docker.New(docker.WithHost("unix://" + t.TempDir() + "/no.sock"))
	if err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, dead)
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		e := ts.Live.Snapshot().Engine
		return !e.Connected && strings.Contains(e.LastError, "no.sock"), "engine state: " + e.LastError
	})
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	var h struct{ Status, Message string }
	_ = json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(h.Message, "engine unreachable: ") {
		t.Errorf("GET /healthz = %d %+v, want 200 saying engine unreachable", resp.StatusCode, h)
	}
	resp, err = http.Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if got := doc.Find("[data-testid=engine-badge]").Text(); !strings.Contains(got, "unreachable") {
		t.Errorf("engine badge %q, want it to say unreachable", got)
	}
}

func TestNetworkPanel(t *testing.T) {
	ts, c := startSynced(t)
	name := dockertest.UniqueName(t, "net")
	netID := dockertest.CreateNetwork(t, c, name)
	ctr := dockertest.RunContainer(t, c, dockertest.WithNetwork(name))
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		for _, e := range ts.Live.Snapshot().Graph.EdgesOf(topology.ContainerNodeID(ctr)) {
			if e.Kind == topology.EdgeMember && e.Member.IP != "" {
				return true, ""
			}
		}
		return false, "member edge not in the graph yet"
	})
	for _, path := range []string{"/panel/network/" + url.PathEscape("n:"+netID), "/panel/network/" + netID} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d (%v)", path, resp.StatusCode, err)
		}
		if got, _ := doc.Find("[data-testid=network-panel]").Attr("data-id"); got != "n:"+netID {
			t.Errorf("GET %s: panel data-id %q, want n:%s", path, got, netID)
		}
		if !strings.Contains(doc.Text(), name) {
			t.Errorf("GET %s: the panel does not name the network", path)
		}
	}
	resp, err := http.Get(ts.URL + "/panel/network/" + strings.Repeat("0", 64))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("panel of an unknown network = %d, want 404", resp.StatusCode)
	}
}

func TestVolumeAndBindPanels(t *testing.T) {
	ts, c := startSynced(t)
	vol := dockertest.CreateVolume(t, c, dockertest.UniqueName(t, "vol"))
	dir := t.TempDir()
	ctr := dockertest.RunContainer(t, c,
		dockertest.WithMount(docker.MountSpec{Type: "volume", Source: vol, Target: "/data"}),
		dockertest.WithMount(docker.MountSpec{Type: "bind", Source: dir, Target: "/host", ReadOnly: true}))
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		return len(ts.Live.Snapshot().Graph.EdgesOf(topology.ContainerNodeID(ctr))) >= 3, "mounts not in the graph yet"
	})
	for path, testid := range map[string]string{
		"/panel/volume/" + url.PathEscape("v:"+vol): "volume-panel",
		"/panel/volume/" + url.PathEscape(vol):      "volume-panel",
		"/panel/bind/" + url.PathEscape("b:"+dir):   "bind-panel",
	} {
		resp, err := http.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d (%v), want 200", path, resp.StatusCode, err)
			continue
		}
		if doc.Find("[data-testid="+testid+"]").Length() != 1 {
			t.Errorf("GET %s: no %s", path, testid)
		}
	}
}

// TestStaticVersionFolder: the pages' assets under /static/v/<version>/
// are this build's files, cached for good (the page's modules import each
// other by relative URLs, which carry the folder, so a reload asks for
// none of them again); the bare path is revalidated each time; a version
// folder climbs out of /static/ no more than the bare path does.
func TestStaticVersionFolder(t *testing.T) {
	ts, _ := startFaked(t)
	get := func(p string) (int, string, string) {
		t.Helper()
		resp, err := http.Get(ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, resp.Header.Get("Cache-Control"), string(body)
	}
	code, cc, bare := get("/static/graph.js")
	if code != http.StatusOK || cc != "no-cache" {
		t.Fatalf("GET /static/graph.js = %d, Cache-Control %q; want 200, no-cache", code, cc)
	}
	for _, p := range []string{"/static/v/abc-123/graph.js", "/static/v/other/graph.js", "/static/graph.js?v=abc"} {
		code, cc, body := get(p)
		if code != http.StatusOK || !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s = %d, Cache-Control %q; want 200, immutable", p, code, cc)
		}
		if body != bare {
			t.Errorf("GET %s is not /static/graph.js (%d bytes against %d)", p, len(body), len(bare))
		}
	}
	if code, _, _ := get("/static/v/abc/vendor/cytoscape-3.35.0.min.js"); code != http.StatusOK {
		t.Errorf("a vendored file under a version folder = %d, want 200", code)
	}
	for _, p := range []string{"/static/v/abc/../../api/graph", "/static/v/abc/%2e%2e/%2e%2e/api/graph", "/static/v/..%2f..%2fapi/graph"} {
		if code, _, body := get(p); code == http.StatusOK && strings.Contains(body, `"nodes"`) {
			t.Errorf("GET %s reached the API", p)
		}
	}
}
