package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/server"
)

// logLine is one line as the logs route sends it.
type logLine struct {
	Stream string `json:"stream"`
	Time   string `json:"time"`
	Text   string `json:"text"`
}

// logsServer is the server on the real engine with a container that has
// written to both streams and is on the map.
func logsServer(t *testing.T, cmd string, opts ...dockertest.ContainerOption) (*testServer, string, *docker.Client) {
	t.Helper()
	ts, c := startSynced(t)
	id := dockertest.RunContainer(t, c, append([]dockertest.ContainerOption{dockertest.WithCmd("sh", "-c", cmd)}, opts...)...)
	syncMap(t, ts)
	return ts, id, c
}

func syncMap(t *testing.T, ts *testServer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := ts.Live.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}

// getLogs reads GET .../logs?query without follow.
func getLogs(t *testing.T, base, id, query string) []logLine {
	t.Helper()
	resp, err := http.Get(base + "/api/containers/" + id + "/logs?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("logs: %d %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type = %q, want application/x-ndjson", ct)
	}
	var lines []logLine
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		var l logLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	return lines
}

func TestLogsTellStreamsApartWithTimestamps(t *testing.T) {
	t.Parallel()
	ts, id, _ := logsServer(t, "echo out 1; echo err 1 >&2; echo out 2; exec sleep 3600")
	var lines []logLine
	dockertest.WaitFor(t, time.Minute, func() (bool, string) {
		lines = getLogs(t, ts.URL, id, "")
		return len(lines) == 3, fmt.Sprintf("lines %+v", lines)
	})
	streams := map[string]string{}
	for _, l := range lines {
		streams[l.Text] = l.Stream
		if _, err := time.Parse(time.RFC3339Nano, l.Time); err != nil {
			t.Errorf("line %q: time %q is no RFC 3339 time: %v", l.Text, l.Time, err)
		}
	}
	want := map[string]string{"out 1": "stdout", "err 1": "stderr", "out 2": "stdout"}
	for text, s := range want {
		if streams[text] != s {
			t.Errorf("stream of %q = %q, want %q", text, streams[text], s)
		}
	}
	// The default is the last 200 lines; tail and since narrow it.
	if got := getLogs(t, ts.URL, id, "tail=1"); len(got) != 1 {
		t.Errorf("tail=1: %d lines, want 1", len(got))
	}
	if got := getLogs(t, ts.URL, id, "since="+url.QueryEscape(lines[2].Time)); len(got) == 0 || len(got) > 2 {
		t.Errorf("since the last line: %+v, want it (and its stream's twin at the same time)", got)
	}
}

func TestLogsOfATTYContainerThroughTheAPI(t *testing.T) {
	t.Parallel()
	ts, id, _ := logsServer(t, "echo tty out; echo tty err >&2; exec sleep 3600", dockertest.Interactive())
	dockertest.WaitFor(t, time.Minute, func() (bool, string) {
		lines := getLogs(t, ts.URL, id, "")
		ok := len(lines) == 2 && lines[0].Text == "tty out" && lines[1].Text == "tty err" && lines[0].Stream == "stdout" && lines[1].Stream == "stdout"
		return ok, fmt.Sprintf("lines %+v, want tty out and tty err on stdout", lines)
	})
}

// requestLog is an Observer that hears each answered request.
type requestLog struct {
	mu     sync.Mutex
	routes []string
}

func (r *requestLog) ClientOpened() {}
func (r *requestLog) ClientClosed() {}
func (r *requestLog) Request(route, method string, code int, d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.routes = append(r.routes, route)
}

func (r *requestLog) count(route string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.routes {
		if x == route {
			n++
		}
	}
	return n
}

// sseEvent is one Server-Sent Event.
type sseEvent struct{ id, event, data string }

// readEvents sends what body streams as events to out until it ends.
func readEvents(body io.Reader, out chan<- sseEvent) {
	defer close(out)
	sc := bufio.NewScanner(body)
	var ev sseEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.event != "" || ev.data != "" {
				out <- ev
			}
			ev = sseEvent{}
		case strings.HasPrefix(line, "id: "):
			ev.id = line[4:]
		case strings.HasPrefix(line, "event: "):
			ev.event = line[7:]
		case strings.HasPrefix(line, "data: "):
			ev.data = line[6:]
		}
	}
}

