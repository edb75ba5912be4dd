package server_test

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	mathrand "math/rand"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/dockmap/dockmap/internal/dockertest"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/server"
)

// WebSocket robustness: WS-01…WS-07 of research/security-reliability-anchors.md
// §7.2, each against the real server's /live endpoint. The engine is the
// fake one (fakeserver_test.go): what is tested is the server's handling
// of its clients, and a busy engine would only slow the map's first list.
// The clients are not faked: every one below is a real socket, and the
// broken ones are built by hand from bytes.
//
// Leaks are counted two ways. pumps() counts the goroutines running the
// server's readPump and writePump, two per live client, by name, so the
// engine client's and the HTTP client's own goroutines cannot hide or fake
// a leak. runtime.NumGoroutine is checked as well, with a slack of 5 as the
// test list asks. Deadlines are generous (the machine has 2 cores and the
// race detector is on); what the tests assert is behaviour, not speed.

// wsWriteWait mirrors writeWait in ws.go: how long the server blocks on one
// write before it gives a client up.
const wsWriteWait = 10 * time.Second

// liveURL is the ws:// address of ts's /live endpoint.
func liveURL(ts *testServer) string { return "ws" + strings.TrimPrefix(ts.URL, "http") + "/live" }

// startWithPongWait is startFaked with a short keepalive, so that the
// tests about silent clients take seconds instead of a minute. Pings go out
// every quarter of it: a healthy client then has most of pongWait to answer
// even on a busy machine, and a silent one is still dropped after pongWait.
func startWithPongWait(t *testing.T, pongWait time.Duration) *testServer {
	t.Helper()
	ts, _ := startFaked(t, func(d *server.Deps) { d.PongWait, d.PingPeriod = pongWait, pongWait/4 })
	return ts
}

// mustDialLive connects a well-behaved client and reads its snapshot.
func mustDialLive(t *testing.T, ts *testServer) *websocket.Conn {
	t.Helper()
	conn, _, err := dialLive(t, ts.URL, ts.URL)
	if err != nil {
		t.Fatalf("dial /live: %v", err)
	}
	if f := readFrame(t, conn); f.Type != "snapshot" {
		t.Fatalf("first frame is %q, want snapshot", f.Type)
	}
	return conn
}

// publishMarked publishes an event that carries a test marker and a
// number, the way the server's own publishers send theirs.
func publishMarked(ts *testServer, marker string, n int, pad string) {
	ts.Hub.Publish(hub.Message{Type: "event", Data: fmt.Appendf(nil, `{"type":"event","test":%q,"n":%d,"pad":%q}`, marker, n, pad)})
}

// publishUnblocked is publishMarked for when a subscriber is stalled:
// Publish must never wait for one, and if it did the test fails here
// instead of hanging.
func publishUnblocked(t *testing.T, ts *testServer, marker string, n int, pad string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		publishMarked(ts, marker, n, pad)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		// The blocked Publish holds the hub's lock for good, so the
		// cleanup's Hub.Close hangs and t.Fatal's message would never be
		// printed: say it on stderr first.
		const msg = "Hub.Publish blocked for 10s behind a stalled subscriber"
		fmt.Fprintln(os.Stderr, t.Name()+": "+msg)
		t.Fatal(msg)
	}
}

// markedN returns the number in a message from publishMarked.
func markedN(t *testing.T, data []byte) int {
	t.Helper()
	// n comes before the pad (publishMarked), so the head of the message is
	// enough: decoding 64 KiB pads under -race made each round slow enough
	// for the write deadline of WS-05's paused client to pass.
	m := markedNumber.FindSubmatch(data[:min(len(data), 256)])
	if m == nil {
		t.Fatalf("no n in %.80s", data)
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil {
		t.Fatalf("n in %.80s: %v", data, err)
	}
	return n
}

var markedNumber = regexp.MustCompile(`"n":(\d+)`)

// pumps counts the goroutines running readPump or writePump: two per
// client the server still serves.
func pumps() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	return bytes.Count(buf, []byte("internal/server.readPump(")) + bytes.Count(buf, []byte("internal/server.writePump("))
}

// waitPumps waits until exactly want pump goroutines are left.
func waitPumps(t *testing.T, want int, timeout time.Duration) {
	t.Helper()
	dockertest.WaitFor(t, timeout, func() (bool, string) {
		n := pumps()
		return n == want, fmt.Sprintf("%d readPump/writePump goroutines, want %d", n, want)
	})
}

// waitHubLen waits until ts's hub has want subscribers. A subscription
// ends in a goroutine of its own (context.AfterFunc), a moment after the
// connection's pumps have.
func waitHubLen(t *testing.T, ts *testServer, want int) {
	t.Helper()
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		n := ts.Hub.Len()
		return n == want, fmt.Sprintf("Hub.Len = %d, want %d", n, want)
	})
}

