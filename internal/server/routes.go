package server

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// registerRoutes is the one list of every URL dockmap serves.
func registerRoutes(e *echo.Echo, d Deps) {
	e.GET("/", handleTopologyPage(d.Live, d.AssetVersion))
	e.GET("/healthz", handleHealthz(d.Live))
	e.GET("/api/graph", handleGraphJSON(d.Live))
	e.GET("/live", handleLive(d.Live, d.Logger))
	e.GET("/panel/container/:id", handleContainerPanel(d.Live, len(d.AllowBinds) > 0))
	e.GET("/panel/volume/:id", handleVolumePanel(d.Live))
	e.GET("/panel/bind/:id", handleBindPanel(d.Live))
	e.GET("/panel/network/:id", handleNetworkPanel(d.Live))
	e.GET("/static/*", handleStatic(d.Static))
	e.GET("/api/images", handleListImages(d.Engine))
	e.GET("/api/links/plan", handleLinkPlan(d.Live, d.Linker))
	e.GET("/api/containers/:id/recreate-preview", handleRecreatePreview(d.Live, d.Linker))
	e.GET("/api/recreate/leftovers", handleLeftovers(d.Linker))
	e.GET("/api/networks/:id", handleNetworkDetail(d.Live, d.Networks))
	e.GET("/api/reach", handleReach(d.Live))
	e.GET("/api/volumes/:name", handleVolumeDetail(d.Live))
	e.GET("/api/volumes/:name/usage", handleVolumeUsage(d.Live, d.Volumes))

	// Everything below changes something: POST or DELETE only, same origin
	// only, JSON bodies only.
	m := e.Group("", mutationGuard(d.Live, d.Logger))
	m.POST("/api/containers", handleRunContainer(d.Live, d.Engine))
	m.POST("/api/containers/:id/:action", handleContainerAction(d.Live, d.Engine))
	m.DELETE("/api/containers/:id", handleRemoveContainer(d.Live, d.Engine))
	m.POST("/api/images/pull", handlePullImage(d.Engine, d.Publisher))
	m.POST("/api/links", handleAddLink(d.Live, d.Linker, d.Publisher))
	m.DELETE("/api/links", handleRemoveLink(d.Live, d.Linker))
	m.POST("/api/recreate/leftovers/:id/:action", handleLeftoverAction(d.Linker))
	m.POST("/api/networks", handleCreateNetwork(d.Live, d.Networks))
	m.DELETE("/api/networks/:id", handleRemoveNetwork(d.Live, d.Networks))
	m.POST("/api/networks/:id/connect", handleConnect(d.Live, d.Networks))
	m.POST("/api/networks/:id/disconnect", handleDisconnect(d.Live, d.Networks))
	m.POST("/api/volumes", handleCreateVolume(d.Live, d.Volumes))
	m.DELETE("/api/volumes/:name", handleRemoveVolume(d.Live, d.Volumes))
	m.POST("/api/containers/:id/mounts", handleAddMount(d.Live, d.Volumes, d.Publisher, d.AllowBinds))
	// Probes and share tests exec into containers, so they are actions too.
	m.POST("/api/volumes/:name/share-test", handleShareTest(d.Live, d.Volumes, d.Publisher))
	m.POST("/api/probes", handleProbes(d.Live, d.Prober))
	e.RouteNotFound("/*", func(c echo.Context) error { return echo.NewHTTPError(http.StatusNotFound, "no such page") })
}
