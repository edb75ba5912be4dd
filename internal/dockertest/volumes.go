package dockertest

// WithVolumesFrom copies another container's mounts into the new one, like
// `--volumes-from ref`; ref is "<name or ID>" or "<name or ID>:ro".
func WithVolumesFrom(ref string) ContainerOption {
	return func(c *containerConfig) { c.spec.VolumesFrom = append(c.spec.VolumesFrom, ref) }
}
