package docker

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
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
			tr := &http.Transport{MaxIdleConns: 6, IdleConnTimeout: 30 * time.Second,
				DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return dialCommand(ctx, "ssh", args...) }}
			if err := client.WithHTTPClient(&http.Client{Transport: tr})(c); err != nil {
				return err
			}
			// The URL only names the requests: the dialer ignores it.
			return client.WithHost("http://docker.example.com")(c)
		})
	}
}

// commandConn is a command's standard input and output as a connection.
type commandConn struct {
	cmd       *exec.Cmd
	in        io.WriteCloser
	out       io.ReadCloser
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
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("connection refused: start %s: %w", name, err)
	}
	return &commandConn{cmd: cmd, in: in, out: out}, nil
}

func (c *commandConn) Read(p []byte) (int, error)  { return c.out.Read(p) }
func (c *commandConn) Write(p []byte) (int, error) { return c.in.Write(p) }
func (c *commandConn) Close() error {
	c.closeOnce.Do(func() {
		c.in.Close()
		c.out.Close()
		if c.cmd.Process != nil {
			_ = c.cmd.Process.Kill()
		}
		_ = c.cmd.Wait()
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
