package journeys

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/store"
)

// reservedKeys follow /journeys/ in the dashboard's routes: a journey so
// keyed could not be shown at its own address.
var reservedKeys = map[string]bool{"new": true, "validate": true}

// Check refuses templates, groups and destinations that do not exist, and
// a group email without a group, naming the path of the fault.
func Check(ctx context.Context, st *store.Store, ws uuid.UUID, d *Definition) error {
	if reservedKeys[d.Key] {
		return fault("key", "%q is reserved: /dashboard/journeys/%s is a page of the dashboard", d.Key, d.Key)
	}
	var dests []store.Destination
	var err error
	d.Walk(func(s *Step, path string, _ int) {
		if err != nil {
			return
		}
		switch {
		case s.Email != nil:
			err = checkEmail(ctx, st, ws, s.Email, path+".email")
		case s.Webhook != nil:
			if dests == nil {
				if dests, err = st.Destinations(ctx, ws); err != nil {
					return
				}
			}
			if _, ok := destinationNamed(dests, s.Webhook.Destination); !ok {
				err = fault(path+".webhook.destination", "no destination is named %q", s.Webhook.Destination)
			}
		}
	})
	return err
}

func checkEmail(ctx context.Context, st *store.Store, ws uuid.UUID, e *EmailStep, path string) error {
	t, err := st.EmailTemplate(ctx, ws, e.Template)
	if errors.Is(err, store.ErrNotFound) {
		return fault(path+".template", "no template has the key %q", e.Template)
	}
	if err != nil {
		return err
	}
	if e.Group == "" {
		if !t.Transactional {
			return fault(path+".group", "required: template %q is not transactional", e.Template)
		}
		return nil
	}
	if _, err := st.SubscriptionGroup(ctx, ws, e.Group); errors.Is(err, store.ErrNotFound) {
		return fault(path+".group", "no subscription group has the key %q", e.Group)
	} else if err != nil {
		return err
	}
	return nil
}

// destinationNamed finds a destination by its name.
func destinationNamed(ds []store.Destination, name string) (store.Destination, bool) {
	for _, d := range ds {
		if d.Name == name {
			return d, true
		}
	}
	return store.Destination{}, false
}
