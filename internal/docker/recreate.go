package docker

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/dockmap/dockmap/internal/topology"
)

// Link is a legacy link or an endpoint link alias: the container named
// Target is reachable under the name Alias.
type Link struct {
	// Target is the linked container's name or full ID.
	Target string
	// Alias is the name the target gets inside the linking container.
	Alias string
}

// RecreateChange is what a recreate adds to, or removes from, the copied
// spec of the container.
type RecreateChange struct {
	// AddLinks are legacy links to add (default bridge only).
	AddLinks []Link
	// RemoveLinks are the aliases of links to drop.
	RemoveLinks []string
	// AddMounts are mounts to add (volume, bind or tmpfs). A destination
	// the container already mounts something at is refused (ErrInvalid).
	AddMounts []MountSpec
	// AddVolumesFrom are containers whose mounts to copy, like
	// `--volumes-from`: "<donor name or ID>", or with ":ro" to copy them
	// read-only (":rw" is the default). The donor must exist (else
	// ErrNotFound) and not be the container itself (ErrInvalid); a donor
	// mount at a destination the container already uses is refused
	// (ErrInvalid).
	AddVolumesFrom []string
}

// Step is one step of a recreate or a link change, reported as it starts
// and as it ends.
type Step struct {
	Name string
	// State is "running", "done", "failed" or "rolled-back".
	State string
	// Detail says what the step did or why it failed.
	Detail string
}

// Step states.
const (
	StepRunning    = "running"
	StepDone       = "done"
	StepFailed     = "failed"
	StepRolledBack = "rolled-back"
)

// ErrBusy is returned, wrapped, when a recreate or a link change of the
// same container is already running. It wraps topology.ErrConflict.
var ErrBusy = fmt.Errorf("a recreate of this container is already running: %w", topology.ErrConflict)

const (
	// stopTimeout is how long the old container gets to stop before it
	// is killed.
	stopTimeout = 10 * time.Second
	// upGrace is how long a new container without a healthcheck must stay
	// up to count as started.
	upGrace = time.Second
	// maxHealthWait bounds the wait for a healthcheck to pass.
	maxHealthWait = 2 * time.Minute
	// rollbackTimeout bounds a rollback, which runs even when the caller's
	// context is cancelled.
	rollbackTimeout = 2 * time.Minute
	// oldMarker is put between a container's name and its short ID while
	// a recreate runs; Leftovers looks for it.
	oldMarker = "-dockmap-old-"
)

// recreateState is the part of a Client that recreates and link changes
// use.
type recreateState struct {
	mu   sync.Mutex          // protects fields below
	busy map[string]struct{} // IDs and names of containers being changed
	// hook, set only by tests (export_recreate_test.go), runs before each
	// step with the step's name; an error it returns fails the step.
	hook func(step string) error
}

// lease holds the keys (IDs and names) a running operation has locked.
type lease struct {
	c    *Client
	keys []string
}

// acquire locks keys for one operation, or returns ErrBusy if another
// operation holds any of them.
func (c *Client) acquire(keys ...string) (*lease, error) {
	l := &lease{c: c}
	return l, l.add(keys...)
}

// add locks more keys for the same operation; keys it already holds are
// skipped. It returns ErrBusy, locking none, if another operation holds one.
func (l *lease) add(keys ...string) error {
	s := &l.c.rec
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy == nil {
		s.busy = make(map[string]struct{})
	}
	var fresh []string
	for _, k := range keys {
		k = strings.TrimPrefix(k, "/")
		if k == "" || slices.Contains(l.keys, k) || slices.Contains(fresh, k) {
			continue
		}
		if _, held := s.busy[k]; held {
			return ErrBusy
		}
		fresh = append(fresh, k)
	}
	for _, k := range fresh {
		s.busy[k] = struct{}{}
	}
	l.keys = append(l.keys, fresh...)
	return nil
}

