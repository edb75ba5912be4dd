// Package plan decides, once, what every action dockmap can take will do.
// It turns a request and the current topology.Graph into a typed Plan: the
// method, every step, every container it re-creates or leaves broken, and
// what is lost. The page shows that plan (through the API), the server
// checks the caller confirmed that very plan, and the engine adapter
// carries out exactly it, re-checking only its preconditions (Expect).
//
// It is pure: no engine, no clock, no I/O. Every rule the actions share
// lives here once: who depends on whom (Dependents), which network a
// container is created on (PrimaryNetwork), whether a network is one of the
// engine's own (Predefined), what a mount may bring (through
// topology.EffectiveMount).
package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
)

// Action names what is asked.
type Action string

// Actions.
const (
	ActionAddLink         Action = "add-link"
	ActionRemoveLink      Action = "remove-link"
	ActionRepairLink      Action = "repair-link"
	ActionMount           Action = "mount"
	ActionConnect         Action = "connect"
	ActionDisconnect      Action = "disconnect"
	ActionRun             Action = "run"
	ActionStart           Action = "start"
	ActionStop            Action = "stop"
	ActionRestart         Action = "restart"
	ActionRemoveContainer Action = "remove-container"
	ActionCreateNetwork   Action = "create-network"
	ActionRemoveNetwork   Action = "remove-network"
	ActionCreateVolume    Action = "create-volume"
	ActionRemoveVolume    Action = "remove-volume"
)

// Method is how an action is carried out.
type Method string

// Methods.
const (
	// MethodRecreate replaces containers by copies of themselves with a
	// change (Plan.Recreates): the only way to change a legacy link or a
	// mount. Files in their writable layers are lost.
	MethodRecreate Method = "recreate"
	// MethodEndpointAlias re-makes one endpoint of a container on a
	// user-defined network (disconnect + connect) with other endpoint
	// links (Plan.Endpoint): the container stays the same.
	MethodEndpointAlias Method = "endpoint-alias"
	// MethodInPlace is one engine call (or a few) on objects that stay.
	MethodInPlace Method = "in-place"
	// MethodCreate makes a new object; MethodRemove removes one.
	MethodCreate Method = "create"
	MethodRemove Method = "remove"
)

// Ref names a container, network or volume: its full ID (a volume's name)
// and its name.
type Ref struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Plan is what an action will do.
type Plan struct {
	// ID is a digest of everything below but the lost files the engine
	// reports (Loss.Files): two plans with one ID do the same thing to the
	// same objects. A request that names a plan is carried out only if
	// its plan today has that ID.
	ID      string `json:"id"`
	Action  Action `json:"action"`
	Method  Method `json:"method"`
	Summary string `json:"summary"`
	// Subject is the container, network or volume acted on.
	Subject Ref `json:"subject"`
	// On is the network a connect or a disconnect is about.
	On *Ref `json:"on,omitempty"`
	// Confirm says the request must carry confirm: true, because the plan
	// re-creates containers (428 without it).
	Confirm bool `json:"confirm"`
	// Job says the action runs as a job: its POST answers 202 {job}.
	Job   bool   `json:"job"`
	Steps []Step `json:"steps"`
	// Recreates are the containers a MethodRecreate plan re-creates, in
	// order: the subject first, then the dependents taken along.
	Recreates []Recreate `json:"recreates,omitempty"`
	// Dependents are every container that depends on one the plan
	// re-creates, stops or removes, with what happens to it.
	Dependents []Dependent `json:"dependents,omitempty"`
	// RecreateDependents says whether the breaking dependents are
	// re-created too (the request's choice; by default they are).
	RecreateDependents bool `json:"recreateDependents"`
	// Breaks are the dependents left broken by the plan.
	Breaks []Dependent `json:"breaks,omitempty"`
	// Loses is what the plan loses for good.
	Loses []Loss `json:"loses,omitempty"`
	// Notes are other things worth knowing before confirming.
	Notes []string `json:"notes,omitempty"`

	// What the engine adapter needs, by method.
	Endpoints []EndpointChange `json:"endpoints,omitempty"`
	Run       *RunSpec         `json:"run,omitempty"`
	Network   *NetworkSpec     `json:"network,omitempty"`
	Volume    *VolumeSpec      `json:"volume,omitempty"`
	// Detach lists the members a network removal detaches first.
	Detach []Ref `json:"detach,omitempty"`
	// Force removes a running container (it is killed first).
	Force bool `json:"force,omitempty"`
	// Unlink is the alias of a legacy link a removal takes away in place.
	Unlink string `json:"unlink,omitempty"`
}

// Step is one step of a plan, as the job carrying it out reports it.
type Step struct {
	// ID is unique within the plan: "r0.stop", "r1.connect:appnet",
	// "r0.remove-old", "endpoint.disconnect", "start".
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Container is the name of the container the step acts on.
	Container string `json:"container,omitempty"`
	Network   string `json:"network,omitempty"`
	Text      string `json:"text"`
}

// Recreate is one container a plan re-creates.
type Recreate struct {
	Container Ref `json:"container"`
	// Why it is re-created: the change asked, or the dependency.
	Why    string `json:"why"`
	Change Change `json:"change"`
	// Expect is what the container must still be when its turn comes;
	// otherwise the world changed since the plan and nothing is done.
	Expect Expect `json:"expect"`
}

// Change is what a re-create changes in the copied spec.
type Change struct {
	AddLinks []Link `json:"addLinks,omitempty"`
	// RemoveLinks are aliases of legacy links (live or broken) to drop.
	RemoveLinks    []string      `json:"removeLinks,omitempty"`
	AddMounts      []MountSpec   `json:"addMounts,omitempty"`
	AddVolumesFrom []VolumesFrom `json:"addVolumesFrom,omitempty"`
	// Follow are containers the same plan re-creates before this one:
	// this one's links to them, its network namespace and its
	// volumes-from that name them move to their new containers.
	Follow []Ref `json:"follow,omitempty"`
}

