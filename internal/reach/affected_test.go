package reach_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// scene is a map before or after a change.
type scene struct {
	nets []topology.Network
	cs   []topology.Container
	vols []topology.Volume
}

func (s scene) graph() topology.Graph {
	return topology.Build(topology.Inventory{Networks: s.nets, Containers: s.cs, Volumes: s.vols})
}

// with is s with the containers cs in place of those of their names
// (appended when new) and without those named in drop.
func (s scene) with(cs []topology.Container, drop ...string) scene {
	out := scene{nets: s.nets, vols: s.vols}
	for _, c := range s.cs {
		if slices.Contains(drop, c.Name) || slices.ContainsFunc(cs, func(n topology.Container) bool { return n.ID == c.ID }) {
			continue
		}
		out.cs = append(out.cs, c)
	}
	out.cs = append(out.cs, cs...)
	return out
}

// TestAffected checks the rule of which containers' pairs a change can
// change, case by case, and for each case that no pair outside it changes
// (TestAffectedCoversExplain's check, here on the table's scenes).
func TestAffected(t *testing.T) {
	appnetNoICC := appnet
	appnetNoICC.ICC = false
	appnetInternal := appnet
	appnetInternal.Internal = true
	nets := []topology.Network{bridge, appnet, backnet, quiet}
	// web and database on appnet, cache and worker on backnet, sidecar in
	// web's namespace, loner on the default bridge.
	base := scene{nets: nets, cs: []topology.Container{
		ctr("web", on("appnet"), port(80)),
		ctr("database", on("appnet"), port(5432)),
		ctr("cache", on("backnet")),
		ctr("worker", on("backnet")),
		ctr("sidecar", in("web")),
		ctr("loner", on("bridge")),
	}}
	renamed := ctr("database", on("appnet"), port(5432))
	renamed.Name, renamed.Names = "db2", []string{"db2"}
	tests := []struct {
		name   string
		before scene
		after  scene
		// want are the names of the containers affected; nil for every
		// pair.
		want []string
	}{
		{"nothing", base, base, []string{}},
		{"a container created on a third network", base, base.with([]topology.Container{ctr("newcomer", on("quiet"), stopped)}), []string{"newcomer"}},
		{"it starts", base.with([]topology.Container{ctr("newcomer", on("quiet"), stopped)}), base.with([]topology.Container{ctr("newcomer", on("quiet"))}), []string{"newcomer"}},
		{"a matrix container stops", base, base.with([]topology.Container{ctr("cache", on("backnet"), stopped)}), []string{"cache"}},
		{"a volume is created", base, scene{nets: base.nets, cs: base.cs, vols: []topology.Volume{{Name: "data", Driver: "local"}}}, []string{}},
		{"docker network connect backnet web: web and its namespace's guest", base,
			base.with([]topology.Container{ctr("web", on("appnet"), on("backnet"), port(80))}), []string{"sidecar", "web"}},
		{"docker network connect backnet database", base,
			base.with([]topology.Container{ctr("database", on("appnet"), on("backnet"), port(5432))}), []string{"database"}},
		{"ICC turned off on appnet: all its members", base,
			scene{nets: []topology.Network{bridge, appnetNoICC, backnet, quiet}, cs: base.cs}, []string{"database", "sidecar", "web"}},
		{"appnet made internal: all its members", base,
			scene{nets: []topology.Network{bridge, appnetInternal, backnet, quiet}, cs: base.cs}, []string{"database", "sidecar", "web"}},
		{"network container:web follows web: web stops", base,
			base.with([]topology.Container{ctr("web", on("appnet"), port(80), stopped)}), []string{"sidecar", "web"}},
		{"a container renamed: the pairs by its name", base, base.with([]topology.Container{renamed}), []string{"database"}},
		{"a container removed", base, base.with(nil, "cache"), []string{"cache"}},
		{"the donor of a namespace removed", base, base.with(nil, "web"), []string{"sidecar", "web"}},
		{"an alias on appnet", base, base.with([]topology.Container{ctr("database", on("appnet", "db"), port(5432))}), []string{"database"}},
		{"a legacy link web → loner", base, base.with([]topology.Container{ctr("loner", on("bridge"), linkedFrom("web", "l"))}), []string{"loner", "sidecar", "web"}},
		{"a network removed with its members' endpoints", base,
			scene{nets: []topology.Network{bridge, appnet, quiet}, cs: base.with([]topology.Container{ctr("cache"), ctr("worker")}).cs}, []string{"cache", "worker"}},
		{"a network created, empty", scene{nets: []topology.Network{bridge, appnet, backnet}, cs: base.cs}, base, []string{}},
		{"Compose project membership (labels)", base, base.with([]topology.Container{ctr("worker", on("backnet"), service("shop", "worker"))}), []string{"worker"}},
		{"a container's ports", base, base.with([]topology.Container{ctr("cache", on("backnet"), port(6379))}), []string{"cache"}},
		{"a broken link: the target removed", base.with([]topology.Container{ctr("loner", on("bridge"), linkedFrom("web", "l"))}),
			base.with([]topology.Container{ctr("web", on("appnet"), port(80), brokenTo("loner", "l"))}, "loner"), []string{"loner", "sidecar", "web"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, new := tt.before.graph(), tt.after.graph()
			got := reach.Affected(old, new, topology.Diff(old, new))
			if (got == nil) != (tt.want == nil) {
				t.Fatalf("Affected = %v, want %v (nil is every pair)", names(got), tt.want)
			}
			if want := slices.Sorted(slices.Values(tt.want)); !slices.Equal(names(got), want) {
				t.Errorf("Affected = %v, want %v", names(got), want)
			}
			checkCovers(t, old, new, got)
		})
	}
}

