package auth

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// Two fixed, valid tokens: tests must not depend on NewToken being right.
const (
	opToken   = "op-Kq3vX9wL2mN7pR4sT8yZ1bC5"
	viewToken = "view_Hj6Gf2Dd8Ss4Aa0Qq9Ww3Ee7"
)

func mustNew(t testing.TB, tokens Tokens, opts ...Option) *Auth {
	t.Helper()
	a, err := New(tokens, opts...)
	if err != nil {
		t.Fatalf("New(%+v): %v", tokens, err)
	}
	return a
}

// slowRefill gives a the default burst with a refill too slow to matter:
// the limiter tests count failures against the burst, and on a loaded
// machine the real refill (one a second) would give a token back mid-test.
func slowRefill(a *Auth) *Auth {
	a.limiter = NewLimiter(rate.Every(time.Hour), DefaultFailureBurst)
	return a
}

// NewToken must carry at least 128 random bits and pass its own check.
func TestNewToken(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tok := NewToken()
		if err := ValidateToken(tok); err != nil {
			t.Fatalf("ValidateToken(NewToken() = %q) = %v", tok, err)
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil {
			t.Fatalf("NewToken() = %q is not URL-safe base64: %v", tok, err)
		}
		if bits := len(raw) * 8; bits < 128 {
			t.Fatalf("NewToken() carries %d bits, want at least 128", bits)
		}
		if seen[tok] {
			t.Fatalf("NewToken() returned %q twice", tok)
		}
		seen[tok] = true
	}
	// Random bytes: over 1000 tokens every one of the 32 byte positions
	// takes many values (a constant or counter-like part would not).
	pos := make([]map[byte]bool, 32)
	for i := range pos {
		pos[i] = map[byte]bool{}
	}
	for tok := range seen {
		raw, _ := base64.RawURLEncoding.DecodeString(tok)
		for i, b := range raw {
			pos[i][b] = true
		}
	}
	for i, vals := range pos {
		if len(vals) < 200 {
			t.Errorf("byte %d of NewToken took only %d values over 1000 tokens: not random", i, len(vals))
		}
	}
}

func TestValidateToken(t *testing.T) {
	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"empty", "", false},
		{"21 characters", "abcdefghijklmnopqrstu", false},
		{"22 characters", "abcdefghijklmnopqrstuv", true},
		{"openssl rand -hex 16", "3f9c2a7be4d1806f5a2c9e7b1d4f6a08", true},
		{"uuid", "0f8fad5b-d9cb-469f-a165-70867728950e", true},
		{"all four marks", "aB3-cD4_eF5.gH6~iJ7-kL8_", true},
		{"256 characters", strings.Repeat("abcdefghijklmnop", 16), true},
		{"257 characters", strings.Repeat("abcdefghijklmnop", 16) + "q", false},
		{"one character repeated", strings.Repeat("a", 40), false},
		{"seven distinct characters", strings.Repeat("abcdefg", 5), false},
		{"space", "abcdefghijk lmnopqrstuvw", false},
		{"std base64 plus", "abcdefghijk+lmnopqrstuvw", false},
		{"std base64 slash", "abcdefghijk/lmnopqrstuvw", false},
		{"padding", "abcdefghijklmnopqrstuvw=", false},
		{"query metacharacters", "abcdefghijk&lmnopqrstuv#", false},
		{"percent", "abcdefghijk%20mnopqrstuvw", false},
		{"quote", `abcdefghijk"lmnopqrstuvw`, false},
		{"non-ASCII", "abcdefghijklmnopqrstuvwü", false},
		{"NUL", "abcdefghijk\x00lmnopqrstuvw", false},
		{"newline", "abcdefghijklmnopqrstuvw\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateToken(tt.token)
			if (err == nil) != tt.ok {
				t.Fatalf("ValidateToken(%q) = %v, want ok %v", tt.token, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadToken) {
				t.Errorf("ValidateToken(%q) = %v, want it to wrap ErrBadToken", tt.token, err)
			}
		})
	}
}

