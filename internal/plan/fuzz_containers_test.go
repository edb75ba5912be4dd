package plan_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// Fuzz targets for the container actions: Run, Start, Stop, Restart,
// RemoveContainer.

func FuzzRunRequest(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "busybox:latest", "sleep,1", "")
		f.Add("new1", s, "", "appnet")
		f.Add("new1", "busybox", s, "")
		f.Add("new1", "busybox", "", s)
	}
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, name, image, cmd, network string) {
		req := plan.RunRequest{Name: name, Image: image, Cmd: split(cmd), Network: network}
		p := checkPlanned(t, g, "Run", func() (*plan.Plan, error) { return pl.Run(g, req) })
		if p == nil {
			return
		}
		spec := p.Run
		if spec == nil || p.Method != plan.MethodCreate || p.Subject.Name != spec.Name {
			t.Fatalf("Run: plan %+v, want a create with its run spec", p)
		}
		checkName(t, "container name", spec.Name)
		if _, err := g.ContainerByRef(spec.Name); err == nil {
			t.Errorf("name %q accepted, but a container has it", spec.Name)
		}
		if err := topology.ValidateImageRef(spec.Image); err != nil || strings.ContainsAny(spec.Image, " \t\n;$") {
			t.Errorf("image %q accepted: %v", spec.Image, err)
		}
		if len(spec.Cmd) > 64 {
			t.Errorf("%d command arguments accepted", len(spec.Cmd))
		}
		for _, a := range spec.Cmd {
			if len(a) > 1024 || strings.ContainsRune(a, 0) {
				t.Errorf("command argument %.40q accepted", a)
			}
		}
		if spec.Network != "" {
			n, ok := networkIn(g, spec.Network)
			if !ok || n.Network.Driver != "bridge" || n.Network.Default {
				t.Errorf("network %q accepted as %q, which is no user-defined bridge network of the graph", network, spec.Network)
			}
		}
	})
}

// lifecycle are the container actions FuzzContainerLifecycle picks from.
var lifecycle = []struct {
	name string
	call func(*plan.Planner, topology.Graph, plan.ContainerRequest) (*plan.Plan, error)
}{
	{"Start", (*plan.Planner).Start},
	{"Stop", (*plan.Planner).Stop},
	{"Restart", (*plan.Planner).Restart},
	{"RemoveContainer", (*plan.Planner).RemoveContainer},
}

func FuzzContainerLifecycle(f *testing.F) {
	for _, s := range fuzzNasty {
		for a := range lifecycle {
			f.Add(s, uint8(a), false)
			f.Add(s, uint8(a), true)
		}
	}
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, ref string, action uint8, force bool) {
		a := lifecycle[int(action)%len(lifecycle)]
		req := plan.ContainerRequest{Container: ref, Force: force}
		p := checkPlanned(t, g, a.name, func() (*plan.Plan, error) { return a.call(pl, g, req) })
		if p == nil {
			return
		}
		checkSubject(t, g, a.name, p)
		ct, ok := containerIn(g, p.Subject.ID)
		if !ok {
			t.Fatalf("%s: subject %+v is no container of the graph", a.name, p.Subject)
		}
		for _, d := range slices.Concat(p.Dependents, p.Breaks) {
			if d.On != p.Subject {
				t.Errorf("%s: dependent %+v depends on %+v, not on the subject", a.name, d, d.On)
			}
		}
		for _, b := range p.Breaks {
			if !slices.Contains(p.Dependents, b) {
				t.Errorf("%s: breaks %+v, which is not among its dependents", a.name, b)
			}
		}
		switch a.name {
		case "Start", "Restart":
			for _, e := range g.EdgesOf(ct.ID) {
				if e.From == ct.ID && e.Kind == topology.EdgeBrokenLink {
					t.Errorf("%s of %s accepted with its broken link %s", a.name, ct.Container.Name, e.Link.Alias)
				}
			}
		case "RemoveContainer":
			if ct.Container.Running() && !force {
				t.Errorf("RemoveContainer of the running %s accepted without force", ct.Container.Name)
			}
			if p.Method != plan.MethodRemove || p.Force != force {
				t.Errorf("RemoveContainer: method %s force %v, want a removal with force %v", p.Method, p.Force, force)
			}
		}
	})
}
