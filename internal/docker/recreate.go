package docker

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/docker/docker/api/types/container"

	"github.com/dockmap/dockmap/internal/topology"
)

// Link is a legacy link or an endpoint link alias: the container named
// Target is reachable under the name Alias.
type Link struct {
	// Target is the linked container's name or full ID.
	Target string
	// Alias is the name the target gets inside the linking container.
	Alias string
}

// RecreateChange is what a recreate adds to, or removes from, the copied
// spec of the container.
type RecreateChange struct {
	// AddLinks are legacy links to add (default bridge only).
	AddLinks []Link
	// RemoveLinks are the aliases of links to drop, live or broken (a
	// link whose target was removed).
	RemoveLinks []string
	// AddMounts are mounts to add (volume, bind or tmpfs). A destination
	// the container already mounts something at is refused (ErrInvalid).
	AddMounts []MountSpec
	// AddVolumesFrom are containers whose mounts to copy, like
	// `--volumes-from`: "<donor name or ID>", or with ":ro" to copy them
	// read-only (":rw" is the default). The donor must exist (else
	// ErrNotFound) and not be the container itself (ErrInvalid); a donor
	// mount at a destination the container already uses is refused
	// (ErrInvalid).
	AddVolumesFrom []string
}

// Expectation is what the caller's plan takes a container to be. A
// RecreateAll whose containers are no longer so changes nothing and
// returns ErrStale: the world changed since the plan was made.
type Expectation struct {
	Name        string
	NetworkMode string
	// Networks are the names of the networks it is attached to.
	Networks []string
	Running  bool
}

// RecreateOrder is one container of a RecreateAll.
type RecreateOrder struct {
	// ID is the container's full ID.
	ID     string
	Expect Expectation
	Change RecreateChange
	// Follow are the IDs of containers re-created earlier in the same
	// RecreateAll: this container's legacy links to them, its network
	// namespace and its volumes-from that name them move to their new
	// containers.
	Follow []string
}

// RecreateOptions say which job a RecreateAll belongs to, for its journal.
type RecreateOptions struct {
	Job  string
	Plan string
}

// ErrStale is returned, wrapped, when a container is no longer what the
// plan took it to be. It wraps topology.ErrConflict.
var ErrStale = fmt.Errorf("%w: the plan is out of date", topology.ErrConflict)

// Step is one step of a recreate or a link change, reported as it starts,
// as it changes and as it ends.
type Step struct {
	// Index is which container of a RecreateAll the step acts on.
	Index int
	// Kind is stop, rename, disconnect, create, connect, start, verify or
	// remove-old; an undo step is "rollback:" and remove-new, rename,
	// reconnect or start. Endpoint changes report disconnect and connect.
	Kind string
	// Network is the network of a connect, disconnect or reconnect.
	Network string
	// Name is the step in words, as messages and the test hook say it:
	// "stop", "connect appnet", "remove old", "rollback: rename".
	Name string
	// State is "running", "done", "failed" or "rolled-back".
	State string
	// Detail says what the step did or why it failed, or, while it waits,
	// why.
	Detail string
	// Deadline, while set, is when the step ends by itself (the engine
	// kills a container that ignores its stop signal).
	Deadline time.Time
	// Kill, while set, ends the waiting step at once.
	Kill func() error
}

// Step states.
const (
	StepRunning    = "running"
	StepDone       = "done"
	StepFailed     = "failed"
	StepRolledBack = "rolled-back"
)

// stepName is a step in words: the kind with spaces, the network after.
func stepName(kind, network string) string {
	name := strings.ReplaceAll(kind, "-", " ")
	if r, ok := strings.CutPrefix(name, "rollback:"); ok {
		name = "rollback: " + r
	}
	if network != "" {
		name += " " + network
	}
	return name
}

// ErrBusy is returned, wrapped, when a recreate or a link change of the
// same container is already running. It wraps topology.ErrConflict.
var ErrBusy = fmt.Errorf("a recreate of this container is already running: %w", topology.ErrConflict)