// release unlocks every key of the lease.
func (l *lease) release() {
	s := &l.c.rec
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range l.keys {
		delete(s.busy, k)
	}
	l.keys = nil
}

// busy reports whether an operation holds key.
func (c *Client) busy(key string) bool {
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	_, held := c.rec.busy[strings.TrimPrefix(key, "/")]
	return held
}

// lockContainer locks a container for one operation and returns its
// inspect, taken under the lock. It locks ref (a name or ID), the
// container's ID and its name all at once, so that of two operations on
// one container, however each names it, exactly one gets the lock and the
// other ErrBusy. A name that a running recreate has moved away for a
// moment is busy, not missing.
func (c *Client) lockContainer(ctx context.Context, op, ref string) (*lease, container.InspectResponse, error) {
	fail := func(err error) (*lease, container.InspectResponse, error) {
		return nil, container.InspectResponse{}, fmt.Errorf("%s %s: %w", op, ref, err)
	}
	if c.busy(ref) {
		return fail(ErrBusy)
	}
	info, err := c.inspect(ctx, ref)
	if err != nil {
		if errors.Is(err, topology.ErrNotFound) && c.busy(ref) {
			err = ErrBusy
		}
		return fail(err)
	}
	l, err := c.acquire(ref, info.ID, containerName(info))
	if err != nil {
		return fail(err)
	}
	// The container may have changed between the first inspect and the
	// lock: what the operation works from is read under the lock.
	locked, err := c.inspect(ctx, info.ID)
	if err == nil && containerName(locked) != containerName(info) {
		err = fmt.Errorf("%w: %s was renamed meanwhile: try again", topology.ErrConflict, containerName(info))
	}
	if err != nil {
		l.release()
		return fail(err)
	}
	return l, locked, nil
}

// runHook runs the test hook for a step, if one is set.
func (c *Client) runHook(step string) error {
	c.rec.mu.Lock()
	h := c.rec.hook
	c.rec.mu.Unlock()
	if h == nil {
		return nil
	}
	return h(step)
}

func (c *Client) inspect(ctx context.Context, ref string) (container.InspectResponse, error) {
	info, err := c.api.ContainerInspect(ctx, ref)
	if err != nil {
		return info, translate("inspect container "+ref, err)
	}
	if info.ContainerJSONBase == nil || info.Config == nil || info.HostConfig == nil {
		return info, fmt.Errorf("inspect container %s: incomplete answer from the engine", ref)
	}
	return info, nil
}

// containerName is the container's name without the leading slash.
func containerName(info container.InspectResponse) string {
	return strings.TrimPrefix(info.Name, "/")
}

// Recreate replaces a container (name or full ID) by a copy of itself with
// ch applied, keeping every setting, network, alias, static IP and volume
// (research/security-reliability-anchors.md §5.6): it stops the old one,
// renames it "<name>-dockmap-old-<short id>", disconnects it from its
// networks, creates the new one under the original name, connects it,
// starts it if the old one was running, checks that it stays up (or turns
// healthy), and removes the old one without its volumes. progress, if not
// nil, gets each step as it starts and ends.
//
// Files in the old container's writable layer are lost (PreviewRecreate
// lists them). Any failure after the old container was touched rolls back
// in reverse order, leaving the original as it was, and the error names
// the failed step and ends in "(rolled back)". If only the final removal
// of the old container fails, Recreate returns the new ID with an error;
// the old container is then a leftover that FinishLeftover removes.
//
// It returns ErrBusy (an ErrConflict) if the container is already being
// changed, ErrNotFound if it or a link target does not exist, ErrInvalid
// for a change the engine would refuse, and ErrConflict for one that
// clashes with the container's state (a link alias in use, a paused
// container, a stopped link target).
func (c *Client) Recreate(ctx context.Context, id string, ch RecreateChange, progress func(Step)) (newID string, err error) {
	if err := ch.validate(); err != nil {
		return "", fmt.Errorf("recreate %s: %w", id, err)
	}
	if err := c.ready(ctx); err != nil {
		return "", err
	}
	l, info, err := c.lockContainer(ctx, "recreate", id)
	if err != nil {
		return "", err
	}
	defer l.release()
	return c.recreate(ctx, info, ch, progress)
}

