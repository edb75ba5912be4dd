// Package job runs dockmap's long actions as jobs: each has an ID, typed
// steps, a state and, while the engine allows, a way to cancel it. One
// registry serves the live progress (job and step frames), the Activity
// panel (List) and crash recovery (jobs found at start-up that a dockmap
// which is gone left half-way, added with Adopt).
//
// # Concurrency
//
// A Registry is safe for concurrent use. Each job runs in a goroutine of
// its own, on a context that outlives the request that started it (a
// closed browser tab does not stop a re-create half-way) and that Cancel
// ends; Close cancels every running job and waits for them.
package job

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/protocol"
	"github.com/dockmap/dockmap/internal/topology"
)

// Publisher sends a live message to every browser.
type Publisher interface{ Publish(hub.Message) }

// keep is how many finished jobs the registry remembers for the Activity
// panel and GET /api/jobs/{id}.
const keep = 50

// ErrNotFound is returned, wrapped, for a job ID the registry does not
// know; it wraps topology.ErrNotFound.
var ErrNotFound = fmt.Errorf("%w: no such job", topology.ErrNotFound)

// Registry holds the jobs.
type Registry struct {
	pub Publisher
	now func() time.Time
	wg  sync.WaitGroup

	mu   sync.Mutex // protects the fields below and every job's fields
	jobs map[string]*Job
	// order holds job IDs, oldest first.
	order  []string
	closed bool
}

// New returns an empty registry that publishes to pub.
func New(pub Publisher) *Registry {
	if pub == nil {
		panic("job.New: nil publisher")
	}
	return &Registry{pub: pub, now: time.Now, jobs: make(map[string]*Job)}
}

// Job is one job. Its methods are for the code the job runs; readers use
// the registry's Get and List. A nil *Job reports nothing, so the same code
// can run an action inline, outside any job.
type Job struct {
	r      *Registry
	info   protocol.JobInfo
	cancel context.CancelFunc
	// kill, while set, ends the step that waits (a container that ignores
	// its stop signal) at once.
	kill func() error
	done chan struct{}
}

// Spec is what a job is.
type Spec struct {
	Kind  string
	Title string
	// Plan is the ID of the plan the job carries out, and Steps its steps
	// (shown pending until they run).
	Plan  string
	Steps []StepSpec
	// Role and Remote say who asked.
	Role, Remote string
	// Cancelable says whether the job can be cancelled when it starts.
	Cancelable bool
}

// StepSpec is a step known before it runs.
type StepSpec struct {
	ID   string
	Text string
}

// Func is what a job does. It reports steps through j, returns what it
// made (shown as the job's result) or why it failed.
type Func func(ctx context.Context, j *Job) (map[string]any, error)

// newID returns a fresh job ID: 16 hex digits.
func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Start registers a job and runs fn in a goroutine of its own. It returns
// the job's ID at once.
func (r *Registry) Start(spec Spec, fn Func) (string, error) {
	ctx, cancel := context.WithCancel(context.Background())
	j := &Job{r: r, cancel: cancel, done: make(chan struct{})}
	j.info = protocol.JobInfo{ID: newID(), Kind: spec.Kind, Title: spec.Title, State: protocol.JobRunning, Plan: spec.Plan,
		Role: spec.Role, Remote: spec.Remote, Cancelable: spec.Cancelable, Started: r.now().UTC()}
	for _, s := range spec.Steps {
		j.info.Steps = append(j.info.Steps, protocol.StepInfo{ID: s.ID, Text: s.Text, State: protocol.StepPending})
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		cancel()
		return "", fmt.Errorf("%w: dockmap is shutting down", topology.ErrConflict)
	}
	r.addLocked(j)
	r.wg.Add(1)
	r.publishJobLocked(j)
	r.mu.Unlock()

	go func() {
		defer r.wg.Done()
		defer cancel()
		res, err := fn(ctx, j)
		j.finish(res, err)
	}()
	return j.info.ID, nil
}

// addLocked adds j, forgetting the oldest finished jobs beyond keep.
func (r *Registry) addLocked(j *Job) {
	r.jobs[j.info.ID] = j
	r.order = append(r.order, j.info.ID)
	finished := 0
	for _, id := range r.order {
		if r.jobs[id].finishedLocked() {
			finished++
		}
	}
	for i := 0; finished > keep && i < len(r.order); {
		id := r.order[i]
		if r.jobs[id].finishedLocked() {
			delete(r.jobs, id)
			r.order = slices.Delete(r.order, i, i+1)
			finished--
			continue
		}
		i++
	}
}

func (j *Job) finishedLocked() bool {
	switch j.info.State {
	case protocol.JobRunning, protocol.JobInterrupted, protocol.JobElsewhere:
		return false
	}
	return true
}

// statusFunc maps a job's error to the HTTP status its answer would have
// had; the server sets it (it knows the mapping) with SetStatusFunc. Atomic:
// every server made sets it, and tests make servers in parallel.
var statusFunc atomic.Pointer[func(error) int]

// statusOf is statusFunc's status for err, 500 when none was set.
func statusOf(err error) int {
	if f := statusFunc.Load(); f != nil {
		return (*f)(err)
	}
	return 500
}

// SetStatusFunc tells the package how errors map to HTTP statuses, for
// JobInfo.Status. It is called at wiring time.
func SetStatusFunc(f func(error) int) { statusFunc.Store(&f) }

