// Package docker is dockmap's adapter to the Docker engine and the only
// package that imports the Docker SDK, so that a move to the moby/moby
// modules touches this package alone.
//
// It connects the way the docker CLI does (DOCKER_HOST, DOCKER_TLS_VERIFY,
// DOCKER_CERT_PATH, API version negotiation), lists what the engine has in
// three calls, watches events, and runs the few actions dockmap needs.
// Every error it returns wraps one of the sentinels in package topology
// when the engine's answer maps to one.
//
// # Concurrency
//
// A Client is safe for concurrent use. ListInventory keeps a small cache of
// what one inspect per container told (its --volumes-from, and its aliases
// until its endpoints change), guarded by a mutex (see aliases.go). Re-creates and
// link changes lock the container (by ID and name) for their whole run, so
// a second one on the same container fails at once with ErrBusy
// (recreate.go). What it knows of its own helpers (the helper image, the
// helper containers it started, the leases it holds) is guarded by mutexes
// of their own (probeimage.go, helper_hidden.go, lease.go). Concurrent
// disk-usage requests share one engine call (volumes.go).
package docker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"

	"github.com/dockmap/dockmap/internal/topology"
)

// Client talks to one Docker engine.
type Client struct {
	api *client.Client

	// The SDK negotiates the API version lazily inside every request and
	// races with itself while the engine is down (each request re-pings
	// and writes the version). ready negotiates once, under negMu, before
	// any other call reaches the SDK.
	negMu      sync.Mutex
	negotiated atomic.Bool

	mu        sync.Mutex               // protects inspected
	inspected map[string]inspectRecord // container ID → what its inspect told (aliases.go)

	rec recreateState // containers being re-created or re-linked (recreate.go)

	// allowDangerous lets re-creates carry specs that give a container
	// the host (WithDangerousSpecs, danger.go). Set once by New.
	allowDangerous bool

	helper  *helperImage   // the helper binary and its image (probeimage.go)
	helpers helperRecord   // helper containers this client started (helper_hidden.go)
	leases  leaseRecord    // leases this client holds (lease.go)
	du      diskUsageShare // the disk-usage call in flight, shared (volumes.go)

	// instance tells this client's journals from other dockmaps' on the
	// same engine (journal.go).
	instance string
}

// Option changes how New connects and what the client allows.
type Option func(*options)

// options is what the Options of New set.
type options struct {
	copts          []client.Opt
	allowDangerous bool
	helperBin      string
}

// WithHost connects to the given daemon address ("unix:///path",
// "tcp://host:port") instead of the one in DOCKER_HOST.
func WithHost(host string) Option {
	return func(o *options) { o.copts = append(o.copts, client.WithHost(host)) }
}

// WithHTTPClient uses the given HTTP client (tests use it to go through a
// proxy that can be cut).
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) { o.copts = append(o.copts, client.WithHTTPClient(hc)) }
}

// New returns a client configured from the environment like the docker CLI.
// It does not contact the engine: an unreachable engine is reported by the
// first call, so dockmap can start and serve while the engine is down.
func New(opts ...Option) (*Client, error) {
	o := options{copts: []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}}
	for _, opt := range opts {
		opt(&o)
	}
	api, err := client.NewClientWithOpts(o.copts...)
	if err != nil {
		return nil, fmt.Errorf("configure docker client: %w", err)
	}
	return &Client{
		api: api, inspected: make(map[string]inspectRecord), allowDangerous: o.allowDangerous,
		helper: newHelperImage(o.helperBin), instance: randomHex(8),
	}, nil
}

// Close releases the client's idle connections.
func (c *Client) Close() error { return c.api.Close() }

// ready negotiates the API version on first use, and again after every
// failed attempt, so calls made while the engine is down fail fast with
// ErrEngineUnreachable.
func (c *Client) ready(ctx context.Context) error {
	if c.negotiated.Load() {
		return nil
	}
	c.negMu.Lock()
	defer c.negMu.Unlock()
	if c.negotiated.Load() {
		return nil
	}
	ping, err := c.api.Ping(ctx)
	if err != nil {
		return translate("connect to engine", err)
	}
	c.api.NegotiateAPIVersionPing(ping)
	c.negotiated.Store(true)
	return nil
}

// Host is the daemon address the client talks to.
func (c *Client) Host() string { return c.api.DaemonHost() }

// Version asks the engine for its version; it is also how dockmap checks
// that the engine answers.
func (c *Client) Version(ctx context.Context) (version, apiVersion string, err error) {
	if err := c.ready(ctx); err != nil {
		return "", "", err
	}
	v, err := c.api.ServerVersion(ctx)
	if err != nil {
		return "", "", translate("engine version", err)
	}
	return v.Version, v.APIVersion, nil
}

// translate wraps an SDK error with the step that failed and the matching
// topology sentinel, keeping the engine's own message for the user.
func translate(step string, err error) error {
	if err == nil {
		return nil
	}
	var sentinel error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: %w", step, err)
	case client.IsErrConnectionFailed(err), isTransport(err):
		sentinel = topology.ErrEngineUnreachable
	case cerrdefs.IsNotFound(err):
		sentinel = topology.ErrNotFound
	case cerrdefs.IsConflict(err):
		sentinel = topology.ErrConflict
	case cerrdefs.IsInvalidArgument(err):
		sentinel = topology.ErrInvalid
	case cerrdefs.IsInternal(err) || cerrdefs.IsUnavailable(err):
		// The engine answered with a reason ("Cannot link to a non
		// running container", "port is already allocated"): a refusal
		// given the state of things, not a fault of dockmap's.
		sentinel = topology.ErrConflict
	default:
		return fmt.Errorf("%s: %w", step, err)
	}
	return fmt.Errorf("%s: %w: %s", step, sentinel, err.Error())
}

// isTransport recognises errors below HTTP (refused, reset, EOF on dial)
// that the SDK does not always wrap as a connection failure. An answer of
// the engine's is never one, whatever it says: "connection refused" from
// a registry the engine could not reach is the engine speaking
// (TestPullFromAnUnreachableRegistry).
func isTransport(err error) bool {
	msg := err.Error()
	if strings.Contains(msg, "Error response from daemon") {
		return false
	}
	for _, s := range []string{"connection refused", "no such file or directory", "connection reset", "broken pipe", "EOF", "i/o timeout"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// shortID is the 12-character form the engine and the CLI show.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
