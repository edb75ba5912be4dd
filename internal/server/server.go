// Package server wires dockmap's HTTP side with Echo: the page, the JSON
// API, the /live WebSocket and the static files. Every URL is listed in
// routes.go; every error goes through errorHandler (errors.go).
//
// # Security
//
// The process holds the Docker socket, so whoever drives it is root on the
// host. Every request's Host must be on the allowlist (DNS rebinding), the
// WebSocket upgrade must come from the same origin, responses carry a strict
// CSP and the usual headers, and Docker-provided text is only ever rendered
// as text (templ escapes it; the browser code uses textContent).
//
// Who may do what is declared once per route in routes.go and enforced by
// authorize (access.go); see package auth for roles and tokens.
package server

import (
	"cmp"
	"context"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/job"
	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/timeline"
	"github.com/dockmap/dockmap/internal/topology"
)

// LiveSource is what the server needs from internal/live.
type LiveSource interface {
	// Snapshot returns the current graph, seq and engine state.
	Snapshot() topology.Snapshot
	// Subscribe subscribes to live messages and then takes a snapshot.
	Subscribe(ctx context.Context) (topology.Snapshot, *hub.Subscription)
	// Refresh asks for a re-list: some changes make no engine event.
	Refresh()
	// Sync re-lists now and returns that snapshot: a plan the map may
	// have got wrong is made again from it, and a change is answered once
	// the map has it. Errors wrap topology.ErrEngineUnreachable while the
	// engine is down.
	Sync(ctx context.Context) (topology.Snapshot, error)
}

// Deps are the server's dependencies.
type Deps struct {
	Live LiveSource
	// Engine runs the actions the buttons and the JSON API ask for.
	Engine Engine
	// Recreator carries out the plans that re-create containers or
	// re-make endpoints, and rolls back or finishes the re-creates that
	// did not finish.
	Recreator Recreator
	// Networks creates, inspects and removes networks and attaches
	// containers to them.
	Networks Networker
	// Volumes creates, measures and removes volumes, mounts them into
	// containers and tests sharing.
	Volumes Volumes
	// Prober runs reachability probes.
	Prober Prober
	// Exporter describes containers for a Compose file (none when nil:
	// the export answers 503).
	Exporter Exporter
	// Publisher sends live messages to every browser.
	Publisher Publisher
	// Jobs runs the long actions; the caller closes it when it stops.
	Jobs   *job.Registry
	Logger *slog.Logger
	// Static holds the files served under /static/ (web/static).
	Static fs.FS
	// AssetVersion busts browser caches of static files on every build.
	AssetVersion string
	// AllowedHosts are host names or IPs accepted in the Host header besides
	// the loopback names (localhost, 127.0.0.1, ::1).
	AllowedHosts []string
	// AllowBinds are the host path prefixes under which containers may get
	// bind mounts (dockmap --allow-bind); none means no binds. New panics
	// on a prefix topology.ValidateBindPrefixes refuses: run checks them
	// at start.
	AllowBinds []string
	// AllowDangerous lets actions give a container the host
	// (--allow-dangerous-specs); the engine adapter enforces the same.
	AllowDangerous bool
	// Auth checks tokens and session cookies; nil turns access control off
	// (a loopback address with no token configured): every caller is an
	// operator.
	Auth *auth.Auth
	// ReadOnly turns every action off for everyone.
	ReadOnly bool
	// PongWait is how long a silent WebSocket client is kept (60 s when 0).
	PongWait time.Duration
	// PingPeriod is how often a WebSocket client is pinged (PongWait*9/10
	// when 0). Tests with a short PongWait ping more often, so that a
	// scheduling hiccup on a busy machine does not drop a healthy client.
	PingPeriod time.Duration
	// Results keeps the latest probe results (a new store when nil).
	Results *probe.Results
	// Lessons are the lessons served (lesson.Builtin when nil).
	Lessons []lesson.Lesson
	// LessonLive follows the participants of the lessons; run it
	// (LessonLive.Run) for "lesson" frames. When set, its lessons and
	// probe results are the ones served, and Lessons and Results are not
	// used. When nil, New makes one that nothing runs: the lessons API
	// answers, and no lesson frame is ever sent.
	LessonLive *LessonLive
	// Timeline is the session's recording, served under /api/timeline
	// (an empty one when nil); the caller runs it.
	Timeline *timeline.Recorder
	// Engines lists every engine and its connection state for GET
	// /api/engines (an empty list when nil).
	Engines EngineList
	// EngineClients finds an engine's client by name for GET /api/swarm
	// (every engine unknown when nil, as in a replay).
	EngineClients EngineClients
	// Replay, when set, says that Live serves a recording rather than an
	// engine: every action is refused (403) for everyone, and the engine
	// dependencies may be nil.
	Replay *Replay
	// Others are the engines besides the default one, by name, when Live
	// is their merged map (live.Union): each with its own Live (its own
	// graph, Docker IDs as they are), Engine, Recreator, Networks,
	// Volumes and Prober. The rest (auth, jobs, publisher, settings) is
	// this Deps'. Requests that name one of their objects go to them
	// (dispatch.go).
	Others map[string]Deps
	// Name is the engine's name, on a server of Others (set by New).
	Name string
	// probers are every engine's Prober by name, on the default engine's
	// server when Others is set (New): probes are planned on the merged
	// map and run in the engine of the container they run from.
	probers map[string]Prober
	// Metrics serves GET /metrics (none when nil: 404); MetricsPublic
	// serves it to anyone, else a viewer's credential is needed.
	Metrics       http.Handler
	MetricsPublic bool
	// ViewerLogs lets viewers read containers' logs (--viewer-logs);
	// else only operators may.
	ViewerLogs bool
	// Closing is closed when dockmap shuts down: streams that would
	// never end by themselves (a followed log) end then, so that the
	// server's Shutdown need not wait for them (nil: they end with their
	// clients).
	Closing <-chan struct{}
	// Observer hears of WebSocket clients and HTTP requests, for the
	// metrics (nothing when nil).
	Observer Observer
	// SwarmActors finds the manager to scale a service or drain a node
	// through (none when nil).
	SwarmActors SwarmActors
	// Shell offers operators a terminal in a container (--shell): GET
	// /api/containers/:id/shell, opened by Shells (the engine's client),
	// closed after ShellIdle with nothing typed or printed (15 minutes
	// when 0).
	Shell     bool
	Shells    Shells
	ShellIdle time.Duration
}

