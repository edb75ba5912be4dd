package plan_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// The scene: the tutorial's containers and networks as an Inventory, each
// test arranging its own (no engine: the planner is pure).

const (
	bridgeID = "b0000000000000000000000000000000000000000000000000000000000000br"
	appnetID = "a0000000000000000000000000000000000000000000000000000000000000ap"
	othnetID = "c0000000000000000000000000000000000000000000000000000000000000ot"
)

func id(s string) string { return s + strings.Repeat("0", 64-len(s)) }

var (
	webID  = id("we")
	dbID   = id("db")
	sideID = id("5e")
	apiID  = id("a1")
)

type ctr struct{ topology.Container }

func newCtr(cid, name string) *ctr {
	return &ctr{topology.Container{ID: cid, Name: name, Names: []string{name}, State: "running", Status: "Up", Image: "busybox", NetworkMode: "default"}}
}

func (c *ctr) on(nets ...string) *ctr {
	for _, n := range nets {
		nid := map[string]string{"bridge": bridgeID, "appnet": appnetID, "other": othnetID}[n]
		c.Endpoints = append(c.Endpoints, topology.Endpoint{NetworkID: nid, NetworkName: n, EndpointID: "e-" + c.Name + "-" + n, IP: "10.0.0." + c.Name[:1]})
	}
	return c
}
func (c *ctr) mode(m string) *ctr                { c.NetworkMode = m; return c }
func (c *ctr) stopped() *ctr                     { c.State = "exited"; return c }
func (c *ctr) names(ns ...string) *ctr           { c.Names = append(c.Names, ns...); return c }
func (c *ctr) links(ls ...topology.LinkRef) *ctr { c.Links = append(c.Links, ls...); return c }
func (c *ctr) mount(ms ...topology.Mount) *ctr   { c.Mounts = append(c.Mounts, ms...); return c }
func (c *ctr) volumesFrom(v ...string) *ctr      { c.VolumesFrom = v; return c }

func graph(vols []topology.Volume, cs ...*ctr) topology.Graph {
	inv := topology.Inventory{
		Networks: []topology.Network{
			{ID: bridgeID, Name: "bridge", Driver: "bridge", Default: true, ICC: true},
			{ID: appnetID, Name: "appnet", Driver: "bridge", ICC: true},
			{ID: othnetID, Name: "other", Driver: "bridge", ICC: true},
			{ID: id("ho"), Name: "host", Driver: "host"},
			{ID: id("no"), Name: "none", Driver: "null"},
		},
		Volumes: vols,
	}
	for _, c := range cs {
		inv.Containers = append(inv.Containers, c.Container)
	}
	return topology.Build(inv)
}

func stepIDs(p *plan.Plan) []string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, s.ID)
	}
	return out
}

func recreated(p *plan.Plan) []string {
	var out []string
	for _, r := range p.Recreates {
		out = append(out, r.Container.Name)
	}
	return out
}

func breakers(p *plan.Plan) []string {
	var out []string
	for _, b := range p.Breaks {
		out = append(out, b.Container.Name)
	}
	return out
}

var planner = plan.New(plan.Options{AllowBinds: []string{"/srv"}})