// Link is a legacy link to add.
type Link struct {
	Target Ref    `json:"target"`
	Alias  string `json:"alias"`
}

// MountSpec is a mount to add, structured (never a "-v" string).
type MountSpec struct {
	// Type is "volume" or "bind".
	Type     string `json:"type"`
	Source   string `json:"source"`
	Target   string `json:"target"`
	ReadOnly bool   `json:"readOnly"`
}

// VolumesFrom is a donor whose mounts to take, like --volumes-from.
type VolumesFrom struct {
	Donor    Ref  `json:"donor"`
	ReadOnly bool `json:"readOnly"`
}

// Expect is what the plan takes a container to be.
type Expect struct {
	Name        string `json:"name"`
	NetworkMode string `json:"networkMode,omitempty"`
	// Networks are the names of the networks it is attached to, sorted.
	Networks []string `json:"networks,omitempty"`
	Running  bool     `json:"running"`
}

// Dependency kinds: how one container depends on another.
const (
	DependsLink        = "link"
	DependsNetNS       = "netns"
	DependsVolumesFrom = "volumes-from"
)

// Dependent is a container that depends on one an action re-creates,
// stops or removes.
type Dependent struct {
	Container Ref `json:"container"`
	// On is the container it depends on.
	On    Ref    `json:"on"`
	Kind  string `json:"kind"`
	Alias string `json:"alias,omitempty"`
	// Breaks says whether it stops working if left as it is.
	Breaks bool `json:"breaks"`
	// Text says what happens to it if left as it is.
	Text string `json:"text"`
}

// Loss kinds.
const (
	LossWritableLayer = "writable-layer"
	LossContainer     = "container"
	LossVolumeData    = "volume-data"
	LossNetworkMoment = "network-moment"
	LossAddress       = "address"
	LossReachability  = "reachability"
	LossNetwork       = "network"
	LossLink          = "link"
)

// Loss is something a plan loses for good.
type Loss struct {
	Kind string `json:"kind"`
	Of   Ref    `json:"of"`
	Text string `json:"text"`
	// Files are the writable-layer changes the engine reports when the
	// plan is shown (docker diff); they are not part of the plan's ID, as
	// a running program may write a log line between plan and confirm.
	Files     []FileChange `json:"files,omitempty"`
	Truncated bool         `json:"truncated,omitempty"`
}

// FileChange is one change in a container's writable layer.
type FileChange struct {
	Path string `json:"path"`
	// Kind is "changed", "added" or "deleted".
	Kind string `json:"kind"`
}

// EndpointChange re-makes a container's endpoint on one user-defined
// network with other endpoint links, keeping its aliases and static IP.
type EndpointChange struct {
	Container Ref `json:"container"`
	Network   Ref `json:"network"`
	// Links are the endpoint links after the change ("target:alias").
	Links []string `json:"links"`
	// Expect is what the container must still be.
	Expect Expect `json:"expect"`
	// Peer, for an alias added, must still be on the network.
	Peer *Ref `json:"peer,omitempty"`
}

// RunSpec is a container to create and start.
type RunSpec struct {
	Name  string   `json:"name"`
	Image string   `json:"image"`
	Cmd   []string `json:"cmd,omitempty"`
	// Network is the ID of the network to start on; "" is the default
	// bridge.
	Network string `json:"networkId,omitempty"`
}

// NetworkSpec is a bridge network to create, or the settings of an
// attach.
type NetworkSpec struct {
	Name       string `json:"name,omitempty"`
	Subnet     string `json:"subnet,omitempty"`
	Gateway    string `json:"gateway,omitempty"`
	Internal   bool   `json:"internal,omitempty"`
	ICC        bool   `json:"icc,omitempty"`
	Attachable bool   `json:"attachable,omitempty"`
	// Driver is "overlay" for an overlay ("" is a bridge); Encrypted an
	// overlay's IPsec.
	Driver    string   `json:"driver,omitempty"`
	Encrypted bool     `json:"encrypted,omitempty"`
	Aliases   []string `json:"aliases,omitempty"`
	IP        string   `json:"ip,omitempty"`
	// Reattach: the container is attached already, with other settings,
	// so it is detached first (the engine would keep the old ones).
	Reattach bool `json:"reattach,omitempty"`
}

// VolumeSpec is a volume to create.
type VolumeSpec struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"`
}

// seal sets the plan's ID from everything it says but the lost files.
func (p *Plan) seal() *Plan {
	c := *p
	c.ID = ""
	c.Loses = slices.Clone(p.Loses)
	for i := range c.Loses {
		c.Loses[i].Files, c.Loses[i].Truncated = nil, false
	}
	// Plans are plain data: encoding cannot fail.
	b, _ := json.Marshal(c)
	sum := sha256.Sum256(b)
	p.ID = hex.EncodeToString(sum[:10])
	return p
}

// LostFiles adds the writable-layer changes of container id, as the engine
// reported them, to the plan's loss of that layer. The plan's ID does not
// change.
func (p *Plan) LostFiles(id string, files []FileChange, truncated bool) {
	for i := range p.Loses {
		if l := &p.Loses[i]; l.Kind == LossWritableLayer && l.Of.ID == id {
			l.Files, l.Truncated = files, truncated
		}
	}
}

// LosesLayers lists the containers whose writable layer the plan loses,
// so the server can ask the engine which files those are.
func (p *Plan) LosesLayers() []Ref {
	var out []Ref
	for _, l := range p.Loses {
		if l.Kind == LossWritableLayer {
			out = append(out, l.Of)
		}
	}
	return out
}
