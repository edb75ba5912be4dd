package lesson_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/topology"
)

// The built-in lessons are the tutorial's chapters, in order, with the
// ids the API promises.
func TestBuiltinLessons(t *testing.T) {
	var ids []string
	for _, l := range lesson.Builtin() {
		ids = append(ids, l.ID)
		if len(l.Steps) < 3 {
			t.Errorf("lesson %s has %d steps", l.ID, len(l.Steps))
		}
	}
	if diff := cmp.Diff([]string{"links", "bridges", "sharing"}, ids); diff != "" {
		t.Errorf("built-in lessons (-want +got):\n%s", diff)
	}
}

// Each bad file names its line and what is wrong, and nothing else.
func TestParseErrorsNameTheLine(t *testing.T) {
	const good = "id: x\ntitle: X\nsteps:\n  - id: a\n    title: A\n    check: {kind: running, container: web}\n"
	tests := []struct {
		name, file string
		line       int
		want       string
	}{
		{"yaml syntax", "id: x\ntitle: [unclosed\nsteps: []\n", 3, ""},
		{"unknown field", "id: x\ntitle: X\nstepz: []\n", 3, "stepz"},
		{"unknown check kind", good + "  - id: b\n    title: B\n    check: {kind: pong, container: web}\n", 9, `unknown check kind "pong" (known: link, network, probe, running, volume)`},
		{"missing field", good + "  - id: b\n    title: B\n    check:\n      kind: link\n      from: web\n", 10, `a link check needs "to"`},
		{"need of a missing step", good + "  - id: b\n    title: B\n    needs: [zz]\n    check: {kind: running, container: web}\n", 9, `needs "zz": no such step`},
		{"need of a later step", "id: x\ntitle: X\nsteps:\n  - id: a\n    title: A\n    needs: [b]\n    check: {kind: running, container: web}\n  - id: b\n    title: B\n    check: {kind: running, container: db}\n", 6, "it comes later"},
		{"duplicate step", good + "  - id: a\n    title: A again\n    check: {kind: running, container: web}\n", 7, `step id "a" is used twice`},
		{"bad probe by", good + "  - id: b\n    title: B\n    check: {kind: probe, from: web, to: db, by: dns, expect: ok}\n", 9, `by is "dns": name or ip`},
		{"bad lesson id", "id: Not An ID\ntitle: X\nsteps: []\n", 1, `lesson id "Not An ID"`},
		{"no steps", "id: x\ntitle: X\nsteps: []\n", 0, "has no steps"},
		{"duplicate key", "id: x\nid: y\ntitle: X\n", 2, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := lesson.Parse("mine.yaml", []byte(tt.file))
			var le *lesson.Error
			if !errors.As(err, &le) {
				t.Fatalf("Parse = %v, want a *lesson.Error", err)
			}
			if le.File != "mine.yaml" || (tt.line > 0 && le.Line != tt.line) {
				t.Errorf("error at %s:%d, want mine.yaml:%d (%v)", le.File, le.Line, tt.line, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to say %q", err, tt.want)
			}
		})
	}
	if _, err := lesson.Parse("mine.yaml", []byte(good)); err != nil {
		t.Errorf("a good file: %v", err)
	}
	huge := good + "# " + strings.Repeat("x", lesson.MaxFileSize) + "\n"
	if _, err := lesson.Parse("huge.yaml", []byte(huge)); err == nil || !strings.Contains(err.Error(), "at most") {
		t.Errorf("a huge file: %v, want it refused for its size", err)
	}
}