// finish records how the job ended.
func (j *Job) finish(res map[string]any, err error) {
	r := j.r
	r.mu.Lock()
	defer r.mu.Unlock()
	j.info.Ended = r.now().UTC()
	j.info.Cancelable = false
	j.kill = nil
	switch {
	case err == nil:
		j.info.State = protocol.JobDone
		j.info.Result = res
	case errors.Is(err, context.Canceled):
		j.info.State, j.info.Error = protocol.JobCanceled, err.Error()
	case errors.Is(err, topology.ErrRolledBack):
		j.info.State, j.info.Error, j.info.Status = protocol.JobRolledBack, err.Error(), statusOf(err)
	default:
		j.info.State, j.info.Error, j.info.Status = protocol.JobFailed, err.Error(), statusOf(err)
		j.info.Result = res
	}
	close(j.done)
	r.publishJobLocked(j)
}

// Step reports a step: its state and detail now. A step the job did not
// announce (a rollback step) is added after the others.
func (j *Job) Step(s protocol.StepInfo) {
	if j == nil {
		return
	}
	r := j.r
	r.mu.Lock()
	defer r.mu.Unlock()
	s.At = r.now().UTC()
	i := slices.IndexFunc(j.info.Steps, func(x protocol.StepInfo) bool { return x.ID == s.ID })
	if i < 0 {
		j.info.Steps = append(j.info.Steps, s)
	} else {
		if s.Text == "" {
			s.Text = j.info.Steps[i].Text
		}
		j.info.Steps[i] = s
	}
	r.pub.Publish(protocol.Message(&protocol.Step{Job: j.info.ID, StepInfo: s}))
}

// SetCancelable says whether Cancel can still stop the job (a re-create
// past the point of no return cannot).
func (j *Job) SetCancelable(ok bool) {
	if j == nil {
		return
	}
	r := j.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if j.info.Cancelable == ok {
		return
	}
	j.info.Cancelable = ok
	r.publishJobLocked(j)
}

// SetKill offers kill to "Kill now" while the step that waits runs; nil
// takes the offer back.
func (j *Job) SetKill(kill func() error) {
	if j == nil {
		return
	}
	r := j.r
	r.mu.Lock()
	defer r.mu.Unlock()
	j.kill = kill
}

// ID is the job's ID.
func (j *Job) ID() string {
	if j == nil {
		return ""
	}
	return j.info.ID
}

func (r *Registry) publishJobLocked(j *Job) {
	info := j.snapshotLocked()
	r.pub.Publish(protocol.Message(&protocol.Job{Job: info}))
}

func (j *Job) snapshotLocked() protocol.JobInfo {
	info := j.info
	info.Steps = slices.Clone(j.info.Steps)
	return info
}

// Get returns a job.
func (r *Registry) Get(id string) (protocol.JobInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	j, ok := r.jobs[id]
	if !ok {
		return protocol.JobInfo{}, fmt.Errorf("%w %q", ErrNotFound, id)
	}
	return j.snapshotLocked(), nil
}

// List returns every job the registry holds, newest first.
func (r *Registry) List() []protocol.JobInfo {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]protocol.JobInfo, 0, len(r.order))
	for i := len(r.order) - 1; i >= 0; i-- {
		out = append(out, r.jobs[r.order[i]].snapshotLocked())
	}
	return out
}

// Wait waits until the job has ended (or ctx ends) and returns it.
func (r *Registry) Wait(ctx context.Context, id string) (protocol.JobInfo, error) {
	r.mu.Lock()
	j, ok := r.jobs[id]
	r.mu.Unlock()
	if !ok {
		return protocol.JobInfo{}, fmt.Errorf("%w %q", ErrNotFound, id)
	}
	if j.done != nil {
		select {
		case <-j.done:
		case <-ctx.Done():
			return protocol.JobInfo{}, ctx.Err()
		}
	}
	return r.Get(id)
}

// Cancel asks a running job to stop; a re-create then rolls back. It
// returns ErrNotFound for an unknown job and an error wrapping
// topology.ErrConflict for a job that has ended or can no longer be
// cancelled.
func (r *Registry) Cancel(id string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	j, ok := r.jobs[id]
	switch {
	case !ok:
		return fmt.Errorf("%w %q", ErrNotFound, id)
	case j.info.State != protocol.JobRunning:
		return fmt.Errorf("%w: job %s has already ended (%s)", topology.ErrConflict, id, j.info.State)
	case !j.info.Cancelable:
		return fmt.Errorf("%w: job %s can no longer be cancelled: the new containers are up and it is finishing", topology.ErrConflict, id)
	}
	j.cancel()
	return nil
}

// Kill ends the step that waits for a container to stop at once (the
// engine kills it). It returns ErrNotFound for an unknown job and an error
// wrapping topology.ErrConflict when no step waits.
func (r *Registry) Kill(id string) error {
	r.mu.Lock()
	j, ok := r.jobs[id]
	var kill func() error
	if ok {
		kill = j.kill
	}
	r.mu.Unlock()
	switch {
	case !ok:
		return fmt.Errorf("%w %q", ErrNotFound, id)
	case kill == nil:
		return fmt.Errorf("%w: job %s is not waiting for a container to stop", topology.ErrConflict, id)
	}
	return kill()
}

// Close cancels every running job and waits for them to end (a re-create
// rolls back first).
func (r *Registry) Close() {
	r.mu.Lock()
	r.closed = true
	for _, j := range r.jobs {
		if j.cancel != nil {
			j.cancel()
		}
	}
	r.mu.Unlock()
	r.wg.Wait()
}
