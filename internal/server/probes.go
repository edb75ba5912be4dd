package server

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// Prober runs reachability probes; each result is also published live.
type Prober interface {
	Run(ctx context.Context, reqs []probe.Request) []probe.Result
}

// Limits on one probe request.
const (
	maxMatrix = 40 // containers in one matrix: 40×39×2 probes
)

// probeRequest is the body of POST /api/probes: one pair (from, to), or
// every ordered pair of a set (matrix).
type probeRequest struct {
	From   string   `json:"from"`
	To     string   `json:"to"`
	Matrix []string `json:"matrix"`
	By     string   `json:"by"`
	Port   int      `json:"port"`
	// Name probes one of To's other names instead of its container name: a
	// network alias or a link alias. It must be one the graph knows.
	Name string `json:"name"`
	// Service, instead of To, probes a Swarm service ("sv:<id>", its ID
	// or its name): by ip its VIP, by name its name (which resolves to the
	// VIP) or, with name "tasks.<service>", its tasks' own addresses.
	Service string `json:"service"`
}

// resolve turns the request into probes, with every target taken from the
// graph: a container name, or an IP the engine gave that container. Nothing
// the user typed ever reaches a command line.
func (r probeRequest) resolve(g topology.Graph) ([]probe.Request, error) {
	bys := []string{r.By}
	switch r.By {
	case "", "both":
		bys = []string{"ip", "name"}
	case "ip", "name":
	default:
		return nil, fmt.Errorf("%w: by must be ip, name or both", topology.ErrInvalid)
	}
	if r.Name != "" {
		if r.By != "" && r.By != "name" {
			return nil, fmt.Errorf("%w: a name is probed by name only", topology.ErrInvalid)
		}
		if len(r.Matrix) > 0 {
			return nil, fmt.Errorf("%w: name goes with from and to, not with matrix", topology.ErrInvalid)
		}
		bys = []string{"name"}
	}
	if r.Port < 0 || r.Port > 65535 {
		return nil, fmt.Errorf("%w: port %d is out of range", topology.ErrInvalid, r.Port)
	}
	if r.Service != "" {
		return r.resolveService(g, bys)
	}
	type pair struct{ from, to topology.Node }
	var pairs []pair
	switch {
	case len(r.Matrix) > 0:
		if r.From != "" || r.To != "" {
			return nil, fmt.Errorf("%w: give either from and to, or matrix", topology.ErrInvalid)
		}
		if len(r.Matrix) > maxMatrix {
			return nil, fmt.Errorf("%w: at most %d containers in a matrix", topology.ErrInvalid, maxMatrix)
		}
		var nodes []topology.Node
		for _, ref := range r.Matrix {
			n, err := g.ContainerByRef(ref)
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(nodes, func(m topology.Node) bool { return m.ID == n.ID }) {
				nodes = append(nodes, n)
			}
		}
		for _, a := range nodes {
			for _, b := range nodes {
				if a.ID != b.ID {
					pairs = append(pairs, pair{a, b})
				}
			}
		}
	default:
		from, err := g.ContainerByRef(r.From)
		if err != nil {
			return nil, err
		}
		to, err := targetByRef(g, r.To)
		if err != nil {
			return nil, err
		}
		if from.ID == to.ID {
			return nil, fmt.Errorf("%w: a container probing itself says nothing about the network", topology.ErrInvalid)
		}
		pairs = append(pairs, pair{from, to})
	}
	var (
		reqs []probe.Request
		x    *reach.Explainer // made on the first probe by IP
	)
	for _, p := range pairs {
		for _, by := range bys {
			// The map's IDs, which on a merged map carry the engine
			// (runOnEngines gives the prober its engine's own).
			req := probe.Request{
				From: strings.TrimPrefix(string(p.from.ID), "c:"), FromName: p.from.Container.Name,
				To: strings.TrimPrefix(string(p.to.ID), "c:"), ToName: p.to.Container.Name,
				By: by, Port: r.Port,
				FromRunning: p.from.Container.Running(), ToRunning: p.to.Container.Running(),
			}
			if by == "name" {
				req.Target = nameFor(g, p.from.ID, p.to)
				if r.Name != "" {
					if topology.LooksLikeAddress(r.Name) {
						return nil, fmt.Errorf("%w: probe impossible: %q is an address, not a name: probed by name it would reach that address, not %s",
							topology.ErrInvalid, r.Name, p.to.Container.Name)
					}
					if !knownName(g, p.from.ID, p.to.ID, r.Name) {
						return nil, fmt.Errorf("%w: %q is not a name of %s that the map knows (its name, a network alias or a link alias)",
							topology.ErrNotFound, r.Name, p.to.Container.Name)
					}
					req.Target = r.Name
				}
			} else {
				if x == nil {
					x = reach.New(g)
				}
				target, err := ipFor(x, r.To, p.from.ID, p.to.ID)
				if err != nil {
					return nil, err
				}
				req.Target = target
			}
			reqs = append(reqs, req)
		}
	}
	return reqs, nil
}