func TestAddLinkMethodByArrangement(t *testing.T) {
	yes, no := true, false
	_ = no
	tests := []struct {
		name       string
		web, db    *ctr
		wantMethod plan.Method
		wantErr    error
		wantSteps  []string
	}{
		{name: "both on the default bridge", web: newCtr(webID, "web").on("bridge"), db: newCtr(dbID, "database").on("bridge"),
			wantMethod: plan.MethodRecreate,
			wantSteps:  []string{"r0.stop", "r0.rename", "r0.disconnect", "r0.create", "r0.start", "r0.verify", "r0.remove-old"}},
		{name: "stopped source", web: newCtr(webID, "web").on("bridge").stopped(), db: newCtr(dbID, "database").on("bridge"),
			wantMethod: plan.MethodRecreate,
			wantSteps:  []string{"r0.rename", "r0.disconnect", "r0.create", "r0.remove-old"}},
		{name: "both on a user network", web: newCtr(webID, "web").mode("appnet").on("appnet"), db: newCtr(dbID, "database").mode("appnet").on("appnet"),
			wantMethod: plan.MethodEndpointAlias, wantSteps: []string{"endpoint.disconnect:appnet", "endpoint.connect:appnet"}},
		{name: "both on both: the alias, nothing lost", web: newCtr(webID, "web").on("bridge", "appnet"), db: newCtr(dbID, "database").on("bridge", "appnet"),
			wantMethod: plan.MethodEndpointAlias, wantSteps: []string{"endpoint.disconnect:appnet", "endpoint.connect:appnet"}},
		{name: "source taken off the default bridge onto a shared network", web: newCtr(webID, "web").on("appnet"), db: newCtr(dbID, "database").on("bridge", "appnet"),
			wantMethod: plan.MethodEndpointAlias, wantSteps: []string{"endpoint.disconnect:appnet", "endpoint.connect:appnet"}},
		{name: "source on two networks, the second connected after create", web: newCtr(webID, "web").on("bridge", "other"), db: newCtr(dbID, "database").on("bridge"),
			wantMethod: plan.MethodRecreate,
			wantSteps:  []string{"r0.stop", "r0.rename", "r0.disconnect", "r0.create", "r0.connect:other", "r0.start", "r0.verify", "r0.remove-old"}},
		{name: "target on another network only", web: newCtr(webID, "web").on("bridge"), db: newCtr(dbID, "database").mode("other").on("other"), wantErr: topology.ErrInvalid},
		{name: "source off the default bridge, nothing shared", web: newCtr(webID, "web").on("other"), db: newCtr(dbID, "database").on("bridge"), wantErr: topology.ErrInvalid},
		{name: "source on a user network by mode, nothing shared", web: newCtr(webID, "web").mode("other").on("other"), db: newCtr(dbID, "database").on("bridge"), wantErr: topology.ErrInvalid},
		{name: "source in host mode", web: newCtr(webID, "web").mode("host"), db: newCtr(dbID, "database").on("bridge"), wantErr: topology.ErrInvalid},
		{name: "source with networking off", web: newCtr(webID, "web").mode("none"), db: newCtr(dbID, "database").on("bridge"), wantErr: topology.ErrInvalid},
		{name: "source in the target's namespace", web: newCtr(webID, "web").mode("container:" + dbID), db: newCtr(dbID, "database").on("bridge"), wantErr: topology.ErrInvalid},
		{name: "target in another's namespace on the bridge", web: newCtr(webID, "web").on("bridge"), db: newCtr(dbID, "database").mode("container:" + sideID),
			wantMethod: plan.MethodRecreate,
			wantSteps:  []string{"r0.stop", "r0.rename", "r0.disconnect", "r0.create", "r0.start", "r0.verify", "r0.remove-old"}},
		{name: "target stopped", web: newCtr(webID, "web").on("bridge"), db: newCtr(dbID, "database").on("bridge").stopped(), wantErr: topology.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := graph(nil, tt.web, tt.db, newCtr(sideID, "side").on("bridge"))
			p, err := planner.AddLink(g, plan.LinkRequest{From: "web", To: "database", Alias: "db", RecreateDependents: &yes})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("AddLink error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("AddLink: %v", err)
			}
			if p.Method != tt.wantMethod {
				t.Errorf("Method = %s, want %s (%s)", p.Method, tt.wantMethod, p.Summary)
			}
			if diff := cmp.Diff(tt.wantSteps, stepIDs(p)); diff != "" {
				t.Errorf("steps mismatch (-want +got):\n%s", diff)
			}
			if p.Confirm != (p.Method == plan.MethodRecreate) {
				t.Errorf("Confirm = %v for method %s: a re-create must need a confirm, nothing else", p.Confirm, p.Method)
			}
		})
	}
}

