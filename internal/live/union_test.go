package live

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// The Union joins its members' maps into one, with one seq of its own:
// another engine's IDs carry its name; an engine that is down holds
// nobody up, and its containers join once it answers; a Swarm a member
// manages is drawn. The engines are fakes for the seam a unit test cannot
// make a real engine show on demand (a daemon that refuses every call);
// TestMergedMapOfTheLab and TestSwarmOnTheMap (cmd/web) run real ones.
func TestUnionJoinsEngines(t *testing.T) {
	local, lab := newFake(), newFake()
	local.listFn = func() (topology.Inventory, error) { return inventoryOf("web"), nil }
	lab.listFn = func() (topology.Inventory, error) { return inventoryOf("web", "db"), nil }
	lab.setDown(true)
	localHub, labHub, page := hub.New(1024), hub.New(1024), hub.New(1024)
	sub := page.Subscribe(t.Context())
	lv := startLiveOn(t, localHub, local, WithName("local"))
	labLive := startLiveOn(t, labHub, lab, WithName("lab1"))
	var swarmReads atomic.Int32
	manager := func(context.Context) (topology.SwarmState, string, error) {
		swarmReads.Add(1)
		return topology.SwarmState{Active: true, ID: "sw", NodeID: "n1",
			Nodes:    []topology.SwarmNode{{ID: "n1", Hostname: "lab1", Role: "manager", State: "ready"}},
			Services: []topology.SwarmService{{ID: "s1", Name: "api", Mode: "replicated", Wanted: 1}}}, "n1", nil
	}
	u := NewUnion(page, slog.New(slog.NewTextHandler(io.Discard, nil)),
		Member{Name: "local", Live: lv, Hub: localHub}, Member{Name: "lab1", Live: labLive, Hub: labHub, Swarm: manager})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- u.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	has := func(id topology.NodeID) bool { _, ok := u.Snapshot().Node(id); return ok }
	waitUntil(t, "the local engine's web while lab1 is down", func() bool { return has("c:id-web") })
	if has("c:id-web@lab1") {
		t.Fatal("a down engine's containers on the map")
	}
	lab.setDown(false)
	waitUntil(t, "lab1's web and db once it answers", func() bool { return has("c:id-web@lab1") && has("c:id-db@lab1") })
	waitUntil(t, "lab1's Swarm drawn", func() bool { return has(topology.ServiceNodeID("s1")) && has(topology.SwarmNodeID("n1")) })
	if n, _ := u.Snapshot().Node("c:id-db@lab1"); n.Engine != "lab1" || n.Host != "lab1" {
		t.Errorf("lab1's db = engine %q host %q", n.Engine, n.Host)
	}

	// The page saw consecutive seqs, ending at the snapshot's.
	var last uint64
	for last < u.Snapshot().Seq {
		m := <-sub.C()
		if m.Type != protocol.TypeDelta {
			continue
		}
		var d topology.Delta
		if err := json.Unmarshal(m.Data, &d); err != nil {
			t.Fatal(err)
		}
		if d.Seq != last+1 {
			t.Fatalf("delta seq %d after %d", d.Seq, last)
		}
		last = d.Seq
	}

	// A View of lab1 is lab1's own graph: its Docker IDs as they are.
	if _, ok := u.View("lab1").Snapshot().Node("c:id-db"); !ok {
		t.Error("lab1's view lacks its own db by its own ID")
	}
	if swarmReads.Load() == 0 {
		t.Error("the manager's Swarm was never read")
	}
}
