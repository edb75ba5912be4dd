package docker_test

import (
	"errors"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/mount"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestDangerousSpec covers every spec SEC-16 names (and a few of the same
// kind), each alone, plus safe specs that must pass.
func TestDangerousSpec(t *testing.T) {
	tests := []struct {
		name string
		hc   container.HostConfig
		want string // a word the reason must contain; "" for a safe spec
	}{
		{"privileged", container.HostConfig{Privileged: true}, "privileged"},
		{"cap SYS_ADMIN", container.HostConfig{CapAdd: []string{"SYS_ADMIN"}}, "SYS_ADMIN"},
		{"cap cap_net_admin", container.HostConfig{CapAdd: []string{"cap_net_admin"}}, "NET_ADMIN"},
		{"cap ALL", container.HostConfig{CapAdd: []string{"ALL"}}, "ALL"},
		{"any added cap", container.HostConfig{CapAdd: []string{"NET_BIND_SERVICE"}}, "NET_BIND_SERVICE"},
		{"host PID", container.HostConfig{PidMode: "host"}, "PID namespace"},
		{"host network", container.HostConfig{NetworkMode: "host"}, "host's network"},
		{"host IPC", container.HostConfig{IpcMode: "host"}, "IPC namespace"},
		{"host UTS", container.HostConfig{UTSMode: "host"}, "UTS namespace"},
		{"host userns", container.HostConfig{UsernsMode: "host"}, "user namespace"},
		{"devices", container.HostConfig{Resources: container.Resources{Devices: []container.DeviceMapping{{PathOnHost: "/dev/sda", PathInContainer: "/dev/sda", CgroupPermissions: "rwm"}}}}, "/dev/sda"},
		{"device cgroup rules", container.HostConfig{Resources: container.Resources{DeviceCgroupRules: []string{"b *:* rwm"}}}, "cgroup rules"},
		{"device requests", container.HostConfig{Resources: container.Resources{DeviceRequests: []container.DeviceRequest{{Count: -1, Capabilities: [][]string{{"gpu"}}}}}}, "device requests"},
		{"seccomp=unconfined", container.HostConfig{SecurityOpt: []string{"seccomp=unconfined"}}, "seccomp=unconfined"},
		{"seccomp:unconfined", container.HostConfig{SecurityOpt: []string{"seccomp:unconfined"}}, "seccomp:unconfined"},
		{"apparmor=unconfined", container.HostConfig{SecurityOpt: []string{"apparmor=unconfined"}}, "apparmor"},
		{"label=disable", container.HostConfig{SecurityOpt: []string{"label=disable"}}, "label=disable"},
		{"label:disable", container.HostConfig{SecurityOpt: []string{"label:disable"}}, "label:disable"},
		{"systempaths=unconfined", container.HostConfig{SecurityOpt: []string{"systempaths=unconfined"}}, "systempaths"},
		{"bind /", container.HostConfig{Binds: []string{"/:/host"}}, "root /"},
		{"bind / read-only", container.HostConfig{Binds: []string{"/:/host:ro"}}, "root /"},
		{"bind /. unclean", container.HostConfig{Binds: []string{"/./:/host"}}, "root /"},
		{"bind docker.sock", container.HostConfig{Binds: []string{"/var/run/docker.sock:/var/run/docker.sock"}}, "Docker socket"},
		{"bind /run/docker.sock", container.HostConfig{Binds: []string{"/run/docker.sock:/s"}}, "Docker socket"},
		{"bind a rootless socket", container.HostConfig{Binds: []string{"/run/user/1000/docker.sock:/s"}}, "Docker socket"},
		{"bind /var/run", container.HostConfig{Binds: []string{"/var/run:/r"}}, "/var/run"},
		{"bind /run", container.HostConfig{Binds: []string{"/run/:/r"}}, "/run"},
		{"bind /var", container.HostConfig{Binds: []string{"/var:/v"}}, "/var"},
		{"mount bind /", container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/", Target: "/host"}}}, "root /"},
		{"mount bind socket", container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeBind, Source: "/var/run/docker.sock", Target: "/d.sock"}}}, "Docker socket"},
		{"volume driver", container.HostConfig{VolumeDriver: "convoy"}, "convoy"},
		{"mount volume driver", container.HostConfig{Mounts: []mount.Mount{{Type: mount.TypeVolume, Source: "v", Target: "/v",
			VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "sshfs"}}}}}, "sshfs"},

		{"empty", container.HostConfig{}, ""},
		{"everyday container", container.HostConfig{
			NetworkMode:  "bridge",
			PidMode:      "container:abc",
			IpcMode:      "private",
			CapDrop:      []string{"ALL"},
			SecurityOpt:  []string{"no-new-privileges", "seccomp=/etc/profile.json", "label=type:svirt_apache_t"},
			Binds:        []string{"/srv/data:/data", "named:/named", "/anon", "/var/lib/app:/app:ro", "/runner:/r"},
			VolumeDriver: "local",
			Mounts: []mount.Mount{
				{Type: mount.TypeBind, Source: "/srv/www", Target: "/www"},
				{Type: mount.TypeVolume, Source: "v", Target: "/v", VolumeOptions: &mount.VolumeOptions{DriverConfig: &mount.Driver{Name: "local"}}},
				{Type: mount.TypeTmpfs, Target: "/tmp"},
			},
		}, ""},
		{"user-defined network", container.HostConfig{NetworkMode: "app-net"}, ""},
		{"no network", container.HostConfig{NetworkMode: "none"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hc := tt.hc
			got := docker.DangerousSpec(&container.Config{Image: "busybox"}, &hc)
			if tt.want == "" {
				if len(got) != 0 {
					t.Fatalf("dangerousSpec = %q, want none", got)
				}
				return
			}
			if len(got) != 1 || !strings.Contains(got[0], tt.want) {
				t.Fatalf("dangerousSpec = %q, want one reason containing %q", got, tt.want)
			}
		})
	}
	if got := docker.DangerousSpec(nil, nil); got != nil {
		t.Errorf("dangerousSpec(nil, nil) = %q, want none", got)
	}
	all := container.HostConfig{Privileged: true, PidMode: "host", NetworkMode: "host", Binds: []string{"/:/host"}}
	if got := docker.DangerousSpec(nil, &all); len(got) != 4 {
		t.Errorf("dangerousSpec(four dangers) = %q, want four reasons", got)
	}
}

