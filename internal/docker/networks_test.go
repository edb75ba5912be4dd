package docker_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/docker/docker/api/types/container"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

var netNextSubnet atomic.Int32

// netCreate makes a bridge network with a free 10.124.x.0/24 subnet and
// returns its ID and subnet prefix ("10.124.x.").
func netCreate(t *testing.T, c *docker.Client, spec docker.NetworkCreate) (id, prefix string) {
	t.Helper()
	spec.Labels = dockertest.Labels()
	for range 32 {
		n := netNextSubnet.Add(1) % 256
		prefix = fmt.Sprintf("10.124.%d.", n)
		spec.Subnet, spec.Gateway = prefix+"0/24", prefix+"1"
		id, err := c.CreateBridgeNetwork(t.Context(), spec)
		if err == nil {
			dockertest.TrackNetwork(t, c, id)
			return id, prefix
		}
		if !strings.Contains(err.Error(), "overlaps") {
			t.Fatalf("create network %s: %v", spec.Name, err)
		}
	}
	t.Fatalf("create network %s: no free subnet in 10.124.0.0/16", spec.Name)
	return "", ""
}

// endpointOf is the container's endpoint on the network, straight from the
// SDK, with the aliases the engine adds itself dropped.
func endpointOf(t *testing.T, id, netName string) (aliases []string, staticIP, ip string, ok bool) {
	t.Helper()
	info := sdkInspect(t, id)[id]
	ep := info.NetworkSettings.Networks[netName]
	if ep == nil {
		return nil, "", "", false
	}
	for _, a := range ep.Aliases {
		if a != id[:12] && a != info.Config.Hostname {
			aliases = append(aliases, a)
		}
	}
	slices.Sort(aliases)
	if ep.IPAMConfig != nil {
		staticIP = ep.IPAMConfig.IPv4Address
	}
	return aliases, staticIP, ep.IPAddress, true
}

func TestCreateBridgeNetwork(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	name := dockertest.UniqueName(t, "net")
	id, prefix := netCreate(t, c, docker.NetworkCreate{Name: name, ICC: false, Internal: true, Attachable: true})
	d, err := c.InspectNetwork(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != id || d.Name != name || d.Driver != "bridge" || !d.Internal || !d.Attachable || d.ICC {
		t.Errorf("InspectNetwork = %+v, want internal, attachable, ICC off bridge %s", d, name)
	}
	if d.Labels[docker.ManagedLabel] != "1" || d.Labels[dockertest.Label] != "1" {
		t.Errorf("labels = %v, want %s=1 and the test label", d.Labels, docker.ManagedLabel)
	}
	if len(d.Subnets) != 1 || d.Subnets[0].Subnet != prefix+"0/24" || d.Subnets[0].Gateway != prefix+"1" {
		t.Errorf("subnets = %v, want %s0/24 via %s1", d.Subnets, prefix, prefix)
	}
	if len(d.Members) != 0 {
		t.Errorf("members of a new network = %v, want none", d.Members)
	}
	if _, err := c.CreateBridgeNetwork(t.Context(), docker.NetworkCreate{Name: name, ICC: true}); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("create a second %s = %v, want ErrConflict", name, err)
	}
	if _, err := c.InspectNetwork(t.Context(), "nosuch-"+dockertest.RunID()); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("inspect an unknown network = %v, want ErrNotFound", err)
	}
}

