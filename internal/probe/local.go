package probe

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// Local probes target from the network namespace this process runs in.
// It is what `dockmap probe` runs inside a helper container, where that
// namespace, /etc/hosts and /etc/resolv.conf are the source container's.
//
// A name is resolved with Go's own resolver, which reads /etc/hosts and
// /etc/resolv.conf as the container's C library would; an IPv4 address is
// preferred. Then one ICMP echo is sent, or, when port is not 0, a TCP
// connection is opened and closed. Each step waits at most timeout.
//
// When names is not nil, target names a container (its name or an
// alias), and names says this namespace cannot resolve it (see
// Names.Unresolvable), the probe fails at once with FailName instead of
// asking the source's resolvers, which do not know containers.
//
// ICMP uses an unprivileged "ping socket", which Docker allows in every
// container's namespace (net.ipv4.ping_group_range), and falls back to a
// raw socket, which needs CAP_NET_RAW.
func Local(ctx context.Context, target string, port int, timeout time.Duration, names *Names) Line {
	l := Line{Target: target}
	ip := net.ParseIP(target)
	if ip == nil && names != nil {
		if why := names.Unresolvable(target); why != "" {
			l.Failure, l.Detail = FailName, why
			return l
		}
	}
	if ip == nil {
		var err error
		if ip, err = resolve(ctx, target, timeout); err != nil {
			l.Failure, l.Detail = FailName, err.Error()
			if ctx.Err() != nil {
				l.Failure = FailImpossible
			}
			return l
		}
	}
	l.Resolved = ip.String()
	var (
		rtt time.Duration
		err error
	)
	if port != 0 {
		rtt, err = connect(ctx, ip, port, timeout)
	} else {
		rtt, err = echo(ctx, ip, timeout)
	}
	if err != nil {
		l.Failure, l.Detail = classify(ctx, err), err.Error()
		return l
	}
	l.OK = true
	l.RTTms = math.Round(float64(rtt.Nanoseconds())/1e3) / 1e3
	if port != 0 {
		l.Detail = fmt.Sprintf("connected to %s in %.3f ms", net.JoinHostPort(l.Resolved, strconv.Itoa(port)), l.RTTms)
	} else {
		l.Detail = fmt.Sprintf("reply from %s in %.3f ms", l.Resolved, l.RTTms)
	}
	return l
}

// resolve looks name up with the pure-Go resolver, an IPv4 address
// first and an IPv6 one only when there is none. Asking for both at once
// doubles the queries, and a matrix on a user network sends hundreds at
// once to Docker's embedded DNS, which answers them inside dockerd, on
// the cores the engine needs for the probes' execs.
func resolve(ctx context.Context, name string, timeout time.Duration) (net.IP, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	r := &net.Resolver{PreferGo: true}
	ips, err := r.LookupIP(ctx, "ip4", name)
	var dns *net.DNSError
	if err != nil && errors.As(err, &dns) && dns.IsNotFound && ctx.Err() == nil {
		ips, err = r.LookupIP(ctx, "ip6", name)
	}
	if err != nil {
		return nil, err
	}
	return ips[0], nil
}

// errTimeout is what a probe that got no answer reports.
type errTimeout struct {
	what string
	d    time.Duration
}

func (e errTimeout) Error() string { return fmt.Sprintf("no %s within %v", e.what, e.d) }

// errUnreachable is an ICMP "destination unreachable" about our packet.
type errUnreachable struct{ dst, from string }

func (e errUnreachable) Error() string {
	return fmt.Sprintf("%s: destination unreachable (reported by %s)", e.dst, e.from)
}

// classify maps a probe error to a failure kind.
func classify(ctx context.Context, err error) string {
	var (
		to  errTimeout
		un  errUnreachable
		ne  net.Error
		dns *net.DNSError
	)
	switch {
	case ctx.Err() != nil:
		return FailImpossible
	case errors.As(err, &to):
		return FailTimeout
	case errors.As(err, &un), errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return FailNoRoute
	case errors.Is(err, syscall.ECONNREFUSED):
		return FailRefused
	case errors.As(err, &dns):
		return FailName
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return FailTimeout
	}
	return FailImpossible
}

