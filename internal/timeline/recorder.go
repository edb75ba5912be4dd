// Package timeline records a session: every frame the hub publishes
// (deltas, events, probes, jobs, steps, shares, lesson ticks, audit
// entries, and any frame type added later), each with the time it came,
// plus a keyframe (the whole graph) now and then, so that the map can be
// shown as it was at any moment of the recording (At), exported as a file
// and opened again read-only (Import, Replay).
//
// # Memory
//
// A Recorder holds at most its byte budget (DefaultMax unless WithMax
// says otherwise): each entry counts its frame's bytes plus a fixed
// overhead for its bookkeeping. Past the budget the oldest entries go
// first, a whole keyframe's worth at a time, so that what remains still
// starts with a keyframe and At stays right for every moment still held.
//
// # Concurrency
//
// A Recorder is safe for concurrent use. Run is its only writer while the
// session is live; it reads the hub through an ordinary subscription, so
// it never slows the hub: a recorder that falls behind is dropped like any
// slow subscriber, counts a gap, and resumes from a fresh snapshot.
package timeline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// DefaultMax is the default byte budget: a busy workshop hour on a
// 300-container engine holds well under it (BenchmarkTimelineHour).
const DefaultMax = 64 << 20

// Keyframe defaults: a keyframe after this many deltas, or after this long
// with at least one delta, whichever comes first. They bound how many
// deltas At applies.
const (
	DefaultKeyframeEvery = 200
	DefaultKeyframeAfter = 5 * time.Minute
)

// entryOverhead is what an entry costs besides its bytes: its struct, twice
// over, since a growing slice may hold up to half of its array unused.
const entryOverhead = 2 * int(unsafe.Sizeof(Entry{}))

// ErrBefore is why At has no map: the moment asked is before the
// recording (or what is left of it) starts.
var ErrBefore = errors.New("before the recording")

// Entry is one recorded frame.
type Entry struct {
	// T is when the frame came.
	T time.Time
	// Type is the frame's type; protocol.TypeSnapshot marks a keyframe.
	Type string
	// Text says what happened in one short line, for the scrubber.
	Text string
	// Data is the frame as the hub carried it (JSON).
	Data []byte
}

func (e Entry) size() int { return entryOverhead + len(e.Type) + len(e.Text) + cap(e.Data) }

func (e Entry) keyframe() bool { return e.Type == protocol.TypeSnapshot }

// Recorder holds a session's recording.
type Recorder struct {
	max   int
	every int
	after time.Duration
	now   func() time.Time

	mu      sync.Mutex // protects the fields below
	entries []Entry    // entries[0] is a keyframe whenever there are any
	bytes   int
	dropped int // entries dropped to stay within max, keyframes not counted
	gaps    int // times the recorder fell behind the hub and resumed
	// cur is the state after the last entry; sinceKey and lastKey say
	// when the next keyframe is due.
	cur topology.Snapshot
	// curBytes stands for what cur costs: the size of its last keyframe.
	curBytes int
	sinceKey int
	lastKey  time.Time
}

// Option changes a Recorder.
type Option func(*Recorder)

// WithMax sets the byte budget (DefaultMax when max ≤ 0).
func WithMax(max int) Option { return func(r *Recorder) { r.max = max } }

// WithKeyframes sets when keyframes are made: after every deltas, or after
// d with at least one delta. every ≤ 0 turns automatic keyframes off (an
// imported recording keeps the file's own).
func WithKeyframes(every int, d time.Duration) Option {
	return func(r *Recorder) { r.every, r.after = every, d }
}

// WithClock sets the clock Run stamps frames with.
func WithClock(now func() time.Time) Option { return func(r *Recorder) { r.now = now } }

// New returns an empty Recorder; Run fills it.
func New(opts ...Option) *Recorder {
	r := &Recorder{max: DefaultMax, every: DefaultKeyframeEvery, after: DefaultKeyframeAfter, now: time.Now}
	for _, o := range opts {
		o(r)
	}
	if r.max <= 0 {
		r.max = DefaultMax
	}
	return r
}

