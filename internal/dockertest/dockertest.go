// Package dockertest holds test-only helpers that drive a real Docker
// engine through *docker.Client. Import it only from _test.go files: it
// calls t.Skip, t.Fatal and t.Cleanup and builds a fixture image.
//
// Every helper follows the same rules (STYLE.md, "Testing"):
//
//   - Client skips the test when the engine does not answer, and fails it
//     instead when REQUIRE_DOCKER=1 (CI sets it).
//   - Every object a helper creates carries the label [Label]=1 and the
//     label [RunLabel]=[RunID], unique to the test binary, so a test can
//     find its own leftovers with [Leftovers].
//   - Every object a helper creates is removed when the test ends:
//     containers first (force, with their anonymous volumes), then
//     networks, then volumes. Objects made by the code under test can join
//     that cleanup with [TrackContainer], [TrackNetwork] and [TrackVolume].
//   - Nothing is pulled: containers run [FixtureImage], imported once per
//     test binary from the host's static busybox.
//
// # Concurrency
//
// The helpers are safe to call from parallel tests. Like t.Fatal, they must
// be called from the goroutine running the test.
package dockertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/topology"
)

// Label marks every object the helpers create, with the value "1".
const Label = "dockmap.test"

// RunLabel marks every object the helpers create with [RunID], which is
// unique to one test binary run.
const RunLabel = "dockmap.test.run"

// RequireEnv is the environment variable that turns a missing engine from
// a skip into a failure when set to "1".
const RequireEnv = "REQUIRE_DOCKER"

// callTimeout bounds each engine call a helper makes.
const callTimeout = 60 * time.Second

var runID = func() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	return hex.EncodeToString(b[:])
}()

// RunID is the value of [RunLabel] on the objects this test binary creates.
func RunID() string { return runID }

// Labels returns the labels every test object carries, plus extra
// key/value pairs. Use it for objects the test creates through the client
// under test. It panics if extra has an odd length.
func Labels(extra ...string) map[string]string {
	if len(extra)%2 != 0 {
		panic("dockertest.Labels: odd number of key/value strings")
	}
	l := map[string]string{Label: "1", RunLabel: runID}
	for i := 0; i+1 < len(extra); i += 2 {
		l[extra[i]] = extra[i+1]
	}
	return l
}

// Client connects to the engine the way dockmap does (DOCKER_HOST and
// friends), with a static dockmap as its helper binary (DockmapBinary),
// and checks that it answers. If it does not, the test is skipped,
// or fails when REQUIRE_DOCKER=1. The client is closed when the test ends.
func Client(t testing.TB) *docker.Client {
	t.Helper()
	c, err := docker.New(docker.WithHelperBinary(DockmapBinary(t)))
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, _, err = c.Version(ctx)
		cancel()
		if err != nil {
			_ = c.Close()
		}
	}
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("docker engine required (%s=1) but not usable: %v", RequireEnv, err)
		}
		t.Skipf("docker engine not usable (set %s=1 to fail instead): %v", RequireEnv, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// callCtx is the context for one helper call. It is not t.Context(): that
// one is already cancelled when cleanups run.
func callCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), callTimeout)
}

// UniqueName returns a name the engine accepts for a container, network
// or volume ([a-zA-Z0-9][a-zA-Z0-9_.-]+, at most 63 characters): base, a
// short form of the test name, and a random suffix.
func UniqueName(t testing.TB, base string) string {
	t.Helper()
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random name suffix: %v", err)
	}
	name := sanitize(base, 20)
	if name == "" {
		name = "x"
	}
	// The last element of the test name says the most about the object.
	tn := t.Name()
	if i := strings.LastIndexByte(tn, '/'); i >= 0 {
		tn = tn[i+1:]
	}
	if s := sanitize(strings.TrimPrefix(tn, "Test"), 24); s != "" {
		name += "-" + s
	}
	return name + "-" + hex.EncodeToString(b[:])
}

// sanitize keeps the characters the engine allows in names, turns the
// others into '-', drops leading separators and cuts to max bytes.
func sanitize(s string, max int) string {
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			sb.WriteRune(r)
		case sb.Len() == 0:
			// A name must start with a letter or digit.
		case r == '_' || r == '.' || r == '-':
			sb.WriteRune(r)
		default:
			sb.WriteByte('-')
		}
		if sb.Len() >= max {
			break
		}
	}
	return strings.TrimRight(sb.String(), "-_.")
}

