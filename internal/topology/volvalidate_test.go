package topology_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/topology"
)

// SEC-13: every name a "-v" string would read as a host path or as extra
// fields is refused.
func TestValidateVolumeName(t *testing.T) {
	for _, name := range []string{"", "/", "/etc", "/var/run/docker.sock", "x:/etc", "x:/t:rw", "..", ".", "a",
		"-x", "_x", ".x", "x y", "x/y", "a..b", "ümlaut", "x\x00y", strings.Repeat("a", 64)} {
		if err := topology.ValidateVolumeName(name); !errors.Is(err, topology.ErrInvalid) {
			t.Errorf("ValidateVolumeName(%q) = %v, want ErrInvalid", name, err)
		}
	}
	for _, name := range []string{"shared-data", "db_1", "v.2", "ab"} {
		if err := topology.ValidateVolumeName(name); err != nil {
			t.Errorf("ValidateVolumeName(%q) = %v, want nil", name, err)
		}
	}
}

// volGraph has container web with a named volume at /data, a bind at
// /conf and a tmpfs at /run/cache, and container donor with a volume at
// /data and one at /other.
func volGraph() (g topology.Graph, web, donor topology.Node) {
	inv := topology.Inventory{
		Containers: []topology.Container{
			{ID: strings.Repeat("1", 64), Name: "web", Names: []string{"web"}, State: "running", Mounts: []topology.Mount{
				{Type: "volume", Name: "data", Destination: "/data", RW: true},
				{Type: "bind", Source: "/srv/conf", Destination: "/conf"},
				{Type: "tmpfs", Destination: "/run/cache", RW: true},
			}},
			{ID: strings.Repeat("2", 64), Name: "donor", Names: []string{"donor"}, State: "running", Mounts: []topology.Mount{
				{Type: "volume", Name: "data", Destination: "/data", RW: true},
				{Type: "volume", Name: "other", Destination: "/other", RW: true},
			}},
			{ID: strings.Repeat("3", 64), Name: "lone", Names: []string{"lone"}, State: "exited"},
		},
		Volumes: []topology.Volume{{Name: "data", Driver: "local"}, {Name: "other", Driver: "local"},
			{Name: strings.Repeat("f", 64), Driver: "local", Anonymous: true}},
	}
	g = topology.Build(inv)
	web, _ = g.ContainerByRef("web")
	donor, _ = g.ContainerByRef("donor")
	return g, web, donor
}

func TestValidateMountTarget(t *testing.T) {
	g, web, _ := volGraph()
	tests := []struct {
		target string
		want   error
	}{
		{"/shared", nil},
		{"/data/sub", nil}, // inside a mount: Docker allows it
		{"/run", nil},      // around a tmpfs: allowed too
		{"data", topology.ErrInvalid},
		{"", topology.ErrInvalid},
		{"/", topology.ErrInvalid},
		{"/a/../b", topology.ErrInvalid},
		{"/a/", topology.ErrInvalid},
		{"/x:/y", topology.ErrInvalid},
		{"/x\x00", topology.ErrInvalid},
		{"/" + strings.Repeat("a", topology.MaxPathLen), topology.ErrInvalid},
		{"/data", topology.ErrConflict},
		{"/conf", topology.ErrConflict},
		{"/run/cache", topology.ErrConflict},
	}
	for _, tt := range tests {
		err := topology.ValidateMountTarget(g, web, tt.target)
		if (tt.want == nil) != (err == nil) || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("ValidateMountTarget(%.40q) = %v, want %v", tt.target, err, tt.want)
		}
	}
}

func TestValidateVolumesFrom(t *testing.T) {
	g, web, donor := volGraph()
	lone, _ := g.ContainerByRef("lone")
	if err := topology.ValidateVolumesFrom(g, lone, donor); err != nil {
		t.Errorf("lone from donor = %v, want nil", err)
	}
	if err := topology.ValidateVolumesFrom(g, web, donor); !errors.Is(err, topology.ErrConflict) || !strings.Contains(err.Error(), "/data") {
		t.Errorf("web from donor = %v, want a clash at /data", err)
	}
	if err := topology.ValidateVolumesFrom(g, web, web); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("web from itself = %v, want ErrInvalid", err)
	}
}

func TestVolumeByRef(t *testing.T) {
	g, _, _ := volGraph()
	if n, err := g.VolumeByRef("data"); err != nil || n.Volume.Name != "data" {
		t.Errorf("VolumeByRef(data) = %v, %v", n, err)
	}
	if _, err := g.VolumeByRef(strings.Repeat("f", 64)); err != nil {
		t.Errorf("VolumeByRef(anonymous) = %v, want found", err)
	}
	if _, err := g.VolumeByRef("nosuch"); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("VolumeByRef(nosuch) = %v, want ErrNotFound", err)
	}
	if _, err := g.VolumeByRef("/etc"); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("VolumeByRef(/etc) = %v, want ErrInvalid", err)
	}
}

// refused reports whether err refuses a path: invalid, or not allowed (a
// host path dockmap may not bind answers 403).
func refused(err error) bool {
	return errors.Is(err, topology.ErrInvalid) || errors.Is(err, topology.ErrForbidden)
}

func TestValidateBindPrefixes(t *testing.T) {
	got, err := topology.ValidateBindPrefixes([]string{"/tmp/", "/srv/share"})
	if err != nil || strings.Join(got, ",") != "/tmp,/srv/share" {
		t.Errorf("ValidateBindPrefixes = %v, %v, want [/tmp /srv/share]", got, err)
	}
	for _, p := range []string{"/", "//", "/..", "tmp", "", "/var", "/var/run", "/run", "/run/docker.sock", "/var/run/docker.sock", "/a:b"} {
		if _, err := topology.ValidateBindPrefixes([]string{p}); !refused(err) {
			t.Errorf("ValidateBindPrefixes(%q) = %v, want refused", p, err)
		}
	}
}

func TestValidateBindSource(t *testing.T) {
	if _, err := topology.ValidateBindSource(nil, "/tmp/x"); !errors.Is(err, topology.ErrBindNotAllowed) {
		t.Errorf("bind with no allowed prefix = %v, want ErrBindNotAllowed", err)
	}
	allowed := []string{"/tmp", "/srv/share"}
	for p, want := range map[string]string{"/tmp/x": "/tmp/x", "/tmp": "/tmp", "/srv/share/a/": "/srv/share/a", "/tmp/a/../b": "/tmp/b"} {
		if got, err := topology.ValidateBindSource(allowed, p); err != nil || got != want {
			t.Errorf("ValidateBindSource(%q) = %q, %v, want %q", p, got, err, want)
		}
	}
	for _, p := range []string{"/", "/etc", "/tmpx", "/tmp/../etc", "/srv", "tmp/x", "", "/var/run/docker.sock", "/run/docker.sock", "/var/run", "/tmp/a:b"} {
		if got, err := topology.ValidateBindSource(allowed, p); !refused(err) {
			t.Errorf("ValidateBindSource(%q) = %q, %v, want refused", p, got, err)
		}
	}
	// Even an operator who allows "/" by mistake (refused at start) gets
	// no socket.
	if _, err := topology.ValidateBindSource([]string{"/var"}, "/var/run/docker.sock"); !errors.Is(err, topology.ErrBindNotAllowed) {
		t.Errorf("socket under an allowed prefix = %v, want refused", err)
	}
}
