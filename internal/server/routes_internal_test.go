package server

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/job"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/topology"
)

// stubLive is a LiveSource that holds nothing; building the router never
// calls it.
type stubLive struct{}

func (stubLive) Snapshot() topology.Snapshot { return topology.Snapshot{} }
func (stubLive) Subscribe(context.Context) (topology.Snapshot, *hub.Subscription) {
	return topology.Snapshot{}, nil
}
func (stubLive) Refresh() {}
func (stubLive) Sync(context.Context) (topology.Snapshot, error) {
	return topology.Snapshot{}, nil
}

// routerDeps are enough for New to build the router: construction stores
// its dependencies and calls none of them.
func routerDeps() Deps {
	var c *docker.Client
	return Deps{
		Live: stubLive{}, Engine: c, Recreator: c, Networks: c, Volumes: c, Prober: (*probe.Prober)(nil),
		Publisher: (*hub.Hub)(nil), Jobs: job.New((*hub.Hub)(nil)), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Static: fstest.MapFS{},
	}
}

func key(method, path string) string { return method + " " + path }

// SEC-07 (route-table audit, Portainer CVE-2026-44848): what Echo serves is
// exactly the table, so no route escapes its declared role; every route
// that is not a GET is an operator's action unless it only touches the
// caller's own cookie; and the public routes are exactly the pinned few.
// That no GET changes state is checked here structurally (no GET route
// sits behind mutationGuard, the sign of an action, and only the three
// session routes are exempt from it) and in access_test.go by behaviour
// (TestSEC07GetsChangeNothing: an operator's GET on every route makes
// only read calls to the engine).
func TestRouteTableIsWhatEchoServes(t *testing.T) {
	e, ok := New(routerDeps()).(*echo.Echo)
	if !ok {
		t.Fatal("New did not return the *echo.Echo this audit inspects")
	}
	var served []string
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		served = append(served, key(r.Method, r.Path))
	}
	var declared []string
	for _, r := range RouteTable() {
		declared = append(declared, key(r.Method, r.Path))
	}
	sort.Strings(served)
	sort.Strings(declared)
	if diff := cmp.Diff(declared, served); diff != "" {
		t.Errorf("Echo serves other routes than the table declares (-declared +served):\n%s", diff)
	}

	seen := map[string]bool{}
	var public, session []string
	for _, r := range RouteTable() {
		k := key(r.Method, r.Path)
		if seen[k] {
			t.Errorf("%s is declared twice", k)
		}
		seen[k] = true
		switch r.Method {
		case http.MethodGet, http.MethodPost, http.MethodDelete:
		default:
			t.Errorf("%s: method %s; dockmap uses GET, POST and DELETE only", k, r.Method)
		}
		if r.Method != http.MethodGet && !r.Session && r.Role != auth.Operator {
			t.Errorf("%s changes something but needs only a %v, want operator", k, r.Role)
		}
		if r.Role == Public {
			public = append(public, k)
		}
		if r.Session {
			session = append(session, k)
		}
		if r.handler != nil {
			t.Errorf("RouteTable()[%s] leaks its handler", k)
		}
	}
	wantPublic := []string{"GET /healthz", "GET /join", "GET /login", "GET /static/*", "POST /login"}
	sort.Strings(public)
	if diff := cmp.Diff(wantPublic, public); diff != "" {
		t.Errorf("public routes (-want +got):\n%s", diff)
	}
	wantSession := []string{"GET /join", "GET /login", "POST /login", "POST /logout"}
	sort.Strings(session)
	if diff := cmp.Diff(wantSession, session); diff != "" {
		t.Errorf("routes exempt from the action rules (-want +got):\n%s", diff)
	}
}

// SEC-07: registerRoutes puts mutationGuard on every action and on no GET.
// The table's handlers are swapped for a stub that answers 200, and each
// route is asked with a text/plain body, which the guard alone refuses
// (415): a guarded GET would mean a "read" the code treats as an action,
// and an unguarded action would take a cross-site form post.
func TestOnlyActionsAreGuarded(t *testing.T) {
	d := routerDeps()
	table := routes(d, newAuditTrail(d.Logger, d.Publisher))
	reached := map[string]bool{}
	for i := range table {
		k := key(table[i].Method, table[i].Path)
		table[i].handler = func(c echo.Context) error {
			reached[k] = true
			return c.NoContent(http.StatusOK)
		}
	}
	e := echo.New()
	registerRoutes(e, table, d)
	for _, r := range table {
		k := key(r.Method, r.Path)
		path := strings.NewReplacer(":id", "x1", ":name", "vol1", ":action", "stop", "*", "app.js").Replace(r.Path)
		req := httptest.NewRequest(r.Method, path, strings.NewReader("name=x"))
		req.Header.Set(echo.HeaderContentType, "text/plain")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		guarded := rec.Code == http.StatusUnsupportedMediaType
		wantGuard := r.Method != http.MethodGet && !r.Session
		if guarded != wantGuard {
			t.Errorf("%s with a text/plain body = %d: guarded %v, want %v", k, rec.Code, guarded, wantGuard)
		}
		if reached[k] == guarded {
			t.Errorf("%s: handler reached %v with the guard answering %v", k, reached[k], guarded)
		}
	}
}
