package timeline_test

import (
	"bytes"
	"compress/gzip"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/timeline"
	"github.com/dockmap/dockmap/internal/topology"
)

func probeResult(i int) probe.Result {
	return probe.Result{From: "p1-web", To: "p1-db", By: "name", OK: i%2 == 0, Failure: "dns"}
}

func eventFrame(i int) *protocol.Event {
	return &protocol.Event{Event: docker.Event{Type: "container", Action: "start", ID: strings.Repeat("a", 64), Name: "p1-web"}}
}

// record records every frame of s.
func record(t testing.TB, r *timeline.Recorder, s session) {
	t.Helper()
	for _, f := range s.frames {
		if err := r.Record(f.t, f.typ, f.data); err != nil {
			t.Fatalf("Record(%s at %s): %v", f.typ, f.t, err)
		}
	}
}

// checkAt checks that At gives the map after each frame at the frame's
// time, and half-way to the next one, from the first frame at or after
// from on.
func checkAt(t *testing.T, r *timeline.Recorder, s session, from time.Time) {
	t.Helper()
	n := 0
	for i, f := range s.frames {
		if f.t.Before(from) || i+1 < len(s.frames) && s.frames[i+1].t.Equal(f.t) {
			continue
		}
		moments := []time.Time{f.t}
		if i+1 < len(s.frames) {
			moments = append(moments, f.t.Add(s.frames[i+1].t.Sub(f.t)/2))
		}
		for _, at := range moments {
			got, err := r.At(at)
			if err != nil {
				t.Fatalf("At(%s): %v", at, err)
			}
			if diff := cmp.Diff(f.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Fatalf("At(%s) after frame %d (%s) (-want +got):\n%s", at, i, f.typ, diff)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatal("no moment checked")
	}
}

// TestAtIsTheMapAtThatMoment: At gives, at every moment, the graph that
// applying the deltas up to it gives (keyframes every 7 deltas, so most
// moments sit between two).
func TestAtIsTheMapAtThatMoment(t *testing.T) {
	s := makeSession(40, 60)
	r := timeline.New(timeline.WithKeyframes(7, time.Hour))
	record(t, r, s)
	checkAt(t, r, s, s.start)
	if _, err := r.At(s.start.Add(-time.Nanosecond)); !errors.Is(err, timeline.ErrBefore) {
		t.Errorf("At(before the start) = %v, want ErrBefore", err)
	}
	if diff := cmp.Diff(s.frames[len(s.frames)-1].want, r.Last(), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Last (-want +got):\n%s", diff)
	}
	sum := r.Summary(true, time.Time{}, time.Time{}, 0)
	if got, want := sum.Count, len(s.frames)-1; got != want {
		t.Errorf("Count = %d, want %d (every frame but the first snapshot)", got, want)
	}
	if !sum.Start.Equal(s.start) || !sum.End.Equal(s.frames[len(s.frames)-1].t) {
		t.Errorf("Start, End = %s, %s; want %s, %s", sum.Start, sum.End, s.start, s.frames[len(s.frames)-1].t)
	}
}

// TestTimeKeyframes: a keyframe comes after the keyframe interval even
// with few deltas, so At never replays more than that interval.
func TestTimeKeyframes(t *testing.T) {
	s := makeSession(10, 30)
	r := timeline.New(timeline.WithKeyframes(1000, 5*time.Second))
	record(t, r, s)
	keyframes := 0
	for _, e := range r.Entries(true) {
		if e.Type == protocol.TypeSnapshot {
			keyframes++
		}
	}
	if keyframes < 6 {
		t.Errorf("%d keyframes in 30 s with one due every 5 s, want at least 6", keyframes)
	}
	checkAt(t, r, s, s.start)
}

// TestBudgetDropsOldestFirst: past its byte budget the recorder drops the
// oldest frames, down to a keyframe, holds no more than the budget after
// any frame, and still gives the right map at every moment it holds.
func TestBudgetDropsOldestFirst(t *testing.T) {
	s := makeSession(40, 200)
	keyframe := len(s.frames[0].data)
	max := 12 * keyframe
	r := timeline.New(timeline.WithMax(max), timeline.WithKeyframes(10, time.Hour))
	for _, f := range s.frames {
		if err := r.Record(f.t, f.typ, f.data); err != nil {
			t.Fatal(err)
		}
		if b := r.Bytes(); b > max {
			t.Fatalf("holds %d bytes after the frame at %s, budget %d", b, f.t, max)
		}
	}
	entries := r.Entries(true)
	if entries[0].Type != protocol.TypeSnapshot {
		t.Errorf("the recording starts with a %s, want a keyframe", entries[0].Type)
	}
	sum := r.Summary(true, time.Time{}, time.Time{}, 0)
	if sum.Dropped == 0 || !sum.Start.After(s.start) {
		t.Fatalf("dropped %d, start %s: want old frames dropped", sum.Dropped, sum.Start)
	}
	if got, want := sum.Count+sum.Dropped, len(s.frames)-1; got != want {
		t.Errorf("held %d + dropped %d = %d frames, want %d", sum.Count, sum.Dropped, got, want)
	}
	// What is left is the latest part, and right.
	if !sum.End.Equal(s.frames[len(s.frames)-1].t) {
		t.Errorf("End = %s, want the last frame's %s", sum.End, s.frames[len(s.frames)-1].t)
	}
	checkAt(t, r, s, sum.Start)
	if _, err := r.At(sum.Start.Add(-time.Nanosecond)); !errors.Is(err, timeline.ErrBefore) {
		t.Errorf("At(before what is left) = %v, want ErrBefore", err)
	}
}

// TestBudgetWithOneKeyframe: with automatic keyframes off, the budget is
// still kept: a new keyframe takes the place of the dropped frames.
func TestBudgetWithOneKeyframe(t *testing.T) {
	s := makeSession(40, 100)
	max := 4 * len(s.frames[0].data)
	r := timeline.New(timeline.WithMax(max), timeline.WithKeyframes(0, 0))
	record(t, r, s)
	if b := r.Bytes(); b > max {
		t.Fatalf("holds %d bytes, budget %d", b, max)
	}
	checkAt(t, r, s, r.Summary(true, time.Time{}, time.Time{}, 0).Start)
}

// TestExportImportRoundTrip: a recording exported and read back is the
// same recording, with the same map at every moment; a viewer's export
// leaves the audit frames out.
func TestExportImportRoundTrip(t *testing.T) {
	s := makeSession(30, 50)
	r := timeline.New(timeline.WithKeyframes(8, time.Hour))
	record(t, r, s)
	var buf bytes.Buffer
	if err := r.Export(&buf, true); err != nil {
		t.Fatal(err)
	}
	back, err := timeline.Import(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if diff := cmp.Diff(r.Entries(true), back.Entries(true)); diff != "" {
		t.Errorf("entries read back (-exported +read):\n%s", diff)
	}
	if diff := cmp.Diff(r.Summary(true, time.Time{}, time.Time{}, 0), back.Summary(true, time.Time{}, time.Time{}, 0)); diff != "" {
		t.Errorf("summary read back (-exported +read):\n%s", diff)
	}
	checkAt(t, back, s, s.start)

	buf.Reset()
	if err := r.Export(&buf, false); err != nil {
		t.Fatal(err)
	}
	viewer, err := timeline.Import(&buf)
	if err != nil {
		t.Fatalf("Import a viewer's export: %v", err)
	}
	for _, e := range viewer.Entries(true) {
		if e.Type == protocol.TypeAudit {
			t.Fatalf("a viewer's export holds an audit frame: %s", e.Data)
		}
	}
	if got, want := len(viewer.Entries(true)), len(r.Entries(false)); got != want {
		t.Errorf("a viewer's export holds %d entries, want %d", got, want)
	}
}

// TestImportRefusesBadFiles: a file that is not a recording, or one this
// dockmap cannot replay, is refused with the line at fault.
func TestImportRefusesBadFiles(t *testing.T) {
	s := makeSession(5, 3)
	r := timeline.New()
	record(t, r, s)
	var buf bytes.Buffer
	if err := r.Export(&buf, true); err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if _, err := plain.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(strings.TrimSuffix(plain.String(), "\n"), "\n")
	with := func(i int, l string) string {
		c := append([]string(nil), lines...)
		c[i] = l + "\n"
		return strings.Join(c, "")
	}
	if _, err := timeline.Import(strings.NewReader(plain.String())); err != nil {
		t.Fatalf("the plain file: %v", err)
	}
	for _, tc := range []struct {
		name, file string
		line       int
		want       string
	}{
		{"empty", "", 1, "empty"},
		{"not ours", "hello\n", 1, "not a dockmap timeline"},
		{"broken gzip", "\x1f\x8bxxxxxxxxxxxxxxxxxxxxxxx", 1, "gzip"},
		{"newer version", with(0, `{"format":"dockmap-timeline","version":2}`), 1, "version 2"},
		{"header only", lines[0], 2, "no entries"},
		{"starts with a delta", lines[0] + lines[2], 2, "want a snapshot"},
		{"garbled", with(3, `{"t":"2026-12-07T09:00:01Z","type":"delta","frame":{"seq":`), 4, "not an entry"},
		{"bad delta", with(2, `{"t":"2026-12-07T09:00:01Z","type":"delta","frame":{"seq":"one"}}`), 3, "delta"},
		{"unknown field", with(2, `{"t":"2026-12-07T09:00:01Z","type":"probe","frame":{},"extra":1}`), 3, "unknown field"},
		{"no frame", with(2, `{"t":"2026-12-07T09:00:01Z","type":"probe"}`), 3, "needs"},
		{"time goes back", with(2, `{"t":"2026-12-07T08:00:00Z","type":"probe","frame":{}}`), 3, "before the line above"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := timeline.Import(strings.NewReader(tc.file))
			var le *timeline.LineError
			if !errors.As(err, &le) || le.Line != tc.line || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Import = %v, want an error on line %d about %q", err, tc.line, tc.want)
			}
		})
	}
}

// TestMarks: each frame gets one short line, a frame type this dockmap
// does not know included; the latest marks of a range are kept, and
// audit marks only for operators.
func TestMarks(t *testing.T) {
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	inv := scene(3, 1)
	g0 := topology.Build(inv)
	inv.Containers[0].State = "exited"
	g1 := topology.Build(inv)
	d := topology.Diff(g0, g1)
	d.Seq = 1
	r := timeline.New()
	r.Keyframe(start, topology.Snapshot{Graph: g0})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.Record(start.Add(time.Second), protocol.TypeDelta, protocol.Encode(&protocol.Delta{Delta: d})))
	must(r.Record(start.Add(2*time.Second), "lesson", []byte(`{"type":"lesson","lesson":{"id":"links","title":"step 2 done"}}`)))
	must(r.Record(start.Add(3*time.Second), protocol.TypeAudit, protocol.Encode(&protocol.Audit{Entry: protocol.AuditEntry{Role: "operator", Method: "POST", Route: "/api/links", Status: 202}})))
	want := []timeline.Mark{
		{T: start.Add(time.Second), Type: "delta", Text: inv.Containers[0].Name + " exited"},
		{T: start.Add(2 * time.Second), Type: "lesson", Text: "lesson step 2 done"},
		{T: start.Add(3 * time.Second), Type: "audit", Text: "operator POST /api/links: 202"},
	}
	if diff := cmp.Diff(want, r.Summary(true, time.Time{}, time.Time{}, 0).Marks); diff != "" {
		t.Errorf("operator's marks (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want[:2], r.Summary(false, time.Time{}, time.Time{}, 0).Marks); diff != "" {
		t.Errorf("viewer's marks (-want +got):\n%s", diff)
	}
	got := r.Summary(true, start.Add(time.Second), start.Add(2*time.Second), 1)
	if diff := cmp.Diff(want[1:2], got.Marks); diff != "" || !got.Truncated {
		t.Errorf("marks from 1 s to 2 s, at most 1 (-want +got), truncated %v:\n%s", got.Truncated, diff)
	}
}
