package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultCodeTTL is how long a login code works: long enough to send a
// link and open it, too short for one found later in a browser's history,
// a chat or a screenshot to be of any use.
const DefaultCodeTTL = 15 * time.Minute

// maxCodes bounds the codes waiting to be used, so that minting in a loop
// cannot grow the process without end.
const maxCodes = 1000

// codeBytes is the randomness of a code: 192 bits, 32 URL-safe
// characters (at least 128 bits are needed, as for a token).
const codeBytes = 24

// ErrTooManyCodes is why no code was made: maxCodes are waiting to be used.
var ErrTooManyCodes = errors.New("too many unused login links: wait until some expire")

// ErrNoRole is why no code was made for a role that has no token here.
var ErrNoRole = errors.New("no such role here")

// Code is a fresh login code: the secret itself is shown once, to whoever
// asked for it, and kept only as a hash.
type Code struct {
	Code    string
	Role    Role
	Expires time.Time
}

// codes holds the login codes not used yet.
type codes struct {
	now func() time.Time
	ttl time.Duration

	mu sync.Mutex // protects waiting
	// waiting maps the SHA-256 of a code to what it grants. Only the hash
	// is kept, as for tokens: a memory dump shows no usable code. Finding
	// a code through a map lookup is not a timing leak worth a constant-time
	// scan: what the lookup's time could tell is about the hash of a
	// guess, not the code.
	waiting map[[32]byte]codeEntry
}

type codeEntry struct {
	role    Role
	expires time.Time
}

// sweepLocked drops expired codes; c.mu must be held.
func (c *codes) sweepLocked(now time.Time) {
	for k, e := range c.waiting {
		if !now.Before(e.expires) {
			delete(c.waiting, k)
		}
	}
}

// NewCode makes a login code for role (Operator, or Viewer when a viewer
// token is configured) that signs one browser in, once, within the code
// lifetime. It returns ErrTooManyCodes while too many wait to be used.
func (a *Auth) NewCode(role Role) (Code, error) {
	if a.Session(role) == "" {
		return Code{}, fmt.Errorf("%w: %s", ErrNoRole, role)
	}
	b := make([]byte, codeBytes)
	// crypto/rand.Read never fails on the platforms Go supports (Go 1.24+).
	_, _ = rand.Read(b)
	code := base64.RawURLEncoding.EncodeToString(b)

	c := &a.codes
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	if len(c.waiting) >= maxCodes {
		c.sweepLocked(now)
		if len(c.waiting) >= maxCodes {
			return Code{}, ErrTooManyCodes
		}
	}
	if c.waiting == nil {
		c.waiting = map[[32]byte]codeEntry{}
	}
	e := codeEntry{role: role, expires: now.Add(c.ttl)}
	c.waiting[sha256.Sum256([]byte(code))] = e
	return Code{Code: code, Role: role, Expires: e.expires}, nil
}

// RedeemCode swaps a login code for its role and forgets it, so that it
// works once. A used, expired or unknown code is a wrong credential:
// Anonymous, counted against client's budget like a wrong token
// (ErrLimited past it).
func (a *Auth) RedeemCode(code, client string) (Role, error) {
	return a.counted(a.codes.take(code), client)
}

// take removes code and returns its role, or Anonymous when it is not a
// code that still works.
func (c *codes) take(code string) Role {
	if code == "" || len(code) > maxTokenLen {
		return Anonymous
	}
	k := sha256.Sum256([]byte(code))
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.waiting[k]
	if !ok {
		return Anonymous
	}
	delete(c.waiting, k)
	if !c.now().Before(e.expires) {
		return Anonymous
	}
	return e.role
}

// CodeTTL is how long a login code made now stays usable.
func (a *Auth) CodeTTL() time.Duration { return a.codes.ttl }
