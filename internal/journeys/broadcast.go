package journeys

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// broadcasts enters the members of each enabled broadcast journey's
// audience, a page per transaction (memory does not grow with the
// audience; a restart resumes after the last page), once: a finished
// broadcast stays finished when the journey is disabled and enabled again.
func (e *Engine) broadcasts(ctx context.Context, ws uuid.UUID, js []journey) error {
	for _, j := range js {
		aud := j.def.Trigger.Broadcast
		if aud == "" {
			continue
		}
		trigger := "broadcast:" + j.def.Key
		event := eventJSON("Broadcast", trigger, map[string]any{"audience_key": aud})
		for {
			entered := false
			done, read, err := e.st.BroadcastStep(ctx, ws, j.def.Key, aud, e.opts.BroadcastBatch, time.Now().UTC(),
				func(tx *store.JourneyTx, members []store.BroadcastMember) error {
					now := time.Now().UTC()
					for _, m := range members {
						ok, err := e.enter(tx, j, BroadcastTimerKind, m.UserID, trigger, event, nil, now)
						if err != nil {
							return err
						}
						entered = entered || ok
					}
					return nil
				})
			if err != nil {
				return err
			}
			if entered {
				e.timer.Notify()
			}
			if done || read == 0 || ctx.Err() != nil {
				break
			}
		}
	}
	return nil
}

// release schedules again the timers held while a journey was disabled.
func (e *Engine) release(ctx context.Context, ws uuid.UUID, js []journey) error {
	for _, j := range js {
		for {
			n, err := e.st.ReleaseHeld(ctx, ws, j.def.Key, TimerKind, 500)
			if err != nil {
				return err
			}
			if n > 0 {
				e.timer.Notify()
			}
			if n < 500 {
				break
			}
		}
	}
	return nil
}
