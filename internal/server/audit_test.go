package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/dockmap/dockmap/internal/server"
)

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["msg"] == "audit" {
			out = append(out, m)
		}
	}
	return out
}

// Every change asked of dockmap, done or refused, leaves one audit line
// with who, what and the result; reads leave none. What is tested is the
// recording, so the engine is the fake one, which does the start asked of
// it (accept) and nothing else.
func TestMutationsAreAudited(t *testing.T) {
	var buf syncBuffer
	ts, f := startFaked(t, func(d *server.Deps) { d.Logger = slog.New(slog.NewJSONHandler(&buf, nil)) })
	f.accept("StartContainer")
	id := fakeWebID

	call(t, ts.URL, "GET", "/api/graph", nil, nil)
	call(t, ts.URL, "POST", "/api/containers/"+id+"/start", nil, nil)
	call(t, ts.URL, "POST", "/api/containers", map[string]any{"name": "x y", "image": "busybox"}, nil)
	call(t, ts.URL, "POST", "/api/containers/"+id+"/stop", nil, map[string]string{"Sec-Fetch-Site": "cross-site"})

	got := buf.lines()
	want := []struct {
		route  string
		status float64
	}{
		{"/api/containers/:id/:action", http.StatusOK},
		{"/api/containers", http.StatusBadRequest},
		{"/api/containers/:id/:action", http.StatusForbidden},
	}
	if len(got) != len(want) {
		t.Fatalf("audit lines = %v, want %d (one per mutation, none for the read)", got, len(want))
	}
	for i, w := range want {
		if got[i]["route"] != w.route || got[i]["status"] != w.status || got[i]["remote"] == "" || got[i]["method"] != "POST" {
			t.Errorf("audit line %d = %v, want POST %s → %v with the client address", i, got[i], w.route, w.status)
		}
	}
	if got[0]["param.id"] != id || got[0]["param.action"] != "start" {
		t.Errorf("audit line 0 = %v, want the container and the action", got[0])
	}
}
