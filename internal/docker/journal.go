package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/dockmap/dockmap/internal/topology"
)

// A re-create's journal is a lease container (lease.go) made before the
// first change to the user's containers and removed after the last one.
// Its label holds what a rollback needs that the engine would otherwise
// forget once the old containers are renamed and taken off their networks:
// each container's ID, name, whether it ran, and its endpoints (aliases,
// static IPs, endpoint links). The lease runs exactly as long as the
// dockmap doing the re-create holds it, so a journal that has exited is a
// re-create whose dockmap is gone (killed at any step, the stop included),
// and one that runs is in the hands of a live dockmap, this one or another:
// never offered for roll back.

// JournalLabel holds a journal's record (JSON) on its lease container.
const JournalLabel = "dockmap.journal"

// journalJobLabel holds the job ID alone, for filtering.
const journalJobLabel = "dockmap.journal.job"

// journalRecord is what a journal says.
type journalRecord struct {
	V   int    `json:"v"`
	Job string `json:"job"`
	// Plan is the plan the job carried out.
	Plan string `json:"plan,omitempty"`
	// Instance is the dockmap process that wrote it.
	Instance   string         `json:"instance"`
	Started    time.Time      `json:"started"`
	Containers []journalEntry `json:"containers"`
}

// journalEntry is one container of a re-create, as it was before it.
type journalEntry struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Running bool   `json:"running"`
	Mode    string `json:"mode,omitempty"`
	// Endpoints are its endpoints' settings by network name.
	Endpoints map[string]*network.EndpointSettings `json:"endpoints,omitempty"`
}

// journalOnlyLabel marks a journal that is no lease: dockmap has no helper
// image to run one (a build with cgo on a host lacking one of its
// libraries, see runtimeFiles), so the journal is a
// container that is created, never started, and says nothing of its
// owner's life (see staleAfter).
const journalOnlyLabel = "dockmap.journal.only"

// staleAfter is how long a journal that is no lease is taken to be a
// re-create still being carried out by another dockmap: longer than any
// re-create takes (stops, health checks, rollbacks included).
const staleAfter = 15 * time.Minute

// journal is a journal this process holds.
type journal struct {
	c       *Client
	id      string
	release func() error // nil for a journal that is no lease
}

// startJournal writes the journal of a re-create of runs and returns it.
func (c *Client) startJournal(ctx context.Context, opts RecreateOptions, runs []*run) (*journal, error) {
	job := opts.Job
	if job == "" {
		job = randomHex(8)
	}
	rec := journalRecord{V: 1, Job: job, Plan: opts.Plan, Instance: c.instance, Started: time.Now().UTC()}
	for _, r := range runs {
		_, _, old := planEndpoints(r.info, nil)
		rec.Containers = append(rec.Containers, journalEntry{
			ID: r.info.ID, Name: r.name, Running: r.info.State != nil && (r.info.State.Running || r.info.State.Restarting),
			Mode: string(r.info.HostConfig.NetworkMode), Endpoints: old,
		})
	}
	data, err := json.Marshal(rec)
	if err != nil {
		return nil, fmt.Errorf("encode journal: %w", err)
	}
	labels := map[string]string{JournalLabel: string(data), journalJobLabel: job}
	name := "dockmap-journal-" + job
	id, release, err := c.StartLease(ctx, name, labels)
	if errors.Is(err, topology.ErrInvalid) {
		// No static helper binary: the journal is still written, on a
		// container made from the first one's own image (the engine has
		// it), never started.
		labels[journalOnlyLabel] = "1"
		cfg := &container.Config{Image: runs[0].info.Image, Entrypoint: []string{"/dockmap-journal"}, Labels: labels}
		hc := &container.HostConfig{NetworkMode: "none"}
		created, _, cerr := c.createHelper(ctx, cfg, hc, name)
		if cerr != nil {
			return nil, translate("write the journal", cerr)
		}
		return &journal{c: c, id: created.ID}, nil
	}
	if err != nil {
		return nil, err
	}
	return &journal{c: c, id: id, release: release}, nil
}

