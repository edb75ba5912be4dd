package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/auth"
	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/timeline"
	"github.com/dockmap/dockmap/internal/topology"
)

// Replay says that dockmap serves a recorded session instead of an engine
// (dockmap --replay): the map is the recording's, and nothing can be
// changed.
type Replay struct {
	// File is the recording's file as given on the command line.
	File string
}

// handleTimeline serves "GET /api/timeline[?from=&to=]": what the
// recording holds and one mark per frame for the scrubber, the latest
// timeline.DefaultMarks of them between from and to (RFC 3339 times);
// audit marks only for operators.
func handleTimeline(rec *timeline.Recorder) echo.HandlerFunc {
	return func(c echo.Context) error {
		from, err := timeParam(c, "from", false)
		if err != nil {
			return err
		}
		to, err := timeParam(c, "to", false)
		if err != nil {
			return err
		}
		noStore(c)
		return c.JSON(http.StatusOK, rec.Summary(roleOf(c) == auth.Operator, from, to, 0))
	}
}

// handleTimelineAt serves "GET /api/timeline/at?t=": the map as it was at
// t, in the shape of GET /api/graph; 404 before the recording starts.
func handleTimelineAt(rec *timeline.Recorder) echo.HandlerFunc {
	return func(c echo.Context) error {
		t, err := timeParam(c, "t", true)
		if err != nil {
			return err
		}
		snap, err := rec.At(t)
		if errors.Is(err, timeline.ErrBefore) {
			return fmt.Errorf("%w: %s is before the recording starts", topology.ErrNotFound, t.Format(time.RFC3339Nano))
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, protocol.Snapshot{Snapshot: snap})
	}
}

// handleTimelineExport serves "GET /api/timeline/export": the whole
// recording as a file to keep or attach to a bug report, which dockmap
// --replay opens; audit frames only in an operator's.
func handleTimelineExport(rec *timeline.Recorder, log *slog.Logger) echo.HandlerFunc {
	return func(c echo.Context) error {
		name := "dockmap-session-" + time.Now().UTC().Format("20060102-150405") + ".jsonl.gz"
		h := c.Response().Header()
		h.Set(echo.HeaderContentType, "application/gzip")
		h.Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
		noStore(c)
		c.Response().WriteHeader(http.StatusOK)
		// Past the header a failure can only cut the file short; the
		// reader's gzip check catches that.
		if err := rec.Export(c.Response(), roleOf(c) == auth.Operator); err != nil {
			log.Warn("export timeline", "err", err, "remote", c.RealIP())
		}
		return nil
	}
}

// mode is the body of GET /api/mode.
type mode struct {
	Replay bool      `json:"replay"`
	File   string    `json:"file,omitempty"`
	Start  time.Time `json:"start,omitzero"`
	End    time.Time `json:"end,omitzero"`
}

// handleMode serves "GET /api/mode": whether the page shows a live engine
// or a recording (the page's "Replay of <file>, read-only" banner).
func handleMode(replay *Replay, rec *timeline.Recorder) echo.HandlerFunc {
	return func(c echo.Context) error {
		if replay == nil {
			return c.JSON(http.StatusOK, mode{})
		}
		s := rec.Summary(roleOf(c) == auth.Operator, time.Time{}, time.Time{}, 1)
		return c.JSON(http.StatusOK, mode{Replay: true, File: replay.File, Start: s.Start, End: s.End})
	}
}

// timeParam reads an RFC 3339 time from the query.
func timeParam(c echo.Context, name string, required bool) (time.Time, error) {
	v := c.QueryParam(name)
	if v == "" {
		if required {
			return time.Time{}, fmt.Errorf("%w: %s: want a time such as 2026-12-07T09:30:00Z", topology.ErrInvalid, name)
		}
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s=%q: want a time such as 2026-12-07T09:30:00Z", topology.ErrInvalid, name, v)
	}
	return t, nil
}

// errReplay is what the engine of a replay answers: there is none.
var errReplay = fmt.Errorf("%w: this is a read-only replay of a recording: there is no engine to ask", topology.ErrForbidden)

// replayEngine stands in for every engine dependency of a replay. The
// gate refuses every operator route before a handler runs, so only what a
// viewer's route asks is answered here; the embedded nil interfaces are
// never called.
type replayEngine struct {
	Engine
	Recreator
	Volumes
	Prober
}

// InspectNetwork is a viewer's read (GET /api/networks/{id}), and the
// recording holds no inspect.
func (replayEngine) InspectNetwork(context.Context, string) (docker.NetworkDetail, error) {
	return docker.NetworkDetail{}, errReplay
}

func (replayEngine) CreateBridgeNetwork(context.Context, docker.NetworkCreate) (string, error) {
	return "", errReplay
}
func (replayEngine) Attach(context.Context, string, string, []string, string) error { return errReplay }
func (replayEngine) Detach(context.Context, string, string) error                   { return errReplay }
func (replayEngine) RemoveNetwork(context.Context, string) error                    { return errReplay }
