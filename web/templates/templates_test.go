package templates_test

import (
	"bytes"
	"context"
	"io/fs"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"
	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web"
	"github.com/dockmap/dockmap/web/templates"
)

// IDs of the fixture: 64 hex digits each, as the engine hands them out.
var (
	webID      = strings.Repeat("a1", 32)
	databaseID = strings.Repeat("d4", 32)
	sidecarID  = strings.Repeat("5c", 32)
	bridgeID   = strings.Repeat("b0", 32)
	appnetID   = strings.Repeat("e7", 32)
	anonVolume = strings.Repeat("9f", 32)
)

// fixtureGraph is the tutorial's first chapter plus a user network and
// mounts: web links to database as "db", both sit on the default bridge, web
// is also on appnet, and sidecar borrows web's network namespace.
func fixtureGraph() topology.Graph {
	return topology.Build(topology.Inventory{
		Containers: []topology.Container{
			{
				ID: webID, Name: "web", Names: []string{"web"}, Image: "tomcat", Command: "catalina.sh run",
				State: "running", Status: "Up 3 minutes (healthy)",
				Labels: map[string]string{"workshop": "chapter-1"},
				Ports:  []topology.Port{{IP: "0.0.0.0", PrivatePort: 8080, PublicPort: 80, Type: "tcp"}},
				Endpoints: []topology.Endpoint{
					{NetworkID: bridgeID, NetworkName: "bridge", EndpointID: strings.Repeat("01", 32),
						IP: "172.17.0.2", PrefixLen: 16, Gateway: "172.17.0.1", MAC: "02:42:ac:11:00:02"},
					{NetworkID: appnetID, NetworkName: "appnet", EndpointID: strings.Repeat("02", 32),
						IP: "172.20.0.2", PrefixLen: 16, Gateway: "172.20.0.1", MAC: "02:42:ac:14:00:02",
						Aliases: []string{"frontend"}},
				},
				Mounts: []topology.Mount{
					{Type: "volume", Name: "data", Destination: "/data", RW: true},
					{Type: "bind", Source: "/srv/config", Destination: "/etc/app", RW: false, Mode: "ro"},
					{Type: "volume", Name: anonVolume, Destination: "/cache", RW: true},
					{Type: "tmpfs", Destination: "/run"},
				},
			},
			{
				ID: databaseID, Name: "database", Names: []string{"database", "web/db"}, Image: "mysql",
				State: "running", Status: "Up 5 minutes",
				Endpoints: []topology.Endpoint{
					{NetworkID: bridgeID, NetworkName: "bridge", EndpointID: strings.Repeat("03", 32),
						IP: "172.17.0.3", PrefixLen: 16, Gateway: "172.17.0.1", MAC: "02:42:ac:11:00:03"},
				},
			},
			{
				ID: sidecarID, Name: "sidecar", Names: []string{"sidecar"}, Image: "busybox",
				State: "exited", Status: "Exited (0) 2 seconds ago", NetworkMode: "container:" + webID,
			},
		},
		Networks: []topology.Network{
			{ID: bridgeID, Name: "bridge", Driver: "bridge", Scope: "local", ICC: true, Default: true},
			{ID: appnetID, Name: "appnet", Driver: "bridge", Scope: "local", ICC: true},
		},
		Volumes: []topology.Volume{
			{Name: "data", Driver: "local"},
			{Name: anonVolume, Driver: "local", Anonymous: true},
		},
	})
}

// operator is what an operator's request carries.
var operator = templates.Access{Role: "operator", CanAct: true}

// mustRender renders c for an operator and parses the result as a whole
// HTML document.
func mustRender(t *testing.T, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	return mustRenderAs(t, operator, c)
}

// mustRenderAs renders c for someone with access a.
func mustRenderAs(t *testing.T, a templates.Access, c templ.Component) (*goquery.Document, string) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.Render(templates.WithAccess(context.Background(), a), &buf); err != nil {
		t.Fatalf("Render: %v", err)
	}
	html := buf.String()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(html))
	if err != nil {
		t.Fatalf("parse rendered HTML: %v", err)
	}
	return doc, html
}

