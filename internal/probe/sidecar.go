package probe

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/topology"
)

// A sidecar is a long-lived helper container in one source's network
// namespace, running `dockmap probe --hold`, into which probes are exec'd.
// The probes that start it are its own command's: it answers them before
// it holds, which spares the engine an exec in the first round.
// Starting a container costs the engine about ten times what an exec does
// (≈ 100 ms against ≈ 25 ms of engine time on two cores), so a matrix
// that is probed again and again (watch mode) keeps one per source. Each
// sidecar is removed after sidecarIdle without use, on Close, and in any
// case by the engine itself when its --hold ends (sidecarLifetime), so a
// dockmap that dies leaves none for long.
const (
	// DefaultSidecarIdle is how long an unused sidecar is kept.
	DefaultSidecarIdle = 30 * time.Second
	// sidecarLifetime is how long a sidecar lives at most.
	sidecarLifetime = 5 * time.Minute
	// sidecarRetire is how long before the end of its life a sidecar is
	// no longer used, so that no probe runs into its exit.
	sidecarRetire = 30 * time.Second
	// removeTimeout bounds the removal of one sidecar.
	removeTimeout = 30 * time.Second
)

// errClosed is returned for probes that need a sidecar after Close.
var errClosed = errors.New("prober closed")

// sidecar is one long-lived helper. Its fields are protected by Prober.mu.
type sidecar struct {
	id, from     string
	donorStarted time.Time // the source's start time when the sidecar joined it
	created      time.Time
	lastUsed     time.Time
	busy         int  // probes running in it now
	dead         bool // an exec in it failed: do not use it again
	removed      bool
	timer        *time.Timer // idle reaper
}

// usable reports whether the sidecar is still in the source's current
// namespace and has time left to live. A source that restarted has a new
// namespace, while the sidecar stays in the old one, now empty.
func (s *sidecar) usable(started, now time.Time) bool {
	return !s.dead && s.donorStarted.Equal(started) && now.Sub(s.created) < sidecarLifetime-sidecarRetire
}

// helperExec runs `dockmap probe args...` in the network namespace of the
// container from: in its sidecar when sidecars are on, else in a one-shot
// helper container.
func (p *Prober) helperExec(ctx context.Context, from, image string, args []string) (docker.ExecResult, error) {
	argv := append([]string{"/dockmap", "probe"}, args...)
	if p.sidecarIdle <= 0 {
		return p.runOneShot(ctx, from, image, argv)
	}
	var lastErr error
	for range 2 {
		sc, first, err := p.acquireSidecar(ctx, from, image, args)
		if errors.Is(err, errClosed) {
			return p.runOneShot(ctx, from, image, argv)
		}
		if err != nil {
			return docker.ExecResult{}, err
		}
		if first != nil {
			// The sidecar was started for these very probes and has
			// answered them already.
			p.releaseSidecar(sc, false)
			return *first, nil
		}
		res, err := p.exec(ctx, sc.id, argv, "")
		p.releaseSidecar(sc, err != nil)
		if err == nil || ctx.Err() != nil {
			return res, err
		}
		// The sidecar went away under us (its source stopped, or someone
		// removed it): try once more with a new one.
		lastErr = err
	}
	return docker.ExecResult{}, lastErr
}

// runOneShot runs argv in a helper container made for this probe alone.
func (p *Prober) runOneShot(ctx context.Context, from, image string, argv []string) (docker.ExecResult, error) {
	if err := p.acquire(ctx); err != nil {
		return docker.ExecResult{}, err
	}
	defer p.release()
	cctx, cancel := context.WithTimeout(ctx, p.callTimeout())
	defer cancel()
	return p.d.RunHelper(cctx, from, image, argv, p.helperLabels)
}

