// Package protocol is the one definition of dockmap's live protocol: every
// frame the /live WebSocket sends, each with its type constant, and how a
// frame becomes a hub message. The README lists them with an example of
// each (checked by a test here).
//
// Every frame is a JSON object whose "type" says which one it is. The
// server sends a snapshot first, then the others as they happen; the
// client sends nothing.
package protocol

import (
	"encoding/json"
	"time"

	"github.com/dockmap/dockmap/internal/docker"
	"github.com/dockmap/dockmap/internal/engines"
	"github.com/dockmap/dockmap/internal/hub"
	"github.com/dockmap/dockmap/internal/lesson"
	"github.com/dockmap/dockmap/internal/probe"
	"github.com/dockmap/dockmap/internal/topology"
)

// Frame types, the "type" of every frame.
const (
	TypeSnapshot = "snapshot"
	TypeDelta    = "delta"
	TypeEvent    = "event"
	TypeEngine   = "engine"
	TypeEngines  = "engines"
	TypeProbe    = "probe"
	TypeJob      = "job"
	TypeStep     = "step"
	TypeShare    = "share"
	TypeAudit    = "audit"
	TypeWatchers = "watchers"
	TypeLesson   = "lesson"
)

// Types lists every frame type, in the order the README documents them.
var Types = []string{TypeSnapshot, TypeDelta, TypeEvent, TypeEngine, TypeEngines, TypeProbe, TypeJob, TypeStep, TypeShare, TypeAudit, TypeWatchers, TypeLesson}

// OperatorOnly reports whether frames of this type go to operators only:
// the audit trail says who did what, which is not a viewer's business.
func OperatorOnly(typ string) bool { return typ == TypeAudit }

// Frame is one message of the live protocol.
type Frame interface {
	// kind is the frame's type constant; stamp writes it into the frame.
	kind() string
	stamp()
}

// Snapshot is the first frame on /live, and the body of GET /api/graph
// (there without its type): the whole graph at one seq.
type Snapshot struct {
	Type string `json:"type,omitempty"`
	topology.Snapshot
}

// Delta is what changed in the graph since the previous seq. Deltas come
// with consecutive seqs; a client that sees a gap takes a new snapshot.
type Delta struct {
	Type string `json:"type"`
	topology.Delta
	// Affects lists the containers (node IDs) whose reachability the
	// delta can change (reach.Affected): predictions and probe results of
	// pairs with neither end among them hold as they were, so the page
	// asks again only the others. Absent when every pair may have changed
	// (a Swarm's change, a long list, a recording made before it); [] when
	// none did.
	Affects []topology.NodeID `json:"affects,omitzero"`
}

// Event is one engine event for the feed (exec noise and dockmap's own
// helpers left out).
type Event struct {
	Type  string       `json:"type"`
	Event docker.Event `json:"event"`
	// Engine names the engine the event is from.
	Engine string `json:"engine,omitempty"`
}

// Engine is the engine's state when it changes (connected or not, why).
type Engine struct {
	Type   string               `json:"type"`
	Engine topology.EngineState `json:"engine"`
}

// Engines is the state of every engine dockmap connects to, the local one
// first, sent whenever one of them changes (GET /api/engines answers the
// same list). The engine frame stays the local engine's alone, so that a
// page that knows nothing of several engines reads it as before.
type Engines struct {
	Type    string          `json:"type"`
	Engines []engines.State `json:"engines"`
}

// Probe is one reachability result, as it comes.
type Probe struct {
	Type   string       `json:"type"`
	Result probe.Result `json:"result"`
}

// Job is a long action when it starts, when its state changes and when it
// ends (see JobInfo).
type Job struct {
	Type string  `json:"type"`
	Job  JobInfo `json:"job"`
}

// Step is one step of a job when it starts, changes or ends.
type Step struct {
	Type string `json:"type"`
	// Job is the ID of the job the step belongs to.
	Job string `json:"job"`
	StepInfo
}

// Share is one container's result of a volume share test, as it comes.
type Share struct {
	Type   string             `json:"type"`
	Volume string             `json:"volume"`
	Result docker.ShareResult `json:"result"`
}

// Audit is one change asked of dockmap, done or refused; operators only.
type Audit struct {
	Type  string     `json:"type"`
	Entry AuditEntry `json:"entry"`
}

// Watchers is how many browsers watch live (open /live connections, so a
// browser with two tabs counts twice), by role: sent when the numbers
// change, a burst of joins coalesced into one frame, and to each new
// connection right after its snapshot.
type Watchers struct {
	Type      string `json:"type"`
	Viewers   int    `json:"viewers"`
	Operators int    `json:"operators"`
}

// Lesson is where one participant (by name prefix) is in one lesson:
// sent when their steps change, and for everyone followed right after
// the snapshot.
type Lesson struct {
	Type string `json:"type"`
	lesson.State
}

