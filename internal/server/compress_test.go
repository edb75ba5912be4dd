package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/topology"
)

// bigInventory is an engine of n containers in Compose projects of 10,
// with n/10 user networks and n/2 volumes: each container is on its
// project's network, mounts a volume of its own and carries the labels
// Compose v2 sets, so its snapshot is as big and as repetitive as a real
// engine's.
func bigInventory(n int) topology.Inventory {
	inv := topology.Inventory{}
	nets := max(n/10, 1)
	for i := range nets {
		inv.Networks = append(inv.Networks, topology.Network{ID: fmt.Sprintf("%064x", 1<<40+i), Name: fmt.Sprintf("proj%03d_default", i),
			Driver: "bridge", Scope: "local", ICC: true,
			Subnets: []topology.Subnet{{Subnet: fmt.Sprintf("10.%d.%d.0/24", 64+i/256, i%256), Gateway: fmt.Sprintf("10.%d.%d.1", 64+i/256, i%256)}},
			Labels:  map[string]string{"com.docker.compose.network": "default", "com.docker.compose.project": fmt.Sprintf("proj%03d", i)}})
	}
	for i := range n / 2 {
		inv.Volumes = append(inv.Volumes, topology.Volume{Name: fmt.Sprintf("proj%03d_data%d", i/5, i%5), Driver: "local",
			Mountpoint: fmt.Sprintf("/var/lib/docker/volumes/proj%03d_data%d/_data", i/5, i%5)})
	}
	for i := range n {
		p := i / 10
		net := inv.Networks[p%nets]
		c := topology.Container{ID: fmt.Sprintf("%064x", 1<<48+i), Name: fmt.Sprintf("proj%03d-svc%d-1", p, i%10),
			Image: fmt.Sprintf("registry.example.com/team/svc%d:1.%d", i%10, i%7), State: "running", Status: "Up 3 hours",
			NetworkMode: net.Name, Labels: map[string]string{
				"com.docker.compose.config-hash":          fmt.Sprintf("%064x", i),
				"com.docker.compose.container-number":     "1",
				"com.docker.compose.depends_on":           "db:service_started:false",
				"com.docker.compose.image":                fmt.Sprintf("sha256:%064x", i%40),
				"com.docker.compose.oneoff":               "False",
				"com.docker.compose.project":              fmt.Sprintf("proj%03d", p),
				"com.docker.compose.project.config_files": fmt.Sprintf("/home/dev/proj%03d/compose.yaml", p),
				"com.docker.compose.project.working_dir":  fmt.Sprintf("/home/dev/proj%03d", p),
				"com.docker.compose.service":              fmt.Sprintf("svc%d", i%10),
				"com.docker.compose.version":              "2.29.7",
			},
			Endpoints: []topology.Endpoint{{NetworkID: net.ID, NetworkName: net.Name, IP: fmt.Sprintf("%s%d", strings.TrimSuffix(net.Subnets[0].Gateway, "1"), 2+i%10),
				PrefixLen: 24, Gateway: net.Subnets[0].Gateway, MAC: fmt.Sprintf("02:42:0a:%02x:%02x:%02x", p/256%256, p%256, i%10),
				Aliases: []string{fmt.Sprintf("svc%d", i%10), fmt.Sprintf("proj%03d-svc%d-1", p, i%10)}}},
			Ports: []topology.Port{{PrivatePort: 8080, Type: "tcp"}},
		}
		if i/2 < len(inv.Volumes) && i%2 == 0 {
			v := inv.Volumes[i/2]
			c.Mounts = []topology.Mount{{Type: "volume", Name: v.Name, Source: v.Mountpoint, Destination: "/data", Driver: "local", RW: true}}
		}
		inv.Containers = append(inv.Containers, c)
	}
	return inv
}

// startBig is startFaked on an engine listing bigInventory(n), once the
// map holds it.
func startBig(tb testing.TB, n int) *testServer {
	tb.Helper()
	ts, f := startFaked(tb)
	f.setInventory(bigInventory(n))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := ts.Live.Sync(ctx); err != nil {
		tb.Fatal(err)
	}
	return ts
}

// byteCounter counts the bytes read from the connections dialed with its
// dial: what a frame costs on the wire.
type byteCounter struct {
	n    atomic.Int64
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

type countedConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (b *byteCounter) dialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	dial := b.dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	c, err := dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return countedConn{c, &b.n}, nil
}