// Anything of a Swarm says every pair: a node that goes down.
func TestAffectedSwarmIsEveryPair(t *testing.T) {
	l := newLab()
	old := l.graph()
	l.view.State.Nodes[1].State = "down"
	new := l.graph()
	d := topology.Diff(old, new)
	if d.Empty() {
		t.Fatal("the node going down changed nothing on the map")
	}
	if got := reach.Affected(old, new, d); got != nil {
		t.Errorf("a Swarm node down: Affected = %v, want nil (every pair)", got)
	}
}

// An unknown kind of node (one the rule has not been told about) says
// every pair rather than none.
func TestAffectedUnknownKindIsEveryPair(t *testing.T) {
	g := graph(allNets, ctr("web", on("appnet")))
	d := topology.Delta{AddedNodes: []topology.Node{{ID: "x:new", Kind: "something-new"}}}
	if got := reach.Affected(g, g, d); got != nil {
		t.Errorf("an unknown node kind: Affected = %v, want nil", got)
	}
	d = topology.Delta{RemovedEdges: []topology.EdgeID{"nowhere"}}
	if got := reach.Affected(g, g, d); got != nil {
		t.Errorf("a removed edge the old map lacks: Affected = %v, want nil", got)
	}
}

// checkCovers fails when a pair on both maps whose prediction or probe
// fingerprint differs has no end in affected (nil covers all).
func checkCovers(t *testing.T, old, new topology.Graph, affected []topology.NodeID) {
	t.Helper()
	if affected == nil {
		return
	}
	xo, xn := reach.New(old), reach.New(new)
	var ids []topology.NodeID
	for _, n := range new.Nodes {
		if _, ok := old.Node(n.ID); ok && n.Kind == topology.KindContainer {
			ids = append(ids, n.ID)
		}
	}
	for _, a := range ids {
		for _, b := range ids {
			if a == b || slices.Contains(affected, a) || slices.Contains(affected, b) {
				continue
			}
			po, err1 := xo.Explain(a, b)
			pn, err2 := xn.Explain(a, b)
			jo, _ := json.Marshal(po)
			jn, _ := json.Marshal(pn)
			if err1 != nil || err2 != nil || string(jo) != string(jn) {
				t.Errorf("%s → %s: the prediction changed (%v %v)\nbefore %s\nafter  %s\nbut neither end is affected", a[:8], b[:8], err1, err2, jo, jn)
			}
			if xo.Between(a, b) != xn.Between(a, b) {
				t.Errorf("%s → %s: the probe fingerprint changed, but neither end is affected", a[:8], b[:8])
			}
		}
	}
}