// Observer hears what the metrics count at the HTTP side
// (*metrics.Metrics).
type Observer interface {
	ClientOpened()
	ClientClosed()
	// Request is one request answered: route is its pattern, never an ID.
	Request(route, method string, code int, d time.Duration)
}

// noObserver is the Observer when there are no metrics.
type noObserver struct{}

func (noObserver) ClientOpened()                              {}
func (noObserver) ClientClosed()                              {}
func (noObserver) Request(string, string, int, time.Duration) {}

// observe reports each request to o, by its route's pattern.
func observe(o Observer) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			code := c.Response().Status
			if err != nil {
				if he, ok := err.(*echo.HTTPError); ok {
					code = he.Code
				} else if s, _ := statusOf(err); s != 0 {
					code = s
				}
			}
			route := c.Path()
			if route == "" || route == "/*" {
				// Not one of the table's routes: one label for all, so
				// that made-up paths cannot grow the series.
				route = "unknown"
			}
			o.Request(route, c.Request().Method, code, time.Since(start))
			return err
		}
	}
}

// bodyLimit caps request bodies; dockmap's JSON requests are tiny.
const bodyLimit = "64K"

// New returns the HTTP handler for dockmap.
func New(d Deps) http.Handler {
	trail := newAuditTrail(d.Logger, d.Publisher)
	if d.LessonLive == nil && d.Live != nil && d.Publisher != nil {
		d.LessonLive = NewLessonLive(d.Live, d.Publisher, d.Lessons, d.Results)
	}
	others := map[string]http.Handler{}
	for name, o := range d.Others {
		// The engine's probes tick the lessons and show on the merged
		// map: they are recorded there (handleProbes).
		o.Name, o.LessonLive = name, d.LessonLive
		o.Publisher, o.Jobs, o.Logger, o.Static, o.AssetVersion = d.Publisher, d.Jobs, d.Logger.With("engine", name), d.Static, d.AssetVersion
		o.AllowedHosts, o.AllowBinds, o.AllowDangerous, o.Auth, o.ReadOnly = d.AllowedHosts, d.AllowBinds, d.AllowDangerous, d.Auth, d.ReadOnly
		o.PongWait, o.PingPeriod, o.Lessons, o.Engines, o.EngineClients = d.PongWait, d.PingPeriod, d.Lessons, d.Engines, d.EngineClients
		o.ViewerLogs, o.Closing = d.ViewerLogs, d.Closing
		o.Shell, o.ShellIdle = d.Shell, d.ShellIdle
		// The default engine's server counts every request once, the
		// dispatched ones included.
		o.Observer = nil
		o.Others = nil
		others[name] = newEcho(o, trail, nil)
	}
	if len(d.Others) > 0 {
		d.probers = map[string]Prober{}
		for name, o := range d.Others {
			d.probers[name] = o.Prober
		}
	}
	return newEcho(d, trail, others)
}

