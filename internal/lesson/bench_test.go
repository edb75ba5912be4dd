package lesson_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/topology"
)

// benchGraph is a 1,000-container map with n participants doing every
// built-in lesson half-way: each has web linked to database, api and db
// on their backend, writer and reader sharing their volume; the rest are
// strangers on the default bridge.
func benchGraph(n int) (topology.Graph, probes) {
	bridge := id("bridge")
	inv := topology.Inventory{Networks: []topology.Network{{ID: bridge, Name: "bridge", Driver: "bridge", Default: true, ICC: true}}}
	p := probes{}
	at := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	c := func(cid, name string, nets ...topology.Endpoint) topology.Container {
		return topology.Container{ID: cid, Name: name, Names: []string{name}, State: "running", Status: "Up", Image: "busybox",
			NetworkMode: "default", Endpoints: nets}
	}
	ep := func(nid, nname, name string, i int) topology.Endpoint {
		return topology.Endpoint{NetworkID: nid, NetworkName: nname, EndpointID: "e-" + name + nname, IP: fmt.Sprintf("10.%d.%d.%d", i/65536%256, i/256%256, i%256), PrefixLen: 16}
	}
	k := 0
	for i := range n {
		pre := fmt.Sprintf("p%d-", i)
		backend := id(fmt.Sprintf("n%d", i))
		vol := pre + "data"
		inv.Networks = append(inv.Networks, topology.Network{ID: backend, Name: pre + "backend", Driver: "bridge", ICC: true})
		inv.Volumes = append(inv.Volumes, topology.Volume{Name: vol, Driver: "local"})
		ids := map[string]string{}
		for _, name := range []string{"web", "database", "api", "db", "writer", "reader"} {
			ids[name] = id(fmt.Sprintf("c%d%s", i, name[:2]))
		}
		web := c(ids["web"], pre+"web", ep(bridge, "bridge", pre+"web", k))
		web.Links = []topology.LinkRef{{Target: pre + "database", Alias: "database"}}
		database := c(ids["database"], pre+"database", ep(bridge, "bridge", pre+"database", k+1))
		database.Names = append(database.Names, pre+"web/database")
		api := c(ids["api"], pre+"api", ep(bridge, "bridge", pre+"api", k+2), ep(backend, pre+"backend", pre+"api", k+2))
		db := c(ids["db"], pre+"db", ep(backend, pre+"backend", pre+"db", k+3))
		writer, reader := c(ids["writer"], pre+"writer"), c(ids["reader"], pre+"reader")
		writer.Mounts = []topology.Mount{{Type: "volume", Name: vol, Destination: "/data", Driver: "local", RW: true}}
		reader.Mounts = []topology.Mount{{Type: "volume", Name: vol, Destination: "/in", Driver: "local"}}
		inv.Containers = append(inv.Containers, web, database, api, db, writer, reader)
		k += 4
		p[[3]string{ids["web"], ids["database"], "ip"}] = probeResult{true, at}
		p[[3]string{ids["web"], ids["database"], "name"}] = probeResult{true, at}
		p[[3]string{ids["api"], ids["db"], "name"}] = probeResult{true, at}
	}
	for i := len(inv.Containers); i < 1000; i++ {
		inv.Containers = append(inv.Containers, c(id(fmt.Sprintf("s%d", i)), fmt.Sprintf("stranger-%d", i), ep(bridge, "bridge", fmt.Sprint(i), 100000+i)))
	}
	return topology.Build(inv), p
}

// BenchmarkLessonsPerDelta: what one delta costs the live lessons, every
// step of every built-in lesson for 30 participants on a 1,000-container
// map (finding the participants included).
func BenchmarkLessonsPerDelta(b *testing.B) {
	const participants = 30
	g, p := benchGraph(participants)
	ls := lesson.Builtin()
	tr := lesson.NewTracker(ls)
	published := 0
	tr.Pass(topology.Snapshot{Seq: 1, Graph: g}, p, func(lesson.State) { published++ })
	if published != participants*len(ls) {
		b.Fatalf("first pass published %d states, want %d", published, participants*len(ls))
	}
	rows, _ := tr.Progress("links")
	if len(rows) != participants || rows[0].Done < 3 {
		b.Fatalf("links progress has %d rows, the first %+v, want %d participants well on", len(rows), rows[0], participants)
	}
	seq := uint64(1)
	b.ResetTimer()
	for b.Loop() {
		seq++
		tr.Pass(topology.Snapshot{Seq: seq, Graph: g}, p, nil)
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(participants*len(ls)), "µs/participant-lesson")
}
