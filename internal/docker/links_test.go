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

// TestSetEndpointLinks adds and removes a link on a user-defined network:
// an endpoint alias made by disconnect + connect, with the same container,
// its other aliases and its static IP kept.
func TestSetEndpointLinks(t *testing.T) {
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
	expect := docker.Expectation{Name: aName, NetworkMode: netName, Networks: []string{netName}, Running: true}

	if _, code := rcExec(t, api, a, "ping", "-c", "1", "-W", "1", "bee"); code == 0 {
		t.Fatalf("bee resolves from a before the link")
	}
	// A plan made when things were otherwise is refused, and nothing
	// changes.
	stale := expect
	stale.Networks = []string{"bridge", netName}
	if err := c.SetEndpointLinks(ctx, aName, netName, []string{bName + ":bee"}, stale, bName, nil); !errors.Is(err, docker.ErrStale) || !errors.Is(err, topology.ErrConflict) {
		t.Errorf("SetEndpointLinks with a stale plan = %v, want ErrStale", err)
	}
	if err := c.SetEndpointLinks(ctx, aName, netName, []string{"x:bee"}, expect, dockertest.UniqueName(t, "gone"), nil); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("SetEndpointLinks to a peer that is gone = %v, want ErrNotFound", err)
	}
	if got := rcInspect(t, api, aName).NetworkSettings.Networks[netName]; len(got.Links) != 0 || got.EndpointID == "" {
		t.Fatalf("after the refusals the endpoint is %+v, want it untouched", got)
	}

	var steps rcSteps
	if err := c.SetEndpointLinks(ctx, aName, netName, []string{bName + ":bee"}, expect, bName, steps.add); err != nil {
		t.Fatalf("SetEndpointLinks: %v", err)
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

	if err := c.SetEndpointLinks(ctx, aName, netName, nil, expect, "", nil); err != nil {
		t.Fatalf("SetEndpointLinks without the link: %v", err)
	}
	info = rcInspect(t, api, aName)
	ep = info.NetworkSettings.Networks[netName]
	if info.ID != a || len(ep.Links) != 0 || !slices.Contains(ep.Aliases, "a-alias") || ep.IPAddress != ip {
		t.Errorf("after removing the link: %s, endpoint %+v; want the same container, no links, alias and IP kept", info.ID[:12], ep)
	}
	if _, code := rcExec(t, api, a, "ping", "-c", "1", "-W", "1", "bee"); code == 0 {
		t.Errorf("bee still resolves from a after the link went")
	}
}

// TestEndpointLinkFromTheBridge: a default-bridge container also on a
// user-defined network reaches a container there by an endpoint alias
// (the planner's choice when they share one: nothing is re-created).
func TestEndpointLinkFromTheBridge(t *testing.T) {
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

	if err := c.SetEndpointLinks(t.Context(), aName, netName, []string{bName + ":bee"}, docker.Expectation{}, bName, nil); err != nil {
		t.Fatalf("SetEndpointLinks: %v", err)
	}
	if got := rcInspect(t, api, aName); got.ID != a {
		t.Errorf("a is %s now, want the same container", got.ID[:12])
	}
	if out, code := rcExec(t, api, a, "ping", "-c", "1", "-W", "2", "bee"); code != 0 {
		t.Errorf("ping bee from a: exit %d: %s", code, out)
	}
}

// TestRecreateRefusesLinksWhereNone check the legacy links the engine
// cannot make, before any change: from a container in another's network
// namespace or on a user-defined network, to a missing target.
func TestRecreateRefusesLinksWhereNone(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	ctx := t.Context()
	netName := dockertest.UniqueName(t, "net")
	dockertest.CreateNetwork(t, c, netName)
	aName := dockertest.UniqueName(t, "a")
	a := dockertest.RunContainer(t, c, dockertest.WithName(aName), dockertest.WithNetwork(netName))
	bridged := dockertest.UniqueName(t, "bridged")
	dockertest.RunContainer(t, c, dockertest.WithName(bridged))
	nsName := dockertest.UniqueName(t, "ns")
	ns := dockertest.RunContainer(t, c, dockertest.WithName(nsName), dockertest.WithNetworkMode("container:"+aName))

	tests := []struct {
		name, from, to string
		want           error
		msg            string
	}{
		{"user-defined network", aName, bridged, topology.ErrInvalid, "user-defined network"},
		{"netns user", nsName, bridged, topology.ErrInvalid, "network of"},
		{"missing target", bridged, dockertest.UniqueName(t, "nope"), topology.ErrNotFound, ""},
	}
	for _, tt := range tests {
		newID, err := c.Recreate(ctx, tt.from, docker.RecreateChange{AddLinks: []docker.Link{{Target: tt.to, Alias: "lnk"}}}, nil)
		if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || newID != "" {
			t.Errorf("%s: Recreate with a link = %s, %v; want %v saying %q", tt.name, newID, err, tt.want, tt.msg)
		}
	}
	for _, id := range []string{a, ns} {
		if _, _, err := c.ContainerStarted(ctx, id); err != nil {
			t.Errorf("container %s after the refusals: %v", id[:12], err)
		}
	}
}

