package server_test

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/job"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/server"
	"github.com/dockmap/dockmap/internal/timeline"
	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web"
)

// recordTimeline gives the server a recorder of its live map, run until
// the test ends.
func recordTimeline(t testing.TB) func(*server.Deps) {
	return func(d *server.Deps) {
		rec := timeline.New()
		d.Timeline = rec
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- rec.Run(ctx, d.Live.(timeline.Source)) }()
		// Registered before the server's own cleanup, so it runs after
		// it: the hub is closed by then.
		t.Cleanup(func() {
			cancel()
			<-done
		})
	}
}

// getInto GETs path and decodes its JSON body into v; it returns the status.
func getInto(t testing.TB, base, path string, v any) int {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, data)
		}
	}
	return resp.StatusCode
}

// moment is what GET /api/graph said at a time.
type moment struct {
	at    time.Time
	graph protocol.Snapshot
	what  string
}

// startReplay serves the recording in file read-only, as dockmap --replay
// does: no engine behind it.
func startReplay(t *testing.T, file string) string {
	t.Helper()
	rec, err := timeline.ReadFile(file)
	if err != nil {
		t.Fatalf("read the exported recording: %v", err)
	}
	h := hub.New(0)
	static, err := fs.Sub(web.Static, "static")
	if err != nil {
		t.Fatal(err)
	}
	jobs := job.New(h)
	srv := httptest.NewServer(server.New(server.Deps{
		Live: timeline.NewReplay(rec, h), Publisher: h, Jobs: jobs, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Static: static, AssetVersion: "test", Timeline: rec, Replay: &server.Replay{File: filepath.Base(file)},
	}))
	t.Cleanup(func() {
		jobs.Close()
		h.Close()
		srv.Close()
	})
	return srv.URL
}

