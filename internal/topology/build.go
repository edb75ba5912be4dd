package topology

import (
	"path"
	"slices"
	"strings"
)

// Build turns an inventory into a graph. It is pure and deterministic: the
// same inventory always gives the same graph, sorted by ID.
func Build(inv Inventory) Graph {
	nodes := make([]Node, 0, len(inv.Containers)+len(inv.Networks)+len(inv.Volumes))
	// At most one edge per endpoint and per mount: sized once, the slices
	// are not regrown and copied.
	nmembers, nmounts := 0, 0
	for _, c := range inv.Containers {
		nmembers += len(c.Endpoints)
		nmounts += len(c.Mounts)
	}
	// Edges are gathered by kind, containers taken in ID order, so that the
	// concatenation in ID-prefix order ("l:" < "m:" < "mt:" < "ns:" <
	// "vf:") is already sorted (sorting these 88-byte values from random
	// order was a third of Build's time). Broken links ("bl:") go first.
	var broken, links, netns, volumesFrom []Edge
	members := make([]Edge, 0, nmembers)
	mounts := make([]Edge, 0, nmounts)

	byName := make(map[string]string, len(inv.Containers)) // primary name → ID
	byID := make(map[string]bool, len(inv.Containers))
	for _, c := range inv.Containers {
		byName[c.Name] = c.ID
		byID[c.ID] = true
	}
	// Node IDs by network ID and volume name, made once and shared by
	// every edge to them.
	networks := make(map[string]NodeID, len(inv.Networks))
	networkIDs := make(map[string]string, len(inv.Networks)) // name → ID
	for _, n := range inv.Networks {
		node := networkNode(n)
		networks[n.ID] = node.ID
		networkIDs[n.Name] = n.ID
		nodes = append(nodes, node)
	}
	volumes := make(map[string]NodeID, len(inv.Volumes))
	for _, v := range inv.Volumes {
		node := volumeNode(v)
		volumes[v.Name] = node.ID
		nodes = append(nodes, node)
	}
	binds := make(map[string]bool)
	// live holds "<parent id>/<alias>" for every link the list shows.
	live := make(map[string]bool)

	order := make([]int32, len(inv.Containers))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(inv.Containers[a].ID, inv.Containers[b].ID) })
	for _, ci := range order {
		c := &inv.Containers[ci]
		cid := ContainerNodeID(c.ID)
		info := containerInfo(*c)
		nodes = append(nodes, Node{ID: cid, Kind: KindContainer, Label: c.Name, Container: info})

		firstMember := len(members)
		for _, ep := range c.Endpoints {
			if ep.NetworkID == "" {
				// A container that never ran lists its network by name only.
				ep.NetworkID = networkIDs[ep.NetworkName]
			}
			nid, ok := networks[ep.NetworkID]
			if !ok {
				// Listed between the two list calls: the next re-list has it.
				continue
			}
			members = append(members, Edge{
				ID:   EdgeID("m:" + c.ID + "@" + ep.NetworkID),
				Kind: EdgeMember, From: cid, To: nid,
				Member: &MemberInfo{
					NetworkName: ep.NetworkName, NetworkID: ep.NetworkID, EndpointID: ep.EndpointID,
					IP: ep.IP, PrefixLen: ep.PrefixLen, Gateway: ep.Gateway, IPv6: ep.IPv6,
					MAC: ep.MAC, Aliases: ep.Aliases, Links: ep.Links,
				},
			})
			// An endpoint link resolves its target's name live on this
			// network; drawn when that name is a container's now.
			for _, l := range ep.Links {
				target, alias, ok := strings.Cut(l, ":")
				if !ok {
					alias = target
				}
				target = strings.TrimPrefix(target, "/")
				tid, found := byName[target]
				if !found && byID[target] {
					tid, found = target, true
				}
				if !found || alias == "" {
					continue
				}
				links = append(links, Edge{
					ID:   EdgeID("l:" + c.ID + ">" + tid + ":" + alias),
					Kind: EdgeLink, From: cid, To: ContainerNodeID(tid), Link: &LinkInfo{Alias: alias, Network: ep.NetworkName},
				})
			}
		}

		sortEdges(members[firstMember:])

		// The engine lists a legacy link only as an extra name of the
		// target, "<parent>/<alias>" (research/docker-api-semantics.md §1.1).
		for _, name := range c.Names {
			if !strings.Contains(name, "/") {
				continue
			}
			parent, alias := path.Dir(name), path.Base(name)
			pid, ok := byName[parent]
			if !ok {
				continue
			}
			from := ContainerNodeID(pid)
			live[pid+"/"+alias] = true
			links = append(links, Edge{
				ID:   EdgeID("l:" + pid + ">" + c.ID + ":" + alias),
				Kind: EdgeLink, From: from, To: cid, Link: &LinkInfo{Alias: alias},
			})
		}

		if donor, ok := strings.CutPrefix(c.NetworkMode, "container:"); ok {
			if !byID[donor] {
				donor = byName[strings.TrimPrefix(donor, "/")]
			}
			if donor != "" {
				netns = append(netns, Edge{
					ID:   EdgeID("ns:" + c.ID + ">" + donor),
					Kind: EdgeNetNS, From: cid, To: ContainerNodeID(donor),
				})
			}
		}

		firstVF := len(volumesFrom)
		for _, vf := range c.VolumesFrom {
			ref, ro := parseVolumesFrom(vf)
			donor := ref
			if !byID[donor] {
				donor = byName[donor]
			}
			if donor == "" {
				continue // removed since: the mounts it gave stay as mount edges
			}
			volumesFrom = append(volumesFrom, Edge{
				ID:   EdgeID("vf:" + c.ID + ">" + donor),
				Kind: EdgeVolumesFrom, From: cid, To: ContainerNodeID(donor),
				VolumesFrom: &VolumesFromInfo{ReadOnly: ro, Ref: ref},
			})
		}
		sortEdges(volumesFrom[firstVF:])

		firstMount := len(mounts)
		for _, m := range c.Mounts {
			var to NodeID
			switch m.Type {
			case "volume":
				var ok bool
				if to, ok = volumes[m.Name]; !ok {
					// Created between the list calls: draw it from the mount.
					node := volumeNode(Volume{Name: m.Name, Driver: m.Driver, Anonymous: looksAnonymous(m.Name, nil)})
					to, volumes[m.Name] = node.ID, node.ID
					nodes = append(nodes, node)
				}
			case "bind":
				to = BindNodeID(m.Source)
				if !binds[m.Source] {
					binds[m.Source] = true
					nodes = append(nodes, Node{ID: to, Kind: KindBind, Label: m.Source, Bind: &BindInfo{Path: m.Source}})
				}
			default:
				continue
			}
			mounts = append(mounts, Edge{
				ID:   EdgeID("mt:" + c.ID + ">" + string(to) + ":" + m.Destination),
				Kind: EdgeMount, From: cid, To: to,
				Mount: &MountInfo{Type: m.Type, Destination: m.Destination, ReadOnly: !m.RW, Mode: m.Mode},
			})
		}
		sortEdges(mounts[firstMount:])
	}

	sortEdges(links)
	broken, nodes = brokenLinks(inv.Containers, order, live, nodes)
	edges := make([]Edge, 0, len(broken)+len(links)+len(members)+len(mounts)+len(netns)+len(volumesFrom))
	edges = append(append(append(append(append(append(edges, broken...), links...), members...), mounts...), netns...), volumesFrom...)
	// Already in order unless one container ID is a prefix of another
	// (never with real 64-digit IDs): checking is linear, sorting is not.
	if !slices.IsSortedFunc(edges, compareEdges) {
		sortEdges(edges)
	}
	slices.SortFunc(nodes, func(a, b Node) int { return strings.Compare(string(a.ID), string(b.ID)) })
	g := Graph{Nodes: nodes, Edges: compactEdges(edges)}
	addCompose(&g)
	return g
}

