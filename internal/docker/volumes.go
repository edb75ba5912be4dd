package docker

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types"
	"github.com/docker/docker/api/types/volume"
	"golang.org/x/sync/singleflight"

	"github.com/dockmap/dockmap/internal/topology"
)

// VolumeDetail is what the volumes panel shows of a volume.
type VolumeDetail struct {
	Name       string            `json:"name"`
	Driver     string            `json:"driver"`
	Mountpoint string            `json:"mountpoint"`
	Labels     map[string]string `json:"labels,omitempty"`
	// Scope is "local" or "global" (cluster-wide).
	Scope string `json:"scope"`
	// CreatedAt is the engine's timestamp, as it gives it (RFC 3339).
	CreatedAt string `json:"createdAt,omitempty"`
}

// VolumeUsage is how much a volume holds and how many containers use it,
// as the engine's disk-usage call reports it.
type VolumeUsage struct {
	// Size is the bytes under the volume's directory, or -1 when the
	// engine does not measure it (a driver other than local, or a local
	// volume with driver options, e.g. an NFS mount).
	Size int64 `json:"size"`
	// RefCount is the number of containers, running or not, that mount
	// the volume, or -1 when the engine does not say.
	RefCount int64 `json:"refCount"`
}

// InspectVolume returns a volume's details. It returns an error wrapping
// topology.ErrNotFound if there is no such volume.
func (c *Client) InspectVolume(ctx context.Context, name string) (VolumeDetail, error) {
	if err := c.ready(ctx); err != nil {
		return VolumeDetail{}, err
	}
	v, err := c.api.VolumeInspect(ctx, name)
	if err != nil {
		return VolumeDetail{}, translate("inspect volume "+name, err)
	}
	return VolumeDetail{
		Name: v.Name, Driver: v.Driver, Mountpoint: v.Mountpoint, Labels: v.Labels,
		Scope: v.Scope, CreatedAt: v.CreatedAt,
	}, nil
}

// VolumeUsage measures a volume through the engine's disk-usage call,
// limited to volumes. The engine walks every local volume's directory for
// it, so it can take seconds on a busy host: call it on request, never on
// the re-list path, and give it a ctx with a deadline. Concurrent calls in
// this client (panels opened at once, several users) share one engine
// call, and wait for it each until its own ctx ends; while the engine is
// busy with another process's such call, the shared call waits its turn.
// It returns an error wrapping topology.ErrNotFound if there is no such
// volume.
func (c *Client) VolumeUsage(ctx context.Context, name string) (VolumeUsage, error) {
	if err := c.ready(ctx); err != nil {
		return VolumeUsage{}, err
	}
	asked := time.Now()
	for {
		du, started, err := c.sharedDiskUsage(ctx)
		if err != nil {
			return VolumeUsage{}, translate("measure volume "+name, err)
		}
		for _, v := range du.Volumes {
			if v == nil || v.Name != name {
				continue
			}
			if v.UsageData == nil {
				return VolumeUsage{Size: -1, RefCount: -1}, nil
			}
			return VolumeUsage{Size: v.UsageData.Size, RefCount: v.UsageData.RefCount}, nil
		}
		// A shared call that started before this one was asked may
		// predate the volume: ask once more. The next call starts after
		// this one ended, so this loops at most twice.
		if !started.Before(asked) {
			break
		}
	}
	// The engine leaves out the volumes it does not measure: tell those
	// apart from a volume that does not exist.
	if _, err := c.api.VolumeInspect(ctx, name); err != nil {
		return VolumeUsage{}, translate("measure volume "+name, err)
	}
	return VolumeUsage{Size: -1, RefCount: -1}, nil
}

// Engines before 23.0 run one disk-usage call at a time and refuse any
// other (HTTP 500) with diskUsageBusy, whoever asked: another dockmap, the
// CLI. Each call is short, so waiting a little and asking again gets
// through, but on a busy engine several askers can keep missing each
// other's gaps for seconds (CI saw 20 tries in 5 s all refused): asking
// goes on until diskUsageTimeout, at random intervals so that askers do
// not stay in step. diskUsageTimeout bounds a shared call, retries
// included: it runs on after its callers have given up, for the ones
// still waiting.
const (
	diskUsageBusy       = "a disk usage operation is already running"
	diskUsageRetryFirst = 50 * time.Millisecond
	diskUsageRetryMax   = 500 * time.Millisecond
	diskUsageTimeout    = time.Minute
)

