package lesson

import (
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/topology"
)

// MaxParticipants bounds the participants a Tracker follows per lesson: a
// class, several times over. Beyond it, a participant newly found on the
// map takes the place of one no longer on it (the one seen longest ago),
// and one asked about by name takes the place of the one seen longest ago
// whatever it is; with every place taken by someone on the map, a newly
// found one waits.
const MaxParticipants = 200

// StuckAfter is how long a participant may stay on one step before the
// progress table calls them stuck.
const StuckAfter = 5 * time.Minute

// State is where one participant is in one lesson: what a "lesson" frame
// of the live protocol carries.
type State struct {
	Lesson string `json:"lesson"`
	Prefix string `json:"prefix"`
	// Engine is the participant's engine when each has one of their own
	// (dockmap --engine per participant): "" on the default engine.
	Engine string      `json:"engine,omitempty"`
	Steps  []StepState `json:"steps"`
	// Current is the first step not done, "" once every step is.
	Current string `json:"current"`
	// Changed is when the steps last changed.
	Changed time.Time `json:"changed"`
}

// Progress is one participant's row of the instructor's progress table.
type Progress struct {
	Prefix string `json:"prefix"`
	// Engine is the participant's engine, as in State.
	Engine string `json:"engine,omitempty"`
	// Step is the current step's ID, "" once every step is done.
	Step      string `json:"step"`
	StepTitle string `json:"stepTitle"`
	Done      int    `json:"done"`
	Total     int    `json:"total"`
	// Since is when the participant reached the current step (or when
	// this dockmap first saw them there).
	Since time.Time `json:"since"`
	// Stuck: on the current step for more than StuckAfter, or its check
	// failed.
	Stuck bool `json:"stuck"`
}

// Tracker follows every participant of every lesson: it keeps their
// ticks (a step once done stays done), their current step and since when,
// and says whose steps changed.
//
// # Concurrency
//
// A Tracker is safe for concurrent use. Its callbacks (publish) run with
// its lock held, so that one participant's states are published in the
// order they were found; they must not call the Tracker.
type Tracker struct {
	now func() time.Time
	max int

	mu      sync.Mutex // protects the fields below
	classes []*class   // in the order of the lessons
	// tick counts passes and questions: a participant's seen is the tick
	// it was last found on the map or asked about.
	tick uint64
}

// class is one lesson and its participants.
type class struct {
	l     Lesson
	names []string // l.Containers()
	ps    map[string]*participant
}

type participant struct {
	ticked  map[string]bool
	steps   []StepState
	current string
	since   time.Time
	changed time.Time
	seen    uint64
	// seq is the graph seq of the last evaluation: an older map (a pass
	// that began before a question was answered) is not evaluated.
	seq uint64
}

// TrackerOption changes a Tracker.
type TrackerOption func(*Tracker)

// WithClock sets the clock (time.Now by default).
func WithClock(now func() time.Time) TrackerOption { return func(t *Tracker) { t.now = now } }

// WithMaxParticipants sets the bound per lesson (MaxParticipants by
// default).
func WithMaxParticipants(n int) TrackerOption { return func(t *Tracker) { t.max = n } }

// NewTracker follows the participants of ls.
func NewTracker(ls []Lesson, opts ...TrackerOption) *Tracker {
	t := &Tracker{now: time.Now, max: MaxParticipants}
	for _, o := range opts {
		o(t)
	}
	for _, l := range ls {
		t.classes = append(t.classes, &class{l: l, names: l.Containers(), ps: map[string]*participant{}})
	}
	return t
}

// Pass evaluates every lesson for every participant on snap, the ones
// found on it (Participants) and the ones followed already, and calls
// publish with the state of each whose steps changed.
func (t *Tracker) Pass(snap topology.Snapshot, p Probes, publish func(State)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.tick++
	labs := labsOf(snap.Graph)
	for _, c := range t.classes {
		// Everyone on the map is marked seen before anyone new is let in,
		// so that a newcomer never takes the place of someone present.
		var fresh []string
		var found []string
		for _, lab := range labs {
			for _, pre := range participants(c.names, lab.g) {
				found = append(found, keyOf(pre, lab.engine))
			}
		}
		for _, pre := range found {
			if pt := c.ps[pre]; pt != nil {
				pt.seen = t.tick
			} else {
				fresh = append(fresh, pre)
			}
		}
		for _, pre := range fresh {
			if pt := t.admit(c, pre, false); pt != nil {
				pt.seen = t.tick
			}
		}
		for pre, pt := range c.ps {
			t.update(c, pre, pt, labOf(labs, snap.Graph, pre), snap.Seq, p, publish)
		}
	}
}

// lab is one engine's part of a merged map (the whole map with one
// engine).
type lab struct {
	engine string
	g      topology.Graph
}

// labsOf splits a merged map by engine, when it has several: with one
// engine per participant, each participant's names are looked for on
// their own engine only, where "web" is theirs and nobody else's.
func labsOf(g topology.Graph) []lab {
	engines := g.Engines()
	if len(engines) <= 1 {
		return []lab{{g: g}}
	}
	out := make([]lab, 0, len(engines))
	for _, e := range engines {
		out = append(out, lab{engine: e, g: g.OfEngine(e)})
	}
	return out
}