// connect opens a TCP connection to ip:port and returns how long that took.
func connect(ctx context.Context, ip net.IP, port int, timeout time.Duration) (time.Duration, error) {
	d := net.Dialer{Timeout: timeout}
	start := time.Now()
	c, err := d.DialContext(ctx, "tcp", net.JoinHostPort(ip.String(), strconv.Itoa(port)))
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && ctx.Err() == nil {
			return 0, errTimeout{"connection to " + net.JoinHostPort(ip.String(), strconv.Itoa(port)), timeout}
		}
		return 0, err
	}
	rtt := time.Since(start)
	_ = c.Close()
	return rtt, nil
}

// icmpFamily holds what differs between ICMPv4 and ICMPv6.
type icmpFamily struct {
	dgram, raw         string // networks for icmp.ListenPacket
	listen             string
	proto              int
	request, reply     icmp.Type
	unreachable        icmp.Type
	dstOffset, hdrSize func(b []byte) int // in an unreachable's quoted packet
}

var (
	family4 = icmpFamily{
		dgram: "udp4", raw: "ip4:icmp", listen: "0.0.0.0", proto: 1,
		request: ipv4.ICMPTypeEcho, reply: ipv4.ICMPTypeEchoReply, unreachable: ipv4.ICMPTypeDestinationUnreachable,
		dstOffset: func([]byte) int { return 16 },
		hdrSize:   func(b []byte) int { return int(b[0]&0x0f) * 4 },
	}
	family6 = icmpFamily{
		dgram: "udp6", raw: "ip6:ipv6-icmp", listen: "::", proto: 58,
		request: ipv6.ICMPTypeEchoRequest, reply: ipv6.ICMPTypeEchoReply, unreachable: ipv6.ICMPTypeDestinationUnreachable,
		dstOffset: func([]byte) int { return 24 },
		hdrSize:   func([]byte) int { return 40 },
	}
)

// echo sends one ICMP echo request to ip and waits up to timeout for the
// matching reply.
func echo(ctx context.Context, ip net.IP, timeout time.Duration) (time.Duration, error) {
	fam, ipLen := family4, net.IPv4len
	if ip.To4() == nil {
		fam, ipLen = family6, net.IPv6len
	} else {
		ip = ip.To4()
	}
	conn, err := icmp.ListenPacket(fam.dgram, fam.listen)
	raw := false
	if err != nil {
		var rerr error
		if conn, rerr = icmp.ListenPacket(fam.raw, fam.listen); rerr != nil {
			return 0, fmt.Errorf("open ICMP socket: %w (raw socket: %v)", err, rerr)
		}
		raw = true
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()

	// A ping socket replaces the ID with its own port, and a raw socket
	// sees every ICMP packet of the namespace, so replies are matched by
	// sequence number and a random payload, not by ID.
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	id, seq := int(binary.BigEndian.Uint16(nonce[:2])), int(binary.BigEndian.Uint16(nonce[2:4]))
	msg := icmp.Message{Type: fam.request, Body: &icmp.Echo{ID: id, Seq: seq, Data: nonce[:]}}
	b, err := msg.Marshal(nil) // the kernel fills in the ICMPv6 checksum
	if err != nil {
		return 0, fmt.Errorf("build ICMP echo: %w", err)
	}
	var dst net.Addr = &net.UDPAddr{IP: ip}
	if raw {
		dst = &net.IPAddr{IP: ip}
	}
	if err := conn.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return 0, err
	}
	start := time.Now()
	if _, err := conn.WriteTo(b, dst); err != nil {
		return 0, err
	}
	buf := make([]byte, 1500)
	for {
		n, peer, err := conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil {
				return 0, errTimeout{"echo reply from " + ip.String(), timeout}
			}
			return 0, err
		}
		rtt := time.Since(start)
		m, err := icmp.ParseMessage(fam.proto, buf[:n])
		if err != nil {
			continue
		}
		switch m.Type {
		case fam.reply:
			e, ok := m.Body.(*icmp.Echo)
			if ok && e.Seq == seq && bytes.Equal(e.Data, nonce[:]) {
				return rtt, nil
			}
		case fam.unreachable:
			// The message quotes the start of our packet: its destination
			// and the echo's sequence number tell it apart from others.
			du, ok := m.Body.(*icmp.DstUnreach)
			if !ok || len(du.Data) < 1 {
				continue
			}
			q := du.Data
			off, hdr := fam.dstOffset(q), fam.hdrSize(q)
			if len(q) >= hdr+8 && len(q) >= off+ipLen && net.IP(q[off:off+ipLen]).Equal(ip) &&
				int(binary.BigEndian.Uint16(q[hdr+6:hdr+8])) == seq {
				return 0, errUnreachable{dst: ip.String(), from: peer.String()}
			}
		}
	}
}
