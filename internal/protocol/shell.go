package protocol

import "time"

// ShellSession is what the audit entries of a terminal session in a
// container (GET /api/containers/:id/shell) add to who and when: which
// container, which shell, and at its end how long it lasted and why it
// ended. A session has two entries, one when it starts and one when it
// ends, with the same Start.
type ShellSession struct {
	// Event is "start" or "end".
	Event       string `json:"event"`
	Container   string `json:"container"`
	ContainerID string `json:"containerId"`
	// Engine is the engine's name on a dockmap of several engines.
	Engine string `json:"engine,omitempty"`
	// Shell is "bash" or "sh".
	Shell string    `json:"shell"`
	Start time.Time `json:"start"`
	// End, Seconds and Reason are set in the end's entry. Reason is one
	// of the ShellEnd* constants.
	End     time.Time `json:"end,omitzero"`
	Seconds float64   `json:"seconds,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	// Exit is the shell's exit status, when it exited (a shell left
	// running by a full-screen program that ignored the hang-up has none).
	Exit *int `json:"exit,omitempty"`
}

// Why a terminal session ended.
const (
	ShellEndExit    = "exit"    // the shell exited
	ShellEndClosed  = "closed"  // the browser closed the terminal or lost the connection
	ShellEndIdle    = "idle"    // nothing typed or printed for the idle timeout
	ShellEndInvalid = "invalid" // the browser sent a control message that is not one
)