// JobInfo is a job as GET /api/jobs/{id} answers and the job frame
// carries it.
type JobInfo struct {
	ID string `json:"id"`
	// Kind is what the job does: "add-link", "mount", "repair-link",
	// "pull", "rollback", "finish", ...
	Kind string `json:"kind"`
	// Title says it in words: "link web → database as db".
	Title string `json:"title"`
	// State is one of the JobState* constants.
	State string `json:"state"`
	// Plan is the ID of the plan the job carries out, if any.
	Plan string `json:"plan,omitempty"`
	// Who asked for it: role and client address.
	Role   string `json:"role,omitempty"`
	Remote string `json:"remote,omitempty"`
	// Steps are every step so far, in order.
	Steps []StepInfo `json:"steps"`
	// Error says why a failed job failed.
	Error string `json:"error,omitempty"`
	// Status is the HTTP status a failed job's error maps to.
	Status int `json:"status,omitempty"`
	// Result is what a done job made, e.g. {"container": "<new id>"}.
	Result map[string]any `json:"result,omitempty"`
	// Cancelable says whether POST /api/jobs/{id}/cancel can still stop it.
	Cancelable bool      `json:"cancelable"`
	Started    time.Time `json:"started"`
	Ended      time.Time `json:"ended,omitzero"`
}

// Job states.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
	// JobRolledBack is a job that failed and put everything back.
	JobRolledBack = "rolled-back"
	JobCanceled   = "canceled"
	// JobInterrupted is a job found at start-up that a dockmap which is
	// gone left half-way: roll it back or finish it.
	JobInterrupted = "interrupted"
	// JobElsewhere is a job another running dockmap is carrying out on
	// the same engine: it is shown, never offered for roll back.
	JobElsewhere = "elsewhere"
)

// StepInfo is one step of a job.
type StepInfo struct {
	// ID names the step within its job; for a planned job it is the ID of
	// the plan's step ("r0.stop", "r1.create", "commit"), so the page can
	// tick the plan it showed.
	ID string `json:"step"`
	// Text says what the step does, in words.
	Text string `json:"text,omitempty"`
	// State is one of the Step* constants.
	State  string `json:"state"`
	Detail string `json:"detail,omitempty"`
	// Deadline, when set, is when the step ends by itself (the engine
	// kills a container that ignores its stop signal then): the page
	// counts down to it.
	Deadline time.Time `json:"deadline,omitzero"`
	// Actions the step offers now: "kill" (kill the container being
	// stopped at once).
	Actions []string  `json:"actions,omitempty"`
	At      time.Time `json:"at"`
}

// Step states.
const (
	StepPending    = "pending"
	StepRunning    = "running"
	StepDone       = "done"
	StepFailed     = "failed"
	StepRolledBack = "rolled-back"
	StepSkipped    = "skipped"
)

// AuditEntry is one change asked of dockmap, done or refused.
type AuditEntry struct {
	Time   time.Time         `json:"time"`
	Role   string            `json:"role"`
	Remote string            `json:"remote"`
	Method string            `json:"method"`
	Route  string            `json:"route"`
	Params map[string]string `json:"params,omitempty"`
	Status int               `json:"status"`
	Error  string            `json:"error,omitempty"`
	// Shell is set on the entries of a terminal session (shell.go).
	Shell *ShellSession `json:"shell,omitempty"`
}

func (*Snapshot) kind() string { return TypeSnapshot }
func (*Delta) kind() string    { return TypeDelta }
func (*Event) kind() string    { return TypeEvent }
func (*Engine) kind() string   { return TypeEngine }
func (*Engines) kind() string  { return TypeEngines }
func (*Probe) kind() string    { return TypeProbe }
func (*Job) kind() string      { return TypeJob }
func (*Step) kind() string     { return TypeStep }
func (*Share) kind() string    { return TypeShare }
func (*Audit) kind() string    { return TypeAudit }
func (*Watchers) kind() string { return TypeWatchers }
func (*Lesson) kind() string   { return TypeLesson }

func (f *Snapshot) stamp() { f.Type = TypeSnapshot }
func (f *Delta) stamp()    { f.Type = TypeDelta }
func (f *Event) stamp()    { f.Type = TypeEvent }
func (f *Engine) stamp()   { f.Type = TypeEngine }
func (f *Engines) stamp()  { f.Type = TypeEngines }
func (f *Probe) stamp()    { f.Type = TypeProbe }
func (f *Job) stamp()      { f.Type = TypeJob }
func (f *Step) stamp()     { f.Type = TypeStep }
func (f *Share) stamp()    { f.Type = TypeShare }
func (f *Audit) stamp()    { f.Type = TypeAudit }
func (f *Watchers) stamp() { f.Type = TypeWatchers }
func (f *Lesson) stamp()   { f.Type = TypeLesson }

// Encode stamps the frame's type into it and encodes it. Frames are plain
// data, so failing is a programmer error.
func Encode(f Frame) []byte {
	f.stamp()
	b, err := json.Marshal(f)
	if err != nil {
		panic("protocol: encode " + f.kind() + " frame: " + err.Error())
	}
	return b
}

// Message is the frame as a hub message, ready to publish; a delta carries
// its seq so that a connection can skip what its snapshot already holds.
func Message(f Frame) hub.Message {
	m := hub.Message{Type: f.kind(), Data: Encode(f)}
	if d, ok := f.(*Delta); ok {
		m.Seq = d.Seq
	}
	return m
}
