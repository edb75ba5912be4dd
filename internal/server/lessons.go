package server

import (
	"fmt"
	"net/http"
	"regexp"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// prefixPattern is what a participant's name prefix may be: the start of
// a container name.
var prefixPattern = regexp.MustCompile(`^([a-zA-Z0-9][a-zA-Z0-9_.-]{0,31})?$`)

// lessonSummary is a lesson as GET /api/lessons lists it.
type lessonSummary struct {
	ID      string        `json:"id"`
	Title   string        `json:"title"`
	Summary string        `json:"summary,omitempty"`
	Source  string        `json:"source"`
	Steps   []lesson.Step `json:"steps"`
}

// handleLessons serves "GET /api/lessons": the loaded lessons.
func handleLessons(ls []lesson.Lesson) echo.HandlerFunc {
	out := make([]lessonSummary, 0, len(ls))
	for _, l := range ls {
		out = append(out, lessonSummary{ID: l.ID, Title: l.Title, Summary: l.Summary, Source: l.Source, Steps: l.Steps})
	}
	return func(c echo.Context) error { return c.JSON(http.StatusOK, out) }
}

// ticks keeps, per lesson and participant, the steps done at some point:
// a tick stays once the lesson moves past it (lesson.Evaluate).
type ticks struct {
	mu sync.Mutex
	m  map[[2]string]map[string]bool
}

// maxTicked bounds the participants remembered (a class, many times).
const maxTicked = 10_000

func (t *ticks) evaluate(l lesson.Lesson, g topology.Graph, prefix string, p lesson.Probes) []lesson.StepState {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := [2]string{l.ID, prefix}
	seen, ok := t.m[k]
	if !ok {
		if len(t.m) >= maxTicked {
			clear(t.m)
		}
		seen = map[string]bool{}
		t.m[k] = seen
	}
	return lesson.Evaluate(l, g, prefix, p, seen)
}

// handleLesson serves "GET /api/lessons/:id?prefix=": each step of the
// lesson for the participant whose names start with prefix.
func handleLesson(src LiveSource, ls []lesson.Lesson, results *probe.Results) echo.HandlerFunc {
	t := &ticks{m: map[[2]string]map[string]bool{}}
	return func(c echo.Context) error {
		prefix := c.QueryParam("prefix")
		if !prefixPattern.MatchString(prefix) {
			return fmt.Errorf("%w: prefix %q: letters, digits, '_', '.' and '-', starting with a letter or digit, up to 32", topology.ErrInvalid, prefix)
		}
		for _, l := range ls {
			if l.ID == c.Param("id") {
				steps := t.evaluate(l, src.Snapshot().Graph, prefix, results)
				return c.JSON(http.StatusOK, map[string]any{"id": l.ID, "title": l.Title, "prefix": prefix, "steps": steps})
			}
		}
		return fmt.Errorf("%w: no lesson %q", topology.ErrNotFound, c.Param("id"))
	}
}

// handleLatestProbes serves "GET /api/probes/latest": the latest result of
// every probe run, each marked stale when anything between its pair
// changed since.
func handleLatestProbes(src LiveSource, results *probe.Results) echo.HandlerFunc {
	return func(c echo.Context) error {
		x := reach.New(src.Snapshot().Graph)
		all := results.All(func(from, to string) string {
			return x.Between(topology.ContainerNodeID(from), topology.ContainerNodeID(to))
		})
		return c.JSON(http.StatusOK, map[string]any{"results": all})
	}
}

// recordProbes keeps rs with the fingerprint of each pair on g, the map
// they were run on.
func recordProbes(results *probe.Results, g topology.Graph, rs []probe.Result) {
	x := reach.New(g)
	for _, r := range rs {
		results.Record(r, x.Between(topology.ContainerNodeID(r.From), topology.ContainerNodeID(r.To)))
	}
}
