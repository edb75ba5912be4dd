package docker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/docker/go-connections/nat"
	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// The recreate tests build their containers through the SDK itself: they
// need settings (healthcheck, restart policy, static IPs, anonymous
// volumes) that docker.ContainerSpec does not offer, and the SDK's own
// inspect is the ground truth the recreate is checked against.

// rcTimeout bounds one recreate test.
const rcTimeout = 3 * time.Minute

// rcAPI returns an SDK client, closed when the test ends.
func rcAPI(t *testing.T) *client.Client {
	t.Helper()
	api, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatalf("sdk client: %v", err)
	}
	t.Cleanup(func() { _ = api.Close() })
	return api
}

// rcCmd is a command that runs pre, then waits until it gets SIGTERM and
// exits at once (plain `sleep` as PID 1 ignores SIGTERM, which would make
// every stop take the full stop timeout).
func rcCmd(pre string) []string {
	return []string{"sh", "-c", pre + "trap 'exit 0' TERM; sleep 3600 & wait"}
}

// rcSpec is a container to make through the SDK.
type rcSpec struct {
	name string
	cfg  container.Config
	hc   container.HostConfig
	// net is the network to create on ("" for the default bridge), with
	// endpoint settings ep; extra networks are connected after create.
	net     string
	ep      *network.EndpointSettings
	extra   map[string]*network.EndpointSettings
	stopped bool
}

// rcRun creates (and unless stopped, starts) a container from the fixture
// image with the test labels plus s.cfg.Labels. It and its volumes
// (anonymous ones included) are removed when the test ends.
func rcRun(t *testing.T, c *docker.Client, api *client.Client, s rcSpec) string {
	t.Helper()
	ctx := t.Context()
	cfg, hc := s.cfg, s.hc
	cfg.Image = dockertest.FixtureImage(t)
	labels := dockertest.Labels()
	maps.Copy(labels, cfg.Labels)
	cfg.Labels = labels
	if cfg.Cmd == nil {
		cfg.Cmd = rcCmd("")
	}
	nc := &network.NetworkingConfig{}
	if s.net != "" {
		hc.NetworkMode = container.NetworkMode(s.net)
		ep := s.ep
		if ep == nil {
			ep = &network.EndpointSettings{}
		}
		nc.EndpointsConfig = map[string]*network.EndpointSettings{s.net: ep}
	}
	resp, err := api.ContainerCreate(ctx, &cfg, &hc, nc, nil, s.name)
	if err != nil {
		t.Fatalf("create %s: %v", s.name, err)
	}
	dockertest.TrackContainer(t, c, resp.ID)
	for _, n := range slices.Sorted(maps.Keys(s.extra)) {
		if err := api.NetworkConnect(ctx, n, resp.ID, s.extra[n]); err != nil {
			t.Fatalf("connect %s to %s: %v", s.name, n, err)
		}
	}
	if !s.stopped {
		if err := api.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
			t.Fatalf("start %s: %v", s.name, err)
		}
	}
	for _, m := range rcInspect(t, api, resp.ID).Mounts {
		if m.Type == mount.TypeVolume {
			dockertest.TrackVolume(t, c, m.Name)
		}
	}
	return resp.ID
}

func rcInspect(t *testing.T, api *client.Client, ref string) container.InspectResponse {
	t.Helper()
	info, err := api.ContainerInspect(context.Background(), ref)
	if err != nil {
		t.Fatalf("inspect %s: %v", ref, err)
	}
	return info
}

// rcExec runs argv in a container and returns its stdout and exit code.
func rcExec(t *testing.T, api *client.Client, id string, argv ...string) (string, int) {
	t.Helper()
	ctx := t.Context()
	ex, err := api.ContainerExecCreate(ctx, id, container.ExecOptions{Cmd: argv, AttachStdout: true, AttachStderr: true})
	if err != nil {
		t.Fatalf("exec %v: %v", argv, err)
	}
	att, err := api.ContainerExecAttach(ctx, ex.ID, container.ExecAttachOptions{})
	if err != nil {
		t.Fatalf("exec %v: %v", argv, err)
	}
	defer att.Close()
	var out, errOut bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &errOut, att.Reader); err != nil {
		t.Fatalf("exec %v: read output: %v", argv, err)
	}
	st, err := api.ContainerExecInspect(ctx, ex.ID)
	if err != nil {
		t.Fatalf("exec %v: %v", argv, err)
	}
	return strings.TrimSpace(out.String()), st.ExitCode
}

// rcWaitHealthy waits until the container's healthcheck passes.
func rcWaitHealthy(t *testing.T, api *client.Client, id string) {
	t.Helper()
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		st := rcInspect(t, api, id).State
		if st.Health == nil {
			return false, "no health state"
		}
		return st.Health.Status == container.Healthy, "health " + st.Health.Status
	})
}

// rcSteps records the steps a recreate reports.
type rcSteps struct {
	mu    sync.Mutex
	steps []docker.Step
}

func (r *rcSteps) add(s docker.Step) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.steps = append(r.steps, s)
}