// mustPanel renders the container panel of the container with this ID.
func mustPanel(t *testing.T, g topology.Graph, containerID string) *goquery.Document {
	t.Helper()
	v, ok := templates.NewContainerPanelView(g, topology.ContainerNodeID(containerID))
	if !ok {
		t.Fatalf("NewContainerPanelView(%s) = false, want true", containerID)
	}
	doc, _ := mustRender(t, templates.ContainerPanel(v))
	return doc
}

func texts(s *goquery.Selection) []string {
	var out []string
	s.Each(func(_ int, s *goquery.Selection) { out = append(out, strings.Join(strings.Fields(s.Text()), " ")) })
	return out
}

func testText(s *goquery.Selection, testid string) string {
	return strings.Join(strings.Fields(s.Find(`[data-testid="`+testid+`"]`).First().Text()), " ")
}

func TestContainerPanelIdentity(t *testing.T) {
	doc := mustPanel(t, fixtureGraph(), webID)
	root := doc.Find(`[data-testid="container-panel"]`)
	if got, want := root.Length(), 1; got != want {
		t.Fatalf("container-panel count = %d, want %d", got, want)
	}
	if got, want := root.AttrOr("data-id", ""), "c:"+webID; got != want {
		t.Errorf("data-id = %q, want %q", got, want)
	}
	got := map[string]string{
		"container-name":    testText(root, "container-name"),
		"container-id":      testText(root, "container-id"),
		"container-image":   testText(root, "container-image"),
		"container-state":   testText(root, "container-state"),
		"container-health":  testText(root, "container-health"),
		"container-status":  testText(root, "container-status"),
		"container-command": testText(root, "container-command"),
		"port-private":      testText(root, "port-private"),
		"port-public":       testText(root, "port-public"),
		"port-type":         testText(root, "port-type"),
		"port-host-ip":      testText(root, "port-host-ip"),
		"tmpfs":             testText(root, "tmpfs"),
		"label-key":         testText(root, "label-key"),
		"label-value":       testText(root, "label-value"),
	}
	want := map[string]string{
		"container-name":    "web",
		"container-id":      webID[:12],
		"container-image":   "tomcat",
		"container-state":   "running",
		"container-health":  "healthy",
		"container-status":  "Up 3 minutes (healthy)",
		"container-command": "catalina.sh run",
		"port-private":      "8080",
		"port-public":       "80",
		"port-type":         "tcp",
		"port-host-ip":      "0.0.0.0",
		"tmpfs":             "/run",
		"label-key":         "workshop",
		"label-value":       "chapter-1",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("panel fields mismatch (-want +got):\n%s", diff)
	}
	if got, want := root.Find(`[data-testid="container-id"]`).AttrOr("title", ""), webID; got != want {
		t.Errorf("container-id title = %q, want %q", got, want)
	}
}

func TestContainerPanelNetworks(t *testing.T) {
	type endpoint struct{ IP, Gateway, MAC, Aliases, NetworkID, EndpointID string }
	doc := mustPanel(t, fixtureGraph(), webID)
	got := map[string]endpoint{}
	doc.Find(`[data-testid="network"]`).Each(func(_ int, s *goquery.Selection) {
		got[testText(s, "network-name")] = endpoint{
			IP:         testText(s, "ip"),
			Gateway:    testText(s, "gateway"),
			MAC:        testText(s, "mac"),
			Aliases:    testText(s, "aliases"),
			NetworkID:  testText(s, "network-id"),
			EndpointID: testText(s, "endpoint-id"),
		}
	})
	want := map[string]endpoint{
		"appnet": {IP: "172.20.0.2/16", Gateway: "172.20.0.1", MAC: "02:42:ac:14:00:02", Aliases: "frontend",
			NetworkID: appnetID[:12], EndpointID: strings.Repeat("02", 6)},
		"bridge": {IP: "172.17.0.2/16", Gateway: "172.17.0.1", MAC: "02:42:ac:11:00:02",
			NetworkID: bridgeID[:12], EndpointID: strings.Repeat("01", 6)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("networks mismatch (-want +got):\n%s", diff)
	}
	// The default bridge is called out: names do not resolve there.
	if got, want := texts(doc.Find(`[data-testid="network-default"]`)), []string{"default bridge"}; !cmp.Equal(got, want) {
		t.Errorf("network-default = %q, want %q", got, want)
	}
	if got, want := doc.Find(`[data-testid="network"]`).First().AttrOr("data-network", ""), "n:"+appnetID; got != want {
		t.Errorf("first network data-network = %q, want %q", got, want)
	}
}

func TestContainerPanelLinks(t *testing.T) {
	g := fixtureGraph()
	tests := []struct {
		name         string
		id           string
		wantOut      []string
		wantIn       []string
		wantOutPeers []string
	}{
		{name: "parent", id: webID, wantOut: []string{"→ db (database) ×"}, wantOutPeers: []string{"c:" + databaseID}},
		{name: "target", id: databaseID, wantIn: []string{"← from web as db"}},
		{name: "none", id: sidecarID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustPanel(t, g, tt.id)
			if got := texts(doc.Find(`[data-testid="link-out"]`)); !cmp.Equal(got, tt.wantOut) {
				t.Errorf("link-out = %q, want %q", got, tt.wantOut)
			}
			if got := texts(doc.Find(`[data-testid="link-in"]`)); !cmp.Equal(got, tt.wantIn) {
				t.Errorf("link-in = %q, want %q", got, tt.wantIn)
			}
			var peers []string
			doc.Find(`[data-testid="link-out"]`).Each(func(_ int, s *goquery.Selection) {
				peers = append(peers, s.AttrOr("data-peer", ""))
			})
			if !cmp.Equal(peers, tt.wantOutPeers) {
				t.Errorf("link-out data-peer = %q, want %q", peers, tt.wantOutPeers)
			}
		})
	}
}