func TestLogsFollowEndsWhenTheClientGoes(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	obs := &requestLog{}
	ts := startServer(t, c, func(d *server.Deps) { d.Observer = obs })
	<-ts.Live.Synced()
	id := dockertest.RunContainer(t, c, dockertest.WithCmd("sh", "-c", "i=0; while true; do i=$((i+1)); echo line $i; [ $((i%3)) = 0 ] && echo err $i >&2; sleep 1; done"))
	syncMap(t, ts)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/api/containers/"+id+"/logs?follow=1", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("follow: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan sseEvent, 64)
	go readEvents(resp.Body, events)
	// Lines keep coming while following: line 4 was not written yet when
	// the stream opened, and err 3 comes on stderr.
	seen := map[string]string{}
	timeout := time.After(2 * time.Minute)
	for seen["line 4"] == "" || seen["err 3"] == "" {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream ended early; saw %v", seen)
			}
			if ev.event != "line" {
				continue
			}
			var l logLine
			if err := json.Unmarshal([]byte(ev.data), &l); err != nil {
				t.Fatal(err)
			}
			if ev.id != l.Time {
				t.Errorf("event id %q, want the line's time %q", ev.id, l.Time)
			}
			seen[l.Text] = l.Stream
		case <-timeout:
			t.Fatalf("no line 4 and err 3 while following; saw %v", seen)
		}
	}
	if seen["line 4"] != "stdout" || seen["err 3"] != "stderr" {
		t.Errorf("streams = %v, want line 4 on stdout, err 3 on stderr", seen)
	}
	if n := obs.count("/api/containers/:id/logs"); n != 0 {
		t.Fatalf("%d logs requests answered while the stream is open, want 0", n)
	}
	// The client goes: the handler returns, which it does only once the
	// engine's stream is closed and its reader has returned.
	cancel()
	dockertest.WaitFor(t, time.Minute, func() (bool, string) {
		return obs.count("/api/containers/:id/logs") == 1, "the logs handler still runs after its client went"
	})
}

