package docker_test

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// A container labelled dockmap.helper by anyone, directly or through its
// image's LABEL, is the user's: it is on the map and in the event feed.
func TestHelperLabelDoesNotHide(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	ref := "dockmap-test-labelled:" + strings.ToLower(dockertest.UniqueName(t, "i"))
	removeImageAtEnd(t, c, ref)
	events := watchEvents(t, c)
	labelled := dockertest.RunContainer(t, c, dockertest.WithLabel(docker.HelperLabel, "x"))
	if err := c.ImportImage(t.Context(), bytes.NewReader(oneFileTar(t)), ref,
		[]string{`LABEL ` + docker.HelperLabel + `=x`, `CMD ["/x"]`}); err != nil {
		t.Fatalf("import an image labelled %s: %v", docker.HelperLabel, err)
	}
	// Created, never started: it is listed all the same.
	inherited, err := c.CreateContainer(t.Context(), docker.ContainerSpec{
		Name: dockertest.UniqueName(t, "inherits"), Image: ref, Labels: dockertest.Labels(),
	})
	if err != nil {
		t.Fatalf("create from the labelled image: %v", err)
	}
	dockertest.TrackContainer(t, c, inherited)

	inv, err := c.ListInventory(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{labelled, inherited} {
		ct, ok := findContainer(inv, id)
		if !ok {
			t.Errorf("container %s labelled %s is not listed", id[:12], docker.HelperLabel)
			continue
		}
		if ct.Labels[docker.HelperLabel] != "x" {
			t.Errorf("container %s labels = %v, want %s=x", id[:12], ct.Labels, docker.HelperLabel)
		}
	}
	for _, id := range []string{labelled, inherited} {
		events.waitFor(t, id, "create")
		for _, e := range events.of(id) {
			if e.FromHelper() {
				t.Errorf("event %s of %s is taken for a helper's: %+v", e.Action, id[:12], e)
			}
		}
	}
}

// The helpers a client starts are left out of its map and its feed, from
// their create to their destroy, whatever image they run; another client
// (another dockmap) sees them as ordinary containers. The re-create
// preview does not count them among the containers in the donor's
// namespace.
func TestStartedHelpersAreHidden(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	other := dockertest.Client(t)
	events := watchEvents(t, c)
	donor := dockertest.RunContainer(t, c)
	fixture := dockertest.FixtureImage(t)
	mark := dockertest.UniqueName(t, "mark")
	labels := dockertest.Labels("dockmap.test.mark", mark)

	sidecar, err := c.StartHelper(t.Context(), donor, fixture, []string{"sleep", "300"}, labels)
	if err != nil {
		t.Fatalf("StartHelper: %v", err)
	}
	dockertest.TrackContainer(t, c, sidecar)
	if listed(t, c, sidecar) {
		t.Errorf("the helper StartHelper started is listed by its client")
	}
	if !listed(t, other, sidecar) {
		t.Errorf("the helper is not listed by another client, which did not start it")
	}
	g := topology.Build(mustList(t, c))
	dn, _ := g.Node(topology.ContainerNodeID(donor))
	if deps := plan.Dependents(g, dn); len(deps) != 0 {
		t.Errorf("dependents = %+v, want none: the helper in the namespace is dockmap's", deps)
	}

	res, err := c.RunHelper(t.Context(), donor, fixture, []string{"true"}, labels)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("RunHelper = %+v, %v", res, err)
	}
	if err := c.RemoveHelper(t.Context(), sidecar); err != nil {
		t.Fatalf("RemoveHelper: %v", err)
	}

	// Both helpers' whole lives are in the stream: two creates and two
	// destroys, every event marked.
	var marked []docker.Event
	dockertest.WaitFor(t, time.Minute, func() (bool, string) {
		marked = events.labelled("dockmap.test.mark", mark)
		creates, destroys := 0, 0
		for _, e := range marked {
			switch e.Action {
			case "create":
				creates++
			case "destroy":
				destroys++
			}
		}
		return creates == 2 && destroys == 2, fmt.Sprintf("%d creates and %d destroys of the helpers seen", creates, destroys)
	})
	for _, e := range marked {
		if !e.FromHelper() {
			t.Errorf("event %s of helper %s is not marked as a helper's", e.Action, e.ID[:12])
		}
	}
}

