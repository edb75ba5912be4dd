package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/dockmap/dockmap/internal/topology"
)

// HelperLabel marks every container RunHelper and StartHelper make (value
// "1"), for people looking at the engine (`docker ps --filter
// label=dockmap.helper`). dockmap never reads it: anyone can set a label,
// so helpers are recognised otherwise (helper_hidden.go), and a user's
// container with this label is on the map like any other.
const HelperLabel = "dockmap.helper"

// maxExecOutput caps what Exec and RunHelper keep of each output stream.
// A probe prints a few lines; a runaway command must not fill memory, so
// the rest is read (the process must not block on a full pipe) and dropped.
const maxExecOutput = 64 << 10

// helperRemoveTimeout bounds the removal of a helper container. It runs on
// a context of its own so that a cancelled caller still leaves nothing
// behind.
const helperRemoveTimeout = 30 * time.Second

// ExecResult is what a command run in a container did.
type ExecResult struct {
	// ExitCode is the command's exit status. The engine reports a command
	// it could not start as 126 (not executable, or, on some engines, not
	// found) or 127 (not found), with its reason in Stdout or Stderr.
	ExitCode int
	// Stdout and Stderr are the command's output, each cut at 64 KiB.
	Stdout, Stderr string
}

// Exec runs argv in a running container, like `docker exec` without a TTY,
// as user ("" is the image's user, "0" is root), and returns its exit code
// and output once it has exited. argv is passed to the engine as an array
// and never through a shell.
//
// A command that cannot be started (missing binary) is not an error: its
// ExitCode is 126 or 127 and the engine's message is in the output. Exec
// returns an error wrapping topology.ErrConflict with the engine's message
// if the container is not running (or is paused, or restarting, or has a
// legacy link to a container that is not running), ErrNotFound if there is
// no such container, and ErrInvalid for an empty argv.
func (c *Client) Exec(ctx context.Context, containerID string, argv []string, user string) (ExecResult, error) {
	if err := c.ready(ctx); err != nil {
		return ExecResult{}, err
	}
	step := "exec in container " + containerID
	if len(argv) == 0 {
		return ExecResult{}, fmt.Errorf("%s: %w: empty command", step, topology.ErrInvalid)
	}
	created, err := c.api.ContainerExecCreate(ctx, containerID, container.ExecOptions{
		Cmd: argv, User: user, AttachStdout: true, AttachStderr: true,
	})
	if err != nil {
		return ExecResult{}, translate(step, err)
	}
	att, err := c.api.ContainerExecAttach(ctx, created.ID, container.ExecAttachOptions{})
	if err != nil {
		return ExecResult{}, translate(step, err)
	}
	defer att.Close()
	// The hijacked connection ignores ctx once established: close it on
	// cancel so that a command that never ends cannot hold the caller.
	stop := context.AfterFunc(ctx, att.Close)
	defer stop()

	stdout, stderr := &capBuffer{max: maxExecOutput}, &capBuffer{max: maxExecOutput}
	if _, err := stdcopy.StdCopy(stdout, stderr, att.Reader); err != nil {
		if ctx.Err() != nil {
			return ExecResult{}, fmt.Errorf("%s: %w", step, ctx.Err())
		}
		return ExecResult{}, translate(step+": read output", err)
	}
	// The engine records the exit code before it closes the stream, so
	// the inspect right after EOF sees it.
	insp, err := c.api.ContainerExecInspect(ctx, created.ID)
	if err != nil {
		return ExecResult{}, translate(step+": inspect", err)
	}
	return ExecResult{ExitCode: insp.ExitCode, Stdout: stdout.String(), Stderr: stderr.String()}, nil
}

