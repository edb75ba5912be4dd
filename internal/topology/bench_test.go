package topology_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	"github.com/dockmap/dockmap/internal/topology"
)

// benchSize is the engine DESIGN.md budgets for: Build and Diff within 5 ms
// each.
var benchSize = sceneSize{containers: 1000, networks: 100, volumes: 500}

func BenchmarkBuild(b *testing.B) { benchBuild(b, benchSize) }

// bigSize is issue 14's usable size: 5,000 containers, in one engine or
// across several (BenchmarkMergeEngines).
var bigSize = sceneSize{containers: 5000, networks: 500, volumes: 2500}

// BenchmarkBuild5000 is BenchmarkBuild at 5,000 containers.
func BenchmarkBuild5000(b *testing.B) { benchBuild(b, bigSize) }

func benchBuild(b *testing.B, size sceneSize) {
	inv := randomInventory(rand.New(rand.NewPCG(1, 1)), size)
	var g topology.Graph
	b.ReportAllocs()
	for b.Loop() {
		g = topology.Build(inv)
	}
	b.ReportMetric(float64(len(g.Nodes)), "nodes")
	b.ReportMetric(float64(len(g.Edges)), "edges")
}

// BenchmarkDiff compares two polls of the same engine with about 5% of the
// containers changed (state, a network left, labels or health).
func BenchmarkDiff(b *testing.B) { benchDiff(b, benchSize) }

// BenchmarkDiff5000 is BenchmarkDiff at 5,000 containers.
func BenchmarkDiff5000(b *testing.B) { benchDiff(b, bigSize) }

func benchDiff(b *testing.B, size sceneSize) {
	old := topology.Build(randomInventory(rand.New(rand.NewPCG(1, 1)), size))
	cur := topology.Build(mutateInventory(rand.New(rand.NewPCG(2, 2)),
		randomInventory(rand.New(rand.NewPCG(1, 1)), size), 0.05))
	var d topology.Delta
	b.ReportAllocs()
	for b.Loop() {
		d = topology.Diff(old, cur)
	}
	b.ReportMetric(float64(len(d.ChangedNodes)), "changed-nodes")
	b.ReportMetric(float64(len(d.AddedEdges)+len(d.ChangedEdges)+len(d.RemovedEdges)), "edge-changes")
}

// BenchmarkMergeEngines measures what a map of 5 engines of 1,000
// containers does on each re-list of one of them (live.Union.merge): the
// changed engine's graph stamped with its name, the 5 joined, and the
// joined graph of 5,000 diffed against the one before; one container in
// twenty of that engine changed.
func BenchmarkMergeEngines(b *testing.B) {
	const engines = 5
	parts := make([]topology.Graph, engines)
	for i := range parts {
		g := topology.Build(randomInventory(rand.New(rand.NewPCG(uint64(i+1), 1)), benchSize))
		parts[i] = topology.Stamp(g, fmt.Sprintf("lab%d", i+1), i > 0)
	}
	changed := topology.Build(mutateInventory(rand.New(rand.NewPCG(9, 9)),
		randomInventory(rand.New(rand.NewPCG(1, 1)), benchSize), 0.05))
	before := topology.Merge(parts...)
	var d topology.Delta
	b.ReportAllocs()
	for b.Loop() {
		cur := slices.Clone(parts)
		cur[0] = topology.Stamp(changed, "lab1", false)
		d = topology.Diff(before, topology.Merge(cur...))
	}
	b.ReportMetric(float64(len(before.Nodes)), "nodes")
	b.ReportMetric(float64(len(d.ChangedNodes)), "changed-nodes")
}

// BenchmarkGraphMemory measures what the live graph keeps per container
// (DESIGN.md budgets 10 KB): the heap still in use once the inventory it
// was built from is gone, as Live keeps only the graph. Each container
// carries the labels Compose v2 sets, the most a typical engine has.
func BenchmarkGraphMemory(b *testing.B) {
	var perContainer float64
	for b.Loop() {
		before := heapInUse()
		inv := randomInventory(rand.New(rand.NewPCG(1, 1)), benchSize)
		for i := range inv.Containers {
			c := &inv.Containers[i]
			for k, v := range composeLabels(i) {
				c.Labels[k] = v
			}
		}
		g := topology.Build(inv)
		inv = topology.Inventory{}
		after := heapInUse()
		runtime.KeepAlive(g)
		perContainer = float64(after-before) / float64(benchSize.containers)
	}
	b.ReportMetric(perContainer, "B/container")
}

// composeLabels are the labels docker compose v2 puts on a container of
// service i (docker inspect of a compose project; values of typical length).
func composeLabels(i int) map[string]string {
	return map[string]string{
		"com.docker.compose.config-hash":          fmt.Sprintf("%064x", i),
		"com.docker.compose.container-number":     "1",
		"com.docker.compose.depends_on":           "db:service_started:false",
		"com.docker.compose.image":                fmt.Sprintf("sha256:%064x", i%40),
		"com.docker.compose.oneoff":               "False",
		"com.docker.compose.project.config_files": fmt.Sprintf("/home/dev/proj%02d/compose.yaml", i%20),
		"com.docker.compose.project.working_dir":  fmt.Sprintf("/home/dev/proj%02d", i%20),
		"com.docker.compose.version":              "2.29.7",
	}
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
