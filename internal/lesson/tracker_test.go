package lesson_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/topology"
)

// clock is a clock the test moves.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func row(t *testing.T, tr *lesson.Tracker, id, prefix string) lesson.Progress {
	t.Helper()
	rows, ok := tr.Progress(id)
	if !ok {
		t.Fatalf("no lesson %s", id)
	}
	for _, r := range rows {
		if r.Prefix == prefix {
			return r
		}
	}
	t.Fatalf("no row for %q in %+v", prefix, rows)
	return lesson.Progress{}
}

// The tracker publishes a participant's state only when it changed, keeps
// since when they reached their step, and calls them stuck after
// StuckAfter on one step or at once when the step's check failed.
func TestTrackerProgressAndStuck(t *testing.T) {
	bridges := lessonByID(t, "bridges")
	clk := &clock{time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	tr := lesson.NewTracker([]lesson.Lesson{bridges}, lesson.WithClock(clk.now))
	var got []lesson.State
	publish := func(s lesson.State) { got = append(got, s) }
	api, db := id("ap"), id("db")

	snap := topology.Snapshot{Seq: 1, Graph: graph(ctr(api, "p1-api", "bridge"))}
	tr.Pass(snap, nil, publish)
	if len(got) != 1 || got[0].Prefix != "p1-" || got[0].Lesson != "bridges" || got[0].Current != "run-db" {
		t.Fatalf("first pass published %+v, want p1- on run-db", got)
	}
	start := clk.t
	clk.t = clk.t.Add(time.Minute)
	tr.Pass(topology.Snapshot{Seq: 2, Graph: snap.Graph}, nil, publish)
	if len(got) != 1 {
		t.Errorf("a pass with nothing changed published %+v", got[1:])
	}
	want := lesson.Progress{Prefix: "p1-", Step: "run-db", StepTitle: "Run db", Done: 1, Total: 5, Since: start}
	if diff := cmp.Diff(want, row(t, tr, "bridges", "p1-")); diff != "" {
		t.Errorf("progress after a minute (-want +got):\n%s", diff)
	}
	clk.t = start.Add(lesson.StuckAfter + time.Second)
	if r := row(t, tr, "bridges", "p1-"); !r.Stuck {
		t.Errorf("on run-db for more than %v: %+v, want stuck", lesson.StuckAfter, r)
	}

	// db on the network with api: three steps done, since moves on, not
	// stuck any more.
	both := graph(ctr(api, "p1-api", "p1-backend"), ctr(db, "p1-db", "p1-backend"))
	tr.Pass(topology.Snapshot{Seq: 3, Graph: both}, nil, publish)
	if n := len(got); n != 2 || got[1].Current != "api-to-db" || !got[1].Changed.Equal(clk.t) {
		t.Fatalf("after db joined: published %+v, want p1- on api-to-db, changed now", got[1:])
	}
	want = lesson.Progress{Prefix: "p1-", Step: "api-to-db", StepTitle: "api reaches db by name", Done: 3, Total: 5, Since: clk.t}
	if diff := cmp.Diff(want, row(t, tr, "bridges", "p1-")); diff != "" {
		t.Errorf("progress after db joined (-want +got):\n%s", diff)
	}

	// A failed probe: stuck at once.
	tr.Pass(topology.Snapshot{Seq: 3, Graph: both}, probes{{api, db, "name"}: {false, clk.t}}, publish)
	if r := row(t, tr, "bridges", "p1-"); !r.Stuck || r.Step != "api-to-db" {
		t.Errorf("after a failed probe: %+v, want stuck on api-to-db", r)
	}
	if n := len(got); n != 3 || got[2].Steps[3].State != lesson.StateFailed {
		t.Errorf("the failed probe published %+v, want api-to-db failed", got[2:])
	}

	// An older map than the last one seen is not evaluated: a pass that
	// began before a question was answered says nothing.
	tr.Pass(topology.Snapshot{Seq: 1, Graph: snap.Graph}, nil, publish)
	if len(got) != 3 {
		t.Errorf("a pass on an older map published %+v", got[3:])
	}

	// Asking about someone not on the map follows them too, and the
	// connect-time states list everyone.
	steps, ok := tr.Ask("bridges", "p9-", topology.Snapshot{Seq: 3, Graph: both}, nil, publish)
	if !ok || len(steps) != 5 || steps[0].State != lesson.StateTodo {
		t.Errorf("Ask(p9-) = %+v %v", steps, ok)
	}
	var prefixes []string
	for _, s := range tr.States() {
		prefixes = append(prefixes, s.Prefix)
	}
	if diff := cmp.Diff([]string{"p1-", "p9-"}, prefixes); diff != "" {
		t.Errorf("States (-want +got):\n%s", diff)
	}
	if _, ok := tr.Ask("nope", "p1-", snap, nil, publish); ok {
		t.Error("Ask of an unknown lesson found it")
	}
}

// The participants followed per lesson are bounded: a newcomer on the map
// takes the place of one who left it, never of one present; one asked
// about takes the place of the one seen longest ago.
func TestTrackerBound(t *testing.T) {
	bridges := lessonByID(t, "bridges")
	tr := lesson.NewTracker([]lesson.Lesson{bridges}, lesson.WithMaxParticipants(3))
	apis := func(prefixes ...string) topology.Snapshot {
		var cs []topology.Container
		for i, p := range prefixes {
			cs = append(cs, ctr(id(fmt.Sprintf("a%d", i)), p+"api", "bridge"))
		}
		return topology.Snapshot{Graph: graph(cs...)}
	}
	followed := func() []string {
		rows, _ := tr.Progress("bridges")
		var out []string
		for _, r := range rows {
			out = append(out, r.Prefix)
		}
		return out
	}
	tr.Pass(apis("a-", "b-", "c-", "d-"), nil, nil)
	if diff := cmp.Diff([]string{"a-", "b-", "c-"}, followed()); diff != "" {
		t.Errorf("four on the map, room for three (-want +got):\n%s", diff)
	}
	tr.Pass(apis("b-", "c-", "d-"), nil, nil)
	if diff := cmp.Diff([]string{"b-", "c-", "d-"}, followed()); diff != "" {
		t.Errorf("a- left, d- takes its place (-want +got):\n%s", diff)
	}
	tr.Ask("bridges", "z-", apis("b-", "c-", "d-"), nil, nil)
	if got := followed(); len(got) != 3 || got[2] != "z-" {
		t.Errorf("after asking about z-: %v, want three with z-", got)
	}
}

// With one engine per participant, each engine's containers are one
// participant's lab: the same names on two engines are two participants,
// each at their own step, keyed by engine; the default engine's keep
// their prefix.
func TestTrackerOneEnginePerParticipant(t *testing.T) {
	bridges := lessonByID(t, "bridges")
	tr := lesson.NewTracker([]lesson.Lesson{bridges})
	var got []lesson.State
	publish := func(s lesson.State) { got = append(got, s) }
	// lab1 has api and db; lab2 only api; the default engine p1-api.
	lab1 := topology.Stamp(graph(ctr(id("a1"), "api", "bridge"), ctr(id("d1"), "db", "bridge")), "lab1", true)
	lab2 := topology.Stamp(graph(ctr(id("a2"), "api", "bridge")), "lab2", true)
	local := topology.Stamp(graph(ctr(id("a3"), "p1-api", "bridge")), "local", false)
	tr.Pass(topology.Snapshot{Seq: 1, Graph: topology.Merge(local, lab1, lab2)}, nil, publish)

	rows, _ := tr.Progress("bridges")
	byKey := map[string]lesson.Progress{}
	for _, r := range rows {
		byKey[r.Prefix+"@"+r.Engine] = r
	}
	if len(rows) != 3 {
		t.Fatalf("rows = %+v, want the default engine's p1- and one per lab engine", rows)
	}
	one, two, p1 := byKey["@lab1"], byKey["@lab2"], byKey["p1-@"]
	if one.Step == two.Step || one.Done <= two.Done {
		t.Errorf("lab1 (api and db) %+v and lab2 (api only) %+v should be at different steps, lab1 further", one, two)
	}
	if p1.Step != two.Step || p1.Engine != "" {
		t.Errorf("the default engine's p1- = %+v, want it keyed by prefix alone, at lab2's step", p1)
	}
	engines := map[string]bool{}
	for _, s := range got {
		engines[s.Engine] = true
	}
	if !engines["lab1"] || !engines["lab2"] || !engines[""] {
		t.Errorf("lesson states published for engines %v, want lab1, lab2 and the default", engines)
	}
}