// ended returns "name=state" for every step that ended, in order.
func (r *rcSteps) ended() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.steps {
		if s.State != docker.StepRunning {
			out = append(out, s.Name+"="+s.State)
		}
	}
	return out
}

// rcEndpoint is the configuration part of an endpoint, as a recreate
// must carry it over.
type rcEndpoint struct {
	NetworkID  string
	IPAMConfig *network.EndpointIPAMConfig
	Aliases    []string // minus the container's own short ID
	Links      []string
	DriverOpts map[string]string
}

func rcEndpoints(info container.InspectResponse) map[string]rcEndpoint {
	out := make(map[string]rcEndpoint)
	for n, ep := range info.NetworkSettings.Networks {
		e := rcEndpoint{NetworkID: ep.NetworkID, IPAMConfig: ep.IPAMConfig, Links: ep.Links, DriverOpts: ep.DriverOpts}
		for _, a := range ep.Aliases {
			if a != info.ID[:12] {
				e.Aliases = append(e.Aliases, a)
			}
		}
		out[n] = e
	}
	return out
}

// rcMount is a mount as the engine reports it, minus nothing.
func rcMounts(info container.InspectResponse) []container.MountPoint {
	ms := slices.Clone(info.Mounts)
	slices.SortFunc(ms, func(a, b container.MountPoint) int { return strings.Compare(a.Destination, b.Destination) })
	return ms
}

// rcNoDanglingAnon fails the test if anonymous volumes created since t0
// stay dangling: a recreate that fails to re-attach an anonymous volume
// leaves the old one dangling and makes a new one; a rollback that leaks
// the new container's volumes leaves them dangling. Other tests on the
// shared engine leave theirs dangling too, for the moment between their
// container's removal and the volume's, so it waits for those to go.
func rcNoDanglingAnon(t *testing.T, api *client.Client, t0 time.Time, after string) {
	t.Helper()
	dockertest.WaitFor(t, 20*time.Second, func() (bool, string) {
		leaked := rcDanglingAnon(t, api, t0)
		return len(leaked) == 0, fmt.Sprintf("dangling anonymous volumes after %s: %v", after, leaked)
	})
}

// rcDanglingAnon lists anonymous-looking (64 hex digits) dangling volumes
// created since t0.
func rcDanglingAnon(t *testing.T, api *client.Client, t0 time.Time) []string {
	t.Helper()
	vs, err := api.VolumeList(t.Context(), volume.ListOptions{Filters: filters.NewArgs(filters.Arg("dangling", "true"))})
	if err != nil {
		t.Fatalf("list volumes: %v", err)
	}
	var out []string
	for _, v := range vs.Volumes {
		created, _ := time.Parse(time.RFC3339, v.CreatedAt)
		if topology.IsFullID(v.Name) && !created.Before(t0.Add(-time.Second)) {
			out = append(out, v.Name)
		}
	}
	return out
}

// rcNoLeftover fails the test if a leftover of the named container exists.
func rcNoLeftover(t *testing.T, c *docker.Client, name string) {
	t.Helper()
	los, err := c.Leftovers(t.Context())
	if err != nil {
		t.Fatalf("Leftovers: %v", err)
	}
	for _, lo := range los {
		for _, lc := range lo.Containers {
			if lc.OriginalName == name {
				t.Errorf("leftover %+v after the recreate of %s", lo, name)
			}
		}
	}
}

