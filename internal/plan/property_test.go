package plan_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// A property test over the planner: for every graph of a generated family
// (where the link source and target sit, whether the target runs, who
// depends on the source), AddLink, Mount and RemoveLink either refuse with
// a sentinel or return a plan that keeps the invariants of checkInvariants.

// arrangement is where a container of the family sits on the networks.
type arrangement string

const (
	onBridge   arrangement = "default bridge"
	onUser     arrangement = "user network"
	onBoth     arrangement = "bridge and user network"
	modeNone   arrangement = "none mode"
	modeHost   arrangement = "host mode"
	modeShared arrangement = "container: mode"
	offBridge  arrangement = "taken off the bridge"
)

var arrangements = []arrangement{onBridge, onUser, onBoth, modeNone, modeHost, modeShared, offBridge}

// family is one graph of the family. The source always has a legacy link
// to the target as tl, a broken one as gone and, on appnet, an endpoint
// link to the target as te.
type family struct {
	src, tgt    arrangement
	srcRunning  bool
	tgtRunning  bool
	linkers     int  // containers with a legacy link to the source
	netnsUser   bool // a container in the source's network namespace
	volumesFrom bool // two that took the source's volumes, by name and by ID
}

func (f family) String() string {
	return fmt.Sprintf("src %s (running %v), tgt %s (running %v), %d linkers, netns user %v, volumes-from %v",
		f.src, f.srcRunning, f.tgt, f.tgtRunning, f.linkers, f.netnsUser, f.volumesFrom)
}

var (
	srcID   = id("5c")
	tgtID   = id("7a")
	donorID = id("d0")
)

// place puts c where a says; a shared stack is the donor's.
func place(c *ctr, a arrangement) *ctr {
	switch a {
	case onBridge:
		return c.on("bridge")
	case onUser:
		return c.mode("appnet").on("appnet")
	case onBoth:
		return c.on("bridge", "appnet")
	case modeNone:
		return c.mode("none")
	case modeHost:
		return c.mode("host")
	case modeShared:
		return c.mode("container:" + donorID)
	}
	return c.on("other")
}

func (f family) graph() topology.Graph {
	src := place(newCtr(srcID, "src"), f.src)
	tgt := place(newCtr(tgtID, "tgt"), f.tgt).names("src/tl")
	if !f.srcRunning {
		src.stopped()
	}
	if !f.tgtRunning {
		tgt.stopped()
	}
	src.links(topology.LinkRef{Target: "tgt", Alias: "tl"}, topology.LinkRef{Target: "old-dockmap-old-0123456789ab", Alias: "gone"})
	for i := range src.Endpoints {
		if src.Endpoints[i].NetworkName == "appnet" {
			src.Endpoints[i].Links = []string{"tgt:te"}
		}
	}
	cs := []*ctr{src, tgt, newCtr(donorID, "donor").on("bridge")}
	for i := range f.linkers {
		name := fmt.Sprintf("linker%d", i)
		cs = append(cs, newCtr(id(fmt.Sprintf("1%d", i)), name).on("bridge"))
		src.names(name + "/src" + fmt.Sprint(i))
	}
	if f.netnsUser {
		cs = append(cs, newCtr(id("ee"), "nsuser").mode("container:"+srcID))
	}
	if f.volumesFrom {
		cs = append(cs, newCtr(id("f1"), "byname").on("bridge").volumesFrom("src"),
			newCtr(id("f2"), "byid").on("bridge").volumesFrom(srcID+":ro"))
	}
	return graph([]topology.Volume{{Name: "shared", Driver: "local"}}, cs...)
}

// families lists every graph of the family, each with the source running.
func families() []family {
	var out []family
	for _, src := range arrangements {
		for _, tgt := range arrangements {
			for _, tgtRunning := range []bool{true, false} {
				for linkers := range 3 {
					for _, ns := range []bool{false, true} {
						for _, vf := range []bool{false, true} {
							out = append(out, family{src: src, tgt: tgt, srcRunning: true, tgtRunning: tgtRunning, linkers: linkers, netnsUser: ns, volumesFrom: vf})
						}
					}
				}
			}
		}
	}
	return out
}

