package templates

import "context"

type shellKey struct{}

// WithShell returns ctx saying whether dockmap offers terminals in
// containers (--shell); the server sets it for the container panel.
func WithShell(ctx context.Context, on bool) context.Context {
	return context.WithValue(ctx, shellKey{}, on)
}

// shellOn reports whether the panel may offer a terminal: --shell is on
// and the person may act (an operator, not --read-only).
func shellOn(ctx context.Context) bool {
	on, _ := ctx.Value(shellKey{}).(bool)
	return on && canAct(ctx)
}