// waitGoroutines waits until the process is back to at most baseline+5
// goroutines.
func waitGoroutines(t *testing.T, baseline int) {
	t.Helper()
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		n := runtime.NumGoroutine()
		return n <= baseline+5, fmt.Sprintf("%d goroutines, baseline %d", n, baseline)
	})
}

// heapAfterGC is the live heap once garbage is collected.
func heapAfterGC() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// wsReader reads a connection in the background, as a browser does. That
// matters beyond collecting messages: gorilla answers pings (and reports
// pongs and close frames) only inside a read.
type wsReader struct {
	more chan struct{} // one token: a message arrived
	done chan struct{} // closed when reading failed; err says why

	mu   sync.Mutex // protects the fields below
	msgs [][]byte
	err  error

	next int // the next message await looks at; the test goroutine's own
}

func startReading(conn *websocket.Conn) *wsReader {
	r := &wsReader{more: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			_, data, err := conn.ReadMessage()
			r.mu.Lock()
			if err != nil {
				r.err = err
				r.mu.Unlock()
				return
			}
			r.msgs = append(r.msgs, data)
			r.mu.Unlock()
			select {
			case r.more <- struct{}{}:
			default:
			}
		}
	}()
	return r
}

// await returns the next message that contains marker, skipping others
// (whatever else the hub sends).
func (r *wsReader) await(t *testing.T, marker string) []byte {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		for r.next < len(r.msgs) {
			m := r.msgs[r.next]
			r.msgs[r.next] = nil // WS-05 sends megabytes through here
			r.next++
			if bytes.Contains(m, []byte(marker)) {
				r.mu.Unlock()
				return m
			}
		}
		err := r.err
		r.mu.Unlock()
		if err != nil {
			t.Fatalf("waiting for %s: connection ended: %v", marker, err)
		}
		select {
		case <-r.more:
		case <-r.done:
		case <-timeout:
			t.Fatalf("no message with %s within 10s", marker)
		}
	}
}

