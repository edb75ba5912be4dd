package live

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// Member is one engine of a Union: its Live, which publishes to a hub of
// its own (never the page's), and that hub.
type Member struct {
	Name string
	Live *Live
	Hub  *hub.Hub
	// Swarm, when set, reads the engine's place in a Swarm (SwarmFunc).
	Swarm SwarmFunc
}

// SwarmFunc reads an engine's Swarm: the whole state when the engine is
// an active manager, and in any case the engine's own Swarm node ID ("" in
// no Swarm), which says which host of a Swarm the engine is.
type SwarmFunc func(ctx context.Context) (st topology.SwarmState, nodeID string, err error)

// swarmPoll is how often the members' Swarms are read. The engine sends
// events for services and nodes but none for tasks, and a node found down
// changes only the managers' word: so they are asked, often enough to
// follow the Swarm's own detection (several seconds) closely.
const swarmPoll = 2 * time.Second

// swarmRead is a member's last Swarm reading.
type swarmRead struct {
	state  topology.SwarmState
	nodeID string
}

// Union is the map of several engines as one: every member keeps its own
// graph and seq (a Live each, so one engine down holds up nobody else),
// and Union joins their graphs (topology.Merge, IDs stamped with the
// engine) and publishes the merged graph's deltas, numbered in a seq of
// its own, to the page's hub. It serves the server's LiveSource.
//
// The first member is the default engine: its state is the snapshot's
// Engine, its "engine" frames go to the page as they are, and Sync
// re-lists it (the actions change it).
//
// # Concurrency
//
// Run is the single reader of the members' hubs. Snapshot, Subscribe,
// Refresh and Sync may be called from any goroutine; deltas are
// published with the lock held, as in Live.
type Union struct {
	members []Member
	hub     *hub.Hub
	log     *slog.Logger
	kick    chan struct{}
	// merging serialises merges, reading the members included, so that
	// a merge never publishes a graph older than the one before it.
	merging sync.Mutex

	mu    sync.Mutex // protects the fields below
	graph topology.Graph
	seq   uint64
	// swarms are the members' last Swarm readings, by member index.
	swarms map[int]swarmRead
}

// NewUnion joins members, the default engine first, publishing to h.
func NewUnion(h *hub.Hub, log *slog.Logger, members ...Member) *Union {
	if h == nil || log == nil || len(members) == 0 {
		panic("live.NewUnion: nil dependency")
	}
	for _, m := range members {
		if m.Live == nil || m.Hub == nil || m.Name == "" {
			panic("live.NewUnion: incomplete member")
		}
	}
	return &Union{members: members, hub: h, log: log, kick: make(chan struct{}, 1), swarms: map[int]swarmRead{}}
}

// Snapshot returns the merged graph, its seq and the default engine's
// state.
func (u *Union) Snapshot() topology.Snapshot {
	u.mu.Lock()
	defer u.mu.Unlock()
	return topology.Snapshot{Seq: u.seq, Engine: u.members[0].Live.Engine(), Graph: u.graph}
}

// Subscribe subscribes to the page's hub and then takes a snapshot.
func (u *Union) Subscribe(ctx context.Context) (topology.Snapshot, *hub.Subscription) {
	sub := u.hub.Subscribe(ctx)
	return u.Snapshot(), sub
}

// Refresh asks every member for a re-list.
func (u *Union) Refresh() {
	for _, m := range u.members {
		m.Live.Refresh()
	}
}

// Sync re-lists the default engine and answers the merged graph that
// holds its list.
func (u *Union) Sync(ctx context.Context) (topology.Snapshot, error) {
	if _, err := u.members[0].Live.Sync(ctx); err != nil {
		return topology.Snapshot{}, err
	}
	u.merge()
	return u.Snapshot(), nil
}

// Run follows every member until ctx ends: a delta of any of them makes a
// new merged graph, and their events go to the page marked with their
// engine.
func (u *Union) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for i, m := range u.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u.follow(ctx, m, i == 0)
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		u.pollSwarms(ctx)
	}()
	u.merge()
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			return nil
		case <-u.kick:
			u.merge()
		}
	}
}

