package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/topology"
)

// LogReader opens a container's logs (*docker.Client). An Engine that is
// not one (a replay's) has no logs to give.
type LogReader interface {
	// ContainerLogs returns ErrNotFound for a container the engine does
	// not have.
	ContainerLogs(ctx context.Context, id string, o docker.LogOptions) (*docker.LogStream, error)
}

var _ LogReader = (*docker.Client)(nil)

// logsPath is the logs route: the table gives it its role (logsRole), and
// the page offers the Logs tab to whom that role lets in.
const logsPath = "/api/containers/:id/logs"

// logsRole is who may read logs: operators, and viewers too with
// --viewer-logs. Logs can hold secrets (a password echoed at start, a
// token in a URL), so a class does not see them unless asked.
func logsRole(viewers bool) auth.Role {
	if viewers {
		return auth.Viewer
	}
	return auth.Operator
}

const (
	// defaultLogTail is how many lines a read without since starts with,
	// as the page opens on the last screenfuls.
	defaultLogTail = 200
	// maxLogTail bounds what one read may ask for by count; "all" is
	// still there for whoever means it.
	maxLogTail = 1_000_000
	// logWriteWait is how long one write to a slow client may take: the
	// server's WriteTimeout would end a long stream, so each write gets
	// its own deadline instead.
	logWriteWait = 10 * time.Second
	// logHeartbeat keeps a quiet stream alive through proxies and finds a
	// client that went away while nothing was written.
	logHeartbeat = 15 * time.Second
	// logBuffer is how many lines wait between the engine and the client:
	// enough that a burst is written in one flush.
	logBuffer = 512
)

// logQuery is what a logs request asks for.
type logQuery struct {
	opts   docker.LogOptions
	follow bool
}

// parseLogQuery reads since, tail and follow. A follow that resumes
// (EventSource sends the last id it had as Last-Event-ID) starts at that
// line's time.
func parseLogQuery(c echo.Context, now time.Time) (logQuery, error) {
	q := c.QueryParams()
	var lq logQuery
	switch f := q.Get("follow"); f {
	case "", "0", "false":
	case "1", "true":
		lq.follow = true
	default:
		return lq, fmt.Errorf("%w: follow %q: want 1 or 0", topology.ErrInvalid, f)
	}
	since := q.Get("since")
	// An EventSource reconnects to the URL it began with: the last line
	// it had, not that URL's since, is where it is.
	if last := c.Request().Header.Get("Last-Event-ID"); last != "" && lq.follow {
		since = last
	}
	lq.opts.Tail = -1
	if since != "" {
		t, err := docker.ParseSince(since, now)
		if err != nil {
			return lq, err
		}
		lq.opts.Since = t
	} else {
		lq.opts.Tail = defaultLogTail
	}
	switch tail := q.Get("tail"); tail {
	case "":
	case "all":
		lq.opts.Tail = -1
	default:
		n, err := strconv.Atoi(tail)
		if err != nil || n < 0 || n > maxLogTail {
			return lq, fmt.Errorf("%w: tail %q: want a number of lines from 0 to %d, or all", topology.ErrInvalid, tail, maxLogTail)
		}
		lq.opts.Tail = n
	}
	lq.opts.Follow = lq.follow
	return lq, nil
}

// handleContainerLogs serves "GET /api/containers/:id/logs?since=&tail=&follow=1".
// Each line is {stream: "stdout"|"stderr", time: RFC 3339 with
// nanoseconds, text}. Without follow the answer is those lines as JSON
// lines (application/x-ndjson), the logs as they are now; with follow=1
// it is a Server-Sent Events stream: one "line" event per line, whose id
// is the line's time, so that an EventSource that reconnects resumes where
// it was (the line at exactly that time comes again: the page drops what
// it has), an "end" event when the container's logs end (it stopped), and
// a "fail" event ({error}) when reading them broke off.
// since is what `docker logs --since` takes; without it the last 200 lines
// (tail=N or all to change that).
// The stream ends when the client goes, and when closing closes (dockmap
// shuts down).
func handleContainerLogs(src LiveSource, eng Engine, closing <-chan struct{}) echo.HandlerFunc {
	return func(c echo.Context) error {
		logs, ok := eng.(LogReader)
		if !ok {
			return echo.NewHTTPError(http.StatusNotFound, "no container logs here: dockmap serves a recording")
		}
		ref, err := url.PathUnescape(c.Param("id"))
		if err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "bad container id")
		}
		// By full ID or exact name on the map, never by a prefix the
		// engine would take.
		n, err := src.Snapshot().Graph.ContainerByRef(ref)
		if err != nil {
			return err
		}
		lq, err := parseLogQuery(c, time.Now())
		if err != nil {
			return err
		}
		ctx, cancel := context.WithCancel(c.Request().Context())
		defer cancel()
		stream, err := logs.ContainerLogs(ctx, n.Container.ID, lq.opts)
		if err != nil {
			return err
		}
		defer stream.Close()
		w := newLogWriter(c, lq.follow)
		lines := make(chan docker.LogLine, logBuffer)
		var readErr error
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(lines)
			readErr = stream.Read(func(l docker.LogLine) error {
				select {
				case lines <- l:
					return nil
				case <-ctx.Done():
					return ctx.Err()
				}
			})
		}()
		// However the loop ends, the engine's stream is closed and its
		// reader has returned before the handler does.
		defer wg.Wait()
		defer stream.Close()
		defer cancel()

		heartbeat := time.NewTicker(logHeartbeat)
		defer heartbeat.Stop()
		if err := w.start(); err != nil {
			return nil
		}
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					wg.Wait()
					if readErr != nil && ctx.Err() == nil {
						w.fail(readErr)
					}
					w.end()
					return nil
				}
				if err := w.line(l); err != nil {
					return nil
				}
				// A burst goes out in one flush; the last line of it
				// without waiting for the next.
				if len(lines) == 0 {
					if err := w.flush(); err != nil {
						return nil
					}
				}
			case <-heartbeat.C:
				if err := w.ping(); err != nil {
					return nil
				}
			case <-ctx.Done():
				return nil
			case <-closing:
				return nil
			}
		}
	}
}

