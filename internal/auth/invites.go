package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// An invite is how a class joins as viewers: the instructor shows its link
// as a QR code on the projector, and everyone who opens it watches. Unlike
// a login code it works any number of times, and unlike the viewer token
// it can be taken back: ending it refuses the link and signs out every
// browser that came in through it, open live connections included. It
// only ever grants Viewer: an operator's credential is never on a
// projector.
//
// An invite lasts until it is ended, or at most DefaultInviteLifetime (a
// photo of the projector taken today is no way in tomorrow, even if the
// instructor forgets to end it), or until dockmap stops: invites live in
// memory only, so a restart ends them all.

// DefaultInviteLifetime is the longest an invite lasts when nobody ends
// it: a workshop day and then some.
const DefaultInviteLifetime = 24 * time.Hour

// maxInvites bounds the open invites: a class needs one, and minting in a
// loop must not grow the process without end.
const maxInvites = 20

// maxLabelLen bounds an invite's label, in characters.
const maxLabelLen = 60

// ErrTooManyInvites is why no invite was made: maxInvites are open.
var ErrTooManyInvites = fmt.Errorf("too many open invites (%d): end one first", maxInvites)

// ErrNoInvite is why an invite was not found: it ended, expired or never
// existed.
var ErrNoInvite = errors.New("no such invite: it has ended or never existed")

// ErrBadLabel is why an invite's label was refused.
var ErrBadLabel = errors.New("bad invite label")

// Invite is a viewer invite as the operator sees it. Code is set only in
// NewInvite's answer: afterwards only its hash is kept, so Invites never
// shows it again.
type Invite struct {
	ID      string
	Code    string
	Label   string
	Created time.Time
	Expires time.Time
	// Joins is how many times the invite was opened.
	Joins int
}

// invites holds the open invites.
type invites struct {
	now      func() time.Time
	lifetime time.Duration

	mu sync.Mutex // protects the fields below
	// byID, byCode and bySession index the same invites: by ID for the
	// operator's list, by the SHA-256 of the code to join, by the SHA-256
	// of the session cookie it sets to check each request. Only hashes
	// are kept, as for login codes.
	byID      map[string]*invite
	byCode    map[[32]byte]*invite
	bySession map[[32]byte]*invite
}

type invite struct {
	Invite        // Code left empty
	code, session [32]byte
	// done is closed when the invite ends, so that the live connections
	// of its sessions close at once rather than at their next check.
	done  chan struct{}
	timer *time.Timer
}

