package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/live"
	"github.com/dockmap/dockmap/internal/metrics"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/server"
	"github.com/dockmap/dockmap/internal/topology"
)

// engineSet is the engines besides the local one: each its own client,
// its own live loop and its own hub, which only the map's live.Union
// reads, so that one engine's own seq never reaches the page.
type engineSet struct {
	reg  *engines.Registry
	runs []func(context.Context) error
	// members are the extra engines for the map's live.Union.
	members []live.Member
	// others are the extra engines' own servers' dependencies
	// (server.Deps.Others).
	others map[string]server.Deps
	// clients are every engine's client by name, the local one included,
	// for the requests that go to one engine (GET /api/swarm).
	clients map[string]*docker.Client
	// closers release clients and hubs, last made first.
	closers []func()
}

// newEngineSet makes the registry of every engine, the local one first
// (its state set by its Live through onEngine), and a client and a live
// loop for each of extra. Nothing connects here: each loop connects,
// fails and retries on its own once run, so an engine that is down or
// hangs holds up nobody else.
func newEngineSet(local *docker.Client, extra []engines.Spec, page *hub.Hub, allowDangerous bool, met *metrics.Metrics, logger *slog.Logger) (*engineSet, error) {
	all := append([]engines.Spec{{Name: engines.Local, Host: local.Host()}}, extra...)
	publish := func(list []engines.State) {
		page.Publish(protocol.Message(&protocol.Engines{Engines: list}))
	}
	s := &engineSet{reg: engines.NewRegistry(all, publish, time.Now()), clients: map[string]*docker.Client{engines.Local: local},
		others: map[string]server.Deps{}}
	for _, spec := range extra {
		opts := []docker.Option{docker.WithDangerousSpecs(allowDangerous)}
		if spec.TLS != nil {
			opts = append(opts, docker.WithTLSFiles(spec.TLS.CA, spec.TLS.Cert, spec.TLS.Key, spec.TLS.SkipVerify))
		}
		if isSSH(spec.Host) {
			opts = append(opts, docker.WithSSH(spec.Host))
		} else {
			opts = append(opts, docker.WithHost(spec.Host))
		}
		dc, err := docker.New(opts...)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("engine %s: %w", spec.Name, err)
		}
		s.clients[spec.Name] = dc
		eh := hub.New(hub.DefaultBuffer)
		s.closers = append(s.closers, func() { dc.Close() }, eh.Close)
		host := engines.Redact(spec.Host)
		lv := live.New(dc, eh, logger.With("engine", spec.Name), live.WithHost(host), live.WithName(spec.Name), live.WithRelisted(met.Relisted),
			live.WithOnEngine(s.onEngine(spec.Name)))
		s.runs = append(s.runs, lv.Run)
		s.members = append(s.members, live.Member{Name: spec.Name, Live: lv, Hub: eh, Swarm: swarmOf(dc)})
		prober := probe.New(dc, server.EngineProbePublisher(page, spec.Name))
		s.closers = append(s.closers, prober.Close)
		s.others[spec.Name] = server.Deps{Live: lv, Engine: dc, Recreator: dc, Networks: dc, Volumes: dc, Prober: prober, Exporter: dc, Shells: dc}
		logger.Info("engine", "name", spec.Name, "host", host, "context", spec.Context)
	}
	return s, nil
}

// onEngine keeps the registry in step with one engine's live loop.
func (s *engineSet) onEngine(name string) func(topology.EngineState) {
	return func(e topology.EngineState) {
		s.reg.Set(name, e.Connected, e.Version, e.LastError, e.Since)
	}
}

// client finds an engine's client by name (server.Deps.EngineClients).
func (s *engineSet) client(name string) (server.SwarmReader, bool) {
	c, ok := s.clients[name]
	if !ok {
		return nil, false
	}
	return c, true
}

// actor finds an engine's client to act on its Swarm (server.Deps.SwarmActors).
func (s *engineSet) actor(name string) (server.SwarmActor, bool) {
	c, ok := s.clients[name]
	if !ok {
		return nil, false
	}
	return c, true
}

func (s *engineSet) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// swarmOf reads an engine's Swarm for the map: a worker's answer is its
// node ID only (the managers know the rest).
func swarmOf(dc *docker.Client) live.SwarmFunc {
	return func(ctx context.Context) (topology.SwarmState, string, error) {
		st, err := dc.Swarm(ctx)
		var we *docker.SwarmWorkerError
		if errors.As(err, &we) {
			return topology.SwarmState{}, we.NodeID, nil
		}
		return st, st.NodeID, err
	}
}

func isSSH(host string) bool { return strings.HasPrefix(host, "ssh://") }
