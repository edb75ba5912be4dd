//go:build !dockmaptest

package main

import (
	"io"

	"github.com/dockmap/dockmap/internal/docker"
)

// installTestHooks does nothing: only a dockmap built with the dockmaptest
// tag can be paused at a step (testhooks_on.go).
func installTestHooks(*docker.Client, func(string) string, io.Writer) {}
