package reach_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// benchGraph is the engine DESIGN.md budgets for: 1,000 containers on 100
// networks (the default bridge, a few internal, a few with ICC off), each
// on one to three of them, with links on the default bridge, shared
// namespaces, stopped containers and exposed ports.
func benchGraph(r *rand.Rand) (topology.Graph, []topology.NodeID) {
	const containers, networks = 1000, 100
	nets := []topology.Network{bridge, hostNet, noneNet}
	for i := range networks - 1 {
		n := topology.Network{ID: id(fmt.Sprintf("net%d", i)), Name: fmt.Sprintf("net%d", i), Driver: "bridge", ICC: true}
		n.Internal = i%10 == 1
		n.ICC = i%10 != 2
		nets = append(nets, n)
	}
	cs := make([]topology.Container, 0, containers)
	ids := make([]topology.NodeID, 0, containers)
	for i := range containers {
		name := fmt.Sprintf("c%d", i)
		var opts []option
		switch k := r.IntN(100); {
		case k < 5 && i > 0:
			opts = append(opts, in(fmt.Sprintf("c%d", r.IntN(i))))
		case k < 7:
			opts = append(opts, mode("host"), on("host"))
		case k < 8:
			opts = append(opts, mode("none"), on("none"))
		default:
			seen := map[int]bool{}
			for range 1 + r.IntN(3) {
				n := r.IntN(networks)
				if seen[n] {
					continue
				}
				seen[n] = true
				if n == 0 {
					opts = append(opts, on("bridge"))
				} else {
					opts = append(opts, on(fmt.Sprintf("net%d", n-1), "alias"+name))
				}
			}
		}
		if r.IntN(10) == 0 {
			opts = append(opts, stopped)
		}
		if r.IntN(2) == 0 {
			opts = append(opts, port(uint16(1000+r.IntN(9000))))
		}
		if r.IntN(10) == 0 && i > 0 {
			opts = append(opts, linkedFrom(fmt.Sprintf("c%d", r.IntN(i)), "l"+name))
		}
		cs = append(cs, ctr(name, opts...))
		ids = append(ids, node(name))
	}
	return topology.Build(topology.Inventory{Networks: nets, Containers: cs}), ids
}

// BenchmarkNew is the cost of indexing the graph once.
func BenchmarkNew(b *testing.B) {
	g, _ := benchGraph(rand.New(rand.NewPCG(1, 1)))
	b.ReportAllocs()
	for b.Loop() {
		reach.New(g)
	}
}

// BenchmarkExplainAll explains every ordered pair of the graph, about 10^6,
// with one Explainer built inside the loop.
func BenchmarkExplainAll(b *testing.B) {
	g, ids := benchGraph(rand.New(rand.NewPCG(1, 1)))
	pairs, reachable := 0, 0
	b.ReportAllocs()
	for b.Loop() {
		x := reach.New(g)
		pairs, reachable = 0, 0
		for _, from := range ids {
			for _, to := range ids {
				if from == to {
					continue
				}
				p, err := x.Explain(from, to)
				if err != nil {
					b.Fatal(err)
				}
				pairs++
				if p.ByIP.OK {
					reachable++
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(pairs), "ns/pair")
	b.ReportMetric(float64(pairs), "pairs")
	b.ReportMetric(float64(reachable), "reachable-by-ip")
}