// resolveService turns a probe of a Swarm service into probes from a
// container: to the service's VIP on a network the two share, to its name,
// or to tasks.<service>. Every target comes from the graph or is one of
// those two names.
func (r probeRequest) resolveService(g topology.Graph, bys []string) ([]probe.Request, error) {
	if r.To != "" || len(r.Matrix) > 0 {
		return nil, fmt.Errorf("%w: give from and service, without to or matrix", topology.ErrInvalid)
	}
	from, err := g.ContainerByRef(r.From)
	if err != nil {
		return nil, err
	}
	svc, err := g.ServiceByRef(r.Service)
	if err != nil {
		return nil, err
	}
	name := svc.Service.Name
	if r.Name != "" {
		if r.Name != name && r.Name != "tasks."+name {
			return nil, fmt.Errorf("%w: a service is probed by its name %s or by tasks.%s, not %q", topology.ErrInvalid, name, name, r.Name)
		}
		name = r.Name
	}
	// The VIP on a network the container is on; none when they share no
	// network, and then by IP there is nothing to probe.
	vip := ""
	for _, e := range g.EdgesOf(svc.ID) {
		if e.Kind == topology.EdgeMember && e.From == svc.ID && e.Member.IP != "" && isMember(g, from.ID, e.To) {
			vip = e.Member.IP
			break
		}
	}
	var reqs []probe.Request
	for _, by := range bys {
		req := probe.Request{
			From: strings.TrimPrefix(string(from.ID), "c:"), FromName: from.Container.Name,
			To: string(svc.ID), ToName: svc.Service.Name, By: by, Port: r.Port,
			FromRunning: from.Container.Running(), ToRunning: svc.Service.Running > 0,
		}
		switch by {
		case "ip":
			if vip == "" {
				return nil, fmt.Errorf("%w: %s shares no network with the service %s, so it has no VIP to probe: attach it to one of the service's overlays", topology.ErrConflict, from.Container.Name, svc.Service.Name)
			}
			req.Target = vip
		default:
			req.Target = name
		}
		reqs = append(reqs, req)
	}
	return reqs, nil
}

// nameFor picks the name a probe by name from → to uses: to's container
// name, unless that reads as an IP address (a container the CLI named
// 172.17.0.1), for then "by name" would probe whatever that address is.
// Such a target is probed by one of its names that is no address: the
// alias of a link from → to, or its alias on a user-defined network the
// two share (the default bridge resolves no alias). With none, the address-
// like name is kept, and the prober refuses it without running anything
// (probe.FailImpossible: "that name is an address").
func nameFor(g topology.Graph, from topology.NodeID, to topology.Node) string {
	name := to.Container.Name
	if !topology.LooksLikeAddress(name) {
		return name
	}
	for _, e := range g.EdgesOf(to.ID) {
		if e.Kind == topology.EdgeLink && e.From == from && e.To == to.ID && !topology.LooksLikeAddress(e.Link.Alias) {
			return e.Link.Alias
		}
	}
	for _, e := range g.EdgesOf(to.ID) {
		if e.Kind != topology.EdgeMember || e.From != to.ID || !isMember(g, from, e.To) {
			continue
		}
		if n, ok := g.Node(e.To); !ok || n.Network == nil || n.Network.Default {
			continue
		}
		for _, a := range e.Member.Aliases {
			if !topology.LooksLikeAddress(a) {
				return a
			}
		}
	}
	return name
}

// isMember reports whether container c is on network n.
func isMember(g topology.Graph, c, n topology.NodeID) bool {
	return slices.ContainsFunc(g.EdgesOf(c), func(e topology.Edge) bool {
		return e.Kind == topology.EdgeMember && e.From == c && e.To == n
	})
}

// knownName reports whether name is a name of to: its container name, one
// of its network aliases, or the alias of a link from → to.
func knownName(g topology.Graph, from, to topology.NodeID, name string) bool {
	if n, ok := g.Node(to); ok && n.Container != nil && n.Container.Name == name {
		return true
	}
	for _, e := range g.EdgesOf(to) {
		switch {
		case e.Kind == topology.EdgeMember && e.From == to && slices.Contains(e.Member.Aliases, name):
			return true
		case e.Kind == topology.EdgeLink && e.From == from && e.To == to && e.Link.Alias == name:
			return true
		}
	}
	return false
}