const (
	// defaultStopTimeout is how long the old container gets to stop
	// before it is killed, unless it says otherwise (StopTimeout).
	defaultStopTimeout = 10 * time.Second
	// stopPatience is how long a stop may take before the step says why
	// it waits: a container that ignores its stop signal is killed only
	// when its stop timeout runs out.
	stopPatience = 2 * time.Second
	// upGrace is how long a new container without a healthcheck must stay
	// up to count as started.
	upGrace = time.Second
	// maxHealthWait bounds the wait for a healthcheck to pass.
	maxHealthWait = 2 * time.Minute
	// rollbackTimeout bounds a rollback, which runs even when the caller's
	// context is cancelled.
	rollbackTimeout = 2 * time.Minute
)

// recreateState is the part of a Client that recreates and link changes
// use.
type recreateState struct {
	mu   sync.Mutex          // protects fields below
	busy map[string]struct{} // IDs and names of containers being changed
	// hook, set only by tests (export_recreate_test.go), runs before each
	// step with the step's name; an error it returns fails the step.
	hook func(step string) error
}

// lease holds the keys (IDs and names) a running operation has locked.
type lease struct {
	c    *Client
	keys []string
}

// add locks more keys for the same operation; keys it already holds are
// skipped. It returns ErrBusy, locking none, if another operation holds one.
func (l *lease) add(keys ...string) error {
	s := &l.c.rec
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy == nil {
		s.busy = make(map[string]struct{})
	}
	var fresh []string
	for _, k := range keys {
		k = strings.TrimPrefix(k, "/")
		if k == "" || slices.Contains(l.keys, k) || slices.Contains(fresh, k) {
			continue
		}
		if _, held := s.busy[k]; held {
			return ErrBusy
		}
		fresh = append(fresh, k)
	}
	for _, k := range fresh {
		s.busy[k] = struct{}{}
	}
	l.keys = append(l.keys, fresh...)
	return nil
}

// release unlocks every key of the lease.
func (l *lease) release() {
	s := &l.c.rec
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range l.keys {
		delete(s.busy, k)
	}
	l.keys = nil
}

// busy reports whether an operation holds key.
// Busy reports whether a re-create or a link change of the container named
// ref (a name or full ID) is running: meanwhile its name may be moved
// aside for a moment, so it is neither missing nor free.
func (c *Client) Busy(ref string) bool { return c.busy(ref) }

func (c *Client) busy(key string) bool {
	c.rec.mu.Lock()
	defer c.rec.mu.Unlock()
	_, held := c.rec.busy[strings.TrimPrefix(key, "/")]
	return held
}

// lockContainer locks a container for one operation and returns its
// inspect, taken under the lock. It locks ref (a name or ID), the
// container's ID and its name all at once, so that of two operations on
// one container, however each names it, exactly one gets the lock and the
// other ErrBusy. A name that a running recreate has moved away for a
// moment is busy, not missing. With l non-nil, the keys go to that lease.
func (c *Client) lockContainer(ctx context.Context, op, ref string) (*lease, container.InspectResponse, error) {
	l := &lease{c: c}
	info, err := c.lockInto(ctx, l, op, ref)
	if err != nil {
		return nil, info, err
	}
	return l, info, nil
}

// lockInto locks a container into lease l (see lockContainer); on failure
// l keeps only what it held before.
func (c *Client) lockInto(ctx context.Context, l *lease, op, ref string) (container.InspectResponse, error) {
	fail := func(err error) (container.InspectResponse, error) {
		return container.InspectResponse{}, fmt.Errorf("%s %s: %w", op, ref, err)
	}
	if c.busy(ref) && !slices.Contains(l.keys, strings.TrimPrefix(ref, "/")) {
		return fail(ErrBusy)
	}
	info, err := c.inspect(ctx, ref)
	if err != nil {
		if errors.Is(err, topology.ErrNotFound) && c.busy(ref) {
			err = ErrBusy
		}
		return fail(err)
	}
	held := len(l.keys)
	if err := l.add(ref, info.ID, containerName(info)); err != nil {
		return fail(err)
	}
	// The container may have changed between the first inspect and the
	// lock: what the operation works from is read under the lock.
	locked, err := c.inspect(ctx, info.ID)
	if err == nil && containerName(locked) != containerName(info) {
		err = fmt.Errorf("%w: %s was renamed meanwhile: try again", topology.ErrConflict, containerName(info))
	}
	if err != nil {
		l.releaseFrom(held)
		return fail(err)
	}
	return locked, nil
}