// acquireSidecar returns a usable sidecar for the source, starting one if
// needed, and marks it busy; releaseSidecar undoes that. A sidecar it
// starts runs the probe args (`dockmap probe` arguments, ending with the
// targets) first, and first is then their output; with a sidecar that
// was there already, first is nil and the caller execs the probes in it.
func (p *Prober) acquireSidecar(ctx context.Context, from, image string, args []string) (sc *sidecar, first *docker.ExecResult, err error) {
	running, started, err := p.d.ContainerStarted(ctx, from)
	if err != nil {
		return nil, nil, err
	}
	if !running {
		return nil, nil, fmt.Errorf("start probe helper: %w: container %s is not running", topology.ErrConflict, name("", from))
	}
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, nil, errClosed
		}
		if sc := p.sidecars[from]; sc != nil {
			if sc.usable(started, time.Now()) {
				sc.busy++
				p.mu.Unlock()
				return sc, nil, nil
			}
			delete(p.sidecars, from)
			if sc.timer != nil {
				sc.timer.Stop()
			}
			if sc.busy == 0 {
				p.removeLocked(sc)
			}
		}
		// One start per source at a time; the others wait for it.
		if wait, ok := p.starting[from]; ok {
			p.mu.Unlock()
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		p.starting[from] = done
		p.mu.Unlock()

		id, res, err := p.startSidecar(ctx, from, image, args)

		p.mu.Lock()
		delete(p.starting, from)
		close(done)
		if err != nil {
			p.mu.Unlock()
			return nil, nil, err
		}
		sc := &sidecar{id: id, from: from, donorStarted: started, created: time.Now(), busy: 1}
		if p.closed {
			p.removeLocked(sc)
			p.mu.Unlock()
			return nil, nil, errClosed
		}
		p.sidecars[from] = sc
		p.mu.Unlock()
		return sc, &res, nil
	}
}

// startSidecar starts a sidecar that first probes as args say and prints
// one line per target (runHelper's targets are unique), then holds.
func (p *Prober) startSidecar(ctx context.Context, from, image string, args []string) (string, docker.ExecResult, error) {
	if err := p.acquire(ctx); err != nil {
		return "", docker.ExecResult{}, err
	}
	defer p.release()
	cctx, cancel := context.WithTimeout(ctx, p.callTimeout())
	defer cancel()
	argv := append([]string{"/dockmap", "probe", "--hold=" + sidecarLifetime.String()}, args...)
	return p.d.StartHelperOutput(cctx, from, image, argv, p.helperLabels, targetCount(args))
}

// targetCount is how many targets `dockmap probe` args name: those after
// "--".
func targetCount(args []string) int {
	for i, a := range args {
		if a == "--" {
			return len(args) - i - 1
		}
	}
	return 0
}

// releaseSidecar ends one use of a sidecar; failed marks it dead. The last
// user of a sidecar that was replaced meanwhile removes it; otherwise the
// idle reaper is (re)armed.
func (p *Prober) releaseSidecar(sc *sidecar, failed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	sc.busy--
	if failed {
		sc.dead = true
		if p.sidecars[sc.from] == sc {
			delete(p.sidecars, sc.from)
			if sc.timer != nil {
				sc.timer.Stop()
			}
		}
	}
	if p.sidecars[sc.from] != sc {
		if sc.busy == 0 {
			p.removeLocked(sc)
		}
		return
	}
	sc.lastUsed = time.Now()
	if sc.timer == nil {
		sc.timer = time.AfterFunc(p.sidecarIdle, func() { p.reap(sc) })
	} else {
		sc.timer.Reset(p.sidecarIdle)
	}
}

// reap removes a sidecar that has been idle for sidecarIdle. It runs on
// the sidecar's timer.
func (p *Prober) reap(sc *sidecar) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.sidecars[sc.from] != sc || sc.busy > 0 {
		return
	}
	if idle := time.Since(sc.lastUsed); idle < p.sidecarIdle {
		sc.timer.Reset(p.sidecarIdle - idle)
		return
	}
	delete(p.sidecars, sc.from)
	p.removeLocked(sc)
}

// removeLocked removes a sidecar in the background; Close waits for it.
// p.mu must be held.
func (p *Prober) removeLocked(sc *sidecar) {
	if sc.removed {
		return
	}
	sc.removed = true
	p.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), removeTimeout)
		defer cancel()
		// A failure leaves a helper that the engine removes by itself when
		// its --hold ends; there is nobody to tell.
		_ = p.d.RemoveHelper(ctx, sc.id)
	})
}

// Close removes every sidecar and waits until they are gone. Call it once,
// after every Run has returned; a Run after Close probes without
// sidecars.
func (p *Prober) Close() {
	p.mu.Lock()
	p.closed = true
	for from, sc := range p.sidecars {
		delete(p.sidecars, from)
		if sc.timer != nil {
			sc.timer.Stop()
		}
		p.removeLocked(sc)
	}
	p.mu.Unlock()
	p.wg.Wait()
}