func TestContainerPanelActions(t *testing.T) {
	g := fixtureGraph()
	tests := []struct {
		name string
		id   string
		want []string
	}{
		{name: "running", id: webID, want: []string{"stop", "restart", "force-remove"}},
		{name: "stopped", id: sidecarID, want: []string{"start", "remove", "force-remove"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustPanel(t, g, tt.id)
			var got []string
			doc.Find(`[data-testid="container-actions"] button`).Each(func(_ int, s *goquery.Selection) {
				a := s.AttrOr("data-action", "")
				got = append(got, a)
				if tid := s.AttrOr("data-testid", ""); tid != "action-"+a {
					t.Errorf("button %q data-testid = %q, want %q", a, tid, "action-"+a)
				}
				if s.AttrOr("type", "") != "button" {
					t.Errorf("button %q type = %q, want button", a, s.AttrOr("type", ""))
				}
			})
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("actions mismatch (-want +got):\n%s", diff)
			}
			if n := doc.Find(`[data-testid="action-error"][hidden]`).Length(); n != 1 {
				t.Errorf("hidden action-error count = %d, want 1", n)
			}
			art := doc.Find(`[data-testid="container-panel"]`)
			if got := art.AttrOr("data-container-id", ""); got != tt.id {
				t.Errorf("data-container-id = %q, want %q", got, tt.id)
			}
		})
	}
}

func TestContainerPanelPingAndLinkForms(t *testing.T) {
	doc := mustPanel(t, fixtureGraph(), webID)
	// Targets: every other container, by name, with its full ID as value.
	type option struct{ Value, Text string }
	var pings []option
	doc.Find(`[data-testid="ping-target"] option`).Each(func(_ int, s *goquery.Selection) {
		pings = append(pings, option{s.AttrOr("value", ""), strings.Join(strings.Fields(s.Text()), " ")})
	})
	want := []option{{databaseID, "database"}, {sidecarID, "sidecar (stopped)"}}
	if diff := cmp.Diff(want, pings); diff != "" {
		t.Errorf("ping targets mismatch (-want +got):\n%s", diff)
	}
	if got := doc.Find(`[data-testid="link-target"] option`).Length(); got != len(want) {
		t.Errorf("link targets = %d, want %d", got, len(want))
	}
	if got := doc.Find(`[data-testid="ping-by"] input:checked`).AttrOr("value", ""); got != "both" {
		t.Errorf("ping-by checked = %q, want both", got)
	}
	for _, id := range []string{"ping-by-ip", "ping-by-name", "ping-by-both", "ping-port", "ping-now", "ping-neighbours", "ping-results", "ping-error", "link-alias", "link-add"} {
		if n := doc.Find(`[data-testid="` + id + `"]`).Length(); n != 1 {
			t.Errorf("data-testid=%q count = %d, want 1", id, n)
		}
	}
	// The alias starts as the first target's name, as --link name does.
	if got := doc.Find(`[data-testid="link-alias"]`).AttrOr("value", ""); got != "database" {
		t.Errorf("link-alias = %q, want database", got)
	}
	// Each link out has its remove button, naming the alias.
	rm := doc.Find(`[data-testid="link-out"] [data-testid="link-remove"]`)
	if got := rm.AttrOr("data-alias", ""); rm.Length() != 1 || got != "db" {
		t.Errorf("link-remove count %d, data-alias %q; want 1, db", rm.Length(), got)
	}
	// A container alone has nothing to ping or link to.
	alone := topology.Build(topology.Inventory{Containers: []topology.Container{{ID: webID, Name: "web", State: "running"}}})
	doc = mustPanel(t, alone, webID)
	if n := doc.Find(`[data-testid="ping-no-target"]`).Length(); n != 1 {
		t.Errorf("ping-no-target count = %d, want 1", n)
	}
	if n := doc.Find(`[data-testid="add-link"]`).Length(); n != 0 {
		t.Errorf("add-link count = %d, want 0 with no other container", n)
	}
}

