package server

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/web/templates"
)

// roleKey is where authorize leaves the caller's role in the echo.Context.
const roleKey = "dockmap.role"

// roleOf returns the role authorize found for this request.
func roleOf(c echo.Context) auth.Role {
	r, _ := c.Get(roleKey).(auth.Role)
	return r
}

// routeKey identifies a route by method and Echo path pattern.
type routeKey struct{ method, path string }

// authorize is the one gate every request passes after routing: it finds
// the caller's role (a Bearer token or the session cookie; with access
// control off, every local caller is an operator), looks the route up in
// the table and refuses what the role may not do. A route missing from the
// table needs a viewer and can never act: default deny. Every request to a
// mutating route leaves an audit entry, refused ones included.
// With --read-only, or in a replay of a recording (dockmap --replay),
// every operator route is refused for everyone, each with its reason.
func authorize(table []Route, a *auth.Auth, readOnly bool, replay *Replay, trail *auditTrail) echo.MiddlewareFunc {
	declared := make(map[routeKey]Route, len(table))
	for _, r := range table {
		declared[routeKey{r.Method, r.Path}] = r
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			req := c.Request()
			route, ok := declared[routeKey{req.Method, c.Path()}]
			if !ok && req.Method == http.MethodHead {
				route, ok = declared[routeKey{http.MethodGet, c.Path()}]
			}
			if !ok {
				route = Route{Role: auth.Viewer}
			}
			if ok && route.mutates() {
				defer func() { trail.record(c, err) }()
			}

			role := auth.Operator
			switch {
			case a == nil:
			case route.Role == Public:
				role = a.PublicRequest(req, c.RealIP())
			default:
				var cerr error
				role, cerr = a.Request(req, c.RealIP())
				if errors.Is(cerr, auth.ErrLimited) {
					// A wrong credential past its client's budget: "slow
					// down" rather than "wrong". A right one never gets here.
					setRetryAfter(c, a)
					return echo.NewHTTPError(http.StatusTooManyRequests, cerr.Error())
				}
			}
			acc := templates.Access{Role: role.String(), CanAct: role == auth.Operator && !readOnly && replay == nil, SignedIn: a != nil && role != auth.Anonymous}
			// The page offers logs to whom their route lets in.
			logs := declared[routeKey{http.MethodGet, logsPath}]
			acc.CanReadLogs = replay == nil && logs.Role <= role && !(logs.Role == auth.Operator && readOnly)
			c.Set(roleKey, role)
			c.SetRequest(req.WithContext(templates.WithAccess(req.Context(), acc)))

			switch {
			case route.Role == Public:
			case role == auth.Anonymous:
				return refuseAnonymous(c)
			case route.Role == auth.Operator && replay != nil:
				return echo.NewHTTPError(http.StatusForbidden, "this is a read-only replay of "+replay.File+": nothing can be changed")
			case route.Role == auth.Operator && readOnly:
				return echo.NewHTTPError(http.StatusForbidden, "dockmap runs with --read-only: nothing can be changed")
			case route.Role > role:
				return echo.NewHTTPError(http.StatusForbidden, "your role is "+role.String()+": only an operator may do this")
			}
			return next(c)
		}
	}
}

// refuseAnonymous sends a browser to the login page and tells a script
// how to authenticate.
func refuseAnonymous(c echo.Context) error {
	req := c.Request()
	if req.Method == http.MethodGet && !strings.HasPrefix(req.URL.Path, "/api/") && req.URL.Path != "/live" &&
		strings.Contains(req.Header.Get(echo.HeaderAccept), "text/html") {
		if req.Header.Get("Sec-Fetch-Site") == "cross-site" && req.URL.Path == "/" {
			// A login link opened from another site (a chat, a slide):
			// /login's 303 leads here in the same cross-site navigation,
			// and browsers keep SameSite=Strict cookies out of it. Loading
			// the page again from here is same-site, so the cookie /login
			// just set comes along; without one, that second request is
			// sent to /login as usual.
			return render(c, http.StatusUnauthorized, templates.ReloadPage())
		}
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="dockmap"`)
	return echo.NewHTTPError(http.StatusUnauthorized, "sign in first: open the login URL dockmap printed at start, or send Authorization: Bearer <token>")
}

// session is the body of GET /api/session.
type session struct {
	Role          string `json:"role"`
	AccessControl bool   `json:"accessControl"`
	ReadOnly      bool   `json:"readOnly"`
	CanAct        bool   `json:"canAct"`
}

// handleSession serves "GET /api/session": who the caller is to dockmap.
// The page asks it when its live connection fails (a 401 means signed
// out); a script can check its token with it.
func handleSession(accessControl, readOnly bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		noStore(c)
		r := roleOf(c)
		return c.JSON(http.StatusOK, session{Role: r.String(), AccessControl: accessControl, ReadOnly: readOnly,
			CanAct: r == auth.Operator && !readOnly})
	}
}

// setRetryAfter says when a braked client may try again.
func setRetryAfter(c echo.Context, a *auth.Auth) {
	wait := a.Limiter().RetryAfter(c.RealIP())
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)+1))
}
