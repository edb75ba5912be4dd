package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// mutatingCalls are the engine calls that are not the live map's own
// re-listing (which other tests' events on the shared engine may cause).
func mutatingCalls(paths []string) []string {
	var out []string
	for _, p := range paths {
		method, path, _ := strings.Cut(p, " ")
		if method == http.MethodGet && (strings.HasSuffix(path, "/containers/json") || strings.HasSuffix(path, "/networks") ||
			strings.HasSuffix(path, "/volumes") || strings.HasSuffix(path, "/events") || strings.HasSuffix(path, "/version") ||
			strings.HasSuffix(path, "/json")) {
			continue
		}
		out = append(out, p)
	}
	return out
}

type apiResult struct {
	Status int
	Body   map[string]any
}

func call(t *testing.T, base, method, path string, body any, hdr map[string]string) apiResult {
	t.Helper()
	var r io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			r = strings.NewReader(b)
		default:
			data, _ := json.Marshal(b)
			r = bytes.NewReader(data)
		}
	}
	req, _ := http.NewRequest(method, base+path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	res := apiResult{Status: resp.StatusCode}
	data, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(data, &res.Body)
	return res
}

func TestRunStopStartRemove(t *testing.T) {
	ts, c := startSynced(t)
	name := dockertest.UniqueName(t, "run")
	res := call(t, ts.URL, "POST", "/api/containers", map[string]any{
		"name": name, "image": dockertest.FixtureImage(t), "cmd": []string{"sh"},
	}, nil)
	if res.Status != http.StatusCreated {
		t.Fatalf("POST /api/containers = %d %v, want 201", res.Status, res.Body)
	}
	id, _ := res.Body["id"].(string)
	dockertest.TrackContainer(t, c, id)
	waitState := func(want string) {
		t.Helper()
		dockertest.WaitFor(t, 15*time.Second, func() (bool, string) {
			n, ok := ts.Live.Snapshot().Graph.Node(topology.ContainerNodeID(id))
			if !ok {
				return want == "gone", "not in the graph"
			}
			return n.Container.State == want, "state " + n.Container.State + ", want " + want
		})
	}
	// Kept running like `docker run -dit`: sh with a terminal does not exit.
	waitState("running")

	if r := call(t, ts.URL, "DELETE", "/api/containers/"+name, nil, nil); r.Status != http.StatusConflict {
		t.Errorf("DELETE of a running container without force = %d %v, want 409", r.Status, r.Body)
	}
	if r := call(t, ts.URL, "POST", "/api/containers/"+name+"/stop", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("stop = %d %v", r.Status, r.Body)
	}
	waitState("exited")
	if r := call(t, ts.URL, "POST", "/api/containers/"+id+"/start", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("start = %d %v", r.Status, r.Body)
	}
	waitState("running")
	if r := call(t, ts.URL, "POST", "/api/containers/"+id+"/restart", nil, nil); r.Status != http.StatusOK {
		t.Fatalf("restart = %d %v", r.Status, r.Body)
	}
	if r := call(t, ts.URL, "DELETE", "/api/containers/"+id+"?force=1", nil, nil); r.Status != http.StatusNoContent {
		t.Fatalf("force remove = %d %v", r.Status, r.Body)
	}
	waitState("gone")
}

