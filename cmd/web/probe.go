package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/dockmap/dockmap/internal/probe"
)

// maxProbeTargets bounds one `dockmap probe` run; a matrix row of a few
// hundred containers fits.
const maxProbeTargets = 1024

// probeParallel bounds the targets probed at once (each holds a socket).
const probeParallel = 128

// runProbe is `dockmap probe [--port N] [--timeout 1s] [--container-names] TARGET...`, the
// probe a helper container runs in the network namespace of the container
// it probes from (see package probe). args[0] is "probe". It probes every
// target at once and prints one JSON line per target, in argument order:
// {"target","ok","rttMs","resolved","failure","detail"}. A target that
// cannot be reached is a result, not an error: it exits 0 unless the
// command line is wrong.
//
// The hidden flag --hold=DURATION makes it wait that long (or until it is
// stopped) instead of probing. A long-lived probe helper runs it, and the
// probes are then exec'd next to it; tests also use it to keep a container
// of the probe image running as a source that has no ping.
func runProbe(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("dockmap probe", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	port := fs.Int("port", 0, "TCP port to connect to; 0 sends an ICMP echo")
	timeout := fs.Duration("timeout", time.Second, "how long to wait for the name, then for the answer")
	containerNames := fs.Bool("container-names", false, "the names are containers' names or aliases: fail at once when neither /etc/hosts nor Docker's embedded DNS can resolve them")
	hold := fs.Duration("hold", 0, "")
	usage := func() string {
		var b strings.Builder
		b.WriteString("usage: dockmap probe [--port N] [--timeout 1s] [--container-names] TARGET...\n")
		fs.VisitAll(func(f *flag.Flag) {
			if f.Usage != "" {
				fmt.Fprintf(&b, "  --%s (default %s): %s\n", f.Name, f.DefValue, f.Usage)
			}
		})
		return b.String()
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			_, err = io.WriteString(stdout, usage())
			return err
		}
		return fmt.Errorf("probe: %w\n%s", err, usage())
	}
	targets := fs.Args()
	if *hold > 0 {
		// With targets, a sidecar's start answers its first probes (see
		// docker.Client.StartHelperOutput): probe, then hold.
		if len(targets) > 0 {
			if err := probeTargets(ctx, stdout, targets, *port, *timeout, *containerNames); err != nil {
				return err
			}
		}
		t := time.NewTimer(*hold)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		return nil
	}
	if len(targets) == 0 {
		return fmt.Errorf("probe: no target\n%s", usage())
	}
	return probeTargets(ctx, stdout, targets, *port, *timeout, *containerNames)
}

// probeTargets probes every target at once and prints one JSON line per
// target, in argument order.
func probeTargets(ctx context.Context, stdout io.Writer, targets []string, port int, timeout time.Duration, containerNames bool) error {
	switch {
	case len(targets) > maxProbeTargets:
		return fmt.Errorf("probe: %d targets, at most %d", len(targets), maxProbeTargets)
	case port < 0 || port > 65535:
		return fmt.Errorf("probe: --port %d is out of range", port)
	case timeout <= 0:
		return fmt.Errorf("probe: --timeout must be positive")
	}
	// A container name resolves only through /etc/hosts or Docker's
	// embedded DNS; where neither can answer (the default bridge), asking
	// the source's other resolvers costs each name a round trip, or a
	// whole timeout when they drop a burst, and cannot find a container.
	// Files that cannot be read leave the lookups to the resolver.
	var names *probe.Names
	if containerNames {
		names, _ = probe.ReadNames(probe.HostsPath, probe.ResolvPath)
	}
	lines := make([]probe.Line, len(targets))
	sem := make(chan struct{}, probeParallel)
	var wg sync.WaitGroup
	for i, t := range targets {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			lines[i] = probe.Local(ctx, t, port, timeout, names)
		})
	}
	wg.Wait()
	enc := json.NewEncoder(stdout)
	for _, l := range lines {
		if err := enc.Encode(l); err != nil {
			return fmt.Errorf("probe: write result: %w", err)
		}
	}
	return nil
}

// runLease is `dockmap lease`, the process of a lease container (see
// docker.Client.StartLease): it reads stdin until end of file, which comes
// when the dockmap holding the lease releases it or dies, and exits 0. It
// also ends when ctx does (the container is stopped).
func runLease(ctx context.Context, stdin io.Reader) error {
	eof := make(chan error, 1)
	go func() {
		_, err := io.Copy(io.Discard, stdin)
		eof <- err
	}()
	select {
	case err := <-eof:
		if err != nil {
			return fmt.Errorf("lease: read stdin: %w", err)
		}
	case <-ctx.Done():
	}
	return nil
}
