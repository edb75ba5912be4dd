package probe_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/probe"
)

// TestMain removes the static dockmap the tests build and its probe
// image: every change to dockmap makes a new one, and they would pile up
// in the engine.
func TestMain(m *testing.M) {
	code := dockertest.Main(m)
	if helperBin.path != "" {
		if err := removeProbeImage(helperBin.path); err != nil {
			fmt.Fprintln(os.Stderr, "remove probe image:", err)
		}
	}
	if helperBin.dir != "" {
		os.RemoveAll(helperBin.dir)
	}
	os.Exit(code)
}

func removeProbeImage(bin string) error {
	c, err := docker.New()
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// EnsureProbeImage only names the image when the engine has it.
	ref, err := c.EnsureProbeImage(ctx, bin)
	if err != nil {
		return err
	}
	return c.RemoveImage(ctx, ref)
}

// helperBin is a static dockmap, built once per test binary: the test
// binary itself is not dockmap, and with -race it is not static either.
var helperBin struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func helperBinary(t testing.TB) string {
	t.Helper()
	helperBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "dockmap-probetest")
		if err != nil {
			helperBin.err = err
			return
		}
		helperBin.dir = dir
		bin := filepath.Join(dir, "dockmap")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=probetest", "-o", bin, "../../cmd/web")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			helperBin.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		helperBin.path = bin
	})
	if helperBin.err != nil {
		t.Fatalf("static dockmap for the probe image: %v", helperBin.err)
	}
	return helperBin.path
}

// engine is a client of the test engine whose helper binary is a static
// dockmap: the default, the running executable, is the test binary, which
// is not dockmap (and with -race not static either). It skips the test
// without an engine, or fails it when REQUIRE_DOCKER=1.
func engine(t testing.TB) *docker.Client {
	t.Helper()
	return engineWith(t, helperBinary(t))
}