// diskUsageShare is the disk-usage call in flight, which every concurrent
// VolumeUsage of a Client joins.
type diskUsageShare struct {
	g       singleflight.Group
	waiting atomic.Int64 // callers waiting for the call in flight (tests watch it)
	// hook, when set (tests only, export_volumes_test.go), runs before
	// each engine attempt of a shared call, with the attempt's number.
	hook atomic.Pointer[func(attempt int)]
}

// diskUsageResult is what a shared call found, and when it started.
type diskUsageResult struct {
	du      types.DiskUsage
	started time.Time
}

// sharedDiskUsage joins the disk-usage call in flight, or starts one, and
// waits for it until ctx ends.
func (c *Client) sharedDiskUsage(ctx context.Context) (types.DiskUsage, time.Time, error) {
	ch := c.du.g.DoChan("volumes", func() (any, error) {
		// Detached from the caller that happened to start it: the others
		// must not fail because that one gave up.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), diskUsageTimeout)
		defer cancel()
		started := time.Now()
		du, err := c.volumeDiskUsage(fctx)
		return diskUsageResult{du: du, started: started}, err
	})
	c.du.waiting.Add(1)
	defer c.du.waiting.Add(-1)
	select {
	case r := <-ch:
		if r.Err != nil {
			return types.DiskUsage{}, time.Time{}, r.Err
		}
		res := r.Val.(diskUsageResult)
		return res.du, res.started, nil
	case <-ctx.Done():
		return types.DiskUsage{}, time.Time{}, ctx.Err()
	}
}

// volumeDiskUsage is the engine's disk-usage call for volumes, asked again
// while the engine is busy with another one.
func (c *Client) volumeDiskUsage(ctx context.Context) (types.DiskUsage, error) {
	opts := types.DiskUsageOptions{Types: []types.DiskUsageObject{types.VolumeObject}}
	wait := diskUsageRetryFirst
	for try := 1; ; try++ {
		if hook := c.du.hook.Load(); hook != nil {
			(*hook)(try)
		}
		du, err := c.api.DiskUsage(ctx, opts)
		if err == nil || !strings.Contains(err.Error(), diskUsageBusy) {
			return du, err
		}
		// Full jitter: a random wait up to a bound that doubles.
		d := time.Duration(rand.Int64N(int64(wait))) + time.Millisecond
		wait = min(2*wait, diskUsageRetryMax)
		select {
		case <-ctx.Done():
			return types.DiskUsage{}, fmt.Errorf("%w (the engine stayed busy with another disk-usage call: %v)", ctx.Err(), err)
		case <-time.After(d):
		}
	}
}

// CreateNamedVolume creates a local volume labelled ManagedLabel=1 plus
// labels. The engine answers a create of an existing name with the
// existing volume, silently, so the name is checked first: an existing
// name returns an error wrapping topology.ErrConflict, and a name that is
// not a plain volume name (a path, ":" or "..") one wrapping
// topology.ErrInvalid.
func (c *Client) CreateNamedVolume(ctx context.Context, name string, labels map[string]string) error {
	if err := topology.ValidateName("volume name", name); err != nil {
		return err
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("%w: volume name %q contains \"..\"", topology.ErrInvalid, name)
	}
	if err := c.ready(ctx); err != nil {
		return err
	}
	step := "create volume " + name
	switch _, err := c.api.VolumeInspect(ctx, name); {
	case err == nil:
		return fmt.Errorf("%s: %w: a volume named %s already exists", step, topology.ErrConflict, name)
	case !cerrdefs.IsNotFound(err):
		return translate(step, err)
	}
	all := map[string]string{ManagedLabel: "1"}
	for k, v := range labels {
		if k != ManagedLabel {
			all[k] = v
		}
	}
	_, err := c.api.VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: "local", Labels: all})
	return translate(step, err)
}
