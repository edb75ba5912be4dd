package server

import (
	"context"
	"log/slog"
	"mime"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/protocol"
)

// AuditEntry is one change asked of dockmap, done or refused.
type AuditEntry = protocol.AuditEntry

// auditKeep is how many entries the Activity panel can show.
const auditKeep = 200

// auditTrail records every mutation in the structured log and keeps the
// latest for the operators' Activity panel, which it also updates live.
// The entries hold who (role and client address), what (method and route
// with its parameters; never the query string or body, which could hold
// secrets) and the result.
type auditTrail struct {
	log *slog.Logger
	pub Publisher

	mu      sync.Mutex // protects entries
	entries []AuditEntry
}

func newAuditTrail(log *slog.Logger, pub Publisher) *auditTrail {
	return &auditTrail{log: log, pub: pub}
}

func (t *auditTrail) record(c echo.Context, err error) {
	status := c.Response().Status
	if err != nil {
		status, _ = statusOf(err)
	}
	e := AuditEntry{Time: time.Now().UTC(), Role: roleOf(c).String(), Remote: c.RealIP(), Method: c.Request().Method,
		Route: c.Path(), Status: status}
	attrs := []any{"role", e.Role, "remote", e.Remote, "method", e.Method, "route", e.Route, "status", status}
	if names := c.ParamNames(); len(names) > 0 {
		e.Params = make(map[string]string, len(names))
		for _, name := range names {
			e.Params[name] = c.Param(name)
			attrs = append(attrs, "param."+name, c.Param(name))
		}
	}
	if err != nil {
		e.Error = errorDetail(err)
		attrs = append(attrs, "err", err.Error())
	}
	t.log.Info("audit", attrs...)
	t.add(e)
}

// add keeps e and sends it to the operators' pages.
func (t *auditTrail) add(e AuditEntry) {
	t.mu.Lock()
	t.entries = append(t.entries, e)
	if len(t.entries) > auditKeep {
		t.entries = append(t.entries[:0], t.entries[len(t.entries)-auditKeep:]...)
	}
	t.mu.Unlock()
	t.pub.Publish(protocol.Message(&protocol.Audit{Entry: e}))
}

// list returns the kept entries, newest last.
func (t *auditTrail) list() []AuditEntry {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]AuditEntry(nil), t.entries...)
}

// handleAudit serves "GET /api/audit": the latest changes, newest last.
func handleAudit(t *auditTrail) echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(http.StatusOK, map[string]any{"entries": t.list()})
	}
}

// syncAfterChange bounds the wait for the live picture after a change.
const syncAfterChange = 10 * time.Second

// crossOrigin is the standard library's CSRF defence (Go 1.25): it allows
// safe methods, then requires Sec-Fetch-Site same-origin (or none), or an
// Origin whose host is the request's Host. The Host allowlist runs first,
// so a rebound DNS name cannot make a foreign origin look local.
var crossOrigin = http.NewCrossOriginProtection()

// sameOrigin refuses every cross-origin browser request; registerRoutes
// puts it before every route that is not a GET.
func sameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := crossOrigin.Check(c.Request()); err != nil {
			return echo.NewHTTPError(http.StatusForbidden, "cross-origin request refused")
		}
		return next(c)
	}
}

// mutationGuard protects every route that changes something, after
// sameOrigin: a body must be JSON. A plain HTML form (which needs no CORS
// preflight) can send neither a same-origin request nor JSON, so a page on
// another site cannot drive dockmap.
func mutationGuard(src LiveSource, engine bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if req.ContentLength != 0 || req.Header.Get(echo.HeaderContentType) != "" {
				mt, _, err := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
				if err != nil || mt != echo.MIMEApplicationJSON {
					return echo.NewHTTPError(http.StatusUnsupportedMediaType, "send the request body as application/json")
				}
			}
			err := next(c)
			// A change is answered once the live picture has it, so that the
			// next request (a script's, the page's next plan) is planned on
			// it; removing a legacy link, for one, makes no engine event. A
			// refusal changed nothing; a job does the same when it ends.
			if !engine {
				return err
			}
			if st := c.Response().Status; err == nil && st < 300 && st != http.StatusAccepted {
				ctx, cancel := context.WithTimeout(c.Request().Context(), syncAfterChange)
				_, _ = src.Sync(ctx)
				cancel()
			} else {
				src.Refresh()
			}
			return err
		}
	}
}
