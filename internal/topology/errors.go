package topology

import "errors"

// Domain sentinels. internal/docker translates engine errors into these so
// that no other package has to inspect SDK error types.
var (
	// ErrNotFound means the named container, network or volume does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the object is busy or the change clashes with its state.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means the input failed validation; nothing was changed.
	ErrInvalid = errors.New("invalid input")
	// ErrEngineUnreachable means the Docker engine did not answer.
	ErrEngineUnreachable = errors.New("engine unreachable")
	// ErrForbidden means the change would give a container the host (a
	// bind of the Docker socket or of /, through whatever indirection), or
	// a host path the operator has not allowed; nothing was changed.
	ErrForbidden = errors.New("forbidden")
	// ErrRolledBack marks a change that failed half-way and was undone:
	// everything is as it was before.
	ErrRolledBack = errors.New("rolled back")
)