func TestEndpointAliasKeepsTheOtherLinks(t *testing.T) {
	web := newCtr(webID, "web").mode("appnet").on("appnet")
	web.Endpoints[0].Links = []string{"side:sd"}
	g := graph(nil, web, newCtr(dbID, "database").mode("appnet").on("appnet"), newCtr(sideID, "side").mode("appnet").on("appnet"))
	p, err := planner.AddLink(g, plan.LinkRequest{From: "web", To: "database", Alias: "db"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Endpoints) != 1 || !cmp.Equal(p.Endpoints[0].Links, []string{"side:sd", "database:db"}) {
		t.Fatalf("Endpoints = %+v, want one on appnet with links side:s and database:db", p.Endpoints)
	}
	if p.Confirm {
		t.Errorf("an endpoint alias loses nothing: it needs no confirm")
	}
	if _, err := planner.AddLink(g, plan.LinkRequest{From: "web", To: "side", Alias: "sd"}); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("a second link named sd = %v, want a conflict", err)
	}
	rm, err := planner.RemoveLink(g, plan.UnlinkRequest{From: "web", Alias: "sd"})
	if err != nil {
		t.Fatal(err)
	}
	if rm.Method != plan.MethodInPlace || len(rm.Endpoints) != 1 || len(rm.Endpoints[0].Links) != 0 {
		t.Errorf("remove endpoint link: method %s endpoints %+v, want in place with no link left", rm.Method, rm.Endpoints)
	}
}

// The tutorial in order: web links to database (chapter 1), then a
// volume is mounted into database (chapter 3).
func tutorial(t *testing.T) topology.Graph {
	t.Helper()
	return graph([]topology.Volume{{Name: "shared", Driver: "local"}},
		newCtr(webID, "web").on("bridge").links(topology.LinkRef{Target: "database", Alias: "db"}),
		newCtr(dbID, "database").on("bridge").names("web/db"),
	)
}

func TestMountTakesTheLinkersAlong(t *testing.T) {
	g := tutorial(t)
	p, err := planner.Mount(g, plan.MountRequest{Container: "database", Volume: "shared", Target: "/data"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"database", "web"}, recreated(p)); diff != "" {
		t.Errorf("re-created (-want +got):\n%s", diff)
	}
	if got := p.Recreates[1].Change.Follow; len(got) != 1 || got[0].ID != dbID {
		t.Errorf("web follows %+v, want database", got)
	}
	if len(p.Breaks) != 0 {
		t.Errorf("Breaks = %+v, want none: web is re-created too", p.Breaks)
	}
	want := []string{"r0.stop", "r0.rename", "r0.disconnect", "r0.create", "r0.start", "r0.verify",
		"r1.stop", "r1.rename", "r1.disconnect", "r1.create", "r1.start", "r1.verify", "r0.remove-old", "r1.remove-old"}
	if diff := cmp.Diff(want, stepIDs(p)); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	if len(p.LosesLayers()) != 2 {
		t.Errorf("LosesLayers = %v, want both containers' writable layers", p.LosesLayers())
	}

	no := false
	alone, err := planner.Mount(g, plan.MountRequest{Container: "database", Volume: "shared", Target: "/data", RecreateDependents: &no})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"database"}, recreated(alone)); diff != "" {
		t.Errorf("unticked re-creates (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"web"}, breakers(alone)); diff != "" {
		t.Errorf("unticked breaks (-want +got):\n%s", diff)
	}
	if b := alone.Breaks[0]; b.Kind != plan.DependsLink || b.Alias != "db" || !strings.Contains(b.Text, "web reaches database as db") {
		t.Errorf("the break says %+v, want web's link db named", b)
	}
	if alone.ID == p.ID {
		t.Errorf("the two plans do different things but share the ID %s", p.ID)
	}
}

func TestDependentsOfEveryKind(t *testing.T) {
	g := graph([]topology.Volume{{Name: "shared", Driver: "local"}},
		newCtr(dbID, "database").on("bridge").mount(topology.Mount{Type: "volume", Name: "shared", Destination: "/data", RW: true}).names("web/db"),
		newCtr(webID, "web").on("bridge").links(topology.LinkRef{Target: "database", Alias: "db"}),
		newCtr(sideID, "sidecar").mode("container:"+dbID),
		newCtr(apiID, "backup").on("bridge").volumesFrom("database"),
		newCtr(id("b2"), "backup2").on("bridge").volumesFrom(dbID+":ro"),
	)
	db, _ := g.ContainerByRef("database")
	var got []string
	for _, d := range plan.Dependents(g, db) {
		got = append(got, d.Kind+" "+d.Container.Name+" breaks="+map[bool]string{true: "yes", false: "no"}[d.Breaks])
	}
	want := []string{"link web breaks=yes", "netns sidecar breaks=yes", "volumes-from backup breaks=no", "volumes-from backup2 breaks=yes"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Dependents (-want +got):\n%s", diff)
	}
	p, err := planner.Mount(g, plan.MountRequest{Container: "database", Bind: "/srv/x", Target: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"database", "backup2", "sidecar", "web"}, recreated(p)); diff != "" {
		t.Errorf("re-created (-want +got):\n%s", diff)
	}
}

