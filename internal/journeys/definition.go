// Package journeys runs journeys: JSON definitions, instances as rows,
// steps advanced in one transaction with their wait and their send intent
// (the messages outbox), and the sender that works from that outbox.
package journeys

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/store"
)

// Limits of a definition.
const (
	MaxSteps           = 100
	MaxDefinitionBytes = 256 << 10
	MaxWait            = 365 * 24 * time.Hour
)

// Definition is a journey as the API takes it (the contract of issue 21).
type Definition struct {
	Key     string          `json:"key"`
	Name    string          `json:"name"`
	Enabled bool            `json:"enabled"`
	Trigger Trigger         `json:"trigger"`
	Reentry string          `json:"reentry,omitempty"`
	ExitOn  json.RawMessage `json:"exitOn,omitempty"`
	Steps   []Step          `json:"steps"`
}

// Trigger starts an instance.
type Trigger struct {
	Event           *EventMatch `json:"event,omitempty"`
	AudienceEntered string      `json:"audienceEntered,omitempty"`
	Broadcast       string      `json:"broadcast,omitempty"`
}

// EventMatch names a track event.
type EventMatch struct {
	Event string          `json:"event"`
	Where json.RawMessage `json:"where,omitempty"`
	Match []string        `json:"match,omitempty"`
}

// Step is one step; exactly one kind is set.
type Step struct {
	ID      string          `json:"id"`
	Wait    json.RawMessage `json:"wait,omitempty"`
	Email   *EmailStep      `json:"email,omitempty"`
	WaitFor json.RawMessage `json:"waitFor,omitempty"`
	Branch  json.RawMessage `json:"branch,omitempty"`
	Webhook json.RawMessage `json:"webhook,omitempty"`

	wait time.Duration
}

// EmailStep sends a template, in a group unless the template is transactional.
type EmailStep struct {
	Template string `json:"template"`
	Group    string `json:"group,omitempty"`
	Trait    string `json:"trait,omitempty"` // the address trait; email by default
}

// Error is a definition's fault at a path such as steps[1].email.template.
type Error struct {
	Path string
	Msg  string
}

func (e *Error) Error() string { return e.Path + ": " + e.Msg }

func fault(path, format string, args ...any) *Error {
	return &Error{Path: path, Msg: fmt.Sprintf(format, args...)}
}

var keyPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Parse reads a definition strictly (unknown fields refused) and checks
// its shape; Check then checks what it names against the store.
func Parse(raw []byte) (*Definition, error) {
	if len(raw) > MaxDefinitionBytes {
		return nil, fault("", "the definition is over %d bytes", MaxDefinitionBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var d Definition
	if err := dec.Decode(&d); err != nil {
		return nil, fault("", "not a journey definition: %s", err.Error())
	}
	if !keyPattern.MatchString(d.Key) {
		return nil, fault("key", "1 to 64 letters, digits, _ . or -")
	}
	if d.Name == "" || len(d.Name) > 200 {
		return nil, fault("name", "1 to 200 bytes")
	}
	switch {
	case d.Trigger.Event != nil:
		if d.Trigger.Event.Event == "" {
			return nil, fault("trigger.event.event", "the event name is required")
		}
		if len(d.Trigger.Event.Where) > 0 {
			return nil, fault("trigger.event.where", "not supported by this version of Inlet yet")
		}
		if len(d.Trigger.Event.Match) > 0 {
			return nil, fault("trigger.event.match", "match belongs to waitFor and exitOn")
		}
	case d.Trigger.AudienceEntered != "":
		return nil, fault("trigger.audienceEntered", "not supported by this version of Inlet yet")
	case d.Trigger.Broadcast != "":
		return nil, fault("trigger.broadcast", "not supported by this version of Inlet yet")
	default:
		return nil, fault("trigger", "one of event, audienceEntered or broadcast is required")
	}
	switch d.Reentry {
	case "":
		d.Reentry = "never"
	case "never", "always":
	default:
		return nil, fault("reentry", "never or always")
	}
	if len(d.ExitOn) > 0 && string(d.ExitOn) != "null" {
		return nil, fault("exitOn", "not supported by this version of Inlet yet")
	}
	if len(d.Steps) > MaxSteps {
		return nil, fault("steps", "at most %d steps", MaxSteps)
	}
	seen := map[string]bool{}
	for i := range d.Steps {
		s := &d.Steps[i]
		path := fmt.Sprintf("steps[%d]", i)
		if !keyPattern.MatchString(s.ID) {
			return nil, fault(path+".id", "1 to 64 letters, digits, _ . or -")
		}
		if seen[s.ID] {
			return nil, fault(path+".id", "duplicate step id %q", s.ID)
		}
		seen[s.ID] = true
		kinds := 0
		for _, set := range []bool{len(s.Wait) > 0, s.Email != nil, len(s.WaitFor) > 0, len(s.Branch) > 0, len(s.Webhook) > 0} {
			if set {
				kinds++
			}
		}
		if kinds != 1 {
			return nil, fault(path, "exactly one of wait, email, waitFor, branch, webhook")
		}
		switch {
		case len(s.Wait) > 0:
			var v string
			if err := json.Unmarshal(s.Wait, &v); err != nil {
				return nil, fault(path+".wait", "a duration such as \"1h\" (until: not supported by this version yet)")
			}
			d, err := config.ParseShortDuration(v)
			if err != nil || d > MaxWait {
				return nil, fault(path+".wait", "a duration from 1s to 365d such as 30s, 5m, 1h or 7d")
			}
			s.wait = d
		case s.Email != nil:
			if s.Email.Template == "" {
				return nil, fault(path+".email.template", "required")
			}
		case len(s.WaitFor) > 0:
			return nil, fault(path+".waitFor", "not supported by this version of Inlet yet")
		case len(s.Branch) > 0:
			return nil, fault(path+".branch", "not supported by this version of Inlet yet")
		case len(s.Webhook) > 0:
			return nil, fault(path+".webhook", "not supported by this version of Inlet yet")
		}
	}
	return &d, nil
}

// Check refuses templates and groups that do not exist, and a group
// email without a group.
func Check(ctx context.Context, st *store.Store, ws uuid.UUID, d *Definition) error {
	for i, s := range d.Steps {
		if s.Email == nil {
			continue
		}
		path := fmt.Sprintf("steps[%d].email", i)
		t, err := st.EmailTemplate(ctx, ws, s.Email.Template)
		if err == store.ErrNotFound {
			return fault(path+".template", "no template has the key %q", s.Email.Template)
		}
		if err != nil {
			return err
		}
		if s.Email.Group == "" {
			if !t.Transactional {
				return fault(path+".group", "required: template %q is not transactional", s.Email.Template)
			}
			continue
		}
		if _, err := st.SubscriptionGroup(ctx, ws, s.Email.Group); err == store.ErrNotFound {
			return fault(path+".group", "no subscription group has the key %q", s.Email.Group)
		} else if err != nil {
			return err
		}
	}
	return nil
}
