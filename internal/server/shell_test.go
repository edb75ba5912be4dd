package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/server"
)

// shellServer is the whole server on the real engine with --shell on and
// access control (operator and viewer tokens).
type shellServer struct {
	*testServer
	c        *docker.Client
	op, view string
}

func startShellServer(t testing.TB, opts ...func(*server.Deps)) *shellServer {
	t.Helper()
	c := dockertest.Client(t)
	s := &shellServer{c: c, op: auth.NewToken(), view: auth.NewToken()}
	a, err := auth.New(auth.Tokens{Operator: s.op, Viewer: s.view})
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]func(*server.Deps){func(d *server.Deps) {
		d.Auth, d.Shell, d.Shells = a, true, c
	}}, opts...)
	s.testServer = startServer(t, c, opts...)
	select {
	case <-s.Live.Synced():
	case <-time.After(30 * time.Second):
		t.Fatal("never synced with the engine")
	}
	return s
}

func (s *shellServer) shellURL(ref string, query string) string {
	u := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/containers/" + url.PathEscape(ref) + "/shell"
	if query != "" {
		u += "?" + query
	}
	return u
}

// dialShell opens a terminal as token's role; on a refusal it returns the
// answer's status and body.
func (s *shellServer) dialShell(t testing.TB, ref, token, query string) (*term, int, string) {
	t.Helper()
	hdr := http.Header{"Authorization": {"Bearer " + token}, "Origin": {s.URL}}
	conn, resp, err := websocket.DefaultDialer.Dial(s.shellURL(ref, query), hdr)
	if err != nil {
		if resp == nil {
			t.Fatalf("dial shell: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		return nil, resp.StatusCode, string(body)
	}
	t.Cleanup(func() { conn.Close() })
	tm := &term{t: t, conn: conn}
	ready := tm.control("ready")
	tm.ready = ready
	return tm, http.StatusSwitchingProtocols, ""
}

// term is the test's end of a terminal socket.
type term struct {
	t     testing.TB
	conn  *websocket.Conn
	out   bytes.Buffer // everything printed so far
	ready map[string]any
	// controls are the text frames read, in order.
	controls []map[string]any
	closeErr error
}

func (tm *term) typeIn(s string) {
	tm.t.Helper()
	if err := tm.conn.WriteMessage(websocket.BinaryMessage, []byte(s)); err != nil {
		tm.t.Fatalf("type %q: %v", s, err)
	}
}

func (tm *term) send(v any) {
	tm.t.Helper()
	if err := tm.conn.WriteJSON(v); err != nil {
		tm.t.Fatalf("send %v: %v", v, err)
	}
}

// next reads one frame; false once the socket is closed.
func (tm *term) next(deadline time.Time) bool {
	tm.t.Helper()
	_ = tm.conn.SetReadDeadline(deadline)
	typ, data, err := tm.conn.ReadMessage()
	if err != nil {
		tm.closeErr = err
		return false
	}
	if typ == websocket.BinaryMessage {
		tm.out.Write(data)
		return true
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		tm.t.Fatalf("text frame %q is no JSON: %v", data, err)
	}
	tm.controls = append(tm.controls, m)
	return true
}

// waitOutput reads until the output since mark holds want.
func (tm *term) waitOutput(mark int, want string) {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(tm.out.String()[mark:], want) {
		if !tm.next(deadline) {
			tm.t.Fatalf("socket ended (%v) before %q; output:\n%s", tm.closeErr, want, tm.out.String()[mark:])
		}
	}
}

// control reads until a control message of type typ, and returns it.
func (tm *term) control(typ string) map[string]any {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	seen := len(tm.controls)
	for {
		for _, m := range tm.controls[seen:] {
			if m["type"] == typ {
				return m
			}
		}
		seen = len(tm.controls)
		if !tm.next(deadline) {
			tm.t.Fatalf("socket ended (%v) before a %q message; controls %v", tm.closeErr, typ, tm.controls)
		}
	}
}

// closed reads until the socket closes and returns the close error.
func (tm *term) closed() *websocket.CloseError {
	tm.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for tm.next(deadline) {
	}
	var ce *websocket.CloseError
	if !errors.As(tm.closeErr, &ce) {
		tm.t.Fatalf("socket ended with %v, want a close frame", tm.closeErr)
	}
	return ce
}

// sttySize asks the shell its terminal's size ("rows cols").
func (tm *term) sttySize(want string) {
	tm.t.Helper()
	mark := tm.out.Len()
	// The fixture links no stty applet; its busybox has one.
	tm.typeIn("busybox stty size\n")
	tm.waitOutput(mark, want+"\r\n")
}

// pingPair runs web and database on a user-defined network.
func pingPair(t *testing.T, c *docker.Client) (web, db string) {
	t.Helper()
	net := dockertest.CreateNetwork(t, c, dockertest.UniqueName(t, "net"))
	db = dockertest.UniqueName(t, "database")
	dockertest.RunContainer(t, c, dockertest.WithName(db), dockertest.WithNetwork(net))
	web = dockertest.UniqueName(t, "web")
	dockertest.RunContainer(t, c, dockertest.WithName(web), dockertest.WithNetwork(net))
	return web, db
}

func TestShellPingResizeAndAudit(t *testing.T) {
	s := startShellServer(t)
	web, db := pingPair(t, s.c)

	tm, code, body := s.dialShell(t, web, s.op, "cols=90&rows=20")
	if tm == nil {
		t.Fatalf("shell in %s: %d %s", web, code, body)
	}
	if tm.ready["shell"] != "sh" || tm.ready["container"] != web {
		t.Errorf("ready = %v, want sh in %s (the fixture has no bash)", tm.ready, web)
	}
	tm.sttySize("20 90")

	mark := tm.out.Len()
	tm.typeIn("ping -c1 " + db + "\n")
	tm.waitOutput(mark, "1 packets received")

	tm.send(map[string]any{"type": "resize", "cols": 120, "rows": 40})
	if m := tm.control("resized"); m["cols"] != float64(120) || m["rows"] != float64(40) {
		t.Errorf("resized = %v, want 120×40", m)
	}
	tm.sttySize("40 120")

	// Out of range: 0×0 is refused with a message, 10000×10000 clamped.
	tm.send(map[string]any{"type": "resize", "cols": 0, "rows": 0})
	if m := tm.control("error"); !strings.Contains(m["message"].(string), "refused") {
		t.Errorf("0×0: %v, want a refusal", m)
	}
	tm.send(map[string]any{"type": "resize", "cols": 10000, "rows": 10000})
	if m := tm.control("resized"); m["cols"] != float64(docker.MaxTermCols) || m["rows"] != float64(docker.MaxTermRows) {
		t.Errorf("10000×10000: %v, want clamped to %d×%d", m, docker.MaxTermCols, docker.MaxTermRows)
	}
	tm.sttySize("500 1000")

	// A paste of a few KB (one frame, as xterm sends it) arrives whole.
	// Lines of no-ops, then a sum: busybox's line editor keeps only 1 KiB
	// of one command line.
	mark = tm.out.Len()
	tm.typeIn(strings.Repeat(": "+strings.Repeat("p", 57)+"\n", 60) + "echo pasted-$((6*10))\n")
	tm.waitOutput(mark, "pasted-60\r\n")

	tm.typeIn("exit 3\n")
	end := tm.control("end")
	if end["reason"] != "exit" || end["exit"] != float64(3) || !strings.Contains(end["message"].(string), "session ended") {
		t.Errorf("end = %v, want exit 3 with a message", end)
	}
	if ce := tm.closed(); ce.Code != websocket.CloseNormalClosure {
		t.Errorf("close %v, want 1000", ce)
	}

	// The audit has the session's start and end, with who and where.
	var start, stop *server.AuditEntry
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		start, stop = nil, nil
		var got struct{ Entries []server.AuditEntry }
		s.getJSON(t, "/api/audit", s.op, &got)
		for i, e := range got.Entries {
			if e.Shell == nil || e.Shell.Container != web {
				continue
			}
			switch e.Shell.Event {
			case "start":
				start = &got.Entries[i]
			case "end":
				stop = &got.Entries[i]
			}
		}
		return start != nil && stop != nil, "audit entries of the session"
	})
	if start.Role != "operator" || start.Remote == "" || start.Route != "/api/containers/:id/shell" || start.Shell.Shell != "sh" {
		t.Errorf("start entry %+v %+v", start, start.Shell)
	}
	if stop.Shell.Reason != "exit" || stop.Shell.Exit == nil || *stop.Shell.Exit != 3 || !stop.Shell.End.After(stop.Shell.Start) ||
		!stop.Shell.Start.Equal(start.Shell.Start) || stop.Role != "operator" {
		t.Errorf("end entry %+v %+v", stop, stop.Shell)
	}
}

