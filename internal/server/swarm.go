package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/engines"
)

// SwarmReader reads the Swarm an engine manages (*docker.Client).
type SwarmReader interface {
	Swarm(ctx context.Context) (docker.SwarmState, error)
}

// EngineClients finds an engine's client by its name (engines.Local for
// the default one); false when dockmap has no engine of that name.
type EngineClients func(name string) (SwarmReader, bool)

// managerLookupTimeout bounds the search for a worker's manager among the
// other engines: it only improves an error's wording, so an engine that
// hangs must not hold the answer up.
const managerLookupTimeout = 3 * time.Second

// handleSwarm answers GET /api/swarm?engine=NAME: the Swarm that engine
// manages, {active:false,…} when it is in none, 404 for an engine dockmap
// does not have, 409 for a worker, naming the engine that can answer when
// dockmap has it.
func handleSwarm(clients EngineClients, list EngineList) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := c.QueryParam("engine")
		if name == "" {
			name = engines.Local
		}
		var r SwarmReader
		ok := false
		if clients != nil {
			r, ok = clients(name)
		}
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("no engine named %q (GET /api/engines lists them)", name))
		}
		ctx := c.Request().Context()
		st, err := r.Swarm(ctx)
		var we *docker.SwarmWorkerError
		if errors.As(err, &we) {
			return echo.NewHTTPError(http.StatusConflict, workerMessage(ctx, name, we, clients, list))
		}
		if err != nil {
			return fmt.Errorf("engine %s: %w", name, err)
		}
		return c.JSON(http.StatusOK, st)
	}
}

// workerMessage says that engine name is a worker and which manager knows
// the Swarm: by engine name when one of dockmap's engines is that manager,
// else by its Swarm address.
func workerMessage(ctx context.Context, name string, we *docker.SwarmWorkerError, clients EngineClients, list EngineList) string {
	managers := map[string]bool{}
	var addrs []string
	for _, m := range we.Managers {
		managers[m.NodeID] = true
		addrs = append(addrs, m.Addr)
	}
	var found []string
	if list != nil && len(managers) > 0 {
		ctx, cancel := context.WithTimeout(ctx, managerLookupTimeout)
		defer cancel()
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, e := range list.List() {
			if e.Name == name {
				continue
			}
			r, ok := clients(e.Name)
			if !ok {
				continue
			}
			wg.Go(func() {
				st, err := r.Swarm(ctx)
				if err == nil && st.Active && managers[st.NodeID] {
					mu.Lock()
					found = append(found, e.Name)
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	switch {
	case len(found) > 0:
		// In the engines' order rather than the answers'.
		var ordered []string
		for _, e := range list.List() {
			for _, f := range found {
				if f == e.Name {
					ordered = append(ordered, f)
				}
			}
		}
		if len(ordered) > 1 {
			return fmt.Sprintf("engine %s is a Swarm worker: its managers %s know the Swarm", name, strings.Join(ordered, ", "))
		}
		return fmt.Sprintf("engine %s is a Swarm worker: its manager %s knows the Swarm", name, ordered[0])
	case len(addrs) > 0:
		return fmt.Sprintf("engine %s is a Swarm worker: its manager at %s knows the Swarm (add that engine with --engine)", name, strings.Join(addrs, ", "))
	}
	return fmt.Sprintf("engine %s is a Swarm worker: only a manager knows the Swarm", name)
}
