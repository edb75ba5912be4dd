package probe

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/topology"
)

// runBatch runs the led jobs of one source and port in one helper run,
// which probes every target at once. If the helper image cannot be made
// (a library of a dockmap built with cgo is missing), each job falls back to runOne, which uses the
// source's own tools.
func (p *Prober) runBatch(ctx context.Context, js []*job) {
	targets := make([]string, 0, len(js))
	for _, j := range js {
		targets = append(targets, j.key.target)
	}
	outs, imgErr := p.viaHelper(ctx, js[0].key.from, js[0].key.port, targets, "")
	if imgErr == nil || ctx.Err() != nil {
		for _, j := range js {
			p.finish(j, outs[j.key.target])
		}
		return
	}
	var wg sync.WaitGroup
	for _, j := range js {
		wg.Go(func() { p.finish(j, p.runOne(ctx, j.req)) })
	}
	wg.Wait()
}

// viaHelper probes targets from the source's network namespace with one
// helper run of `dockmap probe` and returns an outcome for every target.
// imgErr is set when the probe image is unavailable; every outcome then
// says so, after why (the reason the helper was needed, if any).
func (p *Prober) viaHelper(ctx context.Context, from string, port int, targets []string, why string) (outs map[string]outcome, imgErr error) {
	outs = make(map[string]outcome, len(targets))
	all := func(o outcome) map[string]outcome {
		for _, t := range targets {
			outs[t] = o
		}
		return outs
	}
	for attempt := 0; ; attempt++ {
		ref, err := p.probeImage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return all(cancelled(ctx.Err())), nil
			}
			detail := "the probe helper is unavailable: " + err.Error()
			if why != "" {
				detail = why + "; " + detail
			}
			return all(outcome{failure: FailImpossible, detail: detail, method: MethodHelper}), err
		}
		res, err := p.runHelper(ctx, from, ref, port, targets)
		if err != nil {
			if ctx.Err() != nil {
				return all(cancelled(ctx.Err())), nil
			}
			// Someone removed the image since it was made: the client
			// has forgotten it, and the next HelperImage makes it again.
			if errors.Is(err, topology.ErrNotFound) && attempt == 0 && strings.Contains(strings.ToLower(err.Error()), "image") {
				continue
			}
			detail := err.Error()
			if why != "" {
				detail = why + "; the probe helper failed too: " + detail
			}
			return all(outcome{failure: FailImpossible, detail: detail, method: MethodHelper}), nil
		}
		lines := parseLines(res.Stdout)
		for _, t := range targets {
			l, ok := lines[t]
			if !ok {
				outs[t] = outcome{failure: FailImpossible, method: MethodHelper,
					detail: fmt.Sprintf("the probe helper exited with status %d and no result for %s: %s",
						res.ExitCode, t, firstLine(res.Stderr, "no output"))}
				continue
			}
			outs[t] = l.outcome()
		}
		return outs, nil
	}
}

// runHelper runs `dockmap probe` on targets in the source's namespace.
// Every name a Request carries is a container's name or alias, or a
// Swarm service's name, taken from the graph: --container-names lets the
// helper fail such a name at once where only the host's resolvers could
// be asked (the default bridge).
func (p *Prober) runHelper(ctx context.Context, from, image string, port int, targets []string) (docker.ExecResult, error) {
	args := []string{"--timeout", p.timeout.String(), "--container-names"}
	if port != 0 {
		args = append(args, "--port", strconv.Itoa(port))
	}
	args = append(args, "--")
	args = append(args, slices.Compact(slices.Sorted(slices.Values(targets)))...)
	return p.helperExec(ctx, from, image, args)
}

// Line is one target's result as `dockmap probe` prints it: one JSON
// object per line on its standard output.
type Line struct {
	Target   string  `json:"target"`
	OK       bool    `json:"ok"`
	RTTms    float64 `json:"rttMs"`
	Resolved string  `json:"resolved"`
	// Failure is "" or one of FailName, FailTimeout, FailNoRoute,
	// FailRefused and FailImpossible.
	Failure string `json:"failure"`
	Detail  string `json:"detail"`
}

// outcome checks a line read from a helper: it comes from outside the
// process, so an unknown failure kind is reported as such.
func (l Line) outcome() outcome {
	o := outcome{ok: l.OK, rttMs: l.RTTms, resolved: l.Resolved, failure: l.Failure, detail: cut(l.Detail), method: MethodHelper}
	switch {
	case o.ok:
		o.failure = ""
	case !slices.Contains([]string{FailName, FailTimeout, FailNoRoute, FailRefused, FailImpossible}, o.failure):
		o.failure, o.detail = FailImpossible, cut(fmt.Sprintf("unknown failure %q: %s", l.Failure, l.Detail))
	}
	return o
}

// parseLines reads the JSON lines of a helper's output, by target, and
// skips anything else it printed.
func parseLines(out string) map[string]Line {
	lines := make(map[string]Line)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var l Line
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || l.Target == "" {
			continue
		}
		lines[l.Target] = l
	}
	return lines
}