// Source is what Run records: internal/live's Live has it.
type Source interface {
	// Subscribe subscribes to live messages and then takes a snapshot.
	Subscribe(ctx context.Context) (topology.Snapshot, *hub.Subscription)
}

// Run records what src publishes until ctx ends or the hub closes; it
// returns nil then.
func (r *Recorder) Run(ctx context.Context, src Source) error {
	for {
		sctx, cancel := context.WithCancel(ctx)
		snap, sub := src.Subscribe(sctx)
		r.Keyframe(r.now(), snap)
		for m := range sub.C() {
			// Frames come from dockmap itself; one that does not decode
			// would be a bug there, and is left out rather than stop
			// the recording.
			_ = r.Record(r.now(), m.Type, m.Data)
		}
		err := sub.Err()
		cancel()
		if ctx.Err() != nil || !errors.Is(err, hub.ErrSlow) {
			return nil
		}
		r.mu.Lock()
		r.gaps++
		r.mu.Unlock()
	}
}

// Keyframe records the whole state at t: a subscription's first snapshot.
func (r *Recorder) Keyframe(t time.Time, snap topology.Snapshot) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cur = snap
	r.keyframeLocked(r.clampLocked(t))
	r.evictLocked()
}

// Record records one frame of type typ that came at t. It returns an error
// when the frame does not decode or cannot be replayed (a delta before any
// keyframe), and records nothing then. A delta the state already holds
// (its seq is not past the last one) is skipped.
func (r *Recorder) Record(t time.Time, typ string, data []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.recordLocked(r.clampLocked(t), typ, data); err != nil {
		return err
	}
	r.evictLocked()
	return nil
}

// clampLocked keeps times in order (a wall clock may step back) and drops
// the monotonic reading, which no file keeps.
func (r *Recorder) clampLocked(t time.Time) time.Time {
	t = t.Round(0).UTC()
	if n := len(r.entries); n > 0 && t.Before(r.entries[n-1].T) {
		return r.entries[n-1].T
	}
	return t
}

func (r *Recorder) recordLocked(t time.Time, typ string, data []byte) error {
	if typ == "" {
		return errors.New("a frame with no type")
	}
	if !json.Valid(data) {
		return fmt.Errorf("%s frame is not JSON", typ)
	}
	switch typ {
	case protocol.TypeSnapshot:
		var s protocol.Snapshot
		if err := json.Unmarshal(data, &s); err != nil {
			return fmt.Errorf("snapshot: %w", err)
		}
		r.cur, r.curBytes = s.Snapshot, len(data)
		r.appendLocked(Entry{T: t, Type: typ, Text: snapshotText(s.Snapshot), Data: data})
		r.sinceKey, r.lastKey = 0, t
		return nil
	case protocol.TypeDelta:
		if len(r.entries) == 0 {
			return errors.New("a delta before any snapshot")
		}
		var d protocol.Delta
		if err := json.Unmarshal(data, &d); err != nil {
			return fmt.Errorf("delta: %w", err)
		}
		if d.Seq <= r.cur.Seq {
			return nil // the keyframe holds it already
		}
		text := deltaText(r.cur.Graph, d.Delta)
		r.cur.Graph = topology.Apply(r.cur.Graph, d.Delta)
		r.cur.Seq = d.Seq
		r.appendLocked(Entry{T: t, Type: typ, Text: text, Data: data})
		r.sinceKey++
		if r.every > 0 && (r.sinceKey >= r.every || t.Sub(r.lastKey) >= r.after) {
			r.keyframeLocked(t)
		}
		return nil
	case protocol.TypeEngine:
		var e protocol.Engine
		if err := json.Unmarshal(data, &e); err != nil {
			return fmt.Errorf("engine: %w", err)
		}
		if len(r.entries) == 0 {
			return errors.New("an engine frame before any snapshot")
		}
		r.cur.Engine = e.Engine
		r.appendLocked(Entry{T: t, Type: typ, Text: engineText(e.Engine), Data: data})
		return nil
	}
	if len(r.entries) == 0 {
		return fmt.Errorf("a %s frame before any snapshot", typ)
	}
	r.appendLocked(Entry{T: t, Type: typ, Text: frameText(typ, data), Data: data})
	return nil
}

