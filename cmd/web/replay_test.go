package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/timeline"
	"github.com/dockmap/dockmap/internal/topology"
)

// getBody GETs url and returns its status and body.
func getBody(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTimelineRecordsTheSession: the program records its live map from
// the start: a container run on the engine shows up in GET /api/timeline.
func TestTimelineRecordsTheSession(t *testing.T) {
	c := dockertest.Client(t)
	base := startDockmap(t, nil)
	name := dockertest.UniqueName(t, "tl")
	dockertest.RunContainer(t, c, dockertest.WithName(name))
	dockertest.WaitFor(t, waitTimeout, func() (bool, string) {
		_, body := getBody(t, base+"/api/timeline")
		return strings.Contains(body, "container "+name+" created"), "no mark of " + name + " in " + body[:min(len(body), 300)]
	})
}

// TestReplayServesTheRecording: dockmap --replay serves the file's map
// with no engine at all (DOCKER_HOST points nowhere), says it is a
// replay, and refuses every action.
func TestReplayServesTheRecording(t *testing.T) {
	start := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	inv := topology.Inventory{Containers: []topology.Container{{ID: strings.Repeat("7", 64), Name: "recorded-web", State: "running"}}}
	rec := timeline.New()
	rec.Keyframe(start, topology.Snapshot{Engine: topology.EngineState{Connected: true, Version: "20.10", Since: start}})
	d := topology.Diff(topology.Graph{}, topology.Build(inv))
	d.Seq = 1
	if err := rec.Record(start.Add(time.Second), protocol.TypeDelta, protocol.Encode(&protocol.Delta{Delta: d})); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rec.Export(&buf, true); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "lesson1.jsonl.gz")
	if err := os.WriteFile(file, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	base, output, _ := launch(t, map[string]string{"DOCKER_HOST": "tcp://127.0.0.1:1"}, nil, "-addr", "127.0.0.1:0", "--replay", file)
	if !strings.Contains(output(), "replay of "+file) {
		t.Errorf("dockmap says:\n%s\nwant it to name the replay", output())
	}
	if st, body := getBody(t, base+"/api/graph"); st != http.StatusOK || !strings.Contains(body, `"recorded-web"`) {
		t.Errorf("GET /api/graph = %d %s, want the recording's map", st, body)
	}
	var mode struct {
		Replay bool
		File   string
	}
	if _, body := getBody(t, base+"/api/mode"); json.Unmarshal([]byte(body), &mode) != nil || !mode.Replay || mode.File != file {
		t.Errorf("GET /api/mode = %s, want a replay of %s", body, file)
	}
	req, _ := http.NewRequest("POST", base+"/api/containers", strings.NewReader(`{"name":"x","image":"busybox"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(b), "read-only replay") {
		t.Errorf("POST /api/containers in a replay = %d %s, want 403 read-only replay", resp.StatusCode, b)
	}
}