// TestUnlinkLegacy removes a legacy link in place: same container, still
// running, and the link name gone from the target.
func TestUnlinkLegacy(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	dbName := dockertest.UniqueName(t, "db")
	db := dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	webName := dockertest.UniqueName(t, "web")
	web := dockertest.RunContainer(t, c, dockertest.WithName(webName), dockertest.WithLink(dbName, "db"))

	// A list first, so the re-list after the removal answers from the
	// inspect cache unless the cache notices the change (it once did not
	// for a container only on the default bridge, drawing a broken link).
	linksOf := func() []topology.LinkRef {
		for _, ct := range mustList(t, c).Containers {
			if ct.ID == web {
				return ct.Links
			}
		}
		t.Fatalf("web %s not listed", webName)
		return nil
	}
	if got := linksOf(); len(got) != 1 || got[0].Alias != "db" {
		t.Fatalf("web's links before Unlink = %v, want the link db", got)
	}
	if err := c.Unlink(t.Context(), webName, "db"); err != nil {
		t.Fatalf("Unlink: %v", err)
	}
	if got := linksOf(); len(got) != 0 {
		t.Errorf("web's links listed after Unlink = %v, want none", got)
	}
	info := rcInspect(t, api, webName)
	if info.ID != web || !info.State.Running || len(info.HostConfig.Links) != 0 {
		t.Errorf("web after Unlink: %s %s links %v; want the same container running without links", info.ID[:12], info.State.Status, info.HostConfig.Links)
	}
	for _, ct := range mustList(t, c).Containers {
		if ct.ID == db && slices.Contains(ct.Names, webName+"/db") {
			t.Errorf("database names = %v, still with %s/db", ct.Names, webName)
		}
	}
	if err := c.Unlink(t.Context(), webName, "db"); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("Unlink again = %v, want ErrNotFound", err)
	}
}

// TestRecreateConcurrent starts two re-creates of one container at once:
// exactly one runs, the other is refused at once with ErrBusy, and a
// link change by ID meanwhile is refused too.
func TestRecreateConcurrent(t *testing.T) {
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
				return errors.New("the second re-create did not return")
			}
		}
		return nil
	})
	type result struct {
		id  string
		err error
	}
	link := docker.RecreateChange{AddLinks: []docker.Link{{Target: dbName, Alias: "db"}}}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			id, err := c.Recreate(ctx, webName, link, nil)
			if err != nil {
				once.Do(func() {
					// While the first runs, any other change of web is busy.
					_, err2 := c.Recreate(ctx, web, docker.RecreateChange{}, nil)
					err3 := c.Unlink(ctx, web, "db")
					if !errors.Is(err2, docker.ErrBusy) || !errors.Is(err3, docker.ErrBusy) {
						err = fmt.Errorf("%w; by ID: Recreate %v, Unlink %v", err, err2, err3)
					}
					close(otherDone)
				})
			}
			results <- result{id, err}
		}()
	}
	var ok, busy int
	for range 2 {
		r := <-results
		switch {
		case r.err == nil:
			ok++
			dockertest.TrackContainer(t, c, r.id)
		case errors.Is(r.err, topology.ErrConflict) && errors.Is(r.err, docker.ErrBusy):
			busy++
			t.Logf("refused: %v", r.err)
		default:
			t.Errorf("Recreate: %v", r.err)
		}
	}
	if ok != 1 || busy != 1 {
		t.Errorf("%d succeeded and %d were refused as busy, want 1 and 1", ok, busy)
	}
	if got := rcInspect(t, api, webName).HostConfig.Links; len(got) != 1 {
		t.Errorf("web links = %v, want one", got)
	}
}