// newEcho is one engine's server; others, for the default engine's, are
// the other engines' (dispatch).
func newEcho(d Deps, trail *auditTrail, others map[string]http.Handler) *echo.Echo {
	if d.Replay != nil {
		var none replayEngine
		d.Engine, d.Recreator, d.Networks, d.Volumes, d.Prober = cmp.Or[Engine](d.Engine, none), cmp.Or[Recreator](d.Recreator, none),
			cmp.Or[Networker](d.Networks, none), cmp.Or[Volumes](d.Volumes, none), cmp.Or[Prober](d.Prober, none)
	}
	if d.Live == nil || d.Engine == nil || d.Recreator == nil || d.Networks == nil || d.Volumes == nil || d.Prober == nil || d.Publisher == nil ||
		d.Jobs == nil || d.Logger == nil || d.Static == nil {
		panic("server.New: nil dependency")
	}
	allowBinds, err := topology.ValidateBindPrefixes(d.AllowBinds)
	if err != nil {
		panic("server.New: " + err.Error())
	}
	d.AllowBinds = allowBinds
	if d.LessonLive == nil {
		d.LessonLive = NewLessonLive(d.Live, d.Publisher, d.Lessons, d.Results)
	}
	d.Lessons, d.Results = d.LessonLive.lessons, d.LessonLive.results
	if d.Timeline == nil {
		d.Timeline = timeline.New()
	}
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(d.Logger, d.Name)
	job.SetStatusFunc(func(err error) int { s, _ := statusOf(err); return s })
	// The client address keys the login brake and goes into the audit
	// trail, so it is the TCP peer: X-Forwarded-For is the client's to
	// write and would let a guesser pick a fresh address per try.
	e.IPExtractor = echo.ExtractIPDirect()
	if d.Observer == nil {
		d.Observer = noObserver{}
	}
	table := routes(d, trail)
	e.Use(
		observe(d.Observer),
		middleware.Recover(),
		hostAllowlist(d.AllowedHosts),
		secureHeaders(),
		middleware.BodyLimit(bodyLimit),
		// Before authorize: the engine's own server authorizes (and
		// audits) the request as it reaches it.
		dispatch(others, d.Live),
		requestLog(d.Logger),
		authorize(table, d.Auth, d.ReadOnly, d.Replay, trail),
	)
	registerRoutes(e, table, d)
	return e
}

// readOnly reports whether nothing can be changed, by --read-only or
// because dockmap replays a recording.
func (d Deps) readOnly() bool { return d.ReadOnly || d.Replay != nil }

// requestLog logs each request at debug level. Query strings are left out
// so that no secret passed in a URL ever reaches a log.
func requestLog(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			log.Debug("request", "method", c.Request().Method, "path", c.Request().URL.Path,
				"status", c.Response().Status, "remote", c.RealIP())
			return err
		}
	}
}