func TestDependencyCycleBreaksOneLink(t *testing.T) {
	g := graph(nil,
		newCtr(webID, "web").on("bridge").links(topology.LinkRef{Target: "database", Alias: "db"}).names("database/web"),
		newCtr(dbID, "database").on("bridge").links(topology.LinkRef{Target: "web", Alias: "web"}).names("web/db"),
	)
	p, err := planner.Mount(g, plan.MountRequest{Container: "database", Bind: "/srv/x", Target: "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"database", "web"}, recreated(p)); diff != "" {
		t.Errorf("re-created (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"database"}, breakers(p)); diff != "" {
		t.Errorf("breaks (-want +got):\n%s", diff)
	}
}

func TestBrokenLinkRemoveAndRepair(t *testing.T) {
	old := "database-dockmap-old-0123456789ab"
	g := graph(nil,
		newCtr(webID, "web").on("bridge").stopped().links(topology.LinkRef{Target: old, Alias: "db"}),
		newCtr(dbID, "database").on("bridge"),
	)
	if _, err := planner.Start(g, plan.ContainerRequest{Container: "web"}); !errors.Is(err, topology.ErrConflict) || !strings.Contains(err.Error(), "removed") {
		t.Errorf("Start with a broken link = %v, want a conflict that names the removed target", err)
	}
	if _, err := planner.AddLink(g, plan.LinkRequest{From: "web", To: "database", Alias: "db"}); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("AddLink over a broken alias = %v, want a conflict", err)
	}
	rm, err := planner.RemoveLink(g, plan.UnlinkRequest{From: "web", Alias: "db"})
	if err != nil {
		t.Fatal(err)
	}
	if rm.Method != plan.MethodRecreate || !cmp.Equal(rm.Recreates[0].Change.RemoveLinks, []string{"db"}) {
		t.Errorf("remove a broken link: %s %+v, want a re-create without it", rm.Method, rm.Recreates)
	}
	fix, err := planner.RepairLink(g, plan.RepairRequest{From: "web", Alias: "db"})
	if err != nil {
		t.Fatal(err)
	}
	ch := fix.Recreates[0].Change
	if !cmp.Equal(ch.RemoveLinks, []string{"db"}) || len(ch.AddLinks) != 1 || ch.AddLinks[0].Target.Name != "database" {
		t.Errorf("repair change = %+v, want db re-pointed at database", ch)
	}
	if got := plan.RepairTarget("db"); got != "db" {
		t.Errorf("RepairTarget(db) = %q", got)
	}
	gone := graph(nil, newCtr(webID, "web").on("bridge").links(topology.LinkRef{Target: "database", Alias: "db"}))
	if _, err := planner.RepairLink(gone, plan.RepairRequest{From: "web", Alias: "db"}); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("repair with no container of that name = %v, want a conflict", err)
	}
}

