package docker

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/dockmap/dockmap/internal/topology"
)

// Leftover is a re-create that did not finish: dockmap was killed, or the
// engine restarted, or a rollback failed. Its containers may be half-way:
// the old one renamed "<name>-dockmap-old-<short id>" and perhaps taken off
// its networks, a new one perhaps holding the name.
type Leftover struct {
	// ID names the leftover for RollbackLeftover and FinishLeftover: the
	// journal's container ID, or the old container's for a re-create
	// made before journals (found by its name alone).
	ID string `json:"id"`
	// Job is the job that left it ("" without a journal).
	Job string `json:"job,omitempty"`
	// Started is when the re-create began (zero without a journal).
	Started time.Time `json:"started,omitzero"`
	// Elsewhere is set when another running dockmap is carrying the
	// re-create out right now: it is shown, never to be rolled back.
	Elsewhere bool `json:"elsewhere"`
	// Containers are the containers of the re-create.
	Containers []LeftoverContainer `json:"containers"`

	rec *journalRecord
}

// LeftoverContainer is one container of a leftover, as it is now.
type LeftoverContainer struct {
	// OldID is the original container; OldName its name now ("" if it is
	// gone: the re-create had already removed it).
	OldID   string `json:"oldID"`
	OldName string `json:"oldName"`
	// OriginalName is the name it had before the re-create.
	OriginalName string `json:"originalName"`
	// NewID is the container that now holds OriginalName, if it is not
	// the old one.
	NewID      string `json:"newID"`
	NewRunning bool   `json:"newRunning"`
}

// Leftovers finds the re-creates that did not finish, with one list call:
// those whose journal has exited (its dockmap is gone), those whose journal
// runs in another dockmap (Elsewhere), and old containers that a
// re-create renamed and that no journal explains (a dockmap before
// journals). Re-creates this Client is running are not leftovers.
func (c *Client) Leftovers(ctx context.Context) ([]Leftover, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	cs, err := c.api.ContainerList(ctx, container.ListOptions{All: true})
	if err != nil {
		return nil, translate("list containers", err)
	}
	byName := make(map[string]container.Summary, len(cs))
	byID := make(map[string]container.Summary, len(cs))
	for _, s := range cs {
		byName[primaryName(s.Names)] = s
		byID[s.ID] = s
	}
	explained := map[string]bool{}
	var out []Leftover
	for _, s := range cs {
		if !c.isJournal(s) {
			continue
		}
		rec, ok := readJournal(s.Labels)
		if !ok {
			continue
		}
		running := journalLive(s, rec, time.Now())
		if rec.Instance == c.instance && c.busy(rec.Containers[0].ID) {
			// Ours and live: a job of this process, shown as such.
			for _, e := range rec.Containers {
				explained[e.ID] = true
			}
			continue
		}
		lo := Leftover{ID: s.ID, Job: rec.Job, Started: rec.Started, Elsewhere: running, rec: &rec}
		for _, e := range rec.Containers {
			explained[e.ID] = true
			lc := LeftoverContainer{OldID: e.ID, OriginalName: e.Name}
			if old, ok := byID[e.ID]; ok {
				lc.OldName = primaryName(old.Names)
			}
			if nw, ok := byName[e.Name]; ok && nw.ID != e.ID {
				lc.NewID, lc.NewRunning = nw.ID, nw.State == container.StateRunning
			}
			lo.Containers = append(lo.Containers, lc)
		}
		out = append(out, lo)
	}
	for _, s := range cs {
		name := primaryName(s.Names)
		orig, ok := topology.LeftoverName(name)
		if !ok || explained[s.ID] || c.busy(s.ID) {
			continue
		}
		lc := LeftoverContainer{OldID: s.ID, OldName: name, OriginalName: orig}
		if nw, ok := byName[orig]; ok {
			lc.NewID, lc.NewRunning = nw.ID, nw.State == container.StateRunning
		}
		out = append(out, Leftover{ID: s.ID, Containers: []LeftoverContainer{lc}})
	}
	slices.SortFunc(out, func(a, b Leftover) int {
		return strings.Compare(a.Containers[0].OriginalName, b.Containers[0].OriginalName)
	})
	return out, nil
}

// findLeftover returns the leftover with this ID.
func (c *Client) findLeftover(ctx context.Context, id string) (Leftover, error) {
	los, err := c.Leftovers(ctx)
	if err != nil {
		return Leftover{}, err
	}
	for _, lo := range los {
		if lo.ID == id || (lo.rec == nil && lo.Containers[0].OldID == id) {
			return lo, nil
		}
	}
	return Leftover{}, fmt.Errorf("%w: no unfinished re-create %s", topology.ErrNotFound, shortID(id))
}

// lockLeftover locks every container of a leftover and its original
// names, for one action on it.
func (c *Client) lockLeftover(ctx context.Context, op string, lo Leftover) (*lease, error) {
	if lo.Elsewhere {
		return nil, fmt.Errorf("%s: %w: another dockmap is carrying this re-create out right now; it is not left over", op, topology.ErrConflict)
	}
	l := &lease{c: c}
	for _, lc := range lo.Containers {
		if err := l.add(lc.OldID, lc.OriginalName); err != nil {
			l.release()
			return nil, fmt.Errorf("%s %s: %w", op, lc.OriginalName, err)
		}
	}
	return l, nil
}

