package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/job"
	"github.com/dockmap/dockmap/internal/plan"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// Recreator carries out the plans that re-create containers or re-make
// endpoints, and deals with re-creates that did not finish. Errors wrap
// topology sentinels; docker.ErrStale (a conflict) means the world changed
// since the plan.
type Recreator interface {
	// PrepareRecreate locks and checks what a re-create plan names
	// (ErrBusy, ErrStale, ErrForbidden at once); the Recreation's Run
	// carries it out.
	PrepareRecreate(ctx context.Context, orders []docker.RecreateOrder, opts docker.RecreateOptions) (*docker.Recreation, error)
	SetEndpointLinks(ctx context.Context, ref, network string, links []string, expect docker.Expectation, peer string, progress func(docker.Step)) error
	Unlink(ctx context.Context, from, alias string) error
	// Busy reports whether a re-create of the container ref runs now.
	Busy(ref string) bool
	PreviewRecreate(ctx context.Context, id string) (docker.RecreatePreview, error)
	Leftovers(ctx context.Context) ([]docker.Leftover, error)
	RollbackLeftover(ctx context.Context, id string) error
	FinishLeftover(ctx context.Context, id string) error
}

var _ Recreator = (*docker.Client)(nil)

// confirmation is what a changing request says about the plan it carries
// out: that the caller saw it (Confirm, needed when it re-creates) and,
// from the page always, which plan it saw (Plan, its ID).
type confirmation struct {
	Confirm bool   `json:"confirm"`
	Plan    string `json:"plan"`
}

// planError is an error answered with the plan it is about: 428 when a
// plan that needs a confirm came without one, 409 when the plan the caller
// saw is not the plan today.
type planError struct {
	status int
	msg    string
	plan   *plan.Plan
}

func (e *planError) Error() string { return e.msg }

// planned makes the plan for a request and checks the request's
// confirmation against it. Nothing is changed.
//
// The plan is made from the live picture, which events keep within
// moments of the engine, so that an action costs no extra list of a busy
// engine. A plan that refuses, or that is not the one the caller
// confirmed, may come from a picture a moment behind: it is made again
// from a fresh list before it is answered. What the engine adapter then
// does is checked once more against each container (Expect). With the
// engine down, bad input still says so (400) rather than 503.
func planned(ctx context.Context, src LiveSource, conf confirmation, planFor func(topology.Graph) (*plan.Plan, error)) (*plan.Plan, error) {
	p, err := planFor(src.Snapshot().Graph)
	if err != nil || (conf.Plan != "" && conf.Plan != p.ID) {
		snap, serr := src.Sync(ctx)
		if serr != nil {
			if err != nil {
				return nil, err
			}
			return nil, serr
		}
		if p, err = planFor(snap.Graph); err != nil {
			return nil, err
		}
	}
	switch {
	case conf.Plan != "" && conf.Plan != p.ID:
		return nil, &planError{status: http.StatusConflict, plan: p,
			msg: "the plan changed since it was shown (the containers changed, or the request is for another plan): nothing was done; review the new plan and confirm it"}
	case p.Confirm && !conf.Confirm:
		return nil, &planError{status: http.StatusPreconditionRequired, plan: p,
			msg: p.Summary + "; review the plan (GET /api/plan/" + string(p.Action) + ") and send confirm: true with its id as plan"}
	}
	return p, nil
}

// withLostFiles adds to a plan the files each container it re-creates or
// removes would lose, as the engine lists them (docker diff).
func withLostFiles(ctx context.Context, r Recreator, p *plan.Plan) error {
	for _, c := range p.LosesLayers() {
		pv, err := r.PreviewRecreate(ctx, c.ID)
		if err != nil {
			return err
		}
		files := make([]plan.FileChange, 0, len(pv.LostFiles))
		for _, f := range pv.LostFiles {
			files = append(files, plan.FileChange{Path: f.Path, Kind: f.Kind})
		}
		p.LostFiles(c.ID, files, pv.Truncated)
	}
	return nil
}