// TestTimelineExportReplays: a session on the real engine (a run, a
// network attach, a stop) is recorded, exported through the API and
// opened read-only by a second server, which shows at each recorded
// moment the map the first one showed then; every action there is
// refused as a replay's.
func TestTimelineExportReplays(t *testing.T) {
	c := dockertest.Client(t)
	ts := startServer(t, c, recordTimeline(t))
	select {
	case <-ts.Live.Synced():
	case <-time.After(30 * time.Second):
		t.Fatal("never synced with the engine")
	}
	var moments []moment
	// take notes the map of now: the graph the first server serves, at a
	// time after the recorder has it and before anything changed it again
	// (other work on the engine may change it at any time).
	take := func(what string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			var before, after protocol.Snapshot
			getInto(t, ts.URL, "/api/graph", &before)
			dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
				var sum timeline.Summary
				getInto(t, ts.URL, "/api/timeline", &sum)
				return sum.Seq >= before.Seq, "recorder behind the map"
			})
			at := time.Now()
			getInto(t, ts.URL, "/api/graph", &after)
			if after.Seq == before.Seq {
				moments = append(moments, moment{at: at, graph: before, what: what})
				return
			}
		}
		t.Fatalf("%s: the map never held still", what)
	}
	take("start")

	name := dockertest.UniqueName(t, "tl-web")
	res := call(t, ts.URL, "POST", "/api/containers", map[string]any{"name": name, "image": dockertest.FixtureImage(t), "cmd": []string{"sh"}}, nil)
	if res.Status != http.StatusCreated {
		t.Fatalf("POST /api/containers = %d %v, want 201", res.Status, res.Body)
	}
	id, _ := res.Body["id"].(string)
	dockertest.TrackContainer(t, c, id)
	waitNode := func(what string, ok func(topology.Graph) bool) {
		t.Helper()
		dockertest.WaitFor(t, 15*time.Second, func() (bool, string) { return ok(ts.Live.Snapshot().Graph), what })
		take(what)
	}
	waitNode("run", func(g topology.Graph) bool {
		n, ok := g.Node(topology.ContainerNodeID(id))
		return ok && n.Container.Running()
	})
	netID, _ := createNetworkAPI(t, ts.URL, c, dockertest.UniqueName(t, "tlnet"))
	if r := call(t, ts.URL, "POST", "/api/networks/"+netID+"/connect", map[string]any{"container": id}, nil); r.Status != http.StatusOK {
		t.Fatalf("connect = %d %v", r.Status, r.Body)
	}
	waitNode("attach", func(g topology.Graph) bool {
		_, ok := g.MemberEdge(topology.ContainerNodeID(id), topology.NetworkNodeID(netID))
		return ok
	})
	if r := call(t, ts.URL, "POST", "/api/containers/"+id+"/stop", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("stop = %d %v", r.Status, r.Body)
	}
	waitNode("stop", func(g topology.Graph) bool {
		n, ok := g.Node(topology.ContainerNodeID(id))
		return ok && n.Container.State == "exited"
	})

	// The marks say what happened, in words.
	var sum timeline.Summary
	getInto(t, ts.URL, "/api/timeline", &sum)
	var texts []string
	for _, m := range sum.Marks {
		texts = append(texts, m.Text)
	}
	if all := strings.Join(texts, "\n"); !strings.Contains(all, name+" joined ") || !strings.Contains(all, name+" exited") {
		t.Errorf("marks say:\n%s\nwant the attach and the stop of %s", all, name)
	}

	resp, err := http.Get(ts.URL + "/api/timeline/export")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="dockmap-session-`) {
		t.Fatalf("GET /api/timeline/export = %d, Content-Disposition %q", resp.StatusCode, resp.Header.Get("Content-Disposition"))
	}
	file := filepath.Join(t.TempDir(), "session.jsonl.gz")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}

	replay := startReplay(t, file)
	for _, m := range moments {
		var got protocol.Snapshot
		if st := getInto(t, replay, "/api/timeline/at?t="+url.QueryEscape(m.at.Format(time.RFC3339Nano)), &got); st != http.StatusOK {
			t.Fatalf("replay: GET /api/timeline/at (%s) = %d", m.what, st)
		}
		if diff := cmp.Diff(m.graph, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("replay at %s (%s) differs from what the live map said then (-live +replay):\n%s", m.at.Format(time.RFC3339Nano), m.what, diff)
		}
	}
	// The replay's map is the recording's last state, and it says it is
	// a replay.
	var last, end protocol.Snapshot
	var mode struct {
		Replay     bool
		File       string
		Start, End time.Time
	}
	getInto(t, replay, "/api/graph", &last)
	getInto(t, replay, "/api/mode", &mode)
	getInto(t, replay, "/api/timeline/at?t="+url.QueryEscape(mode.End.Format(time.RFC3339Nano)), &end)
	if diff := cmp.Diff(end, last, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("replay: GET /api/graph is not the recording's last state (-at end +graph):\n%s", diff)
	}
	if !mode.Replay || mode.File != "session.jsonl.gz" || mode.End.Before(moments[len(moments)-1].at.Add(-time.Hour)) {
		t.Errorf("replay: GET /api/mode = %+v, want a replay of session.jsonl.gz", mode)
	}
	if st := getInto(t, replay, "/api/timeline/at?t="+url.QueryEscape(mode.Start.Add(-time.Second).Format(time.RFC3339Nano)), &end); st != http.StatusNotFound {
		t.Errorf("replay: GET /api/timeline/at before the start = %d, want 404", st)
	}
	assertReplayRefusesActions(t, replay, id)
	// A network's details come from the engine, which a replay has not.
	var detail map[string]any
	if st := getInto(t, replay, "/api/networks/"+netID, &detail); st != http.StatusForbidden {
		t.Errorf("replay: GET /api/networks/{id} = %d, want 403 (no engine to ask)", st)
	}
}

// assertReplayRefusesActions checks that every action of the route table
// is refused (403) as a replay's.
func assertReplayRefusesActions(t *testing.T, base, ctr string) {
	t.Helper()
	n := 0
	for _, r := range actions() {
		n++
		got := send(t, noFollow, r.Method, base+target(r, ctr, "vol"), map[string]string{"Origin": base}, "{}")
		if got.StatusCode != http.StatusForbidden || !strings.Contains(got.Body, "read-only replay") {
			t.Errorf("replay: %s %s = %d %s, want 403 read-only replay", r.Method, r.Path, got.StatusCode, got.Body)
		}
	}
	if n < 10 {
		t.Errorf("only %d actions tried", n)
	}
}