// engineWith is engine with the given helper binary.
func engineWith(t testing.TB, bin string) *docker.Client {
	t.Helper()
	dockertest.Client(t) // the skip-or-fail check
	c, err := docker.New(docker.WithHelperBinary(bin))
	if err != nil {
		t.Fatalf("docker.New: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// box is a test container as the caller of Run sees it in the graph.
type box struct {
	id, name string
	ip       string // on its first network
	running  bool
}

// runBox starts a fixture container (or creates it, with Stopped) and
// looks up its address.
func runBox(t testing.TB, c *docker.Client, base string, opts ...dockertest.ContainerOption) box {
	t.Helper()
	name := dockertest.UniqueName(t, base)
	id := dockertest.RunContainer(t, c, append([]dockertest.ContainerOption{dockertest.WithName(name)}, opts...)...)
	b := box{id: id, name: name}
	fill(t, c, &b)
	return b
}

// fill reads a container's state and first address from a listing.
func fill(t testing.TB, c *docker.Client, b *box) {
	t.Helper()
	inv, err := c.ListInventory(context.Background())
	if err != nil {
		t.Fatalf("ListInventory: %v", err)
	}
	for _, ct := range inv.Containers {
		if ct.ID != b.id {
			continue
		}
		b.running = ct.State == "running"
		for _, ep := range ct.Endpoints {
			if ep.IP != "" {
				b.ip = ep.IP
				break
			}
		}
		return
	}
	t.Fatalf("container %s not listed", b.name)
}

// req is a probe from one box to another; by name, target is the name
// used (a container name or a link alias).
func req(from, to box, by string, port int, target ...string) probe.Request {
	r := probe.Request{
		From: from.id, FromName: from.name, To: to.id, ToName: to.name, By: by, Port: port,
		FromRunning: from.running, ToRunning: to.running,
	}
	switch {
	case len(target) > 0:
		r.Target = target[0]
	case by == probe.ByIP:
		r.Target = to.ip
	default:
		r.Target = to.name
	}
	return r
}

// counting is the real engine with its calls counted, and each exec
// optionally held back for a while so that concurrent callers overlap.
type counting struct {
	probe.Docker
	execs, helpers, starts atomic.Int64
	execDelay              time.Duration
}

func (c *counting) Exec(ctx context.Context, id string, argv []string, user string) (docker.ExecResult, error) {
	c.execs.Add(1)
	if c.execDelay > 0 {
		select {
		case <-time.After(c.execDelay):
		case <-ctx.Done():
			return docker.ExecResult{}, ctx.Err()
		}
	}
	return c.Docker.Exec(ctx, id, argv, user)
}

func (c *counting) RunHelper(ctx context.Context, donor, image string, argv []string, labels map[string]string) (docker.ExecResult, error) {
	c.helpers.Add(1)
	return c.Docker.RunHelper(ctx, donor, image, argv, labels)
}

func (c *counting) StartHelperOutput(ctx context.Context, donor, image string, argv []string, labels map[string]string, lines int) (string, docker.ExecResult, error) {
	c.starts.Add(1)
	return c.Docker.StartHelperOutput(ctx, donor, image, argv, labels, lines)
}

// newProber makes a prober whose helpers carry the test labels (and any
// extra pairs) and closes it when the test ends. Give it a client from
// engine when its probes may need the helper.
func newProber(t testing.TB, d probe.Docker, publish func(probe.Result), opts ...probe.Option) *probe.Prober {
	t.Helper()
	// A busy engine's DNS can take longer than the default timeout to say
	// that a name does not exist; no test here waits for a timeout.
	opts = append([]probe.Option{probe.WithHelperLabels(dockertest.Labels()),
		probe.WithTimeout(5 * time.Second)}, opts...)
	p := probe.New(d, publish, opts...)
	t.Cleanup(p.Close)
	return p
}

// helpersLeft lists the helper containers that carry the label
// dockmap.test.helper=mark.
func helpersLeft(t testing.TB, c *docker.Client, mark string) []string {
	t.Helper()
	cs, _, _, err := c.Labelled(context.Background(), "dockmap.test.helper", mark)
	if err != nil {
		t.Fatalf("Labelled: %v", err)
	}
	return cs
}

// modes are the three ways a probe can run.
var modes = []struct {
	name   string
	opts   []probe.Option
	method string
}{
	{"exec", []probe.Option{probe.WithBatch(0)}, probe.MethodExec},
	{"sidecar", []probe.Option{probe.WithBatch(1)}, probe.MethodHelper},
	{"one-shot helper", []probe.Option{probe.WithBatch(1), probe.WithSidecars(0)}, probe.MethodHelper},
}

// recorder collects what the prober publishes.
type recorder struct {
	mu  sync.Mutex
	got []probe.Result
}

func (r *recorder) publish(res probe.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, res)
}

func (r *recorder) results() []probe.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]probe.Result(nil), r.got...)
}

// want checks one result against what the probe should have found.
type want struct {
	ok       bool
	failure  string
	detail   string // a substring of Detail
	resolved string
	method   string
}

func check(t *testing.T, what string, got probe.Result, w want) {
	t.Helper()
	t.Logf("%s: ok=%v rtt=%vms resolved=%q failure=%q method=%s detail=%q", what, got.OK, got.RTTms, got.Resolved, got.Failure, got.Method, got.Detail)
	if got.OK != w.ok || got.Failure != w.failure {
		t.Errorf("%s: OK %v, Failure %q (%s), want OK %v, Failure %q", what, got.OK, got.Failure, got.Detail, w.ok, w.failure)
	}
	if !strings.Contains(got.Detail, w.detail) {
		t.Errorf("%s: Detail = %q, want it to contain %q", what, got.Detail, w.detail)
	}
	if w.resolved != "" && got.Resolved != w.resolved {
		t.Errorf("%s: Resolved = %q, want %q", what, got.Resolved, w.resolved)
	}
	if got.OK && got.Port == 0 && got.RTTms <= 0 {
		t.Errorf("%s: RTTms = %v, want > 0", what, got.RTTms)
	}
	if got.Method != w.method {
		t.Errorf("%s: Method = %q, want %q", what, got.Method, w.method)
	}
	if got.At.IsZero() {
		t.Errorf("%s: At is zero", what)
	}
}

