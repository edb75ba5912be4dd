package metrics

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// Every kind of frame counts where it should: a TCP probe under tcp, a
// failure under its kind, only a job's end, an event of the default
// engine under local, an engine's state as 1 or 0.
func TestCountFrames(t *testing.T) {
	m := New()
	for _, f := range []protocol.Frame{
		&protocol.Delta{Delta: topology.Delta{Seq: 1}},
		&protocol.Event{Event: docker.Event{Type: "container", Action: "start"}},
		&protocol.Event{Event: docker.Event{Type: "network", Action: "connect"}, Engine: "lab1"},
		&protocol.Probe{Result: probe.Result{By: "ip", OK: true, RTTms: 0.2}},
		&protocol.Probe{Result: probe.Result{By: "ip", Port: 80, Failure: "timeout"}},
		&protocol.Job{Job: protocol.JobInfo{Kind: "add-link", State: protocol.JobRunning}},
		&protocol.Job{Job: protocol.JobInfo{Kind: "add-link", State: protocol.JobDone}},
		&protocol.Engines{Engines: []engines.State{{Name: "local", Connected: true}, {Name: "lab1"}}},
	} {
		m.count(protocol.Message(f))
	}
	for _, c := range []struct {
		what string
		got  float64
		want float64
	}{
		{"deltas", testutil.ToFloat64(m.deltas), 1},
		{"local container events", testutil.ToFloat64(m.events.WithLabelValues("local", "container")), 1},
		{"lab1 network events", testutil.ToFloat64(m.events.WithLabelValues("lab1", "network")), 1},
		{"ip ok probes", testutil.ToFloat64(m.probes.WithLabelValues("ip", "ok")), 1},
		{"tcp timeouts", testutil.ToFloat64(m.probes.WithLabelValues("tcp", "timeout")), 1},
		{"jobs done", testutil.ToFloat64(m.jobs.WithLabelValues("add-link", "done")), 1},
		{"jobs running (not an end)", testutil.ToFloat64(m.jobs.WithLabelValues("add-link", "running")), 0},
		{"local connected", testutil.ToFloat64(m.connected.WithLabelValues("local")), 1},
		{"lab1 connected", testutil.ToFloat64(m.connected.WithLabelValues("lab1")), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
		}
	}
}
