package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/server"
)

// GET /api/session says who the caller is: the page uses its 401 to notice
// a lost sign-in, and a script to check its token.
func TestSessionSaysWhoYouAre(t *testing.T) {
	s := startAuthed(t)
	ro := startAuthed(t, func(d *server.Deps) { d.ReadOnly = true })
	open, _ := startFaked(t)
	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	tests := []struct {
		name       string
		base       string
		hdr        map[string]string
		wantStatus int
		wantRole   string
		wantCanAct bool
		wantAccess bool
	}{
		{"no credential", s.URL, nil, http.StatusUnauthorized, "", false, false},
		{"viewer", s.URL, bearer(s.view), http.StatusOK, "viewer", false, true},
		{"operator", s.URL, bearer(s.op), http.StatusOK, "operator", true, true},
		{"operator, read-only", ro.URL, bearer(ro.op), http.StatusOK, "operator", false, true},
		{"loopback without tokens", open.URL, nil, http.StatusOK, "operator", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tt.base, "GET", "/api/session", nil, tt.hdr)
			if r.Status != tt.wantStatus {
				t.Fatalf("GET /api/session = %d %v, want %d", r.Status, r.Body, tt.wantStatus)
			}
			if tt.wantStatus != http.StatusOK {
				return
			}
			if r.Body["role"] != tt.wantRole || r.Body["canAct"] != tt.wantCanAct || r.Body["accessControl"] != tt.wantAccess {
				t.Errorf("GET /api/session = %v, want role %s, canAct %v, accessControl %v", r.Body, tt.wantRole, tt.wantCanAct, tt.wantAccess)
			}
		})
	}
}

// A cross-site navigation to the map without a cookie (the end of a login
// link's redirect opened from another site) gets a page that loads the map
// again as a same-site navigation; any other anonymous browser is sent to
// the login page.
func TestCrossSiteLandingLoadsTheMapAgain(t *testing.T) {
	s := startAuthed(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(site string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", s.URL+"/", nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Sec-Fetch-Site", site)
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}
	resp, body := get("cross-site")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `http-equiv="refresh" content="0; url=/"`) {
		t.Errorf("cross-site landing = %d %q, want 401 with a refresh to /", resp.StatusCode, body)
	}
	for _, site := range []string{"same-origin", "none"} {
		if resp, _ := get(site); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("%s landing = %d to %q, want 303 to /login", site, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
}

// A browser with a stale cookie (the tokens changed) reloading the login
// page, with its stylesheet and icon, is not braked out of logging in.
func TestStaleCookieDoesNotBrakeTheLoginPage(t *testing.T) {
	s := startAuthed(t)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	stale := map[string]string{"Cookie": "dockmap_session=stale-session-from-old-tokens"}
	for range 3 * 10 {
		for _, path := range []string{"/login", "/static/style.css", "/static/favicon.svg", "/healthz"} {
			if r := call(t, s.URL, "GET", path, nil, stale); r.Status != http.StatusOK {
				t.Fatalf("GET %s with a stale cookie = %d, want 200", path, r.Status)
			}
		}
	}
	req, _ := http.NewRequest("GET", s.mintCode(t, auth.Viewer).URL, nil)
	req.Header.Set("Cookie", stale["Cookie"])
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("login link after reloading with a stale cookie = %d, want 303", resp.StatusCode)
	}
}
