// Package hub fans live messages out to any number of subscribers.
//
// # Concurrency
//
// A Hub is safe for concurrent use. Publish never blocks: each subscription
// has a bounded buffer, and a subscriber that lets it fill is dropped (its
// channel is closed and Err reports ErrSlow); its browser reconnects and
// takes a fresh snapshot. A subscription ends when its context ends, when it
// is dropped, or when the hub closes.
package hub

import (
	"context"
	"errors"
	"sync"
)

// DefaultBuffer is how many messages a subscriber may fall behind by.
const DefaultBuffer = 64

// ErrSlow is why a subscriber that fell behind was dropped.
var ErrSlow = errors.New("subscriber too slow: dropped")

// ErrClosed is why subscriptions end when the hub closes.
var ErrClosed = errors.New("hub closed")

// Message is one frame for the live protocol. Data is encoded once by the
// publisher and shared by every subscriber, so a fan-out costs no encoding.
type Message struct {
	// Type is "delta", "event", "engine", "probe", ...
	Type string
	// Seq is the graph seq for deltas and 0 for messages outside the seq.
	Seq  uint64
	Data []byte
}

// Hub holds the subscriber set.
type Hub struct {
	buffer int

	mu     sync.Mutex // protects the fields below
	subs   map[*Subscription]struct{}
	closed bool
}

// New returns a hub whose subscribers may fall buffer messages behind
// (DefaultBuffer when buffer ≤ 0).
func New(buffer int) *Hub {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	return &Hub{buffer: buffer, subs: make(map[*Subscription]struct{})}
}

// Subscription is one subscriber's view of the hub.
type Subscription struct {
	c    chan Message
	hub  *Hub
	stop func() bool // detaches the context watcher; set under hub.mu
	err  error       // set under hub.mu before c is closed
}

// C delivers messages in publish order; it is closed when the subscription
// ends, after which Err says why.
func (s *Subscription) C() <-chan Message { return s.c }

// Err says why the subscription ended: ctx.Err(), ErrSlow or ErrClosed. It
// is nil while C is open.
func (s *Subscription) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// Subscribe adds a subscriber that lasts until ctx ends.
func (h *Hub) Subscribe(ctx context.Context) *Subscription {
	s := &Subscription{c: make(chan Message, h.buffer), hub: h}
	h.mu.Lock()
	if h.closed {
		s.err = ErrClosed
		close(s.c)
		h.mu.Unlock()
		return s
	}
	h.subs[s] = struct{}{}
	// AfterFunc runs its func in a goroutine of its own, so registering it
	// under the lock cannot deadlock even when ctx is already done.
	s.stop = context.AfterFunc(ctx, func() { h.remove(s, ctx.Err()) })
	h.mu.Unlock()
	return s
}

// Publish delivers m to every subscriber without blocking, dropping those
// whose buffer is full.
func (h *Hub) Publish(m Message) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs {
		select {
		case s.c <- m:
		default:
			h.removeLocked(s, ErrSlow)
		}
	}
}

// Len is the number of subscribers.
func (h *Hub) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.subs)
}

// Close ends every subscription; later subscriptions end at once.
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		h.removeLocked(s, ErrClosed)
	}
}

func (h *Hub) remove(s *Subscription, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s, err)
}

func (h *Hub) removeLocked(s *Subscription, err error) {
	if _, ok := h.subs[s]; !ok {
		return
	}
	delete(h.subs, s)
	s.err = err
	close(s.c)
	if s.stop != nil {
		// Called with h.mu held; AfterFunc's func takes the lock itself, but
		// stop only unregisters it and never waits for it to run.
		s.stop()
	}
}
