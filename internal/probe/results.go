package probe

import (
	"slices"
	"sync"
	"time"
)

// DefaultResultsKept bounds Results: a class's matrices, many times over.
const DefaultResultsKept = 10_000

// Results keeps the latest result of each probe (from, to, by), with the
// fingerprint of what lay between the pair when it ran
// (reach.Explainer.Between), so that the map can show results after a
// reload and mark those the world has moved on from as stale.
//
// Results are kept by the containers' IDs (Result.From, To): after a
// re-create the old container's results have no pair on the map, and All
// marks them stale.
type Results struct {
	mu   sync.Mutex
	max  int
	seen map[resultKey]Seen
}

type resultKey struct{ from, to, by string }

// Seen is a kept result.
type Seen struct {
	Result
	// Between is the pair's fingerprint when the probe ran.
	Between string `json:"-"`
	// Stale says the pair changed since: set by All, from the map of now.
	Stale bool `json:"stale"`
}

// NewResults keeps up to max results (DefaultResultsKept when max <= 0);
// beyond that the oldest go first.
func NewResults(max int) *Results {
	if max <= 0 {
		max = DefaultResultsKept
	}
	return &Results{max: max, seen: make(map[resultKey]Seen)}
}

// Record keeps r as the latest of its probe, unless a later one is kept
// already (results of one matrix can arrive out of order).
func (s *Results) Record(r Result, between string) {
	k := resultKey{r.From, r.To, r.By}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.seen[k]; ok && old.At.After(r.At) {
		return
	}
	s.seen[k] = Seen{Result: r, Between: between}
	if len(s.seen) > s.max {
		s.evict()
	}
}

// evict drops the oldest tenth, so that a full store does not sort on
// every record.
func (s *Results) evict() {
	all := make([]Seen, 0, len(s.seen))
	for _, v := range s.seen {
		all = append(all, v)
	}
	slices.SortFunc(all, func(a, b Seen) int { return a.At.Compare(b.At) })
	for _, v := range all[:max(1, len(all)/10)] {
		delete(s.seen, resultKey{v.From, v.To, v.By})
	}
}

// Latest is the kept result of the probe from → to by by; it makes
// Results a lesson.Probes.
func (s *Results) Latest(from, to, by string) (ok bool, at time.Time, found bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, found := s.seen[resultKey{from, to, by}]
	return v.OK, v.At, found
}

// All are the kept results, oldest first, each marked stale when
// between(from, to), the pair's fingerprint now, differs from the one it
// ran with ("" for a pair no longer on the map: stale too).
func (s *Results) All(between func(from, to string) string) []Seen {
	s.mu.Lock()
	out := make([]Seen, 0, len(s.seen))
	for _, v := range s.seen {
		out = append(out, v)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b Seen) int { return a.At.Compare(b.At) })
	now := map[[2]string]string{}
	for i := range out {
		p := [2]string{out[i].From, out[i].To}
		fp, ok := now[p]
		if !ok {
			fp = between(p[0], p[1])
			now[p] = fp
		}
		out[i].Stale = fp == "" || fp != out[i].Between
	}
	return out
}