// logWriter writes log lines to the client as JSON lines or as
// Server-Sent Events, each write with its own deadline.
type logWriter struct {
	c   echo.Context
	rc  *http.ResponseController
	buf *bufio.Writer
	sse bool
	enc []byte
}

func newLogWriter(c echo.Context, sse bool) *logWriter {
	return &logWriter{c: c, rc: http.NewResponseController(c.Response()), buf: bufio.NewWriterSize(c.Response(), 32<<10), sse: sse}
}

// start sends the headers at once, so that the client knows the stream
// is open before the container writes anything.
func (w *logWriter) start() error {
	h := w.c.Response().Header()
	// Logs are as secret as the container makes them: kept by no cache.
	h.Set("Cache-Control", "no-store")
	if w.sse {
		h.Set(echo.HeaderContentType, "text/event-stream")
		// nginx and the like buffer a response unless told not to.
		h.Set("X-Accel-Buffering", "no")
	} else {
		h.Set(echo.HeaderContentType, "application/x-ndjson")
	}
	w.c.Response().WriteHeader(http.StatusOK)
	if w.sse {
		// The EventSource reconnects after a drop this fast; the page
		// closes it on "end".
		w.buf.WriteString("retry: 2000\n\n")
	}
	return w.flush()
}

func (w *logWriter) line(l docker.LogLine) error {
	w.deadline()
	var err error
	w.enc, err = json.Marshal(l)
	if err != nil {
		return err
	}
	if w.sse {
		// A line without the engine's timestamp (the rest of one cut at
		// docker.maxLogLine) keeps the last id: a resume from year 1
		// would be refused.
		if !l.Time.IsZero() {
			w.buf.WriteString("id: ")
			w.buf.WriteString(l.Time.Format(time.RFC3339Nano))
			w.buf.WriteString("\n")
		}
		w.buf.WriteString("event: line\ndata: ")
		w.buf.Write(w.enc)
		_, err = w.buf.WriteString("\n\n")
		return err
	}
	w.buf.Write(w.enc)
	return w.buf.WriteByte('\n')
}

func (w *logWriter) ping() error {
	if !w.sse {
		// JSON lines have no comments; a read without follow ends soon.
		return nil
	}
	w.deadline()
	w.buf.WriteString(": keep-alive\n\n")
	return w.flush()
}

// fail tells the client the read broke off after the headers went, when
// a status can no longer say so.
func (w *logWriter) fail(err error) {
	w.deadline()
	msg, _ := json.Marshal(map[string]string{"error": err.Error()})
	if w.sse {
		// Not "error": that is the name of EventSource's own event.
		w.buf.WriteString("event: fail\ndata: ")
		w.buf.Write(msg)
		w.buf.WriteString("\n\n")
	} else {
		w.buf.Write(msg)
		w.buf.WriteByte('\n')
	}
	w.flush()
}

// end says the logs ended: an EventSource would otherwise reconnect and
// read them again.
func (w *logWriter) end() {
	w.deadline()
	if w.sse {
		w.buf.WriteString("event: end\ndata: {}\n\n")
	}
	w.flush()
}

func (w *logWriter) flush() error {
	if err := w.buf.Flush(); err != nil {
		return err
	}
	if err := w.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
		return err
	}
	return nil
}

func (w *logWriter) deadline() {
	// Not every writer has deadlines (httptest's recorder); the server's
	// own WriteTimeout then stands.
	_ = w.rc.SetWriteDeadline(time.Now().Add(logWriteWait))
}
