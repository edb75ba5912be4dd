package job_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/job"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// recorder keeps every frame the registry publishes.
type recorder struct {
	mu     sync.Mutex
	frames []map[string]any
}

func (r *recorder) Publish(m hub.Message) {
	var f map[string]any
	_ = json.Unmarshal(m.Data, &f)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.frames = append(r.frames, f)
}

func (r *recorder) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, f := range r.frames {
		out = append(out, fmt.Sprint(f["type"]))
	}
	return out
}

func wait(t *testing.T, r *job.Registry, id string) protocol.JobInfo {
	t.Helper()
	info, err := r.Wait(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

func TestJobRunsAndReportsItsSteps(t *testing.T) {
	rec := &recorder{}
	r := job.New(rec)
	t.Cleanup(r.Close)
	spec := job.Spec{Kind: "mount", Title: "mount data", Plan: "p1", Steps: []job.StepSpec{{ID: "r0.stop", Text: "stop web"}, {ID: "r0.create", Text: "create web"}}}
	id, err := r.Start(spec, func(ctx context.Context, j *job.Job) (map[string]any, error) {
		j.Step(protocol.StepInfo{ID: "r0.stop", State: protocol.StepDone, Detail: "stopped"})
		j.Step(protocol.StepInfo{ID: "r0.rollback:rename", Text: "rollback: rename", State: protocol.StepRolledBack})
		j.Step(protocol.StepInfo{ID: "r0.create", State: protocol.StepDone})
		return map[string]any{"container": "new"}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	info := wait(t, r, id)
	if info.State != protocol.JobDone || info.Result["container"] != "new" || info.Plan != "p1" || info.Ended.IsZero() {
		t.Errorf("job = %+v, want done with its result", info)
	}
	var steps []string
	for _, s := range info.Steps {
		steps = append(steps, s.ID+"="+s.State+":"+s.Text)
	}
	want := []string{"r0.stop=done:stop web", "r0.create=done:create web", "r0.rollback:rename=rolled-back:rollback: rename"}
	if fmt.Sprint(steps) != fmt.Sprint(want) {
		t.Errorf("steps = %v, want %v (the plan's in order, an unplanned one after)", steps, want)
	}
	got := rec.types()
	if len(got) != 5 || got[0] != protocol.TypeJob || got[4] != protocol.TypeJob {
		t.Errorf("frames = %v, want job, three steps, job", got)
	}
	if list := r.List(); len(list) != 1 || list[0].ID != id {
		t.Errorf("List = %+v", list)
	}
}

func TestJobEndStates(t *testing.T) {
	r := job.New(&recorder{})
	t.Cleanup(r.Close)
	job.SetStatusFunc(func(err error) int {
		if errors.Is(err, topology.ErrConflict) {
			return 409
		}
		return 500
	})
	cases := map[string]struct {
		err   error
		state string
	}{
		"failed":      {fmt.Errorf("create: %w: name taken", topology.ErrConflict), protocol.JobFailed},
		"rolled back": {fmt.Errorf("create: boom (%w)", topology.ErrRolledBack), protocol.JobRolledBack},
		"canceled":    {fmt.Errorf("stop: %w", context.Canceled), protocol.JobCanceled},
	}
	for name, tc := range cases {
		id, _ := r.Start(job.Spec{Kind: "x"}, func(context.Context, *job.Job) (map[string]any, error) { return nil, tc.err })
		info := wait(t, r, id)
		if info.State != tc.state || info.Error == "" {
			t.Errorf("%s: job = %+v, want state %s with the error", name, info, tc.state)
		}
		if name == "failed" && info.Status != 409 {
			t.Errorf("failed job status = %d, want 409", info.Status)
		}
	}
}

func TestCancelAndKill(t *testing.T) {
	r := job.New(&recorder{})
	t.Cleanup(r.Close)
	started, killed := make(chan struct{}), make(chan struct{})
	id, _ := r.Start(job.Spec{Kind: "mount", Cancelable: true}, func(ctx context.Context, j *job.Job) (map[string]any, error) {
		j.SetKill(func() error { close(killed); return nil })
		close(started)
		<-killed
		j.SetKill(nil)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	<-started
	if err := r.Kill(id); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if err := r.Cancel(id); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if info := wait(t, r, id); info.State != protocol.JobCanceled {
		t.Errorf("job = %s, want canceled", info.State)
	}
	if err := r.Cancel(id); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("Cancel of an ended job = %v, want a conflict", err)
	}
	if err := r.Kill(id); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("Kill with no waiting step = %v, want a conflict", err)
	}
	for _, f := range []func(string) error{r.Cancel, r.Kill} {
		if err := f("nosuch"); !errors.Is(err, topology.ErrNotFound) {
			t.Errorf("unknown job = %v, want not found", err)
		}
	}
	if _, err := r.Get("nosuch"); !errors.Is(err, job.ErrNotFound) {
		t.Errorf("Get unknown = %v", err)
	}
}

func TestNotCancelablePastThePointOfNoReturn(t *testing.T) {
	r := job.New(&recorder{})
	t.Cleanup(r.Close)
	committing, release := make(chan struct{}), make(chan struct{})
	id, _ := r.Start(job.Spec{Kind: "mount", Cancelable: true}, func(ctx context.Context, j *job.Job) (map[string]any, error) {
		j.SetCancelable(false)
		close(committing)
		<-release
		return nil, nil
	})
	<-committing
	if err := r.Cancel(id); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("Cancel while finishing = %v, want a conflict", err)
	}
	close(release)
	if info := wait(t, r, id); info.State != protocol.JobDone {
		t.Errorf("job = %s, want done", info.State)
	}
}

func TestOldJobsAreForgotten(t *testing.T) {
	r := job.New(&recorder{})
	t.Cleanup(r.Close)
	var first string
	for i := range 60 {
		id, _ := r.Start(job.Spec{Kind: "x"}, func(context.Context, *job.Job) (map[string]any, error) { return nil, nil })
		wait(t, r, id)
		if i == 0 {
			first = id
		}
	}
	if n := len(r.List()); n > 51 {
		t.Errorf("the registry holds %d jobs, want at most the last 50 finished (and the newest)", n)
	}
	if _, err := r.Get(first); !errors.Is(err, job.ErrNotFound) {
		t.Errorf("the first job is still held: %v", err)
	}
}

func TestCloseEndsRunningJobs(t *testing.T) {
	r := job.New(&recorder{})
	started := make(chan struct{})
	id, _ := r.Start(job.Spec{Kind: "x", Cancelable: true}, func(ctx context.Context, j *job.Job) (map[string]any, error) {
		close(started)
		<-ctx.Done()
		return nil, ctx.Err()
	})
	<-started
	r.Close()
	if info, _ := r.Get(id); info.State != protocol.JobCanceled {
		t.Errorf("job after Close = %s, want canceled", info.State)
	}
	if _, err := r.Start(job.Spec{}, nil); !errors.Is(err, topology.ErrConflict) {
		t.Errorf("Start after Close = %v, want a conflict", err)
	}
}