// TestAddLinkRecreateTutorial is chapter 1 of the tutorial: web, on the
// default bridge, gets a link to database by a safe recreate, and keeps
// every setting and every byte of data outside its writable layer
// (FLT-10, FLT-11).
func TestAddLinkRecreateTutorial(t *testing.T) {
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx, cancel := context.WithTimeout(t.Context(), rcTimeout)
	defer cancel()

	dbName := dockertest.UniqueName(t, "database")
	db := dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	vol := dockertest.CreateVolume(t, c, "")
	bindDir := t.TempDir()
	if err := os.WriteFile(bindDir+"/host.txt", []byte("from the host"), 0o644); err != nil {
		t.Fatal(err)
	}

	// Each file in a volume holds the hostname of the container that
	// wrote it first: after the recreate it must still be the old one's.
	webName := dockertest.UniqueName(t, "web")
	web := rcRun(t, c, api, rcSpec{
		name: webName,
		cfg: container.Config{
			Cmd: rcCmd("[ -f /named/f ] || hostname > /named/f; [ -f /anon/f ] || hostname > /anon/f; " +
				"hostname > /root/layer.txt; "),
			Env:          []string{"GREETING=hello", "MODE=workshop"},
			Labels:       map[string]string{"app.tier": "web", "app.owner": "chapter1"},
			ExposedPorts: nat.PortSet{"8080/tcp": {}},
			WorkingDir:   "/tmp",
			User:         "0:0",
			StopSignal:   "SIGTERM",
			Volumes:      map[string]struct{}{"/anon": {}},
			Healthcheck: &container.HealthConfig{
				Test: []string{"CMD", "test", "-f", "/named/f"}, Interval: 250 * time.Millisecond,
				Timeout: 2 * time.Second, Retries: 3,
			},
		},
		hc: container.HostConfig{
			PortBindings:  nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1"}}},
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyUnlessStopped},
			Binds:         []string{vol + ":/named", bindDir + ":/bind:ro"},
			Resources:     container.Resources{CPUShares: 512},
		},
	})
	rcWaitHealthy(t, api, web)
	before := rcInspect(t, api, web)
	oldHost := before.Config.Hostname
	var anonVol string
	for _, m := range before.Mounts {
		if m.Destination == "/anon" {
			anonVol = m.Name
		}
	}
	if anonVol == "" {
		t.Fatalf("web has no anonymous volume at /anon: %+v", before.Mounts)
	}

	// What the recreate will lose: the file in the writable layer, and
	// nothing of the volumes or the bind.
	pv, err := c.PreviewRecreate(ctx, webName)
	if err != nil {
		t.Fatalf("PreviewRecreate: %v", err)
	}
	if !slices.Contains(pv.LostFiles, docker.FileChange{Path: "/root/layer.txt", Kind: "added"}) {
		t.Errorf("PreviewRecreate.LostFiles = %v, want /root/layer.txt added", pv.LostFiles)
	}
	for _, f := range pv.LostFiles {
		for _, d := range []string{"/named", "/anon", "/bind", "/etc/hosts"} {
			if f.Path == d || strings.HasPrefix(f.Path, d+"/") {
				t.Errorf("PreviewRecreate.LostFiles has %v, which the recreate keeps", f)
			}
		}
	}
	if pv.ID != web || pv.Name != webName {
		t.Errorf("PreviewRecreate = %+v, want web's", pv)
	}

	t0 := time.Now()
	var steps rcSteps
	link := docker.RecreateChange{AddLinks: []docker.Link{{Target: dbName, Alias: "database"}}}
	newID, err := c.Recreate(ctx, webName, link, steps.add)
	if newID != "" && newID != web {
		dockertest.TrackContainer(t, c, newID)
	}
	if err != nil {
		t.Fatalf("Recreate with a link: %v (steps %v)", err, steps.ended())
	}
	t.Logf("recreate took %v: %v", time.Since(t0).Round(time.Millisecond), steps.ended())
	if newID == web {
		t.Errorf("Recreate = %s, want a new ID", newID)
	}
	wantSteps := []string{"stop=done", "rename=done", "disconnect=done", "create=done", "start=done", "verify=done", "remove old=done"}
	if diff := cmp.Diff(wantSteps, steps.ended()); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}

	after := rcInspect(t, api, webName)
	if after.ID != newID {
		t.Fatalf("web is %s, Recreate said %s", after.ID, newID)
	}
	if _, err := api.ContainerInspect(ctx, web); !cerrdefs.IsNotFound(err) {
		t.Errorf("old web still exists (inspect: %v)", err)
	}
	rcNoLeftover(t, c, webName)

	// Inspect before and after, field by field: everything equal but the
	// ID, the timestamps, the generated hostname, the link, and the
	// anonymous volume now named in HostConfig.Mounts.
	wantCfg := *before.Config
	wantCfg.Hostname = after.ID[:12]
	if diff := cmp.Diff(wantCfg, *after.Config); diff != "" {
		t.Errorf("Config (-want +got):\n%s", diff)
	}
	wantHC := *before.HostConfig
	wantHC.Links = []string{"/" + dbName + ":/" + webName + "/database"}
	wantHC.Mounts = append(slices.Clone(wantHC.Mounts), mount.Mount{Type: mount.TypeVolume, Source: anonVol, Target: "/anon"})
	if diff := cmp.Diff(wantHC, *after.HostConfig); diff != "" {
		t.Errorf("HostConfig (-want +got):\n%s", diff)
	}
	// The same volumes, binds and modes; the anonymous volume, now mounted
	// by name, reports the mode the engine gives every named mount ("z",
	// SELinux relabelling, a no-op without SELinux).
	wantMounts := rcMounts(before)
	for i := range wantMounts {
		if wantMounts[i].Destination == "/anon" {
			wantMounts[i].Mode = "z"
		}
	}
	if diff := cmp.Diff(wantMounts, rcMounts(after)); diff != "" {
		t.Errorf("Mounts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(rcEndpoints(before), rcEndpoints(after)); diff != "" {
		t.Errorf("network config (-before +after):\n%s", diff)
	}
	if after.Image != before.Image || after.Path != before.Path || !slices.Equal(after.Args, before.Args) {
		t.Errorf("image/command = %s %s %v, want %s %s %v", after.Image, after.Path, after.Args, before.Image, before.Path, before.Args)
	}
	if !after.State.Running || after.State.Health == nil || after.State.Health.Status != container.Healthy {
		t.Errorf("new web state = %+v, want running and healthy", after.State)
	}
	if len(after.NetworkSettings.Ports["8080/tcp"]) == 0 {
		t.Errorf("new web publishes no host port for 8080/tcp: %v", after.NetworkSettings.Ports)
	}

	// The data: volume files still hold the old hostname, the bind file is
	// there, and the writable layer is new.
	for path, want := range map[string]string{"/named/f": oldHost, "/anon/f": oldHost, "/bind/host.txt": "from the host", "/root/layer.txt": after.Config.Hostname} {
		if got, code := rcExec(t, api, after.ID, "cat", path); got != want || code != 0 {
			t.Errorf("cat %s = %q (exit %d), want %q", path, got, code, want)
		}
	}
	rcNoDanglingAnon(t, api, t0, "the recreate")

	// The link is there, one way: database has the link name web/database,
	// and web resolves "database" through its hosts file.
	if got, code := rcExec(t, api, after.ID, "ping", "-c", "1", "-W", "2", "database"); code != 0 {
		t.Errorf("ping database from web: exit %d: %s", code, got)
	}
	if _, code := rcExec(t, api, db, "ping", "-c", "1", "-W", "1", webName); code == 0 {
		t.Errorf("ping %s from database worked; the link must be one way", webName)
	}
	inv := mustList(t, c)
	var dbNames []string
	for _, ct := range inv.Containers {
		if ct.ID == db {
			dbNames = ct.Names
		}
	}
	if !slices.Contains(dbNames, webName+"/database") {
		t.Errorf("database names = %v, want %s/database", dbNames, webName)
	}

	// Re-creating database now would break web: the map says so.
	g := topology.Build(inv)
	dbNode, _ := g.Node(topology.ContainerNodeID(db))
	var deps []string
	for _, d := range plan.Dependents(g, dbNode) {
		deps = append(deps, d.Kind+" "+d.Container.ID+" "+d.Alias)
	}
	if want := []string{"link " + after.ID + " database"}; !slices.Equal(deps, want) {
		t.Errorf("dependents of database = %v, want %v", deps, want)
	}

	// Adding the same link again is a conflict, and changes nothing.
	if _, err := c.Recreate(ctx, webName, link, nil); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("the same link again: %v, want ErrConflict", err)
	}
	if id := rcInspect(t, api, webName).ID; id != after.ID {
		t.Errorf("a refused link re-created web (%s → %s)", after.ID[:12], id[:12])
	}
}

