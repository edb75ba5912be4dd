package server_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/server"
)

// withLessonLive runs the lesson evaluator with the test server, as run
// does.
func withLessonLive(d *server.Deps) {
	d.LessonLive = server.NewLessonLive(d.Live, d.Publisher, d.Lessons, d.Results)
}

// randomPrefix is a participant's prefix no other test run uses.
func randomPrefix(t *testing.T) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "l" + hex.EncodeToString(b[:]) + "-"
}

type lessonFrame struct {
	Type string `json:"type"`
	lesson.State
}

// awaitLesson reads /live until a lesson frame of lessonID for prefix
// satisfies ok, and returns it; other frames are skipped.
func awaitLesson(t *testing.T, conn *websocket.Conn, lessonID, prefix string, ok func(lessonFrame) bool) lessonFrame {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last lessonFrame
	for {
		_ = conn.SetReadDeadline(deadline)
		_, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read /live: %v (waiting for %s of %q; last seen %+v)", err, lessonID, prefix, last)
		}
		var f lessonFrame
		if json.Unmarshal(data, &f) != nil || f.Type != protocol.TypeLesson || f.Lesson != lessonID || f.Prefix != prefix {
			continue
		}
		if last = f; ok(f) {
			return f
		}
	}
}

// progressOf is the progress table of lessonID by prefix.
func progressOf(t *testing.T, base, lessonID string, hdr map[string]string) map[string]lesson.Progress {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/lessons/"+lessonID+"/progress", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET progress of %s = %d", lessonID, resp.StatusCode)
	}
	var rows []lesson.Progress
	if err := json.NewDecoder(resp.Body).Decode(&rows); err != nil {
		t.Fatal(err)
	}
	out := map[string]lesson.Progress{}
	for i, r := range rows {
		if i > 0 && rows[i-1].Prefix >= r.Prefix {
			t.Errorf("progress rows not sorted by prefix: %q before %q", rows[i-1].Prefix, r.Prefix)
		}
		out[r.Prefix] = r
	}
	return out
}