// TestTutorialLinks is chapter 1 of the tutorial on the default bridge:
// IPs work, names need a link, and a link works one way.
func TestTutorialLinks(t *testing.T) {
	t.Parallel()
	c := engine(t)
	database := runBox(t, c, "database")
	web := runBox(t, c, "web")
	linked := runBox(t, c, "web", dockertest.WithLink(database.id, "database"))
	stopped := runBox(t, c, "stopped", dockertest.Stopped())

	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			rec := &recorder{}
			p := newProber(t, c, rec.publish, mode.opts...)
			nameFailure := "bad address '" + database.name + "'" // busybox ping
			if mode.method == probe.MethodHelper {
				// Decided from the source's own resolv.conf, not by asking
				// the host's resolvers: a round trip per probe, or a
				// timeout when they drop a matrix's burst of queries.
				nameFailure = database.name + " does not resolve: it is not in /etc/hosts (no link by that name) and there is " + probe.NoContainerDNS
			}
			reqs := []probe.Request{
				req(web, database, probe.ByIP, 0),
				req(web, database, probe.ByName, 0),
				req(linked, database, probe.ByName, 0, "database"),
				req(database, linked, probe.ByName, 0),
			}
			got := p.Run(t.Context(), reqs)
			check(t, "web → database by IP", got[0], want{ok: true, resolved: database.ip, method: mode.method})
			check(t, "web → database by name", got[1], want{failure: probe.FailName, detail: nameFailure, method: mode.method})
			check(t, "linked web → database by alias", got[2], want{ok: true, resolved: database.ip, method: mode.method})
			check(t, "database → linked web by name", got[3], want{failure: probe.FailName, detail: linked.name, method: mode.method})
			for i, r := range got {
				if r.From != reqs[i].From || r.To != reqs[i].To || r.By != reqs[i].By || r.Target != reqs[i].Target {
					t.Errorf("result %d is for %s→%s by %s (%s), want request order", i, r.From, r.To, r.By, r.Target)
				}
			}
			if n := len(rec.results()); n != len(reqs) {
				t.Errorf("published %d results, want %d", n, len(reqs))
			}
		})
	}

	t.Run("stopped ends", func(t *testing.T) {
		t.Parallel()
		cd := &counting{Docker: c}
		p := probe.New(cd, nil)
		got := p.Run(t.Context(), []probe.Request{
			req(web, stopped, probe.ByIP, 0, "172.17.255.254"),
			req(stopped, web, probe.ByIP, 0),
		})
		check(t, "to a stopped container", got[0], want{failure: probe.FailTargetStopped, detail: stopped.name + " is not running"})
		check(t, "from a stopped container", got[1], want{failure: probe.FailImpossible, detail: stopped.name + " is not running"})
		if n := cd.execs.Load() + cd.helpers.Load(); n != 0 {
			t.Errorf("engine calls = %d, want none for stopped ends", n)
		}
	})
}

// TestUserNetwork is chapter 2: on a user-defined bridge every member
// resolves every other by name, both ways.
func TestUserNetwork(t *testing.T) {
	t.Parallel()
	c := engine(t)
	net := dockertest.CreateNetwork(t, c, "")
	a := runBox(t, c, "a", dockertest.WithNetwork(net))
	b := runBox(t, c, "b", dockertest.WithNetwork(net))
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			p := newProber(t, c, nil, mode.opts...)
			got := p.Run(t.Context(), []probe.Request{req(a, b, probe.ByName, 0), req(b, a, probe.ByName, 0)})
			check(t, "a → b by name", got[0], want{ok: true, resolved: b.ip, method: mode.method})
			check(t, "b → a by name", got[1], want{ok: true, resolved: a.ip, method: mode.method})
		})
	}
}

