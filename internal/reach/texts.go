package reach

import (
	"fmt"

	"github.com/dockmap/dockmap/internal/topology"
)

var errEmptyName = fmt.Errorf("empty name: %w", topology.ErrInvalid)

// stopped returns the reasons a or b cannot take part at all: one of them,
// or the owner of a namespace one of them borrows, is not running. It
// returns nil when both are up.
func (x *Explainer) stopped(a, b int32) []Reason {
	var rs []Reason
	for _, i := range [2]int32{a, b} {
		c := &x.cs[i]
		if !c.running {
			fix := "Start it (docker start " + c.name + ")."
			if len(c.broken) > 0 {
				fix = "Repair or remove its broken link " + c.broken[0].alias + " first: the engine cannot start it until then."
			}
			rs = append(rs, Reason{Code: "stopped", Text: c.name + " is stopped.", Fix: fix})
			continue
		}
		if r := &x.cs[c.root]; !r.running {
			rs = append(rs, Reason{
				Code: "donor-stopped",
				Text: c.name + " runs in " + r.name + "'s network namespace, and " + r.name + " is stopped.",
				Fix:  "Start " + r.name + ", then restart " + c.name + " (docker start " + r.name + " && docker restart " + c.name + ").",
			})
		}
	}
	return rs
}

// brokenReason says what a broken legacy link of a does.
func (x *Explainer) brokenReason(a int32, bl brokenLink) Reason {
	c := &x.cs[a]
	gone := bl.target
	if orig, ok := topology.LeftoverName(bl.target); ok {
		gone = "the old " + orig + " (" + bl.target + ")"
	}
	return Reason{
		Code: "broken-link",
		Text: c.name + "'s link " + bl.alias + " points at " + gone + ", which was removed: the name " + bl.alias +
			" no longer resolves, nothing runs in " + c.name + " (dockmap cannot probe from it), and it cannot start again until the link is repaired.",
		Fix: "Repair the link in " + c.name + "'s panel (it re-points " + bl.alias + " at the container that has that name now), or remove it; both re-create " + c.name + ".",
	}
}

// brokenNote is the note every prediction from a container with a broken
// link carries, or nil.
func (x *Explainer) brokenNote(a int32) *Reason {
	if len(x.cs[a].broken) == 0 {
		return nil
	}
	r := x.brokenReason(a, x.cs[a].broken[0])
	return &r
}

// sharedNote says that a and b are one host on the network.
func (x *Explainer) sharedNote(a, b int32) []Reason {
	ca, cb := &x.cs[a], &x.cs[b]
	const same = ": they are the same host on the network; use localhost."
	var text string
	switch ca.root {
	case b:
		text = ca.name + " runs in " + cb.name + "'s network namespace" + same
	case a:
		text = cb.name + " runs in " + ca.name + "'s network namespace" + same
	default:
		text = ca.name + " and " + cb.name + " both run in " + x.cs[ca.root].name + "'s network namespace" + same
	}
	return []Reason{{Code: "shared-namespace", Text: text}}
}

// modeReasons explains host and none modes of the namespace owners. Two
// host-mode containers share the host's stack: the one OK case, as a note.
// It returns nil when neither is in host or none mode, or only a is in host
// mode (fromHost explains that).
func (x *Explainer) modeReasons(a, b int32) []Reason {
	ca, cb := &x.cs[a], &x.cs[b]
	ma, mb := x.cs[ca.root].mode, x.cs[cb.root].mode
	var rs []Reason
	for _, c := range [2]*container{ca, cb} {
		if x.cs[c.root].mode == modeNone {
			rs = append(rs, Reason{
				Code: "no-network",
				Text: c.name + " has no network (--network none).",
				Fix:  "Recreate " + c.name + " on a network (docker run --network NETWORK ...): a container in none mode cannot be connected.",
			})
		}
	}
	switch {
	case rs != nil:
		return rs
	case ma == modeHost && mb == modeHost:
		return []Reason{{
			Code: "host-network",
			Text: ca.name + " and " + cb.name + " both use the host's network stack: they are the same host on the network; use localhost.",
		}}
	case mb == modeHost:
		r := Reason{
			Code: "host-network",
			Text: cb.name + " uses the host's network stack: it has no container IP and no container name on any network.",
			Fix:  "Reach it at the host's address on a port it listens on",
		}
		if ms := x.cs[ca.root].members; len(ms) > 0 && ms[0].info != nil && ms[0].info.Gateway != "" {
			r.Fix += " (from " + ca.name + ", the gateway " + ms[0].info.Gateway + ")"
		}
		r.Fix += ", or run " + cb.name + " on a user-defined network with " + ca.name + "."
		return []Reason{r}
	}
	return nil
}