// A container of the helper image is a helper, however it was made: only
// dockmap makes that image. It is recognised by its content, from the
// first list of a new client on (no import needed), while a container of
// another image tagged with the helper image's name is not.
func TestHelperImageContainersAreHidden(t *testing.T) {
	t.Parallel()
	dockertest.Client(t) // skip or fail without an engine
	bin := fakeHelperBinary(t)
	c := helperClient(t, bin)
	plain := dockertest.Client(t)
	api := rcAPI(t)
	ref := docker.ProbeRepo + ":" + fileSHA(t, bin)[:12]
	removeImageAtEnd(t, plain, ref)

	// Someone tags the fixture as the helper image before dockmap made it.
	if err := api.ImageTag(t.Context(), dockertest.FixtureImage(t), ref); err != nil {
		t.Fatalf("tag the fixture as %s: %v", ref, err)
	}
	impostor := createFrom(t, api, plain, ref, []string{"sleep", "3600"})
	if !listed(t, c, impostor) {
		t.Errorf("a container of another image tagged %s is hidden", ref)
	}

	got, err := c.HelperImage(t.Context())
	if err != nil || got != ref {
		t.Fatalf("HelperImage = %q, %v; want %q", got, err, ref)
	}
	ours, err := api.ImageInspect(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	// By hand, with the SDK, not through any helper function.
	byHand := createFrom(t, api, plain, ref, nil)
	if listed(t, c, byHand) {
		t.Errorf("a container of the helper image made by hand is listed")
	}
	if !listed(t, c, impostor) {
		t.Errorf("the impostor is hidden once the helper image exists")
	}
	if !listed(t, plain, byHand) {
		t.Errorf("a client without this helper binary hides a container of its image")
	}

	// A new dockmap of the same build hides it from its first list on,
	// and finds the image without importing it again.
	fresh := helperClient(t, bin)
	if listed(t, fresh, byHand) {
		t.Errorf("a new client lists a container of its helper image")
	}
	if _, err := fresh.HelperImage(t.Context()); err != nil {
		t.Fatalf("HelperImage of the new client: %v", err)
	}
	again, err := api.ImageInspect(t.Context(), ref)
	if err != nil || again.ID != ours.ID {
		t.Errorf("image after the new client's HelperImage = %s, %v; want %s (no second import)", again.ID, err, ours.ID)
	}
}

// eventLog is what one client's WatchEvents delivered.
type eventLog struct {
	mu     sync.Mutex
	events []docker.Event
}

// watchEvents collects c's events from now until the test ends.
func watchEvents(t *testing.T, c *docker.Client) *eventLog {
	t.Helper()
	l := &eventLog{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	since := time.Now()
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			// A stream cut (engine busy) replays from since: duplicates
			// are harmless here.
			_ = c.WatchEvents(ctx, since, func(e docker.Event) {
				l.mu.Lock()
				defer l.mu.Unlock()
				l.events = append(l.events, e)
			})
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return l
}

// of lists the events about container id.
func (l *eventLog) of(id string) []docker.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []docker.Event
	for _, e := range l.events {
		if e.ID == id {
			out = append(out, e)
		}
	}
	return out
}

// labelled lists the container events that carry the label key=value.
func (l *eventLog) labelled(key, value string) []docker.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []docker.Event
	for _, e := range l.events {
		if e.Type == "container" && e.Attributes[key] == value {
			out = append(out, e)
		}
	}
	return out
}

// waitFor waits until the log holds the action of container id.
func (l *eventLog) waitFor(t *testing.T, id, action string) {
	t.Helper()
	dockertest.WaitFor(t, time.Minute, func() (bool, string) {
		evs := l.of(id)
		for _, e := range evs {
			if e.Action == action {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no %s event of %s in %d events", action, id[:12], len(evs))
	})
}

// listed reports whether c's ListInventory has the container.
func listed(t *testing.T, c *docker.Client, id string) bool {
	t.Helper()
	inv, err := c.ListInventory(t.Context())
	if err != nil {
		t.Fatalf("ListInventory: %v", err)
	}
	_, ok := findContainer(inv, id)
	return ok
}

// helperClient is a client whose helper binary is bin.
func helperClient(t testing.TB, bin string) *docker.Client {
	t.Helper()
	c, err := docker.New(docker.WithHelperBinary(bin))
	if err != nil {
		t.Fatalf("docker.New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// fakeHelperBinary is a static busybox with a unique tail, which stands in
// for a static dockmap where only the image matters: its own tag, so the
// test can remove it. Nothing runs it.
func fakeHelperBinary(t *testing.T) string {
	t.Helper()
	bb, err := os.ReadFile(dockertest.BusyboxPath)
	if err != nil {
		t.Skipf("no static busybox: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "dockmap")
	if err := os.WriteFile(bin, append(bb, []byte(dockertest.UniqueName(t, "bin"))...), 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}

// fileSHA is the hex SHA-256 of a file.
func fileSHA(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// createFrom creates (and does not start) a container from image with the
// SDK, as a user would, labelled for cleanup.
func createFrom(t *testing.T, api *client.Client, c *docker.Client, image string, cmd []string) string {
	t.Helper()
	created, err := api.ContainerCreate(t.Context(), &container.Config{Image: image, Cmd: cmd, Labels: dockertest.Labels()},
		&container.HostConfig{}, nil, nil, dockertest.UniqueName(t, "byhand"))
	if err != nil {
		t.Fatalf("create a container from %s: %v", image, err)
	}
	dockertest.TrackContainer(t, c, created.ID)
	return created.ID
}

// removeImageAtEnd removes the image ref when the test ends. Call it
// before the test makes any container (with dockertest or TrackContainer):
// cleanups run last registered first, and the image must go after its
// containers.
func removeImageAtEnd(t *testing.T, c *docker.Client, ref string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_ = c.RemoveImage(ctx, ref)
	})
}

// oneFileTar is a root filesystem with one empty file, /x.
func oneFileTar(t *testing.T) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	if err := tw.WriteHeader(&tar.Header{Name: "x", Mode: 0o755, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
