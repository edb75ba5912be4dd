// Package live owns the current graph and its seq. It keeps the graph true
// by treating every engine event as a trigger for a full re-list (events are
// only hints: the engine drops and never replays them), diffs the new graph
// against the old one and publishes the delta, numbered, to the hub.
//
// # Concurrency
//
// Run is the single writer: it must be called once, and it returns when its
// context ends. Snapshot and Subscribe may be called from any goroutine.
// Deltas are published while holding the lock that guards the graph, so a
// subscriber that subscribes first and then takes a snapshot at seq N
// receives every delta after N (and may skip those ≤ N).
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// Source is what Live needs from the engine adapter.
type Source interface {
	// ListInventory lists everything; errors wrap topology sentinels.
	ListInventory(ctx context.Context) (topology.Inventory, error)
	// WatchEvents streams events from since until ctx ends or the stream
	// breaks, and returns why it stopped.
	WatchEvents(ctx context.Context, since time.Time, fn func(docker.Event)) error
	// Version answers when the engine is up.
	Version(ctx context.Context) (version, apiVersion string, err error)
}

var _ Source = (*docker.Client)(nil)

// Tuning defaults.
const (
	// coalesceWindow gathers the events of one change (create, connect,
	// start) into one re-list, at little cost to latency.
	coalesceWindow = 10 * time.Millisecond
	backoffMin     = 100 * time.Millisecond
	backoffMax     = 5 * time.Second
	// replayWindow asks the engine to replay events from just before we
	// subscribed, so nothing between subscribing and the first list is lost.
	replayWindow = 2 * time.Second
	callTimeout  = 30 * time.Second
	// firstSyncWait is how long Sync waits for the very first list.
	firstSyncWait = 5 * time.Second
)

// Live keeps the graph in step with the engine.
type Live struct {
	src  Source
	hub  *hub.Hub
	log  *slog.Logger
	host string
	// name is the engine's name, stamped on every node, edge and event
	// (WithName). IDs stay the engine's own: a Union gives those of the
	// other engines their suffix on the merged map.
	name string
	// relisted hears of every re-list (WithRelisted).
	relisted func(engine string, d time.Duration, err error)
	// onEngine hears every change of the engine state (WithOnEngine).
	onEngine func(topology.EngineState)
	now      func() time.Time
	window   time.Duration

	// poke asks for a re-list without an event: some changes (removing a
	// legacy link) make none.
	poke chan struct{}

	mu     sync.Mutex // protects the fields below
	graph  topology.Graph
	seq    uint64
	engine topology.EngineState
	synced chan struct{} // closed after the first successful list
	// starts and ends count the re-lists begun and ended; listed is
	// closed (and replaced) at each end, and lastErr says how it ended:
	// Sync waits on them.
	starts, ends uint64
	listed       chan struct{}
	lastErr      error
}

// Option changes a Live.
type Option func(*Live)

// WithCoalesceWindow sets how long a burst of events is gathered.
func WithCoalesceWindow(d time.Duration) Option { return func(l *Live) { l.window = d } }

// WithHost names the engine address shown in the engine state.
func WithHost(host string) Option { return func(l *Live) { l.host = host } }

// WithName names the engine: every node, edge and event carries name.
func WithName(name string) Option {
	return func(l *Live) { l.name = name }
}

// WithRelisted calls fn after every re-list with how long it took and
// how it ended (the metrics).
func WithRelisted(fn func(engine string, d time.Duration, err error)) Option {
	return func(l *Live) { l.relisted = fn }
}

// WithOnEngine calls fn with the engine state whenever it changes, the
// first "connecting" one included, with Live's lock held: fn must not
// block or call back into Live. The list of engines (internal/engines)
// hears of every engine's Live this way.
func WithOnEngine(fn func(topology.EngineState)) Option {
	return func(l *Live) { l.onEngine = fn }
}