// Leftovers lists the IDs of containers and networks and the names of
// volumes that still carry this test binary's [RunLabel].
func Leftovers(t testing.TB, c *docker.Client) (containers, networks, volumes []string) {
	t.Helper()
	ctx, cancel := callCtx()
	defer cancel()
	containers, networks, volumes, err := c.Labelled(ctx, RunLabel, runID)
	if err != nil {
		t.Fatalf("list leftovers: %v", err)
	}
	return containers, networks, volumes
}

// TrackContainer removes the container (force, with its anonymous
// volumes) when the test ends, if it still exists.
func TrackContainer(t testing.TB, c *docker.Client, id string) {
	tr := trackerFor(t)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.containers = append(tr.containers, object{c, id})
}

// TrackNetwork removes the network when the test ends, after the tracked
// containers, if it still exists.
func TrackNetwork(t testing.TB, c *docker.Client, id string) {
	tr := trackerFor(t)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.networks = append(tr.networks, object{c, id})
}

// TrackVolume removes the volume when the test ends, after the tracked
// containers, if it still exists.
func TrackVolume(t testing.TB, c *docker.Client, name string) {
	tr := trackerFor(t)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.volumes = append(tr.volumes, object{c, name})
}

// object is one engine object to remove, with the client that made it.
type object struct {
	c  *docker.Client
	id string
}

// tracker holds what one test created, in creation order.
type tracker struct {
	mu         sync.Mutex // protects fields below
	containers []object
	networks   []object
	volumes    []object
}

// trackers maps a testing.TB to its *tracker. One cleanup per test removes
// everything in dependency order, which per-object cleanups (run last in,
// first out) would not: a network made after a container must still go
// after it.
var trackers sync.Map

func trackerFor(t testing.TB) *tracker {
	if v, ok := trackers.Load(t); ok {
		return v.(*tracker)
	}
	v, loaded := trackers.LoadOrStore(t, &tracker{})
	tr := v.(*tracker)
	if !loaded {
		t.Cleanup(func() {
			trackers.Delete(t)
			tr.cleanup(t)
		})
	}
	return tr
}

func (tr *tracker) cleanup(t testing.TB) {
	t.Helper()
	tr.mu.Lock()
	cs, ns, vs := tr.containers, tr.networks, tr.volumes
	tr.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), 2*callTimeout)
	defer cancel()
	// Newest first: a container sharing another's network namespace or
	// linking to it was made after it.
	for i := len(cs) - 1; i >= 0; i-- {
		o := cs[i]
		err := o.c.RemoveContainerAndVolumes(ctx, o.id)
		if err != nil && !errors.Is(err, topology.ErrNotFound) {
			t.Errorf("cleanup: %v", err)
		}
	}
	for i := len(ns) - 1; i >= 0; i-- {
		o := ns[i]
		if err := removeRetry(ctx, func() error { return o.c.RemoveNetwork(ctx, o.id) }); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
	for i := len(vs) - 1; i >= 0; i-- {
		o := vs[i]
		if err := removeRetry(ctx, func() error { return o.c.RemoveVolume(ctx, o.id) }); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

// removeRetry runs remove until it succeeds or finds nothing to remove. It
// retries a conflict for a few seconds: the engine releases endpoints and
// volume references just after the container removal returns.
func removeRetry(ctx context.Context, remove func() error) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := remove()
		switch {
		case err == nil, errors.Is(err, topology.ErrNotFound):
			return nil
		case !errors.Is(err, topology.ErrConflict) || time.Now().After(deadline):
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WaitFor polls cond until it reports true, and fails the test with the
// last status cond gave if that does not happen within timeout. Use it for
// what the engine does eventually (a container exiting, an event arriving).
func WaitFor(t testing.TB, timeout time.Duration, cond func() (ok bool, status string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	wait := 10 * time.Millisecond
	for {
		ok, status := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not true after %v: %s", timeout, status)
		}
		time.Sleep(wait)
		wait = min(2*wait, 250*time.Millisecond)
	}
}
