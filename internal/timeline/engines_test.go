package timeline_test

import (
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/timeline"
)

// TestEnginesFrameHasItsLine: an engine going away is a mark on the
// timeline that names it.
func TestEnginesFrameHasItsLine(t *testing.T) {
	r := timeline.New()
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	if err := r.Record(t0, protocol.TypeSnapshot, protocol.Encode(&protocol.Snapshot{})); err != nil {
		t.Fatal(err)
	}
	f := &protocol.Engines{Engines: []engines.State{{Name: "local", Connected: true}, {Name: "lab1", Connected: true}, {Name: "lab2", Error: "refused"}}}
	if err := r.Record(t0.Add(time.Second), protocol.TypeEngines, protocol.Encode(f)); err != nil {
		t.Fatal(err)
	}
	marks := r.Summary(true, time.Time{}, time.Time{}, 10).Marks
	if len(marks) != 1 || marks[0].Text != "engines 2/3 connected, lab2 unreachable" {
		t.Errorf("marks = %+v, want the engines frame's line", marks)
	}
}