// New returns a Live that publishes to h. Call Run to start it.
func New(src Source, h *hub.Hub, log *slog.Logger, opts ...Option) *Live {
	if src == nil || h == nil || log == nil {
		panic("live.New: nil dependency")
	}
	l := &Live{src: src, hub: h, log: log, now: time.Now, window: coalesceWindow,
		poke: make(chan struct{}, 1), synced: make(chan struct{}), listed: make(chan struct{})}
	for _, o := range opts {
		o(l)
	}
	l.engine = topology.EngineState{LastError: "connecting to the engine", Host: l.host, Since: l.now()}
	return l
}

// Snapshot returns the current graph with its seq and the engine state.
func (l *Live) Snapshot() topology.Snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	return topology.Snapshot{Seq: l.seq, Engine: l.engine, Graph: l.graph}
}

// Subscribe subscribes to the hub and then takes a snapshot, in that order,
// so that no delta after the snapshot can be missed.
func (l *Live) Subscribe(ctx context.Context) (topology.Snapshot, *hub.Subscription) {
	sub := l.hub.Subscribe(ctx)
	return l.Snapshot(), sub
}

// Engine returns the engine state.
func (l *Live) Engine() topology.EngineState {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.engine
}

// Refresh asks for a re-list soon, as an event would. It never blocks.
func (l *Live) Refresh() {
	select {
	case l.poke <- struct{}{}:
	default: // one is already due
	}
}

// Sync re-lists now and returns the snapshot made by a re-list that began
// after the call, so that what is decided from it (a plan) reflects the
// engine at this moment rather than at its last event. It returns an error
// wrapping topology.ErrEngineUnreachable while the engine is down, and
// ctx's error if ctx ends first.
func (l *Live) Sync(ctx context.Context) (topology.Snapshot, error) {
	// Just started: wait a little for the first list rather than answer
	// with the empty picture (an engine that is down says so below).
	first := time.NewTimer(firstSyncWait)
	defer first.Stop()
	select {
	case <-l.synced:
	case <-first.C:
	case <-ctx.Done():
		return topology.Snapshot{}, ctx.Err()
	}
	l.mu.Lock()
	want, ch := l.starts+1, l.listed
	down := !l.engine.Connected
	reason := l.engine.LastError
	l.mu.Unlock()
	if down {
		return topology.Snapshot{}, fmt.Errorf("%w: %s", topology.ErrEngineUnreachable, reason)
	}
	l.Refresh()
	for {
		select {
		case <-ctx.Done():
			return topology.Snapshot{}, ctx.Err()
		case <-ch:
		}
		l.mu.Lock()
		if l.ends >= want {
			err := l.lastErr
			snap := topology.Snapshot{Seq: l.seq, Engine: l.engine, Graph: l.graph}
			l.mu.Unlock()
			return snap, err
		}
		ch = l.listed
		l.mu.Unlock()
	}
}

// Synced is closed once the first list has succeeded and the engine is
// shown connected.
func (l *Live) Synced() <-chan struct{} { return l.synced }

// Run follows the engine until ctx ends, reconnecting forever with capped,
// jittered backoff. It returns nil when ctx ends.
func (l *Live) Run(ctx context.Context) error {
	attempt := 0
	for {
		start := l.now()
		err := l.session(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if errors.Is(err, errResync) {
			// A routine stream end (an idle proxy closing it, say) after a
			// good resync: reconnect at once, unless streams keep breaking
			// right away, which must not turn into a tight loop of re-lists.
			if l.now().Sub(start) > time.Second {
				attempt = 0
				continue
			}
		} else {
			l.setDisconnected(err)
		}
		attempt++
		d := backoff(attempt)
		l.log.Debug("engine unreachable, retrying", "err", err, "in", d)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(d):
		}
	}
}

// errResync marks a session that ended after a successful resync: its
// stream broke, and the next session should retry without waiting.
var errResync = errors.New("event stream ended")

