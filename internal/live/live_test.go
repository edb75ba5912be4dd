package live

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// fakeSource is a hand-written fake used only for the seams a real engine
// cannot be made to show on demand in a unit test: a daemon that refuses
// every call, and an event burst of exact size. The real engine is exercised
// in live_engine_test.go.
type fakeSource struct {
	mu       sync.Mutex
	listFn   func() (topology.Inventory, error)
	lists    int
	versions int
	down     bool
	events   chan docker.Event
	watchErr chan error
	since    []time.Time
	listedAt []time.Time
	watches  atomic.Int32
}

func newFake() *fakeSource {
	return &fakeSource{events: make(chan docker.Event, 1000), watchErr: make(chan error, 1)}
}

func (f *fakeSource) ListInventory(context.Context) (topology.Inventory, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	f.listedAt = append(f.listedAt, time.Now())
	if f.down {
		return topology.Inventory{}, fmt.Errorf("list: %w", topology.ErrEngineUnreachable)
	}
	if f.listFn != nil {
		return f.listFn()
	}
	return topology.Inventory{}, nil
}

func (f *fakeSource) Version(context.Context) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.versions++
	if f.down {
		return "", "", fmt.Errorf("version: %w: dial unix: connection refused", topology.ErrEngineUnreachable)
	}
	return "99.0", "1.41", nil
}

func (f *fakeSource) WatchEvents(ctx context.Context, since time.Time, fn func(docker.Event)) error {
	f.watches.Add(1)
	f.mu.Lock()
	f.since = append(f.since, since)
	f.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-f.watchErr:
			return err
		case e := <-f.events:
			fn(e)
		}
	}
}

func (f *fakeSource) counts() (lists, versions int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lists, f.versions
}

func (f *fakeSource) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func inventoryOf(names ...string) topology.Inventory {
	var inv topology.Inventory
	for _, n := range names {
		inv.Containers = append(inv.Containers, topology.Container{ID: "id-" + n, Name: n, Names: []string{n}, State: "running"})
	}
	return inv
}

func startLive(t *testing.T, src Source, opts ...Option) (*Live, *hub.Hub) {
	t.Helper()
	h := hub.New(1024)
	return startLiveOn(t, h, src, opts...), h
}

// startLiveOn runs a Live on a hub the test may already listen to, so no
// message published in the first moments is missed.
func startLiveOn(t *testing.T, h *hub.Hub, src Source, opts ...Option) *Live {
	t.Helper()
	l := New(src, h, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil after cancel", err)
		}
	})
	return l
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestSubscribesBeforeFirstList(t *testing.T) {
	f := newFake()
	l, _ := startLive(t, f)
	<-l.Synced()
	// The watch runs in its own goroutine, which a loaded machine may
	// start after the first list: what matters is the time it asks the
	// engine to replay from, checked below.
	waitUntil(t, "the watch", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.since) > 0
	})
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.since) == 0 || len(f.listedAt) == 0 {
		t.Fatalf("watches %d, lists %d: want both", len(f.since), len(f.listedAt))
	}
	// Events from `since` on are replayed by the engine, so the watch covers
	// everything that happened from before the first list.
	if !f.since[0].Before(f.listedAt[0]) {
		t.Errorf("watch since %v is not before the first list at %v", f.since[0], f.listedAt[0])
	}
}

func TestBurstIsCoalesced(t *testing.T) {
	f := newFake()
	var n atomic.Int32
	f.listFn = func() (topology.Inventory, error) {
		n.Add(1)
		return inventoryOf(fmt.Sprint("c", n.Load())), nil
	}
	// The window is wide so that the whole burst lands in one or two of
	// them even when a loaded machine feeds it through slowly.
	l, _ := startLive(t, f, WithCoalesceWindow(500*time.Millisecond))
	<-l.Synced()
	before, _ := f.counts()
	for i := 0; i < 500; i++ {
		f.events <- docker.Event{Type: "container", Action: "start", ID: fmt.Sprint(i)}
	}
	waitUntil(t, "a re-list after the burst", func() bool { c, _ := f.counts(); return c > before })
	time.Sleep(200 * time.Millisecond)
	after, _ := f.counts()
	if got := after - before; got > 3 {
		t.Errorf("500 events caused %d re-lists, want at most 3", got)
	}
}

