package reach

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// Between is a fingerprint of everything a probe from → to depends on:
// which containers the two names are (a re-create makes a new one),
// whether they run, whose network stack they use, their endpoints on the
// networks they share (address, aliases, endpoint links) with those
// networks' traits, and the legacy links between them. A probe result
// recorded with one fingerprint is stale once the pair's fingerprint
// differs; changes elsewhere on the map leave it current.
//
// The empty string means the pair is not on the map.
func (x *Explainer) Between(from, to topology.NodeID) string {
	a, b, err := x.pair(from, to)
	if err != nil {
		return ""
	}
	var s strings.Builder
	side := func(i int32) {
		c := &x.cs[i]
		root := &x.cs[c.root]
		fmt.Fprintf(&s, "c %s %t %d root %s\n", c.id, c.running, c.mode, root.id)
		// Only on a Swarm's map, so that a fingerprint of a map without
		// one stays what it was.
		if c.task != nil {
			fmt.Fprintf(&s, "  t %s %s %s %s\n", c.task.ID, c.task.State, c.task.Error, c.task.Message)
		}
		if sn := x.swarmNodeOf(c); sn != nil {
			fmt.Fprintf(&s, "  sn %s %s %s %s\n", c.host, sn.ID, sn.State, sn.Message)
		}
	}
	side(a)
	side(b)
	ra, rb := x.cs[a].root, x.cs[b].root
	x.eachCommonUserFirst(ra, rb, func(ma, mb member) {
		n := &x.nets[ma.net]
		fmt.Fprintf(&s, "n %s user=%t internal=%t icc=%t\n", n.name, n.user, n.internal, !n.iccOff)
		if n.overlay {
			fmt.Fprintf(&s, "  overlay ingress=%t encrypted=%t\n", n.ingress, n.encrypted)
		}
		for _, m := range []member{ma, mb} {
			if m.info == nil {
				continue
			}
			aliases := slices.Clone(m.info.Aliases)
			slices.Sort(aliases)
			links := slices.Clone(m.info.Links)
			slices.Sort(links)
			fmt.Fprintf(&s, "  e %s %s %v %v\n", m.info.EndpointID, m.info.IP, aliases, links)
		}
	})
	// Positions differ from one map to the next: IDs name the ends.
	for _, p := range [][2]int32{{ra, rb}, {rb, ra}} {
		if alias, ok := x.links[pairKey(p[0], p[1])]; ok {
			fmt.Fprintf(&s, "l %s>%s %s\n", x.cs[p[0]].id, x.cs[p[1]].id, alias)
		}
	}
	for _, i := range []int32{ra, rb} {
		for _, bl := range x.cs[i].broken {
			fmt.Fprintf(&s, "b %s %s %s\n", x.cs[i].id, bl.alias, bl.target)
		}
	}
	sum := sha256.Sum256([]byte(s.String()))
	return hex.EncodeToString(sum[:12])
}
