package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/server"
)

// TestEnginesRoute: GET /api/engines gives viewers every engine, the
// local one first, and strangers nothing; without a list it is empty.
func TestEnginesRoute(t *testing.T) {
	since := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	reg := engines.NewRegistry([]engines.Spec{{Name: engines.Local, Host: "unix:///var/run/docker.sock"}, {Name: "lab1", Host: "tcp://u:pw@10.0.0.5:2376"}}, nil, since)
	reg.Set(engines.Local, true, "28.5.2", "", since)
	s := startAuthed(t, func(d *server.Deps) { d.Engines = reg })
	if got := send(t, noFollow, "GET", s.URL+"/api/engines", nil, ""); got.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /api/engines without a credential = %d, want 401", got.StatusCode)
	}
	got := send(t, noFollow, "GET", s.URL+"/api/engines", map[string]string{"Authorization": "Bearer " + s.view}, "")
	var list []map[string]any
	if err := json.Unmarshal([]byte(got.Body), &list); err != nil || got.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/engines as a viewer = %d %s", got.StatusCode, got.Body)
	}
	if len(list) != 2 || list[0]["name"] != "local" || list[0]["connected"] != true || list[0]["version"] != "28.5.2" ||
		list[1]["name"] != "lab1" || list[1]["host"] != "tcp://10.0.0.5:2376" || list[1]["connected"] != false || list[1]["error"] == nil || list[1]["since"] == nil {
		t.Errorf("GET /api/engines = %s", got.Body)
	}

	none := startAuthed(t)
	if got := send(t, noFollow, "GET", none.URL+"/api/engines", map[string]string{"Authorization": "Bearer " + none.view}, ""); got.StatusCode != http.StatusOK || got.Body != "[]\n" {
		t.Errorf("GET /api/engines with no list = %d %q, want 200 []", got.StatusCode, got.Body)
	}
}
