package topology

import (
	"slices"
	"strconv"
	"strings"
)

// The labels Docker Compose puts on what it creates. docker-compose 1.29
// sets the project, service, number, oneoff and working-dir/config-files
// labels on containers and the project label on its networks and volumes;
// Compose v2 adds depends_on ("db:service_started:false,cache:…", the
// service, the condition and whether a restart of the dependency restarts
// this one).
const (
	ComposeProjectLabel     = "com.docker.compose.project"
	ComposeServiceLabel     = "com.docker.compose.service"
	ComposeNumberLabel      = "com.docker.compose.container-number"
	ComposeOneOffLabel      = "com.docker.compose.oneoff"
	ComposeDependsOnLabel   = "com.docker.compose.depends_on"
	ComposeWorkingDirLabel  = "com.docker.compose.project.working_dir"
	ComposeConfigFilesLabel = "com.docker.compose.project.config_files"
	ComposeNetworkLabel     = "com.docker.compose.network"
)

// KindProject is a Docker Compose project: "p:<project name>". Its
// containers, and the networks and volumes it made, are drawn inside it.
const KindProject NodeKind = "project"

// EdgeDependsOn joins a Compose service's container to a container of a
// service it depends on (depends_on): "d:<from id>><to id>".
const EdgeDependsOn EdgeKind = "depends-on"

// ProjectNodeID is the node ID of a Compose project.
func ProjectNodeID(name string) NodeID { return NodeID("p:" + name) }

// ProjectInfo is what a project node carries.
type ProjectInfo struct {
	Name string `json:"name"`
	// WorkingDir and ConfigFiles say where the project's compose file is,
	// as its containers' labels do (the first container's, by ID).
	WorkingDir  string   `json:"workingDir,omitempty"`
	ConfigFiles []string `json:"configFiles,omitempty"`
	// Services are the project's service names, sorted; one-off
	// containers (docker-compose run) count under their service too.
	Services   []string `json:"services"`
	Containers int      `json:"containers"`
	Running    int      `json:"running"`
	// Networks are the names of the networks the project made, sorted.
	Networks []string `json:"networks,omitempty"`
}

func (p *ProjectInfo) equal(o *ProjectInfo) bool {
	return p.Name == o.Name && p.WorkingDir == o.WorkingDir && slices.Equal(p.ConfigFiles, o.ConfigFiles) &&
		slices.Equal(p.Services, o.Services) && p.Containers == o.Containers && p.Running == o.Running &&
		slices.Equal(p.Networks, o.Networks)
}

// DependsOnInfo is what a depends-on edge carries.
type DependsOnInfo struct {
	// Service is the service depended on; Condition is Compose's
	// (service_started, service_healthy, service_completed_successfully),
	// "" when the label did not say.
	Service   string `json:"service"`
	Condition string `json:"condition,omitempty"`
}

// composeOf fills a container's Compose fields from its labels.
func composeOf(info *ContainerInfo) {
	p := info.Labels[ComposeProjectLabel]
	if p == "" {
		return
	}
	info.Project = p
	info.Service = info.Labels[ComposeServiceLabel]
	info.Number, _ = strconv.Atoi(info.Labels[ComposeNumberLabel])
	info.OneOff = strings.EqualFold(info.Labels[ComposeOneOffLabel], "true")
}

// ParseDependsOn reads Compose's depends_on label: "svc" or
// "svc:condition[:restart]" entries, comma-separated.
func ParseDependsOn(label string) []DependsOnInfo {
	var out []DependsOnInfo
	for _, part := range strings.Split(label, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		svc, rest, _ := strings.Cut(part, ":")
		cond, _, _ := strings.Cut(rest, ":")
		if svc == "" {
			continue
		}
		out = append(out, DependsOnInfo{Service: svc, Condition: cond})
	}
	return out
}

// addCompose draws the Compose projects of g's containers: a project node
// per project, each member (its containers, and the networks and volumes
// whose labels name the project) grouped in it, and a depends-on edge
// from each of a service's containers to each container of a service it
// depends on. A network or volume is grouped only when a container of its
// project is on the map: a project is drawn while it runs something.
// Nodes and edges are kept sorted by ID.
func addCompose(g *Graph) {
	type project struct {
		info     ProjectInfo
		services map[string][]NodeID // service → its containers, in ID order
	}
	var projects map[string]*project
	for i := range g.Nodes {
		c := g.Nodes[i].Container
		if c == nil || c.Project == "" {
			continue
		}
		if projects == nil {
			projects = map[string]*project{}
		}
		p := projects[c.Project]
		if p == nil {
			p = &project{info: ProjectInfo{Name: c.Project, WorkingDir: c.Labels[ComposeWorkingDirLabel]}, services: map[string][]NodeID{}}
			if files := c.Labels[ComposeConfigFilesLabel]; files != "" {
				p.info.ConfigFiles = strings.Split(files, ",")
			}
			projects[c.Project] = p
		}
		p.info.Containers++
		if c.Running() {
			p.info.Running++
		}
		p.services[c.Service] = append(p.services[c.Service], g.Nodes[i].ID)
		g.Nodes[i].Group = ProjectNodeID(c.Project)
	}
	if projects == nil {
		return
	}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		var labels map[string]string
		switch {
		case n.Network != nil:
			labels = n.Network.Labels
		case n.Volume != nil:
			labels = n.Volume.Labels
		default:
			continue
		}
		p := projects[labels[ComposeProjectLabel]]
		if p == nil {
			continue
		}
		n.Group = ProjectNodeID(p.info.Name)
		if n.Network != nil {
			p.info.Networks = append(p.info.Networks, n.Network.Name)
		}
	}
	var deps []Edge
	for i := range g.Nodes {
		n := &g.Nodes[i]
		c := n.Container
		if c == nil || c.Project == "" || c.OneOff {
			continue
		}
		for _, d := range ParseDependsOn(c.Labels[ComposeDependsOnLabel]) {
			for _, to := range projects[c.Project].services[d.Service] {
				if to == n.ID {
					continue
				}
				deps = append(deps, Edge{
					ID:   EdgeID("d:" + strings.TrimPrefix(string(n.ID), "c:") + ">" + strings.TrimPrefix(string(to), "c:")),
					Kind: EdgeDependsOn, From: n.ID, To: to, DependsOn: &DependsOnInfo{Service: d.Service, Condition: d.Condition},
				})
			}
		}
	}
	for name, p := range projects {
		p.info.Services = make([]string, 0, len(p.services))
		for s := range p.services {
			p.info.Services = append(p.info.Services, s)
		}
		slices.Sort(p.info.Services)
		slices.Sort(p.info.Networks)
		info := p.info
		g.Nodes = append(g.Nodes, Node{ID: ProjectNodeID(name), Kind: KindProject, Label: name, Project: &info})
	}
	slices.SortFunc(g.Nodes, func(a, b Node) int { return strings.Compare(string(a.ID), string(b.ID)) })
	if len(deps) > 0 {
		g.Edges = append(g.Edges, deps...)
		sortEdges(g.Edges)
		g.Edges = compactEdges(g.Edges)
	}
}
