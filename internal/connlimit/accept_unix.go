//go:build linux || freebsd || netbsd || openbsd || dragonfly || solaris || illumos

package connlimit

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"syscall"
)

// rawSocket returns inner's socket when Accept can take connections from
// it directly.
func rawSocket(inner net.Listener) syscall.RawConn {
	tl, ok := inner.(*net.TCPListener)
	if !ok {
		return nil
	}
	rc, err := tl.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// acceptRaw is Accept for a TCP socket. It takes connections through the
// inner listener as long as it admits them; once it refuses one, a flood
// may be queued behind it, and it drains the accept queue on the socket
// itself until the queue is empty: accept4(2) in a loop, the client read
// from what accept4 returns, and a refused connection closed with one more
// system call before Go ever wraps it (no poller registration, no
// allocation). That is what keeps the queue short under a flood: through
// the inner listener each refused connection cost a netFD, two epoll calls
// and several allocations, and on a busy machine the queue overflowed and
// the kernel dropped rightful clients' handshakes (each then waits a second
// to retransmit). Admitted connections found while draining become a
// net.Conn through net.FileConn, with the usual TCP settings; that costs a
// dup(2) and some, which is why draining is kept for floods.
func (l *Listener) acceptRaw() (net.Conn, error) {
	for {
		if l.draining.Load() {
			c, err := l.drain()
			if c != nil || err != nil {
				return c, err
			}
			l.draining.Store(false) // the queue is empty: back to normal
		}
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if c := l.admitConn(c); c != nil {
			return c, nil
		}
		l.draining.Store(true)
	}
}

// maxDrain is how many connections drain refuses before it lets go of the
// socket for a moment.
const maxDrain = 1024

// drain accepts from the socket until it finds a connection to admit
// (returned) or the queue is empty (nil, nil).
func (l *Listener) drain() (net.Conn, error) {
	var (
		nfd  = -1
		key  netip.Prefix
		aerr error
	)
	err := l.raw.Control(func(fd uintptr) {
		// A pause now and then, so that closing the listener is not held
		// up by a flood that never lets the queue empty.
		for range maxDrain {
			var sa syscall.Sockaddr
			nfd, sa, aerr = syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
			switch {
			case errors.Is(aerr, syscall.EINTR), errors.Is(aerr, syscall.ECONNABORTED):
				continue // the client gave up while queued: next
			case aerr != nil:
				return // EAGAIN: the queue is empty; or a real error
			}
			key = sockaddrClient(sa)
			if l.admit(key) {
				return
			}
			l.refused.Add(1)
			if l.reject != nil {
				// Non-blocking: a fresh socket's send buffer is empty,
				// so the answer goes out at once or not at all.
				_, _ = syscall.Write(nfd, l.reject)
			}
			_ = syscall.Close(nfd)
		}
		nfd, aerr = -1, syscall.EAGAIN
	})
	switch {
	case err != nil:
		return nil, err // the listener is closed
	case errors.Is(aerr, syscall.EAGAIN):
		return nil, nil
	case aerr != nil:
		// Out of descriptors, say: let the ordinary Accept meet it and
		// report it, as net/http expects from a listener.
		return nil, nil
	}
	f := os.NewFile(uintptr(nfd), "")
	c, err := net.FileConn(f) // a dup of the descriptor, set up as Accept would
	_ = f.Close()
	if err != nil {
		l.release(key)
		return nil, err
	}
	return &conn{Conn: c, l: l, key: key}, nil
}

// sockaddrClient is the client a peer address from accept4 belongs to.
func sockaddrClient(sa syscall.Sockaddr) netip.Prefix {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return clientKey(netip.AddrFrom4(a.Addr))
	case *syscall.SockaddrInet6:
		return clientKey(netip.AddrFrom16(a.Addr))
	}
	return netip.Prefix{}
}
