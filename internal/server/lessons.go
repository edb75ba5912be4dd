package server

import (
	"fmt"
	"net/http"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

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

// handleLesson serves "GET /api/lessons/:id?prefix=": each step of the
// lesson for the participant whose names start with prefix, who is
// followed live from then on.
func handleLesson(ll *LessonLive) echo.HandlerFunc {
	return func(c echo.Context) error {
		prefix := c.QueryParam("prefix")
		if !lesson.ValidPrefix(prefix) {
			return fmt.Errorf("%w: prefix %q: letters, digits, '_', '.' and '-', starting with a letter or digit, up to 32", topology.ErrInvalid, prefix)
		}
		l, ok := lessonOf(ll.lessons, c.Param("id"))
		if !ok {
			return fmt.Errorf("%w: no lesson %q", topology.ErrNotFound, c.Param("id"))
		}
		steps, _ := ll.ask(l.ID, prefix)
		return c.JSON(http.StatusOK, map[string]any{"id": l.ID, "title": l.Title, "prefix": prefix, "steps": steps})
	}
}

// handleLessonProgress serves "GET /api/lessons/:id/progress": the
// instructor's table, one row per participant followed, by prefix.
func handleLessonProgress(ll *LessonLive) echo.HandlerFunc {
	return func(c echo.Context) error {
		rows, ok := ll.tracker.Progress(c.Param("id"))
		if !ok {
			return fmt.Errorf("%w: no lesson %q", topology.ErrNotFound, c.Param("id"))
		}
		return c.JSON(http.StatusOK, rows)
	}
}

func lessonOf(ls []lesson.Lesson, id string) (lesson.Lesson, bool) {
	for _, l := range ls {
		if l.ID == id {
			return l, true
		}
	}
	return lesson.Lesson{}, false
}

// handleLatestProbes serves "GET /api/probes/latest": the latest result of
// every probe run, each marked stale when anything between its pair
// changed since.
func handleLatestProbes(ll *LessonLive) echo.HandlerFunc {
	return func(c echo.Context) error {
		x := ll.explainer(ll.src.Snapshot())
		all := ll.results.All(func(from, to string) string {
			return x.Between(topology.ContainerNodeID(from), topology.ContainerNodeID(to))
		})
		return c.JSON(http.StatusOK, map[string]any{"results": all})
	}
}

// explainers keeps the explainer of the last map it was asked about:
// every open page asks GET /api/probes/latest after each burst of changes,
// all about the same map, and building one costs a pass over the graph.
type explainers struct {
	mu  sync.Mutex
	seq uint64
	x   *reach.Explainer
}

// at is the explainer of snap, built once per seq.
func (e *explainers) at(snap topology.Snapshot) *reach.Explainer {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.x == nil || e.seq != snap.Seq {
		e.x, e.seq = reach.New(snap.Graph), snap.Seq
	}
	return e.x
}
