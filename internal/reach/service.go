package reach

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// ServicePrediction is what the graph says about reaching a Swarm service
// from a container, with the addresses the probes use: the server runs
// them as given, choosing nothing the user typed.
//
// A service is reached over an overlay its tasks join
// (https://docs.docker.com/engine/swarm/networking/): there its name
// resolves to its VIP, an IPVS virtual address that answers TCP and UDP on
// the service's ports but not ping, and tasks.<name> resolves, round
// robin, to the addresses of its running tasks, which do answer ping.
type ServicePrediction struct {
	// From is the full container ID, Service the service's ID and Name its
	// name (which resolves to the VIP).
	From    string `json:"from"`
	Service string `json:"service"`
	Name    string `json:"name"`
	// Network is the network From shares with the service that the
	// probes go over; "" when they share none.
	Network string `json:"network,omitempty"`
	// VIP is the service's virtual IP on Network, without its prefix
	// length; "" when it has none there (endpoint mode dnsrr) or no
	// network is shared.
	VIP string `json:"vip,omitempty"`
	// TasksName is "tasks.<name>".
	TasksName string `json:"tasksName"`
	// Port is the TCP port the service's tasks listen on (a published
	// port's target, else a port its task containers expose), 0 when the
	// graph knows none.
	Port uint16 `json:"port,omitempty"`
	// PingVIP pings VIP, PingName pings Name, PingTasks pings TasksName,
	// and TCP connects to Name on Port.
	PingVIP   Outcome `json:"pingVIP"`
	PingName  Outcome `json:"pingName"`
	PingTasks Outcome `json:"pingTasks"`
	TCP       Outcome `json:"tcp"`
}

// ExplainService predicts how the container from reaches the Swarm
// service svc in g. Its errors are those of Explain, with topology.ErrInvalid
// when svc is not a service.
func ExplainService(g topology.Graph, from, svc topology.NodeID) (ServicePrediction, error) {
	return New(g).ExplainService(from, svc)
}

// AgreeService is Agree for a service: by is "vip", "name", "tasks" or
// "tcp".
func AgreeService(p ServicePrediction, by string, ok bool) bool {
	switch by {
	case "vip":
		return p.PingVIP.OK == ok
	case "name":
		return p.PingName.OK == ok
	case "tasks":
		return p.PingTasks.OK == ok
	case "tcp":
		return p.TCP.OK == ok
	}
	return false
}

// replica is one task of a service as the rules need it.
type replica struct {
	name, host string
	task       *topology.SwarmTask
	// up: the task runs, its container too (when the map shows it), and
	// its node is ready; why says otherwise.
	up   bool
	why  string
	nets []int32
	port uint16
}

