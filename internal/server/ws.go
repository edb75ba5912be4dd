package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/protocol"
)

// WebSocket timing and limits, as in the gorilla chat example.
const (
	writeWait       = 10 * time.Second
	defaultPongWait = 60 * time.Second
	// maxMessageSize bounds what a client may send: the protocol needs
	// nothing from the client, so anything big is abuse.
	maxMessageSize = 4096
)

// upgrader refuses cross-site WebSocket hijacking with sameOriginWS.
//
// The write buffer comes from a pool for each message instead of staying
// with the connection: a watching browser is idle most of the time, and
// the pool cut what one costs the server from about 49 KB to about 30 KB
// (BenchmarkClientMemory; gorilla documents the pool for many connections
// with modest writes).
//
// permessage-deflate is agreed with a client that offers it (every
// browser does), so that compressAbove can shrink the big frames. Gorilla
// only does it without context takeover, its compressors pooled per
// message: an idle connection holds no deflate state.
var upgrader = websocket.Upgrader{ReadBufferSize: 1024, WriteBufferSize: 16 * 1024, WriteBufferPool: &sync.Pool{},
	EnableCompression: true, CheckOrigin: sameOriginWS}

// compressAbove is the length from which a frame goes out compressed, on
// a connection that agreed to permessage-deflate. The snapshot of a big
// map (about 1 KB of JSON per node, megabytes at 5,000 nodes) shrinks
// about tenfold and reaches a browser on a workshop's Wi-Fi seconds
// sooner (BenchmarkSnapshotSlowLink); a delta or a count of a few hundred
// bytes gains a few bytes and would cost each of hundreds of clients its
// own compression of the same frame.
const compressAbove = 8 << 10

// shared holds the frames of the big hub messages, compressed once for
// every connection that sends them: a delta of a big burst goes to each
// of hundreds of clients, and compressing it for each would cost each its
// own deflate of the same bytes (BenchmarkFanout500Big).
var shared preparedFrames

// preparedFrames keeps the last few big messages as prepared messages,
// keyed by their bytes' address: a hub message's Data is one slice that
// every subscription passes on, and the key, a pointer into those bytes,
// keeps them alive, so the address cannot be reused while it is kept.
type preparedFrames struct {
	mu   sync.Mutex
	kept [8]preparedFrame
	next int
}

type preparedFrame struct {
	data *byte
	n    int
	pm   *websocket.PreparedMessage
}

// get returns data as a prepared text message, made at most once while
// it is kept.
func (p *preparedFrames) get(data []byte) (*websocket.PreparedMessage, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range p.kept {
		if f.data == &data[0] && f.n == len(data) {
			return f.pm, nil
		}
	}
	// Each kind of frame (compressed or not) is encoded on its first
	// use, once, whichever connection asks first.
	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, data)
	if err != nil {
		return nil, fmt.Errorf("prepare a %d-byte frame: %w", len(data), err)
	}
	p.kept[p.next] = preparedFrame{data: &data[0], n: len(data), pm: pm}
	p.next = (p.next + 1) % len(p.kept)
	return pm, nil
}

// sameOriginWS lets a WebSocket upgrade in when it comes from the page's own
// origin, scheme included: gorilla's default compares only host and port,
// so a page served over plain http on the same name and port (a downgraded
// or spoofed one, or another service on a TLS-terminating proxy) would
// pass as the https page. The Origin must be https exactly when the
// request came over TLS, http otherwise, with nothing but a scheme and a
// host:port equal to Host (case-insensitive); a missing Origin (a script,
// which still needs a credential) is let through, while "null", a path or
// anything that does not parse is refused.
func sameOriginWS(r *http.Request) bool {
	origin := r.Header["Origin"]
	if len(origin) == 0 {
		return true
	}
	u, err := url.Parse(origin[0])
	if err != nil || u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return false
	}
	want := "http"
	if r.TLS != nil {
		want = "https"
	}
	return strings.EqualFold(u.Scheme, want) && strings.EqualFold(u.Host, r.Host)
}