// ended waits for the connection to end and says why.
func (r *wsReader) ended(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-r.done:
	case <-time.After(timeout):
		t.Fatalf("connection still open after %v", timeout)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// open reports whether the connection is still being read.
func (r *wsReader) open() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// rawLive opens /live over a bare TCP connection, for the tests that must
// write bytes no WebSocket library would, or must never read.
func rawLive(t *testing.T, ts *testServer) (net.Conn, *bufio.Reader) {
	t.Helper()
	u, err := url.Parse(ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatalf("dial %s: %v", u.Host, err)
	}
	t.Cleanup(func() { conn.Close() })
	var key [16]byte
	_, _ = rand.Read(key[:])
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := fmt.Fprintf(conn, "GET /live HTTP/1.1\r\nHost: %s\r\nOrigin: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n", u.Host, ts.URL, base64.StdEncoding.EncodeToString(key[:])); err != nil {
		t.Fatalf("write upgrade request: %v", err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("read upgrade response: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade answered %s, want 101", resp.Status)
	}
	_ = conn.SetDeadline(time.Time{})
	return conn, br
}

// Frame header bits (RFC 6455 §5.2).
const (
	finBit  = 0x80
	rsv1Bit = 0x40
	rsv2Bit = 0x20
	rsv3Bit = 0x10
	opCont  = 0x0
	opText  = 0x1
	opBin   = 0x2
	opClose = 0x8
	opPing  = 0x9
	opPong  = 0xA
)

// encodeFrame builds one frame: first is the FIN/RSV/opcode byte; the
// payload is masked, as a client must, unless masked is false.
func encodeFrame(first byte, masked bool, payload []byte) []byte {
	b := []byte{first}
	var maskBit byte
	if masked {
		maskBit = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, maskBit|byte(n))
	case n < 1<<16:
		b = append(b, maskBit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, maskBit|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	b = append(b, key[:]...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// rawFrame is one frame the server sent.
type rawFrame struct {
	op      byte
	payload []byte
}

// readRawFrame reads one server frame off a bare connection.
func readRawFrame(br *bufio.Reader) (rawFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return rawFrame{}, err
	}
	if h[1]&0x80 != 0 {
		return rawFrame{}, errors.New("server frame is masked")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return rawFrame{}, err
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return rawFrame{}, err
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if n > 64<<20 {
		return rawFrame{}, fmt.Errorf("server frame of %d bytes", n)
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(br, p); err != nil {
		return rawFrame{}, err
	}
	return rawFrame{op: h[0] & 0x0f, payload: p}, nil
}

// rawEnd is what a bare connection saw until the server hung up.
type rawEnd struct {
	frames    int
	pings     int
	closeCode int  // the close frame's status, 0 if it had none
	closed    bool // a close frame came
	hungUp    bool // the server ended the TCP connection (EOF or reset)
	err       error
}

// drainRaw reads what the server sends until it hangs up or timeout
// passes, answering nothing.
func drainRaw(conn net.Conn, br *bufio.Reader, timeout time.Duration) rawEnd {
	var end rawEnd
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	for {
		f, err := readRawFrame(br)
		if err != nil {
			end.err = err
			end.hungUp = errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)
			return end
		}
		end.frames++
		switch f.op {
		case opPing:
			end.pings++
		case opClose:
			end.closed = true
			if len(f.payload) >= 2 {
				end.closeCode = int(binary.BigEndian.Uint16(f.payload))
			}
		}
	}
}

// TestWS01OversizedFrameCloses1009: a 1 MiB text frame, 256 times the read
// limit, gets close 1009; that client's goroutines and subscription go, and
// another client keeps receiving.
func TestWS01OversizedFrameCloses1009(t *testing.T) {
	ts, _ := startFaked(t)
	other := startReading(mustDialLive(t, ts))
	waitPumps(t, 2, 5*time.Second)
	baseline := runtime.NumGoroutine()

	// A write buffer as big as the message makes gorilla send it as one
	// frame, so the server learns its size from the header.
	d := websocket.Dialer{WriteBufferSize: 1 << 20}
	conn, _, err := d.Dial(liveURL(ts), http.Header{"Origin": {ts.URL}})
	if err != nil {
		t.Fatalf("dial /live: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	readFrame(t, conn) // snapshot
	if n := ts.Hub.Len(); n != 2 {
		t.Fatalf("Hub.Len = %d with two clients, want 2", n)
	}
	// The server hangs up long before the megabyte is through, so write in
	// the background and read the close frame meanwhile; the write's own
	// error (a broken pipe, most likely) says nothing.
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		_ = conn.WriteMessage(websocket.TextMessage, bytes.Repeat([]byte("a"), 1<<20))
	}()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := conn.ReadMessage()
		if err == nil {
			continue // a delta on its way before the close
		}
		if !websocket.IsCloseError(err, websocket.CloseMessageTooBig) {
			t.Fatalf("read after a 1 MiB frame: %v, want close 1009", err)
		}
		break
	}
	<-wrote

	waitPumps(t, 2, 5*time.Second)
	waitHubLen(t, ts, 1) // the other client
	waitGoroutines(t, baseline)
	publishMarked(ts, "ws01", 1, "")
	if got := markedN(t, other.await(t, `"test":"ws01"`)); got != 1 {
		t.Errorf("other client got event %d, want 1", got)
	}
}

// TestWS02GarbageMessagesAreIgnored: 10,000 each of invalid JSON, unknown
// types, missing fields, wrong types and binary frames (50,000 messages) on
// one connection. The server must not panic (a panic in readPump would kill
// this test binary; one in writePump would end the connection without a
// close frame, which fails below), must keep the connection usable or close
// it cleanly, must keep serving new clients, and must give back its
// goroutines and memory.
func TestWS02GarbageMessagesAreIgnored(t *testing.T) {
	const perKind = 10000
	ts, _ := startFaked(t)
	observer := startReading(mustDialLive(t, ts))
	waitPumps(t, 2, 5*time.Second)
	baseline := runtime.NumGoroutine()
	heap := heapAfterGC()

	conn := mustDialLive(t, ts)
	r := startReading(conn)
	rng := mathrand.New(mathrand.NewSource(2))
	kinds := []struct {
		name string
		typ  int
		msg  func(i int) []byte
	}{
		{"invalid JSON", websocket.TextMessage, func(i int) []byte {
			return [][]byte{[]byte(`{"type":`), []byte("not json"), []byte("\xff\xfe\x00"), []byte(`[1,2`), []byte(`}`), {}}[i%6]
		}},
		{"unknown type", websocket.TextMessage, func(i int) []byte { return fmt.Appendf(nil, `{"type":"nope-%d","seq":%d}`, i, i) }},
		{"missing fields", websocket.TextMessage, func(i int) []byte { return [][]byte{[]byte(`{}`), []byte(`{"seq":1}`), []byte(`{"type":""}`)}[i%3] }},
		{"wrong types", websocket.TextMessage, func(i int) []byte {
			return [][]byte{[]byte(`{"type":42}`), []byte(`{"type":null,"seq":"x"}`), []byte(`[]`), []byte(`"snapshot"`), []byte(`{"type":["delta"],"seq":-1}`)}[i%5]
		}},
		{"binary", websocket.BinaryMessage, func(i int) []byte {
			b := make([]byte, 1+rng.Intn(4000)) // under the 4 KiB limit: WS-01 covers over it
			rng.Read(b)
			return b
		}},
	}
	sent := 0
send:
	for i := range perKind {
		for _, k := range kinds {
			if err := conn.WriteMessage(k.typ, k.msg(i)); err != nil {
				t.Logf("server closed the connection after %d messages (last: %s): %v", sent, k.name, err)
				break send
			}
			sent++
		}
	}

	publishMarked(ts, "ws02", 1, "")
	observer.await(t, `"test":"ws02"`)
	if r.open() {
		// Still open: it must still work, not be wedged.
		r.await(t, `"test":"ws02"`)
	} else if err := r.ended(t, time.Second); !websocket.IsCloseError(err, websocket.CloseNormalClosure, websocket.CloseGoingAway,
		websocket.CloseUnsupportedData, websocket.CloseInvalidFramePayloadData, websocket.ClosePolicyViolation, websocket.CloseMessageTooBig) {
		t.Errorf("after %d garbage messages the connection ended with %v, want it open or a clean close", sent, err)
	}
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
	conn.Close()

	fresh := mustDialLive(t, ts) // a new client still gets its snapshot
	fresh.Close()
	waitPumps(t, 2, 10*time.Second)
	waitHubLen(t, ts, 1) // the observer
	waitGoroutines(t, baseline)
	if grew := int64(heapAfterGC()) - int64(heap); grew > 5<<20 {
		t.Errorf("heap grew by %d bytes over %d garbage messages, want < 5 MiB", grew, sent)
	}
}

// TestWS03ProtocolFuzzClosesConnection stands in for Autobahn's
// fuzzingclient, which cannot run here: there is no image registry for
// crossbario/autobahn-testsuite and no pip. Instead, bare TCP connections
// complete a valid upgrade and then write one malformed thing each: frames
// that break RFC 6455 §5 (reserved bits, reserved opcodes, unmasked client
// frames, control frames over 125 bytes or fragmented, a continuation with
// nothing to continue, bad close frames, impossible lengths), truncated
// headers, and seeded random bytes.
//
// Frames the server can tell are wrong must end the connection within 10 s
// on a server whose keepalive is the default 60 s: the server detected
// them, no timeout did. Input that is only incomplete (a truncated header,
// most random bytes) can only be ended by the keepalive, so that runs
// against a server with a 2 s pong wait. Either way other clients are
// served throughout, and every goroutine comes back.
func TestWS03ProtocolFuzzClosesConnection(t *testing.T) {
	strict, _ := startFaked(t)                   // 60 s keepalive
	quick := startWithPongWait(t, 2*time.Second) // 2 s keepalive
	observers := []*wsReader{startReading(mustDialLive(t, strict)), startReading(mustDialLive(t, quick))}
	waitPumps(t, 4, 5*time.Second)
	baseline := runtime.NumGoroutine()

	ping := func(p string) []byte { return encodeFrame(finBit|opPing, true, []byte(p)) }
	closeFrame := func(code uint16, reason string) []byte {
		return encodeFrame(finBit|opClose, true, append(binary.BigEndian.AppendUint16(nil, code), reason...))
	}
	header64 := func(n uint64) []byte { // a masked text frame header claiming n bytes
		return append(binary.BigEndian.AppendUint64([]byte{finBit | opText, 0x80 | 127}, n), 1, 2, 3, 4)
	}
	violations := []struct {
		name  string
		bytes []byte
	}{
		{"RSV1 without an extension", encodeFrame(finBit|rsv1Bit|opText, true, []byte("hello"))},
		{"RSV2", encodeFrame(finBit|rsv2Bit|opText, true, []byte("hello"))},
		{"RSV3", encodeFrame(finBit|rsv3Bit|opBin, true, []byte("hello"))},
		{"all RSV on a ping", encodeFrame(finBit|rsv1Bit|rsv2Bit|rsv3Bit|opPing, true, nil)},
		{"opcode 3", encodeFrame(finBit|0x3, true, []byte("x"))},
		{"opcode 7", encodeFrame(finBit|0x7, true, nil)},
		{"opcode 0xB", encodeFrame(finBit|0xB, true, []byte("x"))},
		{"opcode 0xF", encodeFrame(finBit|0xF, true, nil)},
		{"unmasked text", encodeFrame(finBit|opText, false, []byte("hello"))},
		{"unmasked ping", encodeFrame(finBit|opPing, false, nil)},
		{"ping of 126 bytes", encodeFrame(finBit|opPing, true, bytes.Repeat([]byte("p"), 126))},
		{"pong of 65535 bytes", encodeFrame(finBit|opPong, true, bytes.Repeat([]byte("p"), 65535))},
		{"close of 126 bytes", closeFrame(1000, strings.Repeat("r", 124))},
		{"fragmented ping", encodeFrame(opPing, true, []byte("a"))},
		{"fragmented close", encodeFrame(opClose, true, []byte{0x03, 0xe8})},
		{"continuation without a start", encodeFrame(finBit|opCont, true, []byte("x"))},
		{"unfinished continuation without a start", encodeFrame(opCont, true, []byte("x"))},
		{"new message inside a fragmented one", append(encodeFrame(opText, true, []byte("a")), encodeFrame(finBit|opText, true, []byte("b"))...)},
		{"close with invalid UTF-8 reason", closeFrame(1000, "\xff\xfe\xfd")},
		{"close with code 1005", closeFrame(1005, "")},
		{"close with code 999", closeFrame(999, "")},
		{"close with code 5000", closeFrame(5000, "")},
		{"close of 1 byte", encodeFrame(finBit|opClose, true, []byte{0x03})},
		{"length with the top bit set", header64(1 << 63)},
		{"length of 2^63-1", header64(1<<63 - 1)},
		{"length over the limit in a non-minimal header", append(header64(4097), bytes.Repeat([]byte("a"), 10)...)},
		{"16-bit length over the limit", append([]byte{finBit | opBin, 0x80 | 126, 0xff, 0xff, 1, 2, 3, 4}, bytes.Repeat([]byte("b"), 100)...)},
	}
	for _, v := range violations {
		conn, br := rawLive(t, strict)
		if _, err := conn.Write(v.bytes); err != nil {
			t.Errorf("%s: write: %v", v.name, err)
			continue
		}
		end := drainRaw(conn, br, 10*time.Second)
		if !end.hungUp {
			t.Errorf("%s: server did not hang up within 10s: %v", v.name, end.err)
			continue
		}
		// RFC 6455 §7.1.7 lets the server fail the connection with or
		// without a close frame; when it sends one, it must say why.
		if end.closed && end.closeCode != 0 && end.closeCode != websocket.CloseProtocolError &&
			end.closeCode != websocket.CloseInvalidFramePayloadData && end.closeCode != websocket.CloseMessageTooBig &&
			end.closeCode != websocket.CloseNormalClosure {
			t.Errorf("%s: close code %d, want 1002, 1007 or 1009", v.name, end.closeCode)
		}
		conn.Close()
	}

	// Not a violation the server can act on without reading the payload,
	// which the push-only endpoint never does: gorilla leaves UTF-8 in data
	// frames to the application (Autobahn 6.x would flag this, and for a
	// push-only endpoint that is acceptable, as §7.2 allows). The
	// connection must stay usable or end.
	for _, p := range [][]byte{
		encodeFrame(finBit|opText, true, []byte("\xff\xfe\xfd")),
		append(encodeFrame(opText, true, []byte("\xce")), encodeFrame(finBit|opCont, true, []byte("\xba\xff"))...),
	} {
		conn, br := rawLive(t, strict)
		if _, err := conn.Write(append(p, ping("alive")...)); err != nil {
			t.Fatalf("write: %v", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			f, err := readRawFrame(br)
			if err != nil {
				t.Fatalf("invalid UTF-8 text: no pong and no close: %v", err)
			}
			if f.op == opPong && string(f.payload) == "alive" || f.op == opClose {
				break
			}
		}
		conn.Close()
	}

	// Incomplete input, and noise: only the keepalive can end these, so
	// they go to the 2 s server, all at once.
	incomplete := [][]byte{
		{finBit | opText},              // one byte of header
		{finBit | opText, 0x80 | 0x05}, // no mask key
		{finBit | opText, 0x80 | 126, 0x00},
		encodeFrame(finBit|opText, true, bytes.Repeat([]byte("x"), 100))[:50], // half a payload
	}
	for seed := range int64(32) {
		rng := mathrand.New(mathrand.NewSource(seed))
		b := make([]byte, 1+rng.Intn(512))
		rng.Read(b)
		incomplete = append(incomplete, b)
	}
	var wg sync.WaitGroup
	ends := make([]rawEnd, len(incomplete))
	for i, b := range incomplete {
		conn, br := rawLive(t, quick)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := conn.Write(b); err != nil {
				ends[i] = rawEnd{hungUp: true, err: err} // already gone
				return
			}
			// The client never answers the pings, so 2 s after the upgrade at
			// the latest the server must give up.
			ends[i] = drainRaw(conn, br, 10*time.Second)
		}()
	}
	wg.Wait()
	for i, end := range ends {
		if !end.hungUp {
			t.Errorf("incomplete input %d (% x…): server did not hang up within 10s: %v", i, incomplete[i][:min(8, len(incomplete[i]))], end.err)
		}
	}

	// A half-closed connection mid-header: EOF must end it at once.
	conn, br := rawLive(t, strict)
	_, _ = conn.Write([]byte{finBit | opText, 0x80 | 0x7d, 1})
	_ = conn.(*net.TCPConn).CloseWrite()
	if end := drainRaw(conn, br, 10*time.Second); !end.hungUp {
		t.Errorf("half-closed mid-header: server did not hang up within 10s: %v", end.err)
	}

	for i, ts := range []*testServer{strict, quick} {
		publishMarked(ts, "ws03", i, "")
		if got := markedN(t, observers[i].await(t, `"test":"ws03"`)); got != i {
			t.Errorf("observer %d got event %d", i, got)
		}
		mustDialLive(t, ts).Close() // and a new client still gets a snapshot
	}
	waitPumps(t, 4, 10*time.Second)
	waitHubLen(t, strict, 1) // the observers
	waitHubLen(t, quick, 1)
	waitGoroutines(t, baseline)
}

// TestWS04SilentClientIsDroppedAfterPongWait: a client that reads but never
// answers pings, and one that never reads at all, are both dropped once the
// pong wait passes, and not before; a client that answers pings outlives
// several pong waits. Without pings the good client would be dropped too;
// without the pong deadline the bad ones would stay.
func TestWS04SilentClientIsDroppedAfterPongWait(t *testing.T) {
	// The test server pings every pongWait/4, so a healthy client has most
	// of the 2 s to get a pong back, and the silent ones see pings before
	// their deadline.
	const pongWait = 2 * time.Second
	ts := startWithPongWait(t, pongWait)
	good := startReading(mustDialLive(t, ts))
	waitPumps(t, 2, 5*time.Second)
	baseline := runtime.NumGoroutine()

	start := time.Now()
	deaf := mustDialLive(t, ts)
	var deafPings atomic.Int64
	deaf.SetPingHandler(func(string) error { deafPings.Add(1); return nil }) // no pong
	deafReader := startReading(deaf)
	mute, br := rawLive(t, ts) // reads nothing after the upgrade

	dockertest.WaitFor(t, pongWait+5*time.Second, func() (bool, string) {
		n := ts.Hub.Len()
		return n == 1, fmt.Sprintf("Hub.Len = %d, want 1 once the two silent clients are dropped", n)
	})
	if took := time.Since(start); took < pongWait {
		t.Errorf("silent clients dropped %v after connecting, before the pong wait (%v)", took, pongWait)
	}
	if err := deafReader.ended(t, 5*time.Second); err == nil {
		t.Error("deaf client: connection still open")
	}
	if deafPings.Load() == 0 {
		t.Error("deaf client got no ping before it was dropped")
	}
	end := drainRaw(mute, br, 5*time.Second)
	if !end.hungUp || end.pings == 0 || end.frames < 2 {
		t.Errorf("mute client saw %d frames, %d pings, hung up %v (%v); want the snapshot, a ping, then the end",
			end.frames, end.pings, end.hungUp, end.err)
	}

	// The good client answered every ping and is still there, well past
	// the pong wait.
	time.Sleep(time.Until(start.Add(5 * pongWait / 2)))
	publishMarked(ts, "ws04", 1, "")
	good.await(t, `"test":"ws04"`)
	if n := ts.Hub.Len(); n != 1 {
		t.Errorf("Hub.Len = %d, want 1 (the client that answers pings)", n)
	}
	waitPumps(t, 2, 5*time.Second)
	waitGoroutines(t, baseline)
}

// TestWS05StalledReaderIsEvicted: two clients stop reading while 64 KiB
// events flow, until their TCP windows and then their hub buffers fill.
// Both are dropped from the hub; the one that never reads again has its
// connection closed by the write deadline, the one that resumes reading is
// told 1013 (try again later); a client that reads along receives every
// message, in order.
func TestWS05StalledReaderIsEvicted(t *testing.T) {
	ts, _ := startFaked(t)
	good := startReading(mustDialLive(t, ts))
	stalled := mustDialLive(t, ts) // never reads again
	paused := mustDialLive(t, ts)  // reads again once dropped
	waitPumps(t, 6, 5*time.Second)
	if n := ts.Hub.Len(); n != 3 {
		t.Fatalf("Hub.Len = %d, want 3", n)
	}

	// Publish in step with the good client, so that it is never behind and
	// the drop of the others can only be theirs.
	pad := strings.Repeat("x", 64<<10)
	n := 0
	for ; ts.Hub.Len() > 1; n++ {
		if n == 3000 {
			t.Fatalf("stalled clients still subscribed after %d messages of 64 KiB (Hub.Len = %d)", n, ts.Hub.Len())
		}
		publishUnblocked(t, ts, "ws05", n, pad)
		if got := markedN(t, good.await(t, `"test":"ws05"`)); got != n {
			t.Fatalf("good client got message %d, want %d", got, n)
		}
	}
	t.Logf("stalled clients dropped after %d messages (%d MiB)", n, n*len(pad)>>20)

	// The paused client reads again at once (its server side has been stuck
	// in a write since its window filled, and the write deadline runs): what
	// was buffered, then close 1013.
	pausedEnd := make(chan error, 1)
	go func() {
		_ = paused.SetReadDeadline(time.Now().Add(20 * time.Second))
		for {
			if _, _, err := paused.ReadMessage(); err != nil {
				pausedEnd <- err
				return
			}
		}
	}()
	for i := n; i < n+10; i++ { // and the good one carries on
		publishUnblocked(t, ts, "ws05", i, "")
		if got := markedN(t, good.await(t, `"test":"ws05"`)); got != i {
			t.Fatalf("good client got message %d, want %d", got, i)
		}
	}
	if err := <-pausedEnd; !websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
		t.Errorf("paused client: %v, want close 1013", err)
	}
	// The stalled client's writePump is stuck in a write; the write
	// deadline must free it.
	waitPumps(t, 2, wsWriteWait+5*time.Second)
	_ = stalled.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, _, err := stalled.ReadMessage()
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("stalled client: the server never hung up: %v", err)
		}
		break
	}
	if got := ts.Hub.Len(); got != 1 {
		t.Errorf("Hub.Len = %d, want 1", got)
	}
}

// TestWS06ConnectDisconnectCyclesLeakNothing: 1,000 connections that end
// every way a client can end one (close handshake, FIN without a close
// frame, RST before or after the snapshot) leave no goroutine, no
// subscription and no memory behind.
func TestWS06ConnectDisconnectCyclesLeakNothing(t *testing.T) {
	const cycles, workers = 1000, 4
	ts, _ := startFaked(t)
	dialer := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	header := http.Header{"Origin": {ts.URL}}
	rst := func(conn *websocket.Conn) error {
		if err := conn.UnderlyingConn().(*net.TCPConn).SetLinger(0); err != nil {
			return err
		}
		return conn.Close() // with linger 0 the kernel sends RST, not FIN
	}
	cycle := func(i int) error {
		conn, _, err := dialer.Dial(liveURL(ts), header)
		if err != nil {
			return fmt.Errorf("cycle %d: dial: %w", i, err)
		}
		if i%4 == 3 {
			return rst(conn) // before the snapshot is even read
		}
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		if _, _, err := conn.ReadMessage(); err != nil {
			conn.Close()
			return fmt.Errorf("cycle %d: snapshot: %w", i, err)
		}
		switch i % 4 {
		case 0: // close handshake: the server must answer it
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
			if err := conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(5*time.Second)); err != nil {
				conn.Close()
				return fmt.Errorf("cycle %d: close: %w", i, err)
			}
			for {
				if _, _, err = conn.ReadMessage(); err != nil {
					break
				}
			}
			conn.Close()
			if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				return fmt.Errorf("cycle %d: after the close handshake: %v, want the server's close 1000", i, err)
			}
			return nil
		case 1:
			return rst(conn)
		default: // FIN with no close frame
			return conn.Close()
		}
	}
	for i := range 8 { // warm up connection pools and lazily started goroutines
		if err := cycle(i); err != nil {
			t.Fatal(err)
		}
	}
	waitPumps(t, 0, 10*time.Second)
	baseline := runtime.NumGoroutine()
	heap := heapAfterGC()

	var g errgroup.Group
	for w := range workers {
		g.Go(func() error {
			for i := w; i < cycles; i += workers {
				if err := cycle(i); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	waitPumps(t, 0, 10*time.Second)
	waitHubLen(t, ts, 0)
	waitGoroutines(t, baseline)
	if grew := int64(heapAfterGC()) - int64(heap); grew > 10<<20 {
		t.Errorf("heap grew by %d bytes over %d cycles, want < 10 MiB", grew, cycles)
	}
}

// TestWS07PingFloodIsAnsweredOrClosed: one client sends 200 pings a second
// for 2 s. The server answers each with its pong (or closes the client
// cleanly), and a second client receives every event published meanwhile.
func TestWS07PingFloodIsAnsweredOrClosed(t *testing.T) {
	ts, _ := startFaked(t)
	other := startReading(mustDialLive(t, ts))
	flooder := mustDialLive(t, ts)
	var pongs, misordered atomic.Int64
	flooder.SetPongHandler(func(p string) error {
		if p != strconv.FormatInt(pongs.Load(), 10) {
			misordered.Add(1)
		}
		pongs.Add(1)
		return nil
	})
	flooded := startReading(flooder)

	// 400 pings at 200/s. The loop is bounded by count, not by the clock: a
	// slow machine drops ticks, and must not make the flood smaller.
	const flood = 400
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	hang := time.Now().Add(time.Minute)
	sent, events := 0, 0
	for sent < flood && time.Now().Before(hang) {
		<-tick.C
		if err := flooder.WriteControl(websocket.PingMessage, []byte(strconv.Itoa(sent)), time.Now().Add(5*time.Second)); err != nil {
			break // closed on us: checked below
		}
		sent++
		if sent%20 == 0 {
			publishMarked(ts, "ws07", events, "")
			events++
		}
	}
	t.Logf("sent %d pings", sent)

	for i := range events {
		if got := markedN(t, other.await(t, `"test":"ws07"`)); got != i {
			t.Fatalf("other client got event %d, want %d", got, i)
		}
	}
	dockertest.WaitFor(t, 10*time.Second, func() (bool, string) {
		return pongs.Load() == int64(sent) || !flooded.open(), fmt.Sprintf("%d pongs for %d pings", pongs.Load(), sent)
	})
	if flooded.open() {
		if n := misordered.Load(); n != 0 {
			t.Errorf("%d pongs out of order or with the wrong payload", n)
		}
	} else if err := flooded.ended(t, time.Second); !websocket.IsCloseError(err, websocket.ClosePolicyViolation, websocket.CloseTryAgainLater, websocket.CloseGoingAway) {
		t.Errorf("flooding client ended with %v after %d of %d pongs, want every pong or a clean close", err, pongs.Load(), sent)
	}
	if sent < flood && flooded.open() {
		t.Errorf("only %d of %d pings went out, and the connection is open; the flood did not happen", sent, flood)
	}
	publishMarked(ts, "ws07-after", 0, "")
	other.await(t, `"test":"ws07-after"`)
}

// TestWS01bFragmentedMessageCloses1009: a message sent as many small
// fragments (a 1-byte first frame, then continuation frames) is held to
// the same 4 KiB limit as one frame: 4096 bytes in all pass, 4097 get
// close 1009. (Skipping each message with NextReader restarted gorilla's
// count after the first frame.)
func TestWS01bFragmentedMessageCloses1009(t *testing.T) {
	ts, _ := startFaked(t)
	const limit = 4096
	send := func(t *testing.T, conn net.Conn, total int) {
		t.Helper()
		var b []byte
		b = append(b, encodeFrame(opText, true, []byte("{"))...) // FIN clear: more to come
		left := total - 1
		for left > 0 {
			n := min(256, left)
			left -= n
			first := byte(opCont)
			if left == 0 {
				first |= finBit
			}
			b = append(b, encodeFrame(first, true, bytes.Repeat([]byte("a"), n))...)
		}
		_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
		// The server may hang up before the last frames are in: what it
		// answers is what counts.
		_, _ = conn.Write(b)
	}

	t.Run("at the limit", func(t *testing.T) {
		conn, br := rawLive(t, ts)
		send(t, conn, limit)
		// A ping after the message is answered: the connection lives on.
		if _, err := conn.Write(encodeFrame(finBit|opPing, true, []byte("alive"))); err != nil {
			t.Fatalf("ping: %v", err)
		}
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		for {
			f, err := readRawFrame(br)
			if err != nil {
				t.Fatalf("waiting for the pong after a %d-byte fragmented message: %v", limit, err)
			}
			if f.op == opClose {
				t.Fatalf("a %d-byte fragmented message closed the connection (%v)", limit, f.payload)
			}
			if f.op == opPong && string(f.payload) == "alive" {
				return
			}
		}
	})
	t.Run("past the limit", func(t *testing.T) {
		conn, br := rawLive(t, ts)
		send(t, conn, limit+1)
		end := drainRaw(conn, br, 20*time.Second)
		if !end.closed || end.closeCode != websocket.CloseMessageTooBig {
			t.Errorf("a %d-byte message in %d fragments: closed %v with code %d (%v), want close 1009", limit+1, 1+limit/256, end.closed, end.closeCode, end.err)
		}
	})
	t.Run("many fragments far past the limit", func(t *testing.T) {
		conn, br := rawLive(t, ts)
		send(t, conn, 64<<10)
		end := drainRaw(conn, br, 20*time.Second)
		if !end.closed || end.closeCode != websocket.CloseMessageTooBig {
			t.Errorf("a 64 KiB message in 256-byte fragments: closed %v with code %d (%v), want close 1009", end.closed, end.closeCode, end.err)
		}
	})
}
