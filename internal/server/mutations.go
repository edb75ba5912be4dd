package server

import (
	"log/slog"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"
)

// audit records one change asked of dockmap: who (client address), what
// (method and route with its parameters; never the query string or body,
// which could hold secrets), and the result. Every mutation reaches it,
// refused ones included, so the log is a complete trail.
func audit(log *slog.Logger, c echo.Context, err error) {
	status := c.Response().Status
	if err != nil {
		status, _ = statusOf(err)
	}
	attrs := []any{"remote", c.RealIP(), "method", c.Request().Method, "route", c.Path(), "status", status}
	for _, name := range c.ParamNames() {
		attrs = append(attrs, "param."+name, c.Param(name))
	}
	if err != nil {
		attrs = append(attrs, "err", err.Error())
	}
	log.Info("audit", attrs...)
}

// crossOrigin is the standard library's CSRF defence (Go 1.25): it allows
// safe methods, then requires Sec-Fetch-Site same-origin (or none), or an
// Origin whose host is the request's Host. The Host allowlist runs first,
// so a rebound DNS name cannot make a foreign origin look local.
var crossOrigin = http.NewCrossOriginProtection()

// mutationGuard protects every route that changes something: no
// cross-origin browser request gets through, and a body must be JSON. A plain
// HTML form (which needs no CORS preflight) can send neither, so a page on
// another site cannot drive dockmap.
func mutationGuard(src LiveSource, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			// Refused requests are part of the trail too.
			defer func() { audit(log, c, err) }()
			req := c.Request()
			if err := crossOrigin.Check(req); err != nil {
				return echo.NewHTTPError(http.StatusForbidden, "cross-origin request refused")
			}
			if req.ContentLength != 0 || req.Header.Get(echo.HeaderContentType) != "" {
				mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
				if err != nil || mt != echo.MIMEApplicationJSON {
					return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the request body as application/json")
				}
			}
			err = next(c)
			// Removing a legacy link, for one, makes no engine event: re-list
			// after every change so the map never waits for one.
			src.Refresh()
			return err
		}
	}
}
