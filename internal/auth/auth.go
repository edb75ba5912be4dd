// Package auth decides who may do what in dockmap: the two roles, their
// tokens, the one-use login codes, the viewer invites a class joins with
// (invites.go), the session cookie each is swapped for, and the brake on
// wrong credentials.
//
// dockmap holds the Docker socket, so an operator is root on the host. A
// viewer may watch everything live but change nothing. Tokens travel in
// exactly two places: the Authorization header of a script
// ("Bearer <token>") and the body of the login form. Links carry login
// codes instead (codes.go): short-lived and good for one sign-in, so a
// link left in a browser's history or a chat is worthless soon after. The
// cookie holds a keyed hash of the token, never the token itself, so it
// survives a restart with the same tokens and dies when a token is
// changed.
//
// # Concurrency
//
// An Auth is safe for concurrent use: its tokens never change, and its
// login codes, its invites and its brake each have a mutex of their own.
package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Role is what a request may do.
type Role int

const (
	// Anonymous is a request with no valid credential.
	Anonymous Role = iota
	// Viewer sees the map, the events and the probe results live.
	Viewer
	// Operator may also change things: every action, probes included,
	// since they exec into containers.
	Operator
)

func (r Role) String() string {
	switch r {
	case Viewer:
		return "viewer"
	case Operator:
		return "operator"
	}
	return "anonymous"
}

// CookieName is the session cookie /login sets.
const CookieName = "dockmap_session"

// MinTokenLen is the shortest token accepted: 22 characters of the
// URL-safe alphabet carry 128 bits.
const MinTokenLen = 22

// maxTokenLen bounds what is hashed per request.
const maxTokenLen = 256

// ErrBadToken is why a configured token was refused.
var ErrBadToken = errors.New("bad token")

// NewToken returns a fresh token of 256 random bits, URL-safe.
func NewToken() string {
	b := make([]byte, 32)
	// crypto/rand.Read never fails on the platforms Go supports (Go 1.24+).
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// ValidateToken checks a token given on the command line or in the
// environment: long enough to carry 128 bits and made only of characters
// that pass through a URL and a header unchanged.
func ValidateToken(t string) error {
	if len(t) < MinTokenLen {
		return fmt.Errorf("%w: %d characters, want at least %d (128 bits); `openssl rand -hex 16` makes one", ErrBadToken, len(t), MinTokenLen)
	}
	if len(t) > maxTokenLen {
		return fmt.Errorf("%w: longer than %d characters", ErrBadToken, maxTokenLen)
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' || r == '~') {
			return fmt.Errorf("%w: only letters, digits and - _ . ~ may appear in it", ErrBadToken)
		}
	}
	if distinct(t) < 8 {
		return fmt.Errorf("%w: too few different characters to be random", ErrBadToken)
	}
	return nil
}

func distinct(s string) int {
	seen := map[rune]bool{}
	for _, r := range s {
		seen[r] = true
	}
	return len(seen)
}

// Tokens are the configured credentials. An empty Viewer means there is
// no viewer access.
type Tokens struct {
	Operator string
	Viewer   string
}

// Validate checks both tokens and that they differ.
func (t Tokens) Validate() error {
	if err := ValidateToken(t.Operator); err != nil {
		return fmt.Errorf("operator token: %w", err)
	}
	if t.Viewer == "" {
		return nil
	}
	if err := ValidateToken(t.Viewer); err != nil {
		return fmt.Errorf("viewer token: %w", err)
	}
	if t.Viewer == t.Operator {
		return fmt.Errorf("%w: the viewer token must differ from the operator token", ErrBadToken)
	}
	return nil
}

// Auth checks credentials against the configured tokens.
type Auth struct {
	// Only digests are kept, so that comparisons take the same time
	// whatever the length or the first differing byte of a guess.
	operator, viewer [32]byte
	operatorSession  string
	viewerSession    string
	hasViewer        bool
	limiter          *Limiter
	codes            codes
	invites          invites
}

// Option changes how New sets an Auth up.
type Option func(*Auth)

// WithClock gives the Auth another clock for the expiry of login codes
// (tests move it forward instead of waiting).
func WithClock(now func() time.Time) Option {
	return func(a *Auth) { a.codes.now, a.invites.now = now, now }
}

// WithCodeTTL sets how long a login code stays usable (DefaultCodeTTL
// otherwise).
func WithCodeTTL(d time.Duration) Option { return func(a *Auth) { a.codes.ttl = d } }

// WithInviteLifetime sets the longest an invite lasts when nobody ends it
// (DefaultInviteLifetime otherwise); d must be positive.
func WithInviteLifetime(d time.Duration) Option {
	return func(a *Auth) {
		if d > 0 {
			a.invites.lifetime = d
		}
	}
}

