package server

import (
	"io/fs"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
	"github.com/dockmap/dockmap/web/templates"
)

// handleTopologyPage serves "GET /": the live map, with the controls the
// caller's role may use.
func handleTopologyPage(src LiveSource, assetVersion string, readOnly bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		snap := src.Snapshot()
		return render(c, http.StatusOK, templates.TopologyPage(templates.PageView{
			AssetVersion: assetVersion, Engine: snap.Engine, ReadOnlyMode: readOnly,
		}))
	}
}

// health is the body of GET /healthz.
type health struct {
	Status  string               `json:"status"`
	Message string               `json:"message"`
	Engine  topology.EngineState `json:"engine"`
}

// handleHealthz serves "GET /healthz": 200 whenever dockmap serves, with the
// engine's state in the body (an unreachable engine is not dockmap's fault,
// and the page still works and says so). It needs no credential, so that a
// container health check can use it; a stranger learns only whether the
// engine is connected, not its address, version or errors.
func handleHealthz(src LiveSource) echo.HandlerFunc {
	return func(c echo.Context) error {
		eng := src.Snapshot().Engine
		h := health{Status: "ok", Engine: eng, Message: "engine connected"}
		if !eng.Connected {
			h.Message = "engine unreachable: " + eng.LastError
		}
		if roleOf(c) == auth.Anonymous {
			h.Engine = topology.EngineState{Connected: eng.Connected}
			h.Message = "engine connected"
			if !eng.Connected {
				h.Message = "engine unreachable"
			}
		}
		return c.JSON(http.StatusOK, h)
	}
}

// handleGraphJSON serves "GET /api/graph": the same snapshot the WebSocket
// sends first.
func handleGraphJSON(src LiveSource) echo.HandlerFunc {
	return func(c echo.Context) error {
		return c.JSON(http.StatusOK, protocol.Snapshot{Snapshot: src.Snapshot()})
	}
}

// handleContainerPanel serves "GET /panel/container/:id", the side panel of
// one container (id is its node ID, "c:<full id>", or its full ID). The
// Mount form offers host paths only when binds are allowed.
func handleContainerPanel(src LiveSource, bindsAllowed bool) echo.HandlerFunc {
	view := func(g topology.Graph, id topology.NodeID) (templates.ContainerPanelView, bool) {
		v, ok := templates.NewContainerPanelView(g, id)
		v.BindsAllowed = bindsAllowed
		return v, ok
	}
	return handlePanel(src, "c:", "container", view, templates.ContainerPanel)
}

// handleVolumePanel serves "GET /panel/volume/:id" ("v:<name>" or the name).
func handleVolumePanel(src LiveSource) echo.HandlerFunc {
	return handlePanel(src, "v:", "volume", templates.NewVolumePanelView, templates.VolumePanel)
}

// handleBindPanel serves "GET /panel/bind/:id" ("b:<host path>").
func handleBindPanel(src LiveSource) echo.HandlerFunc {
	return handlePanel(src, "b:", "bind mount", templates.NewBindPanelView, templates.BindPanel)
}

// handleGhostPanel serves "GET /panel/ghost/:id" ("g:<name>"): a removed
// container that broken links still point at.
func handleGhostPanel(src LiveSource) echo.HandlerFunc {
	return handlePanel(src, "g:", "removed container", templates.NewGhostPanelView, templates.GhostPanel)
}

// handleNetworkPanel serves "GET /panel/network/:id", the side panel of one
// network (id is its node ID, "n:<full id>", or its full ID).
func handleNetworkPanel(src LiveSource) echo.HandlerFunc {
	return handlePanel(src, "n:", "network", templates.NewNetworkPanelView, templates.NetworkPanel)
}

// handlePanel renders the panel of one node, built from the current graph
// (no engine call): view builds the view, and reports false when the graph
// has no such node of that kind.
func handlePanel[V any](src LiveSource, prefix, kind string,
	view func(topology.Graph, topology.NodeID) (V, bool), cmp func(V) templ.Component) echo.HandlerFunc {
	return func(c echo.Context) error {
		raw, err := url.PathUnescape(c.Param("id"))
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "bad "+kind+" id")
		}
		id := topology.NodeID(raw)
		if !strings.HasPrefix(raw, prefix) {
			id = topology.NodeID(prefix + raw)
		}
		v, ok := view(src.Snapshot().Graph, id)
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound, "no such "+kind+": it may have been removed")
		}
		return render(c, http.StatusOK, cmp(v))
	}
}

// handleStatic serves "GET /static/*" from the embedded files. Versioned
// URLs (/static/v/<version>/<file>, the pages' own, or ?v=) are cached for
// a year: the version changes with every build. The version is not
// checked: any version serves this build's files.
func handleStatic(static fs.FS) echo.HandlerFunc {
	files := http.FileServerFS(static)
	return func(c echo.Context) error {
		r := c.Request()
		name, versioned := staticName(r.URL.Path)
		if versioned || c.QueryParam("v") != "" {
			c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			c.Response().Header().Set("Cache-Control", "no-cache")
		}
		// The file server cleans the name, so ".." climbs nowhere.
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		r2.URL.RawPath = ""
		files.ServeHTTP(c.Response(), r2)
		return nil
	}
}

// staticName is the file a /static/ URL path names, and whether the path
// carried a version folder.
func staticName(path string) (string, bool) {
	name := strings.TrimPrefix(path, "/static/")
	if rest, ok := strings.CutPrefix(name, "v/"); ok {
		if _, file, ok := strings.Cut(rest, "/"); ok {
			return file, true
		}
	}
	return name, false
}
