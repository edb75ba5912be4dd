package plan

import (
	"fmt"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// Limits on a run request: generous for people, small for abuse.
const (
	maxCmdArgs   = 64
	maxCmdArgLen = 1024
)

// RunRequest asks for a new container, kept running like `docker run -dit`
// (POST /api/containers).
type RunRequest struct {
	Name  string   `json:"name"`
	Image string   `json:"image"`
	Cmd   []string `json:"cmd"`
	// Network is the network to start on (name or ID); "" or "bridge" is
	// the default bridge.
	Network string `json:"network"`
}

// ContainerRequest names a container for start, stop, restart and remove.
type ContainerRequest struct {
	Container string `json:"-"`
	// Force removes a running container (killed first).
	Force bool `json:"force"`
}

// Run plans creating and starting a container.
func (p *Planner) Run(g topology.Graph, req RunRequest) (*Plan, error) {
	if err := topology.ValidateContainerName(req.Name); err != nil {
		return nil, err
	}
	if err := topology.ValidateImageRef(req.Image); err != nil {
		return nil, err
	}
	if len(req.Cmd) > maxCmdArgs {
		return nil, fmt.Errorf("%w: at most %d command arguments", topology.ErrInvalid, maxCmdArgs)
	}
	for _, a := range req.Cmd {
		if len(a) > maxCmdArgLen || strings.ContainsRune(a, 0) {
			return nil, fmt.Errorf("%w: a command argument is too long or holds a NUL byte", topology.ErrInvalid)
		}
	}
	if _, err := g.ContainerByRef(req.Name); err == nil {
		return nil, fmt.Errorf("%w: a container named %q already exists", topology.ErrConflict, req.Name)
	}
	spec := &RunSpec{Name: req.Name, Image: req.Image, Cmd: req.Cmd}
	where := "the default bridge"
	if req.Network != "" && req.Network != "bridge" {
		n, err := g.NetworkByRef(req.Network)
		if err != nil {
			return nil, err
		}
		if n.Network.Driver == "host" || n.Network.Driver == "null" {
			return nil, fmt.Errorf("%w: run on a bridge network, not %q", topology.ErrInvalid, n.Network.Name)
		}
		if !n.Network.Default {
			spec.Network, where = n.Network.ID, n.Network.Name
		}
	}
	pl := &Plan{
		Action: ActionRun, Method: MethodCreate, Subject: Ref{Name: req.Name}, Run: spec,
		Summary: fmt.Sprintf("create %s from %s on %s and start it, kept running like docker run -dit", req.Name, req.Image, where),
		Steps: []Step{
			{ID: "create", Kind: "create", Container: req.Name, Text: "create " + req.Name + " from " + req.Image},
			{ID: "start", Kind: "start", Container: req.Name, Text: "start " + req.Name},
		},
	}
	return pl.seal(), nil
}

// Start plans starting a container. What would make the engine refuse is
// said first, in words: a link to a container that is not running, a
// broken link, the network of a container that is not running.
func (p *Planner) Start(g topology.Graph, req ContainerRequest) (*Plan, error) {
	ct, err := container(g, "container", req.Container)
	if err != nil {
		return nil, err
	}
	if err := startable(g, ct); err != nil {
		return nil, err
	}
	name := ct.Container.Name
	pl := &Plan{Action: ActionStart, Method: MethodInPlace, Subject: ref(ct), Summary: "start " + name,
		Steps: []Step{{ID: "start", Kind: "start", Container: name, Text: "start " + name}}}
	if running(ct) {
		pl.Summary, pl.Steps[0].Text = name+" is running already: nothing to do", "nothing to do"
	}
	return pl.seal(), nil
}

// startable says why the engine would refuse to start c, or nil.
func startable(g topology.Graph, c topology.Node) error {
	name := c.Container.Name
	for _, e := range liveLinks(g, c) {
		if e.Kind == topology.EdgeBrokenLink {
			return fmt.Errorf("%w: %s has a link %s to %s, which was removed: the engine cannot start it until the link is repaired or removed (the × or Repair in its panel)",
				topology.ErrConflict, name, e.Link.Alias, e.Link.Target)
		}
		if e.Link.Network != "" {
			continue
		}
		if t, ok := g.Node(e.To); ok && t.Container != nil && !running(t) {
			return fmt.Errorf("%w: %s links to %s as %s, which is not running: the engine cannot start %s until %s runs; start %s first",
				topology.ErrConflict, name, t.Container.Name, e.Link.Alias, name, t.Container.Name, t.Container.Name)
		}
	}
	if d, ok := netnsDonor(g, c); ok && !running(d) {
		return fmt.Errorf("%w: %s uses the network stack of %s, which is not running: start %s first", topology.ErrConflict, name, d.Container.Name, d.Container.Name)
	}
	return nil
}

// Stop plans stopping a container; what depends on it is said.
func (p *Planner) Stop(g topology.Graph, req ContainerRequest) (*Plan, error) {
	ct, err := container(g, "container", req.Container)
	if err != nil {
		return nil, err
	}
	name := ct.Container.Name
	pl := &Plan{Action: ActionStop, Method: MethodInPlace, Subject: ref(ct), Summary: "stop " + name,
		Steps: []Step{{ID: "stop", Kind: "stop", Container: name, Text: "stop " + name + " (its stop signal, then killed after its stop timeout)"}}}
	pl.Dependents = dependents(g, ct, effectStop)
	pl.Breaks = breaking(pl.Dependents)
	return pl.seal(), nil
}

// Restart plans restarting a container.
func (p *Planner) Restart(g topology.Graph, req ContainerRequest) (*Plan, error) {
	ct, err := container(g, "container", req.Container)
	if err != nil {
		return nil, err
	}
	if err := startable(g, ct); err != nil {
		return nil, err
	}
	name := ct.Container.Name
	pl := &Plan{Action: ActionRestart, Method: MethodInPlace, Subject: ref(ct), Summary: "restart " + name,
		Steps: []Step{{ID: "restart", Kind: "restart", Container: name, Text: "stop and start " + name}}}
	pl.Dependents = dependents(g, ct, effectStop)
	return pl.seal(), nil
}

// RemoveContainer plans removing a container, its volumes kept; a running
// one only with Force.
func (p *Planner) RemoveContainer(g topology.Graph, req ContainerRequest) (*Plan, error) {
	ct, err := container(g, "container", req.Container)
	if err != nil {
		return nil, err
	}
	name := ct.Container.Name
	if running(ct) && !req.Force {
		return nil, fmt.Errorf("%w: %s is running: stop it first, or force-remove it", topology.ErrConflict, name)
	}
	pl := &Plan{Action: ActionRemoveContainer, Method: MethodRemove, Subject: ref(ct), Force: req.Force,
		Summary: "remove " + name + "; its volumes stay",
		Steps:   []Step{{ID: "remove", Kind: "remove", Container: name, Text: "remove " + name}},
		Loses: []Loss{
			{Kind: LossContainer, Of: ref(ct), Text: name + " and its settings"},
			{Kind: LossWritableLayer, Of: ref(ct), Text: "files " + name + " changed outside its volumes and binds"},
		},
	}
	if req.Force && running(ct) {
		pl.Steps[0].Text = "kill and remove " + name
	}
	pl.Dependents = dependents(g, ct, effectRemove)
	pl.Breaks = breaking(pl.Dependents)
	return pl.seal(), nil
}

func breaking(ds []Dependent) []Dependent {
	var out []Dependent
	for _, d := range ds {
		if d.Breaks {
			out = append(out, d)
		}
	}
	return out
}
