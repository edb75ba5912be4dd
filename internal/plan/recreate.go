package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// Options are what the operator allowed when starting dockmap.
type Options struct {
	// AllowBinds are the host path prefixes binds may come from
	// (--allow-bind), already checked by topology.ValidateBindPrefixes.
	AllowBinds []string
	// AllowDangerous lets mounts that give a container the host through
	// (--allow-dangerous-specs).
	AllowDangerous bool
}

// Planner plans actions with the operator's options.
type Planner struct {
	opts Options
}

// New returns a Planner.
func New(opts Options) *Planner { return &Planner{opts: opts} }

// canRecreate says why the subject of a re-create cannot be re-created, or
// nil: the rules of canRecreate, and a container on the host's network,
// whose copy would get the host's network too (the engine adapter refuses
// such a spec unless the operator allowed it; the plan says so first).
func (p *Planner) canRecreate(c topology.Node) error {
	if err := canRecreate(c); err != nil {
		return err
	}
	if c.Container.NetworkMode == "host" && !p.opts.AllowDangerous {
		return fmt.Errorf("%w: %s uses the host's network: its copy would too, and dockmap will not re-create such a container unless started with --allow-dangerous-specs",
			topology.ErrForbidden, c.Container.Name)
	}
	return nil
}

// recreatePlan plans re-creating subject with change, taking the
// containers that would break along when withDeps. The caller adds the
// action's own summary in front of the one it sets, then seals it.
func (p *Planner) recreatePlan(g topology.Graph, action Action, subject topology.Node, change Change, why string, withDeps bool) *Plan {
	rs, deps, breaks := recreateSet(g, subject, change, why, withDeps)
	pl := &Plan{
		Action: action, Method: MethodRecreate, Subject: ref(subject), Confirm: true, Job: true,
		Recreates: rs, Dependents: deps, RecreateDependents: withDeps, Breaks: breaks,
	}
	byID := map[string]topology.Node{}
	for _, r := range rs {
		byID[r.Container.ID], _ = g.Node(topology.ContainerNodeID(r.Container.ID))
	}
	for i, r := range rs {
		pl.Steps = append(pl.Steps, recreateSteps(g, i, byID[r.Container.ID], r)...)
	}
	for i, r := range rs {
		for _, e := range liveLinks(g, byID[r.Container.ID]) {
			if e.Kind == topology.EdgeBrokenLink && !slices.ContainsFunc(r.Change.AddLinks, func(l Link) bool { return l.Alias == e.Link.Alias }) {
				pl.Loses = append(pl.Loses, Loss{Kind: LossLink, Of: r.Container,
					Text: r.Container.Name + "'s broken link " + e.Link.Alias + " (to the removed " + e.Link.Target + ") is not carried over: the engine would refuse to create the copy with it"})
			}
		}
		pl.Steps = append(pl.Steps, Step{ID: StepID(i, "remove-old", ""), Kind: "remove-old", Container: r.Container.Name,
			Text: "remove the old " + r.Container.Name + " (its volumes stay)"})
		pl.Loses = append(pl.Loses, Loss{Kind: LossWritableLayer, Of: r.Container,
			Text: "files " + r.Container.Name + " changed outside its volumes and binds (docker diff) are not carried over"})
	}
	if len(rs) > 1 {
		pl.Summary += fmt.Sprintf(", then %s, which depend on it, the same way", names(refsOf(rs[1:])))
	}
	if len(breaks) > 0 {
		var who []string
		for _, b := range breaks {
			if !slices.Contains(who, b.Container.Name) {
				who = append(who, b.Container.Name)
			}
		}
		pl.Summary += ". Left as they are, these break: " + strings.Join(who, ", ")
	}
	for _, r := range rs {
		if r.Expect.Running {
			pl.Notes = append(pl.Notes, r.Container.Name+" is stopped for the re-create: a few seconds without it")
		}
	}
	return pl
}

func refsOf(rs []Recreate) []Ref {
	out := make([]Ref, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Container)
	}
	return out
}

// StepID names a step of the i-th re-create of a plan: "r0.stop",
// "r1.connect:appnet". The engine adapter reports its steps under these
// IDs, so the steps the page ticks are the plan's own.
func StepID(i int, kind, network string) string {
	id := fmt.Sprintf("r%d.%s", i, kind)
	if network != "" {
		id += ":" + network
	}
	return id
}

// recreateSteps are the forward steps of re-creating c (the i-th of the
// plan): what the engine adapter does, in this order.
func recreateSteps(g topology.Graph, i int, c topology.Node, r Recreate) []Step {
	name := c.Container.Name
	step := func(kind, network, text string) Step {
		return Step{ID: StepID(i, kind, network), Kind: kind, Container: name, Network: network, Text: text}
	}
	var out []Step
	if r.Expect.Running {
		out = append(out, step("stop", "", "stop "+name))
	}
	out = append(out, step("rename", "", "rename the old "+name+" to "+topology.LeftoverNameOf(name, c.Container.ID)))
	nets := map[string]string{}
	for _, m := range memberships(g, c) {
		nets[m.Member.NetworkName] = m.Member.NetworkID
	}
	if c.Container.OwnStack() && len(nets) > 0 {
		out = append(out, step("disconnect", "", "take the old "+name+" off "+strings.Join(r.Expect.Networks, ", ")+" (it holds their static IPs and aliases)"))
	}
	primary := topology.PrimaryNetwork(c.Container.NetworkMode, nets)
	out = append(out, step("create", "", "create the new "+name+" with every setting carried over"+changeText(r.Change)))
	if c.Container.OwnStack() {
		for _, n := range r.Expect.Networks {
			if n != primary {
				out = append(out, step("connect", n, "connect the new "+name+" to "+n))
			}
		}
	}
	if r.Expect.Running {
		out = append(out, step("start", "", "start the new "+name), step("verify", "", "check the new "+name+" stays up (or turns healthy)"))
	}
	return out
}

// changeText says a change in words, after "carried over".
func changeText(ch Change) string {
	var parts []string
	for _, l := range ch.RemoveLinks {
		parts = append(parts, "without the link "+l)
	}
	for _, l := range ch.AddLinks {
		parts = append(parts, "with --link "+l.Target.Name+":"+l.Alias)
	}
	for _, m := range ch.AddMounts {
		ro := ""
		if m.ReadOnly {
			ro = ", read-only"
		}
		parts = append(parts, fmt.Sprintf("with the %s %s at %s%s", m.Type, m.Source, m.Target, ro))
	}
	for _, v := range ch.AddVolumesFrom {
		ro := ""
		if v.ReadOnly {
			ro = " (read-only)"
		}
		parts = append(parts, "with the volumes of "+v.Donor.Name+ro)
	}
	for _, f := range ch.Follow {
		parts = append(parts, "following the new "+f.Name)
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}