// noCommon says that a and b share no network, and which one to attach
// where: the target to a user network of a, else a to one of b's.
func (x *Explainer) noCommon(a, b int32) Reason {
	ca, cb := &x.cs[a], &x.cs[b]
	ra, rb := &x.cs[ca.root], &x.cs[cb.root]
	r := Reason{Code: "no-common-network", Text: ca.name + " and " + cb.name + " have no network in common."}
	if n, ok := x.userNetwork(ra); ok {
		r.Fix = "Attach " + rb.name + " to " + n + " (docker network connect " + n + " " + rb.name + ")."
	} else if n, ok := x.userNetwork(rb); ok {
		r.Fix = "Attach " + ra.name + " to " + n + " (docker network connect " + n + " " + ra.name + ")."
	} else {
		r.Fix = "Attach both to a user-defined network (docker network create appnet && docker network connect appnet " +
			ra.name + " && docker network connect appnet " + rb.name + ")."
	}
	return r
}

// userNetwork returns the name of c's first user-defined network.
func (x *Explainer) userNetwork(c *container) (string, bool) {
	for _, m := range c.members {
		if n := &x.nets[m.net]; n.user {
			return n.name, true
		}
	}
	return "", false
}

// commonNote says why names work on the user-defined network n.
func (x *Explainer) commonNote(a, b int32, n *network) Reason {
	return Reason{
		Code: "common-network",
		Text: x.cs[a].name + " and " + x.cs[b].name + " are both on " + n.name + ": its DNS resolves their names and aliases both ways.",
	}
}

// linkNote says what the legacy link ra → rb writes into ra's /etc/hosts.
func (x *Explainer) linkNote(ra, rb int32, alias string) Reason {
	parent, child := x.cs[ra].name, x.cs[rb].name
	return Reason{
		Code: "link",
		Text: parent + " links to " + child + " as " + alias + ": the link writes " + alias + " and " + child +
			" into " + parent + "'s /etc/hosts (one way only).",
	}
}

// linkPortsNote says that with ICC off only a link opens the target's ports.
func (x *Explainer) linkPortsNote(a, b int32, n *network) Reason {
	return Reason{
		Code: "link-ports",
		Text: "inter-container communication is off on " + n.name + ": " + x.cs[a].name + "'s link opens " +
			x.cs[b].name + "'s exposed ports to it, but nothing else.",
	}
}

func noDNS(from, to string) Reason {
	return Reason{
		Code: "no-dns-default-bridge",
		Text: "the default bridge has no DNS: names resolve only through links or a user-defined network.",
		Fix: "Attach " + from + " and " + to + " to a user-defined network (docker network connect appnet " + from +
			" && docker network connect appnet " + to + "), or recreate " + from + " with --link " + to + ".",
	}
}

// oneWay says that the only link goes from child back to parent.
func oneWay(from, to string) Reason {
	return Reason{
		Code: "one-way-link",
		Text: "the link is one-way: " + to + "→" + from + ", not " + from + "→" + to + ".",
		Fix:  "Recreate " + from + " with --link " + to + ", or use a user-defined network, where names work both ways.",
	}
}