// Two participants do chapter 2 at once on the real engine, each under a
// prefix of their own: the progress table and /live show each one's step,
// a lesson frame comes after the change that ticks a step, and a client
// that connects later gets everyone's state right after its snapshot.
func TestLessonLiveTwoParticipants(t *testing.T) {
	c := dockertest.Client(t)
	ts := startServer(t, c, withLessonLive)
	select {
	case <-ts.Live.Synced():
	case <-time.After(30 * time.Second):
		t.Fatal("never synced with the engine")
	}
	p1, p2 := randomPrefix(t), randomPrefix(t)

	// p1 has api on their backend network, no db yet; p2 has both, on the
	// default bridge only.
	dockertest.CreateNetwork(t, c, p1+"backend")
	dockertest.RunContainer(t, c, dockertest.WithName(p1+"api"), dockertest.WithNetwork(p1+"backend"))
	dockertest.RunContainer(t, c, dockertest.WithName(p2+"api"))
	dockertest.RunContainer(t, c, dockertest.WithName(p2+"db"))
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		rows := progressOf(t, ts.URL, "bridges", nil)
		a, b := rows[p1], rows[p2]
		return a.Step == "run-db" && a.Done == 1 && a.Total == 5 && a.StepTitle == "Run db" &&
				b.Step == "share-network" && b.Done == 2 && b.Total == 5,
			"progress: p1 " + jsonOf(a) + ", p2 " + jsonOf(b) + "; want p1 on run-db (1/5), p2 on share-network (2/5)"
	})
	// Connected only now, and read at once: the engine is busy with other
	// tests, and a client that does not read is dropped.
	conn, _, err := dialLive(t, ts.URL, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, conn); f.Type != "snapshot" {
		t.Fatalf("first frame %q, want snapshot", f.Type)
	}
	awaitLesson(t, conn, "bridges", p2, func(f lessonFrame) bool { return f.Current == "share-network" })

	// db joins p1's backend: run-db and share-network tick at once.
	dockertest.RunContainer(t, c, dockertest.WithName(p1+"db"), dockertest.WithNetwork(p1+"backend"))
	f := awaitLesson(t, conn, "bridges", p1, func(f lessonFrame) bool { return f.Current == "api-to-db" })
	states := map[string]string{}
	for _, s := range f.Steps {
		states[s.ID] = s.State
	}
	if states["run-api"] != "done" || states["run-db"] != "done" || states["share-network"] != "done" || states["api-to-db"] != "todo" || f.Changed.IsZero() {
		t.Errorf("p1's frame after db joined = %+v, want three steps done, api-to-db todo, a change time", f)
	}
	rows := progressOf(t, ts.URL, "bridges", nil)
	if a := rows[p1]; a.Step != "api-to-db" || a.Done != 3 || a.Stuck {
		t.Errorf("p1's row = %+v, want on api-to-db, 3 done, not stuck", a)
	}
	if b := rows[p2]; b.Step != "share-network" || b.Done != 2 {
		t.Errorf("p2's row = %+v, want still on share-network, 2 done", b)
	}

	// A client that connects now learns where both are without waiting for
	// a change.
	late, _, err := dialLive(t, ts.URL, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if f := readFrame(t, late); f.Type != "snapshot" {
		t.Fatalf("late client's first frame %q, want snapshot", f.Type)
	}
	// The frames come by prefix, and the random prefixes in either order.
	want := map[string]string{p1: "api-to-db", p2: "share-network"}
	_ = late.SetReadDeadline(time.Now().Add(30 * time.Second))
	for len(want) > 0 {
		_, data, err := late.ReadMessage()
		if err != nil {
			t.Fatalf("read /live: %v (still waiting for %v)", err, want)
		}
		var f lessonFrame
		if json.Unmarshal(data, &f) == nil && f.Type == protocol.TypeLesson && f.Lesson == "bridges" && want[f.Prefix] == f.Current {
			delete(want, f.Prefix)
		}
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Viewers read the progress table and get lesson frames (after their
// snapshot, for everyone followed); a prefix asked about is followed from
// then on; an unknown lesson is 404. On the fake engine, whose web and db
// make the empty prefix a participant of links and bridges.
func TestLessonProgressForViewers(t *testing.T) {
	s := startAuthed(t, withLessonLive)
	viewer := map[string]string{"Authorization": "Bearer " + s.view}
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		r, ok := progressOf(t, s.URL, "links", viewer)[""]
		return ok && r.Step == "run-database" && r.Done == 1 && r.Total == 7, "links for the empty prefix: " + jsonOf(r)
	})
	if r := call(t, s.URL, "GET", "/api/lessons/links?prefix=p7-", nil, viewer); r.Status != http.StatusOK {
		t.Fatalf("GET /api/lessons/links?prefix=p7- = %d", r.Status)
	}
	if r, ok := progressOf(t, s.URL, "links", viewer)["p7-"]; !ok || r.Step != "run-database" || r.Done != 0 {
		t.Errorf("p7-, asked about, has row %+v (%v), want on run-database with nothing done", r, ok)
	}
	for path, want := range map[string]int{"/api/lessons/nope/progress": http.StatusNotFound} {
		if r := call(t, s.URL, "GET", path, nil, viewer); r.Status != want {
			t.Errorf("GET %s = %d, want %d", path, r.Status, want)
		}
	}
	if r := call(t, s.URL, "GET", "/api/lessons/links/progress", nil, nil); r.Status != http.StatusUnauthorized {
		t.Errorf("GET progress with no credential = %d, want 401", r.Status)
	}

	conn := dialAs(t, s.URL, s.view)
	awaitLesson(t, conn, "links", "", func(f lessonFrame) bool { return f.Current == "run-database" })
	awaitLesson(t, conn, "links", "p7-", func(f lessonFrame) bool { return f.Current == "run-database" })
	if protocol.OperatorOnly(protocol.TypeLesson) {
		t.Error("lesson frames are for operators only, want everyone")
	}
}

// A probe run through the API ticks a probe step live: its results are
// kept only once the run is over, and that asks for a pass. On the fake
// engine.
func TestProbeTicksALessonLive(t *testing.T) {
	mine, err := lesson.Parse("mine.yaml", []byte(`id: mine
title: Mine
steps:
  - id: ip
    title: web reaches db by IP
    check: {kind: probe, from: web, to: db, by: ip, expect: ok}
`))
	if err != nil {
		t.Fatal(err)
	}
	ts, f := startFaked(t, func(d *server.Deps) { d.Lessons = []lesson.Lesson{mine} }, withLessonLive)
	conn, _, err := dialLive(t, ts.URL, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	awaitLesson(t, conn, "mine", "", func(f lessonFrame) bool { return f.Current == "ip" })
	f.accept("Probe")
	if r := call(t, ts.URL, "POST", "/api/probes", map[string]any{"from": fakeWebName, "to": fakeDBName, "by": "ip"}, nil); r.Status != http.StatusOK {
		t.Fatalf("probe = %d %v", r.Status, r.Body)
	}
	got := awaitLesson(t, conn, "mine", "", func(f lessonFrame) bool { return f.Current == "" })
	if len(got.Steps) != 1 || got.Steps[0].State != lesson.StateDone {
		t.Errorf("after the probe: %+v, want ip done", got)
	}
}
