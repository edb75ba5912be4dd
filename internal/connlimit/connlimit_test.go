package connlimit

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"
)

// waitFor polls cond until it holds, or fails the test after a generous
// deadline (the machine is shared; what counts is that it comes true).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// server is a Listener on loopback whose accepted connections the test
// keeps, to close them when it likes.
type server struct {
	*Listener
	mu       sync.Mutex
	accepted []net.Conn
	done     chan struct{}
}

// paths are the two ways Accept takes connections: straight from a TCP
// socket (accept_unix.go), and through any other listener.
var paths = []struct {
	name string
	wrap func(net.Listener) net.Listener
}{
	{"socket", func(l net.Listener) net.Listener { return l }},
	{"listener", func(l net.Listener) net.Listener { return struct{ net.Listener }{l} }},
}

func startServer(t *testing.T, wrap func(net.Listener) net.Listener, total, perClient int, opts ...Option) *server {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &server{Listener: New(wrap(inner), total, perClient, opts...), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		for {
			c, err := s.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.accepted = append(s.accepted, c)
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		s.Close()
		<-s.done
		s.mu.Lock()
		for _, c := range s.accepted {
			c.Close()
		}
		s.mu.Unlock()
	})
	return s
}

func (s *server) nAccepted() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accepted)
}

// dialFrom connects from a loopback address of its own (127.0.0.x).
func dialFrom(t *testing.T, from, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 10 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// refused reports whether the server closed c at once: a read ends (EOF,
// a reset, or the 503) instead of waiting.
func refused(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.ReadAll(c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// stillOpen reports whether c is open at the server: a short read times
// out. Only called on connections the server counts as open.
func stillOpen(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// One client gets perClient connections; the ones after that are closed at
// once, while another client still gets in. A closed connection gives its
// place back.
func TestPerClientCap(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) { perClientCap(t, p.wrap) })
	}
}

func perClientCap(t *testing.T, wrap func(net.Listener) net.Listener) {
	s := startServer(t, wrap, 100, 3)
	addr := s.Addr().String()
	var kept []net.Conn
	for range 3 {
		kept = append(kept, dialFrom(t, "127.0.0.2", addr))
	}
	waitFor(t, "three are accepted", func() bool { return s.nAccepted() == 3 })
	for i := range 2 {
		if c := dialFrom(t, "127.0.0.2", addr); !refused(c) {
			t.Errorf("connection %d over the cap was not closed", 4+i)
		}
	}
	if got := s.OpenFrom(netip.MustParseAddr("127.0.0.2")); got != 3 {
		t.Errorf("OpenFrom(127.0.0.2) = %d, want 3", got)
	}
	if got := s.Refused(); got != 2 {
		t.Errorf("Refused = %d, want 2", got)
	}
	for _, c := range kept {
		if !stillOpen(c) {
			t.Errorf("a connection within the cap was closed")
		}
	}
	dialFrom(t, "127.0.0.3", addr)
	waitFor(t, "another client is accepted", func() bool { return s.nAccepted() == 4 })

	// The server closes one of the first client's: it may connect again.
	s.mu.Lock()
	first := s.accepted[0]
	s.mu.Unlock()
	first.Close()
	first.Close() // twice: counted once
	if got := s.OpenFrom(netip.MustParseAddr("127.0.0.2")); got != 2 {
		t.Errorf("OpenFrom(127.0.0.2) after a close = %d, want 2", got)
	}
	dialFrom(t, "127.0.0.2", addr)
	waitFor(t, "the first client is accepted again", func() bool { return s.nAccepted() == 5 })
	if got, want := s.Open(), 4; got != want {
		t.Errorf("Open = %d, want %d", got, want)
	}
}

// Past the total, every client's new connection is closed at once, with
// the answer given.
func TestTotalCapAndReject(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) { totalCapAndReject(t, p.wrap) })
	}
}

func totalCapAndReject(t *testing.T, wrap func(net.Listener) net.Listener) {
	s := startServer(t, wrap, 2, 2, WithReject(ServiceUnavailable))
	addr := s.Addr().String()
	dialFrom(t, "127.0.0.2", addr)
	dialFrom(t, "127.0.0.3", addr)
	waitFor(t, "two are accepted", func() bool { return s.nAccepted() == 2 })
	c := dialFrom(t, "127.0.0.4", addr)
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("over the total: %v, want a 503", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("over the total: %s, want 503", resp.Status)
	}
	if !refused(c) {
		t.Errorf("the refused connection stays open")
	}
}

