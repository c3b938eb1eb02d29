package delivery

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/inlet-dev/inlet/internal/segment"
	"github.com/inlet-dev/inlet/internal/store"
)

// EventTypes are the Segment event types a destination can pick from.
var EventTypes = segment.Types

// MaxNameLength bounds a destination's name, in characters.
const MaxNameLength = 100

// InvalidError is a destination setting an admin got wrong; its message says
// how to fix it and is safe to show.
type InvalidError struct{ Field, Msg string }

func (e *InvalidError) Error() string { return e.Field + ": " + e.Msg }

// Input is a destination as an admin describes it (form or command line).
type Input struct {
	Name  string
	URL   string
	Types string // comma-separated; empty means every type
	// ErasureNotice opts in to a signed notice after each erasure.
	ErasureNotice bool
}

// ParseTypes reads "track, identify" into a sorted, deduplicated list of
// known types; empty means every type.
func ParseTypes(s string) ([]string, error) {
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" {
			continue
		}
		if !slices.Contains(EventTypes, f) {
			return nil, &InvalidError{"types", fmt.Sprintf("%q is not an event type (use %s)", f, strings.Join(EventTypes, ", "))}
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Create validates in and stores a new destination of workspace ws with a
// fresh signing secret (returned in Destination.Secret: show it once). It
// starts at the feed's head: it receives the events committed from now on.
func Create(ctx context.Context, st *store.Store, guard *NetGuard, ws uuid.UUID, in Input) (store.Destination, error) {
	if guard == nil {
		guard = &NetGuard{}
	}
	name := strings.TrimSpace(in.Name)
	if utf8.RuneCountInString(name) > MaxNameLength {
		return store.Destination{}, &InvalidError{"name", fmt.Sprintf("at most %d characters", MaxNameLength)}
	}
	url, err := guard.ValidateURL(in.URL)
	if err != nil {
		return store.Destination{}, &InvalidError{"url", err.Error()}
	}
	types, err := ParseTypes(in.Types)
	if err != nil {
		return store.Destination{}, err
	}
	if name == "" {
		name = url
		if utf8.RuneCountInString(name) > MaxNameLength {
			name = string([]rune(name)[:MaxNameLength])
		}
	}
	d, err := st.CreateDestination(ctx, store.NewDestination{WorkspaceID: ws, Name: name, URL: url, Types: types, Secret: NewSecret(), ErasureNotice: in.ErasureNotice})
	if err != nil {
		return store.Destination{}, err
	}
	return d, nil
}

// IsInvalid reports whether err is an admin's mistake (shown as such).
func IsInvalid(err error) bool {
	var ie *InvalidError
	return errors.As(err, &ie)
}

// Rotate gives destination id of workspace ws a new signing secret and
// returns it (show it once). The old secret keeps signing beside it for
// grace, so the receiver can switch without refusing anything.
func Rotate(ctx context.Context, st *store.Store, ws, id uuid.UUID, grace time.Duration) (string, error) {
	secret := NewSecret()
	if err := st.RotateDestinationSecret(ctx, ws, id, secret, grace); err != nil {
		return "", err
	}
	return secret, nil
}
