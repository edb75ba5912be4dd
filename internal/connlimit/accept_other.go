//go:build !(linux || freebsd || netbsd || openbsd || dragonfly || solaris || illumos)

package connlimit

import (
	"net"
	"syscall"
)

// rawSocket: Accept takes connections through the inner listener here.
func rawSocket(net.Listener) syscall.RawConn { return nil }

func (l *Listener) acceptRaw() (net.Conn, error) { panic("connlimit: no raw accept on this platform") }
