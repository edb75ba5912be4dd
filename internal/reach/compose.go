package reach

import (
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// Docker Compose's networking rules (https://docs.docker.com/compose/how-tos/networking/):
// a project gets a network named "<project>_default" unless its services
// list networks of their own; each service joins the networks its
// `networks:` lists (default when none) with its service name as an alias
// on each, so every service reaches every other by service name on a
// network they share. A network of another project is joined only when
// the compose file declares it `external: true` (Compose then uses it by
// its full name and does not create it).

// composeFacts are what the explainer keeps of a container Compose made.
type composeFacts struct {
	project, service string
	// file is where the project's compose file is, as its labels say
	// ("" when they don't).
	file string
}

func composeOf(c *topology.ContainerInfo) composeFacts {
	if c.Project == "" {
		return composeFacts{}
	}
	file, _, _ := strings.Cut(c.Labels[topology.ComposeConfigFilesLabel], ",")
	return composeFacts{project: c.Project, service: c.Service, file: file}
}

// composeNetwork says which project made a network and its key in that
// project's file ("back" for "shop_back").
func composeNetwork(n *topology.NetworkInfo) (project, key string) {
	project, key = n.Labels[topology.ComposeProjectLabel], n.Labels[topology.ComposeNetworkLabel]
	if project != "" && key == "" {
		key = strings.TrimPrefix(n.Name, project+"_")
	}
	return project, key
}

// netKey is how a's compose file names network n: its key when a's
// project made it, else its full name (declared external).
func netKey(n *network, project string) string {
	if n.project == project && n.key != "" {
		return n.key
	}
	return n.name
}

// composeNoCommon explains, for two Compose services with no network in
// common, why not in Compose's terms and the fix in the compose file; nil
// when either container is not a Compose service.
func (x *Explainer) composeNoCommon(a, b int32) []Reason {
	ca, cb := &x.cs[a], &x.cs[b]
	ra, rb := &x.cs[ca.root], &x.cs[cb.root]
	pa, pb := ra.compose, rb.compose
	if pa.project == "" || pb.project == "" {
		return nil
	}
	target := x.userNet(rb)
	where := "the compose file of " + pa.project
	if pa.file != "" {
		where = pa.project + "'s compose file (" + pa.file + ")"
	}
	if pa.project == pb.project {
		r := Reason{
			Code: "compose-no-common-network",
			Text: ca.name + " (service " + pa.service + ") and " + cb.name + " (service " + pb.service + ") are in Compose project " +
				pa.project + " but share no network: " + x.netsOf(ra, pa.project) + " and " + x.netsOf(rb, pb.project) +
				". Compose joins a service only to the networks its networks: lists (the project's default network when it lists none), and services reach each other by name only on a network they share.",
		}
		if target != nil {
			key := netKey(target, pa.project)
			r.Fix = "In " + where + ", add " + key + " to the networks: of service " + pa.service + " and run docker-compose up -d; to try it now, " +
				joinTo(ra, target.name) + "."
		} else {
			r.Fix = "In " + where + ", put services " + pa.service + " and " + pb.service + " on one network (or list no networks for either, so both join the default network) and run docker-compose up -d."
		}
		return []Reason{r}
	}
	r := Reason{
		Code: "compose-external-network",
		Text: ca.name + " (project " + pa.project + ") and " + cb.name + " (project " + pb.project + ") share no network: each Compose project gets networks of its own (" +
			pb.project + "'s: " + x.netsOf(rb, pb.project) + "), and a service joins another project's network only when its compose file declares that network external: true.",
	}
	if target != nil {
		r.Fix = "In " + where + ", declare the network (networks: " + target.name + ": external: true), add " + target.name +
			" to the networks: of service " + pa.service + ", and run docker-compose up -d; to try it now, " + joinTo(ra, target.name) + "."
	} else {
		r.Fix = "Create a network both projects declare external: true (docker network create shared), add it to the networks: of services " +
			pa.service + " and " + pb.service + ", and run docker-compose up -d in both projects."
	}
	return []Reason{r}
}

// netsOf names the networks c is on, as its compose file would.
func (x *Explainer) netsOf(c *container, project string) string {
	var names []string
	for _, m := range c.members {
		names = append(names, netKey(&x.nets[m.net], project))
	}
	if len(names) == 0 {
		return c.name + " is on no network"
	}
	return c.name + " is on " + strings.Join(names, ", ")
}

// composeCommonNote says why names work between two services of one
// project on its network n; ok is false when Compose's rule is not the
// reason (not both services of n's project).
func (x *Explainer) composeCommonNote(a, b int32, n *network) (Reason, bool) {
	pa, pb := x.cs[x.cs[a].root].compose, x.cs[x.cs[b].root].compose
	if pa.project == "" || pa.project != pb.project || n.project != pa.project {
		return Reason{}, false
	}
	return Reason{
		Code: "common-network",
		Text: x.cs[a].name + " and " + x.cs[b].name + " are services " + pa.service + " and " + pb.service + " of Compose project " + pa.project +
			", both on its network " + netKey(n, pa.project) + ": Compose gives every service its service name there, so " + pb.service +
			" resolves to " + x.cs[b].name + " (and the network's DNS resolves container names and aliases both ways).",
	}, true
}
