package docker

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"

	"github.com/dockmap/dockmap/internal/topology"
)

// run is the re-create of one container of a transaction: what was done,
// for the rollback.
type run struct {
	c        *Client
	index    int
	info     container.InspectResponse
	name     string
	order    RecreateOrder
	spec     recreateSpec
	progress func(Step)

	stopped      bool     // the old container was stopped by us
	oldName      string   // set once renamed
	disconnected []string // networks the old container was disconnected from
	newID        string   // set once created
}

// step runs one step of the run.
func (r *run) step(ctx context.Context, kind, network string, fn func(context.Context) (string, error)) error {
	return r.c.doStep(ctx, r.progress, Step{Index: r.index, Kind: kind, Network: network}, fn)
}

// fail reports a failure that happened before any step of the run (its
// spec could not be made).
func (r *run) fail(err error) {
	r.progress(Step{Index: r.index, Kind: "create", Name: "create", State: StepFailed, Detail: err.Error()})
}

// doStep reports a step as it starts, runs the test hook and fn, and
// reports how it ended: done (rolled-back for an undo step, whose kind
// starts with "rollback:") or failed. fn's error is translated with the
// step's name.
func (c *Client) doStep(ctx context.Context, progress func(Step), s Step, fn func(context.Context) (string, error)) error {
	if progress == nil {
		progress = func(Step) {}
	}
	s.Name = stepName(s.Kind, s.Network)
	s.State = StepRunning
	progress(s)
	detail, err := "", c.runHook(s.Name)
	if err == nil {
		detail, err = fn(ctx)
	}
	s.Deadline, s.Kill = time.Time{}, nil
	if err != nil {
		err = translate(s.Name, err)
		s.State, s.Detail = StepFailed, err.Error()
		progress(s)
		return err
	}
	s.State, s.Detail = StepDone, detail
	if strings.HasPrefix(s.Kind, "rollback:") {
		s.State = StepRolledBack
	}
	progress(s)
	return nil
}

// forward runs the steps up to a new container that is up.
func (r *run) forward(ctx context.Context) error {
	c, old := r.c, r.info
	if r.spec.wasRunning {
		err := r.step(ctx, "stop", "", func(ctx context.Context) (string, error) {
			r.stopped = true
			return r.stop(ctx)
		})
		if err != nil {
			return err
		}
	}
	oldName := topology.LeftoverNameOf(r.name, old.ID)
	err := r.step(ctx, "rename", "", func(ctx context.Context) (string, error) {
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
		err = r.step(ctx, "disconnect", "", func(ctx context.Context) (string, error) {
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
	err = r.step(ctx, "create", "", func(ctx context.Context) (string, error) {
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
		err := r.step(ctx, "connect", n, func(ctx context.Context) (string, error) {
			return "connected to " + n, c.api.NetworkConnect(ctx, n, r.newID, r.spec.endpoints[n])
		})
		if err != nil {
			return err
		}
	}
	if !r.spec.wasRunning {
		return nil
	}
	err = r.step(ctx, "start", "", func(ctx context.Context) (string, error) {
		return "started " + shortID(r.newID), c.api.ContainerStart(ctx, r.newID, container.StartOptions{})
	})
	if err != nil {
		return err
	}
	return r.step(ctx, "verify", "", func(ctx context.Context) (string, error) {
		return c.waitUp(ctx, r.newID, r.spec.config.Healthcheck)
	})
}

// stop stops the old container. A main process that ignores its stop
// signal is killed only when the stop timeout runs out, so a stop still
// going after stopPatience says so, with the deadline (the page counts
// down) and a way to kill it at once.
func (r *run) stop(ctx context.Context) (string, error) {
	c, old := r.c, r.info
	timeout := defaultStopTimeout
	if t := old.Config.StopTimeout; t != nil && *t >= 0 {
		timeout = time.Duration(*t) * time.Second
	}
	signal := old.Config.StopSignal
	if signal == "" {
		signal = "SIGTERM"
	}
	secs := int(timeout / time.Second)
	start := time.Now()
	done := make(chan error, 1)
	go func() { done <- c.api.ContainerStop(ctx, old.ID, container.StopOptions{Timeout: &secs}) }()
	patience := time.NewTimer(min(stopPatience, timeout))
	defer patience.Stop()
	for {
		select {
		case err := <-done:
			return fmt.Sprintf("stopped %s in %v", shortID(old.ID), time.Since(start).Round(100*time.Millisecond)), err
		case <-patience.C:
			deadline := start.Add(timeout)
			kill := func() error {
				kctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
				defer cancel()
				return translate("kill "+r.name, c.api.ContainerKill(kctx, old.ID, "KILL"))
			}
			r.progress(Step{Index: r.index, Kind: "stop", Name: "stop", State: StepRunning, Deadline: deadline, Kill: kill,
				Detail: fmt.Sprintf("%s's main process has not exited on %s: it ignores the stop signal or is still shutting down; the engine kills it at the %v mark",
					r.name, signal, timeout)})
		}
	}
}

// rollback undoes what forward did but the stop, newest first, with a
// context of its own: it must run even when the caller has gone.
func (r *run) rollback(ctx context.Context) error {
	c, old := r.c, r.info
	var errs []error
	undo := func(kind, network string, fn func() (string, error)) {
		err := c.doStep(ctx, r.progress, Step{Index: r.index, Kind: "rollback:" + kind, Network: network},
			func(context.Context) (string, error) { return fn() })
		if err != nil {
			errs = append(errs, err)
		}
	}
	if r.newID != "" {
		undo("remove-new", "", func() (string, error) {
			return c.removeNew(ctx, r.newID, old)
		})
	}
	if r.oldName != "" {
		undo("rename", "", func() (string, error) {
			return "old container is " + r.name + " again", c.api.ContainerRename(ctx, old.ID, r.name)
		})
	}
	for _, n := range r.disconnected {
		undo("reconnect", n, func() (string, error) {
			return "old container back on " + n, c.api.NetworkConnect(ctx, n, old.ID, r.spec.oldEndpoints[n])
		})
	}
	return errors.Join(errs...)
}

// restart starts the old container again if the run stopped it.
func (r *run) restart(ctx context.Context) error {
	if !r.stopped {
		return nil
	}
	return r.c.doStep(ctx, r.progress, Step{Index: r.index, Kind: "rollback:start"}, func(ctx context.Context) (string, error) {
		return "old container started", r.c.api.ContainerStart(ctx, r.info.ID, container.StartOptions{})
	})
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