// RunHelper runs a short-lived helper container from image in the network
// namespace of the running container donorID (`--network container:<donor>`)
// and returns its exit code and output. argv is the whole command line:
// argv[0] becomes the entrypoint and the rest its arguments.
//
// Sharing the donor's namespace also shares its /etc/hosts, resolv.conf
// and hostname, so the helper resolves names exactly as the donor does,
// legacy link names included. The helper is named
// "dockmap-helper-<random>", carries HelperLabel=1 plus labels, is left
// out of the map and the event feed from its create on, runs with a
// read-only root filesystem, no new privileges and every capability
// dropped but NET_RAW (enough to ping), and logs nothing to disk: its
// output is read from an attach made before it starts.
//
// The helper is removed on every path, a cancelled ctx included. RunHelper
// returns an error wrapping ErrNotFound if image or donorID does not exist
// and ErrConflict if the donor is not running.
func (c *Client) RunHelper(ctx context.Context, donorID, image string, argv []string, labels map[string]string) (ExecResult, error) {
	if err := c.ready(ctx); err != nil {
		return ExecResult{}, err
	}
	step := "run helper in " + shortID(donorID) + "'s network"
	if len(argv) == 0 {
		return ExecResult{}, fmt.Errorf("%s: %w: empty command", step, topology.ErrInvalid)
	}
	cfg, hc := helperConfig(donorID, image, argv, labels)
	hc.AutoRemove = false // removed below, after its exit code and output are read
	created, e, err := c.createHelper(ctx, cfg, hc, "")
	if err != nil {
		return ExecResult{}, translate(step+": create", err)
	}
	defer c.removeHelper(e)

	// Attach and wait are both registered before the start, so neither
	// the output nor the exit can be missed however fast the helper is.
	att, err := c.api.ContainerAttach(ctx, created.ID, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		return ExecResult{}, translate(step+": attach", err)
	}
	defer att.Close()
	stop := context.AfterFunc(ctx, att.Close)
	defer stop()
	// The SDK delivers the wait's outcome on an unbuffered channel from a
	// goroutine of its own: every path out of here cancels the wait and
	// takes that outcome, or that goroutine would block forever.
	wctx, wcancel := context.WithCancel(ctx)
	waitC, errC := c.api.ContainerWait(wctx, created.ID, container.WaitConditionNextExit)
	waited := false
	defer func() {
		wcancel()
		if !waited {
			select {
			case <-waitC:
			case <-errC:
			}
		}
	}()
	if err := c.api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		return ExecResult{}, translate(step+": start", err)
	}

	stdout, stderr := &capBuffer{max: maxExecOutput}, &capBuffer{max: maxExecOutput}
	if _, err := stdcopy.StdCopy(stdout, stderr, att.Reader); err != nil && ctx.Err() == nil {
		return ExecResult{}, translate(step+": read output", err)
	}
	select {
	case res := <-waitC:
		waited = true
		if res.Error != nil && res.Error.Message != "" {
			return ExecResult{}, fmt.Errorf("%s: wait: %s", step, res.Error.Message)
		}
		return ExecResult{ExitCode: int(res.StatusCode), Stdout: stdout.String(), Stderr: stderr.String()}, nil
	case err := <-errC:
		waited = true
		if ctx.Err() != nil {
			return ExecResult{}, fmt.Errorf("%s: %w", step, ctx.Err())
		}
		return ExecResult{}, translate(step+": wait", err)
	case <-ctx.Done():
		return ExecResult{}, fmt.Errorf("%s: %w", step, ctx.Err())
	}
}

// StartHelper starts a long-lived helper container from image in the
// network namespace of the running container donorID, confined like
// RunHelper's, and returns its ID without waiting: probes then run in it
// with Exec. argv should end by itself after a while (`dockmap probe
// --hold=5m`): the helper is made with AutoRemove, so the engine removes
// it when it exits even if dockmap is gone by then.
//
// A helper lives in the namespace its donor had when it started: if the
// donor restarts, the helper is left in an empty namespace and must be
// replaced (see ContainerStarted). StartHelper removes what it made if the
// start fails. Errors are those of RunHelper.
func (c *Client) StartHelper(ctx context.Context, donorID, image string, argv []string, labels map[string]string) (string, error) {
	if err := c.ready(ctx); err != nil {
		return "", err
	}
	step := "start helper in " + shortID(donorID) + "'s network"
	if len(argv) == 0 {
		return "", fmt.Errorf("%s: %w: empty command", step, topology.ErrInvalid)
	}
	cfg, hc := helperConfig(donorID, image, argv, labels)
	hc.AutoRemove = true
	created, e, err := c.createHelper(ctx, cfg, hc, "")
	if err != nil {
		return "", translate(step+": create", err)
	}
	if err := c.api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		c.removeHelper(e)
		return "", translate(step+": start", err)
	}
	return created.ID, nil
}

