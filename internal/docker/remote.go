package docker

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/client"
	"github.com/docker/go-connections/tlsconfig"
)

// WithTLSFiles talks TLS with the client material of a docker CLI
// context (any file may be "": a CA only, or a client certificate only)
// instead of DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as the CLI does for
// a context. Give it before WithHost.
func WithTLSFiles(ca, cert, key string, skipVerify bool) Option {
	return func(o *options) {
		o.copts = append(o.copts, func(c *client.Client) error {
			cfg, err := tlsconfig.Client(tlsconfig.Options{
				CAFile: ca, CertFile: cert, KeyFile: key,
				InsecureSkipVerify: skipVerify, ExclusiveRootPools: true,
			})
			if err != nil {
				return fmt.Errorf("TLS files of the context: %w", err)
			}
			// A transport of its own: the environment's TLS (FromEnv)
			// belongs to the default engine, not to this one.
			tr := &http.Transport{TLSClientConfig: cfg, MaxIdleConns: 6, IdleConnTimeout: 30 * time.Second}
			return client.WithHTTPClient(&http.Client{Transport: tr})(c)
		})
	}
}

// WithSSH reaches the engine at sshURL (ssh://[user@]host[:port]) the
// way the docker CLI does (docker/cli cli/connhelper): each connection is
// `ssh … docker system dial-stdio` on the remote host, whose standard
// input and output carry the API. ssh's own configuration and agent give
// the credentials; dockmap never sees them.
func WithSSH(sshURL string) Option {
	return func(o *options) {
		o.copts = append(o.copts, func(c *client.Client) error {
			u, err := url.Parse(sshURL)
			if err != nil || u.Scheme != "ssh" || u.Hostname() == "" {
				return fmt.Errorf("ssh address %q: want ssh://[user@]host[:port]", sshURL)
			}
			if u.Path != "" && u.Path != "/" {
				return fmt.Errorf("ssh address %q: a path is not supported", sshURL)
			}
			args := []string{"-o", "ConnectTimeout=10", "-o", "BatchMode=yes"}
			if u.User != nil {
				args = append(args, "-l", u.User.Username())
			}
			if p := u.Port(); p != "" {
				args = append(args, "-p", p)
			}
			args = append(args, "--", u.Hostname(), "docker", "system", "dial-stdio")
			// The URL only names the requests: the dialer ignores it. The
			// host goes first, since it sets a dialer of its own.
			if err := client.WithHost("http://docker.example.com")(c); err != nil {
				return err
			}
			tr := &http.Transport{MaxIdleConns: 6, IdleConnTimeout: 30 * time.Second,
				DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return dialCommand(ctx, "ssh", args...) }}
			return client.WithHTTPClient(&http.Client{Transport: tr})(c)
		})
	}
}

// commandConn is a command's standard input and output as a connection.
type commandConn struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	// out is a pipe of our own rather than cmd.StdoutPipe: Wait closes
	// that one, and runs as soon as the command exits, which would lose
	// what is left to read.
	out       *os.File
	stderr    tailBuffer
	exited    chan struct{}
	closeOnce sync.Once
}

// dialCommand starts the command; ctx bounds the start only, the
// connection lives until Close.
func dialCommand(ctx context.Context, name string, args ...string) (net.Conn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := exec.Command(name, args...)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	c := &commandConn{cmd: cmd, in: in, out: r, exited: make(chan struct{})}
	cmd.Stdout = w
	cmd.Stderr = &c.stderr
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		// Worded as a refused dial so that translate takes it for an
		// engine out of reach (no ssh here), which the live loop retries.
		return nil, fmt.Errorf("connection refused: start %s: %w", name, err)
	}
	w.Close()
	go func() {
		_ = cmd.Wait()
		close(c.exited)
	}()
	return c, nil
}

func (c *commandConn) Read(p []byte) (int, error) {
	n, err := c.out.Read(p)
	return n, c.why(err)
}

func (c *commandConn) Write(p []byte) (int, error) {
	n, err := c.in.Write(p)
	return n, c.why(err)
}

// why adds to a failed read or write what the command wrote to its
// standard error once it has ended ("Permission denied (publickey)"):
// the reason the engine is down.
func (c *commandConn) why(err error) error {
	if err == nil {
		return nil
	}
	select {
	case <-c.exited:
	case <-time.After(time.Second):
	}
	if msg := c.stderr.String(); msg != "" {
		return fmt.Errorf("%w (%s said: %s)", err, filepath.Base(c.cmd.Path), msg)
	}
	return err
}

func (c *commandConn) Close() error {
	c.closeOnce.Do(func() {
		c.in.Close()
		_ = c.cmd.Process.Kill()
		<-c.exited
		c.out.Close()
	})
	return nil
}
func (c *commandConn) LocalAddr() net.Addr  { return dummyAddr{} }
func (c *commandConn) RemoteAddr() net.Addr { return dummyAddr{} }

// Deadlines are not supported by pipes; the HTTP client closes the
// connection when a request's context ends, which ends the command.
func (c *commandConn) SetDeadline(time.Time) error      { return nil }
func (c *commandConn) SetReadDeadline(time.Time) error  { return nil }
func (c *commandConn) SetWriteDeadline(time.Time) error { return nil }

type dummyAddr struct{}

func (dummyAddr) Network() string { return "command" }
func (dummyAddr) String() string  { return "ssh" }

// tailBuffer keeps the last bytes a command writes, safe for the command's
// copying goroutine and a reader at once.
type tailBuffer struct {
	mu sync.Mutex
	b  []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > 512 {
		t.b = t.b[len(t.b)-512:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}
