package docker

// SetRecreateHook makes c run fn before each step of a recreate, a link
// change or their rollback, with the step's name ("stop", "rename",
// "disconnect", "create", "connect <network>", "start", "verify",
// "remove old", "rollback: ..."). An error from fn fails that step, as an
// engine error would. A nil fn removes the hook.
func SetRecreateHook(c *Client, fn func(step string) error) {
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	c.rec.hook = fn
}
