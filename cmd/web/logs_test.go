package main

import "testing"

// TestViewerLogsFlag: viewers read no logs unless --viewer-logs or
// DOCKMAP_VIEWER_LOGS=1 says so; a garbled env value stops the start.
func TestViewerLogsFlag(t *testing.T) {
	checkBoolFlag(t, "viewer-logs", "DOCKMAP_VIEWER_LOGS", func(c config) bool { return c.viewerLogs })
}
