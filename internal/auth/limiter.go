package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Failures allowed per client: a burst of 10, then one a second. A person
// who mistypes never notices; a guesser gets 86,400 tries a day against
// 2^128.
const (
	DefaultFailureRate  = rate.Limit(1)
	DefaultFailureBurst = 10
)

// maxClients bounds the limiter's memory under a spray of addresses: past
// it, idle entries are swept, and if none is idle every new client shares
// one bucket (so a flood slows everyone's failures rather than none).
const maxClients = 10000

// Limiter counts failed attempts per client address.
type Limiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex // protects clients, shared and every bucket's checking
	clients map[string]*bucket
	shared  *bucket
}

// bucket is one client's budget of failures.
type bucket struct {
	rl *rate.Limiter
	// checking counts its tries being checked right now: they are spoken
	// for, though not spent until they fail.
	checking int
}

// NewLimiter allows burst failures, then limit per second, per client.
func NewLimiter(limit rate.Limit, burst int) *Limiter {
	return &Limiter{limit: limit, burst: burst, clients: map[string]*bucket{}, shared: &bucket{rl: rate.NewLimiter(limit, burst)}}
}

// get returns client's bucket; l.mu must be held.
func (l *Limiter) get(client string) *bucket {
	if b, ok := l.clients[client]; ok {
		return b
	}
	if len(l.clients) >= maxClients {
		now := time.Now()
		for k, b := range l.clients {
			// A full bucket has forgotten every failure: drop it, unless
			// a try of it is being checked.
			if b.rl.TokensAt(now) >= float64(l.burst) && b.checking == 0 {
				delete(l.clients, k)
			}
		}
		if len(l.clients) >= maxClients {
			return l.shared
		}
	}
	b := &bucket{rl: rate.NewLimiter(l.limit, l.burst)}
	l.clients[client] = b
	return b
}

// Take speaks for one try of client's budget while a credential is
// checked, and reports false when none is left. Concurrent guesses thus
// stay within the budget: a try spoken for is not offered to another. Call
// done with whether the check failed: a failure spends the try, a success
// costs nothing.
func (l *Limiter) Take(client string) (done func(failed bool), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.get(client)
	if b.rl.Tokens()-float64(b.checking) < 1 {
		return nil, false
	}
	b.checking++
	return func(failed bool) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if failed {
			b.rl.Allow()
		}
		b.checking--
	}, true
}

// RetryAfter is how long client waits before its next try.
func (l *Limiter) RetryAfter(client string) time.Duration {
	l.mu.Lock()
	b := l.get(client)
	l.mu.Unlock()
	r := b.rl.Reserve()
	defer r.Cancel()
	return r.Delay()
}
