package templates_test

import (
	"testing"

	"github.com/PuerkitoBio/goquery"
	"github.com/a-h/templ"

	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web/templates"
)

var viewer = templates.Access{Role: "viewer", SignedIn: true}

// actionControls are the elements of a page that could change something.
const actionControls = `button[data-action], form[data-form], .operator, [data-testid="container-actions"], ` +
	`[data-testid="run-open"], [data-testid="link-mode"], [data-testid="ping-selection"], [data-testid="audit"], ` +
	`[data-testid="invite-open"], [data-testid="invite-dialog"]`

// A viewer's panels and page hold no action at all (not hidden ones), but
// keep what an operator's probes and share tests show live.
func TestViewerGetsNoActionControls(t *testing.T) {
	g := fixtureGraph()
	cv, ok := templates.NewContainerPanelView(g, topology.ContainerNodeID(webID))
	if !ok {
		t.Fatal("no web container in the fixture")
	}
	vv, _ := templates.NewVolumePanelView(g, topology.VolumeNodeID("data"))
	nv := *mustNetworkPanel(t, g, appnetID)
	page := templates.TopologyPage(templates.PageView{})
	for name, c := range map[string]templ.Component{
		"container panel": templates.ContainerPanel(cv),
		"volume panel":    templates.VolumePanel(vv),
		"network panel":   templates.NetworkPanel(nv),
		"page":            page,
	} {
		// The same component for an operator has actions: the check below
		// can fail.
		opDoc, _ := mustRender(t, c)
		if opDoc.Find(actionControls).Length() == 0 {
			t.Errorf("%s for an operator: no action controls found, the selector is wrong", name)
		}
		doc, _ := mustRenderAs(t, viewer, c)
		doc.Find(actionControls).Each(func(_ int, s *goquery.Selection) {
			h, _ := goquery.OuterHtml(s)
			t.Errorf("%s for a viewer has an action control: %.200s", name, h)
		})
	}
	doc, _ := mustRenderAs(t, viewer, templates.ContainerPanel(cv))
	for _, id := range []string{"ping-results", "reach-predictions"} {
		if doc.Find(`[data-testid="`+id+`"]`).Length() != 1 {
			t.Errorf("a viewer's container panel lacks %s: viewers see probe results live", id)
		}
	}
	doc, _ = mustRenderAs(t, viewer, page)
	if got := doc.Find(`[data-testid="role"]`).Text(); got != "viewer" {
		t.Errorf("role badge = %q, want viewer", got)
	}
	if doc.Find(`[data-testid="logout"]`).Length() != 1 {
		t.Error("a signed-in viewer cannot log out")
	}
}

// The suggested link alias is one the server accepts: a target named with
// dots suggests dashes.
func TestDefaultAliasHasNoDots(t *testing.T) {
	v := templates.ContainerPanelView{Targets: []templates.TargetView{{Name: "my.db.1"}}}
	if got := v.DefaultAlias(); got != "my-db-1" {
		t.Errorf("DefaultAlias() = %q, want my-db-1", got)
	}
	if err := topology.ValidateAlias(v.DefaultAlias()); err != nil {
		t.Errorf("the suggested alias is refused: %v", err)
	}
}

// Only an operator who may act, with access control on, is offered to
// invite someone: a viewer's page, a --read-only page and a page without
// access control have neither the button nor the dialog.
func TestInviteOnlyForSignedInOperators(t *testing.T) {
	const invite = `[data-testid="invite-open"], [data-testid="invite-dialog"]`
	page := templates.TopologyPage(templates.PageView{})
	for _, tc := range []struct {
		name string
		acc  templates.Access
		want int
	}{
		{"signed-in operator", templates.Access{Role: "operator", CanAct: true, SignedIn: true}, 2},
		{"viewer", viewer, 0},
		{"operator, read-only", templates.Access{Role: "operator", SignedIn: true}, 0},
		{"no access control", templates.Access{Role: "operator", CanAct: true}, 0},
	} {
		doc, _ := mustRenderAs(t, tc.acc, page)
		if got := doc.Find(invite).Length(); got != tc.want {
			t.Errorf("%s: %d invite elements, want %d", tc.name, got, tc.want)
		}
	}
}
