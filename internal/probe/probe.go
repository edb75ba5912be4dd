// Package probe checks whether one container can reach another, by IP or
// by name, the way the container itself would, and says why not when it
// cannot.
//
// A probe runs inside the source container's network namespace, with its
// /etc/hosts and resolv.conf, so legacy link names, embedded DNS and
// firewall rules all count. It prefers the container's own tools: `ping`
// (or `nc` for a TCP port) started with an exec, an argv array, never a
// shell. When the container has no such tool (scratch, distroless), or
// when one source has several probes to run at once (a matrix), it uses a
// helper container in the source's namespace (`--network container:<source>`)
// from an image that holds only dockmap's own binary (and, for a build
// with cgo, its loader and shared libraries), built
// locally by the docker client (see docker.Client.HelperImage, which also
// keeps those helpers off the map), and runs `dockmap probe`
// (see Local) on every target at once. By default that helper is a
// sidecar, kept while it is used and exec'd into (see sidecar.go), since
// starting a container costs the engine ten execs.
//
// # Concurrency
//
// A Prober is safe for concurrent use; Run may be called from any number
// of goroutines. Run starts its goroutines and waits for all of them
// before it returns. The prober bounds the engine calls in flight (execs
// and helper starts) with a semaphore shared by every Run, and keeps at
// most one probe in flight per (source, target, port): a Run that asks for
// a probe another Run is already doing waits for that probe and shares its
// outcome. If the Run doing the probe is cancelled, a waiting Run whose
// own context is still live does the probe itself.
//
// Sidecars outlive Run: each has a timer that removes it once idle, and
// the removals run in goroutines that Close waits for. Call Close once,
// after the last Run has returned.
//
// publish is called once for every result, as soon as it is known, and
// never by two goroutines at once; it must not block for long, since the
// probes that finish after it wait for it.
package probe

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/topology"
)

// Failure kinds, as Result.Failure and the helper's JSON report them.
const (
	// FailName: the source could not resolve the target's name.
	FailName = "name-not-resolved"
	// FailTimeout: no answer within the timeout (a firewall, icc=false,
	// or nobody at that address).
	FailTimeout = "timeout"
	// FailNoRoute: the source has no route to the address.
	FailNoRoute = "no-route"
	// FailRefused: the target answered, but nothing listens on the port.
	FailRefused = "refused"
	// FailTargetStopped: the target container is not running.
	FailTargetStopped = "target-stopped"
	// FailImpossible: the probe could not be run at all (source stopped,
	// no tool and no helper, engine error).
	FailImpossible = "probe-impossible"
)

// Ways a target is named and ways a probe is run.
const (
	ByIP         = "ip"
	ByName       = "name"
	MethodExec   = "exec"
	MethodHelper = "helper"
)

// Defaults.
const (
	// DefaultConcurrency is how many engine calls (execs, helper runs,
	// sidecar starts) a Prober has in flight at most.
	DefaultConcurrency = 8
	// DefaultTimeout is how long a probe waits for an answer.
	DefaultTimeout = time.Second
	// DefaultBatch is how many probes from one source, in one Run, make
	// the prober run them all in one `dockmap probe` helper call instead
	// of one exec of the source's own tool each. Engine 20.10 on two cores
	// measured: an exec costs ≈ 50 ms and the execs of one container run
	// one at a time; a helper call probes every target at once for one
	// exec in a warm sidecar (≈ 25 ms of engine time) or one container
	// start (≈ 100 ms) when sidecars are off or cold. Below the threshold
	// (a single pair by IP and by name) the source's own ping is used, so
	// its failure is told in its own words.
	DefaultBatch = 3
	// callSlack is added to the probe timeout to bound each engine call:
	// a loaded engine takes a while to start an exec or a container.
	callSlack = 15 * time.Second
	// maxRemembered bounds the per-container facts the prober keeps
	// (which containers lack ping or nc -z).
	maxRemembered = 4096
)

// Request is one probe to run.
type Request struct {
	From, FromName string // full container ID and name of the prober
	To, ToName     string // full ID and name of the target container
	// By is ByIP or ByName: how Target names the target.
	By string
	// Target is the IP or name to reach, chosen by the caller from the
	// graph (never user text).
	Target string
	// Port is 0 for an ICMP ping, else the TCP port to connect to.
	Port        int
	FromRunning bool
	ToRunning   bool
}

