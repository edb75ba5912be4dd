package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/server"
)

// mintCode asks for a login link for role, as the operator's script would.
func (s *authServer) mintCode(t *testing.T, role auth.Role) server.LoginCode {
	t.Helper()
	got := send(t, noFollow, "POST", s.URL+"/api/login-codes", map[string]string{"Authorization": "Bearer " + s.op}, `{"role":"`+role.String()+`"}`)
	if got.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/login-codes (%v) = %d %s, want 201", role, got.StatusCode, got.Body)
	}
	var c server.LoginCode
	if err := json.Unmarshal([]byte(got.Body), &c); err != nil {
		t.Fatalf("POST /api/login-codes: %v in %s", err, got.Body)
	}
	return c
}

// fakeClock is a clock the test moves: a code's 15 minutes must not be
// waited for.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// A login link signs one browser in, once; its second use gets the login
// page saying so, and no cookie.
func TestLoginCodeWorksOnce(t *testing.T) {
	s := startAuthed(t)
	code := s.mintCode(t, auth.Viewer)
	first := send(t, noFollow, "GET", code.URL, nil, "")
	if first.StatusCode != http.StatusSeeOther || first.Header.Get("Location") != "/" || len(first.Cookies()) != 1 {
		t.Fatalf("first use = %d to %q with cookies %v, want 303 to / with the session", first.StatusCode, first.Header.Get("Location"), first.Cookies())
	}
	again := send(t, noFollow, "GET", code.URL, nil, "")
	if again.StatusCode != http.StatusUnauthorized || len(again.Cookies()) != 0 {
		t.Errorf("second use = %d with cookies %v, want 401 and none", again.StatusCode, again.Cookies())
	}
	if !strings.Contains(again.Body, "already used or has expired: ask for a new one or paste the token") {
		t.Errorf("second use: the page does not say the link is used up:\n%s", again.Body)
	}
}

// A login link expires after 15 minutes.
func TestLoginCodeExpires(t *testing.T) {
	clk := &fakeClock{now: time.Now()}
	s := startAuthedWith(t, []auth.Option{auth.WithClock(clk.Now)})
	late := s.mintCode(t, auth.Operator)
	inTime := s.mintCode(t, auth.Operator)
	if want := clk.Now().Add(auth.DefaultCodeTTL); !late.Expires.Equal(want) {
		t.Errorf("expires %v, want %v", late.Expires, want)
	}
	clk.Advance(auth.DefaultCodeTTL - time.Second)
	if got := send(t, noFollow, "GET", inTime.URL, nil, ""); got.StatusCode != http.StatusSeeOther {
		t.Errorf("a link a second before it expires = %d, want 303", got.StatusCode)
	}
	clk.Advance(time.Second)
	if got := send(t, noFollow, "GET", late.URL, nil, ""); got.StatusCode != http.StatusUnauthorized || len(got.Cookies()) != 0 {
		t.Errorf("a link 15 minutes old = %d with cookies %v, want 401 and none", got.StatusCode, got.Cookies())
	}
}

// Only an operator makes login links: a viewer gets 403 (by token or by
// cookie), a stranger 401.
func TestViewerCannotMintLoginCodes(t *testing.T) {
	s := startAuthed(t)
	for name, hdr := range map[string]map[string]string{
		"viewer bearer": {"Authorization": "Bearer " + s.view},
		"viewer cookie": {"Cookie": s.cookie(auth.Viewer), "Origin": s.URL},
	} {
		for _, role := range []string{"viewer", "operator"} {
			if got := send(t, noFollow, "POST", s.URL+"/api/login-codes", hdr, `{"role":"`+role+`"}`); got.StatusCode != http.StatusForbidden || strings.Contains(got.Body, "code\"") {
				t.Errorf("%s asks for a %s link = %d %s, want 403", name, role, got.StatusCode, got.Body)
			}
		}
	}
	if got := send(t, noFollow, "POST", s.URL+"/api/login-codes", nil, `{"role":"viewer"}`); got.StatusCode != http.StatusUnauthorized {
		t.Errorf("a stranger asks for a link = %d, want 401", got.StatusCode)
	}
}