func (s *shellServer) getJSON(t *testing.T, path, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// get is a plain GET as token's role: status and body.
func (s *shellServer) get(t *testing.T, path, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestShellRefusals(t *testing.T) {
	s := startShellServer(t)
	web := dockertest.UniqueName(t, "web")
	dockertest.RunContainer(t, s.c, dockertest.WithName(web))
	stopped := dockertest.UniqueName(t, "stopped")
	dockertest.RunContainer(t, s.c, dockertest.WithName(stopped), dockertest.Stopped())
	bare := dockertest.UniqueName(t, "distroless")
	dockertest.RunNoShellContainer(t, s.c, bare)

	for _, tc := range []struct {
		name, ref, token, query string
		code                    int
		says                    string
	}{
		{"viewer", web, s.view, "", http.StatusForbidden, "only an operator"},
		{"stopped", stopped, s.op, "", http.StatusConflict, "start it to open a shell"},
		{"no shell", bare, s.op, "", http.StatusConflict, "has no shell"},
		{"unknown", "no-such-container-here", s.op, "", http.StatusNotFound, "no container"},
		{"bad size", web, s.op, "cols=x&rows=2", http.StatusBadRequest, "cols and rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tm, code, body := s.dialShell(t, tc.ref, tc.token, tc.query)
			if tm != nil || code != tc.code || !strings.Contains(body, tc.says) {
				t.Errorf("WebSocket: %d %s, want %d saying %q", code, body, tc.code, tc.says)
			}
			// A plain GET gets the same answer: how a page whose socket
			// failed learns why.
			code, body = s.get(t, "/api/containers/"+url.PathEscape(tc.ref)+"/shell?"+tc.query, tc.token)
			if code != tc.code || !strings.Contains(body, tc.says) {
				t.Errorf("GET: %d %s, want %d saying %q", code, body, tc.code, tc.says)
			}
		})
	}
	// Each refused attempt by an operator is on the record, once (the
	// plain GETs that ask why are not attempts).
	var got struct{ Entries []server.AuditEntry }
	s.getJSON(t, "/api/audit", s.op, &got)
	attempts := map[string]int{}
	for _, e := range got.Entries {
		if e.Route == "/api/containers/:id/shell" && e.Status == http.StatusConflict && e.Role == "operator" && e.Error != "" {
			attempts[e.Params["id"]]++
		}
	}
	if attempts[stopped] != 1 || attempts[bare] != 1 {
		t.Errorf("refused attempts audited %v, want one for %s and one for %s", attempts, stopped, bare)
	}
	t.Run("plain GET of a good one", func(t *testing.T) {
		if code, body := s.get(t, "/api/containers/"+web+"/shell", s.op); code != http.StatusUpgradeRequired {
			t.Errorf("GET: %d %s, want 426", code, body)
		}
	})
	t.Run("other origin", func(t *testing.T) {
		hdr := http.Header{"Authorization": {"Bearer " + s.op}, "Origin": {"http://evil.example"}}
		_, resp, err := websocket.DefaultDialer.Dial(s.shellURL(web, ""), hdr)
		if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("foreign origin: %v %v, want 403", err, resp)
		}
	})
}

