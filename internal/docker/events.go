package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/docker/docker/api/types/events"
	"github.com/docker/docker/api/types/filters"
)

// Event is one engine event, reduced to what dockmap shows and acts on.
type Event struct {
	Time       time.Time         `json:"time"`
	Type       string            `json:"type"`
	Action     string            `json:"action"`
	ID         string            `json:"id"`
	Name       string            `json:"name,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
	// Helper is set by WatchEvents when the event is about one of
	// dockmap's own helper containers (see helper_hidden.go): the client
	// that watches is the one that knows them, never a label.
	Helper bool `json:"-"`
}

// ChangesTopology reports whether the event can change the graph. Exec and
// other in-container activity never does, and probes cause a lot of it, so
// it must not trigger a re-list.
func (e Event) ChangesTopology() bool {
	if e.FromHelper() {
		return false
	}
	action, _, _ := strings.Cut(e.Action, ":")
	switch action {
	case "exec_create", "exec_start", "exec_die", "exec_detach", "attach", "detach",
		"resize", "top", "archive-path", "extract-to-dir", "export", "commit", "copy":
		return false
	}
	return true
}

// FromHelper reports whether the event is about one of dockmap's own
// helper containers (probe helpers, sidecars, leases), as the Client that
// delivered it recognised them. A container labelled HelperLabel by
// anyone else is not one.
func (e Event) FromHelper() bool { return e.Helper }

// IsExec reports whether the event comes from an exec in a container.
func (e Event) IsExec() bool { return strings.HasPrefix(e.Action, "exec_") }

// WatchEvents streams container, network and volume events to fn until ctx
// ends or the stream breaks, and returns why it stopped: ctx.Err() after a
// cancel, otherwise an error wrapping topology.ErrEngineUnreachable or the
// engine's answer. since replays the engine's buffered events from that
// time, which closes the gap between subscribing and the first list (the
// engine keeps only 256 events; research/docker-api-semantics.md §0.5).
// Callers must re-list after it returns.
func (c *Client) WatchEvents(ctx context.Context, since time.Time, fn func(Event)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := filters.NewArgs(
		filters.Arg("type", string(events.ContainerEventType)),
		filters.Arg("type", string(events.NetworkEventType)),
		filters.Arg("type", string(events.VolumeEventType)),
	)
	opts := events.ListOptions{Filters: f}
	if !since.IsZero() {
		opts.Since = strconv.FormatInt(since.Unix(), 10) + "." + fmt.Sprintf("%09d", since.Nanosecond())
	}
	if err := c.ready(ctx); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return err
	}
	// The helper image's reference, which helper events carry, is known
	// from the first event on (it hashes the binary once per client).
	_, _ = c.helperIdentity()
	msgs, errs := c.api.Events(ctx, opts)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			// The SDK sends exactly one error, then closes errs; msgs is never
			// closed (research/docker-api-semantics.md §0.5).
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return translate("watch events", err)
		case m := <-msgs:
			e := fromMessage(m)
			e.Helper = c.isHelperEvent(m)
			if e.Helper && m.Type == events.ContainerEventType && m.Action == events.ActionDestroy {
				c.helpers.destroyed(m.Actor.ID) // nothing of it can follow
			}
			fn(e)
		}
	}
}

func fromMessage(m events.Message) Event {
	e := Event{
		Type: string(m.Type), Action: string(m.Action), ID: m.Actor.ID,
		Attributes: m.Actor.Attributes,
	}
	if m.TimeNano != 0 {
		e.Time = time.Unix(0, m.TimeNano)
	} else {
		e.Time = time.Unix(m.Time, 0)
	}
	e.Name = m.Actor.Attributes["name"]
	return e
}
