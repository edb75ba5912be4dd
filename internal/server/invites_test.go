package server_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/server"
)

// asOperator are the headers of an operator's page: its cookie and its
// own origin (the same-origin check of every action).
func (s *authServer) asOperator() map[string]string {
	return map[string]string{"Cookie": s.cookie(auth.Operator), "Origin": s.URL}
}

// mintInvite makes a class invite as the operator's page would.
func (s *authServer) mintInvite(t *testing.T, label string) server.NewInvite {
	t.Helper()
	got := send(t, noFollow, "POST", s.URL+"/api/invites", s.asOperator(), `{"label":"`+label+`"}`)
	if got.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/invites = %d %s, want 201", got.StatusCode, got.Body)
	}
	var inv server.NewInvite
	if err := json.Unmarshal([]byte(got.Body), &inv); err != nil {
		t.Fatalf("POST /api/invites: %v in %s", err, got.Body)
	}
	return inv
}

// join opens an invite's URL and returns the session cookie it set, or
// fails the test.
func join(t *testing.T, u string) string {
	t.Helper()
	got := send(t, noFollow, "GET", u, nil, "")
	if got.StatusCode != http.StatusSeeOther || got.Header.Get("Location") != "/" || len(got.Cookies()) != 1 {
		t.Fatalf("join = %d to %q with cookies %v, want 303 to / with the session", got.StatusCode, got.Header.Get("Location"), got.Cookies())
	}
	c := got.Cookies()[0]
	if c.Name != auth.CookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("join set %v, want the HttpOnly, SameSite=Strict session cookie", c)
	}
	return c.Name + "=" + c.Value
}

// sessionStatus is the status of GET /api/session with cookie, and the
// role it answers.
func sessionStatus(t *testing.T, s *authServer, cookie string) (int, string) {
	t.Helper()
	got := send(t, noFollow, "GET", s.URL+"/api/session", map[string]string{"Cookie": cookie}, "")
	var body struct{ Role string }
	_ = json.Unmarshal([]byte(got.Body), &body)
	return got.StatusCode, body.Role
}

// openInvites is GET /api/invites as the operator.
func (s *authServer) openInvites(t *testing.T) []server.InviteInfo {
	t.Helper()
	got := send(t, noFollow, "GET", s.URL+"/api/invites", s.asOperator(), "")
	if got.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/invites = %d %s", got.StatusCode, got.Body)
	}
	var body struct{ Invites []server.InviteInfo }
	if err := json.Unmarshal([]byte(got.Body), &body); err != nil {
		t.Fatal(err)
	}
	return body.Invites
}

