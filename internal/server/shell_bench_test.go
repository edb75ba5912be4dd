package server_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// BenchmarkShellRoundTrip measures a key's round trip through a terminal
// as the page has it: one byte sent on the WebSocket of GET
// /api/containers/:id/shell (the whole server, its auth included), typed
// into cat in a running container whose TTY is raw, and back as one
// byte of output. One byte is in flight at a time; ns/op is the time from
// the write to the echo's arrival.
func BenchmarkShellRoundTrip(b *testing.B) {
	s := startShellServer(b)
	web := dockertest.UniqueName(b, "web")
	dockertest.RunContainer(b, s.c, dockertest.WithName(web))
	tm, code, body := s.dialShell(b, web, s.op, "")
	if tm == nil {
		b.Fatalf("shell: %d %s", code, body)
	}
	// Raw and without echo, so that each byte comes back once, from cat.
	mark := tm.out.Len()
	tm.typeIn("busybox stty raw -echo; echo cat-ready; cat\n")
	tm.waitOutput(mark, "cat-ready\n")
	mark = tm.out.Len()
	tm.typeIn("!")
	tm.waitOutput(mark, "!")

	key := []byte{'k'}
	b.ResetTimer()
	for range b.N {
		if err := tm.conn.WriteMessage(websocket.BinaryMessage, key); err != nil {
			b.Fatal(err)
		}
		for {
			_ = tm.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
			typ, data, err := tm.conn.ReadMessage()
			if err != nil {
				b.Fatalf("read the echo: %v", err)
			}
			if typ == websocket.BinaryMessage && bytes.IndexByte(data, 'k') >= 0 {
				break
			}
		}
	}
	b.StopTimer()
	tm.typeIn("\x03exit\n")
}