// targetByRef finds a probe target: a container by full ID or exact name,
// or one of the IP addresses the engine gave a container.
func targetByRef(g topology.Graph, ref string) (topology.Node, error) {
	if net.ParseIP(ref) == nil {
		return g.ContainerByRef(ref)
	}
	for _, e := range g.Edges {
		if e.Kind == topology.EdgeMember && e.Member.IP != "" && e.Member.IP == ref {
			if n, ok := g.Node(e.From); ok {
				return n, nil
			}
		}
	}
	return topology.Node{}, fmt.Errorf("%w: %q is neither a known container nor one of their addresses", topology.ErrNotFound, ref)
}

// ipFor picks the address of to that a probe by IP from from uses: the one
// the user named, when ref is one of to's addresses; else the one the
// prediction is about (reach's Target), so that a probe and the "predicted"
// line beside it always speak of the same path.
func ipFor(x *reach.Explainer, ref string, from, to topology.NodeID) (string, error) {
	if net.ParseIP(ref) != nil {
		return ref, nil // targetByRef took it from the graph, as the engine spelled it
	}
	return x.Target(from, to)
}

// probeResponse is the answer to POST /api/probes.
type probeResponse struct {
	Results []probe.Result `json:"results"`
}

// handleProbes serves "POST /api/probes": it runs the probes now and
// answers with every result (each is also streamed as a "probe" message).
func handleProbes(src LiveSource, p Prober, ll *LessonLive, probers map[string]Prober) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req probeRequest
		if err := decodeJSON(c, &req); err != nil {
			return err
		}
		snap := src.Snapshot()
		reqs, err := req.resolve(snap.Graph)
		if err != nil {
			return err
		}
		var rs []probe.Result
		if probers == nil {
			rs = p.Run(c.Request().Context(), reqs)
		} else {
			rs = runOnEngines(c.Request().Context(), snap.Graph, reqs, probers)
		}
		ll.recordProbes(snap, rs)
		return c.JSON(http.StatusOK, probeResponse{Results: rs})
	}
}

// runOnEngines runs probes planned on the merged map of several engines:
// each in the engine of the container it runs from (whose own Docker ID
// it is given), whatever engine its target is on (a task across an
// overlay), the engines' batches side by side. Results name the
// containers as the map does.
func runOnEngines(ctx context.Context, g topology.Graph, reqs []probe.Request, probers map[string]Prober) []probe.Result {
	batches := map[string][]probe.Request{}
	var order []string
	for _, r := range reqs {
		n, _ := g.Node(topology.ContainerNodeID(r.From))
		if _, ok := batches[n.Engine]; !ok {
			order = append(order, n.Engine)
		}
		r.From = strings.TrimSuffix(r.From, topology.EngineSep+n.Engine)
		batches[n.Engine] = append(batches[n.Engine], r)
	}
	out := make([][]probe.Result, len(order))
	var wg sync.WaitGroup
	for i, engine := range order {
		wg.Go(func() {
			p, ok := probers[engine]
			if !ok {
				for _, r := range batches[engine] {
					out[i] = append(out[i], probe.Result{From: r.From, To: r.To, By: r.By, Target: r.Target, Port: r.Port,
						Failure: probe.FailImpossible, Detail: "dockmap has no engine " + engine + " to probe from", At: time.Now()})
				}
				return
			}
			out[i] = p.Run(ctx, batches[engine])
		})
	}
	wg.Wait()
	var rs []probe.Result
	for i, engine := range order {
		for _, r := range out[i] {
			rs = append(rs, onMap(r, engine))
		}
	}
	return rs
}

// onMap names the container a result of engine's prober ran from as the
// merged map does; its target is the map's already, for probes are
// planned there (runOnEngines).
func onMap(r probe.Result, engine string) probe.Result {
	if engine != "" && engine != engines.Local {
		r.From += topology.EngineSep + engine
	}
	return r
}

// EngineProbePublisher is ProbePublisher for the prober of one engine of
// several: its results name their containers as the merged map does.
func EngineProbePublisher(pub Publisher, engine string) func(probe.Result) {
	publish := ProbePublisher(pub)
	return func(r probe.Result) { publish(onMap(r, engine)) }
}

// ProbePublisher turns probe results into live "probe" messages.
func ProbePublisher(pub Publisher) func(probe.Result) {
	return func(r probe.Result) {
		pub.Publish(protocol.Message(&protocol.Probe{Result: r}))
	}
}