// rcNextSubnet numbers the /24s of 10.123.0.0/16 this test binary hands
// out, from a random start so that parallel test binaries rarely meet.
var rcNextSubnet = func() *atomic.Uint32 {
	var n atomic.Uint32
	n.Store(rand.Uint32N(256))
	return &n
}()

// rcSubnetNetwork creates a user-defined network with a /24 subnet of
// 10.123.0.0/16 and returns the address of its first host (.10). It tries
// the next subnet when the engine says one overlaps a network it has.
func rcSubnetNetwork(t *testing.T, c *docker.Client, name string) (hostIP string) {
	t.Helper()
	for range 32 {
		n := rcNextSubnet.Add(1) % 256
		_, err := c.CreateNetwork(t.Context(), docker.NetworkSpec{
			Name: name, Labels: dockertest.Labels(), ICC: true,
			Subnet: fmt.Sprintf("10.123.%d.0/24", n), Gateway: fmt.Sprintf("10.123.%d.1", n),
		})
		if err == nil {
			dockertest.TrackNetwork(t, c, name)
			return fmt.Sprintf("10.123.%d.10", n)
		}
		if !strings.Contains(err.Error(), "overlaps") {
			t.Fatalf("create network %s: %v", name, err)
		}
	}
	t.Fatalf("create network %s: no free subnet in 10.123.0.0/16", name)
	return ""
}

// rcFreePort returns a TCP port on 127.0.0.1 that is free now.
func rcFreePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// svc is a container on two user-defined networks, with a static IP, an
// alias on each, an endpoint link, a fixed published port, a named and an
// anonymous volume and a restart policy: everything a recreate must keep.
type svc struct {
	id, name, ip, port string
	netA, netB, peer   string
}

func newSvc(t *testing.T, c *docker.Client, api *client.Client, pre string) svc {
	t.Helper()
	netA := dockertest.UniqueName(t, "neta")
	ip := rcSubnetNetwork(t, c, netA)
	netB := dockertest.UniqueName(t, "netb")
	dockertest.CreateNetwork(t, c, netB)
	peer := dockertest.UniqueName(t, "peer")
	dockertest.RunContainer(t, c, dockertest.WithName(peer), dockertest.WithNetwork(netA))
	vol := dockertest.CreateVolume(t, c, "")
	s := svc{name: dockertest.UniqueName(t, "svc"), ip: ip, port: rcFreePort(t), netA: netA, netB: netB, peer: peer}
	s.id = rcRun(t, c, api, rcSpec{
		name: s.name,
		cfg: container.Config{
			Cmd: rcCmd(pre), Env: []string{"ROLE=svc"}, ExposedPorts: nat.PortSet{"8080/tcp": {}},
			Volumes: map[string]struct{}{"/anon": {}},
		},
		hc: container.HostConfig{
			PortBindings:  nat.PortMap{"8080/tcp": {{HostIP: "127.0.0.1", HostPort: s.port}}},
			RestartPolicy: container.RestartPolicy{Name: container.RestartPolicyOnFailure, MaximumRetryCount: 2},
			Binds:         []string{vol + ":/named"},
		},
		net: netA,
		ep: &network.EndpointSettings{
			IPAMConfig: &network.EndpointIPAMConfig{IPv4Address: ip},
			Aliases:    []string{"svc-a"}, Links: []string{peer + ":pp"},
		},
		extra: map[string]*network.EndpointSettings{netB: {Aliases: []string{"svc-b"}}},
	})
	return s
}

