package timeline_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/hub"
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

// overflowing is a Source whose first subscription falls behind at once:
// more frames are published than its buffer holds before Run reads any.
type overflowing struct {
	h     *hub.Hub
	snap  topology.Snapshot
	calls int
}

func (o *overflowing) Subscribe(ctx context.Context) (topology.Snapshot, *hub.Subscription) {
	o.calls++
	sub := o.h.Subscribe(ctx)
	if o.calls == 1 {
		for range 3 {
			o.h.Publish(protocol.Message(&protocol.Event{}))
		}
	} else {
		o.h.Publish(protocol.Message(&protocol.Probe{}))
	}
	return o.snap, sub
}

// TestRunCountsGaps: a recorder that falls behind the hub is dropped like
// any slow subscriber (the hub never waits for it), counts the gap and
// resumes from a fresh snapshot; it stops when the hub closes.
func TestRunCountsGaps(t *testing.T) {
	h := hub.New(2)
	src := &overflowing{h: h, snap: topology.Snapshot{Seq: 4, Graph: topology.Build(scene(3, 0))}}
	r := timeline.New()
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background(), src) }()
	deadline := time.Now().Add(10 * time.Second)
	for r.Summary(true, time.Time{}, time.Time{}, 0).Gaps == 0 || r.Summary(true, time.Time{}, time.Time{}, 0).Count < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("no gap counted: %+v", r.Summary(true, time.Time{}, time.Time{}, 0))
		}
		time.Sleep(time.Millisecond)
	}
	h.Close()
	if err := <-done; err != nil {
		t.Errorf("Run = %v after the hub closed, want nil", err)
	}
	sum := r.Summary(true, time.Time{}, time.Time{}, 0)
	if sum.Gaps != 1 || sum.Count != 3 || sum.Seq != 4 {
		t.Errorf("Gaps %d, Count %d, Seq %d; want 1 gap, the 2 events the buffer held and the probe after it, seq 4", sum.Gaps, sum.Count, sum.Seq)
	}
	var keyframes int
	for _, e := range r.Entries(true) {
		if e.Type == protocol.TypeSnapshot {
			keyframes++
		}
	}
	if keyframes != 2 {
		t.Errorf("%d keyframes, want one per subscription", keyframes)
	}
}