// Result is what one probe found.
type Result struct {
	From   string `json:"from"`
	To     string `json:"to"`
	By     string `json:"by"`
	Target string `json:"target"`
	Port   int    `json:"port,omitempty"`
	OK     bool   `json:"ok"`
	// RTTms is the round-trip time in milliseconds; 0 when unknown (a TCP
	// probe run with the container's nc).
	RTTms float64 `json:"rttMs"`
	// Resolved is the address the target was reached at, when known.
	Resolved string `json:"resolved,omitempty"`
	// Failure is "" when OK, else one of the Fail* kinds.
	Failure string `json:"failure,omitempty"`
	// Detail is the tool's own words, e.g. "ping: bad address 'database'".
	Detail string `json:"detail,omitempty"`
	// Method is MethodExec or MethodHelper ("" when nothing was run).
	Method string    `json:"method,omitempty"`
	At     time.Time `json:"at"`
}

// Docker is what a Prober needs from the engine; *docker.Client has it.
type Docker interface {
	// Exec runs argv in a running container. A missing binary is not an
	// error (exit code 126 or 127); a container that is not running is
	// an error wrapping topology.ErrConflict.
	Exec(ctx context.Context, containerID string, argv []string, user string) (docker.ExecResult, error)
	// RunHelper runs argv in a helper container from image in donorID's
	// network namespace and removes it.
	RunHelper(ctx context.Context, donorID, image string, argv []string, labels map[string]string) (docker.ExecResult, error)
	// HelperImage returns the helper image (dockmap's own binary, the
	// helpers' image), making it if needed. It remembers a binary that can
	// never make one (an error wrapping topology.ErrInvalid: not an
	// executable, or a library it needs is missing),
	// and makes the image again after a helper start failed with
	// topology.ErrNotFound because the image was removed.
	HelperImage(ctx context.Context) (ref string, err error)
	// StartHelperOutput starts a long-lived helper (a sidecar) in
	// donorID's network namespace, whose argv first prints lines lines and
	// then keeps running, and returns its ID with those lines; the engine
	// removes it when argv exits. If the output ends before the lines, it
	// is an error and no helper is left.
	StartHelperOutput(ctx context.Context, donorID, image string, argv []string, labels map[string]string, lines int) (id string, out docker.ExecResult, err error)
	// RemoveHelper removes a helper StartHelper made; one already gone is
	// not an error.
	RemoveHelper(ctx context.Context, id string) error
	// ContainerStarted reports whether a container runs and when it last
	// started.
	ContainerStarted(ctx context.Context, id string) (running bool, startedAt time.Time, err error)
}

var _ Docker = (*docker.Client)(nil)

// Prober runs probes; see the package doc for its concurrency contract.
type Prober struct {
	d            Docker
	publish      func(Result)
	sem          chan struct{}
	timeout      time.Duration
	batch        int
	helperLabels map[string]string
	sidecarIdle  time.Duration
	now          func() time.Time

	pubMu sync.Mutex     // serialises publish
	wg    sync.WaitGroup // sidecar removals in the background

	mu       sync.Mutex               // protects fields below
	inflight map[key]*call            // probes running now
	lacks    map[string]int           // container ID → tools it lacks (lack* bits)
	sidecars map[string]*sidecar      // source container ID → its sidecar
	starting map[string]chan struct{} // source container ID → closed when its sidecar start ends
	closed   bool
}

// Tools a container may lack, remembered so later probes skip the exec.
const (
	lackPing = 1 << iota // no usable ping: go straight to the helper
	lackNC               // no nc at all
	lackNCz              // nc without -z (busybox): use the plain form
)

// Option changes a Prober.
type Option func(*Prober)

// WithConcurrency bounds the engine calls in flight (default
// DefaultConcurrency; values below 1 mean 1).
func WithConcurrency(n int) Option { return func(p *Prober) { p.sem = make(chan struct{}, max(n, 1)) } }

// WithTimeout sets how long a probe waits for an answer (default
// DefaultTimeout). Container tools take whole seconds, so an exec probe
// rounds it up.
func WithTimeout(d time.Duration) Option { return func(p *Prober) { p.timeout = d } }

// WithHelperLabels adds labels to every helper container (tests mark
// theirs so they can check that none is left).
func WithHelperLabels(labels map[string]string) Option {
	return func(p *Prober) { p.helperLabels = maps.Clone(labels) }
}

