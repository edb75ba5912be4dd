package engines

import (
	"sync"
	"time"
)

// State is one engine's connection as GET /api/engines and the engines
// frame show it.
type State struct {
	Name string `json:"name"`
	// Host is the daemon address without credentials.
	Host      string    `json:"host"`
	Connected bool      `json:"connected"`
	Version   string    `json:"version,omitempty"`
	Error     string    `json:"error,omitempty"`
	Since     time.Time `json:"since"`
}

// Registry holds every engine's state, the local one first, and says when
// one changes. It is safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	states  []State
	publish func([]State)
}

// NewRegistry returns a registry of the engines named, in that order, each
// "connecting" until its live loop says otherwise. publish, when set, is
// called with every engine's state after each change, in the order of the
// changes; it must not block or call back into the registry.
func NewRegistry(specs []Spec, publish func([]State), now time.Time) *Registry {
	r := &Registry{publish: publish}
	for _, s := range specs {
		r.states = append(r.states, State{Name: s.Name, Host: Redact(s.Host), Error: "connecting", Since: now})
	}
	return r
}

// List returns every engine's state, the local one first.
func (r *Registry) List() []State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]State(nil), r.states...)
}

// Set records the state of the engine name (its name and host stay).
func (r *Registry) Set(name string, connected bool, version, errText string, since time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.states {
		s := &r.states[i]
		if s.Name != name {
			continue
		}
		if connected {
			errText = ""
		} else {
			version = ""
		}
		if s.Connected == connected && s.Version == version && s.Error == errText {
			return
		}
		s.Connected, s.Version, s.Error, s.Since = connected, version, errText, since
		if r.publish != nil {
			// Under the lock, so that frames go out in the order of the
			// changes and the last one is always the truth.
			r.publish(append([]State(nil), r.states...))
		}
		return
	}
}