// A class invite: an operator makes it, any number of browsers join as
// viewers; ending it refuses the link (401, a page saying so), signs the
// joined browsers out and closes their live connections.
func TestClassInvite(t *testing.T) {
	s := startAuthed(t)
	inv := s.mintInvite(t, "room 2")
	u, err := url.Parse(inv.URL)
	if err != nil || u.Host != s.addr() || u.Path != "/join" || u.Query().Get("code") == "" {
		t.Fatalf("invite URL %q, want /join?code= on the request's host", inv.URL)
	}
	if inv.ID == "" || inv.Label != "room 2" || !inv.Expires.After(inv.Created) {
		t.Errorf("invite = %+v, want an ID, the label and an expiry", inv.InviteInfo)
	}
	if strings.Contains(s.logText(), u.Query().Get("code")) {
		t.Error("the invite's code is in the log")
	}

	first, second := join(t, inv.URL), join(t, inv.URL)
	for _, c := range []string{first, second} {
		if st, role := sessionStatus(t, s, c); st != http.StatusOK || role != "viewer" {
			t.Errorf("GET /api/session with the invite's cookie = %d %q, want 200 viewer", st, role)
		}
		// A viewer: no invites of its own, no actions.
		if got := send(t, noFollow, "POST", s.URL+"/api/invites", map[string]string{"Cookie": c, "Origin": s.URL}, `{}`); got.StatusCode != http.StatusForbidden {
			t.Errorf("an invited viewer mints an invite = %d, want 403", got.StatusCode)
		}
	}
	if list := s.openInvites(t); len(list) != 1 || list[0].ID != inv.ID || list[0].Joins != 2 {
		t.Errorf("GET /api/invites = %+v, want the invite with 2 joins", list)
	}
	conn, _, err := dial(s.URL, map[string]string{"Cookie": first, "Origin": s.URL})
	if err != nil {
		t.Fatalf("dial /live with the invite's cookie: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	if f := readFrame(t, conn); f.Type != "snapshot" {
		t.Fatalf("first frame %q, want snapshot", f.Type)
	}

	if got := send(t, noFollow, "DELETE", s.URL+"/api/invites/"+inv.ID, s.asOperator(), ""); got.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE /api/invites/%s = %d %s, want 204", inv.ID, got.StatusCode, got.Body)
	}
	// The socket closes by itself, 1008, and not at the next ping.
	_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue
		}
		if !websocket.IsCloseError(err, websocket.ClosePolicyViolation) {
			t.Errorf("live connection after the end: %v, want close 1008", err)
		}
		break
	}
	for _, c := range []string{first, second} {
		if st, _ := sessionStatus(t, s, c); st != http.StatusUnauthorized {
			t.Errorf("GET /api/session after the end = %d, want 401", st)
		}
	}
	if _, resp, err := dial(s.URL, map[string]string{"Cookie": first, "Origin": s.URL}); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("dial /live after the end: %v, want 401", err)
	}
	again := send(t, noFollow, "GET", inv.URL, map[string]string{"Accept": "text/html"}, "")
	if again.StatusCode != http.StatusUnauthorized || len(again.Cookies()) != 0 {
		t.Errorf("join after the end = %d with cookies %v, want 401 and none", again.StatusCode, again.Cookies())
	}
	if !strings.Contains(again.Body, "This invite has ended. Ask the instructor for a new one.") || !strings.Contains(again.Body, `data-testid="join-error"`) {
		t.Errorf("join after the end: the page does not say the invite ended:\n%s", again.Body)
	}
	if list := s.openInvites(t); len(list) != 0 {
		t.Errorf("GET /api/invites after the end = %+v, want none", list)
	}
	if got := send(t, noFollow, "DELETE", s.URL+"/api/invites/"+inv.ID, s.asOperator(), ""); got.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE an ended invite = %d, want 404", got.StatusCode)
	}
}

// The QR code in the answer is a PNG of the join URL.
func TestClassInviteQRCode(t *testing.T) {
	s := startAuthed(t)
	inv := s.mintInvite(t, "")
	data, ok := strings.CutPrefix(inv.QR, "data:image/png;base64,")
	if !ok {
		t.Fatalf("qr = %.40q…, want a data:image/png;base64 URL", inv.QR)
	}
	raw, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("qr is not a PNG: %v", err)
	}
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		t.Fatal(err)
	}
	got, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		t.Fatalf("qr does not decode: %v", err)
	}
	if got.GetText() != inv.URL {
		t.Errorf("qr holds %q, want the join URL %q", got.GetText(), inv.URL)
	}
	// And it joins.
	join(t, got.GetText())
}

// Only operators see, make and end invites.
func TestViewerCannotInvite(t *testing.T) {
	s := startAuthed(t)
	inv := s.mintInvite(t, "")
	for name, hdr := range map[string]map[string]string{
		"viewer bearer": {"Authorization": "Bearer " + s.view},
		"viewer cookie": {"Cookie": s.cookie(auth.Viewer), "Origin": s.URL},
		"stranger":      {"Origin": s.URL},
	} {
		want := http.StatusForbidden
		if name == "stranger" {
			want = http.StatusUnauthorized
		}
		for _, r := range []struct{ method, path, body string }{
			{"POST", "/api/invites", `{}`},
			{"GET", "/api/invites", ""},
			{"DELETE", "/api/invites/" + inv.ID, ""},
		} {
			if got := send(t, noFollow, r.method, s.URL+r.path, hdr, r.body); got.StatusCode != want || strings.Contains(got.Body, "code=") {
				t.Errorf("%s: %s %s = %d %s, want %d", name, r.method, r.path, got.StatusCode, got.Body, want)
			}
		}
	}
	if list := s.openInvites(t); len(list) != 1 {
		t.Errorf("invites = %+v, want the one the operator made", list)
	}
}