// orders turns a re-creating plan into what the engine adapter carries
// out: the plan's containers, each with its expectation and change.
func orders(p *plan.Plan) []docker.RecreateOrder {
	out := make([]docker.RecreateOrder, 0, len(p.Recreates))
	for _, r := range p.Recreates {
		o := docker.RecreateOrder{ID: r.Container.ID, Expect: expectation(r.Expect)}
		for _, l := range r.Change.AddLinks {
			o.Change.AddLinks = append(o.Change.AddLinks, docker.Link{Target: l.Target.ID, Alias: l.Alias})
		}
		o.Change.RemoveLinks = r.Change.RemoveLinks
		for _, m := range r.Change.AddMounts {
			o.Change.AddMounts = append(o.Change.AddMounts, docker.MountSpec{Type: m.Type, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly})
		}
		for _, v := range r.Change.AddVolumesFrom {
			ref := v.Donor.ID
			if v.ReadOnly {
				ref += ":ro"
			}
			o.Change.AddVolumesFrom = append(o.Change.AddVolumesFrom, ref)
		}
		for _, f := range r.Change.Follow {
			o.Follow = append(o.Follow, f.ID)
		}
		out = append(out, o)
	}
	return out
}

func expectation(e plan.Expect) docker.Expectation {
	return docker.Expectation{Name: e.Name, NetworkMode: e.NetworkMode, Networks: e.Networks, Running: e.Running}
}

// stepsOf lists a plan's steps for its job.
func stepsOf(p *plan.Plan) []job.StepSpec {
	out := make([]job.StepSpec, 0, len(p.Steps))
	for _, s := range p.Steps {
		out = append(out, job.StepSpec{ID: s.ID, Text: s.Text})
	}
	return out
}

// reporter turns the engine adapter's steps into the job's, under the
// plan's step IDs. A re-create past its first removal can no longer be
// cancelled; a stop that waits offers "Kill now".
func reporter(j *job.Job, id func(docker.Step) string) func(docker.Step) {
	return func(s docker.Step) {
		info := protocol.StepInfo{ID: id(s), State: s.State, Detail: s.Detail, Deadline: s.Deadline}
		if s.Kind == "remove-old" && s.State == docker.StepRunning {
			j.SetCancelable(false)
		}
		if s.Kill != nil && s.State == docker.StepRunning {
			j.SetKill(s.Kill)
			info.Actions = []string{"kill"}
		} else if s.State != docker.StepRunning {
			j.SetKill(nil)
		}
		if strings.HasPrefix(s.Kind, "rollback:") {
			// Not in the plan: the job adds it after the plan's steps.
			info.Text = s.Name
		}
		j.Step(info)
	}
}

// recreateStepID is the plan's ID of a re-create step.
func recreateStepID(s docker.Step) string { return plan.StepID(s.Index, s.Kind, s.Network) }

// endpointStepID is the plan's ID of an endpoint change step.
func endpointStepID(s docker.Step) string { return "endpoint." + s.Kind + ":" + s.Network }

// notBusy refuses, at once, a request about a container a re-create is
// changing right now (409): the plan would be made from a container that
// is half-way (renamed aside, off its networks).
func notBusy(r Recreator, refs ...string) error {
	for _, ref := range refs {
		if ref != "" && r.Busy(strings.TrimPrefix(ref, "c:")) {
			return fmt.Errorf("%w: %s is being re-created right now; try again when it is done", topology.ErrConflict, ref)
		}
	}
	return nil
}

// jobDeps are what starting a job needs.
type jobDeps struct {
	src  LiveSource
	r    Recreator
	jobs *job.Registry
}

// startPlan runs a job plan: a re-create or endpoint changes. It answers
// 202 {job, plan}, or with ?wait=1 waits for the job and answers it (200
// when done, the failure's status otherwise). A re-create is prepared
// first, in the request: a container that is busy, or no longer what the
// plan took it for, is refused at once (409, with the plan of today).
func (d jobDeps) startPlan(c echo.Context, p *plan.Plan, title string, replan func(topology.Graph) (*plan.Plan, error)) error {
	var rec *docker.Recreation
	if p.Method == plan.MethodRecreate {
		var err error
		rec, err = d.r.PrepareRecreate(c.Request().Context(), orders(p), docker.RecreateOptions{Plan: p.ID})
		if isStale(err) {
			return d.stale(c.Request().Context(), err, replan)
		}
		if err != nil {
			return err
		}
	}
	spec := job.Spec{Kind: string(p.Action), Title: title, Plan: p.ID, Steps: stepsOf(p),
		Role: roleOf(c).String(), Remote: c.RealIP(), Cancelable: p.Method == plan.MethodRecreate}
	id, err := d.jobs.Start(spec, func(ctx context.Context, j *job.Job) (map[string]any, error) {
		res, err := d.carryOut(ctx, j, p, rec)
		// The job ends once the live picture has what it did, so that
		// whoever waits for it plans the next action on that.
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), syncAfterChange)
		snap, serr := d.src.Sync(sctx)
		cancel()
		// A plan made from a map a moment behind the engine is refused by
		// the adapter; the job's answer carries the plan of today.
		if isStale(err) && serr == nil && replan != nil {
			if fresh, perr := replan(snap.Graph); perr == nil {
				res = map[string]any{"plan": fresh}
			}
		}
		return res, err
	})
	if err != nil {
		if rec != nil {
			rec.Release()
		}
		return err
	}
	return d.answerJob(c, id, p)
}

