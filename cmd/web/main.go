// Command dockmap serves a live map of how Docker containers talk to each
// other and share data. Build it from this directory; the binary is named
// dockmap.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dockmap:", err)
		os.Exit(1)
	}
}