func TestTokensValidate(t *testing.T) {
	tests := []struct {
		name   string
		tokens Tokens
		ok     bool
	}{
		{"operator only", Tokens{Operator: opToken}, true},
		{"both", Tokens{Operator: opToken, Viewer: viewToken}, true},
		{"no operator", Tokens{Viewer: viewToken}, false},
		{"short operator", Tokens{Operator: "short", Viewer: viewToken}, false},
		{"short viewer", Tokens{Operator: opToken, Viewer: "short"}, false},
		{"equal tokens", Tokens{Operator: opToken, Viewer: opToken}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.tokens.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate(%+v) = %v, want ok %v", tt.tokens, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrBadToken) {
				t.Errorf("Validate = %v, want it to wrap ErrBadToken", err)
			}
			// New refuses exactly what Validate refuses.
			if _, nerr := New(tt.tokens); (nerr == nil) != tt.ok {
				t.Errorf("New(%+v) = %v, want ok %v", tt.tokens, nerr, tt.ok)
			}
		})
	}
}

func TestTokenAndSessionRole(t *testing.T) {
	a := mustNew(t, Tokens{Operator: opToken, Viewer: viewToken})
	for _, tt := range []struct {
		token string
		want  Role
	}{
		{opToken, Operator},
		{viewToken, Viewer},
		{"", Anonymous},
		{opToken + "x", Anonymous},
		{opToken[:len(opToken)-1], Anonymous},
		{strings.ToUpper(opToken), Anonymous},
		{a.Session(Operator), Anonymous}, // a cookie value is not a token
		{strings.Repeat("a", 10000), Anonymous},
	} {
		if got := a.TokenRole(tt.token); got != tt.want {
			t.Errorf("TokenRole(%.30q) = %v, want %v", tt.token, got, tt.want)
		}
	}

	opSession, viewSession := a.Session(Operator), a.Session(Viewer)
	if opSession == "" || viewSession == "" || opSession == viewSession {
		t.Fatalf("Session(Operator) = %q, Session(Viewer) = %q: want two different values", opSession, viewSession)
	}
	if strings.Contains(opSession, opToken) || strings.Contains(viewSession, viewToken) {
		t.Errorf("a session value holds its token")
	}
	if got := a.Session(Anonymous); got != "" {
		t.Errorf("Session(Anonymous) = %q, want none", got)
	}
	for _, tt := range []struct {
		value string
		want  Role
	}{
		{opSession, Operator},
		{viewSession, Viewer},
		{"", Anonymous},
		{opToken, Anonymous}, // the token itself is not a session
		{viewToken, Anonymous},
		{opSession[:len(opSession)-1], Anonymous},
		{opSession + "A", Anonymous},
	} {
		if got := a.SessionRole(tt.value); got != tt.want {
			t.Errorf("SessionRole(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}

	// The session depends on the token: another operator token's cookie
	// is worthless here.
	other := mustNew(t, Tokens{Operator: "other-Zx8Cv7Bn6Mm5Ll4Kk3Jj2"})
	if got := a.SessionRole(other.Session(Operator)); got != Anonymous {
		t.Errorf("SessionRole(cookie of another token) = %v, want anonymous", got)
	}
	// And it is stable: the same tokens after a restart accept old cookies.
	if again := mustNew(t, Tokens{Operator: opToken, Viewer: viewToken}); again.Session(Operator) != opSession {
		t.Errorf("Session(Operator) changed between two Auths with the same token")
	}
}

// With no viewer token configured nothing grants Viewer, in particular not
// the empty token or the empty session value that "no viewer" leaves behind.
func TestNoViewerConfigured(t *testing.T) {
	a := mustNew(t, Tokens{Operator: opToken})
	for _, tok := range []string{"", viewToken} {
		if got := a.TokenRole(tok); got != Anonymous {
			t.Errorf("TokenRole(%q) without a viewer token = %v, want anonymous", tok, got)
		}
	}
	if got := a.Session(Viewer); got != "" {
		t.Errorf("Session(Viewer) without a viewer token = %q, want none", got)
	}
	for _, v := range []string{"", mustNew(t, Tokens{Operator: opToken, Viewer: viewToken}).Session(Viewer)} {
		if got := a.SessionRole(v); got != Anonymous {
			t.Errorf("SessionRole(%q) without a viewer token = %v, want anonymous", v, got)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: CookieName, Value: ""})
	if got, err := a.Request(r, "192.0.2.1"); got != Anonymous || err != nil {
		t.Errorf("Request with an empty cookie = %v, %v, want anonymous", got, err)
	}
	if got := a.TokenRole(opToken); got != Operator {
		t.Errorf("TokenRole(operator) = %v, want operator", got)
	}
}

// Request reads the Authorization header and the session cookie, and
// nothing else.
func TestRequestReadsOnlyHeaderAndCookie(t *testing.T) {
	a := mustNew(t, Tokens{Operator: opToken, Viewer: viewToken})
	tests := []struct {
		name string
		set  func(r *http.Request)
		want Role
	}{
		{"nothing", func(*http.Request) {}, Anonymous},
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+opToken) }, Operator},
		{"bearer lower case", func(r *http.Request) { r.Header.Set("Authorization", "bearer "+opToken) }, Operator},
		{"viewer bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+viewToken) }, Viewer},
		{"cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: CookieName, Value: a.Session(Operator)}) }, Operator},
		{"viewer cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: CookieName, Value: a.Session(Viewer)}) }, Viewer},
		{"token in the cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: CookieName, Value: opToken}) }, Anonymous},
		{"query", func(r *http.Request) { r.URL.RawQuery = "token=" + opToken }, Anonymous},
		{"access_token query", func(r *http.Request) { r.URL.RawQuery = "access_token=" + opToken }, Anonymous},
		{"form", func(r *http.Request) { r.PostForm = url.Values{"token": {opToken}} }, Anonymous},
		{"other header", func(r *http.Request) { r.Header.Set("X-Auth-Token", opToken) }, Anonymous},
		{"other cookie", func(r *http.Request) { r.AddCookie(&http.Cookie{Name: "token", Value: opToken}) }, Anonymous},
		{"other scheme", func(r *http.Request) { r.Header.Set("Authorization", "Token "+opToken) }, Anonymous},
		{"bare token", func(r *http.Request) { r.Header.Set("Authorization", opToken) }, Anonymous},
		{"basic", func(r *http.Request) { r.SetBasicAuth("operator", opToken) }, Anonymous},
		// The header wins over the cookie: a script's explicit credential.
		{"viewer bearer, operator cookie", func(r *http.Request) {
			r.Header.Set("Authorization", "Bearer "+viewToken)
			r.AddCookie(&http.Cookie{Name: CookieName, Value: a.Session(Operator)})
		}, Viewer},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/api/graph", nil)
			tt.set(r)
			// A client per case, so the failures of one do not brake the next.
			got, err := a.Request(r, "192.0.2."+strconv.Itoa(i+1))
			if err != nil || got != tt.want {
				t.Errorf("Request = %v, %v, want %v", got, err, tt.want)
			}
		})
	}
}

// After a burst of wrong credentials a client's next wrong ones get
// ErrLimited, yet its right credentials (Bearer, cookie, login form) still
// get in; other clients are not affected.
func TestLimiterBrakesOnlyWrongCredentials(t *testing.T) {
	a := slowRefill(mustNew(t, Tokens{Operator: opToken, Viewer: viewToken}))
	bearer := func(tok string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		return r
	}
	const guesser, other = "198.51.100.7", "198.51.100.8"
	for i := range DefaultFailureBurst {
		if role, err := a.Request(bearer("wrong-"+opToken), guesser); role != Anonymous || err != nil {
			t.Fatalf("failure %d = %v, %v, want anonymous and no error within the burst", i+1, role, err)
		}
	}
	// Requests without any credential are not attempts and are never braked.
	if role, err := a.Request(httptest.NewRequest(http.MethodGet, "/", nil), guesser); role != Anonymous || err != nil {
		t.Errorf("request without a credential after the burst = %v, %v, want anonymous and no error", role, err)
	}
	if _, err := a.Request(bearer("wrong-"+opToken), guesser); !errors.Is(err, ErrLimited) {
		t.Fatalf("failure past the burst: err %v, want ErrLimited", err)
	}
	if _, err := a.Login("wrong-"+opToken, guesser); !errors.Is(err, ErrLimited) {
		t.Errorf("wrong Login past the burst: err %v, want ErrLimited", err)
	}
	wrongCookie := httptest.NewRequest(http.MethodGet, "/", nil)
	wrongCookie.AddCookie(&http.Cookie{Name: CookieName, Value: "stale-" + a.Session(Operator)})
	if _, err := a.Request(wrongCookie, guesser); !errors.Is(err, ErrLimited) {
		t.Errorf("wrong cookie past the burst: err %v, want ErrLimited", err)
	}
	if d := a.Limiter().RetryAfter(guesser); d <= 0 {
		t.Errorf("RetryAfter(braked client) = %v, want a wait", d)
	}

	// The right credentials from the braked client, every way they come.
	if role, err := a.Request(bearer(opToken), guesser); role != Operator || err != nil {
		t.Errorf("right token from a braked client = %v, %v, want operator", role, err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: CookieName, Value: a.Session(Viewer)})
	if role, err := a.Request(r, guesser); role != Viewer || err != nil {
		t.Errorf("right cookie from a braked client = %v, %v, want viewer", role, err)
	}
	if role, err := a.Login(opToken, guesser); role != Operator || err != nil {
		t.Errorf("Login with the right token from a braked client = %v, %v, want operator", role, err)
	}
	code, err := a.NewCode(Viewer)
	if err != nil {
		t.Fatal(err)
	}
	if role, err := a.RedeemCode(code.Code, guesser); role != Viewer || err != nil {
		t.Errorf("a fresh login code from a braked client = %v, %v, want viewer", role, err)
	}
	if role := a.PublicRequest(bearer(opToken), guesser); role != Operator {
		t.Errorf("PublicRequest with the right token from a braked client = %v, want operator", role)
	}
	// ... and they refill nothing: the next wrong one is still braked.
	if _, err := a.Request(bearer("wrong-"+opToken), guesser); !errors.Is(err, ErrLimited) {
		t.Errorf("wrong token after right ones: err %v, want ErrLimited", err)
	}

	if role, err := a.Request(bearer("wrong-"+opToken), other); role != Anonymous || err != nil {
		t.Errorf("wrong token from another client = %v, %v, want anonymous within its own budget", role, err)
	}
	if d := a.Limiter().RetryAfter(other); d != 0 {
		t.Errorf("RetryAfter(other client) = %v, want none", d)
	}
}

// Successes cost nothing: a busy, rightful client is never braked.
func TestLimiterCountsOnlyFailures(t *testing.T) {
	a := slowRefill(mustNew(t, Tokens{Operator: opToken}))
	for i := range 10 * DefaultFailureBurst {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+opToken)
		if role, err := a.Request(r, "203.0.113.1"); role != Operator || err != nil {
			t.Fatalf("request %d with the right token = %v, %v, want operator", i+1, role, err)
		}
	}
	for i := range DefaultFailureBurst {
		if _, err := a.Login("wrong-"+opToken, "203.0.113.2"); err != nil {
			t.Fatalf("wrong Login %d within the burst: %v", i+1, err)
		}
	}
	if _, err := a.Login("wrong-"+opToken, "203.0.113.2"); !errors.Is(err, ErrLimited) {
		t.Errorf("wrong Login past the burst: err %v, want ErrLimited", err)
	}
}

// FuzzValidateToken checks that an accepted token is one that travels
// unchanged through a URL query and a header, and works as a credential.
func FuzzValidateToken(f *testing.F) {
	for _, s := range []string{
		"", "abcdefghijklmnopqrstuv", opToken, viewToken, "3f9c2a7be4d1806f5a2c9e7b1d4f6a08",
		strings.Repeat("a", 40), "abcdefghijk lmnopqrstuvw", "abcdefghijk+lmnopqrstuvw", "abcdefghijklmnopqrstuvwü",
		strings.Repeat("abcdefghijklmnop", 16) + "q", "aB3-cD4_eF5.gH6~iJ7-kL8_", "abcdefghijk%20mnopqrstuvw",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateToken(s)
		if err != nil {
			if !errors.Is(err, ErrBadToken) {
				t.Fatalf("ValidateToken(%q) = %v, want it to wrap ErrBadToken", s, err)
			}
			if _, nerr := New(Tokens{Operator: s}); nerr == nil {
				t.Fatalf("New accepted operator token %q that ValidateToken refuses", s)
			}
			return
		}
		if len(s) < MinTokenLen || len(s) > maxTokenLen {
			t.Fatalf("ValidateToken accepted %q of length %d", s, len(s))
		}
		if esc := url.QueryEscape(s); esc != s {
			t.Fatalf("accepted token %q changes in a URL query: %q", s, esc)
		}
		q, perr := url.ParseQuery("token=" + s)
		if perr != nil || q.Get("token") != s {
			t.Fatalf("accepted token %q does not survive a query: %q, %v", s, q.Get("token"), perr)
		}
		a, nerr := New(Tokens{Operator: s})
		if nerr != nil {
			t.Fatalf("New(operator %q) = %v after ValidateToken accepted it", s, nerr)
		}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Authorization", "Bearer "+s)
		if role, rerr := a.Request(r, "192.0.2.1"); role != Operator || rerr != nil {
			t.Fatalf("Bearer %q = %v, %v, want operator", s, role, rerr)
		}
		if sess := a.Session(Operator); strings.Contains(sess, s) || a.SessionRole(sess) != Operator {
			t.Fatalf("session for %q holds the token or does not grant operator", s)
		}
	})
}