// keyOf is a participant's key: the prefix, and "@engine" for a
// participant on another engine than the default one (engines.Local),
// whose participants keep the plain prefix as before.
func keyOf(prefix, engine string) string {
	if engine == "" || engine == engines.Local {
		return prefix
	}
	return prefix + topology.EngineSep + engine
}

// splitKey takes a key apart.
func splitKey(key string) (prefix, engine string) {
	prefix, engine, _ = strings.Cut(key, topology.EngineSep)
	return prefix, engine
}

// labOf is the graph a participant is evaluated on.
func labOf(labs []lab, g topology.Graph, key string) topology.Graph {
	_, engine := splitKey(key)
	if engine == "" {
		if len(labs) > 1 {
			for _, l := range labs {
				if l.engine == engines.Local {
					return l.g
				}
			}
		}
		return g
	}
	for _, l := range labs {
		if l.engine == engine {
			return l.g
		}
	}
	return topology.Graph{}
}

// Ask evaluates lesson id for the participant prefix, follows them from
// now on, and returns their steps; publish is called as in Pass. found is
// false when there is no such lesson.
func (t *Tracker) Ask(id, prefix string, snap topology.Snapshot, p Probes, publish func(State)) (steps []StepState, found bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.class(id)
	if c == nil {
		return nil, false
	}
	t.tick++
	pt := c.ps[prefix]
	if pt == nil {
		pt = t.admit(c, prefix, true)
	}
	pt.seen = t.tick
	t.update(c, prefix, pt, labOf(labsOf(snap.Graph), snap.Graph, prefix), snap.Seq, p, publish)
	return slices.Clone(pt.steps), true
}

// Progress is the progress table of lesson id, sorted by prefix; found is
// false when there is no such lesson.
func (t *Tracker) Progress(id string) (rows []Progress, found bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.class(id)
	if c == nil {
		return nil, false
	}
	now := t.now()
	rows = make([]Progress, 0, len(c.ps))
	for pre, pt := range c.ps {
		if pt.steps == nil {
			continue
		}
		prefix, engine := splitKey(pre)
		r := Progress{Prefix: prefix, Engine: engine, Step: pt.current, Total: len(pt.steps), Since: pt.since}
		for _, s := range pt.steps {
			if s.State == StateDone {
				r.Done++
			} else if s.ID == pt.current {
				r.StepTitle = s.Title
				r.Stuck = Stuck(s, pt.since, now)
			}
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		return rows[i].Engine < rows[j].Engine || rows[i].Engine == rows[j].Engine && rows[i].Prefix < rows[j].Prefix
	})
	return rows, true
}

// States are the states of every participant followed, lesson by lesson
// and by prefix: what a client that connects now is sent.
func (t *Tracker) States() []State {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []State
	for _, c := range t.classes {
		pres := make([]string, 0, len(c.ps))
		for pre, pt := range c.ps {
			if pt.steps != nil {
				pres = append(pres, pre)
			}
		}
		slices.Sort(pres)
		for _, pre := range pres {
			out = append(out, c.ps[pre].state(c.l.ID, pre))
		}
	}
	return out
}

// Stuck is the rule of the progress table: a participant whose current
// step is s, reached at since, is stuck at now when s's check failed or
// they have been on it for more than StuckAfter.
func Stuck(s StepState, since, now time.Time) bool {
	return s.State == StateFailed || now.Sub(since) > StuckAfter
}

func (t *Tracker) class(id string) *class {
	for _, c := range t.classes {
		if c.l.ID == id {
			return c
		}
	}
	return nil
}

// admit makes room for a new participant and adds it, or returns nil
// when there is none: see MaxParticipants. Called with t.mu held.
func (t *Tracker) admit(c *class, prefix string, asked bool) *participant {
	if len(c.ps) >= t.max {
		var oldest string
		var at uint64
		found := false
		for pre, pt := range c.ps {
			if !found || pt.seen < at || (pt.seen == at && pre < oldest) {
				oldest, at, found = pre, pt.seen, true
			}
		}
		if !found || (!asked && at >= t.tick) {
			return nil
		}
		delete(c.ps, oldest)
	}
	pt := &participant{ticked: map[string]bool{}}
	c.ps[prefix] = pt
	return pt
}

// update evaluates one participant and publishes their state if it
// changed. Called with t.mu held.
func (t *Tracker) update(c *class, key string, pt *participant, g topology.Graph, seq uint64, p Probes, publish func(State)) {
	if pt.steps != nil && seq < pt.seq {
		return
	}
	pt.seq = seq
	prefix, _ := splitKey(key)
	steps := Evaluate(c.l, g, prefix, p, pt.ticked)
	if pt.steps != nil && slices.Equal(steps, pt.steps) {
		return
	}
	now := t.now()
	cur := ""
	for _, s := range steps {
		if s.State != StateDone {
			cur = s.ID
			break
		}
	}
	if pt.steps == nil || cur != pt.current {
		pt.current, pt.since = cur, now
	}
	pt.steps, pt.changed = steps, now
	if publish != nil {
		publish(pt.state(c.l.ID, key))
	}
}

func (pt *participant) state(lesson, key string) State {
	prefix, engine := splitKey(key)
	return State{Lesson: lesson, Prefix: prefix, Engine: engine, Steps: slices.Clone(pt.steps), Current: pt.current, Changed: pt.changed}
}
