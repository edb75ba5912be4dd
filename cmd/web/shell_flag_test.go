package main

import "testing"

// TestShellFlag: the shell is off unless --shell or DOCKMAP_SHELL=1 says
// otherwise, as every off-by-default switch.
func TestShellFlag(t *testing.T) {
	checkBoolFlag(t, "shell", "DOCKMAP_SHELL", func(c config) bool { return c.shell })
}