// snapshotVia dials base's /live with d (its NetDialContext counting into
// wire), reads the snapshot and decodes it; it returns the snapshot, its
// JSON's length, whether permessage-deflate was agreed and the time from
// the dial to the snapshot decoded.
func snapshotVia(tb testing.TB, d websocket.Dialer, base string) (topology.Snapshot, int, bool, time.Duration) {
	tb.Helper()
	t0 := time.Now()
	conn, resp, err := d.Dial("ws"+strings.TrimPrefix(base, "http")+"/live", http.Header{"Origin": {base}})
	if err != nil {
		tb.Fatalf("dial /live: %v", err)
	}
	defer conn.Close()
	conn.SetReadLimit(-1)
	_ = conn.SetReadDeadline(time.Now().Add(2 * time.Minute))
	_, data, err := conn.ReadMessage()
	if err != nil {
		tb.Fatalf("read the snapshot: %v", err)
	}
	var f struct {
		Type string `json:"type"`
		topology.Snapshot
	}
	if err := json.Unmarshal(data, &f); err != nil || f.Type != "snapshot" {
		tb.Fatalf("first frame: type %q, %v", f.Type, err)
	}
	took := time.Since(t0)
	deflate := strings.Contains(resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate")
	return f.Snapshot, len(data), deflate, took
}

// TestLiveSnapshotCompressed: a client that offers permessage-deflate, as
// every browser does, gets it and a snapshot of a big map compressed on
// the wire, which it decodes whole; one that does not offer it gets the
// same snapshot plain.
func TestLiveSnapshotCompressed(t *testing.T) {
	const containers = 300
	ts := startBig(t, containers)
	want := ts.Live.Snapshot()
	for _, offer := range []bool{true, false} {
		t.Run(fmt.Sprintf("offer=%v", offer), func(t *testing.T) {
			var wire byteCounter
			d := websocket.Dialer{EnableCompression: offer, NetDialContext: wire.dialContext}
			snap, raw, deflate, _ := snapshotVia(t, d, ts.URL)
			if deflate != offer {
				t.Errorf("permessage-deflate agreed: %v, want %v", deflate, offer)
			}
			if snap.Seq != want.Seq || len(snap.Nodes) != len(want.Nodes) || len(snap.Edges) != len(want.Edges) {
				t.Fatalf("snapshot seq %d, %d nodes, %d edges; want %d, %d, %d",
					snap.Seq, len(snap.Nodes), len(snap.Edges), want.Seq, len(want.Nodes), len(want.Edges))
			}
			got := 0
			for _, n := range snap.Nodes {
				if n.Container != nil && n.Container.State == "running" && n.Container.Labels["com.docker.compose.version"] == "2.29.7" {
					got++
				}
			}
			if got != containers {
				t.Errorf("%d whole containers in the snapshot, want %d", got, containers)
			}
			// The handshake and the frames after the snapshot are small
			// beside it: compressed, the wire carries a fraction of its
			// JSON; plain, all of it.
			n := wire.n.Load()
			if offer && n > int64(raw)/3 {
				t.Errorf("%d bytes on the wire for a %d-byte snapshot: not compressed", n, raw)
			}
			if !offer && n < int64(raw) {
				t.Errorf("%d bytes on the wire for a %d-byte snapshot sent plain", n, raw)
			}
		})
	}
}

// slowLink is a TCP proxy to a server that acts as a network link of a
// given rate and round-trip time, in each direction: a workshop's Wi-Fi
// rather than loopback.
type slowLink struct {
	ln       net.Listener
	target   string
	rate     float64       // bytes per second
	oneWay   time.Duration // half the round trip
	wg       sync.WaitGroup
	closedMu sync.Mutex
	conns    []net.Conn
}

func newSlowLink(tb testing.TB, target string, mbits float64, rtt time.Duration) *slowLink {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	l := &slowLink{ln: ln, target: target, rate: mbits * 1e6 / 8, oneWay: rtt / 2}
	l.wg.Go(l.accept)
	tb.Cleanup(func() {
		ln.Close()
		l.closedMu.Lock()
		for _, c := range l.conns {
			c.Close()
		}
		l.closedMu.Unlock()
		l.wg.Wait()
	})
	return l
}

func (l *slowLink) accept() {
	for {
		in, err := l.ln.Accept()
		if err != nil {
			return
		}
		out, err := net.Dial("tcp", l.target)
		if err != nil {
			in.Close()
			continue
		}
		l.closedMu.Lock()
		l.conns = append(l.conns, in, out)
		l.closedMu.Unlock()
		l.wg.Go(func() { l.pipe(out, in) })
		l.wg.Go(func() { l.pipe(in, out) })
	}
}

// pipe carries src's bytes to dst, each chunk no sooner than oneWay after
// it was read and no faster than rate.
func (l *slowLink) pipe(dst, src net.Conn) {
	type chunk struct {
		data []byte
		at   time.Time
	}
	ch := make(chan chunk, 1024)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 16<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{buf[:n], time.Now()}
			}
			if err != nil {
				return
			}
		}
	}()
	defer dst.Close()
	var next time.Time
	const mtu = 1500
	for c := range ch {
		if t := c.at.Add(l.oneWay); t.After(next) {
			next = t
		}
		for len(c.data) > 0 {
			n := min(len(c.data), mtu)
			next = next.Add(time.Duration(float64(n) / l.rate * float64(time.Second)))
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			}
			if _, err := dst.Write(c.data[:n]); err != nil {
				_, _ = io.Copy(io.Discard, src)
				return
			}
			c.data = c.data[n:]
		}
	}
}