// releaseFrom unlocks the keys the lease took after its first n.
func (l *lease) releaseFrom(n int) {
	s := &l.c.rec
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range l.keys[n:] {
		delete(s.busy, k)
	}
	l.keys = l.keys[:n]
}

// runHook runs the test hook for a step, if one is set.
func (c *Client) runHook(step string) error {
	c.rec.mu.Lock()
	h := c.rec.hook
	c.rec.mu.Unlock()
	if h == nil {
		return nil
	}
	return h(step)
}

func (c *Client) inspect(ctx context.Context, ref string) (container.InspectResponse, error) {
	info, err := c.api.ContainerInspect(ctx, ref)
	if err != nil {
		return info, translate("inspect container "+ref, err)
	}
	if info.ContainerJSONBase == nil || info.Config == nil || info.HostConfig == nil {
		return info, fmt.Errorf("inspect container %s: incomplete answer from the engine", ref)
	}
	return info, nil
}

// containerName is the container's name without the leading slash.
func containerName(info container.InspectResponse) string {
	return strings.TrimPrefix(info.Name, "/")
}

// Recreate replaces one container (name or full ID) by a copy of itself
// with ch applied: RecreateAll of that container alone, with no
// expectation checked.
func (c *Client) Recreate(ctx context.Context, id string, ch RecreateChange, progress func(Step)) (newID string, err error) {
	ids, err := c.RecreateAll(ctx, []RecreateOrder{{ID: id, Change: ch}}, RecreateOptions{}, progress)
	if len(ids) > 0 {
		newID = ids[0]
	}
	return newID, err
}

// RecreateAll replaces containers by copies of themselves, in order, each
// with its change applied, keeping every setting, network, alias, static
// IP and volume (research/security-reliability-anchors.md §5.6). For each
// it stops the old one, renames it "<name>-dockmap-old-<short id>", takes
// it off its networks, creates the new one under the original name,
// connects it, starts it if the old one ran and checks that it stays up
// (or turns healthy). Once every new container is up, the old ones are
// removed without their volumes. progress, if not nil, gets each step as
// it starts, changes and ends.
//
// It is one transaction: every container is locked and checked against
// its Expectation before anything is touched (ErrStale if one is no
// longer so), the containers' settings are written to a journal on the
// engine before the first change (so that a dockmap killed half-way is
// found at start-up: Leftovers), and any failure before the removals undoes
// everything in reverse order, leaving every original as it was; the
// error then names the failed step and wraps topology.ErrRolledBack. If a
// removal of an old container fails, the new IDs come back with the
// error; the old container is then a leftover that FinishLeftover removes.
//
// Files in the old containers' writable layers are lost (PreviewRecreate
// lists them). It returns ErrBusy (an ErrConflict) if a container is
// already being changed, ErrNotFound if it or a link target does not
// exist, ErrInvalid for a change the engine would refuse, ErrForbidden for
// a spec that would give the container the host, and ErrConflict for one
// that clashes with the container's state.
func (c *Client) RecreateAll(ctx context.Context, orders []RecreateOrder, opts RecreateOptions, progress func(Step)) ([]string, error) {
	r, err := c.PrepareRecreate(ctx, orders, opts)
	if err != nil {
		return nil, err
	}
	return r.Run(ctx, progress)
}