// TestRecreateRefusesDangerous: on the real engine, a container that
// already has a dangerous spec (SEC-16's "old container") is not
// re-created, whatever the change (a link added too), and a safe
// container is not re-created with a bind of / added: each fails with
// ErrForbidden before anything is touched (same ID, same start, same name,
// no leftover). A client WithDangerousSpecs(true) re-creates it.
func TestRecreateRefusesDangerous(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	api := rcAPI(t)
	ctx := t.Context()
	dbName := dockertest.UniqueName(t, "db")
	dockertest.RunContainer(t, c, dockertest.WithName(dbName))
	privName := dockertest.UniqueName(t, "priv")
	// A test engine may be rootless, where a privileged container cannot
	// start: that one stays created, and the running one has the host's
	// PID namespace and no seccomp profile.
	priv := rcRun(t, c, api, rcSpec{name: privName, hc: container.HostConfig{Privileged: true, PidMode: "host"}, stopped: true})
	hostName := dockertest.UniqueName(t, "hostpid")
	host := rcRun(t, c, api, rcSpec{name: hostName, hc: container.HostConfig{PidMode: "host", SecurityOpt: []string{"seccomp=unconfined"}}})
	capName := dockertest.UniqueName(t, "cap")
	capID := rcRun(t, c, api, rcSpec{name: capName, hc: container.HostConfig{CapAdd: []string{"SYS_ADMIN"}}})
	safeName := dockertest.UniqueName(t, "safe")
	safe := rcRun(t, c, api, rcSpec{name: safeName})

	wantRefused := func(what string, err error, words ...string) {
		t.Helper()
		if !errors.Is(err, topology.ErrForbidden) {
			t.Errorf("%s = %v, want ErrForbidden", what, err)
			return
		}
		for _, w := range append(words, "--"+docker.AllowDangerousSpecsFlag) {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s = %q, want it to mention %q", what, err, w)
			}
		}
	}

	privBefore := rcInspect(t, api, priv)
	hostBefore := rcInspect(t, api, host)
	capBefore := rcInspect(t, api, capID)
	safeBefore := rcInspect(t, api, safe)

	newID, err := c.Recreate(ctx, privName, docker.RecreateChange{}, nil)
	wantRefused("Recreate(privileged)", err, privName+" runs privileged, with the host's PID namespace")
	if newID != "" {
		t.Errorf("Recreate(privileged) made %s", newID)
	}
	newID, err = c.Recreate(ctx, hostName, docker.RecreateChange{}, nil)
	wantRefused("Recreate(host PID)", err, hostName+" runs with the host's PID namespace, with the security option seccomp=unconfined")
	if newID != "" {
		t.Errorf("Recreate(host PID) made %s", newID)
	}
	link := docker.RecreateChange{AddLinks: []docker.Link{{Target: dbName, Alias: "db"}}}
	newID, err = c.Recreate(ctx, capName, link, nil)
	wantRefused("Recreate(SYS_ADMIN, a link added)", err, "SYS_ADMIN")
	if newID != "" {
		t.Errorf("Recreate(SYS_ADMIN, a link added) made %s", newID)
	}
	newID, err = c.Recreate(ctx, safeName, docker.RecreateChange{AddMounts: []docker.MountSpec{{Type: "bind", Source: "/", Target: "/host"}}}, nil)
	wantRefused("Recreate(add bind of /)", err, "the re-created "+safeName, "root /")
	if newID != "" {
		t.Errorf("Recreate(add bind of /) made %s", newID)
	}

	for _, b := range []struct {
		name   string
		before container.InspectResponse
	}{{privName, privBefore}, {hostName, hostBefore}, {capName, capBefore}, {safeName, safeBefore}} {
		got := rcInspect(t, api, b.name)
		if got.ID != b.before.ID || got.State.Status != b.before.State.Status || got.State.StartedAt != b.before.State.StartedAt || got.Name != "/"+b.name {
			t.Errorf("%s after the refusal: %s %s %s started %s; want %s running, started %s", b.name,
				got.ID[:12], got.Name, got.State.Status, got.State.StartedAt, b.before.ID[:12], b.before.State.StartedAt)
		}
		if len(got.HostConfig.Links) != 0 || len(got.Mounts) != len(b.before.Mounts) {
			t.Errorf("%s after the refusal: links %q, %d mounts; want none and %d", b.name, got.HostConfig.Links, len(got.Mounts), len(b.before.Mounts))
		}
	}
	left, err := c.Leftovers(ctx)
	if err != nil {
		t.Fatalf("Leftovers: %v", err)
	}
	for _, l := range left {
		for _, lc := range l.Containers {
			if lc.OriginalName == privName || lc.OriginalName == hostName || lc.OriginalName == capName || lc.OriginalName == safeName {
				t.Errorf("leftover after a refusal: %+v", l)
			}
		}
	}

	// With the override the same re-create goes through, keeping the
	// dangerous settings (it is a faithful copy).
	allowed, err := docker.New(docker.WithDangerousSpecs(true), docker.WithHelperBinary(dockertest.DockmapBinary(t)))
	if err != nil {
		t.Fatalf("docker.New(WithDangerousSpecs(true)): %v", err)
	}
	t.Cleanup(func() { _ = allowed.Close() })
	for _, r := range []struct{ name, old string }{{privName, priv}, {hostName, host}} {
		newID, err = allowed.Recreate(ctx, r.name, docker.RecreateChange{}, nil)
		if newID != "" {
			dockertest.TrackContainer(t, c, newID)
		}
		if err != nil {
			t.Fatalf("Recreate(%s) with the override: %v", r.name, err)
		}
		got := rcInspect(t, api, r.name)
		if _, err := api.ContainerInspect(ctx, r.old); !cerrdefs.IsNotFound(err) {
			t.Errorf("old %s after the allowed recreate: inspect = %v, want not found", r.name, err)
		}
		if got.ID != newID || newID == r.old || !got.HostConfig.PidMode.IsHost() {
			t.Errorf("%s after the allowed recreate: %s pid=%q; want new ID %s with the host PID namespace",
				r.name, got.ID[:12], got.HostConfig.PidMode, shortOf(newID))
		}
	}
	if got := rcInspect(t, api, privName); !got.HostConfig.Privileged {
		t.Errorf("%s after the allowed recreate is not privileged", privName)
	}
	if got := rcInspect(t, api, hostName); !got.State.Running {
		t.Errorf("%s after the allowed recreate is %s, want running", hostName, got.State.Status)
	}
	newID, err = allowed.Recreate(ctx, capName, link, nil)
	if newID != "" && newID != capID {
		dockertest.TrackContainer(t, c, newID)
	}
	if err != nil || newID == capID || newID == "" {
		t.Fatalf("Recreate(SYS_ADMIN, a link added) with the override = %s, %v; want a re-create", shortOf(newID), err)
	}
}

func shortOf(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// TestRunRefusesDangerous: a create goes through the same validator as a
// re-create, before any engine call: a run on the host's network is
// refused and nothing is made.
func TestRunRefusesDangerous(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	name := dockertest.UniqueName(t, "hostnet")
	_, err := c.RunContainer(t.Context(), docker.RunSpec{Name: name, Image: dockertest.FixtureImage(t), Network: "host"})
	if !errors.Is(err, topology.ErrForbidden) || !strings.Contains(err.Error(), "will not create") ||
		!strings.Contains(err.Error(), "--"+docker.AllowDangerousSpecsFlag) {
		t.Fatalf("RunContainer(network host) = %v, want ErrForbidden naming the flag", err)
	}
	if _, _, err := c.ContainerStarted(t.Context(), name); !errors.Is(err, topology.ErrNotFound) {
		t.Errorf("after the refusal, %s: %v, want no such container", name, err)
	}
}
