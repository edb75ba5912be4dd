package timeline

import (
	"context"

	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/topology"
)

// Replay serves a recording as the live map: its last state, which never
// changes. It is what the server reads in place of internal/live when
// dockmap opens a recording (dockmap --replay).
type Replay struct {
	rec  *Recorder
	hub  *hub.Hub
	last topology.Snapshot
}

// NewReplay serves rec's last state; subscribers subscribe to h, on which
// nothing of the recording is published (the server's own frames, such as
// the audit of a refused action, still are).
func NewReplay(rec *Recorder, h *hub.Hub) *Replay {
	if rec == nil || h == nil {
		panic("timeline.NewReplay: nil dependency")
	}
	return &Replay{rec: rec, hub: h, last: rec.Last()}
}

// Recording is the recording served.
func (p *Replay) Recording() *Recorder { return p.rec }

// Snapshot returns the recording's last state.
func (p *Replay) Snapshot() topology.Snapshot { return p.last }

// Subscribe subscribes to the hub and returns the recording's last state.
func (p *Replay) Subscribe(ctx context.Context) (topology.Snapshot, *hub.Subscription) {
	return p.last, p.hub.Subscribe(ctx)
}

// Refresh does nothing: there is no engine to list.
func (p *Replay) Refresh() {}

// Sync returns the recording's last state: a replay is always in step.
func (p *Replay) Sync(context.Context) (topology.Snapshot, error) { return p.last, nil }
