package docker

// SetDiskUsageHook makes c run fn before each engine attempt of a shared
// disk-usage call, with the attempt's number (1 for a new call, more for a
// retry while the engine is busy with another one). A nil fn removes it.
func SetDiskUsageHook(c *Client, fn func(attempt int)) {
	if fn == nil {
		c.du.hook.Store(nil)
		return
	}
	c.du.hook.Store(&fn)
}

// DiskUsageWaiting is how many VolumeUsage calls of c wait for the shared
// disk-usage call in flight.
func DiskUsageWaiting(c *Client) int64 { return c.du.waiting.Load() }