// end closes the journal. A re-create that ended cleanly (committed, or
// rolled back completely) removes it; one that did not (a rollback that
// failed, an old container that could not be removed) leaves it, exited,
// for Leftovers to offer.
func (j *journal) end(committed, rolledBack bool) {
	if j == nil {
		return
	}
	if !committed && !rolledBack {
		// Released, the lease exits and stays: a leftover for any
		// dockmap, this one included.
		if j.release != nil {
			_ = j.release()
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = j.c.removeJournal(ctx, j.id)
}

// removeJournal removes a journal: a lease (released first if this client
// holds it), or a journal that is no lease.
func (c *Client) removeJournal(ctx context.Context, id string) error {
	info, err := c.inspect(ctx, id)
	if errors.Is(err, topology.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if _, ok := info.Config.Labels[JournalLabel]; !ok {
		return fmt.Errorf("remove journal %s: %w: not a journal", shortID(id), topology.ErrInvalid)
	}
	if info.Config.Labels[journalOnlyLabel] == "" {
		return c.RemoveLease(ctx, id)
	}
	err = c.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
	if err == nil {
		c.helpers.removedID(id)
	}
	return translate("remove journal "+shortID(id), err)
}

// readJournal parses a journal's record from its container's labels.
func readJournal(labels map[string]string) (journalRecord, bool) {
	var rec journalRecord
	if err := json.Unmarshal([]byte(labels[JournalLabel]), &rec); err != nil || rec.V != 1 || len(rec.Containers) == 0 {
		return rec, false
	}
	return rec, true
}

// rollbackJournal puts back every container of an interrupted re-create,
// from whatever step it was interrupted at: the new container under the
// original name (made after the journal) goes, the old one gets its name
// and its networks back, and those that ran are started again, in the
// original order. The caller holds the lock of every container.
func (c *Client) rollbackJournal(ctx context.Context, rec journalRecord) error {
	olds := make([]container.InspectResponse, len(rec.Containers))
	for i, e := range rec.Containers {
		old, err := c.inspect(ctx, e.ID)
		if errors.Is(err, topology.ErrNotFound) {
			return fmt.Errorf("%w: the old %s is already removed, so it cannot come back: finish instead", topology.ErrConflict, e.Name)
		}
		if err != nil {
			return err
		}
		olds[i] = old
	}
	for i := len(rec.Containers) - 1; i >= 0; i-- {
		e, old := rec.Containers[i], olds[i]
		if nw, err := c.inspect(ctx, e.Name); err == nil && nw.ID != old.ID && !createdBefore(nw, rec.Started) {
			if _, err := c.removeNew(ctx, nw.ID, old); err != nil {
				return translate("remove the new "+e.Name, err)
			}
		} else if err != nil && !errors.Is(err, topology.ErrNotFound) {
			return err
		}
		if containerName(old) != e.Name {
			if err := c.api.ContainerRename(ctx, old.ID, e.Name); err != nil {
				return translate("rename "+containerName(old)+" back to "+e.Name, err)
			}
		}
		var have map[string]*network.EndpointSettings
		if old.NetworkSettings != nil {
			have = old.NetworkSettings.Networks
		}
		for _, n := range sortedKeys(e.Endpoints) {
			if have[n] != nil {
				continue
			}
			if err := c.api.NetworkConnect(ctx, n, old.ID, e.Endpoints[n]); err != nil {
				return translate("reconnect "+e.Name+" to "+n, err)
			}
		}
	}
	for i, e := range rec.Containers {
		if e.Running && (olds[i].State == nil || !olds[i].State.Running) {
			if err := c.api.ContainerStart(ctx, e.ID, container.StartOptions{}); err != nil {
				return translate("start "+e.Name, err)
			}
		}
	}
	return nil
}

// finishJournal completes an interrupted re-create: when every container
// has its new one under the original name (running if the old one ran),
// the old ones are removed, their volumes kept.
func (c *Client) finishJournal(ctx context.Context, rec journalRecord) error {
	for _, e := range rec.Containers {
		nw, err := c.inspect(ctx, e.Name)
		switch {
		case errors.Is(err, topology.ErrNotFound) || (err == nil && nw.ID == e.ID):
			return fmt.Errorf("%w: no new container holds the name %s: roll back instead", topology.ErrConflict, e.Name)
		case err != nil:
			return err
		case e.Running && (nw.State == nil || !nw.State.Running):
			return fmt.Errorf("%w: the new %s is not running: roll back instead, or start it first", topology.ErrConflict, e.Name)
		}
	}
	for _, e := range rec.Containers {
		err := c.api.ContainerRemove(ctx, e.ID, container.RemoveOptions{})
		if err != nil && !errors.Is(translate("", err), topology.ErrNotFound) {
			return translate("remove the old "+e.Name, err)
		}
	}
	return nil
}

// createdBefore reports whether a container was created before t (give or
// take the engine's and this machine's clocks).
func createdBefore(info container.InspectResponse, t time.Time) bool {
	created, err := time.Parse(time.RFC3339Nano, info.Created)
	return err == nil && created.Before(t.Add(-2*time.Second))
}

// journalNames lists the names in a record, for messages.
func journalNames(rec journalRecord) string {
	names := make([]string, 0, len(rec.Containers))
	for _, e := range rec.Containers {
		names = append(names, e.Name)
	}
	return strings.Join(names, ", ")
}

// isJournal reports whether a listed container has the shape of a journal
// of any dockmap build: a lease (the lease command, from a probe image),
// or a journal that is no lease (created, never started).
func (c *Client) isJournal(s container.Summary) bool {
	if _, ok := s.Labels[JournalLabel]; !ok {
		return false
	}
	if s.Labels[journalOnlyLabel] != "" {
		return s.State == container.StateCreated
	}
	return strings.HasPrefix(s.Image, ProbeRepo+":") && s.Command == strings.Join(leaseArgv, " ")
}

// journalLive says whether the re-create of a listed journal is being
// carried out: its lease runs, or, for a journal that is no lease, it is
// younger than any re-create takes (nothing tells its owner's life).
func journalLive(s container.Summary, rec journalRecord, now time.Time) bool {
	if s.Labels[journalOnlyLabel] != "" {
		return now.Sub(rec.Started) < staleAfter
	}
	return s.State == container.StateRunning
}