// TestTCP connects to a port where httpd listens and to one where nothing
// does, with busybox's nc (which has no -z) and with the helper.
func TestTCP(t *testing.T) {
	t.Parallel()
	c := engine(t)
	net := dockertest.CreateNetwork(t, c, "")
	client := runBox(t, c, "client", dockertest.WithNetwork(net))
	server := runBox(t, c, "server", dockertest.WithNetwork(net), dockertest.WithCmd("httpd", "-f", "-p", "8080"))
	// httpd listens a moment after the container starts.
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		r := probe.New(c, nil, probe.WithBatch(0)).Run(t.Context(), []probe.Request{req(client, server, probe.ByIP, 8080)})[0]
		return r.OK, r.Failure + ": " + r.Detail
	})
	for _, mode := range modes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			p := newProber(t, c, nil, mode.opts...)
			got := p.Run(t.Context(), []probe.Request{
				req(client, server, probe.ByIP, 8080),
				req(client, server, probe.ByName, 8080),
				req(client, server, probe.ByIP, 8081),
			})
			check(t, "open port by IP", got[0], want{ok: true, resolved: server.ip, method: mode.method})
			check(t, "open port by name", got[1], want{ok: true, method: mode.method})
			check(t, "closed port", got[2], want{failure: probe.FailRefused, detail: "refused", method: mode.method})
		})
	}
}

// TestFallbackToHelper probes from a container with no ping and no shell
// (one from the probe image itself): the exec fails for want of a binary
// and the helper does the probe. The prober's client hides containers of
// its helper image from its lists, so the test lists and makes its
// fixtures through a plain client.
func TestFallbackToHelper(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	hc := engine(t)
	net := dockertest.CreateNetwork(t, c, "")
	target := runBox(t, c, "target", dockertest.WithNetwork(net))
	ref, err := c.EnsureProbeImage(t.Context(), helperBinary(t))
	if err != nil {
		t.Fatalf("EnsureProbeImage: %v", err)
	}
	name := dockertest.UniqueName(t, "scratch")
	id, err := c.CreateContainer(t.Context(), docker.ContainerSpec{
		Name: name, Image: ref, Cmd: []string{"--hold=1h"}, Network: net, Labels: dockertest.Labels(),
	})
	if err != nil {
		t.Fatalf("create container from the probe image: %v", err)
	}
	dockertest.TrackContainer(t, c, id)
	if err := c.StartContainer(t.Context(), id); err != nil {
		t.Fatalf("start: %v", err)
	}
	scratch := box{id: id, name: name}
	fill(t, c, &scratch)
	if !scratch.running {
		t.Fatalf("probe-image container is not running: --hold did not hold")
	}
	// Every helper of this test carries mark, so the test can see that
	// none is left, whatever else runs on the engine.
	mark := dockertest.UniqueName(t, "helper")

	for _, mode := range []struct {
		name           string
		opts           []probe.Option
		execs, helpers int64 // engine calls for two probes
		starts         int64
	}{
		// The first probe learns that the container has no ping and starts
		// a sidecar, which answers it as it starts; the second is exec'd
		// into that sidecar.
		{"sidecar", nil, 2, 0, 1},
		{"one-shot helper", []probe.Option{probe.WithSidecars(0)}, 1, 2, 0},
	} {
		t.Run(mode.name, func(t *testing.T) {
			cd := &counting{Docker: hc}
			p := newProber(t, cd, nil, append(mode.opts, probe.WithBatch(0),
				probe.WithHelperLabels(dockertest.Labels("dockmap.test.helper", mark)))...)
			got := p.Run(t.Context(), []probe.Request{req(scratch, target, probe.ByIP, 0)})
			check(t, "scratch → target by IP", got[0], want{ok: true, resolved: target.ip, method: probe.MethodHelper})
			got = p.Run(t.Context(), []probe.Request{req(scratch, target, probe.ByName, 0)})
			check(t, "scratch → target by name", got[0], want{ok: true, resolved: target.ip, method: probe.MethodHelper})
			if e, h, st := cd.execs.Load(), cd.helpers.Load(), cd.starts.Load(); e != mode.execs || h != mode.helpers || st != mode.starts {
				t.Errorf("execs, helper runs, sidecar starts = %d, %d, %d; want %d, %d, %d", e, h, st, mode.execs, mode.helpers, mode.starts)
			}
			p.Close()
			if cs := helpersLeft(t, c, mark); len(cs) != 0 {
				t.Errorf("helper containers left after Close: %v", cs)
			}
		})
	}

	t.Run("no helper image", func(t *testing.T) {
		noHelper, _ := dockertest.MissingLibraryBinary(t)
		p := newProber(t, engineWith(t, noHelper), nil, probe.WithBatch(0))
		got := p.Run(t.Context(), []probe.Request{req(scratch, target, probe.ByIP, 0)})
		check(t, "without a helper", got[0], want{failure: probe.FailImpossible, detail: "CGO_ENABLED=0", method: probe.MethodHelper})
		if !strings.Contains(got[0].Detail, name+" cannot ping") {
			t.Errorf("Detail = %q, want it to say that %s cannot ping", got[0].Detail, name)
		}
	})
}

