// ids.js is the one place the page knows how internal/topology names the
// graph's elements (topology.ContainerNodeID and friends): a node ID is a
// kind prefix and the Docker ID or name, an edge ID likewise. Every module
// that turns a Docker ID into a graph ID, or back, goes through here.

// Node ID prefixes, by kind.
const prefixes = { container: 'c:', network: 'n:', volume: 'v:', bind: 'b:', ghost: 'g:', service: 'sv:', 'swarm-node': 'sn:', task: 't:' };

// containerNode is the node ID of the container with Docker ID id.
export const containerNode = (id) => `${prefixes.container}${id}`;

// networkNode is the node ID of the network with Docker ID id.
export const networkNode = (id) => `${prefixes.network}${id}`;

// volumeNode is the node ID of the volume named name.
export const volumeNode = (name) => `${prefixes.volume}${name}`;

// onEngine is node ID id as the merged map names it on engine: another
// engine's than the default ("local") ends in "@<engine>"
// (topology.EngineSep).
export const onEngine = (id, engine) => (engine && engine !== 'local' ? `${id}@${engine}` : id);

// serviceNode is the node ID of the Swarm service with ID id.
export const serviceNode = (id) => `${prefixes.service}${id}`;

// probeEndNode is the node ID of a probe result's end (its from or to):
// a container's Docker ID, or a Swarm service's node ID ("sv:<id>"),
// which POST /api/probes gives as the "to" of a probe of a service.
export const probeEndNode = (id) => (String(id).startsWith(prefixes.service) ? String(id) : containerNode(bareID(id)));

// memberEdge is the ID of the edge of container cid's membership of
// network nid (Docker IDs).
export const memberEdge = (cid, nid) => `m:${cid}@${nid}`;

// probeEdge is the ID of the page's own overlay edge of the latest probe
// from container from to container to (Docker IDs) by by ("ip", "name",
// "tcp"): one arrow per way of asking, so that "by IP: yes" and "by name:
// no" show side by side. probeEnds takes it apart into [from, to, by].
export const probeEdge = (from, to, by) => `p:${from}>${to}:${by}`;
export const probeEnds = (id) => {
  const [from, rest] = String(id).slice(2).split('>');
  const i = rest.lastIndexOf(':');
  return [from, rest.slice(0, i), rest.slice(i + 1)];
};

// bareID is the Docker ID of a container, given its Docker ID or its node
// ID.
export const bareID = (id) => String(id || '').replace(/^c:/, '');

// containerID is the Docker ID of a container node.
export const containerID = (node) => bareID(node.id());

// networkID is the Docker ID of a network node.
export const networkID = (node) => node.id().replace(/^n:/, '');

// kindOf names what node ID id is by its prefix: n: network, v: volume,
// b: bind (host path), g: ghost (a removed container broken links still
// name), sv: Swarm service, sn: Swarm node, t: Swarm task, c: container.
// The whole prefix counts: "sv:" and "sn:" share their first letter.
export function kindOf(id) {
  const prefix = String(id).split(':', 1)[0];
  return { n: 'network', v: 'volume', b: 'bind', g: 'ghost', sv: 'service', sn: 'swarm-node', t: 'task' }[prefix] || 'container';
}

// unprefixed is node ID id without its kind prefix ("sv:abc" → "abc").
export const unprefixed = (id) => String(id).replace(/^[a-z]+:/, '');
