package templates

import "context"

// Access is what the person looking at a page may do. The server puts it
// in the request context; components read it to leave out the controls a
// viewer cannot use, so a viewer's page holds no action at all (not merely
// hidden ones).
type Access struct {
	// Role is "operator" or "viewer", shown in the page's header.
	Role string
	// CanAct is true for an operator when dockmap is not --read-only.
	CanAct bool
	// SignedIn is true when access control is on and the person logged
	// in, so the page offers to log out.
	SignedIn bool
	// CanReadLogs is true when the logs route lets this role in (an
	// operator; a viewer with --viewer-logs).
	CanReadLogs bool
}

type accessKey struct{}

// WithAccess returns ctx carrying a.
func WithAccess(ctx context.Context, a Access) context.Context {
	return context.WithValue(ctx, accessKey{}, a)
}

// AccessOf returns the Access in ctx; without one, nothing may be done.
func AccessOf(ctx context.Context) Access {
	a, _ := ctx.Value(accessKey{}).(Access)
	return a
}

// canAct reports whether the page may offer actions.
func canAct(ctx context.Context) bool { return AccessOf(ctx).CanAct }

// canReadLogs reports whether the container panel may offer its logs.
func canReadLogs(ctx context.Context) bool { return AccessOf(ctx).CanReadLogs }
