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

	mu      sync.Mutex // protects clients and shared
	clients map[string]*rate.Limiter
	shared  *rate.Limiter
}

// NewLimiter allows burst failures, then limit per second, per client.
func NewLimiter(limit rate.Limit, burst int) *Limiter {
	return &Limiter{limit: limit, burst: burst, clients: map[string]*rate.Limiter{}, shared: rate.NewLimiter(limit, burst)}
}

func (l *Limiter) get(client string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rl, ok := l.clients[client]; ok {
		return rl
	}
	if len(l.clients) >= maxClients {
		now := time.Now()
		for k, rl := range l.clients {
			// A full bucket has forgotten every failure: drop it.
			if rl.TokensAt(now) >= float64(l.burst) {
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

// Ready reports whether client may try a credential now.
func (l *Limiter) Ready(client string) bool {
	return l.get(client).Tokens() >= 1
}

// Fail records a failed attempt by client.
func (l *Limiter) Fail(client string) {
	l.get(client).Allow()
}

// RetryAfter is how long client waits before its next try.
func (l *Limiter) RetryAfter(client string) time.Duration {
	r := l.get(client).Reserve()
	defer r.Cancel()
	return r.Delay()
}