// WithBatch sets how many probes from one source in one Run make the
// prober use a single helper run for them (default DefaultBatch); 0
// turns batching off, so every probe is an exec when the source has the
// tool.
func WithBatch(n int) Option { return func(p *Prober) { p.batch = n } }

// WithSidecars sets how long a sidecar (a long-lived helper in a source's
// namespace, reused by every helper probe from that source) is kept after
// its last use (default DefaultSidecarIdle); 0 turns sidecars off, so that
// every helper probe starts and removes a container of its own.
func WithSidecars(idle time.Duration) Option { return func(p *Prober) { p.sidecarIdle = idle } }

// WithNow replaces the clock that stamps Result.At.
func WithNow(now func() time.Time) Option { return func(p *Prober) { p.now = now } }

// New returns a Prober that runs probes through d and passes every result
// to publish (nil: results are only returned). It panics if d is nil.
func New(d Docker, publish func(Result), opts ...Option) *Prober {
	if d == nil {
		panic("probe.New: nil Docker")
	}
	if publish == nil {
		publish = func(Result) {}
	}
	p := &Prober{
		d: d, publish: publish,
		sem:         make(chan struct{}, DefaultConcurrency),
		timeout:     DefaultTimeout,
		batch:       DefaultBatch,
		sidecarIdle: DefaultSidecarIdle,
		now:         time.Now,
		inflight:    make(map[key]*call),
		lacks:       make(map[string]int),
		sidecars:    make(map[string]*sidecar),
		starting:    make(map[string]chan struct{}),
	}
	for _, o := range opts {
		o(p)
	}
	if p.timeout <= 0 {
		p.timeout = DefaultTimeout
	}
	return p
}

// key identifies a probe for deduplication: the same source reaching the
// same address or name on the same port is the same probe, whichever
// container the caller thinks is behind it.
type key struct {
	from, target string
	port         int
}

// call is one probe in flight; done is closed once out is set.
type call struct {
	done chan struct{}
	out  outcome
}

// outcome is what running a probe found, independent of who asked.
type outcome struct {
	ok        bool
	rttMs     float64
	resolved  string
	failure   string
	detail    string
	method    string
	cancelled bool // the caller's context ended first; not a finding
}

// job is the requests of one Run that share a key.
type job struct {
	key    key
	req    Request // the first request with this key
	idx    []int   // its positions in the Run
	call   *call
	leader bool
}

// Run runs reqs and returns their results in request order. Each result
// is also passed to publish as soon as it is known, except for probes cut
// short by ctx, which are returned (failure FailImpossible) but not
// published.
func (p *Prober) Run(ctx context.Context, reqs []Request) []Result {
	results := make([]Result, len(reqs))
	jobs := make(map[key]*job)
	var order []*job
	for i, r := range reqs {
		if o, done := precheck(r); done {
			results[i] = p.result(r, o)
			p.emit(results[i])
			continue
		}
		k := key{r.From, r.Target, r.Port}
		j := jobs[k]
		if j == nil {
			j = &job{key: k, req: r}
			jobs[k] = j
			order = append(order, j)
		}
		j.idx = append(j.idx, i)
	}

	type group struct {
		from string
		port int
	}
	groups := make(map[group][]*job)
	p.mu.Lock()
	for _, j := range order {
		j.call, j.leader = p.claimLocked(j.key)
		if j.leader {
			g := group{j.key.from, j.key.port}
			groups[g] = append(groups[g], j)
		}
	}
	p.mu.Unlock()

	var wg sync.WaitGroup
	for _, js := range groups {
		if p.batch > 0 && len(js) >= p.batch {
			wg.Go(func() { p.runBatch(ctx, js) })
			continue
		}
		for _, j := range js {
			wg.Go(func() { p.finish(j, p.runOne(ctx, j.req)) })
		}
	}
	for _, j := range order {
		wg.Go(func() {
			o := p.await(ctx, j)
			for _, i := range j.idx {
				results[i] = p.result(reqs[i], o)
				if !o.cancelled {
					p.emit(results[i])
				}
			}
		})
	}
	wg.Wait()
	return results
}

