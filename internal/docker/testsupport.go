package docker

import (
	"context"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/swarm"
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

// TestService is a replicated Swarm service for tests: dockmap draws and
// scales services but does not create them (docker service create,
// Compose and stacks do).
type TestService struct {
	Name, Image string
	Cmd         []string
	// Network is an overlay's ID the tasks join.
	Network    string
	Replicas   uint64
	TargetPort uint32
	Labels     map[string]string
}

// CreateTestService creates the service on a manager and returns its ID.
func (c *Client) CreateTestService(ctx context.Context, s TestService) (string, error) {
	if err := c.ready(ctx); err != nil {
		return "", err
	}
	replicas := s.Replicas
	spec := swarm.ServiceSpec{
		Annotations: swarm.Annotations{Name: s.Name, Labels: s.Labels},
		TaskTemplate: swarm.TaskSpec{
			ContainerSpec: &swarm.ContainerSpec{Image: s.Image, Command: s.Cmd, Labels: s.Labels},
			Networks:      []swarm.NetworkAttachmentConfig{{Target: s.Network}},
		},
		Mode: swarm.ServiceMode{Replicated: &swarm.ReplicatedService{Replicas: &replicas}},
	}
	if s.TargetPort != 0 {
		spec.EndpointSpec = &swarm.EndpointSpec{Ports: []swarm.PortConfig{{Protocol: swarm.PortConfigProtocolTCP, TargetPort: s.TargetPort,
			PublishMode: swarm.PortConfigPublishModeIngress}}}
	}
	r, err := c.api.ServiceCreate(ctx, spec, swarm.ServiceCreateOptions{})
	if err != nil {
		return "", translate("create service "+s.Name, err)
	}
	return r.ID, nil
}

// RemoveService removes a Swarm service (tests' cleanup).
func (c *Client) RemoveService(ctx context.Context, id string) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	return translate("remove service "+id, c.api.ServiceRemove(ctx, id))
}

// InspectRaw is the engine's own JSON for `docker inspect` of a
// container: tests compare containers on it, independently of how dockmap
// reads them.
func (c *Client) InspectRaw(ctx context.Context, id string) ([]byte, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	_, raw, err := c.api.ContainerInspectWithRaw(ctx, id, false)
	return raw, translate("inspect container "+id, err)
}

// ContainersLabelled lists the IDs of every container, running or not,
// with the label key=value.
func (c *Client) ContainersLabelled(ctx context.Context, key, value string) ([]string, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	list, err := c.api.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", key+"="+value))})
	if err != nil {
		return nil, translate("list containers "+key+"="+value, err)
	}
	var ids []string
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids, nil
}