func TestLogsBadInput(t *testing.T) {
	t.Parallel()
	ts, id, _ := logsServer(t, "echo hello; exec sleep 3600")
	tests := []struct {
		query string
		want  int
	}{
		{"since=" + url.QueryEscape("99999-01-01T00:00:00Z"), http.StatusBadRequest},
		{"since=3155760000000&follow=1", http.StatusBadRequest},
		{"since=-5", http.StatusBadRequest},
		{"since=-10m&follow=1", http.StatusBadRequest},
		{"since=garbage", http.StatusBadRequest},
		{"since=99999999999999999999999", http.StatusBadRequest},
		{"tail=-1", http.StatusBadRequest},
		{"tail=lots", http.StatusBadRequest},
		{"tail=99999999999", http.StatusBadRequest},
		{"follow=maybe", http.StatusBadRequest},
		{"since=10m", http.StatusOK},
		{"since=0&tail=all", http.StatusOK},
	}
	client := &http.Client{Timeout: time.Minute}
	for _, tt := range tests {
		resp, err := client.Get(ts.URL + "/api/containers/" + id + "/logs?" + tt.query)
		if err != nil {
			t.Fatalf("%s: %v", tt.query, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: %d %s, want %d", tt.query, resp.StatusCode, body, tt.want)
			continue
		}
		if tt.want == http.StatusBadRequest && !strings.Contains(string(body), `"error"`) {
			t.Errorf("%s: %s, want a JSON error", tt.query, body)
		}
	}
	for _, ref := range []string{dockertest.UniqueName(t, "none"), strings.Repeat("e", 64), id[:12]} {
		resp, err := client.Get(ts.URL + "/api/containers/" + ref + "/logs?follow=1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("logs of %s: %d, want 404 (a container by full ID or exact name only)", ref, resp.StatusCode)
		}
	}
}

func TestLogsViewerNeedsViewerLogs(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	id := dockertest.RunContainer(t, c, dockertest.WithCmd("sh", "-c", "echo secret; exec sleep 3600"))
	for _, viewerLogs := range []bool{false, true} {
		op, view := auth.NewToken(), auth.NewToken()
		a, err := auth.New(auth.Tokens{Operator: op, Viewer: view})
		if err != nil {
			t.Fatal(err)
		}
		ts := startServer(t, c, func(d *server.Deps) { d.Auth, d.ViewerLogs = a, viewerLogs })
		syncMap(t, ts)
		get := func(token, path string) (int, string) {
			req, _ := http.NewRequest(http.MethodGet, ts.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Accept", "text/html")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		wantViewer := http.StatusForbidden
		if viewerLogs {
			wantViewer = http.StatusOK
		}
		for _, who := range []struct {
			name, token string
			want        int
		}{{"operator", op, http.StatusOK}, {"viewer", view, wantViewer}} {
			code, body := get(who.token, "/api/containers/"+id+"/logs")
			if code != who.want {
				t.Errorf("viewer-logs %v: %s reads logs: %d %s, want %d", viewerLogs, who.name, code, body, who.want)
			}
			if code == http.StatusOK && !strings.Contains(body, "secret") {
				t.Errorf("viewer-logs %v: %s's logs %q, want the line", viewerLogs, who.name, body)
			}
			code, body = get(who.token, "/panel/container/"+id)
			if code != http.StatusOK {
				t.Fatalf("panel: %d %s", code, body)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if got, want := doc.Find("[data-testid=logs-tab]").Length() == 1, who.want == http.StatusOK; got != want {
				t.Errorf("viewer-logs %v: %s's panel has a Logs tab: %v, want %v", viewerLogs, who.name, got, want)
			}
		}
	}
}

// followLines opens a follow and returns its line events, and a function
// that ends it.
func followLines(t *testing.T, base, id string, hdr map[string]string) (<-chan sseEvent, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/containers/"+id+"/logs?follow=1", nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		cancel()
		resp.Body.Close()
		t.Fatalf("follow: %s", resp.Status)
	}
	events := make(chan sseEvent, 64)
	go readEvents(resp.Body, events)
	stop := func() {
		cancel()
		resp.Body.Close()
	}
	t.Cleanup(stop)
	return events, stop
}

// An EventSource that reconnects sends the id of the last line it had:
// the stream goes on from that line (which comes again, for the page to
// drop), not from the start.
func TestLogsResumeFromLastEventID(t *testing.T) {
	t.Parallel()
	ts, id, _ := logsServer(t, "echo a; echo b; echo c; exec sleep 3600")
	var lines []logLine
	dockertest.WaitFor(t, time.Minute, func() (bool, string) {
		lines = getLogs(t, ts.URL, id, "")
		return len(lines) == 3, fmt.Sprintf("lines %+v", lines)
	})
	events, _ := followLines(t, ts.URL, id, map[string]string{"Last-Event-ID": lines[1].Time})
	var got []string
	timeout := time.After(time.Minute)
	for len(got) < 2 {
		select {
		case ev := <-events:
			if ev.event == "line" {
				var l logLine
				if err := json.Unmarshal([]byte(ev.data), &l); err != nil {
					t.Fatal(err)
				}
				got = append(got, l.Text)
			}
		case <-timeout:
			t.Fatalf("lines after resuming: %q, want b and c", got)
		}
	}
	if got[0] != "b" || got[1] != "c" {
		t.Errorf("lines after resuming from b's id: %q, want b, c", got)
	}
}

// A followed log ends when dockmap shuts down (Deps.Closing), so that the
// server's Shutdown does not wait for a client that never leaves.
func TestLogsFollowEndsAtShutdown(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	obs := &requestLog{}
	closing := make(chan struct{})
	ts := startServer(t, c, func(d *server.Deps) { d.Observer, d.Closing = obs, closing })
	id := dockertest.RunContainer(t, c, dockertest.WithCmd("sh", "-c", "echo up; exec sleep 3600"))
	syncMap(t, ts)
	events, _ := followLines(t, ts.URL, id, nil)
	select {
	case <-events:
	case <-time.After(time.Minute):
		t.Fatal("no event while following")
	}
	close(closing)
	dockertest.WaitFor(t, time.Minute, func() (bool, string) {
		return obs.count("/api/containers/:id/logs") == 1, "the logs handler still runs after Closing closed"
	})
}

// dockmap's server has a WriteTimeout (30 s, cmd/web): a followed log
// outlives it, each write with its own deadline. Here it is 1 s, and the
// stream still brings lines written well after that.
func TestLogsFollowOutlivesWriteTimeout(t *testing.T) {
	t.Parallel()
	c := dockertest.Client(t)
	ts, _ := serve(t, c, func(h *hub.Hub) (server.Prober, func()) {
		p := probe.New(c, server.ProbePublisher(h))
		return p, func() { p.Close() }
	}, func(h http.Handler) *httptest.Server {
		s := httptest.NewUnstartedServer(h)
		s.Config.WriteTimeout = time.Second
		s.Start()
		return s
	})
	id := dockertest.RunContainer(t, c, dockertest.WithCmd("sh", "-c", "i=0; while true; do i=$((i+1)); echo line $i; sleep 1; done"))
	syncMap(t, ts)
	events, _ := followLines(t, ts.URL, id, nil)
	start := time.Now()
	timeout := time.After(2 * time.Minute)
	for time.Since(start) < 4*time.Second {
		select {
		case _, ok := <-events:
			if !ok {
				t.Fatalf("the stream ended after %v, within the server's WriteTimeout's reach", time.Since(start))
			}
		case <-timeout:
			t.Fatal("no line for 2 minutes")
		}
	}
}
