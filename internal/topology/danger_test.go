package topology_test

import (
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/topology"
)

func TestEffectiveMountDanger(t *testing.T) {
	bindRoot := map[string]string{"type": "none", "o": "bind", "device": "/"}
	tests := []struct {
		name     string
		m        topology.EffectiveMount
		want     string // a part of the reason; "" means not dangerous
		hostPath string
	}{
		{"plain volume", topology.EffectiveMount{Type: "volume", Source: "data", Driver: "local"}, "", ""},
		{"bind of a project", topology.EffectiveMount{Type: "bind", Source: "/srv/app"}, "", "/srv/app"},
		{"bind of /", topology.EffectiveMount{Type: "bind", Source: "/"}, "root", "/"},
		{"bind of the socket", topology.EffectiveMount{Type: "bind", Source: "/var/run/docker.sock"}, "Docker socket", "/var/run/docker.sock"},
		{"bind of /run", topology.EffectiveMount{Type: "bind", Source: "/run/"}, "holds the Docker socket", "/run/"},
		{"socket elsewhere", topology.EffectiveMount{Type: "bind", Source: "/home/me/docker.sock"}, "Docker socket", "/home/me/docker.sock"},
		{"bind-backed volume of /", topology.EffectiveMount{Type: "volume", Source: "root", Driver: "local", Options: bindRoot}, "through the volume root", "/"},
		{"bind-backed volume of a project", topology.EffectiveMount{Type: "volume", Source: "p", Driver: "local",
			Options: map[string]string{"type": "none", "o": "bind", "device": "/srv/p"}}, "", "/srv/p"},
		{"type none with a device", topology.EffectiveMount{Type: "volume", Source: "s", Driver: "local",
			Options: map[string]string{"type": "none", "device": "/var/run"}}, "holds the Docker socket", "/var/run"},
		{"host block device", topology.EffectiveMount{Type: "volume", Source: "disk", Driver: "local",
			Options: map[string]string{"type": "ext4", "device": "/dev/sda1"}}, "mounts ext4 /dev/sda1", ""},
		{"nfs", topology.EffectiveMount{Type: "volume", Source: "share", Driver: "local",
			Options: map[string]string{"type": "nfs", "o": "addr=10.0.0.1", "device": ":/export"}}, "mounts nfs", ""},
		{"tmpfs volume", topology.EffectiveMount{Type: "volume", Source: "ram", Driver: "local",
			Options: map[string]string{"type": "tmpfs", "device": "tmpfs"}}, "", ""},
		{"other driver", topology.EffectiveMount{Type: "volume", Source: "x", Driver: "rexray", Destination: "/x"}, "driver rexray", ""},
		{"through a donor", topology.EffectiveMount{Type: "bind", Source: "/var/run/docker.sock", Via: "the volumes of sock"}, "(the volumes of sock)", "/var/run/docker.sock"},
		{"tmpfs", topology.EffectiveMount{Type: "tmpfs", Destination: "/run"}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.m.Danger()
			if (got == "") != (tt.want == "") || !strings.Contains(got, tt.want) {
				t.Errorf("Danger() = %q, want one containing %q", got, tt.want)
			}
			if hp := tt.m.HostPath(); hp != tt.hostPath {
				t.Errorf("HostPath() = %q, want %q", hp, tt.hostPath)
			}
		})
	}
}

func TestLeftoverName(t *testing.T) {
	name := topology.LeftoverNameOf("web", strings.Repeat("ab", 32))
	if name != "web-dockmap-old-abababababab" {
		t.Fatalf("LeftoverNameOf = %q", name)
	}
	if orig, ok := topology.LeftoverName(name); !ok || orig != "web" {
		t.Errorf("LeftoverName(%q) = %q, %v; want web, true", name, orig, ok)
	}
	for _, n := range []string{"web", "web-dockmap-old-", "web-dockmap-old-xyz", "web-dockmap-old-abababababab0"} {
		if _, ok := topology.LeftoverName(n); ok {
			t.Errorf("LeftoverName(%q) is a leftover, want not", n)
		}
	}
}
