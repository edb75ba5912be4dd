package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/server"
)

const (
	auditOperator = "audit-operator-token-0123456789abcdef"
	auditViewer   = "audit-viewer-token-fedcba9876543210"
)

// dialAs opens /live with a Bearer token.
func dialAs(t *testing.T, base, token string) *websocket.Conn {
	t.Helper()
	hdr := http.Header{"Authorization": {"Bearer " + token}}
	conn, resp, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/live", hdr)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial /live: %v (HTTP %d)", err, status)
	}
	t.Cleanup(func() { conn.Close() })
	if f := readFrame(t, conn); f.Type != "snapshot" {
		t.Fatalf("first frame = %q, want snapshot", f.Type)
	}
	return conn
}

// nextOfType reads frames until one of a type in want, and returns its
// type and raw data.
func nextOfType(t *testing.T, conn *websocket.Conn, want ...string) (string, []byte) {
	t.Helper()
	for {
		_ = conn.SetReadDeadline(time.Now().Add(15 * time.Second))
		_, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("read /live: %v (waiting for %v)", err, want)
		}
		var f struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(data, &f)
		for _, w := range want {
			if f.Type == w {
				return f.Type, data
			}
		}
	}
}

// Operators see the audit trail live and through GET /api/audit, with the
// role and the result; viewers get neither.
func TestAuditTrailIsForOperators(t *testing.T) {
	a, err := auth.New(auth.Tokens{Operator: auditOperator, Viewer: auditViewer})
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := startFaked(t, func(d *server.Deps) { d.Auth = a })
	op := dialAs(t, ts.URL, auditOperator)
	viewer := dialAs(t, ts.URL, auditViewer)

	bearer := func(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }
	// A refused change by the viewer, then a refused one (bad input) by
	// the operator: both are in the trail.
	if r := call(t, ts.URL, "POST", "/api/containers", map[string]any{"name": "x y", "image": "busybox"}, bearer(auditViewer)); r.Status != http.StatusForbidden {
		t.Fatalf("viewer's run = %d, want 403", r.Status)
	}
	if r := call(t, ts.URL, "POST", "/api/containers", map[string]any{"name": "x y", "image": "busybox"}, bearer(auditOperator)); r.Status != http.StatusBadRequest {
		t.Fatalf("operator's bad run = %d, want 400", r.Status)
	}
	var got []server.AuditEntry
	for range 2 {
		_, data := nextOfType(t, op, "audit")
		var m struct {
			Entry server.AuditEntry `json:"entry"`
		}
		if err := json.Unmarshal(data, &m); err != nil {
			t.Fatal(err)
		}
		got = append(got, m.Entry)
	}
	want := []struct {
		role   string
		status int
	}{{"viewer", http.StatusForbidden}, {"operator", http.StatusBadRequest}}
	for i, w := range want {
		e := got[i]
		if e.Role != w.role || e.Status != w.status || e.Route != "/api/containers" || e.Method != "POST" || e.Remote == "" || e.Error == "" {
			t.Errorf("live audit %d = %+v, want POST /api/containers by %s → %d with the client and the reason", i, e, w.role, w.status)
		}
	}

	// The viewer's connection skips the audit messages: a marker published
	// after them is the next thing it reads.
	ts.Hub.Publish(hub.Message{Type: "event", Data: []byte(`{"type":"event","event":{"type":"marker"}}`)})
	for {
		typ, data := nextOfType(t, viewer, "audit", "event")
		if typ == "audit" {
			t.Fatalf("the viewer's connection got an audit message: %s", data)
		}
		if strings.Contains(string(data), `"marker"`) {
			break
		}
	}

	r := call(t, ts.URL, "GET", "/api/audit", nil, bearer(auditOperator))
	if r.Status != http.StatusOK {
		t.Fatalf("operator GET /api/audit = %d", r.Status)
	}
	entries, _ := r.Body["entries"].([]any)
	if len(entries) != 2 {
		t.Errorf("GET /api/audit = %v, want the 2 entries", r.Body)
	}
	if r := call(t, ts.URL, "GET", "/api/audit", nil, bearer(auditViewer)); r.Status != http.StatusForbidden {
		t.Errorf("viewer GET /api/audit = %d, want 403", r.Status)
	}
}