// stale answers a plan the engine adapter found out of date: 409 with the
// plan made from the engine as it is now (or the adapter's words, when
// even that cannot be made).
func (d jobDeps) stale(ctx context.Context, err error, replan func(topology.Graph) (*plan.Plan, error)) error {
	snap, serr := d.src.Sync(ctx)
	if serr != nil || replan == nil {
		return err
	}
	p, perr := replan(snap.Graph)
	if perr != nil {
		return fmt.Errorf("%w; and now: %w", err, perr)
	}
	return &planError{status: http.StatusConflict, plan: p, msg: err.Error() + ": nothing was done; review the new plan and confirm it"}
}

// carryOut is what a plan's job does.
func (d jobDeps) carryOut(ctx context.Context, j *job.Job, p *plan.Plan, rec *docker.Recreation) (map[string]any, error) {
	switch p.Method {
	case plan.MethodRecreate:
		ids, err := rec.Run(ctx, reporter(j, recreateStepID))
		if len(ids) == 0 {
			return nil, err
		}
		made := map[string]any{}
		for i, r := range p.Recreates {
			made[r.Container.Name] = ids[i]
		}
		return map[string]any{"container": ids[0], "recreated": made}, err
	case plan.MethodEndpointAlias, plan.MethodInPlace:
		if p.Unlink != "" {
			j.Step(protocol.StepInfo{ID: "unlink", State: protocol.StepRunning})
			if err := d.r.Unlink(ctx, p.Subject.ID, p.Unlink); err != nil {
				j.Step(protocol.StepInfo{ID: "unlink", State: protocol.StepFailed, Detail: err.Error()})
				return nil, err
			}
			j.Step(protocol.StepInfo{ID: "unlink", State: protocol.StepDone})
		}
		for _, e := range p.Endpoints {
			peer := ""
			if e.Peer != nil {
				peer = e.Peer.ID
			}
			err := d.r.SetEndpointLinks(ctx, e.Container.ID, e.Network.Name, e.Links, expectation(e.Expect), peer, reporter(j, endpointStepID))
			if err != nil {
				return nil, err
			}
		}
		return map[string]any{"container": p.Subject.ID}, nil
	}
	return nil, fmt.Errorf("plan method %s runs no job", p.Method)
}

// answerJob answers a request that started a job.
func (d jobDeps) answerJob(c echo.Context, id string, p *plan.Plan) error {
	if w := c.QueryParam("wait"); w != "1" && w != "true" {
		return c.JSON(http.StatusAccepted, map[string]any{"job": id, "plan": p})
	}
	// A caller that waits gets the job's outcome, bounded by the slowest
	// re-create: stops, health checks and rollbacks included.
	ctx, cancel := context.WithTimeout(c.Request().Context(), 10*time.Minute)
	defer cancel()
	info, err := d.jobs.Wait(ctx, id)
	if err != nil {
		return err
	}
	if info.State != protocol.JobDone {
		status := info.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		var answer any = p
		if fresh, ok := info.Result["plan"]; ok {
			answer = fresh
		}
		return c.JSON(status, map[string]any{"error": http.StatusText(status), "detail": info.Error, "job": info, "plan": answer})
	}
	return c.JSON(http.StatusOK, map[string]any{"job": info, "plan": p})
}

// isStale reports whether err says the world changed since the plan.
func isStale(err error) bool { return errors.Is(err, docker.ErrStale) }

