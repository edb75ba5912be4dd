package docker

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/docker/docker/api/types/container"

	"github.com/dockmap/dockmap/internal/topology"
)

// A lease is a container that runs exactly as long as the dockmap that
// started it holds it: its process reads its standard input until end of
// file, and its only writer is an attach made by that dockmap before the
// start. When dockmap releases the lease, or dies in any way (SIGKILL
// included: the kernel closes the socket), the engine closes the
// container's stdin (StdinOnce), the process exits and the container stays,
// exited, since nothing removes it. So any dockmap can tell from an inspect
// whether the owner of a piece of work (a re-create's journal) is alive:
// running means alive.
//
// A lease also ends when the owner's connection to the engine breaks (the
// engine restarted, a TCP connection was cut), although the owner lives:
// exited means "the owner is gone or has lost the engine".
//
// A lease runs the helper image (`/dockmap lease`), so it is a helper:
// hidden from the map and the event feed of every dockmap of the same
// build (a dockmap of another build has another helper image, and shows
// an ended lease of this one as a container until it is removed, which
// RemoveLease can do). It is confined like no other
// container: no network, a read-only root filesystem, no capabilities, no
// new privileges, the nobody user, a small memory and process limit, no
// logs.

// leaseArgv is what a lease runs.
var leaseArgv = []string{"/dockmap", "lease"}

// Resource limits of a lease container. The lease command only reads its
// stdin; the Go runtime needs a few threads and a few MiB.
const (
	leaseMemory = 32 << 20
	leasePids   = 32
	leaseUser   = "65534:65534" // nobody, in the helper image's /etc/passwd
)

// leaseRecord holds the leases a Client holds: container ID → release.
type leaseRecord struct {
	mu   sync.Mutex // protects held
	held map[string]func() error
}

func (r *leaseRecord) add(id string, release func() error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held == nil {
		r.held = make(map[string]func() error)
	}
	r.held[id] = release
}

func (r *leaseRecord) take(id string) func() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	release := r.held[id]
	delete(r.held, id)
	return release
}

// StartLease starts a lease container named name ("" lets dockmap choose
// "dockmap-helper-<random>") with labels, and returns its ID and release.
// The lease runs until release is called or this process dies, whichever
// comes first; then the container exits and stays (see the lease comment
// above). release closes the lease's stdin and returns without waiting for
// the exit; it may be called more than once, and later calls do nothing.
// Remove an ended lease with RemoveLease; LeaseAlive tells a running one.
//
// StartLease makes the helper image first if needed (HelperImage and its
// errors). It returns an error wrapping topology.ErrInvalid for a name the
// engine would refuse and topology.ErrConflict if a container already has
// that name. On any failure it leaves no container behind.
func (c *Client) StartLease(ctx context.Context, name string, labels map[string]string) (id string, release func() error, err error) {
	if name != "" {
		if err := topology.ValidateName("lease name", name); err != nil {
			return "", nil, err
		}
	}
	if err := c.ready(ctx); err != nil {
		return "", nil, err
	}
	ref, err := c.HelperImage(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("start lease: %w", err)
	}
	step := "start lease " + name
	pids := int64(leasePids)
	cfg := &container.Config{
		Image: ref, Entrypoint: leaseArgv, User: leaseUser, Labels: maps.Clone(labels),
		OpenStdin: true, StdinOnce: true, AttachStdin: true,
	}
	hc := &container.HostConfig{
		NetworkMode:    "none",
		ReadonlyRootfs: true,
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		LogConfig:      container.LogConfig{Type: "none"},
		Resources:      container.Resources{Memory: leaseMemory, MemorySwap: leaseMemory, PidsLimit: &pids},
	}
	created, e, err := c.createHelper(ctx, cfg, hc, name)
	if err != nil {
		return "", nil, translate(step+": create", err)
	}
	fail := func(err error) (string, func() error, error) {
		c.removeHelper(e)
		return "", nil, err
	}
	// The attach comes before the start, so that this process is the
	// first and only writer of the lease's stdin: StdinOnce closes it when
	// this attach ends, however it ends. The hijacked connection outlives
	// ctx once made.
	att, err := c.api.ContainerAttach(ctx, created.ID, container.AttachOptions{Stream: true, Stdin: true})
	if err != nil {
		return fail(translate(step+": attach", err))
	}
	if err := c.api.ContainerStart(ctx, created.ID, container.StartOptions{}); err != nil {
		att.Close()
		return fail(translate(step+": start", err))
	}
	release = sync.OnceValue(func() error {
		c.leases.take(created.ID)
		// CloseWrite is the end of file the lease waits for; closing the
		// connection would do as well, and does it if CloseWrite cannot.
		werr := att.CloseWrite()
		att.Close()
		if werr != nil && !errors.Is(werr, net.ErrClosed) {
			return fmt.Errorf("release lease %s: %w", shortID(created.ID), werr)
		}
		return nil
	})
	c.leases.add(created.ID, release)
	return created.ID, release, nil
}

// LeaseAlive reports whether the lease container id is running, i.e.
// whether the dockmap that started it still holds it. It returns an error
// wrapping topology.ErrNotFound if there is no such container and
// topology.ErrInvalid if the container is not a lease.
func (c *Client) LeaseAlive(ctx context.Context, id string) (bool, error) {
	if err := c.ready(ctx); err != nil {
		return false, err
	}
	info, err := c.inspectLease(ctx, id)
	if err != nil {
		return false, err
	}
	return info.State != nil && info.State.Running, nil
}

// RemoveLease removes a lease container: one that has ended, or one this
// client holds (it is released first). A lease that is already gone is
// not an error. It returns an error wrapping topology.ErrConflict if the
// lease is running and held by another process (another dockmap is alive
// and working under it), and topology.ErrInvalid if the container is not
// a lease, so that a wrong ID never removes a user's container.
func (c *Client) RemoveLease(ctx context.Context, id string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	info, err := c.inspectLease(ctx, id)
	if errors.Is(err, topology.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	step := "remove lease " + shortID(info.ID)
	if release := c.leases.take(info.ID); release != nil {
		_ = release() // the forced removal below ends it anyway
	} else if info.State != nil && info.State.Running {
		return fmt.Errorf("%s: %w: it is held by a running dockmap", step, topology.ErrConflict)
	}
	// Force: a lease just released may not have exited yet.
	err = translate(step, c.api.ContainerRemove(ctx, info.ID, container.RemoveOptions{Force: true}))
	if errors.Is(err, topology.ErrNotFound) {
		err = nil
	}
	if err == nil {
		c.helpers.removedID(info.ID)
	}
	return err
}

// inspectLease inspects a container and checks that it has the shape of
// a lease of any dockmap build (an upgraded dockmap must read the leases
// of the one before): the lease command, from a probe image, stdin open
// once, no network. It guards against a wrong ID, not against a forger:
// whoever can create containers can remove them too.
func (c *Client) inspectLease(ctx context.Context, id string) (container.InspectResponse, error) {
	info, err := c.inspect(ctx, id)
	if err != nil {
		return info, err
	}
	cfg := info.Config
	if !slices.Equal(cfg.Entrypoint, leaseArgv) || !strings.HasPrefix(cfg.Image, ProbeRepo+":") ||
		!cfg.OpenStdin || !cfg.StdinOnce || info.HostConfig.NetworkMode != "none" {
		return info, fmt.Errorf("inspect lease %s: %w: container %s is not a dockmap lease", id, topology.ErrInvalid, containerName(info))
	}
	return info, nil
}
