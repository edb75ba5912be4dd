package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/dockmap/dockmap/internal/dockertest"
)

// clientsEnv makes the test binary a crowd of WebSocket clients instead of
// running tests (see TestMain): BenchmarkClientMemory needs its clients in
// another process, or their own buffers and goroutines would be counted as
// the server's.
const clientsEnv = "DOCKMAP_BENCH_CLIENTS"

func TestMain(m *testing.M) {
	if spec := os.Getenv(clientsEnv); spec != "" {
		os.Exit(runClients(spec))
	}
	os.Exit(dockertest.Main(m))
}

// browserDialer dials as a browser does: Chromium and Firefox always
// offer permessage-deflate, and what a connection costs the server
// depends on whether it was agreed.
var browserDialer = &websocket.Dialer{EnableCompression: true, HandshakeTimeout: 45 * time.Second, Proxy: http.ProxyFromEnvironment}

// runClients connects n clients to the base URL in spec ("n base"), reads
// each one's snapshot, says "ready" on stdout and holds the connections
// until stdin closes.
func runClients(spec string) int {
	nText, base, _ := strings.Cut(spec, " ")
	n, err := strconv.Atoi(nText)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad", clientsEnv, spec)
		return 2
	}
	conns := make([]*websocket.Conn, 0, n)
	for range n {
		conn, _, err := browserDialer.Dial("ws"+strings.TrimPrefix(base, "http")+"/live", http.Header{"Origin": {base}})
		if err != nil {
			fmt.Fprintln(os.Stderr, "dial:", err)
			return 1
		}
		_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		if _, _, err := conn.ReadMessage(); err != nil {
			fmt.Fprintln(os.Stderr, "snapshot:", err)
			return 1
		}
		_ = conn.SetReadDeadline(time.Time{})
		conns = append(conns, conn)
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	for _, c := range conns {
		c.Close()
	}
	return 0
}

// BenchmarkClientMemory measures what one watching browser costs the
// server (DESIGN.md budgets 40 KB per client): the growth of the live heap
// and of goroutine stacks while 500 clients of another process hold a
// connection, divided among them. Run it with -benchtime=1x or 3x.
func BenchmarkClientMemory(b *testing.B) {
	const clients = 500
	ts, _ := startSynced(b)
	for b.Loop() {
		idle := memInUse()
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d %s", clientsEnv, clients, ts.URL))
		cmd.Stderr = os.Stderr
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
			b.Fatalf("clients: %q, %v", line, err)
		}
		dockertest.WaitFor(b, 30*time.Second, func() (bool, string) {
			return ts.Hub.Len() == clients, fmt.Sprintf("%d of %d subscribed", ts.Hub.Len(), clients)
		})
		held := memInUse()
		b.ReportMetric(float64(held-idle)/clients, "B/client")
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			b.Fatalf("clients: %v", err)
		}
		dockertest.WaitFor(b, 30*time.Second, func() (bool, string) {
			return ts.Hub.Len() == 0, fmt.Sprintf("%d still subscribed", ts.Hub.Len())
		})
	}
}

// memInUse is the live heap plus goroutine stacks after a full collection.
func memInUse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc + m.StackInuse)
}
