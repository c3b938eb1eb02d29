// Package reqlog carries a request's logger (with its request_id) in the
// request's context, so every line about one request can be tied together.
// The server's logging middleware puts it there; handlers and the code they
// call take it out.
package reqlog

import (
	"context"
	"log/slog"
)

type key struct{}

// With returns ctx carrying l.
func With(ctx context.Context, l *slog.Logger) context.Context {
	return context.WithValue(ctx, key{}, l)
}

// From returns the logger of the request ctx belongs to; outside a request
// it is slog.Default().
func From(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(key{}).(*slog.Logger); ok {
		return l
	}
	return slog.Default()
}
