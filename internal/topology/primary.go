package topology

import (
	"maps"
	"slices"
	"strings"
)

// PrimaryNetwork is the network a copy of a container is created on, from
// its network mode and the networks it is attached to (name → network ID):
// the default bridge for the default and bridge modes when the container
// is on it, the network the mode names (by name or ID), else its only
// network. It is "" in host, none and container: modes, and for a
// default-mode container taken off the default bridge (the engine puts
// the copy there at create, and it is taken off again). The other networks
// are connected after the create, in name order: API 1.41 creates a
// container with one endpoint.
func PrimaryNetwork(mode string, networks map[string]string) string {
	switch {
	case mode == "host" || mode == "none" || strings.HasPrefix(mode, "container:"):
		return ""
	case mode == "" || mode == "default" || mode == "bridge":
		if _, ok := networks["bridge"]; ok {
			return "bridge"
		}
		return ""
	}
	if _, ok := networks[mode]; ok {
		return mode
	}
	for _, name := range slices.Sorted(maps.Keys(networks)) {
		if id := networks[name]; id != "" && strings.HasPrefix(id, mode) {
			return name
		}
	}
	if len(networks) == 1 {
		for name := range networks {
			return name
		}
	}
	return ""
}