func TestShellOffIs404(t *testing.T) {
	s := startShellServer(t, func(d *server.Deps) { d.Shell = false })
	web := dockertest.UniqueName(t, "web")
	dockertest.RunContainer(t, s.c, dockertest.WithName(web))
	if code, body := s.get(t, "/api/containers/"+web+"/shell", s.op); code != http.StatusNotFound || !strings.Contains(body, "--shell") {
		t.Errorf("operator: %d %s, want 404 naming --shell", code, body)
	}
	if code, _ := s.get(t, "/api/containers/"+web+"/shell", s.view); code != http.StatusForbidden {
		t.Errorf("viewer: %d, want 403", code)
	}
}

// Binary frames are keystrokes, whatever they hold; a text frame that is
// no control message ends the session with a message, never a 500 or a
// socket left hanging.
func TestShellGarbage(t *testing.T) {
	s := startShellServer(t)
	web := dockertest.UniqueName(t, "web")
	dockertest.RunContainer(t, s.c, dockertest.WithName(web))

	tm, code, body := s.dialShell(t, web, s.op, "")
	if tm == nil {
		t.Fatalf("shell: %d %s", code, body)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(rng.IntN(256))
		switch junk[i] {
		case 0x03, 0x04, 0x11, 0x13, 0x1a, 0x1c:
			// Not end-of-input, a signal or flow control: the shell
			// must survive and print for the check below.
			junk[i] = 'x'
		}
	}
	tm.typeIn(string(junk))
	// Ctrl-C clears whatever the junk left on the line.
	mark := tm.out.Len()
	tm.typeIn("\x03echo alive-$((6*7))\n")
	tm.waitOutput(mark, "alive-42")

	if err := tm.conn.WriteMessage(websocket.TextMessage, []byte("\xff\xfe{not json")); err != nil {
		t.Fatal(err)
	}
	if m := tm.control("error"); !strings.Contains(m["message"].(string), "no control message") {
		t.Errorf("error = %v", m)
	}
	if ce := tm.closed(); ce.Code != websocket.CloseUnsupportedData {
		t.Errorf("close %v, want 1003", ce)
	}
	// Too big a frame: closed with 1009.
	tm2, _, _ := s.dialShell(t, web, s.op, "")
	_ = tm2.conn.WriteMessage(websocket.BinaryMessage, make([]byte, 70<<10))
	if ce := tm2.closed(); ce.Code != websocket.CloseMessageTooBig {
		t.Errorf("70 KiB frame: close %v, want 1009", ce)
	}
	if code, _ := s.get(t, "/healthz", s.op); code != http.StatusOK {
		t.Errorf("healthz %d after the garbage", code)
	}
}

