package server

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/plan"
)

// TestOrdersCarryThePlan: the engine adapter gets exactly the plan's
// containers, expectations and changes, structured, in the plan's order.
func TestOrdersCarryThePlan(t *testing.T) {
	p := &plan.Plan{Method: plan.MethodRecreate, Recreates: []plan.Recreate{
		{Container: plan.Ref{ID: "db", Name: "database"},
			Expect: plan.Expect{Name: "database", NetworkMode: "default", Networks: []string{"bridge"}, Running: true},
			Change: plan.Change{
				AddLinks:       []plan.Link{{Target: plan.Ref{ID: "x", Name: "x"}, Alias: "xx"}},
				RemoveLinks:    []string{"old"},
				AddMounts:      []plan.MountSpec{{Type: "volume", Source: "data", Target: "/data", ReadOnly: true}},
				AddVolumesFrom: []plan.VolumesFrom{{Donor: plan.Ref{ID: "donor"}, ReadOnly: true}},
			}},
		{Container: plan.Ref{ID: "web", Name: "web"}, Expect: plan.Expect{Name: "web"}, Change: plan.Change{Follow: []plan.Ref{{ID: "db"}}}},
	}}
	want := []docker.RecreateOrder{
		{ID: "db", Expect: docker.Expectation{Name: "database", NetworkMode: "default", Networks: []string{"bridge"}, Running: true},
			Change: docker.RecreateChange{
				AddLinks:       []docker.Link{{Target: "x", Alias: "xx"}},
				RemoveLinks:    []string{"old"},
				AddMounts:      []docker.MountSpec{{Type: "volume", Source: "data", Target: "/data", ReadOnly: true}},
				AddVolumesFrom: []string{"donor:ro"},
			}},
		{ID: "web", Expect: docker.Expectation{Name: "web"}, Follow: []string{"db"}},
	}
	if diff := cmp.Diff(want, orders(p)); diff != "" {
		t.Errorf("orders (-want +got):\n%s", diff)
	}
}
