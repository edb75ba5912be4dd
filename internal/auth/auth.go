// Package auth decides who may do what in dockmap: the two roles, their
// tokens, the session cookie a token is swapped for, and the brake on
// guessing.
//
// dockmap holds the Docker socket, so an operator is root on the host. A
// viewer may watch everything live but change nothing. Tokens travel in
// exactly two places: the Authorization header of a script
// ("Bearer <token>") and the query of /login, which swaps one for a cookie
// and redirects to a URL without it. The cookie holds a keyed hash of the
// token, never the token itself, so it survives a restart with the same
// tokens and dies when a token is changed.
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
}

// New returns an Auth for tokens, which must pass Validate.
func New(tokens Tokens) (*Auth, error) {
	if err := tokens.Validate(); err != nil {
		return nil, err
	}
	a := &Auth{
		operator:        sha256.Sum256([]byte(tokens.Operator)),
		operatorSession: session(tokens.Operator),
		limiter:         NewLimiter(DefaultFailureRate, DefaultFailureBurst),
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

// SessionRole says which role a session cookie value grants.
func (a *Auth) SessionRole(v string) Role {
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

// Limiter is the brake on failed attempts.
func (a *Auth) Limiter() *Limiter { return a.limiter }

// ErrLimited is why a credential was not even checked: too many failures
// from that client.
var ErrLimited = errors.New("too many failed attempts: wait a moment")

// Request returns the role of r from its Authorization header or its
// session cookie (in that order), and nothing else: a token in the query
// or anywhere else is ignored. client keys the failure limiter. A request
// with no credential at all is Anonymous with no error; a wrong credential
// is Anonymous and counts as a failure; ErrLimited means the client failed
// too often to be checked now.
func (a *Auth) Request(r *http.Request, client string) (Role, error) {
	bearer, hasBearer := bearerToken(r)
	cookie, cerr := r.Cookie(CookieName)
	if !hasBearer && cerr != nil {
		return Anonymous, nil
	}
	return a.braked(client, func() Role {
		if hasBearer {
			return a.TokenRole(bearer)
		}
		return a.SessionRole(cookie.Value)
	})
}

// PublicRequest is Request for a route that answers without a credential
// too (the login page, its files, /healthz): a braked client is simply
// Anonymous, and a stale session cookie is no failure, or after a token
// change the login page's own stylesheet and icon would brake its owner
// out of logging in again. A wrong Bearer token still counts; an unbraked
// cookie check gives nothing away, as a session value is 256 bits.
func (a *Auth) PublicRequest(r *http.Request, client string) Role {
	if bearer, ok := bearerToken(r); ok {
		role, _ := a.braked(client, func() Role { return a.TokenRole(bearer) })
		return role
	}
	if c, err := r.Cookie(CookieName); err == nil {
		return a.SessionRole(c.Value)
	}
	return Anonymous
}

// Login checks a token given to /login, with the same brake.
func (a *Auth) Login(token, client string) (Role, error) {
	return a.braked(client, func() Role { return a.TokenRole(token) })
}

// braked runs check unless client failed too often, and counts a failure.
func (a *Auth) braked(client string, check func() Role) (Role, error) {
	done, ok := a.limiter.Take(client)
	if !ok {
		return Anonymous, ErrLimited
	}
	role := check()
	done(role == Anonymous)
	return role, nil
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
