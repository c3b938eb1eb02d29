package web

import (
	"context"
	"log/slog"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/lifecycle"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/web/dashboard"
)

// newDestinations builds what the destination pages need from the settings:
// the same network rule and retry policy the delivery workers use, and a
// small sender of its own for test events.
func newDestinations(cfg *config.Config) dashboard.Destinations {
	guard := &delivery.NetGuard{Deny: cfg.DestinationDeny, AllowMetadata: cfg.DestinationAllowMetadata}
	return dashboard.Destinations{
		Sender: delivery.NewSender(guard, cfg.DestinationTimeout, 2, "dashboard"),
		Guard:  guard,
		Policy: delivery.Policy{Schedule: cfg.DestinationSchedule, RetryFor: cfg.DestinationRetryFor},
	}
}

// erasureNotifier sends the signed erasure notice to a workspace's
// destinations that opted in, in the background, after each erasure.
func erasureNotifier(group *lifecycle.Group, st *store.Store, sender *delivery.Sender, log *slog.Logger) func(context.Context, uuid.UUID, profiles.ErasureNotice) {
	notify := sender.Notifier(group, st, log)
	return func(ctx context.Context, ws uuid.UUID, n profiles.ErasureNotice) {
		notify(ctx, ws, delivery.ErasureNotice(n))
	}
}
