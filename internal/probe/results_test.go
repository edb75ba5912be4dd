package probe_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/probe"
)

// The latest result of each probe is kept, a late-arriving older one does
// not replace it, and All marks stale what was probed across a pair that
// changed since (or is gone).
func TestResultsKeepTheLatestAndMarkStale(t *testing.T) {
	s := probe.NewResults(0)
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	s.Record(probe.Result{From: "web", To: "db", By: "name", OK: false, At: t0}, "fp1")
	s.Record(probe.Result{From: "web", To: "db", By: "ip", OK: true, At: t0}, "fp1")
	s.Record(probe.Result{From: "web", To: "db", By: "name", OK: true, At: t0.Add(time.Minute)}, "fp2")
	s.Record(probe.Result{From: "web", To: "db", By: "name", OK: false, At: t0.Add(30 * time.Second)}, "fp1") // late
	s.Record(probe.Result{From: "old", To: "db", By: "ip", OK: true, At: t0}, "fp9")

	if ok, at, found := s.Latest("web", "db", "name"); !found || !ok || !at.Equal(t0.Add(time.Minute)) {
		t.Errorf("Latest(web, db, name) = %v %v %v, want the ok one of 09:01", ok, at, found)
	}
	if _, _, found := s.Latest("db", "web", "name"); found {
		t.Error("Latest of a probe never run was found")
	}

	now := map[[2]string]string{{"web", "db"}: "fp2"} // "old" is gone
	all := s.All(func(from, to string) string { return now[[2]string{from, to}] })
	stale := map[string]bool{}
	for _, v := range all {
		stale[fmt.Sprintf("%s>%s/%s", v.From, v.To, v.By)] = v.Stale
	}
	want := map[string]bool{"web>db/name": false, "web>db/ip": true, "old>db/ip": true}
	for k, w := range want {
		if got, ok := stale[k]; !ok || got != w {
			t.Errorf("%s: kept %v, stale %v; want kept, stale %v", k, ok, got, w)
		}
	}
	if len(all) != 3 {
		t.Errorf("All = %d results, want 3", len(all))
	}
}

// A full store drops its oldest results first.
func TestResultsAreBounded(t *testing.T) {
	s := probe.NewResults(100)
	t0 := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	for i := range 250 {
		s.Record(probe.Result{From: fmt.Sprint(i), To: "db", By: "ip", OK: true, At: t0.Add(time.Duration(i) * time.Second)}, "fp")
	}
	all := s.All(func(string, string) string { return "fp" })
	if len(all) > 100 {
		t.Errorf("%d results kept, want at most 100", len(all))
	}
	if _, _, found := s.Latest("249", "db", "ip"); !found {
		t.Error("the newest result was dropped")
	}
	if _, _, found := s.Latest("0", "db", "ip"); found {
		t.Error("the oldest result is still kept")
	}
}
