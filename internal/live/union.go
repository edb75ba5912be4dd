package live

import (
	"context"
	"errors"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/reach"
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

// stamped is one member's graph stamped with its engine (topology.Stamp).
type stamped struct {
	g   topology.Graph
	seq uint64
	ok  bool
}

// swarmSettle gathers a burst of member changes into one Swarm reading.
const swarmSettle = 250 * time.Millisecond

// swarmRead is a member's last Swarm reading.
type swarmRead struct {
	state  topology.SwarmState
	nodeID string
	at     time.Time
}

// swarmRecheck is how often an engine that manages no Swarm is asked
// whether it joined one (or left, or was promoted).
const swarmRecheck = 30 * time.Second

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
	// swarmKick asks for a Swarm reading soon; reading serialises them.
	swarmKick chan struct{}
	reading   sync.Mutex
	// stamped is each member's graph as the merged map names it, at the
	// member's seq; merging guards it.
	stamped []stamped
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
	return &Union{members: members, hub: h, log: log, kick: make(chan struct{}, 1), stamped: make([]stamped, len(members)), swarmKick: make(chan struct{}, 1), swarms: map[int]swarmRead{}}
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
		if u.readSwarms(ctx, false) {
			u.poke()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-u.swarmKick:
			// A member's map changed (a task's container came or went):
			// the managers' word on it follows, a little later at most.
			select {
			case <-ctx.Done():
				return
			case <-time.After(swarmSettle):
			}
		}
	}
}

// PollSwarms reads every member's Swarm now and merges: a Swarm action's
// answer waits for the map to have what the managers did.
func (u *Union) PollSwarms(ctx context.Context) {
	u.readSwarms(ctx, true)
	u.merge()
}

// readSwarms reads every member's Swarm and reports whether a reading
// changed.
func (u *Union) readSwarms(ctx context.Context, all bool) bool {
	u.reading.Lock()
	defer u.reading.Unlock()
	changed := false
	now := time.Now()
	for i, m := range u.members {
		if m.Swarm == nil {
			continue
		}
		u.mu.Lock()
		last, read := u.swarms[i]
		u.mu.Unlock()
		// Only a manager's word changes by itself (nodes, tasks): the
		// others are read now and then, to see one join or leave a Swarm.
		// Reading is an engine Info, not cheap on a busy engine.
		if read && !all && !last.state.Active && now.Sub(last.at) < swarmRecheck {
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
		r := swarmRead{state: st, nodeID: node, at: now}
		u.mu.Lock()
		if !read || last.nodeID != r.nodeID || !reflect.DeepEqual(last.state, r.state) {
			changed = true
		}
		u.swarms[i] = r
		u.mu.Unlock()
	}
	return changed
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
				select {
				case u.swarmKick <- struct{}{}:
				default:
				}
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
		// own actions use; on the merged map they carry the engine. A
		// merge follows one engine's change: the others' stamped graphs
		// are kept from before (by their seq), not copied again.
		snap, c := m.Live.Snapshot(), &u.stamped[i]
		if !c.ok || c.seq != snap.Seq {
			*c = stamped{g: topology.Stamp(snap.Graph, m.Name, i > 0), seq: snap.Seq, ok: true}
		}
		parts[i] = c.g
	}
	g := topology.Merge(parts...)
	u.mu.Lock()
	defer u.mu.Unlock()
	g = u.withSwarmsLocked(g)
	old := u.graph
	d := topology.Diff(old, g)
	u.graph = g
	if d.Empty() {
		return
	}
	u.seq++
	d.Seq = u.seq
	u.hub.Publish(protocol.Message(&protocol.Delta{Delta: d, Affects: reach.Affected(old, g, d)}))
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

// View is one member's own graph (its Docker IDs as they are) as its own
// server plans on it, with the networks of the Swarm the engine is a node
// of that it does not show yet: an engine lists an overlay only once a
// container of its own is on it, yet a container there can join any
// attachable overlay of its Swarm. It serves the server's LiveSource.
type View struct {
	u *Union
	i int
}

// View is the view of the member named name; nil when there is none.
func (u *Union) View(name string) *View {
	for i, m := range u.members {
		if m.Name == name {
			return &View{u: u, i: i}
		}
	}
	return nil
}

// Snapshot is the member's snapshot with its Swarm's networks.
func (v *View) Snapshot() topology.Snapshot { return v.with(v.u.members[v.i].Live.Snapshot()) }

// Subscribe subscribes to the member's own hub, then takes a snapshot.
func (v *View) Subscribe(ctx context.Context) (topology.Snapshot, *hub.Subscription) {
	snap, sub := v.u.members[v.i].Live.Subscribe(ctx)
	return v.with(snap), sub
}

// Refresh asks the member for a re-list.
func (v *View) Refresh() { v.u.members[v.i].Live.Refresh() }

// Sync re-lists the member.
func (v *View) Sync(ctx context.Context) (topology.Snapshot, error) {
	snap, err := v.u.members[v.i].Live.Sync(ctx)
	if err != nil {
		return snap, err
	}
	return v.with(snap), nil
}

func (v *View) with(snap topology.Snapshot) topology.Snapshot {
	v.u.mu.Lock()
	me, ok := v.u.swarms[v.i]
	var nets []topology.SwarmNetwork
	if ok && me.nodeID != "" {
		for _, r := range v.u.swarms {
			if r.state.Active && slices.ContainsFunc(r.state.Nodes, func(n topology.SwarmNode) bool { return n.ID == me.nodeID }) {
				nets = r.state.Networks
				break
			}
		}
	}
	v.u.mu.Unlock()
	var add []topology.Node
	for _, n := range nets {
		if _, ok := snap.Graph.Node(topology.NetworkNodeID(n.ID)); !ok {
			add = append(add, n.Node(v.u.members[v.i].Name))
		}
	}
	if len(add) == 0 {
		return snap
	}
	nodes := append(slices.Clone(snap.Graph.Nodes), add...)
	slices.SortFunc(nodes, func(a, b topology.Node) int { return strings.Compare(string(a.ID), string(b.ID)) })
	snap.Graph = topology.Graph{Nodes: nodes, Edges: snap.Graph.Edges}
	return snap
}
