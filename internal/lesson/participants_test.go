package lesson_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dockmap/dockmap/internal/lesson"
)

// A participant is whoever has a container named with a prefix and a name
// the lesson refers to; unprefixed names make the empty prefix one, and
// names of other lessons, or prefixes no container name could start
// with, make nobody.
func TestParticipants(t *testing.T) {
	bridges := lessonByID(t, "bridges")
	if diff := cmp.Diff([]string{"api", "db"}, bridges.Containers()); diff != "" {
		t.Errorf("bridges' containers (-want +got):\n%s", diff)
	}
	g := graph(
		ctr(id("a1"), "p1-api", "bridge"), ctr(id("d1"), "p1-db", "bridge"),
		ctr(id("a2"), "p2-api", "bridge"),
		ctr(id("d0"), "db", "bridge"),
		ctr(id("w3"), "p3-web", "bridge"),     // another lesson's name
		ctr(id("x1"), "p4-api-old", "bridge"), // not a name of the lesson
		ctr(id("x2"), "mydb", "bridge"),       // only ends like one
		ctr(id("x3"), "dockmap-test-7fx1db", "bridge"),
	)
	if diff := cmp.Diff([]string{"", "p1-", "p2-"}, lesson.Participants(bridges, g)); diff != "" {
		t.Errorf("Participants(bridges) (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"p3-"}, lesson.Participants(lessonByID(t, "links"), g)); diff != "" {
		t.Errorf("Participants(links) (-want +got):\n%s", diff)
	}
	if got := lesson.Participants(lessonByID(t, "sharing"), g); len(got) != 0 {
		t.Errorf("Participants(sharing) = %q, want none", got)
	}
	for p, want := range map[string]bool{"": true, "p1-": true, "a.b_c-": true, "-x": false, "a b": false, "x/": false} {
		if got := lesson.ValidPrefix(p); got != want {
			t.Errorf("ValidPrefix(%q) = %v, want %v", p, got, want)
		}
	}
}
