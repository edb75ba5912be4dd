package topology_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/topology"
)

func TestValidateNameRejects(t *testing.T) {
	// SEC-12 of research/security-reliability-anchors.md §7.1.
	bad := []string{"", "a", "-x", ".x", "_x", "x/y", "x:y", "../x", "x y", "ümlaut", "x\x00y", "x\ny",
		strings.Repeat("a", 64), strings.Repeat("a", 256), strings.Repeat("a", 4096), "--privileged", "<script>"}
	for _, name := range bad {
		if err := topology.ValidateName("container name", name); !errors.Is(err, topology.ErrInvalid) {
			t.Errorf("ValidateName(%q) = %v, want ErrInvalid", name, err)
		}
	}
}

func TestValidateNameAccepts(t *testing.T) {
	for _, name := range []string{"db", "web", "web-1", "my_app.v2", "A9", strings.Repeat("a", 63)} {
		if err := topology.ValidateName("container name", name); err != nil {
			t.Errorf("ValidateName(%q) = %v, want nil", name, err)
		}
	}
}

func TestValidateImageRef(t *testing.T) {
	good := []string{"busybox", "busybox:1.36", "dockmap-fixture:busybox-b15864630b5f", "library/nginx:latest",
		"registry.example.com:5000/team/app:v1", "sha256:" + strings.Repeat("a", 64), "nginx@sha256:" + strings.Repeat("0", 64)}
	for _, ref := range good {
		if err := topology.ValidateImageRef(ref); err != nil {
			t.Errorf("ValidateImageRef(%q) = %v, want nil", ref, err)
		}
	}
	bad := []string{"", "UPPER", "a b", "-x", "x:", ":tag", "x;rm -rf /", "x\n", "../x", strings.Repeat("a", 300)}
	for _, ref := range bad {
		if err := topology.ValidateImageRef(ref); !errors.Is(err, topology.ErrInvalid) {
			t.Errorf("ValidateImageRef(%q) = %v, want ErrInvalid", ref, err)
		}
	}
}

func TestContainerByRef(t *testing.T) {
	id := strings.Repeat("ab", 32)
	g := topology.Build(topology.Inventory{Containers: []topology.Container{{ID: id, Name: "web", Names: []string{"web"}}}})
	for _, ref := range []string{id, "c:" + id, "web"} {
		if n, err := g.ContainerByRef(ref); err != nil || n.Container.ID != id {
			t.Errorf("ContainerByRef(%q) = %v, %v; want the web container", ref, n.ID, err)
		}
	}
	// An ID prefix is never accepted, even when it would be unique.
	for ref, want := range map[string]error{
		id[:12]:                  topology.ErrNotFound,
		"db":                     topology.ErrNotFound,
		strings.Repeat("cd", 32): topology.ErrNotFound,
		"x y":                    topology.ErrInvalid,
		"":                       topology.ErrInvalid,
	} {
		if _, err := g.ContainerByRef(ref); !errors.Is(err, want) {
			t.Errorf("ContainerByRef(%q) = %v, want %v", ref, err, want)
		}
	}
}

func TestNetworkByRefAndEdge(t *testing.T) {
	id := strings.Repeat("ef", 32)
	g := topology.Build(topology.Inventory{
		Networks: []topology.Network{{ID: id, Name: "appnet"}},
		Containers: []topology.Container{{ID: "c1", Name: "web", Names: []string{"web"},
			Endpoints: []topology.Endpoint{{NetworkID: id, NetworkName: "appnet", IP: "10.0.0.2"}}}},
	})
	for _, ref := range []string{id, "n:" + id, "appnet"} {
		if n, err := g.NetworkByRef(ref); err != nil || n.Network.ID != id {
			t.Errorf("NetworkByRef(%q) = %v, %v; want appnet", ref, n.ID, err)
		}
	}
	if _, err := g.NetworkByRef(id[:12]); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("NetworkByRef(ID prefix) = %v, want ErrNotFound", err)
	}
	e, ok := g.MemberEdge(topology.ContainerNodeID("c1"), topology.NetworkNodeID(id))
	if !ok || e.Member.IP != "10.0.0.2" {
		t.Errorf("MemberEdge = %+v, %v; want web's endpoint", e, ok)
	}
	if _, ok := g.Edge("m:nope"); ok {
		t.Error("Edge of an unknown ID found something")
	}
}

// A new container may not be named like an IP address, in any spelling
// ping, nc or getaddrinfo read as one; names that only contain digits and
// dots among letters are fine.
func TestValidateContainerNameRefusesAddresses(t *testing.T) {
	for _, name := range []string{
		"172.17.0.1", "127.0.0.1", "169.254.169.254", "10.0.0.1", "255.255.255.255",
		"10", "2130706433", "127.1", "10.1.1", "0x7f.1", "0x7F000001", "0x", "0177.0.0.1", "999.999.999.999", "08",
	} {
		err := topology.ValidateContainerName(name)
		if !errors.Is(err, topology.ErrInvalid) || !strings.Contains(err.Error(), "IP address") {
			t.Errorf("ValidateContainerName(%q) = %v, want ErrInvalid saying it reads as an IP address", name, err)
		}
	}
	for _, name := range []string{"db", "web-1", "v1.2.3", "1.2.3.4.5", "10.0.0.1a", "app10", "1a", "0xg", "1.2.3.4.", "x10.0.0.1", "1-2-3-4", "1_0"} {
		if err := topology.ValidateContainerName(name); err != nil {
			t.Errorf("ValidateContainerName(%q) = %v, want nil", name, err)
		}
	}
	// The engine's rule still applies first.
	if err := topology.ValidateContainerName("-x"); !errors.Is(err, topology.ErrInvalid) {
		t.Errorf("ValidateContainerName(-x) = %v, want ErrInvalid", err)
	}
}

func TestLooksLikeAddress(t *testing.T) {
	for _, s := range []string{"::1", "fe80::1%eth0", "2001:db8::1", "::ffff:127.0.0.1", "1.2.3.4", "1", "0x10.0x20"} {
		if !topology.LooksLikeAddress(s) {
			t.Errorf("LooksLikeAddress(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", ".", "1..2", "db", "a.b.c.d", "1.2.3.4.5", "localhost", "1.2.3.4."} {
		if topology.LooksLikeAddress(s) {
			t.Errorf("LooksLikeAddress(%q) = true, want false", s)
		}
	}
}
