package server

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/web/templates"

	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// apiError is the JSON body of every error answer; Plan is the plan the
// error is about, when there is one (428 confirm needed, 409 the plan
// changed).
type apiError struct {
	Error  string     `json:"error"`
	Detail string     `json:"detail,omitempty"`
	Plan   *plan.Plan `json:"plan,omitempty"`
}

// statusOf maps an error to its HTTP status and a short title.
func statusOf(err error) (int, string) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he.Code, http.StatusText(he.Code)
	}
	var pe *planError
	if errors.As(err, &pe) {
		return pe.status, http.StatusText(pe.status)
	}
	if status, title, ok := sentinelOf(err); ok {
		return status, title
	}
	return http.StatusInternalServerError, "internal error"
}

// sentinelOf maps the topology sentinels to a status and a title.
func sentinelOf(err error) (int, string, bool) {
	switch {
	case errors.Is(err, topology.ErrForbidden):
		return http.StatusForbidden, "forbidden", true
	case errors.Is(err, topology.ErrInvalid):
		return http.StatusBadRequest, "invalid input", true
	case errors.Is(err, topology.ErrNotFound):
		return http.StatusNotFound, "not found", true
	case errors.Is(err, topology.ErrConflict):
		return http.StatusConflict, "conflict", true
	case errors.Is(err, topology.ErrEngineUnreachable):
		return http.StatusServiceUnavailable, "engine unreachable", true
	}
	return 0, "", false
}

// errorDetail is the sentence an answer gives for err.
func errorDetail(err error) string {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		if m, ok := he.Message.(string); ok {
			return m
		}
	}
	return err.Error()
}

// errorHandler is the one place errors become responses: JSON for API
// clients, a fragment for the page's panel fetches (HX-Request), a page for
// browsers. Only 5xx are logged.
func errorHandler(log *slog.Logger, engine string) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		status, title := statusOf(err)
		detail := errorDetail(err)
		if engine != "" {
			// With several engines, an error says which one it is from.
			detail = "engine " + engine + ": " + detail
		}
		if status >= 500 {
			log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "status", status, "err", err)
		}
		var werr error
		req := c.Request()
		switch {
		case req.Method == http.MethodHead:
			werr = c.NoContent(status)
		case strings.HasPrefix(req.URL.Path, "/api/") || strings.Contains(req.Header.Get(echo.HeaderAccept), "application/json"):
			body := apiError{Error: title, Detail: detail}
			var pe *planError
			if errors.As(err, &pe) {
				body.Plan = pe.plan
			}
			werr = c.JSON(status, body)
		case req.Header.Get("HX-Request") == "true":
			werr = render(c, status, templates.ErrorPartial(detail))
		default:
			werr = render(c, status, templates.ErrorPage(status, detail))
		}
		if werr != nil {
			log.Error("write error response", "err", werr)
		}
	}
}
