// Package connlimit caps the connections a listener hands out: per client
// address and in total. A client over its share, or any client once the
// total is reached, has its connection accepted and closed at once (after
// an optional short answer), so that it never waits in the kernel's accept
// queue in front of everyone else, and the process never runs out of file
// descriptors: 20,000 slow connections from one address leave the others,
// and /healthz, served.
//
// A connection counts from Accept until it is closed, whoever closes it:
// the HTTP server, or the WebSocket code after a hijack (the hijacked
// net.Conn is the one this package handed out).
//
// # Concurrency
//
// A Listener is safe for concurrent use, as net.Listener requires; its
// counts are guarded by one mutex, held only to add or subtract.
package connlimit

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
)

// DefaultPerClient is how many connections one client address may hold. A
// browser keeps about 7 open to dockmap (its HTTP/1.1 pool and the live
// WebSocket), and a whole class behind one `ssh -L` shares 127.0.0.1.
const DefaultPerClient = 512

// ServiceUnavailable is a minimal HTTP answer for a refused connection, for
// plain-HTTP listeners (a TLS client would read it as garbage).
var ServiceUnavailable = []byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nConnection: close\r\nContent-Length: 29\r\n\r\ntoo many connections: retry\r\n")

// Listener wraps a net.Listener with the caps.
type Listener struct {
	net.Listener
	total, perClient int
	reject           []byte

	mu       sync.Mutex // protects open and byClient
	open     int
	byClient map[netip.Prefix]int

	refused atomic.Int64

	// raw is the inner listener's socket when it is a TCP socket this
	// platform can accept from directly (accept_unix.go), else nil.
	raw syscall.RawConn
	// draining is set after a refusal, while Accept drains the queue on
	// raw (accept_unix.go).
	draining atomic.Bool
}

// Option changes a Listener.
type Option func(*Listener)

// WithReject makes the Listener write msg to a refused connection before
// closing it (ServiceUnavailable, say). The write is not waited for: on a
// connection just accepted the kernel's send buffer is empty, so a short
// answer goes out at once or not at all.
func WithReject(msg []byte) Option { return func(l *Listener) { l.reject = msg } }

// New wraps inner so that it hands out at most total connections at once,
// and at most perClient to one client (one IPv4 address, or one IPv6 /64:
// a single host commonly has a whole /64 to pick addresses from). Both
// must be positive.
func New(inner net.Listener, total, perClient int, opts ...Option) *Listener {
	if total <= 0 || perClient <= 0 {
		panic("connlimit.New: caps must be positive")
	}
	l := &Listener{Listener: inner, total: total, perClient: min(perClient, total), byClient: map[netip.Prefix]int{}}
	for _, o := range opts {
		o(l)
	}
	l.raw = rawSocket(inner)
	return l
}

// Accept returns the next connection within the caps. Connections over a
// cap are closed here, one after the other, without returning: an
// attacker's flood is drained from the accept queue as fast as it comes,
// and the next rightful connection behind it is returned.
func (l *Listener) Accept() (net.Conn, error) {
	if l.raw != nil {
		return l.acceptRaw()
	}
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if c := l.admitConn(c); c != nil {
			return c, nil
		}
	}
}

// admitConn counts c and returns it wrapped, or refuses it (nil).
func (l *Listener) admitConn(c net.Conn) net.Conn {
	key := clientOf(c.RemoteAddr())
	if l.admit(key) {
		return &conn{Conn: c, l: l, key: key}
	}
	l.refused.Add(1)
	if l.reject != nil {
		_, _ = c.Write(l.reject)
	}
	_ = c.Close()
	return nil
}

// admit counts a new connection from key, unless a cap is reached.
func (l *Listener) admit(key netip.Prefix) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.total || l.byClient[key] >= l.perClient {
		return false
	}
	l.open++
	l.byClient[key]++
	return true
}

// release forgets a closed connection from key.
func (l *Listener) release(key netip.Prefix) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byClient[key]--; l.byClient[key] <= 0 {
		// Memory follows the clients connected now, not every address
		// ever seen.
		delete(l.byClient, key)
	}
}

// Open is how many connections the Listener has handed out and not seen
// closed.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// OpenFrom is how many of them came from addr's client (its /64 for IPv6).
func (l *Listener) OpenFrom(addr netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.byClient[clientKey(addr)]
}

// Refused is how many connections were closed at once for a cap.
func (l *Listener) Refused() int64 { return l.refused.Load() }

// clientOf is the client a remote address belongs to.
func clientOf(a net.Addr) netip.Prefix {
	if ta, ok := a.(*net.TCPAddr); ok {
		return clientKey(ta.AddrPort().Addr())
	}
	// Not TCP (a Unix socket, a test pipe): all such callers are one
	// client, the zero prefix.
	return netip.Prefix{}
}

// clientKey is the IPv4 address itself, or the /64 of an IPv6 one.
func clientKey(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// conn is a counted connection: closing it gives its place back, once.
type conn struct {
	net.Conn
	l      *Listener
	key    netip.Prefix
	closed atomic.Bool
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.key)
	}
	return err
}

// ReadFrom and CloseWrite pass through what net/http looks for on a TCP
// connection: sendfile for static files, and a half-close before it
// closes a connection gracefully.

func (c *conn) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := c.Conn.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(c.Conn, r)
}

func (c *conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}
