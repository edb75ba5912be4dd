package auth

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// mustInvite makes an invite or fails the test.
func mustInvite(t *testing.T, a *Auth, label string) Invite {
	t.Helper()
	inv, err := a.NewInvite(label)
	if err != nil {
		t.Fatalf("NewInvite(%q) = %v", label, err)
	}
	return inv
}

// cookieRequest is a request carrying session as its cookie.
func cookieRequest(session string) *http.Request {
	r, _ := http.NewRequest("GET", "/live", nil)
	r.AddCookie(&http.Cookie{Name: CookieName, Value: session})
	return r
}

// isClosed reports whether ch is closed (nil never is).
func isClosed(ch <-chan struct{}) bool {
	if ch == nil {
		return false
	}
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// An invite signs in any number of browsers, each as a viewer, and counts
// them; its list entry never shows the code again.
func TestInviteWorksManyTimes(t *testing.T) {
	clk := newClock()
	a := slowRefill(mustNew(t, Tokens{Operator: opToken, Viewer: viewToken}, WithClock(clk.Now)))
	inv := mustInvite(t, a, "  room 2  ")
	if inv.Code == "" || inv.ID == "" || strings.Contains(inv.Code, inv.ID) || len(inv.Code) < MinTokenLen {
		t.Fatalf("NewInvite = %+v, want an ID and a code of at least %d characters", inv, MinTokenLen)
	}
	if inv.Label != "room 2" || !inv.Created.Equal(clk.Now()) || !inv.Expires.Equal(clk.Now().Add(DefaultInviteLifetime)) {
		t.Errorf("NewInvite = %+v, want label \"room 2\", created now, expiring in %v", inv, DefaultInviteLifetime)
	}
	var first string
	for i := range 3 {
		s, err := a.RedeemInvite(inv.Code, "192.0.2.1")
		if err != nil || s == "" {
			t.Fatalf("join %d = %q, %v, want a session", i+1, s, err)
		}
		if first == "" {
			first = s
		}
		if s != first {
			t.Errorf("join %d got another session than the first", i+1)
		}
		clk.Advance(time.Hour)
	}
	// Only ever a viewer: never a token's session, least of all the
	// operator's.
	if got := a.SessionRole(first); got != Viewer {
		t.Errorf("SessionRole(invite session) = %v, want viewer", got)
	}
	if first == a.Session(Operator) || first == a.Session(Viewer) || strings.Contains(first, inv.Code) {
		t.Error("the invite session is a token's session or holds the code")
	}
	list := a.Invites()
	if len(list) != 1 || list[0].ID != inv.ID || list[0].Code != "" || list[0].Joins != 3 || list[0].Label != "room 2" {
		t.Errorf("Invites() = %+v, want the one invite without its code, with 3 joins", list)
	}
}

// An invite makes viewers even where no viewer token is configured.
func TestInviteWithoutViewerToken(t *testing.T) {
	a := mustNew(t, Tokens{Operator: opToken})
	inv := mustInvite(t, a, "")
	s, err := a.RedeemInvite(inv.Code, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if got := a.SessionRole(s); got != Viewer {
		t.Errorf("SessionRole = %v, want viewer", got)
	}
}

// Ending an invite refuses its link and its sessions, closes SessionDone,
// and leaves other invites and the tokens' sessions alone.
func TestEndedInviteIsRefused(t *testing.T) {
	a := slowRefill(mustNew(t, Tokens{Operator: opToken, Viewer: viewToken}))
	ended, kept := mustInvite(t, a, "ended"), mustInvite(t, a, "kept")
	s, _ := a.RedeemInvite(ended.Code, "192.0.2.1")
	ks, _ := a.RedeemInvite(kept.Code, "192.0.2.1")
	done := a.SessionDone(cookieRequest(s))
	if done == nil || isClosed(done) {
		t.Fatal("SessionDone of an open invite's session is nil or closed")
	}
	if err := a.EndInvite(ended.ID); err != nil {
		t.Fatalf("EndInvite = %v", err)
	}
	if !isClosed(done) {
		t.Error("SessionDone did not close when the invite ended")
	}
	if got, err := a.RedeemInvite(ended.Code, "192.0.2.1"); got != "" || !errors.Is(err, ErrNoInvite) {
		t.Errorf("join after the end = %q, %v, want ErrNoInvite", got, err)
	}
	if got := a.SessionRole(s); got != Anonymous {
		t.Errorf("SessionRole of an ended invite's session = %v, want anonymous", got)
	}
	if !isClosed(a.SessionDone(cookieRequest(s))) {
		t.Error("SessionDone of an ended invite's session is not closed")
	}
	if err := a.EndInvite(ended.ID); !errors.Is(err, ErrNoInvite) {
		t.Errorf("EndInvite twice = %v, want ErrNoInvite", err)
	}
	if got := a.SessionRole(ks); got != Viewer {
		t.Errorf("the other invite's session = %v, want viewer still", got)
	}
	if list := a.Invites(); len(list) != 1 || list[0].ID != kept.ID {
		t.Errorf("Invites() = %+v, want only the kept one", list)
	}
	// A token's session or a Bearer token never ends this way.
	if d := a.SessionDone(cookieRequest(a.Session(Operator))); d != nil {
		t.Error("SessionDone of the operator's session is not nil")
	}
	r := cookieRequest(s)
	r.Header.Set("Authorization", "Bearer "+opToken)
	if d := a.SessionDone(r); d != nil {
		t.Error("SessionDone with a Bearer token is not nil (the cookie is not what Request looks at)")
	}
}

// An invite nobody ends stops working after its lifetime.
func TestInviteExpires(t *testing.T) {
	clk := newClock()
	a := slowRefill(mustNew(t, Tokens{Operator: opToken}, WithClock(clk.Now), WithInviteLifetime(2*time.Hour)))
	inv := mustInvite(t, a, "")
	s, _ := a.RedeemInvite(inv.Code, "192.0.2.1")
	done := a.SessionDone(cookieRequest(s))
	clk.Advance(2*time.Hour - time.Second)
	if got := a.SessionRole(s); got != Viewer {
		t.Fatalf("a second before the end: %v, want viewer", got)
	}
	clk.Advance(time.Second)
	if got := a.SessionRole(s); got != Anonymous {
		t.Errorf("after its lifetime: %v, want anonymous", got)
	}
	if !isClosed(done) {
		t.Error("SessionDone did not close when the invite expired")
	}
	if _, err := a.RedeemInvite(inv.Code, "192.0.2.1"); !errors.Is(err, ErrNoInvite) {
		t.Errorf("join after its lifetime = %v, want ErrNoInvite", err)
	}
	if list := a.Invites(); len(list) != 0 {
		t.Errorf("Invites() = %+v, want none", list)
	}
}

// At most maxInvites are open at once; ending one makes room.
func TestInvitesAreBounded(t *testing.T) {
	a := mustNew(t, Tokens{Operator: opToken})
	var first Invite
	for i := range maxInvites {
		inv := mustInvite(t, a, "")
		if i == 0 {
			first = inv
		}
	}
	if _, err := a.NewInvite(""); !errors.Is(err, ErrTooManyInvites) {
		t.Fatalf("invite %d = %v, want ErrTooManyInvites", maxInvites+1, err)
	}
	if err := a.EndInvite(first.ID); err != nil {
		t.Fatal(err)
	}
	mustInvite(t, a, "")
}

// Bad labels and codes change nothing; a wrong code counts as a wrong
// credential.
func TestInviteBadInput(t *testing.T) {
	a := slowRefill(mustNew(t, Tokens{Operator: opToken}))
	for _, label := range []string{strings.Repeat("x", maxLabelLen+1), "two\nlines", "bell\a", "\xff"} {
		if _, err := a.NewInvite(label); !errors.Is(err, ErrBadLabel) {
			t.Errorf("NewInvite(%q) = %v, want ErrBadLabel", label, err)
		}
	}
	if list := a.Invites(); len(list) != 0 {
		t.Errorf("Invites() = %+v after bad labels, want none", list)
	}
	mustInvite(t, a, strings.Repeat("é", maxLabelLen))
	var limited bool
	for _, code := range []string{"", "nope", strings.Repeat("a", 300), opToken, a.Session(Operator)} {
		for range DefaultFailureBurst {
			_, err := a.RedeemInvite(code, "192.0.2.9")
			if errors.Is(err, ErrLimited) {
				limited = true
			} else if !errors.Is(err, ErrNoInvite) {
				t.Errorf("RedeemInvite(%q) = %v, want ErrNoInvite or ErrLimited", code, err)
			}
		}
	}
	if !limited {
		t.Error("wrong invite codes never hit the brake")
	}
}