// TestTimelineRoutes: the timeline answers viewers without the audit
// trail, refuses bad times, and a replay refuses every action, viewer
// reads of the engine included, on the fake engine.
func TestTimelineRoutes(t *testing.T) {
	s := startAuthed(t, recordTimeline(t))
	viewer := map[string]string{"Authorization": "Bearer " + s.view}
	op := map[string]string{"Authorization": "Bearer " + s.op}
	// A refused action leaves an audit frame on the hub.
	send(t, noFollow, "POST", s.URL+"/api/containers", map[string]string{"Authorization": "Bearer " + s.view, "Origin": s.URL}, `{"name":"x","image":"busybox"}`)
	count := func(hdr map[string]string) (audits int, sum timeline.Summary) {
		got := send(t, noFollow, "GET", s.URL+"/api/timeline", hdr, "")
		if err := json.Unmarshal([]byte(got.Body), &sum); err != nil {
			t.Fatalf("GET /api/timeline = %d %s", got.StatusCode, got.Body)
		}
		for _, m := range sum.Marks {
			if m.Type == protocol.TypeAudit {
				audits++
			}
		}
		return audits, sum
	}
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		n, _ := count(op)
		return n > 0, "no audit mark for the operator"
	})
	opAudits, opSum := count(op)
	if n, sum := count(viewer); n != 0 || sum.Count != opSum.Count-opAudits {
		t.Errorf("a viewer's timeline has %d audit marks and %d frames, want none and %d", n, sum.Count, opSum.Count-opAudits)
	}
	for _, q := range []string{"", "?t=yesterday", "?t=2026-13-01T00:00:00Z"} {
		if got := send(t, noFollow, "GET", s.URL+"/api/timeline/at"+q, viewer, ""); got.StatusCode != http.StatusBadRequest {
			t.Errorf("GET /api/timeline/at%s = %d %s, want 400", q, got.StatusCode, got.Body)
		}
	}
	if got := send(t, noFollow, "GET", s.URL+"/api/timeline?from=soon", viewer, ""); got.StatusCode != http.StatusBadRequest {
		t.Errorf("GET /api/timeline?from=soon = %d, want 400", got.StatusCode)
	}
	got := send(t, noFollow, "GET", s.URL+"/api/timeline/at?t="+url.QueryEscape(time.Now().Format(time.RFC3339Nano)), viewer, "")
	var snap protocol.Snapshot
	if err := json.Unmarshal([]byte(got.Body), &snap); err != nil || got.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/timeline/at now = %d %s", got.StatusCode, got.Body)
	}
	if _, ok := snap.Graph.Node(topology.ContainerNodeID(fakeWebID)); !ok {
		t.Errorf("the map now has no web: %s", got.Body)
	}
	var mode struct{ Replay bool }
	if got := send(t, noFollow, "GET", s.URL+"/api/mode", viewer, ""); json.Unmarshal([]byte(got.Body), &mode) != nil || mode.Replay {
		t.Errorf("GET /api/mode on a live dockmap = %s, want replay false", got.Body)
	}

	// A viewer's export holds no audit frame, an operator's does.
	for _, tc := range []struct {
		hdr  map[string]string
		want bool
	}{{viewer, false}, {op, true}} {
		got := send(t, noFollow, "GET", s.URL+"/api/timeline/export", tc.hdr, "")
		rec, err := timeline.Import(strings.NewReader(got.Body))
		if err != nil {
			t.Fatalf("export: %v", err)
		}
		has := false
		for _, e := range rec.Entries(true) {
			has = has || e.Type == protocol.TypeAudit
		}
		if has != tc.want {
			t.Errorf("export with %v holds audit frames: %v, want %v", tc.hdr, has, tc.want)
		}
	}
}
