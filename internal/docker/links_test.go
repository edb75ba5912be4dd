package docker_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/network"
	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestAddLinkEndpointAlias adds and removes a link on a user-defined
// network: an endpoint alias made by disconnect + connect, with the same
// container, its other aliases and its static IP kept.
func TestAddLinkEndpointAlias(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx := t.Context()
	netName := dockertest.UniqueName(t, "net")
	ip := rcSubnetNetwork(t, c, netName)
	aName := dockertest.UniqueName(t, "a")
	a := rcRun(t, c, api, rcSpec{name: aName, net: netName, ep: &network.EndpointSettings{
		IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: ip}, Aliases: []string{"a-alias"},
	}})
	bName := dockertest.UniqueName(t, "b")
	dockertest.RunContainer(t, c, dockertest.WithName(bName), dockertest.WithNetwork(netName))

	if _, code := rcExec(t, api, a, "ping", "-c", "1", "-W", "1", "bee"); code == 0 {
		t.Fatalf("bee resolves from a before the link")
	}
	var steps rcSteps
	res, err := c.AddLink(ctx, aName, bName, "bee", steps.add)
	if err != nil {
		t.Fatalf("AddLink: %v", err)
	}
	want := docker.LinkResult{Method: docker.LinkByEndpointAlias, ContainerID: a, Network: netName}
	if res != want {
		t.Errorf("AddLink = %+v, want %+v", res, want)
	}
	if diff := cmp.Diff([]string{"disconnect " + netName + "=done", "connect " + netName + "=done"}, steps.ended()); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	info := rcInspect(t, api, aName)
	ep := info.NetworkSettings.Networks[netName]
	if info.ID != a || !info.State.Running {
		t.Fatalf("a is %s %s, want the same container running", info.ID[:12], info.State.Status)
	}
	if ep == nil || !slices.Contains(ep.Links, bName+":bee") || !slices.Contains(ep.Aliases, "a-alias") || ep.IPAddress != ip {
		t.Fatalf("endpoint on %s = %+v, want link %s:bee, alias a-alias, IP %s", netName, ep, bName, ip)
	}
	if out, code := rcExec(t, api, a, "ping", "-c", "1", "-W", "2", "bee"); code != 0 {
		t.Errorf("ping bee from a: exit %d: %s", code, out)
	}
	if _, err := c.AddLink(ctx, aName, bName, "bee", nil); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("AddLink again = %v, want ErrConflict", err)
	}

	if err := c.RemoveLink(ctx, aName, "bee"); err != nil {
		t.Fatalf("RemoveLink: %v", err)
	}
	info = rcInspect(t, api, aName)
	ep = info.NetworkSettings.Networks[netName]
	if info.ID != a || len(ep.Links) != 0 || !slices.Contains(ep.Aliases, "a-alias") || ep.IPAddress != ip {
		t.Errorf("after RemoveLink: %s, endpoint %+v; want the same container, no links, alias and IP kept", info.ID[:12], ep)
	}
	if _, code := rcExec(t, api, a, "ping", "-c", "1", "-W", "1", "bee"); code == 0 {
		t.Errorf("bee still resolves from a after RemoveLink")
	}
	if err := c.RemoveLink(ctx, aName, "bee"); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("RemoveLink again = %v, want ErrNotFound", err)
	}
}

// TestAddLinkRefuses checks the links AddLink cannot make, before any
// change: to itself, with a bad alias, between containers that share no
// network, from a container in another's network namespace.
func TestAddLinkRefuses(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx := t.Context()
	netName := dockertest.UniqueName(t, "net")
	dockertest.CreateNetwork(t, c, netName)
	aName := dockertest.UniqueName(t, "a")
	a := dockertest.RunContainer(t, c, dockertest.WithName(aName), dockertest.WithNetwork(netName))
	bridged := dockertest.UniqueName(t, "bridged")
	dockertest.RunContainer(t, c, dockertest.WithName(bridged))
	nsName := dockertest.UniqueName(t, "ns")
	dockertest.RunContainer(t, c, dockertest.WithName(nsName), dockertest.WithNetworkMode("container:"+aName))

	tests := []struct {
		name, from, to, alias string
		want                  error
		msg                   string
	}{
		{"itself", aName, a, "me", topology.ErrInvalid, "itself"},
		{"bad alias", aName, bridged, "-x", topology.ErrInvalid, "alias"},
		{"long alias", aName, bridged, strings.Repeat("a", 64), topology.ErrInvalid, "alias"},
		{"no shared network", aName, bridged, "br", topology.ErrInvalid, "share no network"},
		{"netns user", nsName, bridged, "br", topology.ErrInvalid, "network of"},
		{"missing target", aName, dockertest.UniqueName(t, "nope"), "x1", topology.ErrNotFound, ""},
		{"missing source", dockertest.UniqueName(t, "nope"), aName, "x1", topology.ErrNotFound, ""},
	}
	for _, tt := range tests {
		_, err := c.AddLink(ctx, tt.from, tt.to, tt.alias, nil)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: AddLink = %v, want %v saying %q", tt.name, err, tt.want, tt.msg)
		}
	}
	if got := rcInspect(t, api, aName).NetworkSettings.Networks[netName]; got == nil || len(got.Links) != 0 {
		t.Errorf("a's endpoint after refused links = %+v", got)
	}
}