// StartHelperOutput is StartHelper for a helper whose argv first prints
// lines lines on its standard output and then keeps running (`dockmap
// probe --hold=5m TARGET...`): it attaches before the start, returns the
// helper's ID with those lines once they are read, and leaves it running.
// A sidecar started this way answers its first probes without an exec,
// which costs the engine about half a container start again. If the
// helper's output ends before the lines, it returns an error with what the
// helper printed (the engine removes the helper). Other errors are those
// of StartHelper.
func (c *Client) StartHelperOutput(ctx context.Context, donorID, image string, argv []string, labels map[string]string, lines int) (string, ExecResult, error) {
	if err := c.ready(ctx); err != nil {
		return "", ExecResult{}, err
	}
	step := "start helper in " + shortID(donorID) + "'s network"
	if len(argv) == 0 {
		return "", ExecResult{}, fmt.Errorf("%s: %w: empty command", step, topology.ErrInvalid)
	}
	cfg, hc := helperConfig(donorID, image, argv, labels)
	hc.AutoRemove = true
	created, e, err := c.createHelper(ctx, cfg, hc, "")
	if err != nil {
		return "", ExecResult{}, translate(step+": create", err)
	}
	att, err := c.api.ContainerAttach(ctx, created.ID, container.AttachOptions{Stream: true, Stdout: true, Stderr: true})
	if err != nil {
		c.removeHelper(e)
		return "", ExecResult{}, translate(step+": attach", err)
	}
	stop := context.AfterFunc(ctx, att.Close)
	defer stop()
	stdout := &lineBuffer{capBuffer: capBuffer{max: maxExecOutput}, want: lines, full: make(chan struct{})}
	stderr := &capBuffer{max: maxExecOutput}
	copied := make(chan error, 1)
	go func() {
		_, err := stdcopy.StdCopy(stdout, stderr, att.Reader)
		copied <- err
	}()
	if err := c.api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		att.Close()
		<-copied
		c.removeHelper(e)
		return "", ExecResult{}, translate(step+": start", err)
	}
	select {
	case <-stdout.full:
		// Detaching leaves the helper running: the engine keeps its
		// output, which nobody reads any more, in a pipe it drains.
		att.Close()
		<-copied
		return created.ID, ExecResult{Stdout: stdout.String(), Stderr: stderr.String()}, nil
	case err := <-copied:
		att.Close()
		c.removeHelper(e)
		if ctx.Err() != nil {
			return "", ExecResult{}, fmt.Errorf("%s: %w", step, ctx.Err())
		}
		if err != nil {
			return "", ExecResult{}, translate(step+": read output", err)
		}
		return "", ExecResult{}, fmt.Errorf("%s: the helper's output ended before its %d lines: %s", step, lines, strings.TrimSpace(stderr.String()+" "+stdout.String()))
	}
}

// lineBuffer is a capBuffer that closes full once it holds want lines.
type lineBuffer struct {
	capBuffer
	want, got int
	full      chan struct{}
}

func (b *lineBuffer) Write(p []byte) (int, error) {
	n, err := b.capBuffer.Write(p)
	if b.got < b.want {
		b.got += bytes.Count(p, []byte{'\n'})
		if b.got >= b.want {
			close(b.full)
		}
	}
	return n, err
}