// Bad input is refused before any engine call, so it runs on the fake
// engine, which records every call (fakeserver_test.go).
func TestBadInputChangesNothing(t *testing.T) {
	ts, f := startFaked(t)
	existing, existingName := fakeWebID, fakeWebName
	image := "busybox:latest"
	run := func(name, img string, extra map[string]any) map[string]any {
		b := map[string]any{"name": name, "image": img}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		hdr    map[string]string
		want   int
	}{
		{"empty name", "POST", "/api/containers", run("", image, nil), nil, 400},
		{"one-char name", "POST", "/api/containers", run("a", image, nil), nil, 400},
		{"name with slash", "POST", "/api/containers", run("x/y", image, nil), nil, 400},
		{"flag as name", "POST", "/api/containers", run("--privileged", image, nil), nil, 400},
		// The rest of SEC-12's list.
		{"dash first", "POST", "/api/containers", run("-x", image, nil), nil, 400},
		{"dot first", "POST", "/api/containers", run(".x", image, nil), nil, 400},
		{"underscore first", "POST", "/api/containers", run("_x", image, nil), nil, 400},
		{"name with colon", "POST", "/api/containers", run("x:y", image, nil), nil, 400},
		{"path as name", "POST", "/api/containers", run("../x", image, nil), nil, 400},
		{"name with space", "POST", "/api/containers", run("x y", image, nil), nil, 400},
		{"non-ASCII name", "POST", "/api/containers", run("ümlaut", image, nil), nil, 400},
		{"NUL in name", "POST", "/api/containers", run("ab\x00c", image, nil), nil, 400},
		{"newline in name", "POST", "/api/containers", run("ab\nc", image, nil), nil, 400},
		{"256-char name", "POST", "/api/containers", run(strings.Repeat("a", 256), image, nil), nil, 400},
		{"4096-char name", "POST", "/api/containers", run(strings.Repeat("a", 4096), image, nil), nil, 400},
		{"long name", "POST", "/api/containers", run(strings.Repeat("a", 64), image, nil), nil, 400},
		{"bad image", "POST", "/api/containers", run("okname", "Bad Image", nil), nil, 400},
		{"duplicate name", "POST", "/api/containers", run(existingName, image, nil), nil, 409},
		{"unknown network", "POST", "/api/containers", run("okname", image, map[string]any{"network": "nonet-" + dockertest.RunID()}), nil, 404},
		{"host network", "POST", "/api/containers", run("okname", image, map[string]any{"network": "host"}), nil, 400},
		{"unknown field", "POST", "/api/containers", run("okname", image, map[string]any{"privileged": true}), nil, 400},
		{"broken JSON", "POST", "/api/containers", `{"name":`, nil, 400},
		{"form body", "POST", "/api/containers", "name=okname&image=x", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"text body", "POST", "/api/containers", `{"name":"okname"}`, map[string]string{"Content-Type": "text/plain"}, 415},
		{"cross-site fetch", "POST", "/api/containers/" + existing + "/stop", nil, map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"same-site fetch", "POST", "/api/containers/" + existing + "/stop", nil, map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
		{"foreign origin", "DELETE", "/api/containers/" + existing + "?force=1", nil, map[string]string{"Origin": "http://evil.example"}, 403},
		{"id prefix", "POST", "/api/containers/" + existing[:12] + "/stop", nil, nil, 404},
		{"unknown container", "POST", "/api/containers/nosuch-" + dockertest.RunID() + "/stop", nil, nil, 404},
		{"unknown action", "POST", "/api/containers/" + existing + "/pause", nil, nil, 404},
		{"remove unknown", "DELETE", "/api/containers/" + strings.Repeat("0", 64), nil, nil, 404},
		{"pull bad ref", "POST", "/api/images/pull", map[string]any{"image": "x;rm -rf /"}, nil, 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.mark()
			res := call(t, ts.URL, tt.method, tt.path, tt.body, tt.hdr)
			if res.Status != tt.want {
				t.Errorf("%s %s = %d %v, want %d", tt.method, tt.path, res.Status, res.Body, tt.want)
			}
			if msg, _ := res.Body["detail"].(string); msg == "" {
				t.Errorf("no detail in the error answer: %v", res.Body)
			}
			if calls := f.callsSince(before); len(calls) != 0 {
				t.Errorf("engine calls made for bad input: %v", calls)
			}
		})
	}
	if n, _ := ts.Live.Snapshot().Graph.Node(topology.ContainerNodeID(existing)); !n.Container.Running() {
		t.Errorf("the existing container is %s after bad requests, want running", n.Container.State)
	}
}

func TestPullFailsCleanly(t *testing.T) {
	ts, c := startSynced(t)
	conn, _, err := dialLive(t, ts.URL, ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	readFrame(t, conn)
	// There is no registry here, so the engine's own error must come back.
	ref := "dockmap-nonexistent-" + strings.ToLower(dockertest.RunID()) + ":latest"
	res := call(t, ts.URL, "POST", "/api/images/pull?wait=1", map[string]any{"image": ref}, nil)
	if res.Status < 400 || res.Status == http.StatusInternalServerError {
		t.Fatalf("pull = %d %v, want a clear 4xx/502 error", res.Status, res.Body)
	}
	if d, _ := res.Body["detail"].(string); !strings.Contains(d, ref) && !strings.Contains(d, "pull") {
		t.Errorf("detail %q does not carry the engine's message", d)
	}
	// Other test binaries add and remove images meanwhile: only this
	// reference says whether the failed pull left something behind.
	if exists, err := c.ImageExists(t.Context(), ref); err != nil || exists {
		t.Errorf("ImageExists(%s) = %v, %v after a failed pull, want false", ref, exists, err)
	}
	// Every browser saw the failure as a job that ended failed.
	for {
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, data, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("no failed job message: %v", err)
		}
		var f struct {
			Type string
			Job  struct{ Kind, Title, State, Error string }
		}
		_ = json.Unmarshal(data, &f)
		if f.Type == "job" && f.Job.Kind == "pull" && f.Job.State != "running" {
			if f.Job.State != "failed" || !strings.Contains(f.Job.Title, ref) || f.Job.Error == "" {
				t.Errorf("final job = %s, want a failed pull of %s with the engine's words", data, ref)
			}
			return
		}
	}
}