// POST /api/login-codes answers a link on the Host the operator used, is
// a same-origin JSON action like every other, and leaves an audit entry
// without the code.
func TestMintLoginCode(t *testing.T) {
	s := startAuthed(t)
	_, port, _ := strings.Cut(s.addr(), ":")
	opCookie := s.cookie(auth.Operator)
	req, _ := http.NewRequest("POST", s.URL+"/api/login-codes", strings.NewReader(`{"role":"viewer"}`))
	req.Host = "localhost:" + port
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Cookie", opCookie)
	req.Header.Set("Origin", "http://localhost:"+port)
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var code server.LoginCode
	err = json.NewDecoder(resp.Body).Decode(&code)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated || err != nil {
		t.Fatalf("POST /api/login-codes = %d (%v), want 201", resp.StatusCode, err)
	}
	u, err := url.Parse(code.URL)
	if err != nil || u.Scheme != "http" || u.Host != "localhost:"+port || u.Path != "/login" || u.Query().Get("code") != code.Code {
		t.Errorf("url %q, want http://localhost:%s/login?code=%s", code.URL, port, code.Code)
	}
	if code.Role != "viewer" || len(code.Code) < 22 || time.Until(code.Expires) > auth.DefaultCodeTTL || time.Until(code.Expires) < auth.DefaultCodeTTL-time.Minute {
		t.Errorf("answer %+v, want a viewer code of 128+ bits expiring in 15 minutes", code)
	}

	for _, tc := range []struct {
		name string
		hdr  map[string]string
		body string
		want int
	}{
		{"cross-site", map[string]string{"Cookie": opCookie, "Sec-Fetch-Site": "cross-site"}, `{"role":"viewer"}`, http.StatusForbidden},
		{"foreign origin", map[string]string{"Cookie": opCookie, "Origin": "http://evil.example"}, `{"role":"viewer"}`, http.StatusForbidden},
		{"form body", map[string]string{"Cookie": opCookie, "Content-Type": "application/x-www-form-urlencoded"}, `role=viewer`, http.StatusUnsupportedMediaType},
		{"unknown role", map[string]string{"Authorization": "Bearer " + s.op}, `{"role":"admin"}`, http.StatusBadRequest},
		{"no role", map[string]string{"Authorization": "Bearer " + s.op}, `{}`, http.StatusBadRequest},
		{"unknown field", map[string]string{"Authorization": "Bearer " + s.op}, `{"role":"viewer","ttl":"100h"}`, http.StatusBadRequest},
	} {
		if got := send(t, noFollow, "POST", s.URL+"/api/login-codes", tc.hdr, tc.body); got.StatusCode != tc.want {
			t.Errorf("%s = %d %s, want %d", tc.name, got.StatusCode, got.Body, tc.want)
		}
	}

	var made []map[string]any
	for _, l := range s.auditLines() {
		if l["route"] == "/api/login-codes" && l["status"] == float64(http.StatusCreated) {
			made = append(made, l)
		}
	}
	if len(made) != 1 || made[0]["role"] != "operator" {
		t.Errorf("audit lines for the link made: %v, want one by the operator", made)
	}
	if strings.Contains(s.logText(), code.Code) {
		t.Errorf("the code is in the log")
	}
}

// With access control off nobody needs a login link.
func TestMintLoginCodeWithoutAccessControl(t *testing.T) {
	open, _ := startFaked(t)
	if r := call(t, open.URL, "POST", "/api/login-codes", map[string]string{"role": "viewer"}, nil); r.Status != http.StatusConflict {
		t.Errorf("POST /api/login-codes without access control = %d %v, want 409", r.Status, r.Body)
	}
}

// /login?token= no longer signs in, right token or wrong: it shows the
// form with the reason, and the token is not even checked (so wrong ones
// there are never braked either).
func TestTokenInLoginLinkDoesNotSignIn(t *testing.T) {
	s := startAuthed(t)
	for _, tok := range []string{s.op, s.view} {
		got := send(t, noFollow, "GET", s.URL+"/login?token="+tok, nil, "")
		if got.StatusCode != http.StatusOK || len(got.Cookies()) != 0 {
			t.Errorf("GET /login?token=<right> = %d with cookies %v, want 200 and none", got.StatusCode, got.Cookies())
		}
		if !strings.Contains(got.Body, "Tokens are not accepted in links") || !strings.Contains(got.Body, `data-testid="login-token"`) {
			t.Errorf("GET /login?token= does not show the form with the reason:\n%s", got.Body)
		}
		if strings.Contains(got.Body, tok) {
			t.Errorf("the login page repeats the token")
		}
	}
	for range 3 * auth.DefaultFailureBurst {
		if got := send(t, noFollow, "GET", s.URL+"/login?token=wrong-"+s.op, nil, ""); got.StatusCode != http.StatusOK {
			t.Fatalf("GET /login?token=<wrong> = %d, want 200: the token is not checked", got.StatusCode)
		}
	}
}