func TestExecEventsDoNotTriggerRelist(t *testing.T) {
	f := newFake()
	l, h := startLive(t, f, WithCoalesceWindow(time.Millisecond))
	sub := h.Subscribe(t.Context())
	<-l.Synced()
	before, _ := f.counts()
	for i := 0; i < 50; i++ {
		f.events <- docker.Event{Type: "container", Action: "exec_start: ping -c1 db", ID: "x"}
		f.events <- docker.Event{Type: "container", Action: "start", ID: "helper", Helper: true}
	}
	f.events <- docker.Event{Type: "container", Action: "die", ID: "x"} // a marker that does re-list
	waitUntil(t, "the marker's re-list", func() bool { c, _ := f.counts(); return c > before })
	time.Sleep(50 * time.Millisecond)
	if after, _ := f.counts(); after-before != 1 {
		t.Errorf("re-lists = %d, want 1 (only the die event; exec and helper events are noise)", after-before)
	}
	// The feed carries the die event and none of the exec noise.
	for {
		select {
		case m := <-sub.C():
			if m.Type == "event" {
				var fr protocol.Event
				if err := json.Unmarshal(m.Data, &fr); err != nil {
					t.Fatal(err)
				}
				if fr.Event.IsExec() || fr.Event.FromHelper() {
					t.Fatalf("probe noise reached the feed: %+v", fr.Event)
				}
				if fr.Event.Action == "die" {
					return
				}
			}
		case <-time.After(2 * time.Second):
			t.Fatal("die event never reached the feed")
		}
	}
}

// fakeListing is a fake engine that lists the containers named so far;
// add names one more, as a change the engine made.
func fakeListing() (*fakeSource, func(name string)) {
	f := newFake()
	var names []string
	var mu sync.Mutex
	f.listFn = func() (topology.Inventory, error) {
		mu.Lock()
		defer mu.Unlock()
		return inventoryOf(names...), nil
	}
	return f, func(name string) {
		mu.Lock()
		defer mu.Unlock()
		names = append(names, name)
	}
}

func TestDeltasHaveConsecutiveSeqs(t *testing.T) {
	f, add := fakeListing()
	l, _ := startLive(t, f, WithCoalesceWindow(0))
	<-l.Synced()
	snap, sub := l.Subscribe(t.Context())
	for i := 0; i < 5; i++ {
		add(fmt.Sprint("c", i))
		f.events <- docker.Event{Type: "container", Action: "create"}
		waitUntil(t, "the container in the graph", func() bool { return len(l.Snapshot().Nodes) == i+1 })
	}
	want := snap.Seq + 1
	for want <= snap.Seq+5 {
		m := <-sub.C()
		if m.Type != "delta" {
			continue
		}
		if m.Seq != want {
			t.Fatalf("delta seq %d, want %d", m.Seq, want)
		}
		var fr protocol.Delta
		if err := json.Unmarshal(m.Data, &fr); err != nil {
			t.Fatal(err)
		}
		if fr.Type != "delta" || fr.Seq != m.Seq || len(fr.AddedNodes) != 1 {
			t.Fatalf("frame = %+v, want one added node at seq %d", fr, m.Seq)
		}
		want++
	}
}