// TestSidecar: a matrix probed again and again starts one sidecar per
// source, replaces it when its source restarts (its namespace is then
// another), and removes it when idle or on Close.
func TestSidecar(t *testing.T) {
	t.Parallel()
	c := engine(t)
	net := dockertest.CreateNetwork(t, c, "")
	a := runBox(t, c, "a", dockertest.WithNetwork(net))
	b := runBox(t, c, "b", dockertest.WithNetwork(net))
	mark := dockertest.UniqueName(t, "helper")
	cd := &counting{Docker: c}
	p := newProber(t, cd, nil, probe.WithBatch(1), probe.WithSidecars(time.Hour),
		probe.WithHelperLabels(dockertest.Labels("dockmap.test.helper", mark)))
	round := func(what string) {
		t.Helper()
		got := p.Run(t.Context(), []probe.Request{req(a, b, probe.ByName, 0), req(b, a, probe.ByName, 0)})
		check(t, what+": a → b", got[0], want{ok: true, resolved: b.ip, method: probe.MethodHelper})
		check(t, what+": b → a", got[1], want{ok: true, resolved: a.ip, method: probe.MethodHelper})
	}
	for i := range 3 {
		round(fmt.Sprintf("round %d", i))
	}
	if n := cd.starts.Load(); n != 2 {
		t.Errorf("sidecar starts after 3 rounds = %d, want 2 (one per source)", n)
	}
	if cs := helpersLeft(t, c, mark); len(cs) != 2 {
		t.Errorf("sidecars running = %v, want 2", cs)
	}

	// After a restart the old sidecar sits in an empty namespace: using
	// it would report no-route.
	if err := c.StopContainer(t.Context(), a.id, 0); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := c.StartContainer(t.Context(), a.id); err != nil {
		t.Fatalf("start: %v", err)
	}
	fill(t, c, &a)
	round("after a restarted")
	if n := cd.starts.Load(); n != 3 {
		t.Errorf("sidecar starts after the restart = %d, want 3", n)
	}
	dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
		cs := helpersLeft(t, c, mark)
		return len(cs) == 2, fmt.Sprintf("sidecars %v, want the replaced one gone", cs)
	})

	p.Close()
	if cs := helpersLeft(t, c, mark); len(cs) != 0 {
		t.Errorf("sidecars left after Close: %v", cs)
	}

	t.Run("idle ones are removed", func(t *testing.T) {
		p := newProber(t, c, nil, probe.WithBatch(1), probe.WithSidecars(200*time.Millisecond),
			probe.WithHelperLabels(dockertest.Labels("dockmap.test.helper", mark)))
		got := p.Run(t.Context(), []probe.Request{req(a, b, probe.ByIP, 0)})
		check(t, "a → b", got[0], want{ok: true, resolved: b.ip, method: probe.MethodHelper})
		dockertest.WaitFor(t, 30*time.Second, func() (bool, string) {
			cs := helpersLeft(t, c, mark)
			return len(cs) == 0, fmt.Sprintf("sidecars %v still there", cs)
		})
	})
}