// pollSwarms reads every member's Swarm now and then, and merges when a
// reading changed.
func (u *Union) pollSwarms(ctx context.Context) {
	t := time.NewTicker(swarmPoll)
	defer t.Stop()
	for {
		changed := false
		for i, m := range u.members {
			if m.Swarm == nil {
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, swarmPoll*5)
			st, node, err := m.Swarm(cctx)
			cancel()
			if err != nil {
				// An engine that cannot answer keeps its last reading: its
				// own state is shown by the engines frame, and the Swarm's
				// word on its host comes from a manager.
				continue
			}
			r := swarmRead{state: st, nodeID: node}
			u.mu.Lock()
			if old, ok := u.swarms[i]; !ok || !reflect.DeepEqual(old, r) {
				u.swarms[i], changed = r, true
			}
			u.mu.Unlock()
		}
		if changed {
			u.poke()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// follow forwards one member's frames until ctx ends, subscribing again
// (and merging anew) if its hub dropped this reader for being slow.
func (u *Union) follow(ctx context.Context, m Member, first bool) {
	for ctx.Err() == nil {
		sub := m.Hub.Subscribe(ctx)
		u.poke()
		for msg := range sub.C() {
			switch msg.Type {
			case protocol.TypeDelta:
				u.poke()
			case protocol.TypeEvent:
				u.hub.Publish(msg)
			case protocol.TypeEngine:
				if first {
					u.hub.Publish(msg)
				}
				// The merged graph keeps what an engine that went away
				// showed last, as one engine's map does; its state is in
				// the engines frame.
			}
		}
		if err := sub.Err(); err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, hub.ErrClosed) {
			u.log.Warn("engine feed fell behind; following it again", "engine", m.Name, "err", err)
		}
		if errors.Is(sub.Err(), hub.ErrClosed) {
			return
		}
	}
}

// MergeNow merges at once: an engine's own server has just answered a
// change, which its graph already holds.
func (u *Union) MergeNow() { u.merge() }

func (u *Union) poke() {
	select {
	case u.kick <- struct{}{}:
	default:
	}
}

// merge joins the members' current graphs and publishes what changed.
func (u *Union) merge() {
	u.merging.Lock()
	defer u.merging.Unlock()
	parts := make([]topology.Graph, len(u.members))
	for i, m := range u.members {
		// Each engine's graph has the Docker IDs as they are, which its
		// own actions use; on the merged map they carry the engine.
		parts[i] = topology.Stamp(m.Live.Snapshot().Graph, m.Name, i > 0)
	}
	g := topology.Merge(parts...)
	u.mu.Lock()
	defer u.mu.Unlock()
	g = u.withSwarmsLocked(g)
	d := topology.Diff(u.graph, g)
	u.graph = g
	if d.Empty() {
		return
	}
	u.seq++
	d.Seq = u.seq
	u.hub.Publish(protocol.Message(&protocol.Delta{Delta: d}))
}

// withSwarmsLocked draws every Swarm a member manages on g, once per
// Swarm (the first manager's word), its hosts tied to the members that
// are its nodes; u.mu is held.
func (u *Union) withSwarmsLocked(g topology.Graph) topology.Graph {
	engineOf := map[string]string{}
	for i, m := range u.members {
		if r, ok := u.swarms[i]; ok && r.nodeID != "" {
			engineOf[r.nodeID] = m.Name
		}
	}
	drawn := map[string]bool{}
	for i, m := range u.members {
		r, ok := u.swarms[i]
		if !ok || !r.state.Active || drawn[r.state.ID] {
			continue
		}
		drawn[r.state.ID] = true
		g = topology.AddSwarm(g, topology.SwarmView{Manager: m.Name, Default: u.members[0].Name, State: r.state, Engines: engineOf})
	}
	return g
}
