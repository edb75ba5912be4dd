package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/dockmap/dockmap/internal/topology"
)

// ShareMount is one container's mount of the volume a share test runs on.
type ShareMount struct {
	ContainerID string `json:"containerId"`
	// Name is the container's name, for the results.
	Name string `json:"name"`
	// Destination is where the container mounts the volume.
	Destination string `json:"destination"`
	ReadOnly    bool   `json:"readOnly"`
	Running     bool   `json:"running"`
}

// ShareResult is one finding of a share test about one container.
type ShareResult struct {
	ContainerID string `json:"containerId"`
	Name        string `json:"name"`
	// Role is ShareWriter or ShareReader.
	Role string `json:"role"`
	// State is one of the Share* states below.
	State string `json:"state"`
	// Detail says what was run and what came of it.
	Detail string `json:"detail"`
}

// Share test roles and states.
const (
	ShareWriter = "writer"
	ShareReader = "reader"

	// ShareWritten: the writer wrote the marker.
	ShareWritten = "written"
	// ShareSeen and ShareNotSeen: a reader does or does not see the
	// writer's marker through its own mount.
	ShareSeen    = "seen"
	ShareNotSeen = "not-seen"
	// ShareReadOnly: a read-only mounter's write was refused, as it must be.
	ShareReadOnly = "read-only"
	// ShareWritable: a read-only mounter could write: a bug to report.
	ShareWritable = "writable"
	// ShareImpossible: the check could not run (container stopped, no
	// touch/ls in its image, exec refused).
	ShareImpossible = "impossible"
)

const (
	// shareMarkerPrefix starts the name of every file a share test writes.
	shareMarkerPrefix = ".dockmap-share-"
	// shareCleanupTimeout bounds the removal of the marker, which runs even
	// when the caller's context is cancelled.
	shareCleanupTimeout = 30 * time.Second
)

// ShareTest proves, live, who shares a volume: the first running container
// that mounts it read-write writes a unique marker file
// "<destination>/.dockmap-share-<random hex>" (exec `touch`, as root), then
// every other running mounter looks for it through its own mount (exec
// `ls`): ShareSeen or ShareNotSeen. A read-only mounter then also tries to
// write a probe file of its own (exec `touch`), which must fail with
// "Read-only file system" (ShareReadOnly); if it succeeds the result is
// ShareWritable and the probe is removed. So a read-only reader gives two
// results: first its read, then its write. Every command is an argv, never
// a shell string.
//
// mounts are the containers that mount volume and where, as the graph
// shows them. Each result is passed to progress (if not nil) as soon as it
// is known, and all are returned in that order. The marker is removed by
// the writer at the end (`rm -f`) on every path, a cancelled ctx included.
//
// A writer whose write fails is reported (ShareImpossible) and the next
// running read-write mounter tried. ShareTest returns an error wrapping
// topology.ErrConflict if no running container mounts the volume
// read-write, ErrInvalid for a destination that is not an absolute path,
// and ctx's error, with the results so far, if ctx ends.
func (c *Client) ShareTest(ctx context.Context, volume string, mounts []ShareMount, progress func(ShareResult)) ([]ShareResult, error) {
	step := "test sharing of volume " + volume
	for _, m := range mounts {
		if m.ContainerID == "" || !path.IsAbs(m.Destination) {
			return nil, fmt.Errorf("%s: %w: mount of %q at %q: need a container and an absolute destination",
				step, topology.ErrInvalid, m.Name, m.Destination)
		}
	}
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	writers := 0
	for _, m := range mounts {
		if m.Running && !m.ReadOnly {
			writers++
		}
	}
	if writers == 0 {
		return nil, fmt.Errorf("%s: %w: no running container mounts it read-write", step, topology.ErrConflict)
	}
	token, err := shareToken()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", step, err)
	}
	st := &shareRun{c: c, progress: progress}
	if st.progress == nil {
		st.progress = func(ShareResult) {}
	}

	// Write the marker from the first running read-write mounter that can.
	writer := -1
	var marker string
	for i, m := range mounts {
		if !m.Running || m.ReadOnly {
			continue
		}
		p := path.Join(m.Destination, shareMarkerPrefix+token)
		res, err := c.Exec(ctx, m.ContainerID, []string{"touch", p}, "0")
		if ctx.Err() != nil {
			return st.results, fmt.Errorf("%s: %w", step, ctx.Err())
		}
		state, detail := ShareWritten, "wrote "+p
		switch {
		case err != nil:
			state, detail = ShareImpossible, err.Error()
		case noTool(res.ExitCode):
			state, detail = ShareImpossible, "no touch in the container: "+execMessage(res)
		case res.ExitCode != 0:
			state, detail = ShareImpossible, "could not write "+p+": "+execMessage(res)
		}
		st.add(m, ShareWriter, state, detail)
		if state == ShareWritten {
			writer, marker = i, p
			break
		}
	}
	if writer < 0 {
		// Nobody could write: the readers cannot be tested.
		for _, m := range mounts {
			if m.Running && !m.ReadOnly {
				continue // already reported as a writer that failed
			}
			st.add(m, ShareReader, ShareImpossible, "no container could write the marker")
		}
		return st.results, nil
	}
	w := mounts[writer]
	defer func() {
		// The marker goes on every path, even when the caller has gone.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shareCleanupTimeout)
		defer cancel()
		_, _ = c.Exec(cctx, w.ContainerID, []string{"rm", "-f", marker}, "0")
	}()

	for i, m := range mounts {
		if i == writer {
			continue
		}
		if m.Running && !m.ReadOnly && i < writer {
			continue // a writer that failed, already reported
		}
		if !m.Running {
			st.add(m, ShareReader, ShareImpossible, "not running")
			continue
		}
		if err := st.read(ctx, m, token); err != nil {
			return st.results, fmt.Errorf("%s: %w", step, err)
		}
		if m.ReadOnly {
			if err := st.writeProbe(ctx, m, token); err != nil {
				return st.results, fmt.Errorf("%s: %w", step, err)
			}
		}
	}
	return st.results, nil
}

