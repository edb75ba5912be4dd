package lesson

import (
	"regexp"
	"slices"
	"strings"

	"github.com/dockmap/dockmap/internal/topology"
)

// prefixPattern is what a participant's name prefix may be: the start of
// a container name, or nothing.
var prefixPattern = regexp.MustCompile(`^([a-zA-Z0-9][a-zA-Z0-9_.-]{0,31})?$`)

// ValidPrefix reports whether p can be a participant's name prefix:
// empty, or up to 32 letters, digits, '_', '.' and '-' starting with a
// letter or digit.
func ValidPrefix(p string) bool { return prefixPattern.MatchString(p) }

// Containers are the container names l's checks refer to, without a
// participant's prefix, sorted.
func (l Lesson) Containers() []string {
	var out []string
	for _, s := range l.Steps {
		c := s.Check
		for _, n := range []string{c.Container, c.From, c.To, c.A, c.B} {
			if n != "" && !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Participants are the prefixes of everyone doing l on g, sorted: P is
// one when a container is named P followed by a name l refers to
// ("p1-web" for web makes "p1-"), and "" when an unprefixed one exists.
// A prefix found on the map ends in a separator ('-', '_' or '.'): a name
// that only ends like one of l's ("mydb" for db, a test's random
// "…-x7db") is someone else's container on a shared engine, not a
// participant. A prefix without one is followed once asked for
// (GET /api/lessons/{id}?prefix=).
func Participants(l Lesson, g topology.Graph) []string {
	return participants(l.Containers(), g)
}

func participants(names []string, g topology.Graph) []string {
	seen := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Kind != topology.KindContainer || n.Container == nil {
			continue
		}
		for _, name := range names {
			if p, ok := strings.CutSuffix(n.Container.Name, name); ok && ValidPrefix(p) && (p == "" || strings.ContainsAny(p[len(p)-1:], "-_.")) {
				seen[p] = true
			}
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
