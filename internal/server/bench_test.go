package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/topology"
)

// reportPercentiles adds p50 and p99 of the samples, in milliseconds.
func reportPercentiles(b *testing.B, samples []time.Duration, unit string) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	at := func(p float64) float64 {
		i := int(p * float64(len(samples)-1))
		return float64(samples[i].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.50), "p50-"+unit)
	b.ReportMetric(at(0.99), "p99-"+unit)
	b.ReportMetric(float64(len(samples)), "samples")
}

// BenchmarkFanout500 measures how long one message takes to reach the last
// of 500 WebSocket clients, through the real server and real sockets.
func BenchmarkFanout500(b *testing.B) { fanout(b, 0) }

// BenchmarkFanout500Big is BenchmarkFanout500 with a message of 64 KB, a
// delta of a big burst (a Compose project of dozens of services coming
// up): above compressAbove, so each client that agreed to
// permessage-deflate gets it compressed, once per client.
func BenchmarkFanout500Big(b *testing.B) { fanout(b, 64<<10) }

// fanout publishes messages padded to size bytes to 500 clients.
func fanout(b *testing.B, size int) {
	const clients = 500
	ts, _ := startSynced(b)
	var (
		mu       sync.Mutex
		received atomic.Int64
		allIn    = make(chan struct{}, 1)
	)
	for range clients {
		conn, _, err := browserDialer.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/live", http.Header{"Origin": {ts.URL}})
		if err != nil {
			b.Fatalf("dial: %v", err)
		}
		b.Cleanup(func() { conn.Close() })
		if _, _, err := conn.ReadMessage(); err != nil { // snapshot
			b.Fatal(err)
		}
		go func() {
			for {
				_, data, err := conn.ReadMessage()
				if err != nil {
					return
				}
				if strings.HasPrefix(string(data), `{"type":"bench"`) && received.Add(1) == clients {
					allIn <- struct{}{}
				}
			}
		}()
	}
	dockertest.WaitFor(b, 30*time.Second, func() (bool, string) {
		return ts.Hub.Len() == clients, fmt.Sprintf("%d of %d subscribed", ts.Hub.Len(), clients)
	})
	var samples []time.Duration
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		received.Store(0)
		start := time.Now()
		ts.Hub.Publish(hub.Message{Type: "bench", Data: fmt.Appendf(nil, `{"type":"bench","n":%d,"pad":%q}`, i, benchPad(size))})
		select {
		case <-allIn:
		case <-time.After(10 * time.Second):
			b.Fatalf("only %d of %d clients got message %d", received.Load(), clients, i)
		}
		mu.Lock()
		samples = append(samples, time.Since(start))
		mu.Unlock()
		if n := ts.Hub.Len(); n != clients {
			b.Fatalf("%d clients dropped", clients-n)
		}
	}
	b.StopTimer()
	reportPercentiles(b, samples, "ms-last-receiver")
}

// BenchmarkEventToDelta measures, for a real container start, the time from
// the engine's event timestamp to the delta showing it running arriving on a
// WebSocket client. Run it with -benchtime=30x or more for a useful p99.
func BenchmarkEventToDelta(b *testing.B) {
	ts, c := startSynced(b)
	id := dockertest.RunContainer(b, c, dockertest.Stopped())
	conn, _, err := dialLive(b, ts.URL, ts.URL)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := conn.ReadMessage(); err != nil {
		b.Fatal(err)
	}
	node := topology.ContainerNodeID(id)
	// waitState reads frames until the container has the wanted state, and
	// returns the engine time of its start event (if seen) and when the
	// delta arrived.
	waitState := func(running bool) (eventAt, deltaAt time.Time) {
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		for {
			_, data, err := conn.ReadMessage()
			if err != nil {
				b.Fatal(err)
			}
			now := time.Now()
			var f struct {
				Type  string `json:"type"`
				Event struct {
					Time   time.Time `json:"time"`
					Action string    `json:"action"`
					ID     string    `json:"id"`
				} `json:"event"`
				topology.Delta
			}
			if err := json.Unmarshal(data, &f); err != nil {
				b.Fatal(err)
			}
			switch f.Type {
			case "event":
				if f.Event.ID == id && f.Event.Action == "start" {
					eventAt = f.Event.Time
				}
			case "delta":
				for _, n := range append(f.AddedNodes, f.ChangedNodes...) {
					if n.ID == node && n.Container.Running() == running {
						return eventAt, now
					}
				}
			}
		}
	}
	var samples []time.Duration
	ctx := context.Background()
	for b.Loop() {
		if err := c.StartContainer(ctx, id); err != nil {
			b.Fatal(err)
		}
		ev, at := waitState(true)
		if ev.IsZero() {
			b.Fatal("delta arrived before the start event")
		}
		samples = append(samples, at.Sub(ev))
		b.StopTimer()
		if err := c.StopContainer(ctx, id, 0); err != nil {
			b.Fatal(err)
		}
		waitState(false)
		b.StartTimer()
	}
	reportPercentiles(b, samples, "ms-event-to-delta")
}

// benchPad is n bytes of JSON-like text, as repetitive as a delta's.
func benchPad(n int) string {
	var sb strings.Builder
	for i := 0; sb.Len() < n; i++ {
		fmt.Fprintf(&sb, `{"id":"c:%064x","kind":"container","state":"running"},`, i)
	}
	return sb.String()[:n]
}