// recreate runs a recreate of the inspected container; the caller holds
// its lock.
func (c *Client) recreate(ctx context.Context, info container.InspectResponse, ch RecreateChange, progress func(Step)) (string, error) {
	name := containerName(info)
	if progress == nil {
		progress = func(Step) {}
	}
	// Refused before anything is touched: a copy of a container that has
	// the host would have it too (danger.go).
	if err := c.checkSpec("re-create", name, info.Config, info.HostConfig); err != nil {
		return "", fmt.Errorf("recreate %s: %w", name, err)
	}
	spec, err := c.planRecreate(ctx, info, ch)
	if err != nil {
		return "", fmt.Errorf("recreate %s: %w", name, err)
	}
	// The change itself (a mount added) must not give the host either.
	if err := c.checkSpec("re-create", "the re-created "+name, spec.config, spec.host); err != nil {
		return "", fmt.Errorf("recreate %s: %w", name, err)
	}
	r := &run{c: c, info: info, name: name, spec: spec, progress: progress}
	if err := r.forward(ctx); err != nil {
		if rbErr := r.rollback(ctx); rbErr != nil {
			return "", fmt.Errorf("recreate %s: %w (rollback failed: %v)", name, err, rbErr)
		}
		return "", fmt.Errorf("recreate %s: %w (rolled back)", name, err)
	}
	// The new container is up: from here on nothing is rolled back, and
	// the old one goes even if the caller has gone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	err = r.step(ctx, "remove old", func(ctx context.Context) (string, error) {
		err := c.api.ContainerRemove(ctx, info.ID, container.RemoveOptions{})
		return "removed " + shortID(info.ID) + " (volumes kept)", err
	})
	if err != nil {
		return r.newID, fmt.Errorf("recreate %s: %w (new container %s is running; finish the leftover %s)",
			name, err, shortID(r.newID), r.oldName)
	}
	return r.newID, nil
}

// run is one recreate in progress: what was done, for the rollback.
type run struct {
	c        *Client
	info     container.InspectResponse
	name     string
	spec     recreateSpec
	progress func(Step)

	stopped      bool     // the old container was stopped by us
	oldName      string   // set once renamed
	disconnected []string // networks the old container was disconnected from
	newID        string   // set once created
}

// step runs one forward step of the recreate.
func (r *run) step(ctx context.Context, name string, fn func(context.Context) (string, error)) error {
	return r.c.doStep(ctx, r.progress, name, fn)
}

