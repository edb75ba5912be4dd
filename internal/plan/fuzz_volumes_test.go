package plan_test

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// Fuzz targets for the volume actions: CreateVolume, RemoveVolume, Mount.

func FuzzCreateVolume(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "", "")
		f.Add("newvol", s, "v")
		f.Add("newvol", "k", s)
	}
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, name, key, value string) {
		req := plan.VolumeRequest{Name: name}
		if key != "" || value != "" {
			req.Labels = map[string]string{key: value}
		}
		p := checkPlanned(t, g, "CreateVolume", func() (*plan.Plan, error) { return pl.CreateVolume(g, req) })
		if p == nil {
			return
		}
		spec := p.Volume
		if spec == nil || p.Method != plan.MethodCreate || spec.Name != name || p.Subject.Name != name {
			t.Fatalf("CreateVolume: plan %+v, want a create of the volume %q", p, name)
		}
		checkName(t, "volume name", spec.Name)
		if strings.Contains(spec.Name, "..") {
			t.Errorf("volume name %q accepted, but it holds \"..\"", spec.Name)
		}
		if _, ok := volumeIn(g, spec.Name); ok {
			t.Errorf("volume name %q accepted, but a volume has it", spec.Name)
		}
		for k, v := range spec.Labels {
			if k == "" || strings.ContainsRune(k+v, 0) {
				t.Errorf("label %q=%q accepted", k, v)
			}
		}
	})
}

func FuzzRemoveVolume(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, s)
		f.Add("empty", s)
	}
	f.Add("data", "data")
	f.Add("project", "project")
	f.Add("v:empty", "empty")
	g := fuzzGraph()
	pl := fuzzPlanner(f)
	f.Fuzz(func(t *testing.T, volRef, confirm string) {
		req := plan.RemoveVolumeRequest{Volume: volRef, Confirm: confirm}
		p := checkPlanned(t, g, "RemoveVolume", func() (*plan.Plan, error) { return pl.RemoveVolume(g, req) })
		if p == nil {
			return
		}
		v, ok := volumeIn(g, p.Subject.ID)
		if !ok || p.Method != plan.MethodRemove {
			t.Fatalf("RemoveVolume: plan %+v, want the removal of a volume of the graph", p)
		}
		if confirm != v.Volume.Name {
			t.Errorf("RemoveVolume of %s accepted with the confirmation %q", v.Volume.Name, confirm)
		}
		if users := plan.VolumeUsers(g, v); len(users) > 0 {
			t.Errorf("RemoveVolume of %s accepted while %v use it", v.Volume.Name, users)
		}
		if lost := slices.ContainsFunc(p.Loses, func(l plan.Loss) bool { return l.Kind == plan.LossVolumeData }); lost != (v.Volume.Backing == "") {
			t.Errorf("RemoveVolume of %s (backing %q): loses its data = %v", v.Volume.Name, v.Volume.Backing, lost)
		}
	})
}

