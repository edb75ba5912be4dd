package server

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/engines"
)

// EngineList is every engine dockmap connects to and its state
// (*engines.Registry).
type EngineList interface {
	List() []engines.State
}

// handleEngines answers GET /api/engines: every engine, the local one
// first; an empty list for a replay, which has no engine.
func handleEngines(l EngineList) echo.HandlerFunc {
	return func(c echo.Context) error {
		list := []engines.State{}
		if l != nil {
			list = l.List()
		}
		return c.JSON(http.StatusOK, list)
	}
}
