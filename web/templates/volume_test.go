package templates_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web/templates"
)

func TestNewVolumePanelView(t *testing.T) {
	v, ok := templates.NewVolumePanelView(fixtureGraph(), topology.VolumeNodeID("data"))
	if !ok {
		t.Fatal("NewVolumePanelView = false, want true")
	}
	want := templates.VolumePanelView{
		NodeID: topology.VolumeNodeID("data"), Name: "data", ShortName: "data", Driver: "local",
		Users: []templates.VolumeUserView{{
			NodeID: topology.ContainerNodeID(webID), ContainerID: webID, Name: "web", Running: true, Destination: "/data",
		}},
	}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("NewVolumePanelView mismatch (-want +got):\n%s", diff)
	}
	if !v.InUse() || v.UserNames() != "web" {
		t.Errorf("InUse, UserNames = %v, %q, want true, \"web\"", v.InUse(), v.UserNames())
	}
}

func TestNewVolumePanelViewAnonymous(t *testing.T) {
	v, ok := templates.NewVolumePanelView(fixtureGraph(), topology.VolumeNodeID(anonVolume))
	if !ok {
		t.Fatal("NewVolumePanelView = false, want true")
	}
	if !v.Anonymous || v.ShortName != anonVolume[:12] {
		t.Errorf("Anonymous, ShortName = %v, %q, want true, %q", v.Anonymous, v.ShortName, anonVolume[:12])
	}
}

func TestNewVolumePanelViewNotAVolume(t *testing.T) {
	for _, id := range []topology.NodeID{topology.ContainerNodeID(webID), topology.VolumeNodeID("nope"), topology.BindNodeID("/srv/config")} {
		if _, ok := templates.NewVolumePanelView(fixtureGraph(), id); ok {
			t.Errorf("NewVolumePanelView(%s) = true, want false", id)
		}
	}
}

func TestVolumePanel(t *testing.T) {
	v, _ := templates.NewVolumePanelView(fixtureGraph(), topology.VolumeNodeID("data"))
	doc, _ := mustRender(t, templates.VolumePanel(v))
	root := doc.Find(`[data-testid="volume-panel"]`)
	if got, _ := root.Attr("data-id"); got != "v:data" {
		t.Errorf("data-id = %q, want v:data", got)
	}
	if got, _ := root.Attr("data-in-use"); got != "yes" {
		t.Errorf("data-in-use = %q, want yes", got)
	}
	for _, id := range []string{"volume-size", "volume-share-test", "volume-remove", "share-results", "volume-usage"} {
		if root.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			t.Errorf("no %s in the volume panel", id)
		}
	}
	if got, want := texts(root.Find(`[data-testid="volume-user"] td`)), []string{"web", "/data", "rw"}; !cmp.Equal(got, want) {
		t.Errorf("volume users = %q, want %q", got, want)
	}
}

func TestVolumePanelEscapesDockerText(t *testing.T) {
	v := templates.VolumePanelView{NodeID: "v:x", Name: `<img src=x onerror=alert(1)>`, ShortName: `<img src=x onerror=alert(1)>`,
		Labels: []templates.LabelView{{Key: "<b>", Value: "<script>"}}}
	doc, html := mustRender(t, templates.VolumePanel(v))
	if doc.Find("img, b, script").Length() != 0 {
		t.Errorf("Docker text became markup:\n%s", html)
	}
}

func TestBindPanel(t *testing.T) {
	v, ok := templates.NewBindPanelView(fixtureGraph(), topology.BindNodeID("/srv/config"))
	if !ok {
		t.Fatal("NewBindPanelView = false, want true")
	}
	doc, _ := mustRender(t, templates.BindPanel(v))
	if got := testText(doc.Selection, "bind-title"); got != "/srv/config" {
		t.Errorf("bind-title = %q, want /srv/config", got)
	}
	if got, want := texts(doc.Find(`[data-testid="volume-user"] td`)), []string{"web", "/etc/app", "ro"}; !cmp.Equal(got, want) {
		t.Errorf("bind users = %q, want %q", got, want)
	}
}

func TestContainerPanelMountForm(t *testing.T) {
	doc := mustPanel(t, fixtureGraph(), databaseID)
	form := doc.Find(`[data-testid="mount-form"]`)
	if form.Length() != 1 {
		t.Fatal("no mount-form in the container panel")
	}
	if got, want := texts(form.Find(`[data-testid="mount-volume"] option`)), []string{"data"}; !cmp.Equal(got, want) {
		t.Errorf("mount-volume options = %q, want %q (named volumes only)", got, want)
	}
	if form.Find(`[data-testid="mount-kind-bind"]`).Length() != 0 {
		t.Errorf("host path offered though binds are not allowed")
	}
	v, _ := templates.NewContainerPanelView(fixtureGraph(), topology.ContainerNodeID(databaseID))
	v.BindsAllowed = true
	doc, _ = mustRender(t, templates.ContainerPanel(v))
	if doc.Find(`[data-testid="mount-kind-bind"]`).Length() != 1 {
		t.Errorf("host path not offered though binds are allowed")
	}
}

func TestTopologyPageVolumeControls(t *testing.T) {
	doc, _ := mustRender(t, templates.TopologyPage(templates.PageView{}))
	for _, id := range []string{"volume-open", "volume-dialog", "mount-dialog", "mount-lost", "link-lost", "link-recreate-dependents"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			t.Errorf("no %s on the page", id)
		}
	}
	doc, _ = mustRenderAs(t, viewer, templates.TopologyPage(templates.PageView{}))
	for _, id := range []string{"volume-open", "volume-dialog", "mount-dialog"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() != 0 {
			t.Errorf("%s on a read-only page", id)
		}
	}
}