// check fails the test unless the container named s.name is id, running,
// with the configuration, networks, static IP, port and mounts of before.
func (s svc) check(t *testing.T, api *client.Client, id string, before container.InspectResponse) {
	t.Helper()
	got := rcInspect(t, api, s.name)
	if got.ID != id {
		t.Fatalf("%s is %s, want %s", s.name, got.ID[:12], id[:12])
	}
	if !got.State.Running {
		t.Errorf("%s is %s, want running", s.name, got.State.Status)
	}
	wantCfg := *before.Config
	if id != before.ID {
		wantCfg.Hostname = id[:12]
	}
	if diff := cmp.Diff(wantCfg, *got.Config); diff != "" {
		t.Errorf("Config (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(rcEndpoints(before), rcEndpoints(got)); diff != "" {
		t.Errorf("network config (-want +got):\n%s", diff)
	}
	if ip := got.NetworkSettings.Networks[s.netA].IPAddress; ip != s.ip {
		t.Errorf("IP on %s = %s, want %s", s.netA, ip, s.ip)
	}
	if b := got.NetworkSettings.Ports["8080/tcp"]; len(b) != 1 || b[0].HostPort != s.port {
		t.Errorf("published 8080/tcp = %v, want 127.0.0.1:%s", b, s.port)
	}
	// A re-created container mounts its anonymous volume by name (the
	// engine reports mode "z" for that), and may have the added tmpfs.
	wantMounts := rcMounts(before)
	for i, m := range wantMounts {
		if _, anon := before.Config.Volumes[m.Destination]; anon && id != before.ID {
			wantMounts[i].Mode = "z"
		}
	}
	gotMounts := slices.DeleteFunc(rcMounts(got), func(m container.MountPoint) bool {
		return id != before.ID && m.Destination == "/scratch"
	})
	if diff := cmp.Diff(wantMounts, gotMounts); diff != "" {
		t.Errorf("Mounts (-want +got):\n%s", diff)
	}
}

// TestRecreateKeepsNetworks re-creates a container on two user-defined
// networks to add a mount: same static IP, aliases, endpoint link,
// published port, volumes and configuration (FLT-11).
func TestRecreateKeepsNetworks(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx, cancel := context.WithTimeout(t.Context(), rcTimeout)
	defer cancel()
	s := newSvc(t, c, api, "")
	before := rcInspect(t, api, s.id)

	var steps rcSteps
	newID, err := c.Recreate(ctx, s.name, docker.RecreateChange{AddMounts: []docker.MountSpec{{Type: "tmpfs", Target: "/scratch"}}}, steps.add)
	if newID != "" {
		dockertest.TrackContainer(t, c, newID)
	}
	if err != nil {
		t.Fatalf("Recreate: %v (steps %v)", err, steps.ended())
	}
	if !slices.Contains(steps.ended(), "connect "+s.netB+"=done") {
		t.Errorf("steps = %v, want a connect to %s", steps.ended(), s.netB)
	}
	// The added mount is the only change to the mounts the engine reports.
	after := rcInspect(t, api, newID)
	var tmpfs bool
	after.Mounts = slices.DeleteFunc(after.Mounts, func(m container.MountPoint) bool {
		tmpfs = tmpfs || m.Type == mount.TypeTmpfs && m.Destination == "/scratch"
		return m.Destination == "/scratch"
	})
	if !tmpfs {
		t.Errorf("no tmpfs at /scratch in %+v", after.Mounts)
	}
	s.check(t, api, newID, before)
	if diff := cmp.Diff(before.HostConfig.PortBindings, after.HostConfig.PortBindings); diff != "" {
		t.Errorf("PortBindings (-before +after):\n%s", diff)
	}
	if before.HostConfig.RestartPolicy != after.HostConfig.RestartPolicy {
		t.Errorf("RestartPolicy = %+v, want %+v", after.HostConfig.RestartPolicy, before.HostConfig.RestartPolicy)
	}
	rcNoLeftover(t, c, s.name)

	// The aliases still resolve from a peer on each network.
	for _, probe := range []struct{ net, alias string }{{s.netA, "svc-a"}, {s.netB, "svc-b"}} {
		p := dockertest.RunContainer(t, c, dockertest.WithNetwork(probe.net))
		if out, code := rcExec(t, api, p, "ping", "-c", "1", "-W", "2", probe.alias); code != 0 {
			t.Errorf("ping %s on %s: exit %d: %s", probe.alias, probe.net, code, out)
		}
	}
}

// TestRecreateRollback injects a failure at each step of a recreate, by
// the test hook and by real engine failures, and checks that the original
// container is back as it was, under its name, with its networks, static
// IP, published port and mounts, and that nothing is left over (FLT-08).
func TestRecreateRollback(t *testing.T) {
	t.Parallel()
	injected := errors.New("injected fault")
	tests := []struct {
		name string
		// pre runs in the container before it waits (a real failure
		// that only the new container meets).
		pre    string
		change docker.RecreateChange
		// hook makes the fault; setup may prepare it.
		hook     func(t *testing.T, s svc) func(step string) error
		wantStep string
	}{
		{name: "hook create", wantStep: "create", hook: failAt("create", injected)},
		{name: "hook connect", wantStep: "connect", hook: func(t *testing.T, s svc) func(string) error {
			return failAt("connect "+s.netB, injected)(t, s)
		}},
		{name: "hook start", wantStep: "start", hook: failAt("start", injected)},
		{name: "hook verify", wantStep: "verify", hook: failAt("verify", injected)},
		{
			// The bind source does not exist: the engine refuses the create.
			name: "real create", wantStep: "create",
			change: docker.RecreateChange{AddMounts: []docker.MountSpec{{Type: "bind", Source: "/nonexistent/dockmap-" + dockertest.RunID(), Target: "/x"}}},
		},
		{
			// The published host port is taken between stop and start: the
			// engine's port proxy cannot bind it. The port is given back
			// before the rollback restarts the original.
			name: "real start port taken", wantStep: "start", hook: portTaken,
		},
		{
			// The new container exits at once (it sees the added mount):
			// the check that it stays up fails.
			name: "real verify", wantStep: "verify", pre: "[ -d /scratch ] && exit 3; ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := dockertest.Client(t)
			api := rcAPI(t)
			ctx, cancel := context.WithTimeout(t.Context(), rcTimeout)
			defer cancel()
			s := newSvc(t, c, api, tt.pre)
			before := rcInspect(t, api, s.id)
			ch := tt.change
			if len(ch.AddMounts) == 0 {
				ch.AddMounts = []docker.MountSpec{{Type: "tmpfs", Target: "/scratch"}}
			}
			if tt.hook != nil {
				docker.SetRecreateHook(c, tt.hook(t, s))
			}
			t0 := time.Now()
			var steps rcSteps
			newID, err := c.Recreate(ctx, s.name, ch, steps.add)
			if newID != "" {
				dockertest.TrackContainer(t, c, newID)
			}
			if err == nil {
				t.Fatalf("Recreate succeeded, want a failure at %s (steps %v)", tt.wantStep, steps.ended())
			}
			t.Logf("Recreate: %v\nsteps: %v", err, steps.ended())
			want := fmt.Sprintf("recreate %s: %s", s.name, tt.wantStep)
			if !strings.HasPrefix(err.Error(), want) || !strings.HasSuffix(err.Error(), "(rolled back)") {
				t.Errorf("error = %q, want %q...(rolled back)", err, want)
			}
			for _, st := range steps.ended() {
				if strings.HasPrefix(st, "rollback: ") && !strings.HasSuffix(st, "="+docker.StepRolledBack) {
					t.Errorf("rollback step %s", st)
				}
			}
			s.check(t, api, s.id, before)
			if diff := cmp.Diff(before.HostConfig, rcInspect(t, api, s.id).HostConfig); diff != "" {
				t.Errorf("HostConfig (-before +after):\n%s", diff)
			}
			rcNoLeftover(t, c, s.name)
			rcNoDanglingAnon(t, api, t0, "the rollback")
		})
	}
}