// Wrong credentials that arrive together spend exactly the budget: no more
// than the burst are answered "wrong" (401) however many are in flight,
// the rest "slow down"; right ones arriving in the same wave all get in.
func TestConcurrentFailuresStayWithinTheBudget(t *testing.T) {
	a := slowRefill(mustNew(t, Tokens{Operator: opToken}))
	const guesses = 50
	var (
		mu            sync.Mutex
		within, past  int
		rightRefused  int
		wg            sync.WaitGroup
		start         = make(chan struct{})
		client        = "203.0.113.9"
		wrong, rightT = "wrong-" + opToken, opToken
	)
	for range guesses {
		wg.Go(func() {
			<-start
			_, err := a.Login(wrong, client)
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, ErrLimited) {
				past++
			} else {
				within++
			}
		})
		wg.Go(func() {
			<-start
			if role, err := a.Login(rightT, client); role != Operator || err != nil {
				mu.Lock()
				rightRefused++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	if within != DefaultFailureBurst || past != guesses-DefaultFailureBurst {
		t.Errorf("%d wrong tokens at once: %d within the budget, %d past it; want %d within", guesses, within, past, DefaultFailureBurst)
	}
	if rightRefused != 0 {
		t.Errorf("%d of %d right tokens in the same wave were refused, want none", rightRefused, guesses)
	}
}

// The brake's memory is bounded under a spray of addresses: past
// maxClients new addresses share one bucket, and idle ones are swept.
func TestLimiterMemoryIsBounded(t *testing.T) {
	l := NewLimiter(rate.Every(time.Hour), DefaultFailureBurst)
	for i := range 2 * maxClients {
		l.Fail("10." + strconv.Itoa(i>>16) + "." + strconv.Itoa(i>>8&255) + "." + strconv.Itoa(i&255))
	}
	if n := len(l.clients); n > maxClients {
		t.Errorf("%d clients kept after a spray, want at most %d", n, maxClients)
	}
	// A full bucket has forgotten every failure: a refilled limiter sweeps
	// them all to make room.
	fast := NewLimiter(rate.Inf, DefaultFailureBurst)
	for i := range maxClients + 10 {
		fast.Fail("192.0.2." + strconv.Itoa(i))
	}
	if n := len(fast.clients); n > maxClients {
		t.Errorf("%d clients kept with idle buckets to sweep, want at most %d", n, maxClients)
	}
}