// ExplainService predicts how from reaches the service svc: by its VIP,
// by its name, by tasks.<name> and by TCP. It returns an error wrapping
// topology.ErrNotFound when either ID is not in the graph, and
// topology.ErrInvalid when from is not a container or svc not a service.
func (x *Explainer) ExplainService(from, svc topology.NodeID) (ServicePrediction, error) {
	a, err := x.lookup(from)
	if err != nil {
		return ServicePrediction{}, errPair(from, svc, err)
	}
	n, found := x.g.Node(svc)
	switch {
	case !found:
		return ServicePrediction{}, errPair(from, svc, fmt.Errorf("%s: %w", svc, topology.ErrNotFound))
	case n.Kind != topology.KindService || n.Service == nil:
		return ServicePrediction{}, errPair(from, svc, fmt.Errorf("%s is a %s, not a service: %w", svc, n.Kind, topology.ErrInvalid))
	}
	s := n.Service
	ca := &x.cs[a]
	ra := &x.cs[ca.root]
	p := ServicePrediction{From: ca.id, Service: s.ID, Name: s.Name, TasksName: "tasks." + s.Name}

	// The service's networks: those its tasks join, and those it has a VIP on.
	onSvc := map[int32]bool{}
	vips := map[int32]string{}
	for _, ref := range s.Networks {
		if i, ok := x.netIndex[topology.NetworkNodeID(ref.ID)]; ok {
			onSvc[i] = true
		}
	}
	anyVIP := ""
	for _, v := range s.VIPs {
		i, ok := x.netIndex[topology.NetworkNodeID(v.NetworkID)]
		if !ok {
			continue
		}
		addr, _, _ := strings.Cut(v.Addr, "/")
		onSvc[i], vips[i] = true, addr
		if anyVIP == "" && !x.nets[i].ingress {
			anyVIP = addr
		}
	}
	reps := x.replicasOf(svc)

	// What keeps from out whatever the service does: its own state, its
	// network mode, and no overlay in common.
	var block []Reason
	if r, down := x.down(a); down {
		block = append(block, r)
	}
	shared := int32(-1)
	switch ra.mode {
	case modeNone:
		block = append(block, Reason{
			Code: "no-network",
			Text: ca.name + " has no network (--network none).",
			Fix:  "Recreate " + ca.name + " on a network (docker run --network NETWORK ...): a container in none mode cannot be connected.",
		})
	case modeHost:
		block = append(block, Reason{
			Code: "host-network",
			Text: ca.name + " uses the host's network stack: it is on no overlay, and Docker's DNS does not serve it, so " + s.Name + " and tasks." + s.Name + " do not resolve.",
			Fix:  "Reach " + s.Name + " at a port it publishes on any Swarm node, or run " + ca.name + " on an overlay " + s.Name + " is on.",
		})
	default:
		// The first shared network on which a task runs, else the first
		// shared one; never the ingress network, which serves no names.
		for _, m := range ra.members {
			if !onSvc[m.net] || x.nets[m.net].ingress {
				continue
			}
			if shared < 0 {
				shared = m.net
			}
			if runsOn(reps, m.net) {
				shared = m.net
				break
			}
		}
		if shared < 0 {
			block = append(block, x.noOverlay(ca, s, onSvc)...)
		}
	}

	// A published port's target is the service's word on where it
	// listens; without one, a port a running task's container exposes.
	for _, sp := range s.Ports {
		if (sp.Protocol == "tcp" || sp.Protocol == "") && sp.Target > 0 && sp.Target <= 65535 {
			p.Port = uint16(sp.Target)
			break
		}
	}
	for _, r := range reps {
		if p.Port == 0 && r.up && r.port != 0 && (shared < 0 || slices.Contains(r.nets, shared)) {
			p.Port = r.port
		}
	}

	vip := ""
	if shared >= 0 {
		p.Network = x.nets[shared].name
		vip = vips[shared]
		p.VIP = vip
	}
	shownVIP := vip
	if shownVIP == "" {
		shownVIP = anyVIP
	}
	noPing := vipNoPing(s.Name, shownVIP, p.Port)
	if block != nil {
		p.PingTasks, p.TCP = fail(block), fail(block)
		p.PingVIP = fail(append(block[:len(block):len(block)], noPing))
		p.PingName = fail(append(block[:len(block):len(block)], nameToVIP(s.Name, noPing)))
		return p, nil
	}

	net := &x.nets[shared]
	var notes []Reason
	if net.encrypted {
		notes = []Reason{{
			Code: "encrypted-overlay",
			Text: net.name + " is an encrypted overlay: between hosts its traffic is IPsec (ESP, IP protocol 50), which every firewall between the Swarm's hosts must let through.",
		}}
	}
	tasks := ok(net.name, notes)
	if !runsOn(reps, shared) {
		tasks = fail([]Reason{noRunningTask(s, net.name, reps)})
	}
	p.PingTasks = tasks
	switch {
	case !tasks.OK:
		p.TCP = tasks
	case p.Port == 0:
		p.TCP = fail(append(notes[:len(notes):len(notes)], Reason{
			Code: "no-target-port",
			Text: s.Name + " publishes no port and its tasks expose none: there is nothing known to connect to.",
			Fix:  "Probe the port " + s.Name + " listens on, or publish it (docker service update --publish-add PUBLISHED:PORT " + s.Name + ").",
		}))
	default:
		p.TCP = ok(net.name, notes)
	}
	if vip != "" {
		p.PingVIP = fail([]Reason{noPing})
		p.PingName = fail([]Reason{nameToVIP(s.Name, noPing)})
		return p, nil
	}
	// Without a VIP (endpoint mode dnsrr) the name resolves as tasks.<name>
	// does (https://docs.docker.com/engine/swarm/networking/).
	p.PingVIP = fail([]Reason{{
		Code: "no-vip",
		Text: s.Name + " has no VIP on " + net.name + " (endpoint mode dnsrr): its name resolves to its tasks' addresses.",
		Fix:  "Ping " + s.Name + " or tasks." + s.Name + ".",
	}})
	dnsrr := Reason{Code: "dnsrr", Text: s.Name + " has no VIP on " + net.name + ": its name resolves, round robin, to its running tasks' addresses."}
	p.PingName = tasks
	if tasks.OK {
		p.PingName = ok(net.name, append(notes[:len(notes):len(notes)], dnsrr))
	}
	return p, nil
}