// Recreation is a RecreateAll made ready: its containers locked, checked
// against their expectations and their specs checked, nothing touched
// yet. Run carries it out; Release gives it up. Either ends it, once.
type Recreation struct {
	c    *Client
	l    *lease
	tx   *transaction
	opts RecreateOptions
	once sync.Once
}

// PrepareRecreate does what RecreateAll does before the first change, so
// that a caller learns at once that a container is busy (ErrBusy), is no
// longer what its plan said (ErrStale), or would get the host
// (ErrForbidden), and can run the rest later (a job).
func (c *Client) PrepareRecreate(ctx context.Context, orders []RecreateOrder, opts RecreateOptions) (*Recreation, error) {
	if len(orders) == 0 {
		return nil, fmt.Errorf("recreate: %w: no container to re-create", topology.ErrInvalid)
	}
	for _, o := range orders {
		if err := o.Change.validate(); err != nil {
			return nil, fmt.Errorf("recreate %s: %w", o.ID, err)
		}
	}
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	l := &lease{c: c}
	fail := func(err error) (*Recreation, error) {
		l.release()
		return nil, err
	}
	tx := &transaction{c: c, newIDs: map[string]string{}}
	for i, o := range orders {
		info, err := c.lockInto(ctx, l, "recreate", o.ID)
		if err != nil {
			return fail(err)
		}
		if err := o.Expect.check(info); err != nil {
			return fail(fmt.Errorf("recreate %s: %w", containerName(info), err))
		}
		// Refused before anything is touched: a copy of a container that
		// has the host would have it too (danger.go).
		if err := c.checkSpec(ctx, "re-create", containerName(info), info.Config, info.HostConfig); err != nil {
			return fail(fmt.Errorf("recreate %s: %w", containerName(info), err))
		}
		tx.runs = append(tx.runs, &run{c: c, index: i, info: info, name: containerName(info), order: o})
	}
	// The first container's spec can be made now, and its change checked
	// for what it brings (the others only follow it); the later ones are
	// made when their turn comes, once what they follow exists.
	if err := tx.prepare(ctx, tx.runs[0]); err != nil {
		return fail(fmt.Errorf("recreate %s: %w", tx.runs[0].name, err))
	}
	return &Recreation{c: c, l: l, tx: tx, opts: opts}, nil
}

// Run carries the re-create out (see RecreateAll) and releases its
// containers. It returns the new containers' IDs, in order.
func (r *Recreation) Run(ctx context.Context, progress func(Step)) (ids []string, err error) {
	ran := false
	r.once.Do(func() {
		ran = true
		defer r.l.release()
		if progress == nil {
			progress = func(Step) {}
		}
		tx := r.tx
		tx.progress = progress
		for _, rn := range tx.runs {
			rn.progress = progress
		}
		j, jerr := r.c.startJournal(ctx, r.opts, tx.runs)
		if jerr != nil {
			err = fmt.Errorf("recreate %s: journal: %w", tx.runs[0].name, jerr)
			return
		}
		ids, err = tx.execute(ctx)
		j.end(err == nil || len(ids) > 0, tx.rolledBackClean)
	})
	if !ran {
		return nil, fmt.Errorf("recreate: %w: this re-create has already run or was released", topology.ErrConflict)
	}
	return ids, err
}

// Release gives up a re-create that will not run: its containers are
// unlocked. After Run it does nothing.
func (r *Recreation) Release() { r.once.Do(r.l.release) }