// A directory with bad files still loads the good ones; a lesson id
// taken by a built-in one is refused.
func TestLoadDirKeepsTheGoodOnes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.yaml", "id: mine\ntitle: Mine\nsteps:\n  - id: a\n    title: A\n    check: {kind: running, container: web}\n")
	write("b.yml", "id: broken\ntitle: B\nsteps:\n  - id: a\n    title: A\n    check: {kind: nope}\n")
	write("c.yaml", "id: links\ntitle: Not the tutorial\nsteps:\n  - id: a\n    title: A\n    check: {kind: running, container: web}\n")
	write("notes.txt", "not a lesson")
	ls, errs := lesson.LoadDir(dir, lesson.Builtin()...)
	if len(ls) != 1 || ls[0].ID != "mine" || ls[0].Source != "a.yaml" {
		t.Errorf("loaded %+v, want only mine from a.yaml", ls)
	}
	var msgs []string
	for _, e := range errs {
		msgs = append(msgs, e.Error())
	}
	got := strings.Join(msgs, "\n")
	for _, want := range []string{`b.yml:6: step a: unknown check kind "nope"`, `c.yaml:1: lesson id "links" is taken by builtin/1-links.yaml`} {
		if !strings.Contains(got, want) {
			t.Errorf("errors:\n%s\nwant one saying %q", got, want)
		}
	}
	if len(errs) != 2 {
		t.Errorf("%d errors, want 2:\n%s", len(errs), got)
	}
}

// probes is a table of latest results: the evaluator only reads them.
type probes map[[3]string]probeResult

type probeResult struct {
	ok bool
	at time.Time
}

func (p probes) Latest(from, to, by string) (bool, time.Time, bool) {
	r, found := p[[3]string{from, to, by}]
	return r.ok, r.at, found
}

func id(s string) string { return s + strings.Repeat("0", 64-len(s)) }

const (
	bridgeID  = "b0000000000000000000000000000000000000000000000000000000000000br"
	backendID = "a0000000000000000000000000000000000000000000000000000000000000ap"
)

func ctr(cid, name string, nets ...string) topology.Container {
	c := topology.Container{ID: cid, Name: name, Names: []string{name}, State: "running", Status: "Up", Image: "busybox", NetworkMode: "default"}
	for _, n := range nets {
		nid := map[string]string{"bridge": bridgeID, "p1-backend": backendID}[n]
		c.Endpoints = append(c.Endpoints, topology.Endpoint{NetworkID: nid, NetworkName: n, EndpointID: "e-" + name + n, IP: "10.0.0.2"})
	}
	return c
}

func graph(cs ...topology.Container) topology.Graph {
	return topology.Build(topology.Inventory{
		Networks: []topology.Network{
			{ID: bridgeID, Name: "bridge", Driver: "bridge", Default: true, ICC: true},
			{ID: backendID, Name: "p1-backend", Driver: "bridge", ICC: true},
		},
		Volumes:    []topology.Volume{{Name: "p1-data", Driver: "local"}},
		Containers: cs,
	})
}

func states(ss []lesson.StepState) map[string]string {
	out := map[string]string{}
	for _, s := range ss {
		out[s.ID] = s.State
	}
	return out
}

func lessonByID(t *testing.T, id string) lesson.Lesson {
	t.Helper()
	for _, l := range lesson.Builtin() {
		if l.ID == id {
			return l
		}
	}
	t.Fatalf("no built-in lesson %s", id)
	return lesson.Lesson{}
}

// Chapter 1 for participant p1-, step by step: each step ticks when the
// map and the probes say so, another participant's containers count for
// nothing, and a tick stays once the lesson moves past it.
func TestLinksLessonTicksAsTheLabGoes(t *testing.T) {
	l := lessonByID(t, "links")
	web, db := id("we"), id("db")
	now := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	ticked := map[string]bool{}
	eval := func(g topology.Graph, p probes) map[string]string {
		return states(lesson.Evaluate(l, g, "p1-", p, ticked))
	}

	// Someone else's database and web: nothing of p1's is done.
	other := graph(ctr(id("o1"), "database", "bridge"), ctr(id("o2"), "p2-web", "bridge"))
	if got := eval(other, nil); got["run-database"] != "todo" || got["run-web"] != "todo" {
		t.Errorf("with only others' containers: %v", got)
	}

	g := graph(ctr(db, "p1-database", "bridge"), ctr(web, "p1-web", "bridge"))
	p := probes{{web, db, "ip"}: {true, now}, {web, db, "name"}: {false, now}}
	got := eval(g, p)
	want := map[string]string{"run-database": "done", "run-web": "done", "ping-ip": "done", "ping-name-fails": "done",
		"add-link": "todo", "ping-name": "todo", "one-way": "todo"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("before the link (-want +got):\n%s", diff)
	}

	// The link (web re-created: a new ID), and the name works now.
	web2 := id("w2")
	linked := ctr(web2, "p1-web", "bridge")
	linked.Links = []topology.LinkRef{{Target: "p1-database", Alias: "database"}}
	// The engine lists a legacy link as an extra name of its target.
	target := ctr(db, "p1-database", "bridge")
	target.Names = append(target.Names, "p1-web/database")
	g = graph(target, linked)
	p = probes{{web2, db, "name"}: {true, now.Add(time.Minute)}, {db, web2, "name"}: {false, now.Add(time.Minute)}}
	got = eval(g, p)
	want = map[string]string{"run-database": "done", "run-web": "done", "ping-ip": "done", "ping-name-fails": "done",
		"add-link": "done", "ping-name": "done", "one-way": "done"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after the link (-want +got):\n%s", diff)
	}

	// Without the ticks kept, the name step that now works is failed: the
	// probe contradicts it.
	fresh := states(lesson.Evaluate(l, g, "p1-", p, nil))
	if fresh["ping-name-fails"] != "todo" && fresh["ping-name-fails"] != "failed" {
		t.Errorf("ping-name-fails without ticks = %s", fresh["ping-name-fails"])
	}
	if fresh["ping-ip"] != "todo" {
		t.Errorf("ping-ip with no IP probe of the new web = %s, want todo", fresh["ping-ip"])
	}
}