// inviteSession is the cookie value of a browser that joined with code:
// a keyed hash, as for tokens, so every browser of one invite gets the
// same value without the code being kept, and the cookie cannot be turned
// back into the code.
func inviteSession(code string) string {
	m := hmac.New(sha256.New, []byte(code))
	m.Write([]byte("dockmap invite session v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkLabel trims a label and refuses one too long or with control
// characters (it is shown in the operator's list).
func checkLabel(label string) (string, error) {
	label = strings.TrimSpace(label)
	if !utf8.ValidString(label) {
		return "", fmt.Errorf("%w: not UTF-8", ErrBadLabel)
	}
	if n := utf8.RuneCountInString(label); n > maxLabelLen {
		return "", fmt.Errorf("%w: %d characters, at most %d", ErrBadLabel, n, maxLabelLen)
	}
	if strings.ContainsFunc(label, unicode.IsControl) {
		return "", fmt.Errorf("%w: no control characters or line breaks", ErrBadLabel)
	}
	return label, nil
}

// NewInvite makes a viewer invite labelled label (may be empty). Its Code
// is returned here only. It returns ErrBadLabel for a label that is too
// long or has control characters, ErrTooManyInvites while maxInvites are
// open.
func (a *Auth) NewInvite(label string) (Invite, error) {
	label, err := checkLabel(label)
	if err != nil {
		return Invite{}, err
	}
	b := make([]byte, codeBytes+8)
	// crypto/rand.Read never fails on the platforms Go supports (Go 1.24+).
	_, _ = rand.Read(b)
	// The ID names the invite in the operator's list and URLs; it is no
	// credential, and shares no bits with the code.
	id := base64.RawURLEncoding.EncodeToString(b[codeBytes:])
	code := base64.RawURLEncoding.EncodeToString(b[:codeBytes])

	v := &a.invites
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.now()
	v.sweepLocked(now)
	if len(v.byID) >= maxInvites {
		return Invite{}, ErrTooManyInvites
	}
	if v.byID == nil {
		v.byID = map[string]*invite{}
		v.byCode = map[[32]byte]*invite{}
		v.bySession = map[[32]byte]*invite{}
	}
	inv := &invite{
		Invite: Invite{ID: id, Label: label, Created: now, Expires: now.Add(v.lifetime)},
		code:   sha256.Sum256([]byte(code)),
		// The session's hash, not the session: it is worked out again
		// from the code at each join.
		session: sha256.Sum256([]byte(inviteSession(code))),
		done:    make(chan struct{}),
	}
	// The clock may be a test's; the timer keeps real time, so a late
	// expiry is also caught by every lookup (sweepLocked, find).
	inv.timer = time.AfterFunc(v.lifetime, func() { _ = a.EndInvite(id) })
	v.byID[id] = inv
	v.byCode[inv.code] = inv
	v.bySession[inv.session] = inv
	out := inv.Invite
	out.Code = code
	return out, nil
}

// EndInvite ends an invite: its link stops working and every browser that
// joined with it is signed out (SessionDone's channel closes). It returns
// ErrNoInvite when no open invite has that ID.
func (a *Auth) EndInvite(id string) error {
	v := &a.invites
	v.mu.Lock()
	defer v.mu.Unlock()
	inv, ok := v.byID[id]
	if !ok {
		return fmt.Errorf("%w: %q", ErrNoInvite, id)
	}
	v.endLocked(inv)
	return nil
}

// Invites lists the open invites, oldest first, without their codes.
func (a *Auth) Invites() []Invite {
	v := &a.invites
	v.mu.Lock()
	defer v.mu.Unlock()
	v.sweepLocked(v.now())
	out := make([]Invite, 0, len(v.byID))
	for _, inv := range v.byID {
		out = append(out, inv.Invite)
	}
	slices.SortFunc(out, func(x, y Invite) int {
		if c := x.Created.Compare(y.Created); c != 0 {
			return c
		}
		return strings.Compare(x.ID, y.ID)
	})
	return out
}

// RedeemInvite swaps an open invite's code for the session cookie value of
// its viewers; the invite stays open for the next one. An ended, expired
// or unknown code is a wrong credential: ErrNoInvite, counted against
// client's budget like a wrong token (ErrLimited past it).
func (a *Auth) RedeemInvite(code, client string) (session string, err error) {
	if len(code) <= maxTokenLen {
		v := &a.invites
		v.mu.Lock()
		inv := v.findLocked(v.byCode, code)
		if inv != nil {
			inv.Joins++
		}
		v.mu.Unlock()
		if inv != nil {
			return inviteSession(code), nil
		}
	}
	if _, err := a.counted(Anonymous, client); err != nil {
		return "", err
	}
	return "", ErrNoInvite
}

// SessionDone returns a channel that is closed when the credential of r
// stops working, for a connection that outlives the request that opened
// it (/live): nil, which never closes, for a token or a token's session;
// for an invite's session, a channel closed when the invite ends; for
// anything else (an invite that ended in the meantime), a closed one.
func (a *Auth) SessionDone(r *http.Request) <-chan struct{} {
	if _, ok := bearerToken(r); ok {
		// Request looks at the header first and ignores the cookie.
		return nil
	}
	c, err := r.Cookie(CookieName)
	if err != nil || a.staticSessionRole(c.Value) != Anonymous {
		return nil
	}
	v := &a.invites
	v.mu.Lock()
	defer v.mu.Unlock()
	if inv := v.findLocked(v.bySession, c.Value); inv != nil {
		return inv.done
	}
	closed := make(chan struct{})
	close(closed)
	return closed
}

// inviteRole is Viewer for the session of an open invite.
func (v *invites) inviteRole(session string) Role {
	if len(session) > maxTokenLen {
		return Anonymous
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.findLocked(v.bySession, session) != nil {
		return Viewer
	}
	return Anonymous
}

// findLocked looks secret up by its hash in index and returns its invite
// if it is still open, ending it if it has just expired; v.mu must be
// held. A map lookup by hash leaks nothing worth a constant-time scan
// (see codes.waiting).
func (v *invites) findLocked(index map[[32]byte]*invite, secret string) *invite {
	if secret == "" {
		return nil
	}
	inv, ok := index[sha256.Sum256([]byte(secret))]
	if !ok {
		return nil
	}
	if !v.now().Before(inv.Expires) {
		v.endLocked(inv)
		return nil
	}
	return inv
}

// sweepLocked ends expired invites; v.mu must be held.
func (v *invites) sweepLocked(now time.Time) {
	for _, inv := range v.byID {
		if !now.Before(inv.Expires) {
			v.endLocked(inv)
		}
	}
}

// endLocked forgets inv and closes its done channel; v.mu must be held.
func (v *invites) endLocked(inv *invite) {
	delete(v.byID, inv.ID)
	delete(v.byCode, inv.code)
	delete(v.bySession, inv.session)
	inv.timer.Stop()
	close(inv.done)
}