func FuzzMount(f *testing.F) {
	for _, s := range fuzzNasty {
		f.Add(s, "data", "", "", "/mnt/x", true, false)
		f.Add("client", s, "", "", "/mnt/x", true, false)
		f.Add("client", "", s, "", "", true, false)
		f.Add("client", "", "", s, "/mnt/x", true, false)
		f.Add("client", "data", "", "", s, true, false)
	}
	f.Add("client", "", "", "/srv/share/../../var/run/docker.sock", "/s", true, false)
	f.Add("client", "", "", "/srv/share/./x/", "/mnt/x", true, false)
	f.Add("client", "remote", "", "", "/mnt/x", true, false)
	f.Add("web", "data", "", "", "/data", true, false)
	f.Add("client", "", "web", "", "", true, false)
	f.Add("client", "", "web", "", "", false, false)
	f.Add("client", "", "dind", "", "", true, false)
	f.Add("client", "", "dind", "", "", true, true)
	f.Add("client", "hostroot", "", "", "/h", true, true)
	f.Add("client", "project", "", "", "/p", true, false)
	f.Add("db", "empty", "", "", "/e", true, false)
	f.Add("db", "empty", "", "", "/e", false, false)
	f.Add("web", "empty", "", "", "/e", true, false)
	f.Add("frozen", "empty", "", "", "/e", true, false)
	f.Add("temp", "empty", "", "", "/e", true, false)
	f.Add("backup", "", "web", "", "", true, false)
	g := fuzzGraph()
	allow, err := topology.ValidateBindPrefixes([]string{fuzzAllow + "/"})
	if err != nil {
		f.Fatal(err)
	}
	strict := plan.New(plan.Options{AllowBinds: allow})
	lax := plan.New(plan.Options{AllowBinds: allow, AllowDangerous: true})
	f.Fuzz(func(t *testing.T, ref, volume, volumesFrom, bind, target string, deps, dangerous bool) {
		pl := strict
		if dangerous {
			pl = lax
		}
		req := plan.MountRequest{Container: ref, Volume: volume, VolumesFrom: volumesFrom, Bind: bind, Target: target, RecreateDependents: &deps}
		p := checkPlanned(t, g, "Mount", func() (*plan.Plan, error) { return pl.Mount(g, req) })
		if p == nil {
			return
		}
		checkSubject(t, g, "Mount", p)
		ct, ok := containerIn(g, p.Subject.ID)
		if !ok || p.Method != plan.MethodRecreate {
			t.Fatalf("Mount: plan %+v, want a re-create of a container of the graph", p)
		}
		ch := p.Recreates[0].Change
		if got := len(ch.AddMounts) + len(ch.AddVolumesFrom); got != 1 || len(ch.AddLinks) != 0 || !dropsBrokenOnly(g, p.Subject.ID, ch.RemoveLinks) {
			t.Errorf("change %+v accepted, want exactly one mount or volumes-from", ch)
		}
		var effective []topology.EffectiveMount
		for _, d := range ch.AddVolumesFrom {
			donor, ok := containerIn(g, d.Donor.ID)
			if !ok || d.Donor.ID == ct.Container.ID || d.ReadOnly != req.ReadOnly {
				t.Fatalf("volumes-from %+v accepted, but it is not another container of the graph", d)
			}
			for _, e := range g.EdgesOf(donor.ID) {
				if e.Kind == topology.EdgeMount && e.From == donor.ID {
					to, _ := g.Node(e.To)
					m := topology.EffectiveMount{Type: e.Mount.Type, Destination: e.Mount.Destination}
					if to.Bind != nil {
						m.Source = to.Bind.Path
					}
					if to.Volume != nil {
						m.Source, m.Driver, m.Options = to.Volume.Name, to.Volume.Driver, to.Volume.Options
					}
					effective = append(effective, m)
				}
			}
		}
		for _, m := range ch.AddMounts {
			if !path.IsAbs(m.Target) || path.Clean(m.Target) != m.Target || m.Target == "/" || strings.ContainsAny(m.Target, ":\x00") {
				t.Errorf("mount target %q accepted", m.Target)
			}
			if slices.Contains(g.MountDestinations(ct), m.Target) {
				t.Errorf("mount target %q accepted, but %s mounts something there", m.Target, ct.Container.Name)
			}
			switch m.Type {
			case "volume":
				v, ok := volumeIn(g, m.Source)
				if !ok || !topology.LocalDriver(v.Volume.Driver) {
					t.Fatalf("volume %q accepted, but it is no local volume of the graph", m.Source)
				}
				em := topology.EffectiveMount{Type: "volume", Source: m.Source, Destination: m.Target, Driver: v.Volume.Driver, Options: v.Volume.Options}
				if host := em.HostPath(); host != "" && host != fuzzAllow && !strings.HasPrefix(host, fuzzAllow+"/") {
					t.Errorf("volume %s accepted, but it binds %s, outside %s", m.Source, host, fuzzAllow)
				}
				effective = append(effective, em)
			case "bind":
				if m.Source != fuzzAllow && !strings.HasPrefix(m.Source, fuzzAllow+"/") ||
					path.Clean(m.Source) != m.Source || strings.ContainsAny(m.Source, ":\x00") {
					t.Errorf("bind source %q accepted, but it is not a clean path under %s", m.Source, fuzzAllow)
				}
				effective = append(effective, topology.EffectiveMount{Type: "bind", Source: m.Source, Destination: m.Target})
			default:
				t.Errorf("mount type %q accepted", m.Type)
			}
		}
		if !dangerous {
			for _, m := range effective {
				if d := m.Danger(); d != "" {
					t.Errorf("Mount into %s accepted without --allow-dangerous-specs, yet it runs it %s", ct.Container.Name, d)
				}
			}
		}
	})
}