// BenchmarkSnapshotSlowLink measures the first paint's network part on a
// big map: the time from dialing /live to the snapshot decoded, over a
// link of 16 Mbit/s and 20 ms round trip (slowLink, a proxy in the
// benchmark: a workshop's Wi-Fi), for a client that offers
// permessage-deflate (as browsers do) and one that does not, at 1,000
// and 5,000 containers (plus their networks and volumes); and the same on
// loopback, where the link costs nothing and compressing can only add the
// server's and the client's work. It reports the snapshot's JSON and what
// crossed the link.
func BenchmarkSnapshotSlowLink(b *testing.B) {
	for _, n := range []int{1000, 5000} {
		ts := startBig(b, n)
		link := newSlowLink(b, strings.TrimPrefix(ts.URL, "http://"), 16, 20*time.Millisecond)
		for _, via := range []string{"wifi", "loopback"} {
			base := ts.URL
			if via == "wifi" {
				base = "http://" + link.ln.Addr().String()
			}
			for _, offer := range []bool{false, true} {
				name := "plain"
				if offer {
					name = "deflate"
				}
				b.Run(fmt.Sprintf("containers=%d/%s/%s", n, via, name), func(b *testing.B) {
					var (
						samples []time.Duration
						raw     int
						nodes   int
						wire    byteCounter
					)
					d := websocket.Dialer{EnableCompression: offer, NetDialContext: wire.dialContext, HandshakeTimeout: time.Minute}
					for b.Loop() {
						wire.n.Store(0)
						// The origin the server checks is its own host.
						snap, r, _, took := snapshotVia(b, d, base)
						samples = append(samples, took)
						raw, nodes = r, len(snap.Nodes)
					}
					b.ReportMetric(float64(nodes), "nodes")
					b.ReportMetric(float64(raw)/1024, "KiB-json")
					b.ReportMetric(float64(wire.n.Load())/1024, "KiB-wire")
					reportPercentiles(b, samples, "ms-to-snapshot")
				})
			}
		}
	}
}

// TestLiveBigFrameToEveryClient: a big frame from the hub, which the
// connections share compressed once, reaches a client that agreed to
// permessage-deflate and one that did not, each whole, and a small frame
// after it too.
func TestLiveBigFrameToEveryClient(t *testing.T) {
	ts, _ := startFaked(t)
	var conns []*websocket.Conn
	for _, offer := range []bool{true, false, true} {
		d := websocket.Dialer{EnableCompression: offer}
		conn, _, err := d.Dial("ws"+strings.TrimPrefix(ts.URL, "http")+"/live", http.Header{"Origin": {ts.URL}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		conn.SetReadLimit(-1)
		readFrame(t, conn) // the snapshot
		conns = append(conns, conn)
	}
	// Each has its snapshot, so each is subscribed.
	big := fmt.Appendf(nil, `{"type":"bench","pad":%q}`, benchPad(200<<10))
	small := []byte(`{"type":"bench","n":2}`)
	ts.Hub.Publish(hub.Message{Type: "bench", Data: big})
	ts.Hub.Publish(hub.Message{Type: "bench", Data: small})
	for i, conn := range conns {
		for _, want := range [][]byte{big, small} {
			var got []byte
			for {
				_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
				_, data, err := conn.ReadMessage()
				if err != nil {
					t.Fatalf("client %d: %v", i, err)
				}
				if strings.HasPrefix(string(data), `{"type":"bench"`) {
					got = data
					break
				}
			}
			if string(got) != string(want) {
				t.Errorf("client %d: got %d bytes, want the %d published", i, len(got), len(want))
			}
		}
	}
}
