package reach

import (
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// Explain predicts whether from can reach to. It returns an error wrapping
// topology.ErrNotFound when either ID is not in the graph, and
// topology.ErrInvalid when either is not a container or both are the same.
func (x *Explainer) Explain(from, to topology.NodeID) (Prediction, error) {
	a, b, err := x.pair(from, to)
	if err != nil {
		return Prediction{}, err
	}
	p := Prediction{From: x.cs[a].id, To: x.cs[b].id}
	x.predict(&p, a, b)
	if note := x.brokenNote(a); note != nil {
		for _, o := range []*Outcome{&p.ByIP, &p.ByName, &p.TCP} {
			o.Reasons = append(o.Reasons, *note)
		}
	}
	return p, nil
}

// ExplainName predicts whether from can ping to by name: a container name,
// a network alias, a link alias, a short ID or "localhost". Its errors are
// those of Explain, plus topology.ErrInvalid for an empty name.
func (x *Explainer) ExplainName(from, to topology.NodeID, name string) (Outcome, error) {
	a, b, err := x.pair(from, to)
	if err != nil {
		return Outcome{}, err
	}
	if strings.TrimSpace(name) == "" {
		return Outcome{}, errPair(from, to, errEmptyName)
	}
	for _, bl := range x.cs[a].broken {
		if strings.EqualFold(name, bl.alias) {
			return fail([]Reason{x.brokenReason(a, bl)}), nil
		}
	}
	o := x.byName(a, b, name)
	if note := x.brokenNote(a); note != nil {
		o.Reasons = append(o.Reasons, *note)
	}
	return o, nil
}

// predict fills the three outcomes of p for the pair a → b.
func (x *Explainer) predict(p *Prediction, a, b int32) {
	if rs := x.stopped(a, b); rs != nil {
		p.ByIP, p.ByName, p.TCP = fail(rs), fail(rs), fail(rs)
		return
	}
	ca, cb := &x.cs[a], &x.cs[b]
	ra, rb := ca.root, cb.root
	if ra == rb {
		note := x.sharedNote(a, b)
		p.ByIP = ok(viaNamespace, note)
		p.ByName = ok("localhost", note)
		p.TCP = x.tcp(b, ok(viaNamespace, note))
		return
	}
	if x.cs[ra].mode == modeHost && x.cs[rb].mode == modeHost {
		note := x.modeReasons(a, b)
		p.ByIP, p.ByName, p.TCP = ok(viaHost, note), ok("localhost", note), x.tcp(b, ok(viaHost, note))
		return
	}
	if rs := x.modeReasons(a, b); rs != nil {
		p.ByIP, p.ByName, p.TCP = fail(rs), fail(rs), fail(rs)
		return
	}
	if x.cs[ra].mode == modeHost {
		x.fromHost(p, a, b)
		return
	}

	// The bridge-mode case: walk the networks both namespaces are on,
	// user-defined ones first, and keep for each outcome the first that
	// works, or every reason when none does.
	var ip, name, tcp choice
	common := false
	x.eachCommonUserFirst(ra, rb, func(ma, mb member) {
		common = true
		v := x.onNetwork(a, b, &x.nets[ma.net])
		ip.add(v.ip)
		name.add(v.name)
		tcp.add(v.tcp)
	})
	if !common {
		rs := x.noCommon(a, b)
		p.ByIP, p.ByName, p.TCP = fail(rs), fail(rs), fail(rs)
		return
	}
	p.ByIP, p.ByName, p.TCP = ip.outcome(), name.outcome(), x.tcp(b, tcp.outcome())
}

// verdict is what one shared network allows.
type verdict struct{ ip, name, tcp Outcome }

// onNetwork applies the network rules to a → b over the shared network n.
func (x *Explainer) onNetwork(a, b int32, n *network) verdict {
	if n.ingress {
		return verdict{ok(n.name, nil), fail([]Reason{x.ingressReason(a, b, n)}), ok(n.name, nil)}
	}
	if n.user {
		if n.iccOff {
			rs := []Reason{n.iccReason}
			return verdict{fail(rs), fail(rs), fail(rs)}
		}
		var notes []Reason
		if n.internal {
			notes = []Reason{n.internalNote}
		}
		if n.encrypted {
			notes = append(notes, x.encryptedNote(a, b, n))
		}
		nameNotes := append([]Reason{x.commonNote(a, b, n)}, notes...)
		return verdict{ok(n.name, notes), ok(n.name, nameNotes), ok(n.name, notes)}
	}

	// The default bridge: no DNS, names only through legacy links, which
	// the engine registers on the namespace owners.
	ra, rb := x.cs[a].root, x.cs[b].root
	alias, linked := x.links[pairKey(ra, rb)]
	var nameFail []Reason
	if !linked {
		nameFail = append(nameFail, noDNS(x.cs[a].name, x.cs[b].name))
		if _, back := x.links[pairKey(rb, ra)]; back {
			nameFail = append(nameFail, oneWay(x.cs[ra].name, x.cs[rb].name))
		}
	}
	if n.iccOff {
		tcp := fail([]Reason{n.iccReason})
		if linked {
			tcp = ok("link alias "+alias, []Reason{x.linkPortsNote(a, b, n)})
		}
		return verdict{fail([]Reason{n.iccReason}), fail(append([]Reason{n.iccReason}, nameFail...)), tcp}
	}
	name := fail(nameFail)
	if linked {
		name = ok("link alias "+alias, []Reason{x.linkNote(ra, rb, alias)})
	}
	return verdict{ok(n.name, nil), name, ok(n.name, nil)}
}

// fromHost fills p for a in host mode: the host reaches container IPs on
// its bridges, but Docker's DNS does not serve it.
func (x *Explainer) fromHost(p *Prediction, a, b int32) {
	ca, cb := &x.cs[a], &x.cs[b]
	rb := &x.cs[cb.root]
	if len(rb.members) == 0 {
		rs := []Reason{{
			Code: "no-common-network",
			Text: cb.name + " is on no network, so " + ca.name + " has no address to reach it at.",
			Fix:  "Attach " + rb.name + " to a network (docker network connect NETWORK " + rb.name + ").",
		}}
		p.ByIP, p.ByName, p.TCP = fail(rs), fail(rs), fail(rs)
		return
	}
	if rs := x.hostToOtherHost(a, b); rs != nil {
		p.ByIP, p.ByName, p.TCP = fail(rs), fail(rs), fail(rs)
		return
	}
	// The host's stack has a route to its own bridges only: an overlay's
	// addresses live in the overlay's own namespace on each host
	// (https://docs.docker.com/engine/network/drivers/overlay/).
	via := ""
	for _, m := range rb.members {
		if !x.nets[m.net].overlay {
			via = x.nets[m.net].name
			break
		}
	}
	if via == "" {
		n := x.nets[rb.members[0].net].name
		rs := []Reason{{
			Code: "host-network",
			Text: ca.name + " uses the host's network stack, and " + cb.name + " is on overlay networks only (" + n +
				"): an overlay's addresses are not routed from the host.",
			Fix: "Reach " + cb.name + " at a port it publishes, or run " + ca.name + " on " + n + " instead of the host's network (if " + n + " is attachable).",
		}}
		p.ByIP, p.ByName, p.TCP = fail(rs), fail(rs), fail(rs)
		return
	}
	note := []Reason{{
		Code: "host-network",
		Text: ca.name + " uses the host's network stack: it reaches " + cb.name + "'s IP on " + via + " through the host.",
	}}
	p.ByIP = ok(via, note)
	p.ByName = fail([]Reason{{
		Code: "host-network",
		Text: ca.name + " uses the host's network stack: Docker's DNS does not serve it, so container names do not resolve.",
		Fix:  "Use " + cb.name + "'s IP or a port it publishes on localhost, or run " + ca.name + " on a user-defined network with " + cb.name + ".",
	}})
	p.TCP = x.tcp(b, ok(via, note))
}

// byName is ExplainName for positions a and b.
func (x *Explainer) byName(a, b int32, name string) Outcome {
	if rs := x.stopped(a, b); rs != nil {
		return fail(rs)
	}
	ca, cb := &x.cs[a], &x.cs[b]
	ra, rb := ca.root, cb.root
	if ra == rb || (x.cs[ra].mode == modeHost && x.cs[rb].mode == modeHost) {
		if strings.EqualFold(name, "localhost") {
			if ra == rb {
				return ok(viaNamespace, x.sharedNote(a, b))
			}
			return ok(viaHost, x.modeReasons(a, b))
		}
		return fail([]Reason{{
			Code: "unknown-name",
			Text: ca.name + " and " + cb.name + " share one network stack: " + name + " is not how they find each other.",
			Fix:  "Use localhost.",
		}})
	}
	if rs := x.modeReasons(a, b); rs != nil {
		return fail(rs)
	}
	if x.cs[ra].mode == modeHost {
		var p Prediction
		x.fromHost(&p, a, b)
		return p.ByName
	}

	var c choice
	common, userNet, ingress := false, int32(-1), int32(-1)
	x.eachCommonUserFirst(ra, rb, func(ma, mb member) {
		n := &x.nets[ma.net]
		common = true
		if n.ingress && ingress < 0 {
			ingress = ma.net
		}
		if n.user && userNet < 0 {
			userNet = ma.net
		}
		if !x.resolves(ra, rb, n, mb, name) {
			return
		}
		switch {
		case n.iccOff:
			c.add(fail([]Reason{n.iccReason}))
		case n.user:
			var notes []Reason
			if n.internal {
				notes = []Reason{n.internalNote}
			}
			c.add(ok(n.name, append([]Reason{x.commonNote(a, b, n)}, notes...)))
		default:
			alias := x.links[pairKey(ra, rb)]
			c.add(ok("link alias "+alias, []Reason{x.linkNote(ra, rb, alias)}))
		}
	})
	switch {
	case !common:
		return fail(x.noCommon(a, b))
	case c.seen:
		return c.outcome()
	}
	r := Reason{
		Code: "unknown-name",
		Text: "no network " + ca.name + " shares with " + cb.name + " gives " + cb.name + " the name " + name + ".",
	}
	if userNet >= 0 {
		nn, rbName := x.nets[userNet].name, x.cs[rb].name
		r.Fix = "Give " + rbName + " the alias " + name + " on " + nn + " (docker network disconnect " + nn + " " + rbName +
			" && docker network connect --alias " + name + " " + nn + " " + rbName + ")."
		return fail([]Reason{r})
	}
	if ingress >= 0 {
		return fail([]Reason{x.ingressReason(a, b, &x.nets[ingress])})
	}
	r.Fix = "Put both on a user-defined network and give " + x.cs[rb].name + " the alias " + name + " there, or recreate " +
		x.cs[ra].name + " with --link " + x.cs[rb].name + ":" + name + "."
	return fail([]Reason{r, noDNS(ca.name, cb.name)})
}

// resolves reports whether name gives rb's address to ra over n.
func (x *Explainer) resolves(ra, rb int32, n *network, mb member, name string) bool {
	c := &x.cs[rb]
	if n.ingress {
		return false
	}
	if n.user {
		if strings.EqualFold(name, c.name) || strings.EqualFold(name, c.shortID) {
			return true
		}
		if mb.info != nil {
			for _, al := range mb.info.Aliases {
				if strings.EqualFold(name, al) {
					return true
				}
			}
		}
		// An endpoint link of the asking container on this network: its
		// alias resolves the target's name there.
		for _, ma := range x.cs[ra].members {
			if &x.nets[ma.net] != n || ma.info == nil {
				continue
			}
			for _, l := range ma.info.Links {
				target, alias, ok := strings.Cut(l, ":")
				if !ok {
					alias = target
				}
				if strings.EqualFold(name, alias) && strings.EqualFold(strings.TrimPrefix(target, "/"), c.name) {
					return true
				}
			}
		}
		return false
	}
	// A link writes "<ip> <alias> <hostname> <name>" into the parent's
	// /etc/hosts; the hostname defaults to the short ID.
	alias, linked := x.links[pairKey(ra, rb)]
	return linked && (strings.EqualFold(name, alias) || strings.EqualFold(name, c.name) || strings.EqualFold(name, c.shortID))
}

// eachCommon calls f for each network that both namespace owners ra and rb
// are on, in network order.
func (x *Explainer) eachCommon(ra, rb int32, f func(ma, mb member)) {
	ms, ns := x.cs[ra].members, x.cs[rb].members
	for i, j := 0, 0; i < len(ms) && j < len(ns); {
		switch {
		case ms[i].net < ns[j].net:
			i++
		case ms[i].net > ns[j].net:
			j++
		default:
			f(ms[i], ns[j])
			i++
			j++
		}
	}
}

// eachCommonUserFirst is eachCommon over the user-defined networks first,
// then the others, so that a choice keeps a user-defined network's answer
// (the one with DNS by name) when several work.
func (x *Explainer) eachCommonUserFirst(ra, rb int32, f func(ma, mb member)) {
	for _, user := range []bool{true, false} {
		x.eachCommon(ra, rb, func(ma, mb member) {
			if x.nets[ma.net].user == user {
				f(ma, mb)
			}
		})
	}
}

// tcp turns a path verdict into the TCP outcome: a connect needs a port.
func (x *Explainer) tcp(b int32, path Outcome) Outcome {
	if !path.OK {
		return path
	}
	cb := &x.cs[b]
	if cb.tcpPort == 0 {
		return fail(append(path.Reasons[:len(path.Reasons):len(path.Reasons)], Reason{
			Code: "no-exposed-port",
			Text: cb.name + " exposes no TCP port: there is nothing known to connect to.",
			Fix:  "Expose the port its service listens on (EXPOSE in the image, or docker run --expose PORT).",
		}))
	}
	return path
}

// choice keeps the first working outcome of several networks, or every
// reason when none works.
type choice struct {
	seen bool
	best Outcome
	why  []Reason
}

func (c *choice) add(o Outcome) {
	c.seen = true
	if c.best.OK {
		return
	}
	if o.OK {
		c.best = o
		return
	}
	for _, r := range o.Reasons {
		dup := false
		for _, s := range c.why {
			if s == r {
				dup = true
				break
			}
		}
		if !dup {
			c.why = append(c.why, r)
		}
	}
}

func (c *choice) outcome() Outcome {
	if c.best.OK {
		return c.best
	}
	return fail(c.why)
}

const (
	viaNamespace = "shared namespace"
	viaHost      = "host network"
)

// noReasons keeps Reasons a JSON list, never null; with no capacity an
// append to it copies.
var noReasons = []Reason{}

func ok(via string, notes []Reason) Outcome {
	if notes == nil {
		notes = noReasons
	}
	return Outcome{OK: true, Via: via, Reasons: notes}
}

func fail(rs []Reason) Outcome {
	if rs == nil {
		rs = noReasons
	}
	return Outcome{Reasons: rs}
}

// Target returns the address a probe by IP from → to should use, so that
// the probe measures the path the ByIP prediction is about: to's address on
// the first shared network where the prediction says ping works (user-defined
// networks first, as in Explain), else on the first shared network, else
// to's first address. Containers that borrow a namespace use its owner's
// addresses. It is "" when to has no address (stopped, host or none mode).
// Its errors are those of Explain.
func (x *Explainer) Target(from, to topology.NodeID) (string, error) {
	a, b, err := x.pair(from, to)
	if err != nil {
		return "", err
	}
	ra, rb := x.cs[a].root, x.cs[b].root
	var works, shared string
	if ra != rb && x.stopped(a, b) == nil && x.modeReasons(a, b) == nil {
		x.eachCommonUserFirst(ra, rb, func(ma, mb member) {
			ip := mb.info.IP
			if ip == "" {
				return
			}
			if shared == "" {
				shared = ip
			}
			if works == "" && x.onNetwork(a, b, &x.nets[ma.net]).ip.OK {
				works = ip
			}
		})
	}
	switch {
	case works != "":
		return works, nil
	case shared != "":
		return shared, nil
	}
	// Bridge addresses repeat from host to host (172.17.0.2 is on every
	// default bridge): a probe from another host must not aim at one and
	// measure a stranger. An overlay address is one across the Swarm.
	owner := &x.cs[rb]
	if host := x.cs[ra].host; host != "" && owner.host != "" && host != owner.host {
		for _, m := range owner.members {
			if n := &x.nets[m.net]; n.overlay && !n.ingress && m.info.IP != "" {
				return m.info.IP, nil
			}
		}
	}
	for _, m := range owner.members {
		if m.info.IP != "" {
			return m.info.IP, nil
		}
	}
	return "", nil
}