func TestContainerPanelMounts(t *testing.T) {
	type mount struct{ Type, Source, Access string }
	doc := mustPanel(t, fixtureGraph(), webID)
	got := map[string]mount{}
	doc.Find(`[data-testid="mount-row"]`).Each(func(_ int, s *goquery.Selection) {
		got[testText(s, "mount-destination")] = mount{
			Type:   testText(s, "mount-type"),
			Source: testText(s, "mount-source"),
			Access: testText(s, "mount-access"),
		}
		if ro := testText(s, "mount-access") == "ro"; ro != s.HasClass("ro") {
			t.Errorf("mount %s: class ro = %v, want %v", testText(s, "mount-destination"), s.HasClass("ro"), ro)
		}
	})
	want := map[string]mount{
		"/cache":   {Type: "volume", Source: anonVolume[:12] + " (anonymous)", Access: "rw"},
		"/data":    {Type: "volume", Source: "data", Access: "rw"},
		"/etc/app": {Type: "bind", Source: "/srv/config", Access: "ro"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mounts mismatch (-want +got):\n%s", diff)
	}
}

func TestContainerPanelNetNS(t *testing.T) {
	g := fixtureGraph()
	sidecar := mustPanel(t, g, sidecarID)
	if got, want := testText(sidecar.Selection, "netns-donor"), "shared with web"; got != want {
		t.Errorf("netns-donor = %q, want %q", got, want)
	}
	if got, want := testText(sidecar.Selection, "network-mode"), "container:"+webID; got != want {
		t.Errorf("network-mode = %q, want %q", got, want)
	}
	if got, want := testText(sidecar.Selection, "container-state"), "exited"; got != want {
		t.Errorf("container-state = %q, want %q", got, want)
	}
	if got, want := testText(sidecar.Selection, "no-networks"), "Not attached to any network."; got != want {
		t.Errorf("no-networks = %q, want %q", got, want)
	}
	web := mustPanel(t, g, webID)
	if got, want := texts(web.Find(`[data-testid="netns-user"]`)), []string{"sidecar"}; !cmp.Equal(got, want) {
		t.Errorf("netns-user = %q, want %q", got, want)
	}
}

func TestContainerPanelEscapesDockerText(t *testing.T) {
	const (
		evilName  = "<script>alert(1)</script>"
		evilLabel = `"><img src=x onerror=alert(1)>`
	)
	id := strings.Repeat("ee", 32)
	g := topology.Build(topology.Inventory{
		Containers: []topology.Container{{
			ID: id, Name: evilName, Names: []string{evilName}, Image: evilLabel, Command: evilName,
			State: "running", Status: evilLabel,
			Labels: map[string]string{evilLabel: evilLabel, "title": evilName},
			Mounts: []topology.Mount{{Type: "bind", Source: evilLabel, Destination: evilName}},
		}},
	})
	v, ok := templates.NewContainerPanelView(g, topology.ContainerNodeID(id))
	if !ok {
		t.Fatal("NewContainerPanelView = false, want true")
	}
	doc, html := mustRender(t, templates.ContainerPanel(v))
	if n := doc.Find("script").Length(); n != 0 {
		t.Errorf("script elements = %d, want 0; HTML:\n%s", n, html)
	}
	if n := doc.Find("img").Length(); n != 0 {
		t.Errorf("img elements = %d, want 0; HTML:\n%s", n, html)
	}
	if strings.Contains(html, "<script") || strings.Contains(html, "<img") {
		t.Errorf("HTML holds an unescaped tag:\n%s", html)
	}
	// Escaped, the text still reads exactly as Docker gave it.
	if got := testText(doc.Selection, "container-name"); got != evilName {
		t.Errorf("container-name = %q, want %q", got, evilName)
	}
	if got := testText(doc.Selection, "label-value"); got != evilLabel {
		t.Errorf("label-value = %q, want %q", got, evilLabel)
	}
	if got := doc.Find(`[data-testid="mount-source"]`).AttrOr("title", ""); got != evilLabel {
		t.Errorf("mount-source title = %q, want %q", got, evilLabel)
	}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("element <%s> has event handler attribute %s=%q", goquery.NodeName(s), a.Key, a.Val)
			}
		}
	})
}

