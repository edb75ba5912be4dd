package timeline_test

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/timeline"
	"github.com/dockmap/dockmap/internal/topology"
)

// Workshop sizes: 30 participants doing 3 actions a minute each on an
// engine of 300 containers, each action making a delta, 3 engine events,
// a job, 2 steps and an audit entry, and 2 probes a minute each besides.
const (
	participants  = 30
	actionsPerMin = 3
	probesPerMin  = 2
	containers    = 300
)

// workshopHour makes the frames of a busy workshop hour; record gets each
// with its time.
func workshopHour(record func(t time.Time, m protocol.Frame)) (first topology.Snapshot) {
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	inv := scene(containers, 0)
	cur := topology.Snapshot{Engine: topology.EngineState{Connected: true, Version: "20.10.24", Host: "unix:///var/run/docker.sock", Since: start},
		Graph: topology.Build(inv)}
	first = cur
	actions := participants * actionsPerMin * 60
	probes := participants * probesPerMin * 60
	step := time.Hour / time.Duration(actions)
	next := len(inv.Containers)
	for a := range actions {
		t := start.Add(time.Duration(a) * step)
		who := a % participants
		j := (a * 7) % len(inv.Containers)
		c := &inv.Containers[j]
		action := "stop"
		switch a % 4 {
		case 0:
			if c.State == "running" {
				c.State, c.Status = "exited", "Exited (0) 1 second ago"
			} else {
				action, c.State, c.Status = "start", "running", "Up 1 second"
			}
		case 1: // connect to another network
			action = "connect"
			k := (j + a) % len(inv.Networks)
			c.Endpoints = append(c.Endpoints[:1:1], topology.Endpoint{NetworkID: inv.Networks[k].ID, NetworkName: inv.Networks[k].Name,
				IP: fmt.Sprintf("10.%d.200.%d", k, 2+a%250), PrefixLen: 16, Aliases: []string{fmt.Sprintf("alias%d", a)}})
		case 2: // run a new one in place of the oldest
			action = "run"
			next++
			name := fmt.Sprintf("p%d-web%d", who, next)
			inv.Containers = append(inv.Containers[1:], topology.Container{ID: fmt.Sprintf("%064x", next), Name: name, Names: []string{name},
				Image: "busybox", State: "running", Status: "Up 1 second", NetworkMode: "bridge", Labels: map[string]string{"workshop": "1"},
				Endpoints: []topology.Endpoint{{NetworkID: inv.Networks[0].ID, NetworkName: "bridge", IP: fmt.Sprintf("172.17.%d.%d", next/250%250, 2+next%250), PrefixLen: 16}}})
		case 3:
			action = "restart"
			c.Status = fmt.Sprintf("Up %d seconds", a%60)
		}
		g := topology.Build(inv)
		d := topology.Diff(cur.Graph, g)
		cur.Graph = g
		if !d.Empty() {
			cur.Seq++
			d.Seq = cur.Seq
			record(t, &protocol.Delta{Delta: d})
		}
		id := fmt.Sprintf("%064x", a)
		for _, ev := range []string{"create", "start", "connect"} {
			record(t, &protocol.Event{Event: docker.Event{Time: t, Type: "container", Action: ev, ID: id, Name: fmt.Sprintf("p%d-web", who),
				Attributes: map[string]string{"image": "busybox", "name": fmt.Sprintf("p%d-web", who), "workshop": "1"}}})
		}
		job := protocol.JobInfo{ID: fmt.Sprintf("j%d", a), Kind: action, Title: fmt.Sprintf("%s p%d-web", action, who), State: protocol.JobDone,
			Role: "operator", Remote: "192.168.1.20", Started: t, Ended: t}
		record(t, &protocol.Job{Job: job})
		for _, s := range []string{"stop", "start"} {
			record(t, &protocol.Step{Job: job.ID, StepInfo: protocol.StepInfo{ID: "r0." + s, Text: s + " p-web", State: protocol.StepDone, At: t}})
		}
		record(t, &protocol.Audit{Entry: protocol.AuditEntry{Time: t, Role: "operator", Remote: "192.168.1.20", Method: "POST",
			Route: "/api/containers/:id/" + action, Params: map[string]string{"id": id}, Status: 200}})
		for p := a * probes / actions; p < (a+1)*probes/actions; p++ {
			record(t, &protocol.Probe{Result: probe.Result{From: strings.Repeat("f", 64), To: strings.Repeat("e", 64), By: "name", Target: "db", OK: p%3 != 0,
				Failure: "dns", Detail: "ping: bad address 'db'", Method: "exec", At: t}})
		}
	}
	return first
}

// BenchmarkTimelineHour records a busy workshop hour (see workshopHour)
// and reports what the recording holds: frames, bytes counted against the
// budget, and the heap it really keeps; with the default budget nothing
// is dropped, with a small one the budget holds.
func BenchmarkTimelineHour(b *testing.B) {
	var frames []frameAt
	first := workshopHour(func(t time.Time, f protocol.Frame) {
		m := protocol.Message(f)
		frames = append(frames, frameAt{t, m.Type, m.Data})
	})
	for _, max := range []int{timeline.DefaultMax, 8 << 20} {
		b.Run(fmt.Sprintf("max=%dMiB", max>>20), func(b *testing.B) {
			for range b.N {
				runtime.GC()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				r := timeline.New(timeline.WithMax(max))
				r.Keyframe(frames[0].t, first)
				for _, f := range frames {
					// A copy, as each hub message is the recorder's
					// alone once the browsers have sent it.
					if err := r.Record(f.t, f.typ, bytes.Clone(f.data)); err != nil {
						b.Fatal(err)
					}
				}
				held := r.Bytes()
				sum := r.Summary(true, time.Time{}, time.Time{}, 1)
				runtime.GC()
				runtime.ReadMemStats(&after)
				if held > max {
					b.Fatalf("holds %d bytes, budget %d", held, max)
				}
				b.ReportMetric(float64(len(frames)), "frames")
				b.ReportMetric(float64(held), "bytes-held")
				b.ReportMetric(float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)), "heap-bytes")
				b.ReportMetric(float64(sum.Dropped), "dropped")
				runtime.KeepAlive(r)
			}
		})
	}
}

type frameAt struct {
	t    time.Time
	typ  string
	data []byte
}