// TestAttachDetach attaches a running and a stopped container, changes
// the stopped one's aliases (the engine alone would silently keep the old
// ones), gives the running one a static IP, and detaches.
func TestAttachDetach(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	ctx := t.Context()
	netName := dockertest.UniqueName(t, "net")
	netID, prefix := netCreate(t, c, docker.NetworkCreate{Name: netName, ICC: true})
	webName, dbName := dockertest.UniqueName(t, "web"), dockertest.UniqueName(t, "database")
	web := dockertest.RunContainer(t, c, dockertest.WithName(webName))
	db := dockertest.RunContainer(t, c, dockertest.WithName(dbName), dockertest.Stopped())

	if err := c.Attach(ctx, netID, db, []string{"db"}, ""); err != nil {
		t.Fatalf("attach stopped database: %v", err)
	}
	if got, _, _, ok := endpointOf(t, db, netName); !ok || !slices.Equal(got, []string{"db"}) {
		t.Fatalf("database aliases = %v (attached %v), want [db]", got, ok)
	}
	if err := c.Attach(ctx, netID, db, []string{"db"}, ""); !errors.Is(err, topology.ErrConflict) || !strings.Contains(err.Error(), "already attached") {
		t.Errorf("attach again with the same settings = %v, want ErrConflict already attached", err)
	}
	// The silent-ignore case: a plain connect would keep [db].
	if err := c.Attach(ctx, netID, db, []string{"database2", "pg"}, prefix+"20"); err != nil {
		t.Fatalf("re-attach stopped database with new aliases: %v", err)
	}
	if got, static, _, _ := endpointOf(t, db, netName); !slices.Equal(got, []string{"database2", "pg"}) || static != prefix+"20" {
		t.Errorf("database after re-attach = aliases %v, IP %s; want [database2 pg] and %s20", got, static, prefix)
	}

	if err := c.Attach(ctx, netID, web, nil, ""); err != nil {
		t.Fatalf("attach running web: %v", err)
	}
	if err := c.Attach(ctx, netID, web, []string{"www"}, prefix+"30"); err != nil {
		t.Fatalf("re-attach running web with an alias and a static IP: %v", err)
	}
	if got, static, ip, _ := endpointOf(t, web, netName); !slices.Equal(got, []string{"www"}) || static != prefix+"30" || ip != prefix+"30" {
		t.Errorf("web after re-attach = aliases %v, static %s, IP %s; want [www] on %s30", got, static, ip, prefix)
	}

	d, err := c.InspectNetwork(ctx, netID)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]docker.Member{}
	for _, m := range d.Members {
		byName[m.Name] = m
	}
	if m := byName[dbName]; m.ContainerID != db || m.State == "running" || !slices.Equal(m.Aliases, []string{"database2", "pg"}) || m.StaticIP != prefix+"20" {
		t.Errorf("member database = %+v, want the stopped container with aliases [database2 pg] and static IP %s20", m, prefix)
	}
	if m := byName[webName]; m.ContainerID != web || m.State != "running" || m.IPv4 != prefix+"30" || m.MAC == "" || m.EndpointID == "" || !slices.Equal(m.Aliases, []string{"www"}) {
		t.Errorf("member web = %+v, want running on %s30 with a MAC, an endpoint and alias www", m, prefix)
	}

	if err := c.RemoveNetwork(ctx, netID); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("remove a network with a running member = %v, want ErrConflict", err)
	}
	for _, id := range []string{db, web} {
		if err := c.Detach(ctx, netID, id); err != nil {
			t.Fatalf("detach %s: %v", id[:12], err)
		}
		if _, _, _, ok := endpointOf(t, id, netName); ok {
			t.Errorf("%s still on %s after detach", id[:12], netName)
		}
	}
	if err := c.Detach(ctx, netID, db); !errors.Is(err, topology.ErrConflict) && !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("detach a container that is not attached = %v, want ErrConflict", err)
	}
	if err := c.RemoveNetwork(ctx, netID); err != nil {
		t.Errorf("remove the empty network: %v", err)
	}
}

// TestAttachRefusesSharedNamespace: a container in host, none or
// container: mode has no network of its own to attach.
func TestAttachRefusesSharedNamespace(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	netID, _ := netCreate(t, c, docker.NetworkCreate{Name: dockertest.UniqueName(t, "net"), ICC: true})
	donor := dockertest.RunContainer(t, c)
	for _, mode := range []string{"host", "none", "container:" + donor} {
		id := dockertest.RunContainer(t, c, dockertest.WithNetworkMode(mode), dockertest.Stopped())
		if err := c.Attach(t.Context(), netID, id, nil, ""); !errors.Is(err, topology.ErrInvalid) {
			t.Errorf("attach a container in mode %s = %v, want ErrInvalid", container.NetworkMode(mode), err)
		}
	}
}
