package web

import (
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/delivery"
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
