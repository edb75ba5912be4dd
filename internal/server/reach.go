package server

import (
	"cmp"
	"compress/gzip"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// handleReach serves "GET /api/reach?from=&to=": what the graph predicts
// about reaching to from from, with the reasons (internal/reach); with
// &name=, the one outcome of reaching it by that name.
func handleReach(src LiveSource) echo.HandlerFunc {
	return func(c echo.Context) error {
		g := src.Snapshot().Graph
		from, err := g.ContainerByRef(c.QueryParam("from"))
		if err != nil {
			return err
		}
		if svc := c.QueryParam("service"); svc != "" {
			// A Swarm service: its VIP, its name, tasks.<svc> and TCP.
			s, err := g.ServiceByRef(svc)
			if err != nil {
				return err
			}
			p, err := reach.ExplainService(g, from.ID, s.ID)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, p)
		}
		to, err := g.ContainerByRef(c.QueryParam("to"))
		if err != nil {
			return err
		}
		if name := c.QueryParam("name"); name != "" {
			// One name, as a probe by that name would use it: a Compose
			// service's name, an alias, a link's alias.
			o, err := reach.ExplainName(g, from.ID, to.ID, name)
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, o)
		}
		p, err := reach.Explain(g, from.ID, to.ID)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p)
	}
}

// maxReachIDs caps the containers of one GET /api/reach/matrix: 200 are
// 39,800 ordered pairs, the largest matrix a page can show, explained in
// well under a second; more is a mistake or an abuse.
const maxReachIDs = 200

// reachMatrix is the answer to GET /api/reach/matrix.
type reachMatrix struct {
	// Seq is the graph's seq the predictions were made from: the page
	// holds them until its map is past it.
	Seq         uint64             `json:"seq"`
	Predictions []reach.Prediction `json:"predictions"`
}

// handleReachMatrix serves "GET /api/reach/matrix?ids=a,b,c[&from=a]":
// the prediction of every ordered pair of the named containers, as GET
// /api/reach gives one, from one Explainer: the page asks once per
// refresh instead of once per pair (issue 14). With from, only the pairs
// from those containers to each of ids: one container's rows (a panel's
// results) without the whole square. With touch, only the pairs with an
// end among those containers: what one change affected (a delta's
// affects) in a matrix, 2(n-1) pairs for one container instead of n(n-1).
// A pair's from and to are the
// containers as the map names them (<id>@ENGINE for another engine's).
// 400 for no ID, a malformed one or more than maxReachIDs in a list; 404
// naming every container that is not on the map.
func handleReachMatrix(src LiveSource) echo.HandlerFunc {
	return func(c echo.Context) error {
		refs, err := reachRefs("ids", c.QueryParam("ids"))
		if err != nil {
			return err
		}
		fromRefs := refs
		if c.QueryParams().Has("from") {
			if fromRefs, err = reachRefs("from", c.QueryParam("from")); err != nil {
				return err
			}
		}
		var touchRefs []string
		if c.QueryParams().Has("touch") {
			if touchRefs, err = reachRefs("touch", c.QueryParam("touch")); err != nil {
				return err
			}
		}
		snap := src.Snapshot()
		g := snap.Graph
		var unknown []string
		ids := resolveContainers(g, refs, &unknown)
		froms := resolveContainers(g, fromRefs, &unknown)
		touch := resolveContainers(g, touchRefs, &unknown)
		if err := cmp.Or(ids.err, froms.err, touch.err); err != nil {
			return err
		}
		if len(unknown) > 0 {
			// Every one at once: the caller fixes its list in one go.
			return fmt.Errorf("%w: no container %s on the map (it may have been removed)", topology.ErrNotFound, strings.Join(unknown, ", "))
		}
		touches := make(map[topology.NodeID]bool, len(touch.ids))
		for _, id := range touch.ids {
			touches[id] = true
		}
		x := reach.New(g)
		out := reachMatrix{Seq: snap.Seq, Predictions: make([]reach.Prediction, 0, len(froms.ids)*len(ids.ids))}
		for _, a := range froms.ids {
			for _, b := range ids.ids {
				if a == b || (touchRefs != nil && !touches[a] && !touches[b]) {
					continue
				}
				p, err := x.Explain(a, b)
				if err != nil {
					return err
				}
				// The map's names: Explain gives the engine's bare IDs.
				p.From, p.To = strings.TrimPrefix(string(a), "c:"), strings.TrimPrefix(string(b), "c:")
				out.Predictions = append(out.Predictions, p)
			}
		}
		return c.JSON(http.StatusOK, out)
	}
}

// resolved is a list of containers found on the map, each once, or the
// first error (a malformed name) that is not "not found".
type resolved struct {
	ids []topology.NodeID
	err error
}

// resolveContainers finds refs on g, adding the ones not there to
// unknown (quoted).
func resolveContainers(g topology.Graph, refs []string, unknown *[]string) resolved {
	var r resolved
	seen := make(map[topology.NodeID]bool, len(refs))
	for _, ref := range refs {
		n, err := g.ContainerByRef(ref)
		if errors.Is(err, topology.ErrNotFound) {
			*unknown = append(*unknown, strconv.Quote(ref))
			continue
		}
		if err != nil {
			if r.err == nil {
				r.err = err
			}
			continue
		}
		// A container named twice (by ID and by name) is one row.
		if !seen[n.ID] {
			seen[n.ID] = true
			r.ids = append(r.ids, n.ID)
		}
	}
	return r
}

// reachRefs splits a list (ids or from) of GET /api/reach/matrix, checking
// only its shape: what each names is the graph's to say.
func reachRefs(name, param string) ([]string, error) {
	if strings.TrimSpace(param) == "" {
		return nil, fmt.Errorf("%w: %s: name the containers, comma-separated (?ids=web,database)", topology.ErrInvalid, name)
	}
	refs := strings.Split(param, ",")
	if len(refs) > maxReachIDs {
		return nil, fmt.Errorf("%w: %s: %d containers, at most %d per request (%d pairs); ask for the rest in another",
			topology.ErrInvalid, name, len(refs), maxReachIDs, maxReachIDs*(maxReachIDs-1))
	}
	for i, r := range refs {
		refs[i] = strings.TrimSpace(r)
		if refs[i] == "" {
			return nil, fmt.Errorf("%w: %s: an empty name at position %d", topology.ErrInvalid, name, i+1)
		}
	}
	return refs, nil
}

// compressed gzips an answer of h larger than a few kilobytes for a client
// that accepts it: a 40-container matrix is 1.7 MB of JSON, most of it the
// same reasons and IDs again, asked after every change by every page.
func compressed(h echo.HandlerFunc) echo.HandlerFunc {
	return middleware.GzipWithConfig(middleware.GzipConfig{Level: gzip.BestSpeed, MinLength: 4 << 10})(h)
}