// propertyActions are the planner calls the property test makes.
var propertyActions = []struct {
	name string
	call func(g topology.Graph, deps *bool) (*plan.Plan, error)
}{
	{"AddLink", func(g topology.Graph, deps *bool) (*plan.Plan, error) {
		return planner.AddLink(g, plan.LinkRequest{From: "src", To: "tgt", Alias: "tg", RecreateDependents: deps})
	}},
	{"Mount", func(g topology.Graph, deps *bool) (*plan.Plan, error) {
		return planner.Mount(g, plan.MountRequest{Container: "src", Volume: "shared", Target: "/shared", RecreateDependents: deps})
	}},
	{"RemoveLink legacy", func(g topology.Graph, deps *bool) (*plan.Plan, error) {
		return planner.RemoveLink(g, plan.UnlinkRequest{From: "src", Alias: "tl", RecreateDependents: deps})
	}},
	{"RemoveLink endpoint", func(g topology.Graph, deps *bool) (*plan.Plan, error) {
		return planner.RemoveLink(g, plan.UnlinkRequest{From: "src", Alias: "te", RecreateDependents: deps})
	}},
	{"RemoveLink broken", func(g topology.Graph, deps *bool) (*plan.Plan, error) {
		return planner.RemoveLink(g, plan.UnlinkRequest{From: "src", Alias: "gone", RecreateDependents: deps})
	}},
	{"RemoveLink missing", func(g topology.Graph, deps *bool) (*plan.Plan, error) {
		return planner.RemoveLink(g, plan.UnlinkRequest{From: "src", Alias: "nope", RecreateDependents: deps})
	}},
}

func TestPlannerProperties(t *testing.T) {
	planned := map[string]int{}
	for _, f := range families() {
		g := f.graph()
		stopped := f
		stopped.srcRunning = false
		gStopped := stopped.graph()
		for _, a := range propertyActions {
			for _, deps := range []bool{true, false} {
				what := fmt.Sprintf("%s (recreateDependents %v) with %s", a.name, deps, f)
				p, err := a.call(g, &deps)
				if err != nil {
					if p != nil {
						t.Errorf("%s: a plan and the error %v", what, err)
					}
					checkSentinel(t, what, err)
					continue
				}
				planned[a.name+" "+string(p.Method)]++
				checkInvariants(t, g, what, p, deps)
				if again, err := a.call(g, &deps); err != nil || again.ID != p.ID {
					t.Errorf("%s: planned again = %v, %v; want the same ID %s", what, again, err, p.ID)
				}
				q, err := a.call(gStopped, &deps)
				if err != nil {
					checkSentinel(t, what+", source stopped", err)
					continue
				}
				checkInvariants(t, gStopped, what+", source stopped", q, deps)
				// A legacy link is dropped in place the same way whether
				// the container runs or not: that plan expects no state,
				// so its ID rightly stays.
				unlinkOnly := p.Method == plan.MethodInPlace && p.Unlink != "" && len(p.Endpoints) == 0
				if q.ID == p.ID && !unlinkOnly {
					t.Errorf("%s: the source stopped, yet the plan ID %s is the same (%s)", what, p.ID, p.Method)
				}
			}
		}
	}
	// The family must reach every method each action has, or the
	// properties hold for nothing.
	for _, want := range []string{
		"AddLink recreate", "AddLink endpoint-alias", "Mount recreate",
		"RemoveLink legacy in-place", "RemoveLink endpoint in-place", "RemoveLink broken recreate",
	} {
		if planned[want] == 0 {
			t.Errorf("no graph of the family gave a plan %q (planned %v)", want, planned)
		}
	}
}