// Bad input is refused clearly and changes nothing.
func TestClassInviteBadInput(t *testing.T) {
	s := startAuthed(t)
	for _, body := range []string{`{"label":"` + strings.Repeat("x", 61) + `"}`, `{"label":"a\nb"}`, `{"role":"operator"}`, `not json`} {
		if got := send(t, noFollow, "POST", s.URL+"/api/invites", s.asOperator(), body); got.StatusCode != http.StatusBadRequest {
			t.Errorf("POST /api/invites %s = %d %s, want 400", body, got.StatusCode, got.Body)
		}
	}
	if got := send(t, noFollow, "DELETE", s.URL+"/api/invites/nope", s.asOperator(), ""); got.StatusCode != http.StatusNotFound {
		t.Errorf("DELETE an unknown invite = %d, want 404", got.StatusCode)
	}
	if list := s.openInvites(t); len(list) != 0 {
		t.Fatalf("invites = %+v after bad input, want none", list)
	}
	// Unlabelled, with no body at all: as a script's curl -X POST.
	if got := send(t, noFollow, "POST", s.URL+"/api/invites", s.asOperator(), ""); got.StatusCode != http.StatusCreated {
		t.Errorf("POST /api/invites with no body = %d %s, want 201", got.StatusCode, got.Body)
	}
	for range 19 {
		s.mintInvite(t, "")
	}
	if got := send(t, noFollow, "POST", s.URL+"/api/invites", s.asOperator(), `{}`); got.StatusCode != http.StatusConflict || !strings.Contains(got.Body, "end one first") {
		t.Errorf("invite 21 = %d %s, want 409 saying to end one first", got.StatusCode, got.Body)
	}
	// Wrong codes are wrong credentials: refused plainly, then braked.
	var braked bool
	for range 15 {
		got := send(t, noFollow, "GET", s.URL+"/join?code=nope", nil, "")
		switch got.StatusCode {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			braked = got.Header.Get("Retry-After") != ""
		default:
			t.Fatalf("join with a wrong code = %d, want 401 or 429", got.StatusCode)
		}
	}
	if !braked {
		t.Error("15 wrong invite codes from one address were never braked")
	}
}

// watchersFrame is a watchers frame.
type watchersFrame struct {
	Type      string `json:"type"`
	Viewers   int    `json:"viewers"`
	Operators int    `json:"operators"`
}

// awaitWatchers reads conn until a watchers frame with these counts.
func awaitWatchers(t *testing.T, conn *websocket.Conn, viewers, operators int) {
	t.Helper()
	var last watchersFrame
	for {
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		_, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read /live: %v (waiting for %d viewers and %d operators; last counts %+v)", err, viewers, operators, last)
		}
		var f watchersFrame
		if json.Unmarshal(data, &f) == nil && f.Type == "watchers" {
			last = f
			if f.Viewers == viewers && f.Operators == operators {
				return
			}
		}
	}
}

// The live connections are counted by role and every connection hears
// when a viewer comes and goes; a new one hears the counts right after
// its snapshot.
func TestWatchersFrame(t *testing.T) {
	s := startAuthed(t)
	op := dialAs(t, s.URL, s.op) // reads the snapshot
	_, data := nextOfType(t, op, "watchers")
	var f watchersFrame
	if err := json.Unmarshal(data, &f); err != nil || f.Viewers != 0 || f.Operators != 1 {
		t.Fatalf("the operator's first watchers frame = %s, want 0 viewers and 1 operator", data)
	}

	viewer := dialAs(t, s.URL, s.view)
	// Its own first frame after the snapshot counts it.
	if _, data := nextOfType(t, viewer, "watchers"); !strings.Contains(string(data), `"viewers":1,"operators":1`) {
		t.Errorf("the viewer's first watchers frame = %s, want 1 and 1", data)
	}
	awaitWatchers(t, op, 1, 1)
	viewer.Close()
	awaitWatchers(t, op, 0, 1)
}