// keyframeLocked records r.cur as a keyframe at t.
func (r *Recorder) keyframeLocked(t time.Time) {
	data := protocol.Encode(&protocol.Snapshot{Snapshot: r.cur})
	r.curBytes = len(data)
	r.appendLocked(Entry{T: t, Type: protocol.TypeSnapshot, Text: snapshotText(r.cur), Data: data})
	r.sinceKey, r.lastKey = 0, t
}

func (r *Recorder) appendLocked(e Entry) {
	r.entries = append(r.entries, e)
	r.bytes += e.size()
}

// evictLocked drops the oldest entries, a keyframe's worth at a time,
// until the recording fits its budget. When one keyframe's worth is all
// there is, a new keyframe of the current state starts a new one, so that
// the recording always begins with a keyframe.
func (r *Recorder) evictLocked() {
	for r.bytes+r.curBytes > r.max && len(r.entries) > 1 {
		k := 1
		for k < len(r.entries) && !r.entries[k].keyframe() {
			k++
		}
		if k == len(r.entries) {
			r.keyframeLocked(r.entries[k-1].T)
		}
		for _, e := range r.entries[:k] {
			r.bytes -= e.size()
			if !e.keyframe() {
				r.dropped++
			}
		}
		// A fresh array: the old one, dropped part included, would
		// otherwise stay until an append outgrew it, past the budget.
		r.entries = slices.Clone(r.entries[k:])
	}
}

// At returns the map as it was at t: the last keyframe at or before t with
// every later delta and engine frame up to t applied. It returns ErrBefore
// when the recording starts after t.
func (r *Recorder) At(t time.Time) (topology.Snapshot, error) {
	r.mu.Lock()
	i := sort.Search(len(r.entries), func(i int) bool { return r.entries[i].T.After(t) })
	if i == 0 {
		r.mu.Unlock()
		return topology.Snapshot{}, ErrBefore
	}
	k := i - 1
	for !r.entries[k].keyframe() {
		k--
	}
	// The frames never change once recorded: they are decoded outside
	// the lock.
	span := append([]Entry(nil), r.entries[k:i]...)
	r.mu.Unlock()
	return replay(span)
}

// replay turns a keyframe and the entries after it into the state after
// the last of them.
func replay(span []Entry) (topology.Snapshot, error) {
	var s protocol.Snapshot
	if err := json.Unmarshal(span[0].Data, &s); err != nil {
		return topology.Snapshot{}, fmt.Errorf("keyframe: %w", err)
	}
	snap := s.Snapshot
	for _, e := range span[1:] {
		switch e.Type {
		case protocol.TypeDelta:
			var d protocol.Delta
			if err := json.Unmarshal(e.Data, &d); err != nil {
				return topology.Snapshot{}, fmt.Errorf("delta: %w", err)
			}
			snap.Graph = topology.Apply(snap.Graph, d.Delta)
			snap.Seq = d.Seq
		case protocol.TypeEngine:
			var f protocol.Engine
			if err := json.Unmarshal(e.Data, &f); err != nil {
				return topology.Snapshot{}, fmt.Errorf("engine: %w", err)
			}
			snap.Engine = f.Engine
		}
	}
	return snap, nil
}

// Last returns the state after the last entry.
func (r *Recorder) Last() topology.Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cur
}

// Bytes is what the recording holds, as counted against its budget: its
// frames and their bookkeeping, and the current map.
func (r *Recorder) Bytes() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.bytes + r.curBytes
}

// Max is the recording's byte budget.
func (r *Recorder) Max() int { return r.max }

// Entries returns a copy of the recording (the frames' bytes are shared
// and must not be changed), audit entries left out unless operator.
func (r *Recorder) Entries(operator bool) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Entry, 0, len(r.entries))
	for _, e := range r.entries {
		if operator || !protocol.OperatorOnly(e.Type) {
			out = append(out, e)
		}
	}
	return out
}
