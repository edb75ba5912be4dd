package timeline_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/timeline"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestMarks: each frame gets one short line, a frame type this dockmap
// does not know included; the latest marks of a range are kept, and
// audit marks only for operators.
func TestMarks(t *testing.T) {
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	inv := scene(3, 1)
	g0 := topology.Build(inv)
	inv.Containers[0].State = "exited"
	g1 := topology.Build(inv)
	d := topology.Diff(g0, g1)
	d.Seq = 1
	r := timeline.New()
	r.Keyframe(start, topology.Snapshot{Graph: g0})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Record(start.Add(time.Second), protocol.TypeDelta, protocol.Encode(&protocol.Delta{Delta: d})))
	must(r.Record(start.Add(2*time.Second), "lesson", []byte(`{"type":"lesson","lesson":{"id":"links","title":"step 2 done"}}`)))
	must(r.Record(start.Add(3*time.Second), protocol.TypeAudit, protocol.Encode(&protocol.Audit{Entry: protocol.AuditEntry{Role: "operator", Method: "POST", Route: "/api/links", Status: 202}})))
	want := []timeline.Mark{
		{T: start.Add(time.Second), Type: "delta", Text: inv.Containers[0].Name + " exited"},
		{T: start.Add(2 * time.Second), Type: "lesson", Text: "lesson step 2 done"},
		{T: start.Add(3 * time.Second), Type: "audit", Text: "operator POST /api/links: 202"},
	}
	if diff := cmp.Diff(want, r.Summary(true, time.Time{}, time.Time{}, 0).Marks); diff != "" {
		t.Errorf("operator's marks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[:2], r.Summary(false, time.Time{}, time.Time{}, 0).Marks); diff != "" {
		t.Errorf("viewer's marks (-want +got):\n%s", diff)
	}
	got := r.Summary(true, start.Add(time.Second), start.Add(2*time.Second), 1)
	if diff := cmp.Diff(want[1:2], got.Marks); diff != "" || !got.Truncated {
		t.Errorf("marks from 1 s to 2 s, at most 1 (-want +got), truncated %v:\n%s", got.Truncated, diff)
	}
}