func TestShellIdleCloses(t *testing.T) {
	s := startShellServer(t, func(d *server.Deps) { d.ShellIdle = 500 * time.Millisecond })
	web := dockertest.UniqueName(t, "web")
	dockertest.RunContainer(t, s.c, dockertest.WithName(web))
	tm, code, body := s.dialShell(t, web, s.op, "")
	if tm == nil {
		t.Fatalf("shell: %d %s", code, body)
	}
	end := tm.control("end")
	if end["reason"] != "idle" || !strings.Contains(end["message"].(string), "nothing typed") {
		t.Errorf("end = %v, want idle", end)
	}
	tm.closed()
}

// A container that stops under an open terminal ends the session with a
// message and a close, never a socket left hanging.
func TestShellContainerStops(t *testing.T) {
	s := startShellServer(t)
	web := dockertest.UniqueName(t, "web")
	id := dockertest.RunContainer(t, s.c, dockertest.WithName(web))
	tm, code, body := s.dialShell(t, web, s.op, "")
	if tm == nil {
		t.Fatalf("shell: %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.c.StopContainer(ctx, id, time.Second); err != nil {
		t.Fatal(err)
	}
	end := tm.control("end")
	if end["reason"] != "exit" || !strings.Contains(end["message"].(string), "session ended") {
		t.Errorf("end = %v, want the shell's end", end)
	}
	tm.closed()
}
