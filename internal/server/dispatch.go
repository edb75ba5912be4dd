package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/topology"
)

// The merged map names another engine's containers, networks and volumes
// with the engine's name after their Docker ID ("c:<id>@lab1",
// topology.EngineSep). Each engine besides the default one has a server of
// its own (Deps.Others), built like the default one's on that engine's
// client and its own graph, where the IDs are the engine's: so every
// action, plan, guard and probe of that engine runs the same code against
// that engine's own effective state. dispatch is the one place that
// decides which engine a request is for, from the names it carries.

// engineParam names the engine of a request that names nothing of one
// (a new container, network or volume): ?engine=lab1.
const engineParam = "engine"

// dispatched says which requests go to an engine's own server: every
// change, and the reads that plan one or ask an engine. The map's own
// reads (the graph, the panels, the explainer) stay on the merged map,
// whose IDs the page knows.
func dispatched(r *http.Request) bool {
	if swarmWide(r.URL.Path) || r.URL.Path == "/api/probes" {
		// A service or a Swarm node is the Swarm's, not one engine's:
		// planned on the merged map, done through its manager. A probe
		// may cross hosts (a task to a task over an overlay): planned on
		// the merged map, run in its source's engine.
		return false
	}
	if r.Method != http.MethodGet {
		return !strings.HasPrefix(r.URL.Path, "/login") && r.URL.Path != "/logout" &&
			!strings.HasPrefix(r.URL.Path, "/api/invites") && r.URL.Path != "/api/login-codes" &&
			!strings.HasPrefix(r.URL.Path, "/api/jobs/")
	}
	p := r.URL.Path
	return p == "/api/images" || p == exportPath || p == "/api/links/plan" || strings.HasPrefix(p, "/api/plan/") ||
		strings.HasSuffix(p, "/recreate-preview") || strings.HasSuffix(p, "/usage") || strings.HasSuffix(p, "/logs") || strings.HasSuffix(p, "/shell") ||
		p == "/api/recreate/leftovers" || (strings.HasPrefix(p, "/api/networks/") && strings.Count(p, "/") == 3)
}

// swarmWide says whether a path acts on a Swarm's services or nodes.
func swarmWide(p string) bool {
	return strings.HasPrefix(p, "/api/services/") || strings.HasPrefix(p, "/api/swarm-nodes/") ||
		p == "/api/plan/"+string(plan.ActionScaleService) || p == "/api/plan/"+string(plan.ActionNodeAvailability)
}

// dispatch sends a request that names another engine's objects to that
// engine's server, with the names as that engine knows them. A request
// that names objects of two engines is refused: an action happens on one
// engine (a link, a mount, a shared network are that engine's).
func dispatch(others map[string]http.Handler, src LiveSource) echo.MiddlewareFunc {
	names := make([]string, 0, len(others))
	for n := range others {
		names = append(names, n)
	}
	slices.Sort(names)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if len(others) == 0 || !dispatched(r) {
				return next(c)
			}
			found := map[string]bool{}
			see := func(s string) {
				if n := engineIn(s, names); n != "" {
					found[n] = true
				}
			}
			path := r.URL.EscapedPath()
			for _, seg := range strings.Split(path, "/") {
				if u, err := url.PathUnescape(seg); err == nil {
					see(u)
				}
			}
			q := r.URL.Query()
			explicit := q.Get(engineParam)
			for k, vs := range q {
				if k == engineParam {
					continue
				}
				for _, v := range vs {
					// A list (?containers=a,b) names each of its items.
					for _, item := range strings.Split(v, ",") {
						see(item)
					}
				}
			}
			var body any
			var raw []byte
			if r.Body != nil && r.ContentLength != 0 {
				var err error
				// The outer BodyLimit has wrapped r.Body already.
				if raw, err = io.ReadAll(r.Body); err != nil {
					return err
				}
				r.Body = io.NopCloser(bytes.NewReader(raw))
				if len(raw) > 0 {
					dec := json.NewDecoder(bytes.NewReader(raw))
					dec.UseNumber()
					if dec.Decode(&body) == nil {
						walkStrings(body, func(s string) string { see(s); return s })
					}
				}
			}
			if explicit != "" && explicit != engines.Local {
				if _, ok := others[explicit]; !ok {
					return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("no engine named %q: see GET /api/engines", explicit))
				}
				found[explicit] = true
			}
			if len(found) == 0 {
				if _, ok := others[engines.Local]; !ok {
					return next(c)
				}
				// The default engine's own server plans on its own graph,
				// where another engine's "web" is no conflict.
				found[engines.Local] = true
			} else if len(found) > 1 || explicit == engines.Local {
				var list []string
				for n := range found {
					list = append(list, n)
				}
				if explicit == engines.Local {
					list = append(list, engines.Local)
				}
				slices.Sort(list)
				return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf(
					"this names things on engines %s: an action works within one engine", strings.Join(list, " and ")))
			}
			var name string
			for n := range found {
				name = n
			}
			strip := func(s string) string { return stripEngine(s, name) }
			u := *r.URL
			var segs []string
			for _, seg := range strings.Split(path, "/") {
				if v, err := url.PathUnescape(seg); err == nil {
					seg = url.PathEscape(strip(v))
				}
				segs = append(segs, seg)
			}
			u.RawPath = strings.Join(segs, "/")
			if u.Path, _ = url.PathUnescape(u.RawPath); u.Path == u.RawPath {
				u.RawPath = ""
			}
			nq := url.Values{}
			for k, vs := range q {
				if k == engineParam {
					continue
				}
				for _, v := range vs {
					items := strings.Split(v, ",")
					for i := range items {
						items[i] = strip(items[i])
					}
					nq.Add(k, strings.Join(items, ","))
				}
			}
			u.RawQuery = nq.Encode()
			r2 := r.Clone(r.Context())
			r2.URL = &u
			r2.RequestURI = u.RequestURI()
			if body != nil {
				body = walkStrings(body, strip)
				nb, err := json.Marshal(body)
				if err != nil {
					return err
				}
				r2.Body, r2.ContentLength = io.NopCloser(bytes.NewReader(nb)), int64(len(nb))
			}
			others[name].ServeHTTP(c.Response(), r2)
			if r.Method != http.MethodGet {
				// The engine's own server answered once its graph had the
				// change; the merged map takes it now, so that the next
				// request is planned on it, as for the default engine.
				if m, ok := src.(interface{ MergeNow() }); ok {
					m.MergeNow()
				}
			}
			return nil
		}
	}
}

// engineIn names the engine s carries after topology.EngineSep, when it
// is one of names.
func engineIn(s string, names []string) string {
	i := strings.LastIndex(s, topology.EngineSep)
	if i < 0 {
		return ""
	}
	if _, ok := slices.BinarySearch(names, s[i+1:]); ok {
		return s[i+1:]
	}
	return ""
}

// stripEngine drops "@name" from the end of s.
func stripEngine(s, name string) string {
	return strings.TrimSuffix(s, topology.EngineSep+name)
}

// walkStrings replaces every string in a decoded JSON value by fn's.
func walkStrings(v any, fn func(string) string) any {
	switch x := v.(type) {
	case string:
		return fn(x)
	case []any:
		for i := range x {
			x[i] = walkStrings(x[i], fn)
		}
	case map[string]any:
		for k, e := range x {
			x[k] = walkStrings(e, fn)
		}
	}
	return v
}
