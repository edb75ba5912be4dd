package reach_test

import (
	"testing"

	"github.com/dockmap/dockmap/internal/reach"
	"github.com/dockmap/dockmap/internal/topology"
)

// Between changes exactly when something a probe between the pair depends
// on changes: a probe result recorded before is then stale, and stays
// current through changes elsewhere on the map.
func TestBetweenChangesWithThePairOnly(t *testing.T) {
	nets := []topology.Network{bridge, appnet, backnet, vault}
	base := []topology.Container{ctr("web", on("bridge"), on("appnet")), ctr("database", on("bridge"), on("appnet")), ctr("other", on("bridge"))}
	fp := func(cs ...topology.Container) string {
		return reach.New(graph(nets, cs...)).Between(node("web"), node("database"))
	}
	before := fp(base...)
	if before == "" {
		t.Fatal("Between of a pair on the map is empty")
	}
	if again := fp(base...); again != before {
		t.Errorf("the same map gives %s then %s", before, again)
	}
	if missing := reach.New(graph(nets, base[0])).Between(node("web"), node("database")); missing != "" {
		t.Errorf("Between with database gone = %q, want empty", missing)
	}

	same := map[string][]topology.Container{
		"another container comes":       append(append([]topology.Container{}, base...), ctr("newcomer", on("appnet"))),
		"another container stops":       {base[0], base[1], ctr("other", on("bridge"), stopped)},
		"web joins a network db is not": {ctr("web", on("bridge"), on("appnet"), on("backnet")), base[1], base[2]},
	}
	for what, cs := range same {
		if got := fp(cs...); got != before {
			t.Errorf("%s: Between changed (%s → %s); nothing between the pair did", what, before, got)
		}
	}

	changed := map[string][]topology.Container{
		"database stops":             {base[0], ctr("database", on("bridge"), on("appnet"), stopped), base[2]},
		"database leaves appnet":     {base[0], ctr("database", on("bridge")), base[2]},
		"an alias on appnet":         {base[0], ctr("database", on("bridge"), on("appnet", "db")), base[2]},
		"a legacy link web→database": {base[0], ctr("database", on("bridge"), on("appnet"), linkedFrom("web", "db")), base[2]},
		"both join backnet":          {ctr("web", on("bridge"), on("appnet"), on("backnet")), ctr("database", on("bridge"), on("appnet"), on("backnet")), base[2]},
	}
	for what, cs := range changed {
		if got := fp(cs...); got == before {
			t.Errorf("%s: Between unchanged; a probe result from before is stale", what)
		}
	}

	// A re-create: the same name, a new container.
	recreated := ctr("database", on("bridge"), on("appnet"))
	recreated.ID = id("database-2")
	g := graph(nets, base[0], recreated, base[2])
	if got := reach.New(g).Between(node("web"), topology.ContainerNodeID(recreated.ID)); got == before || got == "" {
		t.Errorf("after database is re-created: Between = %q (before %q), want another", got, before)
	}
}
