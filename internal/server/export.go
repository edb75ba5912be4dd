package server

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/compose"
	"github.com/dockmap/dockmap/internal/topology"
)

// Exporter describes containers for a Compose file (*docker.Client).
type Exporter interface {
	DescribeForCompose(ctx context.Context, project string, refs []string) (compose.Selection, error)
}

// exportPath is the route of the Compose export; dispatch sends it to the
// engine its containers are on.
const exportPath = "/api/export/compose"

// handleExportCompose serves "GET /api/export/compose?project=NAME" (the
// containers of a Compose project, by its label) or "?containers=ID,ID"
// (full IDs or exact names): a Compose file that re-creates them, as
// application/yaml to download. The file is read back with compose-go
// before it is sent, so a file Compose would refuse is never answered.
func handleExportCompose(x Exporter) echo.HandlerFunc {
	return func(c echo.Context) error {
		project := strings.TrimSpace(c.QueryParam("project"))
		var refs []string
		for _, r := range strings.Split(c.QueryParam("containers"), ",") {
			if r = strings.TrimSpace(r); r != "" {
				refs = append(refs, r)
			}
		}
		switch {
		case project == "" && len(refs) == 0:
			return fmt.Errorf("%w: export what? give ?project=NAME (a Compose project) or ?containers=ID,ID", topology.ErrInvalid)
		case project != "" && len(refs) > 0:
			return fmt.Errorf("%w: give either ?project= or ?containers=, not both", topology.ErrInvalid)
		case len(refs) > maxExport:
			return fmt.Errorf("%w: at most %d containers in one export", topology.ErrInvalid, maxExport)
		}
		if x == nil {
			return echo.NewHTTPError(http.StatusServiceUnavailable, "export needs an engine: this dockmap has none")
		}
		sel, err := x.DescribeForCompose(c.Request().Context(), project, refs)
		if err != nil {
			return err
		}
		p, notes, err := compose.Build(sel)
		if err != nil {
			return fmt.Errorf("%w: %v", topology.ErrInvalid, err)
		}
		data, err := compose.Marshal(p, notes)
		if err != nil {
			return err
		}
		if _, err := compose.Load(c.Request().Context(), data, p.Name, "/"); err != nil {
			return fmt.Errorf("the exported file does not load: %w", err)
		}
		c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-compose.yaml"`, fileSafe.ReplaceAllString(p.Name, "_")))
		return c.Blob(http.StatusOK, "application/yaml", data)
	}
}

// maxExport bounds one export's inspects.
const maxExport = 500

// fileSafe matches what may not go into a download's file name.
var fileSafe = regexp.MustCompile(`[^A-Za-z0-9_.-]`)
