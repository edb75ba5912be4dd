package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	timetypes "github.com/docker/docker/api/types/time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/dockmap/dockmap/internal/topology"
)

// Streams a log line comes from, as the engine names them.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// LogLine is one line a container wrote, without its newline.
type LogLine struct {
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
	Text   string    `json:"text"`
}

// LogOptions say which lines ContainerLogs reads.
type LogOptions struct {
	// Since leaves out the lines written before it (zero: none left out).
	// The engine keeps a line written at exactly Since, so that a reader
	// resuming from the last line it showed loses nothing that shares its
	// timestamp (and drops the one it already has).
	Since time.Time
	// Tail keeps only the last Tail lines of those; negative keeps all.
	Tail int
	// Follow keeps the stream open for the lines written from now on.
	Follow bool
}

// maxLogLine bounds what a line may hold in memory before it is handed
// on in pieces: a container writing without newlines must not grow a
// buffer without end.
const maxLogLine = 64 << 10

// ParseSince reads a `docker logs --since` value as the CLI does: an
// RFC 3339 time, Unix seconds (with an optional fraction) or a duration
// back from now ("10m"). A value the CLI would refuse, before the Unix
// epoch, or more than a minute after now (the engine would answer nothing
// while following for ever) wraps topology.ErrInvalid.
func ParseSince(value string, now time.Time) (time.Time, error) {
	ts, err := timetypes.GetTimestamp(value, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: since %q: want an RFC 3339 time, Unix seconds or a duration such as 10m", topology.ErrInvalid, value)
	}
	sec, nsec, err := timetypes.ParseTimestamps(ts, 0)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: since %q: want an RFC 3339 time, Unix seconds or a duration such as 10m", topology.ErrInvalid, value)
	}
	if sec < 0 || nsec < 0 {
		return time.Time{}, fmt.Errorf("%w: since %q is before 1970", topology.ErrInvalid, value)
	}
	t := time.Unix(sec, nsec).UTC()
	if t.After(now.Add(time.Minute)) {
		return time.Time{}, fmt.Errorf("%w: since %q is in the future", topology.ErrInvalid, value)
	}
	return t, nil
}

// LogStream is an open read of one container's logs. Read it once, and
// Close it when done; Close may be called from another goroutine to end a
// Read that follows.
type LogStream struct {
	body      io.ReadCloser
	tty       bool
	closeOnce sync.Once
	stop      func() bool
}

// ContainerLogs opens the logs of container id (a full ID or an exact
// name) with their timestamps. It returns ErrNotFound for a container the
// engine does not have. The stream ends when ctx does.
func (c *Client) ContainerLogs(ctx context.Context, id string, o LogOptions) (*LogStream, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	// A container with a TTY writes one raw stream, without the frames
	// that tell stdout from stderr: demultiplexing it would eat its text.
	info, err := c.api.ContainerInspect(ctx, id)
	if err != nil {
		return nil, translate("inspect container "+id, err)
	}
	opts := container.LogsOptions{ShowStdout: true, ShowStderr: true, Timestamps: true, Follow: o.Follow, Tail: "all"}
	if !o.Since.IsZero() {
		opts.Since = fmt.Sprintf("%d.%09d", o.Since.Unix(), o.Since.Nanosecond())
	}
	if o.Tail >= 0 {
		opts.Tail = strconv.Itoa(o.Tail)
	}
	body, err := c.api.ContainerLogs(ctx, info.ID, opts)
	if err != nil {
		return nil, translate("logs of container "+id, err)
	}
	s := &LogStream{body: body, tty: info.Config != nil && info.Config.Tty}
	// The SDK ends a body's read when its request's ctx ends only once
	// the transport notices; closing it makes sure a follow ends then.
	s.stop = context.AfterFunc(ctx, func() { s.Close() })
	return s, nil
}

// Close ends the stream; a Read in progress returns.
func (s *LogStream) Close() error {
	s.closeOnce.Do(func() {
		s.stop()
		s.body.Close()
	})
	return nil
}

// Read calls fn with each line, in the order the engine sends them, until
// the logs end (nil), fn returns an error (that error) or the stream is
// closed or fails. Lines of one stream keep their order; lines of
// stdout and stderr interleave as the engine's frames do.
func (s *LogStream) Read(fn func(LogLine) error) error {
	out := &lineWriter{stream: Stdout, emit: fn}
	errOut := &lineWriter{stream: Stderr, emit: fn}
	var err error
	if s.tty {
		_, err = io.Copy(out, s.body)
	} else {
		_, err = stdcopy.StdCopy(out, errOut, s.body)
	}
	var emitErr *emitError
	if errors.As(err, &emitErr) {
		return emitErr.err
	}
	if err != nil {
		return fmt.Errorf("read logs: %w", err)
	}
	// What the container wrote last without a newline is a line too.
	if err := out.rest(); err != nil {
		return err
	}
	return errOut.rest()
}

// emitError carries the callback's error through io.Copy and StdCopy, so
// that Read can tell it from a read error.
type emitError struct{ err error }

func (e *emitError) Error() string { return e.err.Error() }

// lineWriter cuts what one stream writes into lines, each starting with
// the timestamp the engine puts before it.
type lineWriter struct {
	stream string
	buf    []byte
	emit   func(LogLine) error
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	start := 0
	for {
		i := bytes.IndexByte(w.buf[start:], '\n')
		if i < 0 {
			break
		}
		if err := w.line(w.buf[start : start+i]); err != nil {
			return 0, &emitError{err}
		}
		start += i + 1
	}
	if len(w.buf)-start > maxLogLine {
		if err := w.line(w.buf[start:]); err != nil {
			return 0, &emitError{err}
		}
		start = len(w.buf)
	}
	w.buf = append(w.buf[:0], w.buf[start:]...)
	return len(p), nil
}

// rest hands on what is left without a newline.
func (w *lineWriter) rest() error {
	if len(w.buf) == 0 {
		return nil
	}
	err := w.line(w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *lineWriter) line(b []byte) error {
	// A TTY ends its lines with \r\n.
	b = bytes.TrimSuffix(b, []byte("\r"))
	l := LogLine{Stream: w.stream}
	ts, text, ok := bytes.Cut(b, []byte(" "))
	if t, err := time.Parse(time.RFC3339Nano, string(ts)); ok && err == nil {
		l.Time, l.Text = t, string(text)
	} else if err == nil {
		// The timestamp of an empty line has nothing after it.
		l.Time = t
	} else {
		l.Text = string(b)
	}
	return w.emit(l)
}
