package reach

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

var errEmptyName = fmt.Errorf("empty name: %w", topology.ErrInvalid)

// stopped returns the reasons a or b cannot take part at all: the Swarm
// node of its host is not ready, it is a Swarm task that is not running,
// or it (or the owner of a namespace it borrows) is not running. It
// returns nil when both are up. A task's or a node's own word comes first,
// since it says why where "stopped" only says that.
func (x *Explainer) stopped(a, b int32) []Reason {
	var rs []Reason
	for _, i := range [2]int32{a, b} {
		if r, down := x.down(i); down {
			rs = append(rs, r)
		}
	}
	return rs
}

// down is stopped for one container: the reason it cannot take part, and
// whether there is one.
func (x *Explainer) down(i int32) (Reason, bool) {
	c := &x.cs[i]
	if sn := x.swarmNodeOf(c); sn != nil && sn.State != "ready" {
		return nodeDown(c.name, c.host, sn), true
	}
	if sn := x.swarmNodeOf(c); sn != nil && c.task != nil && sn.Availability == "drain" {
		return nodeDrained(c.name, c.host, sn), true
	}
	if c.task != nil && c.task.State != "running" {
		return x.taskNotRunning(c), true
	}
	if !c.running {
		fix := "Start it (docker start " + c.name + ")."
		if len(c.broken) > 0 {
			fix = "Repair or remove its broken link " + c.broken[0].alias + " first: the engine cannot start it until then."
		}
		return Reason{Code: "stopped", Text: c.name + " is stopped.", Fix: fix}, true
	}
	if r := &x.cs[c.root]; !r.running {
		return Reason{
			Code: "donor-stopped",
			Text: c.name + " runs in " + r.name + "'s network namespace, and " + r.name + " is stopped.",
			Fix:  "Start " + r.name + ", then restart " + c.name + " (docker start " + r.name + " && docker restart " + c.name + ").",
		}, true
	}
	return Reason{}, false
}

// swarmNodeOf returns the Swarm node c runs on, or nil when its host is in
// no Swarm the map shows. A task names its node; any other container is on
// the node drawn in its host.
func (x *Explainer) swarmNodeOf(c *container) *topology.SwarmNode {
	if c.task != nil {
		if sn := x.swarmByID[c.task.NodeID]; sn != nil {
			return sn
		}
	}
	if c.host == "" {
		return nil
	}
	return x.swarmByHost[c.host]
}

// hostLabel is how a text names a host: an engine's name, or the hostname
// of a Swarm node dockmap does not connect to.
func hostLabel(h string) string {
	if h == "" {
		return "its host"
	}
	return strings.TrimPrefix(h, "node:")
}

// nodeDown says that what runs on a Swarm node that is not ready cannot be
// reached: a down or disconnected node is out of the Swarm's overlays, and
// the managers reschedule its services' tasks elsewhere
// (https://docs.docker.com/engine/swarm/how-swarm-mode-works/nodes/).
func nodeDown(name, host string, sn *topology.SwarmNode) Reason {
	why := ""
	if sn.Message != "" {
		why = " (" + sn.Message + ")"
	}
	state := sn.State
	if state == "" {
		state = "unknown"
	}
	return Reason{
		Code: "node-down",
		Text: name + " runs on " + hostLabel(host) + ", whose Swarm node " + sn.Hostname + " is " + state + why +
			": nothing on it is reachable.",
		Fix: "Bring " + sn.Hostname + " back: start its Docker engine and check that it reaches the managers (TCP 2377, TCP and UDP 7946); docker node ls shows its state.",
	}
}

// nodeDrained says that a task on a drained node is on its way out: the
// managers move a drained node's tasks to other nodes (plain containers
// stay), so a probe of this one measures a task about to stop
// (https://docs.docker.com/engine/swarm/swarm-tutorial/drain-node/).
func nodeDrained(name, host string, sn *topology.SwarmNode) Reason {
	return Reason{
		Code: "node-down",
		Text: name + " runs on " + hostLabel(host) + ", whose Swarm node " + sn.Hostname +
			" is drained: the Swarm moves its tasks to other nodes, and this one stops.",
		Fix: "Reach the service's tasks on other nodes (tasks.SERVICE), or take " + sn.Hostname +
			" back into service (docker node update --availability active " + sn.Hostname + ").",
	}
}