// RollbackLeftover puts back the original containers of an unfinished
// re-create (id from Leftovers), whatever step it stopped at: the new
// containers holding the original names are removed (without their
// volumes), the old ones get their names and networks back (with their
// aliases and static IPs, from the journal), and those that ran are
// started. A leftover without a journal gets its networks from the new
// container, if there is one, else only its primary network.
//
// It returns ErrNotFound for an unknown leftover, ErrConflict for one
// another dockmap is carrying out or whose old container is already gone
// (finish it instead), ErrBusy if one of its containers is being changed.
func (c *Client) RollbackLeftover(ctx context.Context, id string) error {
	lo, err := c.findLeftover(ctx, id)
	if err != nil {
		return fmt.Errorf("roll back: %w", err)
	}
	l, err := c.lockLeftover(ctx, "roll back", lo)
	if err != nil {
		return err
	}
	defer l.release()
	orig := lo.Containers[0].OriginalName
	if lo.rec != nil {
		if err := c.rollbackJournal(ctx, *lo.rec); err != nil {
			return fmt.Errorf("roll back %s: %w", journalNames(*lo.rec), err)
		}
		return c.removeJournal(ctx, lo.ID)
	}
	if err := c.rollbackByName(ctx, lo.Containers[0].OldID, orig); err != nil {
		return fmt.Errorf("roll back %s: %w", orig, err)
	}
	return nil
}

// rollbackByName rolls back a leftover without a journal.
func (c *Client) rollbackByName(ctx context.Context, oldID, orig string) error {
	old, err := c.inspect(ctx, oldID)
	if err != nil {
		return err
	}
	var want map[string]*network.EndpointSettings
	nw, err := c.inspect(ctx, orig)
	switch {
	case err == nil && nw.ID == old.ID:
	case err == nil:
		_, want, _ = planEndpoints(nw, nil)
		if _, err := c.removeNew(ctx, nw.ID, old); err != nil {
			return translate("remove new container", err)
		}
	case !strings.Contains(err.Error(), topology.ErrNotFound.Error()):
		return err
	}
	if containerName(old) != orig {
		if err := c.api.ContainerRename(ctx, old.ID, orig); err != nil {
			return translate("rename", err)
		}
	}
	var have map[string]*network.EndpointSettings
	if old.NetworkSettings != nil {
		have = old.NetworkSettings.Networks
	}
	mode := old.HostConfig.NetworkMode
	if len(want) == 0 && len(have) == 0 {
		switch {
		case mode.IsDefault() || mode.IsBridge():
			want = map[string]*network.EndpointSettings{"bridge": {}}
		case mode.IsUserDefined():
			want = map[string]*network.EndpointSettings{string(mode): {}}
		}
	}
	for _, n := range sortedKeys(want) {
		if have[n] != nil {
			continue
		}
		if err := c.api.NetworkConnect(ctx, n, old.ID, want[n]); err != nil {
			return translate("reconnect "+n, err)
		}
	}
	if old.State == nil || !old.State.Running {
		if err := c.api.ContainerStart(ctx, old.ID, container.StartOptions{}); err != nil {
			return translate("start", err)
		}
	}
	return nil
}

// FinishLeftover completes an unfinished re-create (id from Leftovers) by
// removing its old containers (without their volumes). It does so only
// when a new container holds every original name and runs where the old
// one ran; otherwise it returns ErrConflict (roll back instead).
func (c *Client) FinishLeftover(ctx context.Context, id string) error {
	lo, err := c.findLeftover(ctx, id)
	if err != nil {
		return fmt.Errorf("finish: %w", err)
	}
	l, err := c.lockLeftover(ctx, "finish", lo)
	if err != nil {
		return err
	}
	defer l.release()
	if lo.rec != nil {
		if err := c.finishJournal(ctx, *lo.rec); err != nil {
			return fmt.Errorf("finish %s: %w", journalNames(*lo.rec), err)
		}
		return c.removeJournal(ctx, lo.ID)
	}
	lc := lo.Containers[0]
	nw, err := c.inspect(ctx, lc.OriginalName)
	switch {
	case err != nil && strings.Contains(err.Error(), topology.ErrNotFound.Error()):
		return fmt.Errorf("finish %s: %w: no container holds the name %s: roll back instead", lc.OriginalName, topology.ErrConflict, lc.OriginalName)
	case err != nil:
		return fmt.Errorf("finish %s: %w", lc.OriginalName, err)
	case nw.State == nil || !nw.State.Running:
		return fmt.Errorf("finish %s: %w: the new %s is not running: roll back instead, or start it first", lc.OriginalName, topology.ErrConflict, lc.OriginalName)
	}
	if err := c.api.ContainerRemove(ctx, lc.OldID, container.RemoveOptions{}); err != nil {
		return translate("finish "+lc.OriginalName+": remove old container", err)
	}
	return nil
}