// A probe that contradicts its step marks it failed, with what was seen.
func TestProbeStepFails(t *testing.T) {
	l := lessonByID(t, "bridges")
	api, db := id("ap"), id("db")
	g := graph(ctr(api, "p1-api", "p1-backend"), ctr(db, "p1-db", "p1-backend"))
	at := time.Date(2026, 12, 7, 9, 30, 5, 0, time.UTC)
	ss := lesson.Evaluate(l, g, "p1-", probes{{api, db, "name"}: {false, at}}, nil)
	for _, s := range ss {
		if s.ID != "api-to-db" {
			continue
		}
		if s.State != "failed" || !strings.Contains(s.Detail, "ping p1-api → p1-db by name fails (09:30:05)") {
			t.Errorf("api-to-db = %s %q, want failed with the result and its time", s.State, s.Detail)
		}
		return
	}
	t.Fatal("no step api-to-db")
}

// The network and volume checks read the map: a shared network by its
// participant name, a shared volume.
func TestNetworkAndVolumeChecks(t *testing.T) {
	bridges := lessonByID(t, "bridges")
	onBridge := graph(ctr(id("ap"), "p1-api", "bridge"), ctr(id("db"), "p1-db", "bridge"))
	if s := states(lesson.Evaluate(bridges, onBridge, "p1-", nil, nil)); s["share-network"] != "todo" {
		t.Errorf("both only on the default bridge: share-network = %s, want todo (the step names backend)", s["share-network"])
	}
	onBackend := graph(ctr(id("ap"), "p1-api", "bridge", "p1-backend"), ctr(id("db"), "p1-db", "p1-backend"))
	if s := states(lesson.Evaluate(bridges, onBackend, "p1-", nil, nil)); s["share-network"] != "done" {
		t.Errorf("both on p1-backend: share-network = %s, want done", s["share-network"])
	}

	sharing := lessonByID(t, "sharing")
	w, r := ctr(id("wr"), "p1-writer"), ctr(id("re"), "p1-reader")
	if s := states(lesson.Evaluate(sharing, graph(w, r), "p1-", nil, nil)); s["share-volume"] != "todo" {
		t.Errorf("no mounts: share-volume = %s", s["share-volume"])
	}
	w.Mounts = []topology.Mount{{Type: "volume", Name: "p1-data", Destination: "/data", Driver: "local", RW: true}}
	r.Mounts = []topology.Mount{{Type: "volume", Name: "p1-data", Destination: "/in", Driver: "local"}}
	if s := states(lesson.Evaluate(sharing, graph(w, r), "p1-", nil, nil)); s["share-volume"] != "done" {
		t.Errorf("both mount p1-data: share-volume = %s, want done", s["share-volume"])
	}
}

// The server's store of probe results is what lessons read.
var _ lesson.Probes = (*probe.Results)(nil)