func TestNewContainerPanelViewNotAContainer(t *testing.T) {
	g := fixtureGraph()
	tests := []struct {
		name string
		id   topology.NodeID
	}{
		{"unknown container", topology.ContainerNodeID(strings.Repeat("00", 32))},
		{"empty", ""},
		{"network", topology.NetworkNodeID(bridgeID)},
		{"volume", topology.VolumeNodeID("data")},
		{"bind", topology.BindNodeID("/srv/config")},
		{"bare container ID", topology.NodeID(webID)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if v, ok := templates.NewContainerPanelView(g, tt.id); ok {
				t.Errorf("NewContainerPanelView(%q) = %+v, true; want false", tt.id, v)
			}
		})
	}
	if _, ok := templates.NewContainerPanelView(topology.Graph{}, topology.ContainerNodeID(webID)); ok {
		t.Errorf("NewContainerPanelView(empty graph) = true, want false")
	}
}

func TestNewContainerPanelView(t *testing.T) {
	v, ok := templates.NewContainerPanelView(fixtureGraph(), topology.ContainerNodeID(databaseID))
	if !ok {
		t.Fatal("NewContainerPanelView = false, want true")
	}
	want := templates.ContainerPanelView{
		NodeID: topology.ContainerNodeID(databaseID), ID: databaseID, ShortID: databaseID[:12],
		Name: "database", Image: "mysql", State: "running", Status: "Up 5 minutes",
		Networks: []templates.EndpointView{{
			NetworkNodeID: topology.NetworkNodeID(bridgeID), NetworkName: "bridge",
			NetworkID: bridgeID, NetworkShortID: bridgeID[:12], Default: true,
			EndpointID: strings.Repeat("03", 32), EndpointShortID: strings.Repeat("03", 6),
			IP: "172.17.0.3", PrefixLen: 16, Gateway: "172.17.0.1", MAC: "02:42:ac:11:00:03",
		}},
		LinksIn: []templates.LinkView{{Alias: "db", Peer: templates.PeerView{NodeID: topology.ContainerNodeID(webID), Name: "web"}}},
		Targets: []templates.TargetView{
			{NodeID: topology.ContainerNodeID(sidecarID), ID: sidecarID, Name: "sidecar"},
			{NodeID: topology.ContainerNodeID(webID), ID: webID, Name: "web", Running: true},
		},
		// database is only on the default bridge: appnet is on offer.
		CanJoin:  true,
		Joinable: []templates.NetworkChoice{{NodeID: topology.NetworkNodeID(appnetID), ID: appnetID, Name: "appnet"}},
		// The named volume is on offer to mount; the anonymous one is not.
		Volumes: []templates.VolumeChoice{{NodeID: topology.VolumeNodeID("data"), Name: "data"}},
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("NewContainerPanelView mismatch (-want +got):\n%s", diff)
	}
}

func TestEndpointViewIPWithPrefix(t *testing.T) {
	tests := []struct {
		ip     string
		prefix int
		want   string
	}{
		{"172.17.0.2", 16, "172.17.0.2/16"},
		{"10.0.0.5", 0, "10.0.0.5"},
		{"", 16, ""},
	}
	for _, tt := range tests {
		if got := (templates.EndpointView{IP: tt.ip, PrefixLen: tt.prefix}).IPWithPrefix(); got != tt.want {
			t.Errorf("IPWithPrefix(%q, %d) = %q, want %q", tt.ip, tt.prefix, got, tt.want)
		}
	}
}