// answerPlan answers a plan request (made as planned makes it), with the
// files each re-created or removed container would lose.
func (d jobDeps) answerPlan(c echo.Context, planFor func(topology.Graph) (*plan.Plan, error)) error {
	ctx := c.Request().Context()
	p, err := planned(ctx, d.src, confirmation{Confirm: true}, planFor)
	if err != nil {
		return err
	}
	if err := withLostFiles(ctx, d.r, p); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// queryBool reads an optional boolean query parameter: nil when absent.
func queryBool(q url.Values, key string) *bool {
	if !q.Has(key) {
		return nil
	}
	v := q.Get(key)
	b := v == "1" || v == "true" || v == "on"
	return &b
}

// handlePlan serves "GET /api/plan/:action?…": what an action would do,
// with the same parameters as its request (container, network and volume
// name the subject). Nothing is changed.
func handlePlan(d jobDeps, pl *plan.Planner) echo.HandlerFunc {
	return func(c echo.Context) error {
		q := c.QueryParams()
		b := func(k string) bool { v := queryBool(q, k); return v != nil && *v }
		var planFor func(topology.Graph) (*plan.Plan, error)
		switch plan.Action(c.Param("action")) {
		case plan.ActionAddLink:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.AddLink(g, plan.LinkRequest{From: q.Get("from"), To: q.Get("to"), Alias: q.Get("alias"), RecreateDependents: queryBool(q, "recreateDependents")})
			}
		case plan.ActionRemoveLink:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.RemoveLink(g, plan.UnlinkRequest{From: q.Get("from"), Alias: q.Get("alias"), RecreateDependents: queryBool(q, "recreateDependents")})
			}
		case plan.ActionRepairLink:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.RepairLink(g, plan.RepairRequest{From: q.Get("from"), Alias: q.Get("alias"), RecreateDependents: queryBool(q, "recreateDependents")})
			}
		case plan.ActionMount:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.Mount(g, plan.MountRequest{Container: q.Get("container"), Volume: q.Get("volume"), VolumesFrom: q.Get("volumesFrom"),
					Bind: q.Get("bind"), Target: q.Get("target"), ReadOnly: b("readOnly"), RecreateDependents: queryBool(q, "recreateDependents")})
			}
		case plan.ActionConnect:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.Connect(g, plan.ConnectRequest{Network: q.Get("network"), Container: q.Get("container"), Aliases: q["aliases"], IP: q.Get("ip")})
			}
		case plan.ActionDisconnect:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.Disconnect(g, plan.DisconnectRequest{Network: q.Get("network"), Container: q.Get("container")})
			}
		case plan.ActionRun:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.Run(g, plan.RunRequest{Name: q.Get("name"), Image: q.Get("image"), Cmd: q["cmd"], Network: q.Get("network")})
			}
		case plan.ActionStart, plan.ActionStop, plan.ActionRestart, plan.ActionRemoveContainer:
			action := plan.Action(c.Param("action"))
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return lifecyclePlan(pl, action)(g, plan.ContainerRequest{Container: q.Get("container"), Force: b("force")})
			}
		case plan.ActionCreateNetwork:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.CreateNetwork(g, plan.NetworkRequest{Name: q.Get("name"), Subnet: q.Get("subnet"), Gateway: q.Get("gateway"),
					Internal: b("internal"), ICC: queryBool(q, "icc"), Attachable: b("attachable"), Driver: q.Get("driver"), Encrypted: b("encrypted")})
			}
		case plan.ActionRemoveNetwork:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.RemoveNetwork(g, plan.RemoveNetworkRequest{Network: q.Get("network"), Detach: b("detach")})
			}
		case plan.ActionCreateVolume:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.CreateVolume(g, plan.VolumeRequest{Name: q.Get("name")})
			}
		case plan.ActionScaleService:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				var n *uint64
				if v, err := strconv.ParseUint(q.Get("replicas"), 10, 32); err == nil {
					n = &v
				}
				return pl.ScaleService(g, plan.ScaleRequest{Service: q.Get("service"), Replicas: n})
			}
		case plan.ActionNodeAvailability:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.NodeAvailability(g, plan.AvailabilityRequest{Node: q.Get("node"), Availability: q.Get("availability")})
			}
		case plan.ActionRemoveVolume:
			planFor = func(g topology.Graph) (*plan.Plan, error) {
				return pl.RemoveVolume(g, plan.RemoveVolumeRequest{Volume: q.Get("volume"), Confirm: q.Get("confirm")})
			}
		default:
			return echo.NewHTTPError(http.StatusNotFound, "unknown action "+c.Param("action"))
		}
		return d.answerPlan(c, planFor)
	}
}

// lifecyclePlan is the planner's function for a container action.
func lifecyclePlan(pl *plan.Planner, a plan.Action) func(topology.Graph, plan.ContainerRequest) (*plan.Plan, error) {
	switch a {
	case plan.ActionStart:
		return pl.Start
	case plan.ActionStop:
		return pl.Stop
	case plan.ActionRestart:
		return pl.Restart
	}
	return pl.RemoveContainer
}