// replicasOf returns the tasks of the service node svc.
func (x *Explainer) replicasOf(svc topology.NodeID) []replica {
	var out []replica
	for _, id := range x.replicas[svc] {
		var r replica
		if i, ok := x.index[id]; ok {
			c := &x.cs[i]
			owner := &x.cs[c.root]
			r = replica{name: c.name, host: c.host, task: c.task, up: c.running && owner.running, port: c.tcpPort}
			for _, m := range owner.members {
				r.nets = append(r.nets, m.net)
			}
			if !r.up {
				r.why = "stopped"
			}
		} else if n, ok := x.g.Node(id); ok && n.Task != nil {
			r = replica{name: n.Label, host: n.Host, task: n.Task, up: true}
			for _, m := range x.taskMembers[id] {
				r.nets = append(r.nets, m.net)
			}
		} else {
			continue
		}
		if t := r.task; t != nil && t.State != "running" {
			r.up, r.why = false, t.State+taskError(t)
		}
		sn := (*topology.SwarmNode)(nil)
		if r.task != nil {
			sn = x.swarmByID[r.task.NodeID]
		}
		if sn == nil && r.host != "" {
			sn = x.swarmByHost[r.host]
		}
		switch {
		case !r.up || sn == nil:
		case sn.State != "ready":
			r.up, r.why = false, "its node "+sn.Hostname+" is "+sn.State
		case sn.Availability == "drain":
			r.up, r.why = false, "its node "+sn.Hostname+" is drained"
		}
		out = append(out, r)
	}
	return out
}

// runsOn reports whether a task of reps runs on network net.
func runsOn(reps []replica, net int32) bool {
	for _, r := range reps {
		if r.up && slices.Contains(r.nets, net) {
			return true
		}
	}
	return false
}

// noOverlay says that c shares no overlay with the service s (onSvc are
// the positions of s's networks), with the fix that attaches c to one.
func (x *Explainer) noOverlay(c *container, s *topology.SwarmService, onSvc map[int32]bool) []Reason {
	var ov *network
	var names []string
	for i := range x.nets {
		if n := &x.nets[i]; onSvc[int32(i)] && !n.ingress {
			names = append(names, n.name)
			if ov == nil {
				ov = n
			}
		}
	}
	owner := &x.cs[c.root]
	if ov == nil {
		return []Reason{{
			Code: "no-common-overlay",
			Text: s.Name + "'s tasks join no overlay but the ingress network, where Docker's DNS serves no names: " +
				c.name + " can reach it only at a published port.",
			Fix: "On a Swarm manager: docker network create -d overlay --attachable appnet && docker service update --network-add appnet " +
				s.Name + ", then " + joinTo(owner, "appnet") + ".",
		}}
	}
	r := Reason{
		Code: "no-common-overlay",
		Text: c.name + " (on " + hostLabel(owner.host) + ") is on none of " + s.Name + "'s networks (" + strings.Join(names, ", ") +
			"): a service is reached over an overlay its tasks join.",
	}
	fix, blocked := x.attach(owner, ov, c.name)
	r.Fix = fix
	if blocked != nil {
		r.Fix = "On a Swarm manager, create an attachable overlay (docker network create -d overlay --attachable appnet) and add it to " +
			s.Name + " (docker service update --network-add appnet " + s.Name + "), then " + joinTo(owner, "appnet") + "."
	}
	return append([]Reason{r}, blocked...)
}

// vipNoPing says that the VIP does not answer ping.
func vipNoPing(svc, vip string, port uint16) Reason {
	addr := "VIP"
	if vip != "" {
		addr = "VIP " + vip
	}
	probe := "Probe TCP on the port " + svc + " listens on"
	if port != 0 {
		probe = "Probe TCP port " + strconv.Itoa(int(port))
	}
	return Reason{
		Code: "vip-no-ping",
		Text: svc + "'s " + addr + " is a virtual address: it answers TCP and UDP on the service's ports, not ping.",
		Fix:  probe + ", or ping tasks." + svc + ", which resolves to the tasks' own addresses.",
	}
}

// nameToVIP is vipNoPing for a ping by the service's name.
func nameToVIP(svc string, r Reason) Reason {
	r.Text = "the name " + svc + " resolves to the service's VIP, and " + r.Text
	return r
}

// noRunningTask says that no task of s runs on the network, with each
// task's word.
func noRunningTask(s *topology.SwarmService, net string, reps []replica) Reason {
	r := Reason{
		Code: "no-running-task",
		Fix:  "docker service ps --no-trunc " + s.Name + " shows each task's error; fix its cause, then docker service update --force " + s.Name + ".",
	}
	counts := " (" + strconv.FormatUint(s.Running, 10) + " of " + strconv.FormatUint(s.Wanted, 10) + " running)"
	if len(reps) == 0 {
		r.Text = s.Name + " has no task on the map" + counts + ", so tasks." + s.Name + " resolves to nothing."
		if s.Wanted == 0 {
			r.Fix = "Scale it up (docker service scale " + s.Name + "=1)."
		}
		return r
	}
	var whys []string
	for _, rep := range reps {
		why := rep.why
		if rep.up {
			why = "runs, but not on " + net
		}
		whys = append(whys, rep.name+" on "+hostLabel(rep.host)+": "+why)
	}
	for _, rep := range reps {
		if !rep.up && rep.task != nil {
			r.Fix = taskFix(rep.task)
			break
		}
	}
	r.Text = "no task of " + s.Name + " runs on " + net + counts + ", so tasks." + s.Name + " resolves to nothing: " + strings.Join(whys, "; ") + "."
	return r
}