// TestAddLinkBridgeToUserNetwork links a default-bridge container to one
// reachable only on a user-defined network both are on: an endpoint
// alias there, not a legacy link (which the engine would refuse).
func TestAddLinkBridgeToUserNetwork(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	netName := dockertest.UniqueName(t, "net")
	netID := dockertest.CreateNetwork(t, c, netName)
	aName := dockertest.UniqueName(t, "a")
	a := dockertest.RunContainer(t, c, dockertest.WithName(aName))
	if err := c.ConnectNetwork(t.Context(), netID, a, nil); err != nil {
		t.Fatalf("ConnectNetwork: %v", err)
	}
	bName := dockertest.UniqueName(t, "b")
	dockertest.RunContainer(t, c, dockertest.WithName(bName), dockertest.WithNetwork(netName))

	res, err := c.AddLink(t.Context(), aName, bName, "bee", nil)
	if err != nil {
		t.Fatalf("AddLink: %v", err)
	}
	if want := (docker.LinkResult{Method: docker.LinkByEndpointAlias, ContainerID: a, Network: netName}); res != want {
		t.Errorf("AddLink = %+v, want %+v", res, want)
	}
	if out, code := rcExec(t, api, a, "ping", "-c", "1", "-W", "2", "bee"); code != 0 {
		t.Errorf("ping bee from a: exit %d: %s", code, out)
	}
}

// TestRemoveLinkLegacy removes a legacy link in place: same container,
// still running, and the link name gone from the target.
func TestRemoveLinkLegacy(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	dbName := dockertest.UniqueName(t, "db")
	db := dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	webName := dockertest.UniqueName(t, "web")
	web := dockertest.RunContainer(t, c, dockertest.WithName(webName), dockertest.WithLink(dbName, "db"))

	if err := c.RemoveLink(t.Context(), webName, "db"); err != nil {
		t.Fatalf("RemoveLink: %v", err)
	}
	info := rcInspect(t, api, webName)
	if info.ID != web || !info.State.Running || len(info.HostConfig.Links) != 0 {
		t.Errorf("web after RemoveLink: %s %s links %v; want the same container running without links", info.ID[:12], info.State.Status, info.HostConfig.Links)
	}
	for _, ct := range mustList(t, c).Containers {
		if ct.ID == db && slices.Contains(ct.Names, webName+"/db") {
			t.Errorf("database names = %v, still with %s/db", ct.Names, webName)
		}
	}
	if err := c.RemoveLink(t.Context(), webName, "db"); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("RemoveLink again = %v, want ErrNotFound", err)
	}
}

// TestAddLinkConcurrent starts two AddLink on one container at once:
// exactly one runs, the other is refused at once with ErrConflict, and a
// RemoveLink by ID meanwhile is refused too.
func TestAddLinkConcurrent(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx, cancel := context.WithTimeout(t.Context(), rcTimeout)
	defer cancel()
	dbName := dockertest.UniqueName(t, "db")
	dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	webName := dockertest.UniqueName(t, "web")
	web := rcRun(t, c, api, rcSpec{name: webName})

	// The recreate that gets the lock waits at its first step until the
	// other call has returned, so the two surely overlap.
	otherDone := make(chan struct{})
	var once sync.Once
	docker.SetRecreateHook(c, func(step string) error {
		if step == "stop" {
			select {
			case <-otherDone:
			case <-time.After(30 * time.Second):
				return errors.New("the second AddLink did not return")
			}
		}
		return nil
	})
	type result struct {
		res docker.LinkResult
		err error
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			res, err := c.AddLink(ctx, webName, dbName, "db", nil)
			if err != nil {
				once.Do(func() {
					// While the first runs, any other change of web is busy.
					_, err2 := c.AddLink(ctx, web, dbName, "other", nil)
					err3 := c.RemoveLink(ctx, web, "db")
					if !errors.Is(err2, docker.ErrBusy) || !errors.Is(err3, docker.ErrBusy) {
						err = fmt.Errorf("%w; by ID: AddLink %v, RemoveLink %v", err, err2, err3)
					}
					close(otherDone)
				})
			}
			results <- result{res, err}
		}()
	}
	var ok, busy int
	for range 2 {
		r := <-results
		switch {
		case r.err == nil:
			ok++
			dockertest.TrackContainer(t, c, r.res.ContainerID)
		case errors.Is(r.err, topology.ErrConflict) && errors.Is(r.err, docker.ErrBusy):
			busy++
			t.Logf("refused: %v", r.err)
		default:
			t.Errorf("AddLink: %v", r.err)
		}
	}
	if ok != 1 || busy != 1 {
		t.Errorf("%d succeeded and %d were refused as busy, want 1 and 1", ok, busy)
	}
	if got := rcInspect(t, api, webName).HostConfig.Links; len(got) != 1 {
		t.Errorf("web links = %v, want one", got)
	}
}