func TestTopologyPage(t *testing.T) {
	doc, html := mustRender(t, templates.TopologyPage(templates.PageView{
		AssetVersion: "v1.2.3",
		Engine:       topology.EngineState{Connected: true, Version: "20.10.24"},
	}))
	for _, id := range []string{
		"engine-badge", "live-status", "graph", "panel", "panel-empty", "event-feed", "event-list", "legend", "search",
		"run-open", "link-mode", "ping-selection", "watch-toggle", "matrix-toggle",
		"run-dialog", "run-image", "run-name", "run-cmd", "run-network", "run-submit", "pull-image", "pull-button",
		"link-dialog", "link-confirm", "link-recreate-dependents", "confirm-dialog", "confirm-ok",
		"matrix", "activity", "activity-list", "leftovers-banner", "graph-tooltip", "toast", "link-hint",
	} {
		if n := doc.Find(`[data-testid="` + id + `"]`).Length(); n != 1 {
			t.Errorf("data-testid=%q count = %d, want 1", id, n)
		}
	}
	if got, want := testText(doc.Selection, "engine-badge"), "connected · Docker 20.10.24"; got != want {
		t.Errorf("engine-badge = %q, want %q", got, want)
	}
	if got, want := testText(doc.Selection, "panel-empty"), "Click a container, a network or a volume to see its details"; got != want {
		t.Errorf("panel-empty = %q, want %q", got, want)
	}
	if got, want := doc.Find("#graph").AttrOr("data-testid", ""), "graph"; got != want {
		t.Errorf("#graph data-testid = %q, want %q", got, want)
	}
	if got, want := goquery.NodeName(doc.Find("#panel")), "aside"; got != want {
		t.Errorf("#panel element = %q, want %q", got, want)
	}
	if got, want := goquery.NodeName(doc.Find(`[data-testid="event-feed"]`)), "section"; got != want {
		t.Errorf("event-feed element = %q, want %q", got, want)
	}
	if n := doc.Find(`[data-testid="read-only"]`).Length(); n != 0 {
		t.Errorf("read-only marker count = %d, want 0", n)
	}

	// Scripts: vendored libraries in dependency order, then the module;
	// every one from /static/ under the asset version's folder (the
	// module's relative imports then carry it too).
	var srcs []string
	doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		src, ok := s.Attr("src")
		if !ok || strings.TrimSpace(s.Text()) != "" {
			t.Errorf("inline script: %s", s.Text())
		}
		srcs = append(srcs, src)
	})
	wantSrcs := []string{
		"/static/v/v1.2.3/vendor/cytoscape-3.35.0.min.js",
		"/static/v/v1.2.3/vendor/layout-base-2.0.1.js",
		"/static/v/v1.2.3/vendor/cose-base-2.2.0.js",
		"/static/v/v1.2.3/vendor/cytoscape-fcose-2.2.0.js",
		"/static/v/v1.2.3/app.js",
	}
	if diff := cmp.Diff(wantSrcs, srcs); diff != "" {
		t.Errorf("script srcs mismatch (-want +got):\n%s", diff)
	}
	if got, want := doc.Find("script").Last().AttrOr("type", ""), "module"; got != want {
		t.Errorf("app.js type = %q, want %q", got, want)
	}
	assertStrictCSP(t, doc, html)

	// Everything the page loads is embedded in web.Static.
	var assets []string
	doc.Find("script[src]").Each(func(_ int, s *goquery.Selection) { assets = append(assets, s.AttrOr("src", "")) })
	doc.Find("link[rel=stylesheet], link[rel=icon]").Each(func(_ int, s *goquery.Selection) { assets = append(assets, s.AttrOr("href", "")) })
	for _, a := range assets {
		u, err := url.Parse(a)
		if err != nil {
			t.Fatalf("parse %q: %v", a, err)
		}
		name := "static/" + strings.TrimPrefix(u.Path, "/static/v/v1.2.3/")
		if _, err := fs.Stat(web.Static, name); err != nil {
			t.Errorf("asset %s not embedded: %v", a, err)
		}
	}
}

