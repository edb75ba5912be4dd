package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/image"
)

// RestartContainer restarts a container, killing it after timeout.
func (c *Client) RestartContainer(ctx context.Context, id string, timeout time.Duration) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	secs := int(timeout / time.Second)
	return translate("restart container "+id, c.api.ContainerRestart(ctx, id, container.StopOptions{Timeout: &secs}))
}

// Image is one local image, named by its tags.
type Image struct {
	ID      string   `json:"id"`
	Tags    []string `json:"tags"`
	Size    int64    `json:"size"`
	Created int64    `json:"created"`
}

// ListImages lists the local images that have a tag (what a user can run),
// newest first.
func (c *Client) ListImages(ctx context.Context) ([]Image, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	sums, err := c.api.ImageList(ctx, image.ListOptions{})
	if err != nil {
		return nil, translate("list images", err)
	}
	var out []Image
	for _, s := range sums {
		var tags []string
		for _, t := range s.RepoTags {
			if t != "<none>:<none>" {
				tags = append(tags, t)
			}
		}
		if len(tags) == 0 {
			continue
		}
		slices.Sort(tags)
		out = append(out, Image{ID: s.ID, Tags: tags, Size: s.Size, Created: s.Created})
	}
	slices.SortFunc(out, func(a, b Image) int {
		if a.Created != b.Created {
			return int(b.Created - a.Created)
		}
		return strings.Compare(a.Tags[0], b.Tags[0])
	})
	return out, nil
}

// PullProgress is one line of the engine's pull progress.
type PullProgress struct {
	ID       string `json:"id,omitempty"`
	Status   string `json:"status"`
	Progress string `json:"progress,omitempty"`
	Current  int64  `json:"current,omitempty"`
	Total    int64  `json:"total,omitempty"`
}

// PullImage pulls ref from its registry, reporting the engine's progress
// lines as they come. A failure mid-stream (the engine reports it inside the
// stream) is returned with the engine's own message.
func (c *Client) PullImage(ctx context.Context, ref string, progress func(PullProgress)) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	rc, err := c.api.ImagePull(ctx, ref, image.PullOptions{})
	if err != nil {
		return translate("pull "+ref, err)
	}
	defer rc.Close()
	dec := json.NewDecoder(rc)
	for {
		var m struct {
			ID             string `json:"id"`
			Status         string `json:"status"`
			Progress       string `json:"progress"`
			ProgressDetail struct {
				Current int64 `json:"current"`
				Total   int64 `json:"total"`
			} `json:"progressDetail"`
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return translate("pull "+ref, err)
		}
		if m.Error != "" || m.ErrorDetail.Message != "" {
			msg := m.ErrorDetail.Message
			if msg == "" {
				msg = m.Error
			}
			return fmt.Errorf("pull %s: %s", ref, msg)
		}
		if progress != nil {
			progress(PullProgress{ID: m.ID, Status: m.Status, Progress: m.Progress,
				Current: m.ProgressDetail.Current, Total: m.ProgressDetail.Total})
		}
	}
}

// ManagedLabel marks every object dockmap creates on a user's behalf.
const ManagedLabel = "dockmap.managed"

// RunSpec is what the "Run a container" form asks for.
type RunSpec struct {
	Name    string
	Image   string
	Cmd     []string
	Network string // "" for the default bridge
}

// RunContainer creates and starts a container kept running like
// `docker run -dit`, refusing a dangerous spec as a re-create does. If the
// start fails, the created container is removed again so that a failed run
// changes nothing.
func (c *Client) RunContainer(ctx context.Context, spec RunSpec) (string, error) {
	cs := ContainerSpec{
		Name: spec.Name, Image: spec.Image, Cmd: spec.Cmd, Network: spec.Network,
		Labels: map[string]string{ManagedLabel: "1"}, Interactive: true,
	}
	// The same validator as a re-create's, before any engine call: today
	// only a host or container network mode could make a run dangerous,
	// but the check must not depend on what RunSpec happens to hold.
	cfg, hc := containerConfig(cs)
	if err := c.checkSpec(ctx, "create", spec.Name, cfg, hc); err != nil {
		return "", err
	}
	id, err := c.create(ctx, spec.Name, cfg, hc)
	if err != nil {
		return "", err
	}
	if err := c.StartContainer(ctx, id); err != nil {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		if rerr := c.RemoveContainer(rctx, id, true); rerr != nil {
			return "", fmt.Errorf("%w (and removing the half-made container failed: %v)", err, rerr)
		}
		return "", err
	}
	return id, nil
}
