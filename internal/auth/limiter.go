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

	mu      sync.Mutex // protects clients, shared and checking
	clients map[string]*rate.Limiter
	shared  *rate.Limiter
	// checking counts the tries of each bucket being checked right now:
	// they are spoken for, though not spent until they fail.
	checking map[*rate.Limiter]int
}

// NewLimiter allows burst failures, then limit per second, per client.
func NewLimiter(limit rate.Limit, burst int) *Limiter {
	return &Limiter{limit: limit, burst: burst, clients: map[string]*rate.Limiter{}, shared: rate.NewLimiter(limit, burst),
		checking: map[*rate.Limiter]int{}}
}

func (l *Limiter) get(client string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.getLocked(client)
}

func (l *Limiter) getLocked(client string) *rate.Limiter {
	if rl, ok := l.clients[client]; ok {
		return rl
	}
	if len(l.clients) >= maxClients {
		now := time.Now()
		for k, rl := range l.clients {
			// A full bucket has forgotten every failure: drop it, unless
			// a try of it is being checked.
			if rl.TokensAt(now) >= float64(l.burst) && l.checking[rl] == 0 {
				delete(l.clients, k)
			}
		}
		if len(l.clients) >= maxClients {
			return l.shared
		}
	}
	rl := rate.NewLimiter(l.limit, l.burst)
	l.clients[client] = rl
	return rl
}

// Take speaks for one try of client's budget while a credential is
// checked, and reports false when none is left. Concurrent guesses thus
// stay within the budget: a try spoken for is not offered to another. Call
// done with whether the check failed: a failure spends the try, a success
// costs nothing.
func (l *Limiter) Take(client string) (done func(failed bool), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	rl := l.getLocked(client)
	if rl.Tokens()-float64(l.checking[rl]) < 1 {
		return nil, false
	}
	l.checking[rl]++
	return func(failed bool) {
		l.mu.Lock()
		defer l.mu.Unlock()
		if failed {
			rl.Allow()
		}
		if l.checking[rl]--; l.checking[rl] == 0 {
			delete(l.checking, rl)
		}
	}, true
}

// RetryAfter is how long client waits before its next try.
func (l *Limiter) RetryAfter(client string) time.Duration {
	r := l.get(client).Reserve()
	defer r.Cancel()
	return r.Delay()
}