// failAt returns a hook maker that fails the named step with err.
func failAt(step string, err error) func(*testing.T, svc) func(string) error {
	return func(*testing.T, svc) func(string) error {
		return func(s string) error {
			if s == step {
				return err
			}
			return nil
		}
	}
}

// portTaken listens on the container's published port once the old
// container has stopped, and stops listening when the rollback is about
// to start the original again.
func portTaken(t *testing.T, s svc) func(string) error {
	var (
		mu sync.Mutex
		l  net.Listener
	)
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		if l != nil {
			l.Close()
		}
	})
	return func(step string) error {
		mu.Lock()
		defer mu.Unlock()
		switch step {
		case "start":
			var err error
			if l, err = net.Listen("tcp", "127.0.0.1:"+s.port); err != nil {
				return fmt.Errorf("test could not take the port: %w", err)
			}
		case "rollback: start":
			if l != nil {
				l.Close()
				l = nil
			}
		}
		return nil
	}
}

// TestDependentsOnTheMap lists, from the map, the containers a re-create
// of a link target and network donor would break.
func TestDependentsOnTheMap(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	dbName := dockertest.UniqueName(t, "database")
	db := dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	webName := dockertest.UniqueName(t, "web")
	web := dockertest.RunContainer(t, c, dockertest.WithName(webName), dockertest.WithLink(dbName, "db"))
	nsName := dockertest.UniqueName(t, "ns")
	ns := dockertest.RunContainer(t, c, dockertest.WithName(nsName), dockertest.WithNetworkMode("container:"+dbName))

	got := dependentsOf(t, c, db)
	want := []string{"link " + web + " db", "netns " + ns + " "}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("dependents (-want +got):\n%s", diff)
	}
	if _, err := c.PreviewRecreate(t.Context(), dockertest.UniqueName(t, "missing")); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("PreviewRecreate(missing) = %v, want ErrNotFound", err)
	}
}