// brokenLinks finds the legacy links an inspect shows that the list does
// not: their target was removed (the engine lists a live link as an extra
// name of its target, and a removed target has no names). Each becomes an
// edge to a ghost node named after the target's last name, so the map can
// say which link broke and offer to repair it. Containers are taken in ID
// order, so the edges come out sorted.
func brokenLinks(cs []Container, order []int32, live map[string]bool, nodes []Node) ([]Edge, []Node) {
	var out []Edge
	ghosts := make(map[string]bool)
	for _, ci := range order {
		c := &cs[ci]
		first := len(out)
		for _, l := range c.Links {
			if live[c.ID+"/"+l.Alias] || l.Target == "" {
				continue
			}
			to := GhostNodeID(l.Target)
			if !ghosts[l.Target] {
				ghosts[l.Target] = true
				g := &GhostInfo{Name: l.Target}
				g.Original, _ = LeftoverName(l.Target)
				nodes = append(nodes, Node{ID: to, Kind: KindGhost, Label: l.Target, Ghost: g})
			}
			out = append(out, Edge{
				ID:   EdgeID("bl:" + c.ID + ":" + l.Alias),
				Kind: EdgeBrokenLink, From: ContainerNodeID(c.ID), To: to,
				Link: &LinkInfo{Alias: l.Alias, Target: l.Target},
			})
		}
		sortEdges(out[first:])
	}
	return compactEdges(out), nodes
}