// handleLive serves "GET /live" (WebSocket): a snapshot first, then the
// watcher counts and where every participant followed is in their lesson,
// then deltas, events, engine state and the rest as they happen. A
// connection of a browser that joined with an invite is closed when the
// invite ends (a nil a is access control off).
func handleLive(src LiveSource, a *auth.Auth, w *watchers, ll *LessonLive, obs Observer, log *slog.Logger, pongWait, pingPeriod time.Duration) echo.HandlerFunc {
	if pongWait <= 0 {
		pongWait = defaultPongWait
	}
	if pingPeriod <= 0 || pingPeriod >= pongWait {
		pingPeriod = pongWait * 9 / 10
	}
	return func(c echo.Context) error {
		// The audit trail is for operators; a viewer's connection skips it.
		operator := roleOf(c) == auth.Operator
		// Taken before the upgrade: an invite that ends from here on
		// closes this connection, and one that ended since authorize let
		// the request in closes it at once.
		var ended <-chan struct{}
		if a != nil {
			ended = a.SessionDone(c.Request())
		}
		conn, err := upgrader.Upgrade(c.Response(), c.Request(), nil)
		if err != nil {
			// The upgrader has already answered (403 for a foreign origin).
			return nil
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		defer w.join(operator)()
		obs.ClientOpened()
		defer obs.ClientClosed()
		snap, sub := src.Subscribe(ctx)
		// The lesson states are taken after subscribing, so no change is
		// missed; one published in between comes again after them, and
		// a client keeps the newer by "changed".
		first := append([][]byte{protocol.Encode(&protocol.Snapshot{Snapshot: snap}), w.frame()}, ll.frames()...)
		go readPump(conn, cancel, pongWait)
		writePump(ctx, conn, first, snap.Seq, sub, log, pingPeriod, operator, ended)
		return nil
	}
}

// readPump reads and discards what the client sends, so that pongs and
// close frames are processed; it cancels the connection when reading fails.
//
// Each message is read to its end, not skipped by the next NextReader:
// gorilla counts a message against the read limit across its fragments
// only while it is read, and restarts the count when NextReader skips
// what is left, so a message sent as many small continuation frames would
// slip past the limit by up to a frame (TestWS01bFragmentedMessageCloses1009).
func readPump(conn *websocket.Conn, cancel context.CancelFunc, pongWait time.Duration) {
	defer cancel()
	conn.SetReadLimit(maxMessageSize)
	_ = conn.SetReadDeadline(time.Now().Add(pongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		_, r, err := conn.NextReader()
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		if err != nil {
			if errors.Is(err, websocket.ErrReadLimit) {
				drainBeforeClose(conn)
			}
			return
		}
	}
}

// closeDrain bounds how long a connection closed for a too-big message is
// read (and dropped) before it is closed.
const closeDrain = 2 * time.Second

// drainBeforeClose reads and drops what the client still sends after
// gorilla answered a too-big message with close 1009. Closing a socket
// with unread bytes in its receive buffer makes the kernel send a reset
// instead of a FIN, and a reset can throw away the close frame before the
// client reads it (TestWS01bFragmentedMessageCloses1009 saw "connection
// reset by peer"): the client would not learn why it was cut off.
func drainBeforeClose(conn *websocket.Conn) {
	nc := conn.NetConn()
	_ = nc.SetReadDeadline(time.Now().Add(closeDrain))
	_, _ = io.Copy(io.Discard, nc)
}

// writePump owns every write to the connection: the first frames (the
// snapshot, ...), then the subscription's messages and the keepalive
// pings, until ctx ends or ended closes (the connection's credential
// stopped working).
func writePump(ctx context.Context, conn *websocket.Conn, first [][]byte, seq uint64, sub *hub.Subscription, log *slog.Logger,
	pingPeriod time.Duration, operator bool, ended <-chan struct{}) {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		conn.Close()
	}()
	write := func(typ int, data []byte) error {
		_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
		conn.EnableWriteCompression(len(data) >= compressAbove)
		return conn.WriteMessage(typ, data)
	}
	// writeShared writes a hub message, which every other connection
	// writes too: a big one from its shared frames.
	writeShared := func(data []byte) error {
		if len(data) < compressAbove {
			return write(websocket.TextMessage, data)
		}
		pm, err := shared.get(data)
		if err != nil {
			return err
		}
		_ = conn.SetWriteDeadline(time.Now().Add(writeWait))
		conn.EnableWriteCompression(true)
		return conn.WritePreparedMessage(pm)
	}
	if isDone(ended) {
		code, reason := endedClose()
		_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(writeWait))
		return
	}
	for _, f := range first {
		if write(websocket.TextMessage, f) != nil {
			return
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-ended:
			// The page learns why from GET /api/session (401) when it
			// tries to reconnect; the reason is for a script.
			code, reason := endedClose()
			_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(writeWait))
			return
		case m, ok := <-sub.C():
			if !ok {
				code, reason := websocket.CloseGoingAway, "server closing"
				if errors.Is(sub.Err(), hub.ErrSlow) {
					// The client fell behind; it reconnects for a fresh snapshot.
					code, reason = websocket.CloseTryAgainLater, "too slow: reconnect"
					log.Debug("dropped slow websocket client")
				}
				_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(writeWait))
				return
			}
			if m.Type == protocol.TypeDelta && m.Seq <= seq {
				continue // already in the snapshot
			}
			if protocol.OperatorOnly(m.Type) && !operator {
				continue
			}
			if writeShared(m.Data) != nil {
				return
			}
		case <-ticker.C:
			if write(websocket.PingMessage, nil) != nil {
				return
			}
		}
	}
}

// endedClose is the close frame of a connection whose credential stopped
// working: 1008, since the connection is no longer allowed.
func endedClose() (int, string) {
	return websocket.ClosePolicyViolation, "signed out: the invite ended"
}

// isDone reports whether ch is closed; a nil ch never is.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