// TestRecreateRefuses checks input the engine would refuse, or that would
// lose the container, before anything changes.
func TestRecreateRefuses(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx := t.Context()
	dbName := dockertest.UniqueName(t, "db")
	dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	stoppedName := dockertest.UniqueName(t, "stopped")
	dockertest.RunContainer(t, c, dockertest.WithName(stoppedName), dockertest.Stopped())
	webName := dockertest.UniqueName(t, "web")
	web := rcRun(t, c, api, rcSpec{name: webName})
	nsName := dockertest.UniqueName(t, "ns")
	dockertest.RunContainer(t, c, dockertest.WithName(nsName), dockertest.WithNetworkMode("container:"+webName))
	rmName := dockertest.UniqueName(t, "rm")
	rcRun(t, c, api, rcSpec{name: rmName, hc: container.HostConfig{AutoRemove: true}})

	tests := []struct {
		name string
		id   string
		ch   docker.RecreateChange
		want error
	}{
		{"link to itself", webName, docker.RecreateChange{AddLinks: []docker.Link{{Target: web, Alias: "me"}}}, topology.ErrInvalid},
		{"link to a missing container", webName, docker.RecreateChange{AddLinks: []docker.Link{{Target: dockertest.UniqueName(t, "nope"), Alias: "x1"}}}, topology.ErrNotFound},
		{"link to a stopped container", webName, docker.RecreateChange{AddLinks: []docker.Link{{Target: stoppedName, Alias: "x2"}}}, topology.ErrConflict},
		{"bad alias", webName, docker.RecreateChange{AddLinks: []docker.Link{{Target: dbName, Alias: "-bad"}}}, topology.ErrInvalid},
		{"link in container mode", nsName, docker.RecreateChange{AddLinks: []docker.Link{{Target: dbName, Alias: "db"}}}, topology.ErrInvalid},
		{"remove a missing link", webName, docker.RecreateChange{RemoveLinks: []string{"nope"}}, docker.ErrStale},
		{"relative mount target", webName, docker.RecreateChange{AddMounts: []docker.MountSpec{{Type: "tmpfs", Target: "tmp"}}}, topology.ErrInvalid},
		{"--rm container", rmName, docker.RecreateChange{}, topology.ErrInvalid},
		{"missing container", dockertest.UniqueName(t, "ghost"), docker.RecreateChange{}, topology.ErrNotFound},
	}
	for _, tt := range tests {
		newID, err := c.Recreate(ctx, tt.id, tt.ch, nil)
		if !errors.Is(err, tt.want) || newID != "" {
			t.Errorf("%s: Recreate = %q, %v; want %v", tt.name, newID, err, tt.want)
		}
	}
	if got := rcInspect(t, api, webName); got.ID != web || !got.State.Running {
		t.Errorf("web after refused recreates: %s %s, want %s running", got.ID[:12], got.State.Status, web[:12])
	}
}