// createHelper creates a helper container, recorded as one of this
// client's helpers from before the create (so that neither a list nor its
// create event can see it as the user's), under name ("" makes one up).
// If the engine has lost the helper image, it is made again by the next
// HelperImage.
func (c *Client) createHelper(ctx context.Context, cfg *container.Config, hc *container.HostConfig, name string) (container.CreateResponse, *helperEntry, error) {
	e := c.helpers.reserve(name)
	created, err := c.api.ContainerCreate(ctx, cfg, hc, nil, nil, e.name)
	if err != nil {
		c.helpers.removed(e)
		if cerrdefs.IsNotFound(err) && strings.Contains(strings.ToLower(err.Error()), "image") {
			c.forgetHelperImage(cfg.Image)
		}
		return container.CreateResponse{}, nil, err
	}
	c.helpers.created(e, created.ID)
	return created, e, nil
}

// RemoveHelper force-removes a helper container made by StartHelper. A
// helper that is already gone is not an error.
func (c *Client) RemoveHelper(ctx context.Context, id string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	err := translate("remove helper "+shortID(id), c.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true}))
	if errors.Is(err, topology.ErrNotFound) || (errors.Is(err, topology.ErrConflict) && strings.Contains(err.Error(), "already in progress")) {
		err = nil // gone, or AutoRemove is removing it
	}
	if err == nil {
		c.helpers.removedID(id)
	}
	return err
}

// ContainerStarted reports whether a container is running and when it
// last started; a restart changes the time. It returns an error wrapping
// ErrNotFound if there is no such container.
func (c *Client) ContainerStarted(ctx context.Context, id string) (running bool, startedAt time.Time, err error) {
	if err := c.ready(ctx); err != nil {
		return false, time.Time{}, err
	}
	info, err := c.api.ContainerInspect(ctx, id)
	if err != nil {
		return false, time.Time{}, translate("inspect container "+id, err)
	}
	if info.State == nil {
		return false, time.Time{}, nil
	}
	startedAt, _ = time.Parse(time.RFC3339Nano, info.State.StartedAt)
	return info.State.Running, startedAt, nil
}

// helperConfig is the container configuration of every helper: in the
// donor's network namespace, labelled, and allowed nothing but to send
// packets.
func helperConfig(donorID, image string, argv []string, labels map[string]string) (*container.Config, *container.HostConfig) {
	lbl := maps.Clone(labels)
	if lbl == nil {
		lbl = make(map[string]string, 1)
	}
	lbl[HelperLabel] = "1"
	cfg := &container.Config{
		Image: image, Entrypoint: argv[:1], Cmd: argv[1:], Labels: lbl,
		AttachStdout: true, AttachStderr: true,
	}
	hc := &container.HostConfig{
		NetworkMode:    container.NetworkMode("container:" + donorID),
		ReadonlyRootfs: true,
		CapDrop:        []string{"ALL"},
		CapAdd:         []string{"NET_RAW"},
		SecurityOpt:    []string{"no-new-privileges"},
		LogConfig:      container.LogConfig{Type: "none"},
	}
	return cfg, hc
}

// removeHelper force-removes a helper container on a context of its own.
// A failure here leaves a labelled container that nothing else would
// remove, so it is retried once; beyond that there is no caller that could
// do better with the error.
func (c *Client) removeHelper(e *helperEntry) {
	ctx, cancel := context.WithTimeout(context.Background(), helperRemoveTimeout)
	defer cancel()
	opts := container.RemoveOptions{Force: true}
	for range 2 {
		err := c.api.ContainerRemove(ctx, e.id, opts)
		if err == nil || errors.Is(translate("", err), topology.ErrNotFound) {
			c.helpers.removed(e)
			return
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// capBuffer keeps the first max bytes written to it and counts the rest
// as written, so a copy into it never fails for being full.
type capBuffer struct {
	max int
	buf []byte
}

func (b *capBuffer) Write(p []byte) (int, error) {
	if room := b.max - len(b.buf); room > 0 {
		b.buf = append(b.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (b *capBuffer) String() string { return string(b.buf) }

var _ io.Writer = (*capBuffer)(nil)
