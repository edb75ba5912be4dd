package topology

import "regexp"

// LeftoverMarker sits between a container's name and its short ID while
// dockmap re-creates it: the old container is renamed
// "<name>-dockmap-old-<short id>" so that the new one can take the name.
// A container left with such a name is a re-create that did not finish.
const LeftoverMarker = "-dockmap-old-"

// leftoverName matches the name a re-create gives the old container.
var leftoverName = regexp.MustCompile(`^(.+)` + regexp.QuoteMeta(LeftoverMarker) + `[0-9a-f]{12}$`)

// LeftoverName reports whether name is one a re-create gave an old
// container, and the name it had before.
func LeftoverName(name string) (original string, ok bool) {
	m := leftoverName.FindStringSubmatch(name)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// LeftoverNameOf is the name a re-create gives the old container with this
// name and full ID.
func LeftoverNameOf(name, id string) string {
	if len(id) > 12 {
		id = id[:12]
	}
	return name + LeftoverMarker + id
}
