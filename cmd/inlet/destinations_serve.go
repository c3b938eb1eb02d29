package main

import (
	"log/slog"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/delivery"
	"github.com/inlet-dev/inlet/internal/metrics"
	"github.com/inlet-dev/inlet/internal/profiles"
	"github.com/inlet-dev/inlet/internal/store"
)

// newDeliveryGuard is the network rule every destination connection obeys.
func newDeliveryGuard(cfg *config.Config) *delivery.NetGuard {
	return &delivery.NetGuard{Deny: cfg.DestinationDeny, AllowMetadata: cfg.DestinationAllowMetadata}
}

// newDeliveryManager builds the workers that forward events to destinations.
func newDeliveryManager(cfg *config.Config, st *store.Store, log *slog.Logger, m *metrics.Metrics, supp *profiles.Suppressions) *delivery.Manager {
	return delivery.New(st, delivery.Options{
		Concurrency: cfg.DestinationConcurrency,
		Timeout:     cfg.DestinationTimeout,
		Retry:       delivery.Policy{Schedule: cfg.DestinationSchedule, RetryFor: cfg.DestinationRetryFor},
		Guard:       newDeliveryGuard(cfg),
		Observer:    m,
		Suppressed:  supp.Check, // an erased person's events are never sent, retries included
		Logger:      log,
		Version:     version,
	})
}