// check compares an inspect with what the plan expected.
func (e Expectation) check(info container.InspectResponse) error {
	if e.Name == "" {
		return nil // a direct Recreate: no plan to be stale against
	}
	var diffs []string
	if name := containerName(info); name != e.Name {
		diffs = append(diffs, fmt.Sprintf("it is named %s now, not %s", name, e.Name))
	}
	if mode := string(info.HostConfig.NetworkMode); mode != e.NetworkMode {
		diffs = append(diffs, fmt.Sprintf("its network mode is %s now, not %s", mode, e.NetworkMode))
	}
	var nets []string
	if info.NetworkSettings != nil {
		nets = sortedKeys(info.NetworkSettings.Networks)
	}
	if !slices.Equal(nets, e.Networks) {
		diffs = append(diffs, fmt.Sprintf("it is on %s now, not %s", orNone(nets), orNone(e.Networks)))
	}
	if st := info.State; st != nil && (st.Running || st.Restarting) != e.Running {
		diffs = append(diffs, "it is "+st.Status+" now")
	}
	if len(diffs) == 0 {
		return nil
	}
	return fmt.Errorf("%w: %s", ErrStale, strings.Join(diffs, "; "))
}

func orNone(ss []string) string {
	if len(ss) == 0 {
		return "no network"
	}
	return strings.Join(ss, ", ")
}

// transaction is one RecreateAll in progress.
type transaction struct {
	c        *Client
	runs     []*run
	progress func(Step)
	// newIDs maps each re-created container's old ID to its new one, for
	// the containers that follow it.
	newIDs map[string]string
	// rolledBackClean is set when a failure was undone completely.
	rolledBackClean bool
}

// prepare builds the spec of r and checks what the new container would
// really get.
func (tx *transaction) prepare(ctx context.Context, r *run) error {
	follow := map[string]string{}
	for _, id := range r.order.Follow {
		if nid, ok := tx.newIDs[id]; ok {
			follow[id] = nid
		}
	}
	spec, err := tx.c.planRecreate(ctx, r.info, r.order.Change, follow)
	if err != nil {
		return err
	}
	// The change itself (a mount added, another container's volumes) must
	// not give the host either: checked on what it resolves to.
	if err := tx.c.checkSpec(ctx, "re-create", "the re-created "+r.name, spec.config, spec.host); err != nil {
		return err
	}
	r.spec = spec
	return nil
}

// execute runs every container's forward steps, then the removals.
func (tx *transaction) execute(ctx context.Context) ([]string, error) {
	for i, r := range tx.runs {
		if i > 0 {
			if err := tx.prepare(ctx, r); err != nil {
				r.fail(err)
				return nil, tx.undo(ctx, r, err)
			}
		}
		if err := r.forward(ctx); err != nil {
			return nil, tx.undo(ctx, r, err)
		}
		tx.newIDs[r.info.ID] = r.newID
	}
	// Every new container is up: from here on nothing is rolled back, and
	// the old ones go even if the caller has gone.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	ids := make([]string, len(tx.runs))
	var errs []error
	for i, r := range tx.runs {
		ids[i] = r.newID
		err := r.step(ctx, "remove-old", "", func(ctx context.Context) (string, error) {
			err := tx.c.api.ContainerRemove(ctx, r.info.ID, container.RemoveOptions{})
			return "removed " + shortID(r.info.ID) + " (volumes kept)", err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("recreate %s: %w (the new %s is running; finish the leftover %s)",
				r.name, err, r.name, r.oldName))
		}
	}
	return ids, errors.Join(errs...)
}

// undo rolls back every container the transaction touched, newest first,
// after failed failed with err: first everything but the starts, then the
// old containers that ran are started in the original order (a container
// in another's network namespace, or linked to another, can only start
// once that one runs).
func (tx *transaction) undo(ctx context.Context, failed *run, err error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	var errs []error
	for i := len(tx.runs) - 1; i >= 0; i-- {
		if rerr := tx.runs[i].rollback(ctx); rerr != nil {
			errs = append(errs, rerr)
		}
	}
	for _, r := range tx.runs {
		if rerr := r.restart(ctx); rerr != nil {
			errs = append(errs, rerr)
		}
	}
	if rb := errors.Join(errs...); rb != nil {
		return fmt.Errorf("recreate %s: %w (rollback failed: %v)", failed.name, err, rb)
	}
	tx.rolledBackClean = true
	return fmt.Errorf("recreate %s: %w (%w)", failed.name, err, topology.ErrRolledBack)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
