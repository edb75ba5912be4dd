package auth

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Wrong credentials answered as such per client: a burst of 10, then one
// a second; past that a wrong credential gets "slow down" (429) instead.
// A person who mistypes never notices.
const (
	DefaultFailureRate  = rate.Limit(1)
	DefaultFailureBurst = 10
)

// maxClients bounds the limiter's memory under a spray of addresses: past
// it, idle entries are swept, and if none is idle every new client shares
// one bucket (so a flood slows everyone's wrong credentials rather than
// none).
const maxClients = 10000

// Limiter counts wrong credentials per client address. It never decides
// whether a credential is checked: every one is, and a right one always
// gets in (see Auth.counted for why that is safe). It only decides how a
// wrong one is answered.
type Limiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex // protects clients, shared and swept
	clients map[string]*rate.Limiter
	shared  *rate.Limiter
	// swept is when clients was last swept. A sweep walks every entry,
	// so under a spray of addresses it runs at most once a second rather
	// than once per new address; a bucket takes longer than that to fill
	// up again anyway.
	swept time.Time
}

// NewLimiter allows burst wrong credentials, then limit per second, per
// client.
func NewLimiter(limit rate.Limit, burst int) *Limiter {
	return &Limiter{limit: limit, burst: burst, clients: map[string]*rate.Limiter{}, shared: rate.NewLimiter(limit, burst)}
}

// get returns client's bucket.
func (l *Limiter) get(client string) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b, ok := l.clients[client]; ok {
		return b
	}
	if now := time.Now(); len(l.clients) >= maxClients && now.Sub(l.swept) >= time.Second {
		l.swept = now
		for k, b := range l.clients {
			// A full bucket has forgotten every failure: drop it.
			if b.TokensAt(now) >= float64(l.burst) {
				delete(l.clients, k)
			}
		}
	}
	if len(l.clients) >= maxClients {
		return l.shared
	}
	b := rate.NewLimiter(l.limit, l.burst)
	l.clients[client] = b
	return b
}

// Fail records a wrong credential from client and reports whether client
// is still within its budget. Past the budget nothing is spent, so a
// client that keeps guessing is answered within budget again at the
// refill rate, never later.
func (l *Limiter) Fail(client string) (withinBudget bool) {
	// rate.Limiter is safe for concurrent use, so a wave of simultaneous
	// failures spends exactly the budget and no more.
	return l.get(client).Allow()
}

// RetryAfter is how long client waits before a wrong credential of its
// is answered within budget again.
func (l *Limiter) RetryAfter(client string) time.Duration {
	r := l.get(client).Reserve()
	defer r.Cancel()
	return r.Delay()
}