// A connection an HTTP handler hijacks (a WebSocket) keeps its place until
// it is closed.
func TestHijackedConnectionKeepsCounting(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) { hijackedKeepsCounting(t, p.wrap) })
	}
}

func hijackedKeepsCounting(t *testing.T, wrap func(net.Listener) net.Listener) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(wrap(inner), 10, 10)
	hijacked := make(chan net.Conn, 1)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		_, _ = brw.WriteString("HTTP/1.1 101 Switching Protocols\r\n\r\n")
		_ = brw.Flush()
		hijacked <- c
	})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close() })

	c := dialFrom(t, "127.0.0.2", l.Addr().String())
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	var h net.Conn
	select {
	case h = <-hijacked:
	case <-time.After(20 * time.Second):
		t.Fatal("the handler never hijacked")
	}
	if got := l.OpenFrom(netip.MustParseAddr("127.0.0.2")); got != 1 {
		t.Errorf("OpenFrom after the hijack = %d, want 1", got)
	}
	h.Close()
	waitFor(t, "the hijacked connection is released", func() bool { return l.Open() == 0 })
}

// IPv4 addresses are clients each; an IPv6 client is its /64.
func TestClientKey(t *testing.T) {
	same := [][2]string{{"2001:db8::1", "2001:db8::ffff:1"}, {"::ffff:192.0.2.1", "192.0.2.1"}}
	for _, p := range same {
		if a, b := clientKey(netip.MustParseAddr(p[0])), clientKey(netip.MustParseAddr(p[1])); a != b {
			t.Errorf("clientKey(%s) = %v, clientKey(%s) = %v: want one client", p[0], a, p[1], b)
		}
	}
	differ := [][2]string{{"2001:db8:0:1::1", "2001:db8:0:2::1"}, {"192.0.2.1", "192.0.2.2"}, {"127.0.0.1", "::1"}}
	for _, p := range differ {
		if a, b := clientKey(netip.MustParseAddr(p[0])), clientKey(netip.MustParseAddr(p[1])); a == b {
			t.Errorf("clientKey(%s) = clientKey(%s) = %v: want two clients", p[0], p[1], a)
		}
	}
}

func TestDefaultTotal(t *testing.T) {
	for _, tc := range []struct{ files, want int }{
		{0, 4096}, {1024, 768}, {4352, 4096}, {20000, 4096}, {1 << 20, 4096}, {100, 16},
	} {
		if got := defaultTotal(tc.files); got != tc.want {
			t.Errorf("defaultTotal(%d) = %d, want %d", tc.files, got, tc.want)
		}
	}
	if got, files := DefaultTotal(), FileLimit(); files > 0 && got > files {
		t.Errorf("DefaultTotal() = %d above the file limit %d", got, files)
	}
}

// Accept passes the inner listener's error on: a closed listener ends the
// server's loop.
func TestAcceptError(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := New(inner, 1, 1)
	l.Close()
	if _, err := l.Accept(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("Accept on a closed listener = %v, want its error", err)
	}
}

// A flood from one address, far past its cap, is refused as it comes
// while another client's connection behind it is handed out, on both
// paths; the refused ones never reach the server's loop.
func TestFloodIsDrained(t *testing.T) {
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			s := startServer(t, p.wrap, 1000, 5)
			addr := s.Addr().String()
			const n = 300
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					for range n / 4 {
						d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}, Timeout: 10 * time.Second}
						if c, err := d.Dial("tcp", addr); err == nil {
							t.Cleanup(func() { c.Close() })
						}
					}
				})
			}
			dialFrom(t, "127.0.0.3", addr)
			wg.Wait()
			waitFor(t, "the other client is handed out", func() bool { return s.OpenFrom(netip.MustParseAddr("127.0.0.3")) == 1 })
			waitFor(t, "the flood is refused", func() bool { return s.Refused() == n-5 })
			if got := s.OpenFrom(netip.MustParseAddr("127.0.0.2")); got != 5 {
				t.Errorf("OpenFrom(flooder) = %d, want 5", got)
			}
			if got := s.nAccepted(); got != 6 {
				t.Errorf("the server's loop got %d connections, want 6", got)
			}
		})
	}
}