// TestOneProbePerPair: identical requests, in one Run or in many at once,
// cost one exec and all get its result.
func TestOneProbePerPair(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	from := runBox(t, c, "from")
	to := runBox(t, c, "to")
	r := req(from, to, probe.ByIP, 0)

	t.Run("in one Run", func(t *testing.T) {
		cd := &counting{Docker: c}
		rec := &recorder{}
		p := probe.New(cd, rec.publish)
		reqs := make([]probe.Request, 20)
		for i := range reqs {
			reqs[i] = r
		}
		for i, res := range p.Run(t.Context(), reqs) {
			check(t, fmt.Sprintf("request %d", i), res, want{ok: true, resolved: to.ip, method: probe.MethodExec})
		}
		if n := cd.execs.Load(); n != 1 {
			t.Errorf("execs = %d, want 1", n)
		}
		if n := len(rec.results()); n != 20 {
			t.Errorf("published %d results, want 20", n)
		}
	})

	t.Run("in concurrent Runs", func(t *testing.T) {
		// The exec is held back so that every Run claims the pair while
		// the first probe is in flight.
		cd := &counting{Docker: c, execDelay: 500 * time.Millisecond}
		rec := &recorder{}
		p := probe.New(cd, rec.publish)
		results := make([]probe.Result, 20)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() { results[i] = p.Run(t.Context(), []probe.Request{r})[0] })
		}
		wg.Wait()
		for i, res := range results {
			check(t, fmt.Sprintf("Run %d", i), res, want{ok: true, resolved: to.ip, method: probe.MethodExec})
		}
		if n := cd.execs.Load(); n != 1 {
			t.Errorf("execs = %d, want 1", n)
		}
		if n := len(rec.results()); n != 20 {
			t.Errorf("published %d results, want 20", n)
		}
	})

	t.Run("a cancelled Run hands over", func(t *testing.T) {
		// The first Run's exec is held back long enough that the cancel
		// below lands inside it however slow the machine.
		cd := &counting{Docker: c, execDelay: time.Second}
		rec := &recorder{}
		p := probe.New(cd, rec.publish)
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		var first probe.Result
		var wg sync.WaitGroup
		wg.Go(func() { first = p.Run(ctx, []probe.Request{r})[0] })
		// Once its exec has begun, the first Run leads the pair.
		for deadline := time.Now().Add(20 * time.Second); cd.execs.Load() == 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the first Run started no exec within 20s")
			}
		}
		// The second Run joins it, and waits, before the first is cancelled.
		time.AfterFunc(100*time.Millisecond, cancel)
		second := p.Run(t.Context(), []probe.Request{r})[0]
		wg.Wait()
		if first.Failure != probe.FailImpossible || !strings.Contains(first.Detail, "cancelled") {
			t.Errorf("cancelled Run: %+v, want probe-impossible, cancelled", first)
		}
		check(t, "the Run that waited", second, want{ok: true, resolved: to.ip, method: probe.MethodExec})
		if n := cd.execs.Load(); n != 2 {
			t.Errorf("execs = %d, want 2 (the cancelled one and the hand-over)", n)
		}
		if got := rec.results(); len(got) != 1 || !got[0].OK {
			t.Errorf("published %+v, want only the second Run's result", got)
		}
	})
}