// New returns an Auth for tokens, which must pass Validate.
func New(tokens Tokens, opts ...Option) (*Auth, error) {
	if err := tokens.Validate(); err != nil {
		return nil, err
	}
	a := &Auth{
		operator:        sha256.Sum256([]byte(tokens.Operator)),
		operatorSession: session(tokens.Operator),
		limiter:         NewLimiter(DefaultFailureRate, DefaultFailureBurst),
		codes:           codes{now: time.Now, ttl: DefaultCodeTTL},
		invites:         invites{now: time.Now, lifetime: DefaultInviteLifetime},
	}
	for _, o := range opts {
		o(a)
	}
	if tokens.Viewer != "" {
		a.hasViewer = true
		a.viewer = sha256.Sum256([]byte(tokens.Viewer))
		a.viewerSession = session(tokens.Viewer)
	}
	return a, nil
}

// session is the cookie value for a token: a keyed hash, so the cookie
// never holds the token and cannot be turned back into it.
func session(token string) string {
	m := hmac.New(sha256.New, []byte(token))
	m.Write([]byte("dockmap session v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// TokenRole says which role token grants, in constant time.
func (a *Auth) TokenRole(token string) Role {
	if len(token) > maxTokenLen {
		return Anonymous
	}
	d := sha256.Sum256([]byte(token))
	return a.pick(subtle.ConstantTimeCompare(d[:], a.operator[:]), subtle.ConstantTimeCompare(d[:], a.viewer[:]))
}

// pick is the role of a credential from its two comparisons, both always
// made (1 is a match).
func (a *Auth) pick(isOp, isView int) Role {
	switch {
	case isOp == 1:
		return Operator
	case isView == 1 && a.hasViewer:
		return Viewer
	}
	return Anonymous
}

// SessionRole says which role a session cookie value grants: a token's
// session, or Viewer for the session of an open invite.
func (a *Auth) SessionRole(v string) Role {
	if r := a.staticSessionRole(v); r != Anonymous {
		return r
	}
	return a.invites.inviteRole(v)
}

// staticSessionRole is the role of a token's session, in constant time.
func (a *Auth) staticSessionRole(v string) Role {
	return a.pick(subtle.ConstantTimeCompare([]byte(v), []byte(a.operatorSession)),
		subtle.ConstantTimeCompare([]byte(v), []byte(a.viewerSession)))
}

// Session returns the cookie value for a role (Operator or Viewer).
func (a *Auth) Session(r Role) string {
	if r == Operator {
		return a.operatorSession
	}
	if r == Viewer && a.hasViewer {
		return a.viewerSession
	}
	return ""
}

// Limiter is the brake on wrong credentials.
func (a *Auth) Limiter() *Limiter { return a.limiter }

// ErrLimited is why a wrong credential was answered "slow down" rather
// than "wrong": too many came from that client lately.
var ErrLimited = errors.New("too many wrong credentials from this address: wait a moment")

// Request returns the role of r from its Authorization header or its
// session cookie (in that order), and nothing else: a token in the query
// or anywhere else is ignored. client keys the brake. A request with no
// credential at all is Anonymous with no error; a right credential gets
// its role, always; a wrong one is Anonymous and counts against client's
// budget, and ErrLimited says it came past that budget.
func (a *Auth) Request(r *http.Request, client string) (Role, error) {
	bearer, hasBearer := bearerToken(r)
	cookie, cerr := r.Cookie(CookieName)
	switch {
	case hasBearer:
		return a.counted(a.TokenRole(bearer), client)
	case cerr == nil:
		return a.counted(a.SessionRole(cookie.Value), client)
	}
	return Anonymous, nil
}

// PublicRequest is Request for a route that answers without a credential
// too (the login page, its files, /healthz): being past the budget changes
// nothing there, and a stale session cookie is no failure, or after a
// token change the login page's own stylesheet and icon would fill its
// owner's budget. A wrong Bearer token still counts.
func (a *Auth) PublicRequest(r *http.Request, client string) Role {
	if bearer, ok := bearerToken(r); ok {
		role, _ := a.counted(a.TokenRole(bearer), client)
		return role
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return a.SessionRole(c.Value)
	}
	return Anonymous
}

// Login checks a token pasted into the login form, with the same brake.
func (a *Auth) Login(token, client string) (Role, error) {
	return a.counted(a.TokenRole(token), client)
}

// counted lets a right credential in and counts a wrong one against
// client's budget, reporting ErrLimited past it.
//
// A right credential is never held back, even from a client past its
// budget: everyone behind one `ssh -L` or one proxy shares an address,
// and ten wrong tokens from a neighbour must not lock the room out. That
// gives a guesser nothing, because the brake is not what keeps a token
// secret: every token, session value and login code carries at least 128
// random bits, and at a billion guesses a second 2^128 takes about 10^22
// years. What the brake does is keep a misbehaving script's noise down: it
// is told to slow down (429 with Retry-After), and only the wrong
// credentials within the budget are logged one by one.
func (a *Auth) counted(role Role, client string) (Role, error) {
	if role != Anonymous || a.limiter.Fail(client) {
		return role, nil
	}
	return Anonymous, ErrLimited
}

func bearerToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		// Present but unusable: still a (wrong) credential.
		return "", true
	}
	return strings.TrimSpace(token), true
}
