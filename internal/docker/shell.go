package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/container"

	"github.com/dockmap/dockmap/internal/topology"
)

// ErrNoShell says a container has neither bash nor sh to open a terminal
// with (a distroless or scratch image). Errors that wrap it also wrap
// topology.ErrConflict: the request is fine, the container cannot serve it.
var ErrNoShell = errors.New("no shell")

// shells are tried in this order; the first the container can run is the
// terminal's. Each is probed by running it with "-c :" (a no-op), which
// needs no other binary in the image.
var shells = []string{"bash", "sh"}

// Terminal size limits: what a browser window can plausibly show. The
// kernel takes a winsize of up to 65535 each way, but a process that sizes
// buffers by it (a full-screen program) would be asked for gigabytes.
const (
	MaxTermCols = 1000
	MaxTermRows = 500
)

// HangupWait is how long a shell is given to end after Hangup before its
// connection is dropped anyway.
const HangupWait = 2 * time.Second

// Shell is an interactive shell running in a container with a TTY, like
// `docker exec -it <container> bash`. Read gives what the terminal shows,
// Write types into it.
//
// # Concurrency
//
// One goroutine may Read while another Writes, Resizes or Closes.
type Shell struct {
	c      *Client
	execID string
	// Name is the shell that runs: "bash" or "sh".
	Name string
	att  types.HijackedResponse

	closeOnce sync.Once
}

// OpenShell starts bash, or sh when the image has no bash, in a running
// container with a TTY of cols×rows (clamped to 1..MaxTermCols and
// 1..MaxTermRows). argv is fixed: nothing the caller sends reaches a
// command line.
//
// Errors wrap ErrNotFound for no such container, ErrConflict with the
// engine's reason when it is not running (or paused, or restarting), and
// ErrNoShell when neither shell can start in it.
func (c *Client) OpenShell(ctx context.Context, containerID string, cols, rows int) (*Shell, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	step := "open a shell in container " + containerID
	name, err := c.ShellOf(ctx, containerID)
	if err != nil {
		return nil, err
	}
	created, err := c.api.ContainerExecCreate(ctx, containerID, container.ExecOptions{
		Cmd: []string{name}, Tty: true, AttachStdin: true, AttachStdout: true, AttachStderr: true,
		// The browser's terminal is an xterm; without TERM a shell and
		// its programs fall back to a dumb terminal (no line editing).
		Env: []string{"TERM=xterm"},
	})
	if err != nil {
		return nil, translate(step, err)
	}
	att, err := c.api.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{Tty: true})
	if err != nil {
		return nil, translate(step+": attach", err)
	}
	s := &Shell{c: c, execID: created.ID, Name: name, att: att}
	if err := s.Resize(ctx, cols, rows); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// ShellOf names the shell OpenShell would start in a running container:
// "bash", else "sh". Errors are OpenShell's.
func (c *Client) ShellOf(ctx context.Context, containerID string) (string, error) {
	for _, sh := range shells {
		res, err := c.Exec(ctx, containerID, []string{sh, "-c", ":"}, "")
		if err != nil {
			return "", err
		}
		// 126 and 127 are "cannot run it"; any other status is a shell
		// that ran (a profile may fail, the shell still works).
		if res.ExitCode != 126 && res.ExitCode != 127 {
			return sh, nil
		}
	}
	return "", fmt.Errorf("open a shell in container %s: %w: %w: neither bash nor sh is in its image", containerID, topology.ErrConflict, ErrNoShell)
}

// ClampTermSize brings a terminal size into 1..MaxTermCols ×
// 1..MaxTermRows.
func ClampTermSize(cols, rows int) (int, int) {
	return min(max(cols, 1), MaxTermCols), min(max(rows, 1), MaxTermRows)
}

// Read reads what the shell's terminal printed; io.EOF once the shell has
// exited (or Close was called).
func (s *Shell) Read(p []byte) (int, error) { return s.att.Reader.Read(p) }

// Write types p into the shell's terminal.
func (s *Shell) Write(p []byte) (int, error) { return s.att.Conn.Write(p) }

// Resize sets the terminal's size, clamped as OpenShell's. A shell that
// has just exited is not an error.
func (s *Shell) Resize(ctx context.Context, cols, rows int) error {
	cols, rows = ClampTermSize(cols, rows)
	err := s.c.api.ContainerExecResize(ctx, s.execID, container.ResizeOptions{Width: uint(cols), Height: uint(rows)})
	if err != nil {
		if running, _ := s.running(ctx); !running {
			return nil
		}
		return translate("resize the terminal", err)
	}
	return nil
}

// Exit returns the shell's exit status once it has exited; ok is false
// while it runs (or when the engine cannot tell).
func (s *Shell) Exit(ctx context.Context) (code int, ok bool) {
	insp, err := s.c.api.ContainerExecInspect(ctx, s.execID)
	if err != nil || insp.Running {
		return 0, false
	}
	return insp.ExitCode, true
}

func (s *Shell) running(ctx context.Context) (bool, error) {
	insp, err := s.c.api.ContainerExecInspect(ctx, s.execID)
	if err != nil {
		return false, err
	}
	return insp.Running, nil
}

// Hangup asks a shell that is still running to end, as closing a terminal
// window would: the engine keeps an exec running when its client goes
// (the daemon does not signal it), so Ctrl-C (ends a foreground command,
// clears the line) then Ctrl-D (end of input: the shell exits) are typed.
// A full-screen program in raw mode ignores them and is left running
// until the container stops; Exit then reports no status.
//
// Stdin is not closed instead: with a TTY the engine then cuts the output
// at once and leaves the shell running. The caller's Read sees io.EOF
// once the shell has exited; HangupWait bounds how long that is worth
// waiting for.
func (s *Shell) Hangup() {
	_ = s.att.Conn.SetWriteDeadline(time.Now().Add(HangupWait))
	_, _ = s.att.Conn.Write([]byte{0x03, 0x04})
}

// Close drops the connection to the shell; a shell still running is left
// to the engine (see Hangup).
func (s *Shell) Close() {
	s.closeOnce.Do(s.att.Close)
}

// SetReadDeadline bounds the next Read, so that a caller waiting for a
// shell that ignored Hangup is not held.
func (s *Shell) SetReadDeadline(t time.Time) error { return s.att.Conn.SetReadDeadline(t) }

// IsTimeout reports whether err is a read deadline passing.
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