// forward runs the steps up to a new container that is up.
func (r *run) forward(ctx context.Context) error {
	c, old := r.c, r.info
	if r.spec.wasRunning {
		err := r.step(ctx, "stop", func(ctx context.Context) (string, error) {
			secs := int(stopTimeout / time.Second)
			r.stopped = true
			return "stopped " + shortID(old.ID), c.api.ContainerStop(ctx, old.ID, container.StopOptions{Timeout: &secs})
		})
		if err != nil {
			return err
		}
	}
	oldName := r.name + oldMarker + shortID(old.ID)
	err := r.step(ctx, "rename", func(ctx context.Context) (string, error) {
		if err := c.api.ContainerRename(ctx, old.ID, oldName); err != nil {
			return "", err
		}
		r.oldName = oldName
		return "old container is now " + oldName, nil
	})
	if err != nil {
		return err
	}
	if len(r.spec.oldEndpoints) > 0 {
		// Static IPs and aliases are held by the old container's
		// endpoints even while it is stopped.
		err = r.step(ctx, "disconnect", func(ctx context.Context) (string, error) {
			for _, n := range sortedKeys(r.spec.oldEndpoints) {
				if err := c.api.NetworkDisconnect(ctx, n, old.ID, false); err != nil {
					return "", fmt.Errorf("%s: %w", n, err)
				}
				r.disconnected = append(r.disconnected, n)
			}
			return "old container off " + strings.Join(r.disconnected, ", "), nil
		})
		if err != nil {
			return err
		}
	}
	err = r.step(ctx, "create", func(ctx context.Context) (string, error) {
		nc := &network.NetworkingConfig{}
		if p := r.spec.primary; p != "" {
			nc.EndpointsConfig = map[string]*network.EndpointSettings{p: r.spec.endpoints[p]}
		}
		resp, err := c.api.ContainerCreate(ctx, r.spec.config, r.spec.host, nc, nil, r.name)
		if err != nil {
			return "", err
		}
		r.newID = resp.ID
		if r.spec.dropBridge {
			if err := c.api.NetworkDisconnect(ctx, "bridge", resp.ID, false); err != nil {
				return "", fmt.Errorf("take the new container off the default bridge: %w", err)
			}
		}
		img := r.spec.config.Image
		if id, ok := strings.CutPrefix(img, "sha256:"); ok {
			img = shortID(id)
		}
		return "created " + shortID(resp.ID) + " from " + shortID(old.ID) + ", image " + img, nil
	})
	if err != nil {
		return err
	}
	// API 1.41 creates a container with one endpoint: connect the rest.
	for _, n := range sortedKeys(r.spec.endpoints) {
		if n == r.spec.primary {
			continue
		}
		err := r.step(ctx, "connect "+n, func(ctx context.Context) (string, error) {
			return "connected to " + n, c.api.NetworkConnect(ctx, n, r.newID, r.spec.endpoints[n])
		})
		if err != nil {
			return err
		}
	}
	if !r.spec.wasRunning {
		return nil
	}
	err = r.step(ctx, "start", func(ctx context.Context) (string, error) {
		return "started " + shortID(r.newID), c.api.ContainerStart(ctx, r.newID, container.StartOptions{})
	})
	if err != nil {
		return err
	}
	return r.step(ctx, "verify", func(ctx context.Context) (string, error) {
		return c.waitUp(ctx, r.newID, r.spec.config.Healthcheck)
	})
}

// rollback undoes what forward did, newest first, with a context of its
// own: it must run even when the caller has gone.
func (r *run) rollback(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	c, old := r.c, r.info
	var errs []error
	undo := func(name string, fn func() (string, error)) {
		err := c.doStep(ctx, r.progress, "rollback: "+name, func(context.Context) (string, error) { return fn() })
		if err != nil {
			errs = append(errs, err)
		}
	}
	if r.newID != "" {
		undo("remove new", func() (string, error) {
			return c.removeNew(ctx, r.newID, old)
		})
	}
	if r.oldName != "" {
		undo("rename", func() (string, error) {
			return "old container is " + r.name + " again", c.api.ContainerRename(ctx, old.ID, r.name)
		})
	}
	for _, n := range r.disconnected {
		undo("reconnect "+n, func() (string, error) {
			return "old container back on " + n, c.api.NetworkConnect(ctx, n, old.ID, r.spec.oldEndpoints[n])
		})
	}
	if r.stopped {
		undo("start", func() (string, error) {
			return "old container started", c.api.ContainerStart(ctx, old.ID, container.StartOptions{})
		})
	}
	return errors.Join(errs...)
}