// The login form's token field is a password field that is not
// autocompleted.
func TestLoginFormField(t *testing.T) {
	s := startAuthed(t)
	got := send(t, noFollow, "GET", s.URL+"/login", nil, "")
	if !strings.Contains(got.Body, `type="password"`) || !strings.Contains(got.Body, `autocomplete="off"`) {
		t.Errorf("the token field is not type=password autocomplete=off:\n%s", got.Body)
	}
}

// Every answer that carries or sets a credential is kept out of caches.
func TestCredentialAnswersAreNotStored(t *testing.T) {
	s := startAuthed(t)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": s.URL}
	for _, tc := range []struct {
		name, method, path string
		hdr                map[string]string
		body               string
		want               int
	}{
		{"login page", "GET", "/login", nil, "", 200},
		{"login with a code", "GET", "/login?code=" + s.mintCode(t, auth.Viewer).Code, nil, "", 303},
		{"login with a used code", "GET", "/login?code=used", nil, "", 401},
		{"login with a token in the link", "GET", "/login?token=" + s.op, nil, "", 200},
		{"login form", "POST", "/login", form, "token=" + s.op, 303},
		{"login form, wrong token", "POST", "/login", form, "token=wrong", 401},
		{"logout", "POST", "/logout", map[string]string{"Cookie": s.cookie(auth.Viewer), "Origin": s.URL}, "", 303},
		{"session", "GET", "/api/session", map[string]string{"Cookie": s.cookie(auth.Viewer)}, "", 200},
		{"login link made", "POST", "/api/login-codes", map[string]string{"Authorization": "Bearer " + s.op}, `{"role":"viewer"}`, 201},
	} {
		got := send(t, noFollow, tc.method, s.URL+tc.path, tc.hdr, tc.body)
		if got.StatusCode != tc.want || got.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s = %d with Cache-Control %q, want %d and no-store", tc.name, got.StatusCode, got.Header.Get("Cache-Control"), tc.want)
		}
	}
}

// A login link opened from another site (a chat) sets the cookie on the
// cross-site navigation; the map that navigation lands on, without the
// cookie, loads itself again, and then has it.
func TestLoginCodeFromAnotherSite(t *testing.T) {
	s := startAuthed(t)
	code := s.mintCode(t, auth.Viewer)
	login := send(t, noFollow, "GET", code.URL, map[string]string{"Sec-Fetch-Site": "cross-site", "Accept": "text/html"}, "")
	if login.StatusCode != http.StatusSeeOther || len(login.Cookies()) != 1 {
		t.Fatalf("cross-site GET of a login link = %d with cookies %v, want 303 with the session", login.StatusCode, login.Cookies())
	}
	landing := send(t, noFollow, "GET", s.URL+"/", map[string]string{"Sec-Fetch-Site": "cross-site", "Accept": "text/html"}, "")
	if landing.StatusCode != http.StatusUnauthorized || !strings.Contains(landing.Body, `http-equiv="refresh"`) {
		t.Errorf("cross-site landing without the cookie = %d, want 401 with a reload", landing.StatusCode)
	}
	c := login.Cookies()[0]
	again := send(t, noFollow, "GET", s.URL+"/", map[string]string{"Sec-Fetch-Site": "same-origin", "Accept": "text/html", "Cookie": c.Name + "=" + c.Value}, "")
	if again.StatusCode != http.StatusOK {
		t.Errorf("the reload with the cookie = %d, want 200", again.StatusCode)
	}
}

// A right login link from a braked address gets in; a wrong one gets 429
// with Retry-After.
func TestLoginCodeFromBrakedClient(t *testing.T) {
	s := startAuthed(t)
	var braked bool
	for range 3 * auth.DefaultFailureBurst {
		got := send(t, noFollow, "GET", s.URL+"/login?code=guess", nil, "")
		if got.StatusCode == http.StatusTooManyRequests {
			braked = got.Header.Get("Retry-After") != "" && strings.Contains(got.Body, "wait a few seconds")
			break
		}
		if got.StatusCode != http.StatusUnauthorized {
			t.Fatalf("a wrong code = %d, want 401 or 429", got.StatusCode)
		}
	}
	if !braked {
		t.Fatal("wrong codes are never braked with Retry-After")
	}
	code := s.mintCode(t, auth.Viewer)
	if got := send(t, noFollow, "GET", code.URL, nil, ""); got.StatusCode != http.StatusSeeOther || len(got.Cookies()) != 1 {
		t.Errorf("a right code from the braked address = %d with cookies %v, want 303 with the session", got.StatusCode, got.Cookies())
	}
}