// session subscribes to events, resyncs, and follows events until the
// stream breaks.
func (l *Live) session(ctx context.Context) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	trigger := make(chan struct{}, 1)
	watchErr := make(chan error, 1)
	since := l.now().Add(-replayWindow)
	go func() {
		watchErr <- l.src.WatchEvents(wctx, since, func(e docker.Event) {
			l.onEvent(e)
			if e.ChangesTopology() {
				select {
				case trigger <- struct{}{}:
				default: // a re-list is already due
				}
			}
		})
	}()
	// The watch goroutine must be done before the next session starts.
	ended := false
	defer func() {
		cancel()
		if !ended {
			<-watchErr
		}
	}()

	if err := l.resync(ctx); err != nil {
		return err
	}
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-watchErr:
			ended = true
			l.log.Info("event stream ended, resyncing", "err", err)
			return errResync
		case <-l.poke:
			if err := l.relist(ctx); err != nil {
				return err
			}
		case <-trigger:
			if l.window > 0 {
				t := time.NewTimer(l.window)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
			if err := l.relist(ctx); err != nil {
				return err
			}
		}
	}
}

// resync asks for the engine version and re-lists everything.
func (l *Live) resync(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	version, api, err := l.src.Version(cctx)
	if err != nil {
		return err
	}
	if err := l.relist(ctx); err != nil {
		return err
	}
	l.setConnected(version, api)
	// Synced means listed and shown connected, in that order for readers.
	l.mu.Lock()
	select {
	case <-l.synced:
	default:
		close(l.synced)
	}
	l.mu.Unlock()
	return nil
}

// relist lists the engine, diffs and publishes the delta.
func (l *Live) relist(ctx context.Context) (err error) {
	l.mu.Lock()
	l.starts++
	l.mu.Unlock()
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if l.relisted != nil {
		start := time.Now()
		defer func() { l.relisted(l.name, time.Since(start), err) }()
	}
	inv, err := l.src.ListInventory(cctx)
	if err != nil {
		l.mu.Lock()
		l.endListLocked(err)
		l.mu.Unlock()
		return err
	}
	g := topology.Build(inv)
	if l.name != "" {
		g = topology.Stamp(g, l.name, false)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	defer l.endListLocked(nil)
	old := l.graph
	d := topology.Diff(old, g)
	l.graph = g
	if d.Empty() {
		return nil
	}
	l.seq++
	d.Seq = l.seq
	l.hub.Publish(protocol.Message(&protocol.Delta{Delta: d, Affects: reach.Affected(old, g, d)}))
	return nil
}

// endListLocked records the end of a re-list for Sync; l.mu is held.
func (l *Live) endListLocked(err error) {
	l.ends++
	l.lastErr = err
	close(l.listed)
	l.listed = make(chan struct{})
}

func (l *Live) onEvent(e docker.Event) {
	if e.IsExec() || e.FromHelper() {
		// Probes exec into containers and start helpers all the time; the
		// feed shows what changes the map, not that noise.
		return
	}
	l.hub.Publish(protocol.Message(&protocol.Event{Event: e, Engine: l.name}))
}

func (l *Live) setConnected(version, api string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.engine.Connected && l.engine.Version == version {
		return
	}
	l.engine = topology.EngineState{Connected: true, Version: version, APIVersion: api, Host: l.host, Since: l.now()}
	l.publishEngineLocked()
}

func (l *Live) setDisconnected(err error) {
	msg := "unknown error"
	if err != nil {
		msg = err.Error()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.engine.Connected && l.engine.LastError == msg {
		return
	}
	l.engine = topology.EngineState{Connected: false, LastError: msg, Host: l.host, Since: l.now()}
	l.publishEngineLocked()
}

func (l *Live) publishEngineLocked() {
	l.hub.Publish(protocol.Message(&protocol.Engine{Engine: l.engine}))
	if l.onEngine != nil {
		l.onEngine(l.engine)
	}
}

// backoff is capped exponential with full jitter in [d/2, d).
func backoff(attempt int) time.Duration {
	d := backoffMin << min(attempt-1, 16)
	if d > backoffMax || d <= 0 {
		d = backoffMax
	}
	return d/2 + rand.N(d/2)
}
