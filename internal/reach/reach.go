// Package reach predicts whether one container can reach another, and says
// why not in words a workshop participant understands, with the fix. It is
// pure: it reads a topology.Graph and nothing else, so every rule is a table
// test and the predictions can be shown before any probe runs ("predicted")
// and compared with a probe afterwards (Agree).
//
// # Rules
//
// For a pair from → to, the first rule that applies decides; its Reason.Code
// is stable and the page may key on it:
//
//   - "node-down": the Swarm node of from's or to's host (the swarm-node
//     node drawn in the same Host, or the node a task names) is not
//     "ready" (down, unknown, disconnected): nothing on it is reachable. The
//     text carries the node's State and Message. A task (not a plain
//     container) on a drained node gets it too: the Swarm moves it away.
//   - "task-not-running": from or to is a Swarm task whose State is not
//     "running" (rejected, failed, pending, …); the text carries the
//     engine's Error or Message, the fix depends on it ("no suitable node",
//     "network sandbox join failed").
//   - "stopped": from or to is not running; nothing reaches a stopped
//     container. Fix: start it. "donor-stopped": the container whose network
//     namespace one of them borrows (--network container:X) is stopped.
//   - "shared-namespace": the two share one network namespace (a netns
//     edge either way, or both borrow a third's): they are one host on the
//     network and talk over localhost. Two containers in host mode share the
//     host's stack the same way ("host-network", OK).
//   - "no-network": one of them runs with --network none.
//   - "host-network": to runs with --network host and has no container IP;
//     from in host mode reaches container IPs on its own host's bridges
//     through the host but has no container DNS, and no overlay addresses.
//     From in host mode and to on another host: "different-hosts".
//   - "no-common-network": they share no network. Fix: attach the other one
//     to a user-defined network one of them is already on.
//   - "different-hosts" (in place of "no-common-network"): they share no
//     network and run on different hosts (Node.Host): bridges are per host,
//     only an overlay spans hosts. Fix: attach one to an overlay the other
//     is on, else create an attachable overlay on a Swarm manager and attach
//     both (a task through its service: docker service update
//     --network-add).
//   - "compose-no-common-network" (in place of "no-common-network"): both
//     are services of one Compose project on no common network; the fix
//     adds the other's network to the service's networks: in the compose
//     file. "compose-external-network": services of two projects; the fix
//     declares the other project's network external: true. On a shared
//     network of their project the "common-network" note says that
//     Compose names every service there (compose.go).
//   - "not-attachable" (beside either): the overlay the fix would use is not
//     attachable and the container to attach is a plain one (not a task):
//     only services' tasks join it.
//   - On a common overlay names resolve as on a user-defined network; an
//     encrypted overlay adds the "encrypted-overlay" note (IPsec ESP, IP
//     protocol 50, between hosts). The ingress network carries addresses
//     but serves no names: "ingress-no-dns" by name.
//   - On the default bridge, ping by IP works, but a name resolves only
//     through a legacy link from → to ("link" note, Via "link alias X");
//     otherwise "no-dns-default-bridge", and "one-way-link" when the only
//     link goes the other way.
//   - On a common user-defined network names resolve both ways (container
//     name, aliases on that network, short ID): "common-network" note, Via
//     the network. An "internal" network adds a note that its members reach
//     each other but nothing outside.
//   - "icc-off": inter-container communication is off on the network. On a
//     user-defined bridge every packet between its containers is dropped; on
//     the default bridge ping is dropped even between linked containers, and
//     TCP reaches to's exposed ports only through a link from → to
//     ("link-ports" note).
//   - "no-exposed-port": the TCP outcome needs an exposed TCP port of to.
//   - "unknown-name" (ExplainName only): no shared network gives to that name.
//   - "broken-link": from has a legacy link whose target was removed. By
//     that alias nothing resolves; every other outcome carries it as a
//     note, since no probe can run in from (the engine refuses every exec)
//     and from cannot start again until the link is repaired or removed.
//   - An endpoint link (an alias on from's endpoint of a user-defined
//     network) resolves on that network only, from → to.
//
// When several networks are shared, each of the three outcomes (by IP, by
// name, TCP) takes the first network that works, user-defined networks
// (and overlays) first, the ingress network and the default bridge last,
// and names it in Via; when none works, the reasons of every shared
// network are listed.
//
// # Services
//
// ExplainService predicts how a container reaches a Swarm service, and
// gives the addresses the probes use (the VIP on the shared overlay,
// tasks.<name>, the name, the target port):
//
//   - "vip-no-ping": a ping of the VIP, or of the service's name (which
//     resolves to the VIP), always fails: the VIP is an IPVS virtual
//     address that answers TCP and UDP on the service's ports only. Fix:
//     probe TCP, or ping tasks.<name>. "no-vip" (endpoint mode dnsrr): the
//     service has no VIP there, and its name resolves as tasks.<name>
//     does ("dnsrr" note).
//   - tasks.<name> pings, and TCP connects, when the container shares a
//     non-ingress overlay with the service and one of its tasks runs on it
//     (on a ready node); else "no-common-overlay" (with "not-attachable"
//     for a plain container and an overlay that is not attachable),
//     "no-running-task" (each task's error), or the container's own
//     "node-down", "task-not-running", "stopped", "no-network" or
//     "host-network".
//   - "no-target-port": TCP needs a port: a published port's target, else a
//     port a running task's container exposes.
//
// # Concurrency
//
// An Explainer is immutable once New returns: any number of goroutines may
// call its methods at once. It describes the graph it was built from; build a
// new one for each new graph.
package reach