// precheck settles the requests that need no probe: a stopped source or
// target, and malformed input (the caller validates, this is defence).
func precheck(r Request) (outcome, bool) {
	switch {
	case r.From == "" || r.To == "":
		return outcome{failure: FailImpossible, detail: "no source or target container"}, true
	case r.By != ByIP && r.By != ByName:
		return outcome{failure: FailImpossible, detail: fmt.Sprintf("unknown probe kind %q", r.By)}, true
	case !validTarget(r.Target):
		return outcome{failure: FailImpossible, detail: fmt.Sprintf("%q is not an address or a container name", r.Target)}, true
	case r.By == ByName && topology.LooksLikeAddress(r.Target):
		// ping and nc would read it as the address it spells and probe
		// that (a gateway, another host), not the container of that name.
		return outcome{failure: FailImpossible, detail: fmt.Sprintf("that name is an address: %q would be probed as the address it spells, not as a name", r.Target)}, true
	case r.Port < 0 || r.Port > 65535:
		return outcome{failure: FailImpossible, detail: fmt.Sprintf("port %d is out of range", r.Port)}, true
	case !r.FromRunning:
		return outcome{failure: FailImpossible, detail: name(r.FromName, r.From) + " is not running"}, true
	case !r.ToRunning:
		return outcome{failure: FailTargetStopped, detail: name(r.ToName, r.To) + " is not running"}, true
	}
	return outcome{}, false
}

// validTarget accepts IPv4 and IPv6 addresses and names made of the
// characters container names, aliases and DNS names use. Above all it
// refuses a leading '-', which a tool would read as an option.
func validTarget(s string) bool {
	if s == "" || len(s) > 253 || s[0] == '-' {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case r == '.', r == '-', r == '_', r == ':':
		default:
			return false
		}
	}
	return true
}