func TestMountGuardsSeeTheEffectiveMounts(t *testing.T) {
	vols := []topology.Volume{
		{Name: "hostroot", Driver: "local", Options: map[string]string{"type": "none", "o": "bind", "device": "/"}},
		{Name: "project", Driver: "local", Options: map[string]string{"type": "none", "o": "bind", "device": "/srv/project"}},
		{Name: "elsewhere", Driver: "local", Options: map[string]string{"type": "none", "o": "bind", "device": "/home/me"}},
		{Name: "disk", Driver: "local", Options: map[string]string{"type": "ext4", "device": "/dev/sda1"}},
		{Name: "plain", Driver: "local"},
	}
	g := graph(vols,
		newCtr(webID, "web").on("bridge"),
		newCtr(dbID, "sock").on("bridge").mount(topology.Mount{Type: "bind", Source: "/var/run/docker.sock", Destination: "/var/run/docker.sock", RW: true}),
	)
	cases := []struct {
		req     plan.MountRequest
		wantErr error
	}{
		{plan.MountRequest{VolumesFrom: "sock"}, topology.ErrForbidden},
		{plan.MountRequest{Volume: "hostroot", Target: "/host"}, topology.ErrForbidden},
		{plan.MountRequest{Volume: "elsewhere", Target: "/me"}, topology.ErrForbidden},
		{plan.MountRequest{Volume: "disk", Target: "/disk"}, topology.ErrForbidden},
		{plan.MountRequest{Bind: "/etc", Target: "/etc2"}, topology.ErrForbidden},
		{plan.MountRequest{Volume: "project", Target: "/p"}, nil},
		{plan.MountRequest{Volume: "plain", Target: "/plain"}, nil},
		{plan.MountRequest{Bind: "/srv/data", Target: "/d"}, nil},
	}
	for _, c := range cases {
		c.req.Container = "web"
		_, err := planner.Mount(g, c.req)
		if !errors.Is(err, c.wantErr) || (c.wantErr == nil) != (err == nil) {
			t.Errorf("Mount(%+v) = %v, want %v", c.req, err, c.wantErr)
		}
	}
	lax := plan.New(plan.Options{AllowDangerous: true})
	if _, err := lax.Mount(g, plan.MountRequest{Container: "web", VolumesFrom: "sock"}); err != nil {
		t.Errorf("with --allow-dangerous-specs, volumesFrom the socket donor = %v, want allowed", err)
	}
}

func TestPlanIDFollowsWhatMatters(t *testing.T) {
	p1, err := planner.Mount(tutorial(t), plan.MountRequest{Container: "database", Volume: "shared", Target: "/data"})
	if err != nil {
		t.Fatal(err)
	}
	p2, _ := planner.Mount(tutorial(t), plan.MountRequest{Container: "database", Volume: "shared", Target: "/data"})
	if p1.ID != p2.ID || p1.ID == "" {
		t.Fatalf("the same plan twice has IDs %q and %q", p1.ID, p2.ID)
	}
	p2.LostFiles(dbID, []plan.FileChange{{Path: "/note", Kind: "added"}}, false)
	if p2.ID != p1.ID {
		t.Errorf("the lost files changed the ID")
	}
	stopped := graph([]topology.Volume{{Name: "shared", Driver: "local"}},
		newCtr(webID, "web").on("bridge").links(topology.LinkRef{Target: "database", Alias: "db"}),
		newCtr(dbID, "database").on("bridge").names("web/db").stopped(),
	)
	p3, _ := planner.Mount(stopped, plan.MountRequest{Container: "database", Volume: "shared", Target: "/data"})
	if p3.ID == p1.ID {
		t.Errorf("database stopped since the plan, yet the plan ID is the same")
	}
	p4, _ := planner.Mount(tutorial(t), plan.MountRequest{Container: "database", Volume: "shared", Target: "/other"})
	if p4.ID == p1.ID {
		t.Errorf("another target, yet the plan ID is the same")
	}
}

func TestStartRefusesWhatTheEngineWould(t *testing.T) {
	g := graph(nil,
		newCtr(webID, "web").on("bridge").stopped().links(topology.LinkRef{Target: "database", Alias: "db"}),
		newCtr(dbID, "database").on("bridge").stopped().names("web/db"),
		newCtr(sideID, "side").mode("container:"+dbID).stopped(),
	)
	for _, name := range []string{"web", "side"} {
		if _, err := planner.Start(g, plan.ContainerRequest{Container: name}); !errors.Is(err, topology.ErrConflict) || !strings.Contains(err.Error(), "database") {
			t.Errorf("Start(%s) = %v, want a conflict naming database", name, err)
		}
	}
	if _, err := planner.Start(g, plan.ContainerRequest{Container: "database"}); err != nil {
		t.Errorf("Start(database) = %v", err)
	}
	stop, err := planner.Stop(graph(nil, newCtr(webID, "web").on("bridge").links(topology.LinkRef{Target: "database", Alias: "db"}),
		newCtr(dbID, "database").on("bridge").names("web/db")), plan.ContainerRequest{Container: "database"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"web"}, breakers(stop)); diff != "" {
		t.Errorf("stopping database breaks (-want +got):\n%s", diff)
	}
}