import (
	"fmt"

	"github.com/dockmap/dockmap/internal/topology"
)

// Reason is one fact about a pair, in words a workshop participant
// understands, with the fix.
type Reason struct {
	// Code is stable, e.g. "no-common-network".
	Code string `json:"code"`
	// Text is one sentence: "web and database have no network in common."
	Text string `json:"text"`
	// Fix says what to do: "Attach database to appnet (docker network connect appnet database)."
	Fix string `json:"fix,omitempty"`
}

// Outcome is the predicted result of one way of reaching the target.
type Outcome struct {
	OK bool `json:"ok"`
	// Via says how: a network name, "link alias db", "shared namespace".
	Via string `json:"via,omitempty"`
	// Reasons say why not, or carry notes when OK. Never nil.
	Reasons []Reason `json:"reasons"`
}

// Prediction is what the graph says about reaching To from From.
type Prediction struct {
	// From and To are full container IDs.
	From string `json:"from"`
	To   string `json:"to"`
	// ByIP is an ICMP ping to an IP of To.
	ByIP Outcome `json:"byIP"`
	// ByName is an ICMP ping to To by its name (or an alias).
	ByName Outcome `json:"byName"`
	// TCP is a TCP connect to an exposed port of To, as far as the graph
	// can tell.
	TCP Outcome `json:"tcp"`
}

// Explain predicts whether from can reach to in g. It indexes the whole
// graph first: to explain many pairs of one graph, use New once and
// (*Explainer).Explain. It returns an error wrapping topology.ErrNotFound
// when either ID is not in g, and topology.ErrInvalid when either is not a
// container or both are the same.
func Explain(g topology.Graph, from, to topology.NodeID) (Prediction, error) {
	return New(g).Explain(from, to)
}

// ExplainName predicts whether from can ping to by the given name (a
// container name, a network alias, a link alias, a short ID or "localhost").
// Its errors are those of Explain, plus topology.ErrInvalid for an empty
// name.
func ExplainName(g topology.Graph, from, to topology.NodeID, name string) (Outcome, error) {
	return New(g).ExplainName(from, to, name)
}

// Agree reports whether a measured probe result matches the prediction: by
// is "ip", "name" or "tcp", and ok is what the probe measured. An unknown by
// never agrees. A disagreement means something outside Docker (a firewall,
// a service not listening) is at work.
func Agree(p Prediction, by string, ok bool) bool {
	switch by {
	case "ip":
		return p.ByIP.OK == ok
	case "name":
		return p.ByName.OK == ok
	case "tcp":
		return p.TCP.OK == ok
	}
	return false
}

// errPair is the error for a pair that cannot be explained.
func errPair(from, to topology.NodeID, err error) error {
	return fmt.Errorf("explain %s → %s: %w", from, to, err)
}
