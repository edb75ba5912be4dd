package docker

import (
	"context"

	"github.com/docker/docker/api/types/container"
)

// RemoveContainerAndVolumes removes a container like `docker rm -fv`: it is
// killed if running, and the anonymous volumes it made go with it (named
// volumes stay). Test cleanup uses it (internal/dockertest); dockmap itself
// uses RemoveContainer, which never deletes data as a side effect.
func (c *Client) RemoveContainerAndVolumes(ctx context.Context, id string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	return translate("remove container "+id,
		c.api.ContainerRemove(ctx, id, container.RemoveOptions{Force: true, RemoveVolumes: true}))
}
