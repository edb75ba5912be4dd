package connlimit

import (
	"net"
	"testing"
)

// BenchmarkAcceptClose is one connection's whole life on loopback: dial,
// accept, close both ends, through a plain listener and through the caps.
// The difference is what the wrapper adds to each request's connection.
func BenchmarkAcceptClose(b *testing.B) {
	for _, tc := range []struct {
		name string
		wrap func(net.Listener) net.Listener
	}{
		{"plain", func(l net.Listener) net.Listener { return l }},
		{"connlimit", func(l net.Listener) net.Listener { return New(l, DefaultTotal(), DefaultPerClient) }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			l := tc.wrap(inner)
			defer l.Close()
			addr := l.Addr().String()
			for b.Loop() {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				s, err := l.Accept()
				if err != nil {
					b.Fatal(err)
				}
				s.Close()
				c.Close()
			}
		})
	}
}

// BenchmarkBookkeeping is the wrapper's own cost per connection, without
// the kernel: accept and close over an inner listener that hands out one
// ready-made connection. (A fake at the seam on purpose: over real sockets
// the kernel's work hides the few hundred nanoseconds measured here.)
func BenchmarkBookkeeping(b *testing.B) {
	b.ReportAllocs()
	a, peer := net.Pipe()
	defer peer.Close()
	l := New(&oneConn{c: nopClose{a}}, DefaultTotal(), DefaultPerClient)
	for b.Loop() {
		c, err := l.Accept()
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

// oneConn is a listener that hands out the same connection every time.
type oneConn struct {
	net.Listener
	c net.Conn
}

func (o *oneConn) Accept() (net.Conn, error) { return o.c, nil }

// nopClose keeps the shared connection open across the loop.
type nopClose struct{ net.Conn }

func (nopClose) Close() error { return nil }
