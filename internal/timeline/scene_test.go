package timeline_test

import (
	"fmt"
	"time"

	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// scene is an engine of about n containers at a step of a session: as
// steps go by, containers stop and start, join other networks and come
// and go, a few at a time, as a workshop makes them.
func scene(n, step int) topology.Inventory {
	const nets = 8
	inv := topology.Inventory{Networks: []topology.Network{{ID: netID(0), Name: "bridge", Driver: "bridge", Scope: "local", Default: true, ICC: true,
		Subnets: []topology.Subnet{{Subnet: "172.17.0.0/16", Gateway: "172.17.0.1"}}}}}
	for k := 1; k < nets; k++ {
		inv.Networks = append(inv.Networks, topology.Network{ID: netID(k), Name: fmt.Sprintf("net%d", k), Driver: "bridge", Scope: "local", ICC: true,
			Subnets: []topology.Subnet{{Subnet: fmt.Sprintf("10.%d.0.0/16", k), Gateway: fmt.Sprintf("10.%d.0.1", k)}}})
	}
	first := step / 5 // the oldest containers go, new ones come
	for i := first; i < first+n; i++ {
		state := "running"
		if (i+step)%7 == 0 {
			state = "exited"
		}
		k := (i + step/3) % nets
		ep := topology.Endpoint{NetworkID: netID(k), NetworkName: inv.Networks[k].Name, IP: fmt.Sprintf("10.%d.%d.%d", k, i/250, 2+i%250), PrefixLen: 16}
		name := fmt.Sprintf("p%d-web%d", i%30, i)
		inv.Containers = append(inv.Containers, topology.Container{ID: fmt.Sprintf("%064x", i+1), Name: name, Names: []string{name},
			Image: "busybox", State: state, Status: state, NetworkMode: inv.Networks[k].Name, Endpoints: []topology.Endpoint{ep},
			Labels: map[string]string{"workshop": "1"}})
	}
	return inv
}

func netID(k int) string { return fmt.Sprintf("%064x", 0xffff00+k) }

// session is a recorded session's frames with what the map was after each.
type session struct {
	start  time.Time
	frames []frame
}

type frame struct {
	t    time.Time
	typ  string
	data []byte
	// want is the map after the frame.
	want topology.Snapshot
}

// makeSession makes steps deltas of a scene of n containers, one a
// second, each followed by an event and a probe frame, with an engine
// frame and an audit frame now and then.
func makeSession(n, steps int) session {
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	eng := topology.EngineState{Connected: true, Version: "20.10", Since: start}
	cur := topology.Snapshot{Engine: eng, Graph: topology.Build(scene(n, 0))}
	s := session{start: start, frames: []frame{{t: start, typ: protocol.TypeSnapshot, data: protocol.Encode(&protocol.Snapshot{Snapshot: cur}), want: cur}}}
	add := func(t time.Time, f protocol.Frame) {
		m := protocol.Message(f)
		s.frames = append(s.frames, frame{t: t, typ: m.Type, data: m.Data, want: cur})
	}
	for i := 1; i <= steps; i++ {
		t := start.Add(time.Duration(i) * time.Second)
		g := topology.Build(scene(n, i))
		d := topology.Diff(cur.Graph, g)
		cur.Graph, cur.Seq = g, cur.Seq+1
		d.Seq = cur.Seq
		add(t, &protocol.Delta{Delta: d})
		add(t.Add(100*time.Millisecond), &protocol.Probe{Result: probeResult(i)})
		add(t.Add(200*time.Millisecond), eventFrame(i))
		if i%10 == 0 {
			cur.Engine = topology.EngineState{Connected: i%20 != 0, Version: "20.10", LastError: "gone", Since: t}
			add(t.Add(300*time.Millisecond), &protocol.Engine{Engine: cur.Engine})
			add(t.Add(400*time.Millisecond), &protocol.Audit{Entry: protocol.AuditEntry{Time: t, Role: "operator", Method: "POST", Route: "/api/containers", Status: 201}})
		}
	}
	return s
}
