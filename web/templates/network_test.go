package templates_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web/templates"
)

// mustNetworkPanel renders the network panel of the network with this ID.
func mustNetworkPanel(t *testing.T, g topology.Graph, networkID string) *templates.NetworkPanelView {
	t.Helper()
	v, ok := templates.NewNetworkPanelView(g, topology.NetworkNodeID(networkID))
	if !ok {
		t.Fatalf("NewNetworkPanelView(%s) = false, want true", networkID)
	}
	return &v
}

func TestNewNetworkPanelView(t *testing.T) {
	v := mustNetworkPanel(t, fixtureGraph(), appnetID)
	want := templates.NetworkPanelView{
		NodeID: topology.NetworkNodeID(appnetID), ID: appnetID, ShortID: appnetID[:12],
		Name: "appnet", Driver: "bridge", Scope: "local", ICC: true,
		Members: []templates.NetworkMemberView{{
			NodeID: topology.ContainerNodeID(webID), ContainerID: webID, Name: "web", Running: true,
			IP: "172.20.0.2", PrefixLen: 16, MAC: "02:42:ac:14:00:02", EndpointID: strings.Repeat("02", 32),
			Aliases: []string{"frontend"},
		}},
		// sidecar shares web's stack (container: mode): it cannot join.
		Candidates: []templates.TargetView{
			{NodeID: topology.ContainerNodeID(databaseID), ID: databaseID, Name: "database", Running: true},
		},
	}
	if diff := cmp.Diff(want, *v); diff != "" {
		t.Errorf("NewNetworkPanelView mismatch (-want +got):\n%s", diff)
	}
}

func TestNewNetworkPanelViewNotANetwork(t *testing.T) {
	g := fixtureGraph()
	for _, id := range []topology.NodeID{topology.ContainerNodeID(webID), topology.NetworkNodeID(strings.Repeat("00", 32)), "", topology.VolumeNodeID("data")} {
		if v, ok := templates.NewNetworkPanelView(g, id); ok {
			t.Errorf("NewNetworkPanelView(%q) = %+v, true; want false", id, v)
		}
	}
}

func TestNetworkPanel(t *testing.T) {
	doc, _ := mustRender(t, templates.NetworkPanel(*mustNetworkPanel(t, fixtureGraph(), appnetID)))
	root := doc.Find(`[data-testid="network-panel"]`)
	if got, want := root.AttrOr("data-id", ""), "n:"+appnetID; got != want {
		t.Errorf("data-id = %q, want %q", got, want)
	}
	got := map[string]string{
		"network-title":      testText(root, "network-title"),
		"network-driver":     testText(root, "network-driver"),
		"network-scope":      testText(root, "network-scope"),
		"network-internal":   root.Find(`[data-testid="network-internal"]`).AttrOr("data-value", ""),
		"network-icc":        root.Find(`[data-testid="network-icc"]`).AttrOr("data-value", ""),
		"network-attachable": root.Find(`[data-testid="network-attachable"]`).AttrOr("data-value", ""),
		"member-name":        testText(root, "member-name"),
		"member-ip":          testText(root, "member-ip"),
		"member-mac":         testText(root, "member-mac"),
		"member-aliases":     testText(root, "member-aliases"),
	}
	want := map[string]string{
		"network-title": "appnet", "network-driver": "bridge", "network-scope": "local",
		"network-internal": "no", "network-icc": "yes", "network-attachable": "no",
		"member-name": "web", "member-ip": "172.20.0.2/16", "member-mac": "02:42:ac:14:00:02", "member-aliases": "frontend",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("network panel (-want +got):\n%s", diff)
	}
	if got := root.Find(`[data-testid="member-detach"]`).AttrOr("data-container-id", ""); got != webID {
		t.Errorf("member-detach data-container-id = %q, want %q", got, webID)
	}
	if got := texts(root.Find(`[data-testid="attach-container"] option`)); !cmp.Equal(got, []string{"database"}) {
		t.Errorf("attach-container options = %q, want [database]", got)
	}
	// One member: nothing to ping between; removable, with its members named.
	if root.Find(`[data-testid="ping-members"]`).Length() != 0 {
		t.Errorf("ping-members shown for a network with one member")
	}
	if got := root.Find(`[data-testid="network-remove"]`).AttrOr("data-members", ""); got != "web" {
		t.Errorf("network-remove data-members = %q, want \"web\"", got)
	}
}

func TestNetworkPanelDefaultBridge(t *testing.T) {
	doc, _ := mustRender(t, templates.NetworkPanel(*mustNetworkPanel(t, fixtureGraph(), bridgeID)))
	root := doc.Find(`[data-testid="network-panel"]`)
	if root.Find(`[data-testid="network-remove"]`).Length() != 0 {
		t.Errorf("the default bridge offers Remove")
	}
	if got := len(texts(root.Find(`[data-testid="network-member"]`))); got != 2 {
		t.Errorf("bridge members = %d, want 2 (web, database)", got)
	}
	if root.Find(`[data-testid="ping-members"]`).Length() != 1 {
		t.Errorf("ping-members missing for two members")
	}
	if got := testText(root, "network-default"); got != "default bridge" {
		t.Errorf("network-default = %q", got)
	}
}

func TestNetworkPanelEscapesDockerText(t *testing.T) {
	g := fixtureGraph()
	for i := range g.Nodes {
		if n := g.Nodes[i].Network; n != nil && n.ID == appnetID {
			n.Name = `<script>alert(1)</script>`
			n.Options = map[string]string{`<b>k</b>`: `<img src=x onerror=alert(1)>`}
		}
	}
	_, html := mustRender(t, templates.NetworkPanel(*mustNetworkPanel(t, g, appnetID)))
	for _, bad := range []string{"<script>alert", "<img src=x", "<b>k</b>"} {
		if strings.Contains(html, bad) {
			t.Errorf("rendered panel contains %q unescaped", bad)
		}
	}
}

func TestContainerPanelAttachAndDetach(t *testing.T) {
	doc := mustPanel(t, fixtureGraph(), databaseID)
	root := doc.Find(`[data-testid="container-panel"]`)
	if got := texts(root.Find(`[data-testid="attach-network"] option`)); !cmp.Equal(got, []string{"appnet"}) {
		t.Errorf("attach-network options = %q, want [appnet]", got)
	}
	d := root.Find(`[data-testid="network-detach"]`)
	if d.Length() != 1 || d.AttrOr("data-network-id", "") != bridgeID || d.AttrOr("data-last", "") != "yes" {
		t.Errorf("network-detach: %d buttons, network %q, last %q; want 1, bridge, yes", d.Length(), d.AttrOr("data-network-id", ""), d.AttrOr("data-last", ""))
	}
	// sidecar lives in web's stack: it can neither attach nor detach.
	side := mustPanel(t, fixtureGraph(), sidecarID).Find(`[data-testid="container-panel"]`)
	if n := side.Find(`[data-testid="attach-form"], [data-testid="network-detach"]`).Length(); n != 0 {
		t.Errorf("container: mode panel has %d attach/detach controls, want 0", n)
	}
}

func TestTopologyPageNetworkControls(t *testing.T) {
	doc, _ := mustRender(t, templates.TopologyPage(templates.PageView{}))
	for _, id := range []string{"network-open", "network-dialog", "attach-dialog", "selection-prediction"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			t.Errorf("page has no %s", id)
		}
	}
	ro, _ := mustRenderAs(t, viewer, templates.TopologyPage(templates.PageView{}))
	if ro.Find(`[data-testid="network-open"], [data-testid="network-dialog"]`).Length() != 0 {
		t.Errorf("read-only page offers to create a network")
	}
}