// parseVolumesFrom splits a HostConfig.VolumesFrom entry ("web",
// "/web", "web:ro", "web:rw", "web:ro,z") into the donor's name or ID and
// whether the copied mounts are read-only.
func parseVolumesFrom(s string) (donor string, readOnly bool) {
	donor, mode, _ := strings.Cut(s, ":")
	return strings.TrimPrefix(donor, "/"), slices.Contains(strings.Split(mode, ","), "ro")
}

func compareEdges(a, b Edge) int { return strings.Compare(string(a.ID), string(b.ID)) }

func sortEdges(es []Edge) {
	if len(es) > 1 {
		slices.SortFunc(es, compareEdges)
	}
}

// compactEdges drops repeated IDs: two links with one alias from one parent
// to one target are the same edge on the map.
func compactEdges(edges []Edge) []Edge {
	return slices.CompactFunc(edges, func(a, b Edge) bool { return a.ID == b.ID })
}

func containerInfo(c Container) *ContainerInfo {
	info := &ContainerInfo{
		ID: c.ID, Name: c.Name, Image: c.Image, ImageID: c.ImageID, Command: c.Command,
		Created: c.Created, State: c.State, Status: c.Status, Health: healthOf(c.Status),
		Labels: c.Labels, Ports: c.Ports, NetworkMode: c.NetworkMode, AutoRemove: c.AutoRemove,
	}
	for _, m := range c.Mounts {
		if m.Type == "tmpfs" {
			info.Tmpfs = append(info.Tmpfs, m.Destination)
		}
	}
	composeOf(info)
	return info
}

// healthOf reads the health the engine appends to a list entry's status,
// e.g. "Up 3 minutes (healthy)"; the list carries no other health field.
func healthOf(status string) string {
	switch {
	case strings.Contains(status, "(healthy)"):
		return "healthy"
	case strings.Contains(status, "(unhealthy)"):
		return "unhealthy"
	case strings.Contains(status, "(health: starting)"):
		return "starting"
	}
	return ""
}

func networkNode(n Network) Node {
	return Node{
		ID: NetworkNodeID(n.ID), Kind: KindNetwork, Label: n.Name,
		Network: &NetworkInfo{
			ID: n.ID, Name: n.Name, Driver: n.Driver, Scope: n.Scope, Internal: n.Internal,
			Attachable: n.Attachable, ICC: n.ICC, Default: n.Default, Subnets: n.Subnets,
			Options: n.Options, Labels: n.Labels,
		},
	}
}

func volumeNode(v Volume) Node {
	label := v.Name
	if v.Anonymous && len(label) > 12 {
		label = label[:12]
	}
	return Node{
		ID: VolumeNodeID(v.Name), Kind: KindVolume, Label: label,
		Volume: &VolumeInfo{Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, Anonymous: v.Anonymous, Labels: v.Labels,
			Options: v.Options, Backing: BackingText(VolumeBacking(v.Driver, v.Options))},
	}
}

// AnonymousVolumeLabel is set by engines ≥ 23 on volumes they name
// themselves; older engines only give them a 64-hex-digit name.
const AnonymousVolumeLabel = "com.docker.volume.anonymous"

// looksAnonymous reports whether a volume was named by the engine.
func looksAnonymous(name string, labels map[string]string) bool {
	if _, ok := labels[AnonymousVolumeLabel]; ok {
		return true
	}
	if len(name) != 64 {
		return false
	}
	for _, r := range name {
		if (r < '0' || r > '9') && (r < 'a' || r > 'f') {
			return false
		}
	}
	return true
}

// LooksAnonymous reports whether a volume with this name and these labels
// was named by the engine rather than by a user.
func LooksAnonymous(name string, labels map[string]string) bool { return looksAnonymous(name, labels) }