// TestConcurrencyBound: with a bound of 1, execs never overlap.
func TestConcurrencyBound(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	var boxes []box
	for range 4 {
		boxes = append(boxes, runBox(t, c, "n"))
	}
	g := &gauge{Docker: c}
	p := probe.New(g, nil, probe.WithConcurrency(1), probe.WithBatch(0))
	var reqs []probe.Request
	for _, a := range boxes {
		for _, b := range boxes {
			if a.id != b.id {
				reqs = append(reqs, req(a, b, probe.ByIP, 0))
			}
		}
	}
	for i, res := range p.Run(t.Context(), reqs) {
		check(t, fmt.Sprintf("request %d", i), res, want{ok: true, resolved: reqs[i].Target, method: probe.MethodExec})
	}
	if m := g.max.Load(); m != 1 {
		t.Errorf("most execs in flight = %d, want 1", m)
	}
}

// gauge records the most engine calls in flight at once.
type gauge struct {
	probe.Docker
	now, max atomic.Int64
}

func (g *gauge) Exec(ctx context.Context, id string, argv []string, user string) (docker.ExecResult, error) {
	n := g.now.Add(1)
	defer g.now.Add(-1)
	for {
		m := g.max.Load()
		if n <= m || g.max.CompareAndSwap(m, n) {
			break
		}
	}
	return g.Docker.Exec(ctx, id, argv, user)
}

// BenchmarkMatrix10 and BenchmarkMatrix30 probe every ordered pair of N
// running containers on one user-defined network, by IP and by name
// (2·N·(N−1) probes), and report the time of one whole matrix.
//
// "sidecar" is the default: one exec per source into a sidecar kept from
// the round before (watch mode); its first round, which starts the
// sidecars, is reported as cold-ms. "one-shot" starts a helper container
// per source every round; "exec" runs each probe with the source's own
// ping, one exec per probe.
func BenchmarkMatrix10(b *testing.B) {
	b.Run("sidecar", func(b *testing.B) { benchMatrix(b, 10) })
	b.Run("one-shot", func(b *testing.B) { benchMatrix(b, 10, probe.WithSidecars(0)) })
	b.Run("exec", func(b *testing.B) { benchMatrix(b, 10, probe.WithBatch(0)) })
}

func BenchmarkMatrix30(b *testing.B) {
	b.Run("sidecar", func(b *testing.B) { benchMatrix(b, 30) })
	b.Run("one-shot", func(b *testing.B) { benchMatrix(b, 30, probe.WithSidecars(0)) })
}

func benchMatrix(b *testing.B, n int, opts ...probe.Option) {
	c := engine(b)
	net := dockertest.CreateNetwork(b, c, "")
	boxes := make([]box, n)
	for i := range boxes {
		boxes[i] = runBox(b, c, "m", dockertest.WithNetwork(net))
	}
	var reqs []probe.Request
	for _, from := range boxes {
		for _, to := range boxes {
			if from.id != to.id {
				reqs = append(reqs, req(from, to, probe.ByIP, 0), req(from, to, probe.ByName, 0))
			}
		}
	}
	// The probe image is made outside the timing.
	if _, err := c.HelperImage(context.Background()); err != nil {
		b.Fatal(err)
	}
	p := newProber(b, c, nil, opts...)
	cold := time.Now()
	if err := allOK(p.Run(context.Background(), reqs)); err != nil {
		b.Fatal(err)
	}
	coldMs := float64(time.Since(cold).Milliseconds())
	start := time.Now()
	rounds := 0
	for b.Loop() {
		if err := allOK(p.Run(context.Background(), reqs)); err != nil {
			b.Fatal(err)
		}
		rounds++
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(rounds), "ms/matrix")
	b.ReportMetric(float64(len(reqs)), "probes/matrix")
	// After the loop: b.Loop drops metrics reported before it.
	b.ReportMetric(coldMs, "cold-ms")
}

func allOK(rs []probe.Result) error {
	var errs []error
	for _, r := range rs {
		if !r.OK {
			errs = append(errs, fmt.Errorf("%s → %s by %s: %s %s", r.From[:12], r.Target, r.By, r.Failure, r.Detail))
		}
	}
	return errors.Join(errs...)
}