// removeNew removes a new container that is being rolled back, without
// its volumes, and then removes only the anonymous volumes the engine made
// for it: the old container's volumes, re-attached by name, stay.
func (c *Client) removeNew(ctx context.Context, newID string, old container.InspectResponse) (string, error) {
	keep := make(map[string]bool)
	for _, m := range old.Mounts {
		keep[m.Name] = true
	}
	var made []string
	if info, err := c.api.ContainerInspect(ctx, newID); err == nil {
		for _, m := range info.Mounts {
			if m.Type == "volume" && !keep[m.Name] && anonymousSpec(info.HostConfig, m.Destination) {
				made = append(made, m.Name)
			}
		}
	}
	if err := c.removeRetrying(ctx, newID); err != nil {
		return "", err
	}
	for _, v := range made {
		_ = c.api.VolumeRemove(ctx, v, false) // best effort: it is empty and new
	}
	return "removed new container " + shortID(newID), nil
}

// removeRetrying force-removes a container, trying again for a few
// seconds: a new container that keeps failing under a restart policy can be
// between two runs, and the engine then answers "Could not kill running
// container … is not running" (seen on engine 20.10).
func (c *Client) removeRetrying(ctx context.Context, id string) error {
	var err error
	for attempt := 0; attempt < 10; attempt++ {
		err = c.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
		if err == nil || cerrdefs.IsNotFound(err) {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(300 * time.Millisecond):
		}
	}
	return err
}

// anonymousSpec reports whether the volume at dest was not named in the
// spec, so that the engine made it for this container.
func anonymousSpec(hc *container.HostConfig, dest string) bool {
	if hc == nil {
		return false
	}
	for _, b := range hc.Binds {
		if d, named := bindDest(b); d == path.Clean(dest) {
			return !named
		}
	}
	for _, m := range hc.Mounts {
		if path.Clean(m.Target) == path.Clean(dest) {
			return m.Source == ""
		}
	}
	return true // from Config.Volumes
}

// waitUp checks that a started container stays up: healthy, when it has a
// healthcheck (bounded by the check's own timing), or still running and
// not restarted after upGrace.
func (c *Client) waitUp(ctx context.Context, id string, hc *container.HealthConfig) (string, error) {
	health := hc != nil && len(hc.Test) > 0 && hc.Test[0] != "NONE"
	wait := upGrace
	if health {
		wait = healthWait(hc)
	}
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		info, err := c.api.ContainerInspect(ctx, id)
		if err != nil {
			return "", err
		}
		if info.ContainerJSONBase == nil || info.State == nil {
			return "", errors.New("no state in inspect")
		}
		st := info.State
		switch {
		case !st.Running || st.Restarting || info.RestartCount > 0:
			msg := fmt.Sprintf("exited with code %d", st.ExitCode)
			if st.Error != "" {
				msg += ": " + st.Error
			}
			return "", errors.New(msg)
		case health && st.Health != nil && st.Health.Status == container.Unhealthy:
			return "", errors.New("unhealthy" + lastHealthOutput(st.Health))
		case health && st.Health != nil && st.Health.Status == container.Healthy:
			return "healthy", nil
		case !health && time.Now().After(deadline):
			return fmt.Sprintf("still running after %v", upGrace), nil
		case health && time.Now().After(deadline):
			return "", fmt.Errorf("not healthy after %v%s", wait, lastHealthOutput(st.Health))
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-tick.C:
		}
	}
}

// healthWait is how long a healthcheck may take to pass: its start period
// plus every retry, within [5s, maxHealthWait].
func healthWait(hc *container.HealthConfig) time.Duration {
	or := func(d, def time.Duration) time.Duration {
		if d <= 0 {
			return def
		}
		return d
	}
	retries := hc.Retries
	if retries <= 0 {
		retries = 3
	}
	w := hc.StartPeriod + (or(hc.Interval, 30*time.Second)+or(hc.Timeout, 30*time.Second))*time.Duration(retries+1)
	return min(max(w, 5*time.Second), maxHealthWait)
}

func lastHealthOutput(h *container.Health) string {
	if h == nil || len(h.Log) == 0 {
		return ""
	}
	return ": " + strings.TrimSpace(h.Log[len(h.Log)-1].Output)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