// checkInvariants checks what a plan must keep whatever the graph: a
// confirm exactly when it re-creates, the subject re-created first and
// every other re-create depending on one before it, and the dependents
// that break either re-created or said to break.
func checkInvariants(t *testing.T, g topology.Graph, what string, p *plan.Plan, deps bool) {
	t.Helper()
	checkPlan(t, g, what, p)
	if (p.Method == plan.MethodRecreate) != p.Confirm {
		t.Errorf("%s: method %s with Confirm %v", what, p.Method, p.Confirm)
	}
	if p.Method != plan.MethodRecreate {
		return
	}
	subject, ok := containerIn(g, p.Subject.ID)
	if !ok || p.Recreates[0].Container.ID != subject.Container.ID {
		t.Fatalf("%s: re-creates %v, want the subject %s first", what, recreated(p), p.Subject.Name)
	}
	nodes := make([]topology.Node, len(p.Recreates))
	for i, r := range p.Recreates {
		n, ok := containerIn(g, r.Container.ID)
		if !ok {
			t.Fatalf("%s: re-creates %+v, which is no container of the graph", what, r.Container)
		}
		nodes[i] = n
	}
	for i := 1; i < len(nodes); i++ {
		dependsEarlier := false
		for _, before := range nodes[:i] {
			dependsEarlier = dependsEarlier || slices.ContainsFunc(plan.Dependents(g, before), func(d plan.Dependent) bool {
				return d.Container.ID == p.Recreates[i].Container.ID
			})
		}
		if !dependsEarlier {
			t.Errorf("%s: re-creates %s at %d of %v, but it depends on none re-created before it", what, p.Recreates[i].Container.Name, i, recreated(p))
		}
	}
	broken := func(d plan.Dependent) bool {
		return slices.ContainsFunc(p.Breaks, func(b plan.Dependent) bool {
			return b.Container.ID == d.Container.ID && b.On.ID == d.On.ID && b.Kind == d.Kind && b.Alias == d.Alias
		})
	}
	if !deps {
		if len(p.Recreates) != 1 {
			t.Errorf("%s: dependents not asked for, yet re-creates %v", what, recreated(p))
		}
		for _, d := range plan.Dependents(g, subject) {
			if d.Breaks && !broken(d) {
				t.Errorf("%s: %s breaks (%s) but is not among the breaks %v", what, d.Container.Name, d.Kind, breakers(p))
			}
		}
		return
	}
	for _, n := range nodes {
		for _, d := range plan.Dependents(g, n) {
			if d.Kind != plan.DependsLink && d.Kind != plan.DependsNetNS {
				continue
			}
			if !slices.Contains(recreated(p), d.Container.Name) && !broken(d) {
				t.Errorf("%s: %s depends on %s (%s) and is neither re-created (%v) nor said to break (%v)",
					what, d.Container.Name, n.Container.Name, d.Kind, recreated(p), breakers(p))
			}
		}
	}
}

// A re-create set whose dependencies form a cycle is ordered so that only
// links inside the cycle break: a container that depends on the cycle
// from outside is re-created after it.
func TestRecreateOrderAroundACycle(t *testing.T) {
	// db is the subject. mid links to db and to loop; loop links to mid
	// (the cycle mid ⇄ loop); after links to loop only, and sorts before
	// both by name.
	g := graph([]topology.Volume{{Name: "shared", Driver: "local"}},
		newCtr(dbID, "db").on("bridge").names("mid/db"),
		newCtr(id("3d"), "mid").on("bridge").names("loop/mid"),
		newCtr(id("4f"), "loop").on("bridge").names("mid/loop", "after/loop"),
		newCtr(id("af"), "after").on("bridge"),
	)
	p, err := planner.Mount(g, plan.MountRequest{Container: "db", Volume: "shared", Target: "/shared"})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, g, "Mount around a cycle", p, true)
	got := recreated(p)
	if i, j := slices.Index(got, "after"), slices.Index(got, "loop"); i < j {
		t.Errorf("re-created %v: after is re-created before loop, which it links to", got)
	}
	for _, b := range p.Breaks {
		if b.Container.Name == "after" {
			t.Errorf("after's link to loop breaks (%s), but after is in no cycle", b.Text)
		}
	}
	if len(p.Breaks) != 1 {
		t.Errorf("Breaks = %v, want the one link of the cycle mid ⇄ loop", breakers(p))
	}
}
