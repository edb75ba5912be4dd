package dockertest

import (
	"context"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy stands between dockmap and the engine socket so a test can cut the
// engine off and bring it back, and count the API calls dockmap makes. It
// exists because the shared engine itself must not be stopped: a proxy is the
// one seam where "engine down" and "stream cut" can be caused on purpose.
type Proxy struct {
	// Host is the address to give docker.WithHost.
	Host string

	rp    *httputil.ReverseProxy
	calls atomic.Int64

	mu      sync.Mutex // protects the fields below
	cut     bool
	cancels map[*http.Request]context.CancelFunc
	paths   []string
}

// StartProxy starts a proxy on a unix socket in a temp dir, forwarding to the
// engine named by DOCKER_HOST (default /var/run/docker.sock).
func StartProxy(t testing.TB) *Proxy {
	t.Helper()
	target := engineSocket()
	dir, err := os.MkdirTemp("", "dmproxy")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "d.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatalf("proxy listen: %v", err)
	}
	p := &Proxy{Host: "unix://" + sock, cancels: make(map[*http.Request]context.CancelFunc)}
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", target)
	}}
	p.rp = httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: "docker"})
	p.rp.Transport = tr
	p.rp.FlushInterval = -1 // stream events as they come
	srv := &http.Server{Handler: http.HandlerFunc(p.serve)}
	go srv.Serve(ln)
	t.Cleanup(func() {
		p.Cut()
		srv.Close()
		tr.CloseIdleConnections()
	})
	return p
}

func engineSocket() string {
	h := os.Getenv("DOCKER_HOST")
	if s, ok := strings.CutPrefix(h, "unix://"); ok {
		return s
	}
	return "/var/run/docker.sock"
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	p.mu.Lock()
	if p.cut {
		p.mu.Unlock()
		// Hijack and close: to the client this looks like a dead daemon.
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		http.Error(w, "cut", http.StatusBadGateway)
		return
	}
	r = r.WithContext(ctx)
	p.cancels[r] = cancel
	if r.URL.Path != "/_ping" {
		p.paths = append(p.paths, r.Method+" "+r.URL.Path)
	}
	p.mu.Unlock()
	p.calls.Add(1)
	defer func() {
		p.mu.Lock()
		delete(p.cancels, r)
		p.mu.Unlock()
	}()
	p.rp.ServeHTTP(w, r)
}

// Cut breaks every open request (the event stream included) and refuses new
// ones until Restore.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for _, cancel := range p.cancels {
		cancel()
	}
}

// Restore lets requests through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = false
}

// Calls is the number of requests forwarded so far.
func (p *Proxy) Calls() int64 { return p.calls.Load() }

// Paths returns "METHOD /path" of every forwarded request but pings, in order.
func (p *Proxy) Paths() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.paths...)
}