// taskNotRunning says that c is a Swarm task that is not running, with the
// engine's own error: a task that is not running is not reachable.
func (x *Explainer) taskNotRunning(c *container) Reason {
	t := c.task
	return Reason{
		Code: "task-not-running",
		Text: c.name + " on " + hostLabel(c.host) + " is " + taskWords(t) + ", and it is " + t.State + taskError(t) + ".",
		Fix:  taskFix(t),
	}
}

// taskWords names a task by its service and slot.
func taskWords(t *topology.SwarmTask) string {
	if t.Slot > 0 {
		return "task " + strconv.Itoa(t.Slot) + " of service " + t.ServiceName
	}
	return "a task of service " + t.ServiceName
}

// taskError is the engine's word on a task, ": <error>" or "".
func taskError(t *topology.SwarmTask) string {
	switch {
	case t.Error != "":
		return ": " + t.Error
	case t.Message != "":
		return ": " + t.Message
	}
	return ""
}

// taskFix says what to do about a task that does not run, for the errors a
// workshop meets most: a task that cannot join its overlay (the Swarm's
// ports are closed between the hosts, see
// https://docs.docker.com/engine/network/drivers/overlay/), and one no node
// can take (constraints or resources).
func taskFix(t *topology.SwarmTask) string {
	why := strings.ToLower(t.Error + " " + t.Message)
	svc := t.ServiceName
	switch {
	case strings.Contains(why, "no suitable node"):
		return "No node can take it: check the service's placement constraints and resources (docker service inspect " + svc +
			") against docker node ls (a node must be ready and active)."
	case strings.Contains(why, "sandbox join failed") || strings.Contains(why, "network sandbox"):
		return "The task could not join its overlay: open the Swarm's ports between the hosts (TCP 2377, TCP and UDP 7946, UDP 4789, and IP protocol 50 for an encrypted overlay), then docker service update --force " + svc + "."
	}
	return "docker service ps --no-trunc " + svc + " shows each try's error; fix its cause, then docker service update --force " + svc + "."
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
// where: the target to a user network of a, else a to one of b's. On two
// hosts it says that no bridge can join them (differentHosts).
func (x *Explainer) noCommon(a, b int32) []Reason {
	ca, cb := &x.cs[a], &x.cs[b]
	ra, rb := &x.cs[ca.root], &x.cs[cb.root]
	if ra.host != "" && rb.host != "" && ra.host != rb.host {
		return x.differentHosts(a, b)
	}
	if rs := x.composeNoCommon(a, b); rs != nil {
		return rs
	}
	r := Reason{Code: "no-common-network", Text: ca.name + " and " + cb.name + " have no network in common."}
	var blocked []Reason
	if n := x.userNet(ra); n != nil {
		r.Fix, blocked = x.attach(rb, n, cb.name)
	} else if n := x.userNet(rb); n != nil {
		r.Fix, blocked = x.attach(ra, n, ca.name)
	}
	if r.Fix == "" || blocked != nil {
		r.Fix = "Attach both to a user-defined network (docker network create appnet && docker network connect appnet " +
			ra.name + " && docker network connect appnet " + rb.name + ")."
	}
	return append([]Reason{r}, blocked...)
}

// differentHosts says that a and b run on two hosts and share no network:
// bridges are per host, and only an overlay spans hosts
// (https://docs.docker.com/engine/network/drivers/overlay/). The fix joins
// them on an overlay one of them is on, else on a new attachable one.
func (x *Explainer) differentHosts(a, b int32) []Reason {
	ca, cb := &x.cs[a], &x.cs[b]
	ra, rb := &x.cs[ca.root], &x.cs[cb.root]
	r := Reason{
		Code: "different-hosts",
		Text: ca.name + " runs on " + hostLabel(ra.host) + " and " + cb.name + " on " + hostLabel(rb.host) +
			", and they share no network: a bridge network exists on one host only; only an overlay network spans hosts.",
	}
	var blocked []Reason
	if n := x.overlayOf(rb); n != nil {
		r.Fix, blocked = x.attach(ra, n, ca.name)
	} else if n := x.overlayOf(ra); n != nil {
		r.Fix, blocked = x.attach(rb, n, cb.name)
	}
	if r.Fix == "" || blocked != nil {
		r.Fix = "On a Swarm manager, create an attachable overlay (docker network create -d overlay --attachable appnet), then " +
			joinTo(ra, "appnet") + " and " + joinTo(rb, "appnet") + "."
	}
	return append([]Reason{r}, blocked...)
}

// attach is the fix that puts c (named name in the texts) on network n, and
// the reason it cannot when n is an overlay that is not attachable and c a
// plain container: only services' tasks join such an overlay; a container
// of docker run needs --attachable
// (https://docs.docker.com/engine/network/drivers/overlay/).
func (x *Explainer) attach(c *container, nw *network, name string) (string, []Reason) {
	n := nw.name
	if nw.overlay && !nw.attachable && c.task == nil {
		return "", []Reason{{
			Code: "not-attachable",
			Text: n + " is an overlay that is not attachable: only services' tasks join it, and " + name + " is a plain container.",
			Fix: "Run " + c.name + " as a service on " + n + " (docker service create --network " + n + " ...), or recreate " + n +
				" with --attachable on a Swarm manager (docker network create -d overlay --attachable " + n + ") once its services have left it.",
		}}
	}
	return "Attach " + c.name + " to " + n + " (" + joinTo(c, n) + ").", nil
}

// joinTo is the command that puts c on network n: a task joins through its
// service, any other container through docker network connect, run on
// the container's host.
func joinTo(c *container, n string) string {
	if c.task != nil {
		return "docker service update --network-add " + n + " " + c.task.ServiceName
	}
	cmd := "docker network connect " + n + " " + c.name
	if c.host != "" {
		cmd += " on " + hostLabel(c.host)
	}
	return cmd
}

// hostToOtherHost explains a in host mode and b on another host: the host
// reaches the addresses of its own bridges only. It returns nil when both
// are on one host.
func (x *Explainer) hostToOtherHost(a, b int32) []Reason {
	ca, cb := &x.cs[a], &x.cs[b]
	ha, hb := ca.host, x.cs[cb.root].host
	if ha == "" || hb == "" || ha == hb {
		return nil
	}
	return []Reason{{
		Code: "different-hosts",
		Text: ca.name + " uses " + hostLabel(ha) + "'s network stack and " + cb.name + " runs on " + hostLabel(hb) +
			": a host reaches the container addresses of its own bridges only; only an overlay network spans hosts.",
		Fix: "Run " + ca.name + " on an attachable overlay with " + cb.name + " (docker network create -d overlay --attachable appnet on a Swarm manager), or reach " +
			cb.name + " at a port it publishes on " + hostLabel(hb) + ".",
	}}
}

// overlayOf returns c's first overlay that is not the ingress network, or
// nil.
func (x *Explainer) overlayOf(c *container) *network {
	for _, m := range c.members {
		if n := &x.nets[m.net]; n.overlay && !n.ingress {
			return n
		}
	}
	return nil
}

// ingressReason says that the ingress network serves no names.
func (x *Explainer) ingressReason(a, b int32, n *network) Reason {
	return Reason{
		Code: "ingress-no-dns",
		Text: x.cs[a].name + " and " + x.cs[b].name + " share only " + n.name +
			", the routing mesh's network: it carries published ports, and Docker's DNS serves no names on it.",
		Fix: "Put both services on a user-defined overlay (docker network create -d overlay appnet on a manager, then docker service update --network-add appnet SERVICE for each).",
	}
}

// encryptedNote says what an encrypted overlay asks of the network between
// hosts: its traffic is IPsec ESP, IP protocol 50, which a firewall that
// passes only TCP and UDP drops
// (https://docs.docker.com/engine/network/drivers/overlay/#encrypt-traffic-on-an-overlay-network).
func (x *Explainer) encryptedNote(a, b int32, n *network) Reason {
	ca, cb := &x.cs[a], &x.cs[b]
	ha, hb := x.cs[ca.root].host, x.cs[cb.root].host
	text := n.name + " is an encrypted overlay: between hosts its traffic is IPsec (ESP, IP protocol 50), which every firewall between "
	if ha != "" && hb != "" && ha != hb {
		text += hostLabel(ha) + " and " + hostLabel(hb) + " must let through."
	} else {
		text += "the hosts must let through; " + ca.name + " and " + cb.name + " are on one host, so theirs stays on it."
	}
	return Reason{Code: "encrypted-overlay", Text: text}
}

// userNet returns c's first user-defined network, or nil.
func (x *Explainer) userNet(c *container) *network {
	for _, m := range c.members {
		if n := &x.nets[m.net]; n.user {
			return n
		}
	}
	return nil
}

// commonNote says why names work on the user-defined network n.
func (x *Explainer) commonNote(a, b int32, n *network) Reason {
	if r, ok := x.composeCommonNote(a, b, n); ok {
		return r
	}
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