// shareRun collects the results of one share test.
type shareRun struct {
	c        *Client
	progress func(ShareResult)
	results  []ShareResult
}

func (s *shareRun) add(m ShareMount, role, state, detail string) {
	r := ShareResult{ContainerID: m.ContainerID, Name: m.Name, Role: role, State: state, Detail: detail}
	s.results = append(s.results, r)
	s.progress(r)
}

// read looks for the marker through m's own mount. It returns an error
// only when ctx ends.
func (s *shareRun) read(ctx context.Context, m ShareMount, token string) error {
	p := path.Join(m.Destination, shareMarkerPrefix+token)
	res, err := s.c.Exec(ctx, m.ContainerID, []string{"ls", p}, "0")
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch {
	case err != nil:
		s.add(m, ShareReader, ShareImpossible, err.Error())
	case noTool(res.ExitCode):
		s.add(m, ShareReader, ShareImpossible, "no ls in the container: "+execMessage(res))
	case res.ExitCode == 0:
		s.add(m, ShareReader, ShareSeen, "sees "+p)
	default:
		s.add(m, ShareReader, ShareNotSeen, "does not see "+p+": "+execMessage(res))
	}
	return nil
}

// writeProbe tries to write a probe file through m's read-only mount,
// which must fail; a probe that was written is removed. It returns an
// error only when ctx ends.
func (s *shareRun) writeProbe(ctx context.Context, m ShareMount, token string) error {
	p := path.Join(m.Destination, shareMarkerPrefix+token+"-probe")
	res, err := s.c.Exec(ctx, m.ContainerID, []string{"touch", p}, "0")
	if ctx.Err() != nil {
		return ctx.Err()
	}
	switch {
	case err != nil:
		s.add(m, ShareReader, ShareImpossible, err.Error())
	case noTool(res.ExitCode):
		s.add(m, ShareReader, ShareImpossible, "no touch in the container: "+execMessage(res))
	case res.ExitCode == 0:
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shareCleanupTimeout)
		defer cancel()
		_, _ = s.c.Exec(cctx, m.ContainerID, []string{"rm", "-f", p}, "0")
		s.add(m, ShareReader, ShareWritable, "could write "+p+" through a read-only mount (removed)")
	default:
		s.add(m, ShareReader, ShareReadOnly, "write refused: "+execMessage(res))
	}
	return nil
}

// noTool reports whether an exit code means the command could not be
// started: 126 (not executable) or 127 (not found).
func noTool(code int) bool { return code == 126 || code == 127 }

// execMessage is the gist of what a command printed.
func execMessage(res ExecResult) string {
	msg := strings.TrimSpace(res.Stderr)
	if msg == "" {
		msg = strings.TrimSpace(res.Stdout)
	}
	if msg == "" {
		msg = fmt.Sprintf("exit code %d", res.ExitCode)
	}
	return msg
}

// shareToken is the random part of a marker's name.
func shareToken() (string, error) {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		return "", errors.New("draw a marker name: " + err.Error())
	}
	return hex.EncodeToString(b), nil
}