// TestRecreateRollbackBridge fails a recreate of a container on the
// default bridge that already has a legacy link: after the rollback the
// original is back on the bridge, and its link still works both in the
// engine's link index and in its hosts file.
func TestRecreateRollbackBridge(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	dbName := dockertest.UniqueName(t, "db")
	db := dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	webName := dockertest.UniqueName(t, "web")
	web := rcRun(t, c, api, rcSpec{name: webName, hc: container.HostConfig{Links: []string{dbName + ":db"}}})
	before := rcInspect(t, api, web)

	docker.SetRecreateHook(c, failAt("start", errors.New("injected fault"))(t, svc{}))
	_, err := c.Recreate(t.Context(), webName, docker.RecreateChange{AddMounts: []docker.MountSpec{{Type: "tmpfs", Target: "/scratch"}}}, nil)
	if err == nil || !strings.HasSuffix(err.Error(), "(rolled back)") {
		t.Fatalf("Recreate = %v, want a rolled back failure", err)
	}
	after := rcInspect(t, api, webName)
	if after.ID != web || !after.State.Running {
		t.Fatalf("%s is %s %s, want the original running", webName, after.ID[:12], after.State.Status)
	}
	if diff := cmp.Diff(*before.Config, *after.Config); diff != "" {
		t.Errorf("Config (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(*before.HostConfig, *after.HostConfig); diff != "" {
		t.Errorf("HostConfig (-before +after):\n%s", diff)
	}
	if ep := after.NetworkSettings.Networks["bridge"]; ep == nil || ep.IPAddress == "" {
		t.Errorf("web is not back on the bridge: %v", after.NetworkSettings.Networks)
	}
	if out, code := rcExec(t, api, web, "ping", "-c", "1", "-W", "2", "db"); code != 0 {
		t.Errorf("ping db from web after the rollback: exit %d: %s", code, out)
	}
	for _, ct := range mustList(t, c).Containers {
		if ct.ID == db && !slices.Contains(ct.Names, webName+"/db") {
			t.Errorf("database names = %v, want %s/db", ct.Names, webName)
		}
	}
	rcNoLeftover(t, c, webName)
}

// TestRecreateOtherStates re-creates a container in another's network
// namespace (no hostname, ports or endpoints of its own) and a container
// that was never started (the new one is not started either).
func TestRecreateOtherStates(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx := t.Context()
	donorName := dockertest.UniqueName(t, "donor")
	donor := dockertest.RunContainer(t, c, dockertest.WithName(donorName))
	nsName := dockertest.UniqueName(t, "ns")
	rcRun(t, c, api, rcSpec{name: nsName, hc: container.HostConfig{NetworkMode: container.NetworkMode("container:" + donorName)}})
	createdName := dockertest.UniqueName(t, "created")
	created := rcRun(t, c, api, rcSpec{name: createdName, stopped: true, cfg: container.Config{Env: []string{"K=v"}}})
	add := docker.RecreateChange{AddMounts: []docker.MountSpec{{Type: "tmpfs", Target: "/scratch"}}}

	newNS, err := c.Recreate(ctx, nsName, add, nil)
	if newNS != "" {
		dockertest.TrackContainer(t, c, newNS)
	}
	if err != nil {
		t.Fatalf("Recreate in container mode: %v", err)
	}
	got := rcInspect(t, api, nsName)
	// The engine stores the donor by ID.
	if got.ID != newNS || !got.State.Running || string(got.HostConfig.NetworkMode) != "container:"+donor {
		t.Errorf("%s = %s %s mode %s, want the new one running in container:%s", nsName, got.ID[:12], got.State.Status, got.HostConfig.NetworkMode, donor)
	}
	if got, want := dependentsOf(t, c, donor), []string{"netns " + newNS + " "}; !slices.Equal(got, want) {
		t.Errorf("dependents of the donor = %v, want %v", got, want)
	}

	var steps rcSteps
	newCreated, err := c.Recreate(ctx, createdName, add, steps.add)
	if newCreated != "" {
		dockertest.TrackContainer(t, c, newCreated)
	}
	if err != nil {
		t.Fatalf("Recreate of a created container: %v", err)
	}
	got = rcInspect(t, api, createdName)
	if got.ID != newCreated || got.ID == created || got.State.Status != "created" || !slices.Contains(got.Config.Env, "K=v") {
		t.Errorf("%s = %s %s env %v, want a new, never started container with K=v", createdName, got.ID[:12], got.State.Status, got.Config.Env)
	}
	for _, st := range steps.ended() {
		if strings.HasPrefix(st, "stop=") || strings.HasPrefix(st, "start=") {
			t.Errorf("step %s for a container that was not running", st)
		}
	}
}

// TestRecreateLinkTargetThenParent re-creates a link target, which
// breaks the legacy link of its parent (the link points at the removed
// instance), then re-creates the parent with no change, which links it to
// the new target by name: the repair PreviewRecreate's LinkedFrom offers.
func TestRecreateLinkTargetThenParent(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx := t.Context()
	dbName := dockertest.UniqueName(t, "database")
	rcRun(t, c, api, rcSpec{name: dbName})
	webName := dockertest.UniqueName(t, "web")
	rcRun(t, c, api, rcSpec{name: webName, hc: container.HostConfig{Links: []string{dbName + ":database"}}})

	newDB, err := c.Recreate(ctx, dbName, docker.RecreateChange{}, nil)
	if newDB != "" {
		dockertest.TrackContainer(t, c, newDB)
	}
	if err != nil {
		t.Fatalf("Recreate(database): %v", err)
	}
	if got := dependentsOf(t, c, newDB); len(got) != 0 {
		t.Errorf("new database's dependents = %v, want none: the old link points at the removed one", got)
	}

	newWeb, err := c.Recreate(ctx, webName, docker.RecreateChange{}, nil)
	if newWeb != "" {
		dockertest.TrackContainer(t, c, newWeb)
	}
	if err != nil {
		t.Fatalf("Recreate(web): %v", err)
	}
	if out, code := rcExec(t, api, newWeb, "ping", "-c", "1", "-W", "2", "database"); code != 0 {
		t.Errorf("ping database from the re-created web: exit %d: %s", code, out)
	}
	if got, want := dependentsOf(t, c, newDB), []string{"link " + newWeb + " database"}; !slices.Equal(got, want) {
		t.Errorf("dependents of the new database = %v, want %v", got, want)
	}
}

// dependentsOf lists, from the map, the containers that depend on id:
// "<kind> <id> <alias>".
func dependentsOf(t *testing.T, c *docker.Client, id string) []string {
	t.Helper()
	g := topology.Build(mustList(t, c))
	n, _ := g.Node(topology.ContainerNodeID(id))
	var out []string
	for _, d := range plan.Dependents(g, n) {
		out = append(out, d.Kind+" "+d.Container.ID+" "+d.Alias)
	}
	return out
}
