//go:build dockmaptest

package main

import (
	"fmt"
	"io"

	"github.com/dockmap/dockmap/internal/docker"
)

// pauseEnv names the re-create step before which a dockmap built with the
// dockmaptest tag stops and waits forever ("rename", "create", "connect
// net", "remove old", ...), so that a test can kill it right there.
const pauseEnv = "DOCKMAP_TEST_PAUSE_BEFORE"

// installTestHooks pauses re-creates as pauseEnv says, and says so on out.
func installTestHooks(dc *docker.Client, getenv func(string) string, out io.Writer) {
	at := getenv(pauseEnv)
	if at == "" {
		return
	}
	docker.SetStepHook(dc, func(step string) error {
		if step != at {
			return nil
		}
		fmt.Fprintf(out, "dockmap-test: paused before %s\n", step)
		select {} // until the test kills the process
	})
}
