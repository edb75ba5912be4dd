package dockertest_test

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// validName is the engine's rule for container, network and volume names.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

func TestUniqueName(t *testing.T) {
	tests := []struct {
		name string // subtest name, which UniqueName also reads
		base string
	}{
		{"plain", "web"},
		{"empty base", ""},
		{"odd base", "/my web:1!"},
		{"leading separators", "--_.db"},
		{"very long " + strings.Repeat("subtest name ", 10), strings.Repeat("database", 20)},
		{"non-ASCII ünïcode", "wéb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := dockertest.UniqueName(t, tt.base), dockertest.UniqueName(t, tt.base)
			for _, n := range []string{a, b} {
				if !validName.MatchString(n) || len(n) > 63 {
					t.Errorf("UniqueName(%q) = %q, want a valid engine name of at most 63 bytes", tt.base, n)
				}
			}
			if a == b {
				t.Errorf("UniqueName(%q) gave %q twice", tt.base, a)
			}
		})
	}
}

func TestLabels(t *testing.T) {
	got := dockertest.Labels("k", "v")
	want := map[string]string{dockertest.Label: "1", dockertest.RunLabel: dockertest.RunID(), "k": "v"}
	if !maps.Equal(got, want) {
		t.Errorf("Labels(k, v) = %v, want %v", got, want)
	}
}

// fakeTB records Fatalf and ends the goroutine, as testing.T does.
type fakeTB struct {
	testing.TB
	fatal string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func TestWaitFor(t *testing.T) {
	t.Run("eventually true", func(t *testing.T) {
		calls := 0
		dockertest.WaitFor(t, 5*time.Second, func() (bool, string) {
			calls++
			return calls == 3, fmt.Sprintf("calls = %d", calls)
		})
		if calls != 3 {
			t.Errorf("cond called %d times, want 3", calls)
		}
	})
	t.Run("never true", func(t *testing.T) {
		f := &fakeTB{TB: t}
		done := make(chan struct{})
		go func() {
			defer close(done)
			dockertest.WaitFor(f, 50*time.Millisecond, func() (bool, string) { return false, "still off" })
		}()
		<-done
		if !strings.Contains(f.fatal, "still off") {
			t.Errorf("Fatalf message = %q, want the last status %q", f.fatal, "still off")
		}
	})
}

// TestFixtureImage checks the image is importable and runs sleep as PID 1
// and the applets through sh. It runs everything through the engine: no
// exec API yet, so the container's exit state is the evidence.
func TestFixtureImage(t *testing.T) {
	c := dockertest.Client(t)
	ref := dockertest.FixtureImage(t)
	if !strings.HasPrefix(ref, dockertest.FixtureRepo+":busybox-") {
		t.Errorf("FixtureImage = %q, want %s:busybox-<hash>", ref, dockertest.FixtureRepo)
	}
	if again := dockertest.FixtureImage(t); again != ref {
		t.Errorf("second FixtureImage = %q, want %q", again, ref)
	}
	ctx := t.Context()
	if ok, err := c.ImageExists(ctx, ref); err != nil || !ok {
		t.Fatalf("ImageExists(%q) = %v, %v; want true", ref, ok, err)
	}

	// The shell, the applet links, /tmp and /etc/passwd all work: the
	// script exits 0 only if every step does.
	script := `set -e; test -x /bin/busybox; for a in ping nc wget httpd hostname ip nslookup; do test -L /bin/$a; done; ` +
		`touch /tmp/x; id -un | grep -qx root; test -d /root; echo ok`
	id := dockertest.RunContainer(t, c, dockertest.WithCmd("sh", "-c", script))
	state := waitExited(t, c, id)
	if !strings.Contains(state.Status, "Exited (0)") {
		t.Errorf("fixture self-check status = %q, want Exited (0)", state.Status)
	}
}

func TestFixtureTarIsDeterministic(t *testing.T) {
	if _, err := os.Stat(dockertest.BusyboxPath); err != nil {
		t.Skipf("no busybox: %v", err)
	}
	a, b := dockertest.FixtureTarForTest(t), dockertest.FixtureTarForTest(t)
	if !bytes.Equal(a, b) {
		t.Fatal("two fixture tars differ; the image tag would change every run")
	}
	entries := map[string]*tar.Header{}
	tr := tar.NewReader(bytes.NewReader(a))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read fixture tar: %v", err)
		}
		entries[h.Name] = h
	}
	for _, name := range []string{"bin/busybox", "bin/sh", "bin/ping", "bin/nc", "bin/httpd", "etc/passwd", "etc/group", "root/", "tmp/"} {
		if entries[name] == nil {
			t.Errorf("fixture tar has no %s", name)
		}
	}
	if h := entries["tmp/"]; h != nil && h.Mode != 0o1777 {
		t.Errorf("tmp/ mode = %o, want 1777", h.Mode)
	}
	if h := entries["bin/ping"]; h != nil && (h.Typeflag != tar.TypeSymlink || h.Linkname != "busybox") {
		t.Errorf("bin/ping = type %c -> %q, want a symlink to busybox", h.Typeflag, h.Linkname)
	}
}

