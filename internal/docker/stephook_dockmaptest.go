//go:build dockmaptest

package docker

// SetStepHook makes c run fn before each step of a re-create or a link
// change (as the test hook of the package's own tests). It exists only in
// builds tagged dockmaptest: the crash tests build such a dockmap, pause it
// at a step and kill it there.
func SetStepHook(c *Client, fn func(step string) error) {
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	c.rec.hook = fn
}