func name(n, id string) string {
	if n != "" {
		return n
	}
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// claimLocked returns the call in flight for k, or registers a new one and
// reports that the caller leads it. p.mu must be held.
func (p *Prober) claimLocked(k key) (c *call, leader bool) {
	if c := p.inflight[k]; c != nil {
		return c, false
	}
	c = &call{done: make(chan struct{})}
	p.inflight[k] = c
	return c, true
}

// finish records a led job's outcome and wakes everyone waiting for it.
func (p *Prober) finish(j *job, o outcome) {
	p.mu.Lock()
	if p.inflight[j.key] == j.call {
		delete(p.inflight, j.key)
	}
	p.mu.Unlock()
	j.call.out = o
	close(j.call.done)
}

// await waits for j's outcome. When the Run leading the probe was
// cancelled and ours was not, it runs the probe itself.
func (p *Prober) await(ctx context.Context, j *job) outcome {
	for {
		select {
		case <-j.call.done:
		case <-ctx.Done():
			return cancelled(ctx.Err())
		}
		o := j.call.out
		if !o.cancelled || ctx.Err() != nil || j.leader {
			return o
		}
		p.mu.Lock()
		j.call, j.leader = p.claimLocked(j.key)
		p.mu.Unlock()
		if j.leader {
			p.finish(j, p.runOne(ctx, j.req))
		}
	}
}

func cancelled(err error) outcome {
	return outcome{failure: FailImpossible, detail: "probe cancelled: " + err.Error(), cancelled: true}
}

func (p *Prober) result(r Request, o outcome) Result {
	return Result{
		From: r.From, To: r.To, By: r.By, Target: r.Target, Port: r.Port,
		OK: o.ok, RTTms: o.rttMs, Resolved: o.resolved, Failure: o.failure, Detail: o.detail,
		Method: o.method, At: p.now(),
	}
}

func (p *Prober) emit(r Result) {
	p.pubMu.Lock()
	defer p.pubMu.Unlock()
	p.publish(r)
}

// runOne runs a single probe: with the source's own tool when it has it,
// else with a helper.
func (p *Prober) runOne(ctx context.Context, r Request) outcome {
	var (
		o   outcome
		why string // why the helper is used, for its failure message
	)
	if r.Port == 0 {
		if !p.lacksTool(r.From, lackPing) {
			var fallback bool
			if o, fallback = p.execPing(ctx, r); !fallback {
				return o
			}
		}
		why = name(r.FromName, r.From) + " cannot ping"
	} else {
		if !p.lacksTool(r.From, lackNC) {
			var fallback bool
			if o, fallback = p.execNC(ctx, r); !fallback {
				return o
			}
		}
		why = name(r.FromName, r.From) + " has no nc"
	}
	if o.detail != "" {
		why += " (" + o.detail + ")"
	}
	outs, _ := p.viaHelper(ctx, r.From, r.Port, []string{r.Target}, why)
	return outs[r.Target]
}

// execPing pings with the source's own ping. fallback reports that the
// source cannot ping (no binary, no permission): o.detail says why.
func (p *Prober) execPing(ctx context.Context, r Request) (o outcome, fallback bool) {
	argv := []string{"ping", "-c", "1", "-W", p.toolSeconds(), r.Target}
	res, err := p.exec(ctx, r.From, argv, "0")
	if err != nil {
		return p.execFailure(ctx, r, err)
	}
	o, unusable := parsePing(res.ExitCode, res.Stdout+"\n"+res.Stderr)
	if unusable {
		p.remember(r.From, lackPing)
		return o, true
	}
	if o.resolved == "" && r.By == ByIP && o.ok {
		o.resolved = r.Target
	}
	o.method = MethodExec
	return o, false
}

// execNC connects with the source's own nc, first as `nc -z -v` (netcat-
// openbsd, ncat, busybox with its extras), then, if nc does not know -z
// (Debian's static busybox), as plain `nc`, which exits as soon as it is
// connected because an exec's stdin is empty.
func (p *Prober) execNC(ctx context.Context, r Request) (o outcome, fallback bool) {
	port := strconv.Itoa(r.Port)
	for {
		argv := []string{"nc", "-z", "-v", "-w", p.toolSeconds(), r.Target, port}
		plain := p.lacksTool(r.From, lackNCz)
		if plain {
			argv = []string{"nc", "-w", p.toolSeconds(), r.Target, port}
		}
		res, err := p.exec(ctx, r.From, argv, "0")
		if err != nil {
			return p.execFailure(ctx, r, err)
		}
		o, v := parseNC(res.ExitCode, res.Stdout+"\n"+res.Stderr)
		switch {
		case v == ncMissing:
			p.remember(r.From, lackNC)
			return o, true
		case v == ncNoZ && !plain:
			p.remember(r.From, lackNCz)
			continue
		case v == ncNoZ:
			return o, true
		}
		if r.By == ByIP && o.ok {
			o.resolved = r.Target
		}
		o.method = MethodExec
		return o, false
	}
}

// execFailure turns an engine error from an exec into an outcome. A
// conflict (the source stopped since the caller looked, or it has a legacy
// link to a stopped container, which blocks every exec) is worth a try
// with the helper, which needs neither.
func (p *Prober) execFailure(ctx context.Context, r Request, err error) (outcome, bool) {
	if ctx.Err() != nil {
		return cancelled(ctx.Err()), false
	}
	o := outcome{failure: FailImpossible, detail: err.Error(), method: MethodExec}
	return o, errors.Is(err, topology.ErrConflict)
}

// exec runs argv in the container as user, holding a semaphore slot. The
// container's own tools run as root ("0"), because an image's own user
// often may not open the raw socket busybox ping needs; a uid needs no
// /etc/passwd entry.
func (p *Prober) exec(ctx context.Context, id string, argv []string, user string) (docker.ExecResult, error) {
	if err := p.acquire(ctx); err != nil {
		return docker.ExecResult{}, err
	}
	defer p.release()
	cctx, cancel := context.WithTimeout(ctx, p.callTimeout())
	defer cancel()
	return p.d.Exec(cctx, id, argv, user)
}

func (p *Prober) acquire(ctx context.Context) error {
	select {
	case p.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (p *Prober) release() { <-p.sem }

// callTimeout bounds one engine call: a helper resolves a name and then
// waits for the answer, each for up to the timeout.
func (p *Prober) callTimeout() time.Duration { return 2*p.timeout + callSlack }

// toolSeconds is the timeout in the whole seconds ping -W and nc -w take.
func (p *Prober) toolSeconds() string {
	return strconv.Itoa(max(1, int(math.Ceil(p.timeout.Seconds()))))
}

func (p *Prober) lacksTool(id string, bit int) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lacks[id]&bit != 0
}

func (p *Prober) remember(id string, bit int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.lacks) >= maxRemembered {
		clear(p.lacks) // container IDs are never reused; old ones are mostly gone
	}
	p.lacks[id] |= bit
}

// probeImage returns the helper image, which the docker client makes on
// first use and remembers (or remembers why it cannot).
func (p *Prober) probeImage(ctx context.Context) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, callSlack+time.Minute)
	defer cancel()
	return p.d.HelperImage(cctx)
}