// TestRunContainerAndCleanup makes objects in a subtest and checks they
// are there while it runs and gone once its cleanup has run, including an
// anonymous volume and a network made after the container joined it.
func TestRunContainerAndCleanup(t *testing.T) {
	c := dockertest.Client(t)
	var running, created, netID, volName, anonVol string

	t.Run("objects", func(t *testing.T) {
		ctx := t.Context()
		volName = dockertest.CreateVolume(t, c, "")
		running = dockertest.RunContainer(t, c,
			dockertest.WithLabel("purpose", "cleanup-check"),
			dockertest.WithMount(docker.MountSpec{Type: "volume", Source: volName, Target: "/data"}),
			dockertest.WithMount(docker.MountSpec{Type: "volume", Target: "/anon"}),
		)
		created = dockertest.RunContainer(t, c, dockertest.Stopped())
		interactive := dockertest.RunContainer(t, c, dockertest.Interactive())
		// Made after the container and joined by it: cleanup must remove
		// the container first, or the network removal fails.
		netID = dockertest.CreateNetwork(t, c, "")
		if err := c.ConnectNetwork(ctx, netID, running, nil); err != nil {
			t.Fatalf("ConnectNetwork: %v", err)
		}

		inv := mustList(t, c)
		ct, ok := findContainer(inv, running)
		if !ok {
			t.Fatalf("container %s not listed", running)
		}
		if ct.State != "running" {
			t.Errorf("State = %q, want running", ct.State)
		}
		if ct.Image != dockertest.FixtureImage(t) {
			t.Errorf("Image = %q, want %q", ct.Image, dockertest.FixtureImage(t))
		}
		for k, v := range dockertest.Labels("purpose", "cleanup-check") {
			if ct.Labels[k] != v {
				t.Errorf("Labels[%q] = %q, want %q", k, ct.Labels[k], v)
			}
		}
		if !strings.HasPrefix(ct.Name, "c-objects-") {
			t.Errorf("Name = %q, want a UniqueName from the subtest name", ct.Name)
		}
		for _, m := range ct.Mounts {
			if m.Destination == "/anon" {
				anonVol = m.Name
			}
		}
		if anonVol == "" {
			t.Errorf("no anonymous volume on /anon in %+v", ct.Mounts)
		}
		if ct, ok := findContainer(inv, created); !ok || ct.State != "created" {
			t.Errorf("Stopped container state = %q (listed %v), want created", ct.State, ok)
		}
		// sh with a TTY and open stdin waits for input instead of exiting.
		if ct, ok := findContainer(inv, interactive); !ok || ct.State != "running" || ct.Command != "sh" {
			t.Errorf("Interactive container = %q running %q (listed %v), want sh running", ct.State, ct.Command, ok)
		}

		cs, ns, vs := dockertest.Leftovers(t, c)
		if !slices.Contains(cs, running) || !slices.Contains(cs, created) || !slices.Contains(ns, netID) || !slices.Contains(vs, volName) {
			t.Errorf("Leftovers = %v %v %v, want them to include %s %s %s %s", cs, ns, vs, running, created, netID, volName)
		}
	})

	inv := mustList(t, c)
	for _, id := range []string{running, created} {
		if _, ok := findContainer(inv, id); ok {
			t.Errorf("container %s still exists after cleanup", id)
		}
	}
	for _, n := range inv.Networks {
		if n.ID == netID {
			t.Errorf("network %s still exists after cleanup", netID)
		}
	}
	for _, v := range inv.Volumes {
		if v.Name == volName || v.Name == anonVol {
			t.Errorf("volume %s still exists after cleanup", v.Name)
		}
	}
}

func mustList(t *testing.T, c *docker.Client) topology.Inventory {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	inv, err := c.ListInventory(ctx)
	if err != nil {
		t.Fatalf("ListInventory: %v", err)
	}
	return inv
}

func findContainer(inv topology.Inventory, id string) (topology.Container, bool) {
	for _, ct := range inv.Containers {
		if ct.ID == id {
			return ct, true
		}
	}
	return topology.Container{}, false
}

// waitExited waits until the container has exited and returns its listing.
func waitExited(t *testing.T, c *docker.Client, id string) topology.Container {
	t.Helper()
	var ct topology.Container
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		ct, _ = findContainer(mustList(t, c), id)
		return ct.State == "exited", "state " + ct.State + " " + ct.Status
	})
	return ct
}
