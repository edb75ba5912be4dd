package compose

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v4"
)

// Marshal writes p as a Compose file that both compose-go and Debian's
// docker-compose 1.29 read, with notes as a comment on top.
//
// docker-compose 1.29.2 takes a file without `version:` as the Compose
// specification (its `config` prints version '3.9'), but its schema knows
// no top-level `name` ("'name' does not match any of the regexes: '^x-'"),
// no `required` in depends_on ("services.web.depends_on contains
// unsupported option: 'required'"), and no `host_ip` in a port's long
// syntax ("services.web.ports contains unsupported option: 'host_ip'");
// each checked by hand with `docker-compose config` on this machine, the
// last first seen in TestExportComposeRoundTrip. compose-go writes all three, so they are
// rewritten here: the project's name goes into the comment and, for
// docker-compose, onto the command line (-p); depends_on and ports are
// written in their short forms.
// compose-go reads the result as the same project.
func Marshal(p *types.Project, notes Notes) ([]byte, error) {
	raw, err := p.MarshalYAML()
	if err != nil {
		return nil, fmt.Errorf("marshal compose project: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("read back compose project: %w", err)
	}
	if len(doc.Content) == 1 && doc.Content[0].Kind == yaml.MappingNode {
		root := doc.Content[0]
		dropKey(root, "name")
		escapeDollars(root)
		if svcs := valueOf(root, "services"); svcs != nil {
			for i := 1; i < len(svcs.Content); i += 2 {
				shortDependsOn(svcs.Content[i])
				shortPorts(svcs.Content[i])
			}
		}
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Compose file for project %q, exported by dockmap.\n", p.Name)
	fmt.Fprintf(&buf, "# Bring it up under a name of your choice: docker-compose -p NAME -f FILE up -d\n")
	if len(notes) > 0 {
		buf.WriteString("#\n# Left out (also under " + NotesKey + "):\n")
		for _, svc := range slices.Sorted(maps.Keys(notes)) {
			for _, n := range notes[svc] {
				fmt.Fprintf(&buf, "#   %s: %s\n", svc, strings.ReplaceAll(n, "\n", " "))
			}
		}
	}
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return nil, fmt.Errorf("write compose file: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("write compose file: %w", err)
	}
	return buf.Bytes(), nil
}

// valueOf is the value of key in a mapping node, nil when absent.
func valueOf(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func dropKey(m *yaml.Node, key string) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			m.Content = slices.Delete(m.Content, i, i+2)
			return
		}
	}
}

// shortDependsOn rewrites a service's depends_on mapping as the list of
// its services.
func shortDependsOn(svc *yaml.Node) {
	for i := 0; i+1 < len(svc.Content); i += 2 {
		if svc.Content[i].Value != "depends_on" || svc.Content[i+1].Kind != yaml.MappingNode {
			continue
		}
		m := svc.Content[i+1]
		list := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for j := 0; j+1 < len(m.Content); j += 2 {
			list.Content = append(list.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: m.Content[j].Value})
		}
		svc.Content[i+1] = list
	}
}

// escapeDollars doubles every "$" in the file's values: Compose reads
// "${X}" as a variable of the caller's shell, and an env value or a
// command is the container's, word for word.
func escapeDollars(n *yaml.Node) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			escapeDollars(n.Content[i])
		}
	case yaml.SequenceNode:
		for _, c := range n.Content {
			escapeDollars(c)
		}
	case yaml.ScalarNode:
		n.Value = strings.ReplaceAll(n.Value, "$", "$$")
	}
}

// shortPorts rewrites a service's ports as "[host_ip:][published:]target/protocol".
func shortPorts(svc *yaml.Node) {
	ports := valueOf(svc, "ports")
	if ports == nil || ports.Kind != yaml.SequenceNode {
		return
	}
	for i, p := range ports.Content {
		if p.Kind != yaml.MappingNode {
			continue
		}
		f := map[string]string{}
		for j := 0; j+1 < len(p.Content); j += 2 {
			f[p.Content[j].Value] = p.Content[j+1].Value
		}
		short := f["target"]
		if f["published"] != "" || f["host_ip"] != "" {
			short = f["published"] + ":" + short
		}
		if ip := f["host_ip"]; ip != "" {
			if strings.Contains(ip, ":") {
				ip = "[" + ip + "]"
			}
			short = ip + ":" + short
		}
		if pr := f["protocol"]; pr != "" {
			short += "/" + pr
		}
		delete(f, "target")
		delete(f, "published")
		delete(f, "host_ip")
		delete(f, "protocol")
		if len(f) > 0 {
			continue // a field the short form cannot say: keep the long one
		}
		ports.Content[i] = &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: short}
	}
}
