package dashboard

import (
	"fmt"
	"github.com/inlet-dev/inlet/internal/segment"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// Limits on what the settings forms accept.
const (
	maxSecretLen        = 1024 // as `inlet secret set`
	maxWorkspaceNameLen = 100
)

// formError is a validation failure shown next to one field.
type formError struct {
	Field string
	Msg   string
}

func (e *formError) Error() string { return e.Field + ": " + e.Msg }

// parseWorkspaceID reads the workspace a form acts on; uuid.Nil when absent
// or malformed (the handler then refuses the form).
func parseWorkspaceID(raw string) uuid.UUID {
	id, err := uuid.Parse(strings.TrimSpace(raw))
	if err != nil {
		return uuid.Nil
	}
	return id
}

// secretForm saves a workspace's shared secret.
type secretForm struct {
	WorkspaceID uuid.UUID
	Secret      string
}

func newSecretForm(c echo.Context) secretForm {
	return secretForm{
		WorkspaceID: parseWorkspaceID(c.FormValue("workspace_id")),
		// Pasting often brings a stray space or newline; Segment trims too.
		Secret: strings.TrimSpace(c.FormValue("secret")),
	}
}

// Validate explains what is wrong, or returns nil.
func (f secretForm) Validate() *formError {
	switch {
	case f.Secret == "":
		return &formError{"secret", "Enter a shared secret (or use Generate), then save. To remove the secret, use “Clear the shared secret”."}
	case !utf8.ValidString(f.Secret):
		return &formError{"secret", "The shared secret must be text (valid UTF-8)."}
	case len(f.Secret) > maxSecretLen:
		return &formError{"secret", fmt.Sprintf("The shared secret is too long: at most %d characters.", maxSecretLen)}
	case strings.IndexFunc(f.Secret, unicode.IsControl) >= 0:
		return &formError{"secret", "The shared secret cannot contain line breaks or other control characters."}
	case utf8.RuneCountInString(f.Secret) < segment.MinSecretLen:
		// A short secret falls to offline guessing from one captured delivery.
		return &formError{"secret", fmt.Sprintf("The shared secret is too short: use at least %d characters (Generate makes a long random one).", segment.MinSecretLen)}
	}
	return nil
}

// clearForm removes a workspace's secrets; it must be confirmed.
type clearForm struct {
	WorkspaceID uuid.UUID
	Confirmed   bool
}

func newClearForm(c echo.Context) clearForm {
	return clearForm{WorkspaceID: parseWorkspaceID(c.FormValue("workspace_id")), Confirmed: c.FormValue("confirm") == "yes"}
}

func (f clearForm) Validate() *formError {
	if !f.Confirmed {
		return &formError{"confirm", "Tick the box to confirm: clearing the secret makes Segment's deliveries fail until a new one is saved."}
	}
	return nil
}

// workspaceForm creates a workspace.
type workspaceForm struct {
	Name string
}

func newWorkspaceForm(c echo.Context) workspaceForm {
	return workspaceForm{Name: strings.TrimSpace(c.FormValue("name"))}
}

func (f workspaceForm) Validate() *formError {
	switch {
	case f.Name == "":
		return &formError{"name", "Enter a name for the new workspace."}
	case !utf8.ValidString(f.Name):
		return &formError{"name", "The name must be text (valid UTF-8)."}
	case utf8.RuneCountInString(f.Name) > maxWorkspaceNameLen:
		return &formError{"name", fmt.Sprintf("The name is too long: at most %d characters.", maxWorkspaceNameLen)}
	case strings.IndexFunc(f.Name, unicode.IsControl) >= 0:
		return &formError{"name", "The name cannot contain line breaks or other control characters."}
	}
	return nil
}