// names are the containers of ids by their readable names (id's inverse).
func names(ids []topology.NodeID) []string {
	out := []string{}
	for _, n := range ids {
		b, _ := hex.DecodeString(strings.TrimPrefix(string(n), "c:"))
		out = append(out, strings.TrimRight(string(b), "\x00"))
	}
	slices.Sort(out)
	return out
}

// TestAffectedCoversExplain makes random small maps and random changes
// (a container re-made with other settings, removed or added; a network's
// ICC or internal flipped) and checks, for every pair on both maps, that a
// prediction or probe fingerprint that changed has an end in Affected.
func TestAffectedCoversExplain(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 4))
	const containers = 10
	netNames := []string{"bridge", "appnet", "backnet", "vault", "quiet"}
	made := func(i int, donors int) topology.Container {
		name := fmt.Sprintf("c%d", i)
		var opts []option
		switch k := r.IntN(10); {
		case k == 0 && donors > 0:
			opts = append(opts, in(fmt.Sprintf("c%d", r.IntN(donors))))
		case k == 1:
			opts = append(opts, mode("host"), on("host"))
		default:
			for _, n := range r.Perm(len(netNames))[:1+r.IntN(2)] {
				opts = append(opts, on(netNames[n], "a"+name))
			}
		}
		if r.IntN(4) == 0 {
			opts = append(opts, stopped)
		}
		if r.IntN(2) == 0 {
			opts = append(opts, port(80))
		}
		if r.IntN(5) == 0 && donors > 0 {
			opts = append(opts, linkedFrom(fmt.Sprintf("c%d", r.IntN(donors)), "l"+name))
		}
		if r.IntN(5) == 0 {
			opts = append(opts, service("shop", name))
		}
		return ctr(name, opts...)
	}
	for round := range 300 {
		nets := []topology.Network{bridge, hostNet, noneNet, appnet, backnet, vault, quiet}
		var cs []topology.Container
		for i := range containers {
			cs = append(cs, made(i, i))
		}
		before := scene{nets: nets, cs: cs}
		after := scene{nets: slices.Clone(nets), cs: slices.Clone(cs)}
		for range 1 + r.IntN(2) {
			switch k := r.IntN(4); k {
			case 0:
				i := r.IntN(containers)
				after.cs[i] = made(i, containers)
			case 1:
				i := r.IntN(len(after.cs))
				after.cs = slices.Delete(after.cs, i, i+1)
			case 2:
				after.cs = append(after.cs, made(containers+round, containers))
			case 3:
				i := 3 + r.IntN(len(after.nets)-3)
				if r.IntN(2) == 0 {
					after.nets[i].ICC = !after.nets[i].ICC
				} else {
					after.nets[i].Internal = !after.nets[i].Internal
				}
			}
		}
		old, new := before.graph(), after.graph()
		got := reach.Affected(old, new, topology.Diff(old, new))
		if got == nil {
			t.Errorf("round %d: every pair, for a change with no Swarm", round)
			continue
		}
		checkCovers(t, old, new, got)
	}
}

// BenchmarkAffected is the cost the rule adds to each delta the server
// publishes, on the 1,000-container map of benchGraph: one container
// stops (a few affected), and a network's ICC turns off (all its members).
func BenchmarkAffected(b *testing.B) {
	g, _ := benchGraph(rand.New(rand.NewPCG(1, 1)))
	stop := g
	stop.Nodes = slices.Clone(g.Nodes)
	icc := g
	icc.Nodes = slices.Clone(g.Nodes)
	for i, n := range g.Nodes {
		if n.ID == node("c500") {
			ci := *n.Container
			ci.State = "exited"
			stop.Nodes[i].Container = &ci
		}
		if n.Kind == topology.KindNetwork && n.Network.Name == "net5" {
			ni := *n.Network
			ni.ICC = false
			icc.Nodes[i].Network = &ni
		}
	}
	for _, tc := range []struct {
		name string
		new  topology.Graph
	}{{"container-stops", stop}, {"network-icc-off", icc}} {
		d := topology.Diff(g, tc.new)
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			var n int
			for b.Loop() {
				n = len(reach.Affected(g, tc.new, d))
			}
			b.ReportMetric(float64(n), "affected")
		})
	}
}
