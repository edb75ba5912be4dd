package server

import (
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"
)

// crossOrigin is the standard library's CSRF defence (Go 1.25): it allows
// safe methods, then requires Sec-Fetch-Site same-origin (or none), or an
// Origin whose host is the request's Host. The Host allowlist runs first,
// so a rebound DNS name cannot make a foreign origin look local.
var crossOrigin = http.NewCrossOriginProtection()

// mutationGuard protects every route that changes something: no
// cross-origin browser request gets through, and a body must be JSON. A plain
// HTML form (which needs no CORS preflight) can send neither, so a page on
// another site cannot drive dockmap.
func mutationGuard(src LiveSource) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
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
			err := next(c)
			// Removing a legacy link, for one, makes no engine event: re-list
			// after every change so the map never waits for one.
			src.Refresh()
			return err
		}
	}
}