// assertStrictCSP checks that the page needs no 'unsafe-inline': no style
// attribute or element, no inline handler, no javascript: URL.
func assertStrictCSP(t *testing.T, doc *goquery.Document, html string) {
	t.Helper()
	if n := doc.Find("style").Length(); n != 0 {
		t.Errorf("style elements = %d, want 0", n)
	}
	doc.Find("*").Each(func(_ int, s *goquery.Selection) {
		for _, a := range s.Nodes[0].Attr {
			if a.Key == "style" || strings.HasPrefix(a.Key, "on") || strings.HasPrefix(a.Key, "hx-on") {
				t.Errorf("<%s %s=%q> is not allowed under the CSP", goquery.NodeName(s), a.Key, a.Val)
			}
		}
	})
	if strings.Contains(strings.ToLower(html), "javascript:") {
		t.Errorf("page contains a javascript: URL")
	}
}

func TestTopologyPageEngineDown(t *testing.T) {
	// An operator of a dockmap started with --read-only.
	doc, _ := mustRenderAs(t, templates.Access{Role: "operator"}, templates.TopologyPage(templates.PageView{
		Engine:       topology.EngineState{LastError: "dial unix /var/run/docker.sock: connect: no such file or directory"},
		ReadOnlyMode: true,
	}))
	badge := doc.Find(`[data-testid="engine-badge"]`)
	if got, want := strings.TrimSpace(badge.Text()), "engine unreachable: dial unix /var/run/docker.sock: connect: no such file or directory"; got != want {
		t.Errorf("engine-badge = %q, want %q", got, want)
	}
	if !badge.HasClass("down") || badge.HasClass("ok") {
		t.Errorf("engine-badge class = %q, want down and not ok", badge.AttrOr("class", ""))
	}
	if n := doc.Find(`[data-testid="read-only"]`).Length(); n != 1 {
		t.Errorf("read-only marker count = %d, want 1", n)
	}
	// A viewer gets nothing that changes something.
	for _, id := range []string{"run-open", "link-mode", "ping-selection", "watch-toggle", "run-dialog", "link-dialog"} {
		if n := doc.Find(`[data-testid="` + id + `"]`).Length(); n != 0 {
			t.Errorf("read-only page: data-testid=%q count = %d, want 0", id, n)
		}
	}
	// Without an asset version, URLs carry no empty ?v=.
	if got, want := doc.Find("script").Last().AttrOr("src", ""), "/static/app.js"; got != want {
		t.Errorf("app.js src = %q, want %q", got, want)
	}
}

func TestLegend(t *testing.T) {
	doc, _ := mustRender(t, templates.Legend())
	want := []string{
		"container running", "container stopped", "unhealthy", "network", "default bridge",
		"volume", "anonymous volume", "bind mount", "link → alias", "broken link → removed", "membership (IP)",
		"mount rw", "mount ro", "netns (shared)", "volumes-from → donor", "tmpfs mount (double ring)",
		"Compose project (box)", "depends_on → dependency",
	}
	if diff := cmp.Diff(want, texts(doc.Find(`[data-testid="legend"] li`))); diff != "" {
		t.Errorf("legend mismatch (-want +got):\n%s", diff)
	}
}

func TestErrorPage(t *testing.T) {
	doc, html := mustRender(t, templates.ErrorPage(404, `no container "<b>x</b>"`))
	if got, want := testText(doc.Selection, "error-status"), "404 Not Found"; got != want {
		t.Errorf("error-status = %q, want %q", got, want)
	}
	if got, want := testText(doc.Selection, "error-message"), `no container "<b>x</b>"`; got != want {
		t.Errorf("error-message = %q, want %q", got, want)
	}
	if n := doc.Find("b").Length(); n != 0 {
		t.Errorf("b elements = %d, want 0 (message not escaped)", n)
	}
	if got, want := doc.Find("title").Text(), "Not Found · dockmap"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
	assertStrictCSP(t, doc, html)
}

func TestErrorPartial(t *testing.T) {
	doc, _ := mustRender(t, templates.ErrorPartial("container <i>gone</i>"))
	if got, want := testText(doc.Selection, "error"), "container <i>gone</i>"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	if n := doc.Find("i").Length(); n != 0 {
		t.Errorf("i elements = %d, want 0 (message not escaped)", n)
	}
}
