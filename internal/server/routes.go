package server

import (
	"github.com/dockmap/dockmap/web/templates"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/plan"
)

// Public routes need no credential: the login page and the files every
// page loads, and a health check that says only "up" to strangers.
const Public = auth.Anonymous

// Route is one URL dockmap serves and the least role that may use it.
type Route struct {
	Method string
	Path   string
	Role   auth.Role
	// Session marks the two non-GET routes that change only the caller's
	// own cookie (log in, log out), not the engine.
	Session bool
	// EngineFree marks an action that changes nothing on the engine (a
	// login code): no re-list follows it.
	EngineFree bool
	handler    echo.HandlerFunc
}

// mutates reports whether the route may change the engine: every non-GET
// route but the two session ones. Each gets mutationGuard and an audit
// entry.
func (r Route) mutates() bool { return r.Method != http.MethodGet && !r.Session }

// routes is the one list of every URL dockmap serves, each with its role.
// Nothing is registered any other way, and a request whose route is not in
// this table is refused (routeTable, authorize): default deny.
func routes(d Deps, trail *auditTrail) []Route {
	pl := plan.New(plan.Options{AllowBinds: d.AllowBinds, AllowDangerous: d.AllowDangerous})
	jd := jobDeps{src: d.Live, r: d.Recreator, jobs: d.Jobs}
	w := newWatchers(d.Publisher, watchersDelay)
	return []Route{
		{Method: "GET", Path: "/login", Role: Public, Session: true, handler: handleLoginPage(d.Auth, d.Logger)},
		{Method: "POST", Path: "/login", Role: Public, Session: true, handler: handleLoginForm(d.Auth, d.Logger)},
		// An invite's link: like a login link, it only sets the caller's
		// own cookie.
		{Method: "GET", Path: "/join", Role: Public, Session: true, handler: handleJoin(d.Auth, d.Logger)},
		{Method: "POST", Path: "/logout", Role: auth.Viewer, Session: true, handler: handleLogout()},
		{Method: "GET", Path: "/static/*", Role: Public, handler: handleStatic(d.Static)},
		{Method: "GET", Path: "/healthz", Role: Public, handler: handleHealthz(d.Live)},
		// Metrics say what runs and how much, not what is on the map:
		// viewers', or everyone's with --metrics-public.
		{Method: "GET", Path: "/metrics", Role: metricsRole(d.MetricsPublic), handler: handleMetrics(d.Metrics)},

		{Method: "GET", Path: "/", Role: auth.Viewer, handler: handleTopologyPage(d.Live, d.AssetVersion, d.readOnly())},
		{Method: "GET", Path: "/api/graph", Role: auth.Viewer, handler: handleGraphJSON(d.Live)},
		{Method: "GET", Path: "/api/engines", Role: auth.Viewer, handler: handleEngines(d.Engines)},
		{Method: "GET", Path: "/api/swarm", Role: auth.Viewer, handler: handleSwarm(d.EngineClients, d.Engines)},
		{Method: "GET", Path: "/api/session", Role: auth.Viewer, handler: handleSession(d.Auth != nil, d.readOnly())},
		{Method: "GET", Path: "/live", Role: auth.Viewer, handler: handleLive(d.Live, d.Auth, w, d.LessonLive, d.Observer, d.Logger, d.PongWait, d.PingPeriod)},
		{Method: "GET", Path: "/panel/container/:id", Role: auth.Viewer, handler: withShellFlag(d.Shell, handleContainerPanel(d.Live, len(d.AllowBinds) > 0))},
		{Method: "GET", Path: "/panel/volume/:id", Role: auth.Viewer, handler: handleVolumePanel(d.Live)},
		{Method: "GET", Path: "/panel/bind/:id", Role: auth.Viewer, handler: handleBindPanel(d.Live)},
		{Method: "GET", Path: "/panel/network/:id", Role: auth.Viewer, handler: handleNetworkPanel(d.Live)},
		{Method: "GET", Path: "/panel/ghost/:id", Role: auth.Viewer, handler: handleGhostPanel(d.Live)},
		{Method: "GET", Path: "/panel/service/:id", Role: auth.Viewer, handler: handlePanel(d.Live, "sv:", "Swarm service", templates.NewServicePanelView, templates.ServicePanel)},
		{Method: "GET", Path: "/panel/swarm-node/:id", Role: auth.Viewer, handler: handlePanel(d.Live, "sn:", "Swarm node", templates.NewSwarmNodePanelView, templates.SwarmNodePanel)},
		{Method: "GET", Path: "/panel/task/:id", Role: auth.Viewer, handler: handlePanel(d.Live, "t:", "Swarm task", templates.NewTaskPanelView, templates.TaskPanel)},
		{Method: "GET", Path: "/api/networks/:id", Role: auth.Viewer, handler: handleNetworkDetail(d.Live, d.Networks)},
		{Method: "GET", Path: "/api/reach", Role: auth.Viewer, handler: handleReach(d.Live)},
		// Every pair of many containers in one answer: a matrix's
		// predictions without a request per pair.
		{Method: "GET", Path: "/api/reach/matrix", Role: auth.Viewer, handler: compressed(handleReachMatrix(d.Live))},
		{Method: "GET", Path: "/api/volumes/:name", Role: auth.Viewer, handler: handleVolumeDetail(d.Live)},
		{Method: "GET", Path: "/api/probes/latest", Role: auth.Viewer, handler: handleLatestProbes(d.LessonLive)},
		{Method: "GET", Path: "/api/lessons", Role: auth.Viewer, handler: handleLessons(d.Lessons)},
		{Method: "GET", Path: "/api/lessons/:id", Role: auth.Viewer, handler: handleLesson(d.LessonLive)},
		{Method: "GET", Path: "/api/lessons/:id/progress", Role: auth.Viewer, handler: handleLessonProgress(d.LessonLive)},
		// The session's recording: what the page's timeline scrubs, and
		// the file a replay opens. Audit frames go to operators only.
		{Method: "GET", Path: "/api/timeline", Role: auth.Viewer, handler: handleTimeline(d.Timeline)},
		{Method: "GET", Path: "/api/timeline/at", Role: auth.Viewer, handler: handleTimelineAt(d.Timeline)},
		{Method: "GET", Path: "/api/timeline/export", Role: auth.Viewer, handler: handleTimelineExport(d.Timeline, d.Logger)},
		{Method: "GET", Path: "/api/mode", Role: auth.Viewer, handler: handleMode(d.Replay, d.Timeline)},

		// Reads that only the forms of an operator use, or that show what
		// an operator is about to change.
		{Method: "GET", Path: "/api/images", Role: auth.Operator, handler: handleListImages(d.Engine)},
		{Method: "GET", Path: "/api/links/plan", Role: auth.Operator, handler: handleLinkPlan(jd, pl)},
		{Method: "GET", Path: "/api/plan/:action", Role: auth.Operator, handler: handlePlan(jd, pl)},
		// Logs can hold secrets: operators', and viewers' too with --viewer-logs.
		{Method: "GET", Path: logsPath, Role: logsRole(d.ViewerLogs), handler: handleContainerLogs(d.Live, d.Engine, d.Closing)},
		{Method: "GET", Path: "/api/containers/:id/recreate-preview", Role: auth.Operator, handler: handleRecreatePreview(d.Live, d.Recreator)},
		{Method: "GET", Path: "/api/recreate/leftovers", Role: auth.Operator, handler: handleLeftovers(d.Recreator)},
		// Jobs say what is being changed and by whom: operators only.
		{Method: "GET", Path: "/api/jobs", Role: auth.Operator, handler: handleJobs(d.Jobs, d.Recreator)},
		{Method: "GET", Path: "/api/jobs/:id", Role: auth.Operator, handler: handleJob(d.Jobs, d.Recreator)},
		// Measuring a volume makes the engine add up every volume's files
		// (docker system df -v): too heavy to leave to every viewer.
		{Method: "GET", Path: "/api/volumes/:name/usage", Role: auth.Operator, handler: handleVolumeUsage(d.Live, d.Volumes)},
		{Method: "GET", Path: "/api/audit", Role: auth.Operator, handler: handleAudit(trail)},
		{Method: "GET", Path: "/api/invites", Role: auth.Operator, handler: handleInvites(d.Auth)},
		// A Compose file of containers carries their env word for word,
		// and env holds passwords and tokens that the map never shows a
		// viewer: operators only.
		{Method: "GET", Path: exportPath, Role: auth.Operator, handler: handleExportCompose(d.Exporter)},
		// A root shell in a container (--shell): a WebSocket, audited by
		// its handler at its start and end (shell.go).
		{Method: "GET", Path: "/api/containers/:id/shell", Role: auth.Operator, handler: handleShell(shellConfig{on: d.Shell, shells: d.Shells, src: d.Live, trail: trail,
			engine: d.Name, idle: d.ShellIdle, pongWait: d.PongWait, pingPeriod: d.PingPeriod, log: d.Logger})},

		// Everything below changes something: POST or DELETE only, operators
		// only, same origin only, JSON bodies only (mutationGuard).
		{Method: "POST", Path: "/api/containers", Role: auth.Operator, handler: handleRunContainer(d.Live, pl, d.Engine)},
		{Method: "POST", Path: "/api/containers/:id/:action", Role: auth.Operator, handler: handleContainerAction(d.Live, pl, d.Engine, d.Recreator)},
		{Method: "DELETE", Path: "/api/containers/:id", Role: auth.Operator, handler: handleRemoveContainer(d.Live, pl, d.Engine, d.Recreator)},
		{Method: "POST", Path: "/api/images/pull", Role: auth.Operator, handler: handlePullImage(d.Engine, d.Jobs)},
		{Method: "POST", Path: "/api/links", Role: auth.Operator, handler: handleAddLink(jd, pl)},
		{Method: "DELETE", Path: "/api/links", Role: auth.Operator, handler: handleRemoveLink(jd, pl)},
		{Method: "POST", Path: "/api/links/repair", Role: auth.Operator, handler: handleRepairLink(jd, pl)},
		{Method: "POST", Path: "/api/recreate/leftovers/:id/:action", Role: auth.Operator, handler: handleLeftoverAction(d.Live, d.Recreator)},
		{Method: "POST", Path: "/api/jobs/:id/:action", Role: auth.Operator, handler: handleJobAction(d.Live, d.Jobs, d.Recreator)},
		{Method: "POST", Path: "/api/networks", Role: auth.Operator, handler: handleCreateNetwork(d.Live, pl, d.Networks)},
		{Method: "DELETE", Path: "/api/networks/:id", Role: auth.Operator, handler: handleRemoveNetwork(d.Live, pl, d.Networks)},
		{Method: "POST", Path: "/api/networks/:id/connect", Role: auth.Operator, handler: handleConnect(d.Live, pl, d.Networks)},
		{Method: "POST", Path: "/api/networks/:id/disconnect", Role: auth.Operator, handler: handleDisconnect(d.Live, pl, d.Networks)},
		{Method: "POST", Path: "/api/volumes", Role: auth.Operator, handler: handleCreateVolume(d.Live, pl, d.Volumes)},
		{Method: "DELETE", Path: "/api/volumes/:name", Role: auth.Operator, handler: handleRemoveVolume(d.Live, pl, d.Volumes)},
		// A Swarm's services and nodes, through the manager that reported them.
		{Method: "POST", Path: "/api/services/:id/scale", Role: auth.Operator, handler: handleScaleService(d.Live, pl, d.SwarmActors)},
		{Method: "POST", Path: "/api/swarm-nodes/:id/availability", Role: auth.Operator, handler: handleNodeAvailability(d.Live, pl, d.SwarmActors)},
		{Method: "POST", Path: "/api/containers/:id/mounts", Role: auth.Operator, handler: handleAddMount(jd, pl)},
		// Probes and share tests exec into containers, so they are actions too.
		{Method: "POST", Path: "/api/volumes/:name/share-test", Role: auth.Operator, handler: handleShareTest(d.Live, d.Volumes, d.Publisher)},
		{Method: "POST", Path: "/api/probes", Role: auth.Operator, handler: handleProbes(d.Live, d.Prober, d.LessonLive, d.probers)},
		// A one-use login link for someone else: a credential, so an action.
		{Method: "POST", Path: "/api/login-codes", Role: auth.Operator, EngineFree: true, handler: handleMintLoginCode(d.Auth, d.Logger)},
		// A class's viewer invite, and its end (which signs its viewers out).
		{Method: "POST", Path: "/api/invites", Role: auth.Operator, EngineFree: true, handler: handleMintInvite(d.Auth, d.Logger)},
		{Method: "DELETE", Path: "/api/invites/:id", Role: auth.Operator, EngineFree: true, handler: handleEndInvite(d.Auth, d.Logger)},
	}
}

// registerRoutes registers the table and nothing else.
func registerRoutes(e *echo.Echo, table []Route, d Deps) {
	for _, r := range table {
		var mw []echo.MiddlewareFunc
		if r.Method != http.MethodGet {
			// Logging in and out too: no other site may set or clear
			// the session.
			mw = append(mw, sameOrigin)
		}
		if r.mutates() {
			mw = append(mw, mutationGuard(d.Live, !r.EngineFree))
		}
		e.Add(r.Method, r.Path, r.handler, mw...)
	}
	e.RouteNotFound("/*", func(c echo.Context) error { return echo.NewHTTPError(http.StatusNotFound, "no such page") })
}

// RouteTable lists every declared route without its handler, for audits
// of who may do what.
func RouteTable() []Route {
	table := routes(Deps{}, nil)
	for i := range table {
		table[i].handler = nil
	}
	return table
}

func metricsRole(public bool) auth.Role {
	if public {
		return Public
	}
	return auth.Viewer
}

// handleMetrics serves "GET /metrics" in Prometheus's format.
func handleMetrics(h http.Handler) echo.HandlerFunc {
	return func(c echo.Context) error {
		if h == nil {
			return echo.NewHTTPError(http.StatusNotFound, "no metrics here")
		}
		h.ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
