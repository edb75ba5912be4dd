package auth

import (
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a hand-moved clock for code expiry.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newClock() *clock { return &clock{now: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)} }

// A login code signs in once, as its role, and never again.
func TestCodeWorksOnce(t *testing.T) {
	clk := newClock()
	a := slowRefill(mustNew(t, Tokens{Operator: opToken, Viewer: viewToken}, WithClock(clk.Now)))
	for _, role := range []Role{Viewer, Operator} {
		c, err := a.NewCode(role)
		if err != nil {
			t.Fatalf("NewCode(%v) = %v", role, err)
		}
		if c.Role != role || !c.Expires.Equal(clk.Now().Add(DefaultCodeTTL)) {
			t.Errorf("NewCode(%v) = role %v expiring %v, want %v at %v", role, c.Role, c.Expires, role, clk.Now().Add(DefaultCodeTTL))
		}
		if got, err := a.RedeemCode(c.Code, "192.0.2.1"); got != role || err != nil {
			t.Errorf("first use of a %v code = %v, %v, want %v", role, got, err, role)
		}
		if got, err := a.RedeemCode(c.Code, "192.0.2.1"); got != Anonymous || err != nil {
			t.Errorf("second use of a %v code = %v, %v, want anonymous", role, got, err)
		}
	}
}

// A code is good until its expiry and not from then on; the lifetime can
// be set.
func TestCodeExpires(t *testing.T) {
	clk := newClock()
	a := slowRefill(mustNew(t, Tokens{Operator: opToken, Viewer: viewToken}, WithClock(clk.Now)))
	late, err := a.NewCode(Viewer)
	if err != nil {
		t.Fatal(err)
	}
	inTime, _ := a.NewCode(Viewer)
	clk.Advance(DefaultCodeTTL - time.Second)
	if got, _ := a.RedeemCode(inTime.Code, "192.0.2.1"); got != Viewer {
		t.Errorf("a code a second before it expires = %v, want viewer", got)
	}
	clk.Advance(time.Second)
	if got, _ := a.RedeemCode(late.Code, "192.0.2.1"); got != Anonymous {
		t.Errorf("a code at its expiry = %v, want anonymous", got)
	}

	short := mustNew(t, Tokens{Operator: opToken}, WithClock(clk.Now), WithCodeTTL(time.Minute))
	c, _ := short.NewCode(Operator)
	if want := clk.Now().Add(time.Minute); !c.Expires.Equal(want) || short.CodeTTL() != time.Minute {
		t.Errorf("with a one-minute lifetime the code expires at %v (CodeTTL %v), want %v", c.Expires, short.CodeTTL(), want)
	}
	clk.Advance(time.Minute)
	if got, _ := short.RedeemCode(c.Code, "192.0.2.1"); got != Anonymous {
		t.Errorf("a code past a one-minute lifetime = %v, want anonymous", got)
	}
}

// Wrong codes (unknown, used, expired, empty, huge) are wrong credentials:
// they count against the client's budget like wrong tokens.
func TestWrongCodesAreBraked(t *testing.T) {
	a := slowRefill(mustNew(t, Tokens{Operator: opToken}))
	for i := range DefaultFailureBurst {
		if _, err := a.RedeemCode(strings.Repeat("x", 32)+string(rune('a'+i)), "198.51.100.1"); err != nil {
			t.Fatalf("wrong code %d within the burst: %v", i+1, err)
		}
	}
	for _, code := range []string{"", "nope", strings.Repeat("a", 10000)} {
		if got, err := a.RedeemCode(code, "198.51.100.1"); got != Anonymous || !errors.Is(err, ErrLimited) {
			t.Errorf("RedeemCode(%.10q…) past the burst = %v, %v, want anonymous and ErrLimited", code, got, err)
		}
	}
	// A token is not a code.
	if got, _ := a.RedeemCode(opToken, "198.51.100.2"); got != Anonymous {
		t.Errorf("RedeemCode(operator token) = %v, want anonymous", got)
	}
}

// Codes carry at least 128 random bits in URL-safe characters, are kept
// only as hashes, and are bounded in number.
func TestCodeShapeAndBounds(t *testing.T) {
	clk := newClock()
	a := mustNew(t, Tokens{Operator: opToken}, WithClock(clk.Now))
	if _, err := a.NewCode(Viewer); !errors.Is(err, ErrNoRole) {
		t.Errorf("NewCode(viewer) with no viewer token = %v, want ErrNoRole", err)
	}
	if _, err := a.NewCode(Anonymous); !errors.Is(err, ErrNoRole) {
		t.Errorf("NewCode(anonymous) = %v, want ErrNoRole", err)
	}
	seen := map[string]bool{}
	for i := range maxCodes {
		c, err := a.NewCode(Operator)
		if err != nil {
			t.Fatalf("code %d: %v", i+1, err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(c.Code)
		if err != nil || len(raw)*8 < 128 {
			t.Fatalf("code %q: %d bits, %v; want at least 128 bits of URL-safe base64", c.Code, len(raw)*8, err)
		}
		if seen[c.Code] {
			t.Fatalf("code %q made twice", c.Code)
		}
		seen[c.Code] = true
	}
	a.codes.mu.Lock()
	for k := range a.codes.waiting {
		for c := range seen {
			if strings.Contains(string(k[:]), c) {
				t.Errorf("a code is kept as it is")
			}
		}
	}
	a.codes.mu.Unlock()
	if _, err := a.NewCode(Operator); !errors.Is(err, ErrTooManyCodes) {
		t.Errorf("code %d = %v, want ErrTooManyCodes", maxCodes+1, err)
	}
	// Using one makes room, and so does time.
	for c := range seen {
		if got, _ := a.RedeemCode(c, "192.0.2.1"); got != Operator {
			t.Fatalf("RedeemCode = %v, want operator", got)
		}
		break
	}
	if _, err := a.NewCode(Operator); err != nil {
		t.Errorf("a code after one was used: %v", err)
	}
	clk.Advance(DefaultCodeTTL)
	if _, err := a.NewCode(Operator); err != nil {
		t.Errorf("a code after the others expired: %v", err)
	}
	a.codes.mu.Lock()
	n := len(a.codes.waiting)
	a.codes.mu.Unlock()
	if n != 1 {
		t.Errorf("%d codes kept after the others expired, want 1", n)
	}
}
