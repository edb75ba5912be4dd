package server

import (
	"context"
	"errors"

	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// LessonLive follows every participant of every lesson as the map
// changes: after each delta, and each probe run through the API, it
// evaluates every lesson for everyone (lesson.Tracker) and publishes a
// "lesson" frame for each participant whose steps changed. The lessons
// API reads and asks the same tracker, so a tick is one tick everywhere.
//
// # Concurrency
//
// Run is the single evaluation loop: call it once; it returns when its
// context ends or the hub closes. A burst of deltas costs one pass: at
// most one pass runs at a time, and whatever arrives during it makes one
// more. The other methods may be called from any goroutine.
type LessonLive struct {
	src     LiveSource
	pub     Publisher
	lessons []lesson.Lesson
	results *probe.Results
	tracker *lesson.Tracker
	// poke asks for a pass without a delta: probe results are kept only
	// once the whole run is over, after its frames went out.
	poke chan struct{}
	// explainers fingerprints probe pairs, one explainer per map.
	explainers explainers
}

// NewLessonLive follows the participants of lessons (lesson.Builtin when
// nil) on src's map and results (a new store when nil), publishing to pub.
func NewLessonLive(src LiveSource, pub Publisher, lessons []lesson.Lesson, results *probe.Results, opts ...lesson.TrackerOption) *LessonLive {
	if src == nil || pub == nil {
		panic("server.NewLessonLive: nil dependency")
	}
	if lessons == nil {
		lessons = lesson.Builtin()
	}
	if results == nil {
		results = probe.NewResults(0)
	}
	return &LessonLive{src: src, pub: pub, lessons: lessons, results: results,
		tracker: lesson.NewTracker(lessons, opts...), poke: make(chan struct{}, 1)}
}

// Run evaluates after every delta and every Poke until ctx ends or the
// hub closes. A subscription dropped for falling behind is taken again,
// with a pass, since a delta may have been lost.
func (w *LessonLive) Run(ctx context.Context) error {
	for {
		sub := w.subscribe(ctx)
		w.pass()
		w.follow(ctx, sub)
		if ctx.Err() != nil || errors.Is(sub.Err(), hub.ErrClosed) {
			return nil
		}
	}
}

func (w *LessonLive) subscribe(ctx context.Context) *hub.Subscription {
	_, sub := w.src.Subscribe(ctx)
	return sub
}

// follow runs a pass after each delta or poke, until sub ends.
func (w *LessonLive) follow(ctx context.Context, sub *hub.Subscription) {
	for {
		dirty := false
		select {
		case <-ctx.Done():
			return
		case m, ok := <-sub.C():
			if !ok {
				return
			}
			dirty = m.Type == protocol.TypeDelta
		case <-w.poke:
			dirty = true
		}
		// Take what else has come already: one pass for the burst.
	drain:
		for {
			select {
			case m, ok := <-sub.C():
				if !ok {
					return
				}
				dirty = dirty || m.Type == protocol.TypeDelta
			case <-w.poke:
				dirty = true
			default:
				break drain
			}
		}
		if dirty {
			w.pass()
		}
	}
}

// Poke asks for a pass soon; it never blocks.
func (w *LessonLive) Poke() {
	select {
	case w.poke <- struct{}{}:
	default: // one is due already
	}
}

func (w *LessonLive) pass() { w.tracker.Pass(w.src.Snapshot(), w.results, w.publish) }

func (w *LessonLive) publish(s lesson.State) {
	w.pub.Publish(protocol.Message(&protocol.Lesson{State: s}))
}

// ask evaluates lesson id for prefix now and follows the participant.
func (w *LessonLive) ask(id, prefix string) ([]lesson.StepState, bool) {
	return w.tracker.Ask(id, prefix, w.src.Snapshot(), w.results, w.publish)
}

// frames are the lesson frames of everyone followed, for a client that
// connects now.
func (w *LessonLive) frames() [][]byte {
	var out [][]byte
	for _, s := range w.tracker.States() {
		out = append(out, protocol.Encode(&protocol.Lesson{State: s}))
	}
	return out
}

// explainer is the explainer of snap, shared by the probe routes.
func (w *LessonLive) explainer(snap topology.Snapshot) *reach.Explainer { return w.explainers.at(snap) }

// recordProbes keeps rs with the fingerprint of each pair on snap, the map
// they were run on, and asks for a pass: a probe step may tick.
func (w *LessonLive) recordProbes(snap topology.Snapshot, rs []probe.Result) {
	x := w.explainer(snap)
	for _, r := range rs {
		w.results.Record(r, x.Between(topology.ContainerNodeID(r.From), topology.ContainerNodeID(r.To)))
	}
	w.Poke()
}