func TestEngineDownThenBack(t *testing.T) {
	f := newFake()
	f.listFn = func() (topology.Inventory, error) { return inventoryOf("web"), nil }
	f.setDown(true)
	// Listen before Live runs: the first "down" message goes out at once.
	h := hub.New(1024)
	sub := h.Subscribe(t.Context())
	l := startLiveOn(t, h, f)
	waitUntil(t, "the disconnected state", func() bool {
		e := l.Engine()
		return !e.Connected && e.LastError != "" && e.LastError != "connecting to the engine"
	})
	if got := l.Engine().LastError; !strings.Contains(got, "connection refused") {
		t.Errorf("LastError = %q, want the engine's reason", got)
	}
	// Retries go on while down: the attempt count grows.
	_, v1 := f.counts()
	waitUntil(t, "more retries", func() bool { _, v := f.counts(); return v >= v1+2 })

	f.setDown(false)
	waitUntil(t, "reconnect", func() bool { return l.Engine().Connected })
	if l.Engine().Version != "99.0" {
		t.Errorf("Version = %q, want 99.0", l.Engine().Version)
	}
	if len(l.Snapshot().Nodes) != 1 {
		t.Errorf("nodes after resync = %d, want 1", len(l.Snapshot().Nodes))
	}
	var sawDown, sawUp bool
	for !sawUp {
		select {
		case m := <-sub.C():
			if m.Type == "engine" {
				var fr protocol.Engine
				_ = json.Unmarshal(m.Data, &fr)
				sawDown = sawDown || !fr.Engine.Connected
				sawUp = sawDown && fr.Engine.Connected
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("engine messages: down %v, up %v; want both", sawDown, sawUp)
		}
	}
}

func TestStreamEndResyncsAndRewatches(t *testing.T) {
	f, add := fakeListing()
	l, _ := startLive(t, f)
	<-l.Synced()
	time.Sleep(1100 * time.Millisecond) // a session older than the tight-loop guard
	// A change the stream never told us about (the engine drops events):
	add("missed")
	f.watchErr <- fmt.Errorf("watch events: %w", io.ErrUnexpectedEOF)
	waitUntil(t, "the missed container after resync", func() bool { return len(l.Snapshot().Nodes) == 1 })
	waitUntil(t, "a second watch", func() bool { return f.watches.Load() >= 2 })
	if !l.Engine().Connected {
		t.Errorf("engine shown disconnected after a routine stream end")
	}
}

func TestBackoffIsCappedAndJittered(t *testing.T) {
	seen := map[time.Duration]bool{}
	for attempt := 1; attempt < 100; attempt++ {
		d := backoff(attempt)
		if d < backoffMin/2 || d >= backoffMax {
			t.Fatalf("backoff(%d) = %v, want in [%v, %v)", attempt, d, backoffMin/2, backoffMax)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Errorf("only %d distinct delays in 99 attempts: not jittered", len(seen))
	}
	if d := backoff(1); d >= backoffMin {
		t.Errorf("first retry waits %v, want < %v", d, backoffMin)
	}
}

func TestRefreshRelistsWithoutAnEvent(t *testing.T) {
	f, add := fakeListing()
	l, _ := startLive(t, f)
	<-l.Synced()
	// A change the engine reports no event for (removing a legacy link).
	add("quiet")
	l.Refresh()
	waitUntil(t, "the change after Refresh", func() bool { return len(l.Snapshot().Nodes) == 1 })
}

// TestSyncListsAfterTheCall: Sync answers with a list that began after it
// was asked, so a change the engine made just before (and told no event
// of) is in it; while the engine is down it says so at once.
func TestSyncListsAfterTheCall(t *testing.T) {
	f, add := fakeListing()
	l, _ := startLive(t, f)
	<-l.Synced()
	for i := range 20 {
		add(fmt.Sprintf("c%d", i))
		snap, err := l.Sync(t.Context())
		if err != nil {
			t.Fatalf("Sync: %v", err)
		}
		if len(snap.Nodes) != i+1 {
			t.Fatalf("Sync after the %dth change has %d containers, want %d", i+1, len(snap.Nodes), i+1)
		}
	}

	f.mu.Lock()
	f.down = true
	f.mu.Unlock()
	f.watchErr <- fmt.Errorf("stream: %w", topology.ErrEngineUnreachable)
	waitUntil(t, "the engine shown down", func() bool { return !l.Engine().Connected })
	if _, err := l.Sync(t.Context()); !errors.Is(err, topology.ErrEngineUnreachable) {
		t.Errorf("Sync while down = %v, want ErrEngineUnreachable", err)
	}
}

// TestOnEngineHearsEveryChange: WithOnEngine is told each state the
// engine frame carries, down and up again, and nothing more.
func TestOnEngineHearsEveryChange(t *testing.T) {
	f := newFake()
	var mu sync.Mutex
	var heard []topology.EngineState
	l, _ := startLive(t, f, WithOnEngine(func(e topology.EngineState) {
		mu.Lock()
		defer mu.Unlock()
		heard = append(heard, e)
	}))
	last := func() (topology.EngineState, int) {
		mu.Lock()
		defer mu.Unlock()
		if len(heard) == 0 {
			return topology.EngineState{}, 0
		}
		return heard[len(heard)-1], len(heard)
	}
	waitUntil(t, "connected heard", func() bool { e, _ := last(); return e.Connected && e.Version == "99.0" })
	f.setDown(true)
	f.watchErr <- errors.New("stream cut")
	waitUntil(t, "down heard", func() bool { e, _ := last(); return !e.Connected && e.LastError != "" })
	f.setDown(false)
	waitUntil(t, "up again heard", func() bool { e, _ := last(); return e.Connected })
	if e, n := last(); n != 3 || e != l.Engine() {
		t.Errorf("heard %d states, the last %+v; want 3, the last the engine's %+v", n, e, l.Engine())
	}
}
