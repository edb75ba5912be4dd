package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/topology"
)

// TestBrowserLiveCompressed: Chromium offers permessage-deflate on /live
// and dockmap agrees to it, and the page still gets and draws the map: a
// snapshot of more than compressAbove (8 KB) then arrives compressed.
func TestBrowserLiveCompressed(t *testing.T) {
	c := dockertest.Client(t)
	// Enough containers that the snapshot is compressed whatever else
	// the engine holds: each one's node is about 1 KB of JSON.
	var ids []string
	for range 10 {
		ids = append(ids, dockertest.RunContainer(t, c, dockertest.Stopped()))
	}
	base := startDockmap(t, nil)
	b := newBrowser(t)
	openMap(t, b, base)
	// A connection of the page's own, as live.js opens it: the socket's
	// extensions are what the handshake agreed.
	const js = `new Promise((ok, fail) => {
  const ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/live');
  ws.onmessage = (e) => {
    const f = JSON.parse(e.data);
    ok(JSON.stringify({ext: ws.extensions, type: f.type, bytes: e.data.length, ids: f.nodes.map((n) => n.id)}));
    ws.close();
  };
  ws.onerror = () => fail(new Error('websocket error'));
})`
	ctx, cancel := context.WithTimeout(b.ctx, waitTimeout)
	defer cancel()
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("read /live in the page: %v", err)
	}
	var got struct {
		Ext   string   `json:"ext"`
		Type  string   `json:"type"`
		Bytes int      `json:"bytes"`
		IDs   []string `json:"ids"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Ext, "permessage-deflate") {
		t.Errorf("extensions %q: permessage-deflate not agreed", got.Ext)
	}
	if got.Type != "snapshot" || got.Bytes < 8<<10 {
		t.Fatalf("first frame %q of %d bytes, want a snapshot above 8 KB", got.Type, got.Bytes)
	}
	for _, id := range ids {
		if !slices.Contains(got.IDs, string(topology.ContainerNodeID(id))) {
			t.Errorf("container %s not in the snapshot", id[:12])
		}
	}
	// The page's own map drew the same containers from its snapshot.
	for _, id := range ids {
		if !pollJS(b, `window.cy && window.cy.getElementById('`+string(topology.ContainerNodeID(id))+`').length === 1`, waitTimeout) {
			t.Errorf("container %s not on the page's map", id[:12])
		}
	}
}
