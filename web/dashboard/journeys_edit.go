package dashboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/google/uuid"
	"github.com/inlet-dev/inlet/internal/journeys"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/inlet-dev/inlet/web/render"
	"github.com/labstack/echo/v4"
)

// maxJourneyDepth bounds how deeply a definition typed into the editor may
// nest (objects and arrays): far more than 100 nested steps need, and a
// hostile document is refused before anything parses it.
const maxJourneyDepth = 256

// newJourneyText is what the editor starts with: a journey that is valid
// once its template and group exist.
const newJourneyText = `{
  "key": "welcome_series",
  "name": "Welcome series",
  "enabled": false,
  "trigger": {"event": {"event": "Signed Up"}},
  "steps": [
    {"id": "hello", "email": {"template": "welcome", "group": "news"}},
    {"id": "pause", "wait": "1d"}
  ]
}`

// editorText is a stored journey as the editor shows it: indented, with
// its enabled state (which the row holds, not the stored definition).
func editorText(r store.JourneyRow) string {
	d, err := journeys.Parse([]byte(r.Definition))
	if err != nil {
		return r.Definition
	}
	d.Enabled = r.Enabled
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return r.Definition
	}
	return string(b)
}

// jsonDepth is how deeply raw nests, counted without decoding it.
func jsonDepth(raw []byte) int {
	depth, most, inString, escaped := 0, 0, false, false
	for _, b := range raw {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
			most = max(most, depth)
		case b == '}' || b == ']':
			depth--
		}
	}
	return most
}

// validateJourney runs what saving runs: the size and depth bounds, Parse,
// Check, and for an existing journey (key set) that the key stays; for a
// new one (key empty) that the key is free. A fault comes back as a
// *journeys.Error naming its path; other errors are the server's.
func (h *Handler) validateJourney(ctx context.Context, ws uuid.UUID, key string, raw []byte) (*journeys.Definition, error) {
	if len(raw) > journeys.MaxDefinitionBytes {
		return nil, &journeys.Error{Msg: fmt.Sprintf("the definition is over %d bytes", journeys.MaxDefinitionBytes)}
	}
	if jsonDepth(raw) > maxJourneyDepth {
		return nil, &journeys.Error{Msg: fmt.Sprintf("the definition nests more than %d levels deep", maxJourneyDepth)}
	}
	d, err := journeys.Parse(raw)
	if err != nil {
		return nil, err
	}
	if err := journeys.Check(ctx, h.Store, ws, d); err != nil {
		return nil, err
	}
	switch {
	case key != "" && d.Key != key:
		return nil, &journeys.Error{Path: "key", Msg: "a journey's key cannot change (create a new journey instead)"}
	case key == "":
		if _, err := h.Store.Journey(ctx, ws, d.Key); err == nil {
			return nil, &journeys.Error{Path: "key", Msg: "a journey with this key exists"}
		} else if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	return d, nil
}

// canonical is the definition as stored: as parsed, without enabled (the
// row's state), like the API stores it.
func canonical(d *journeys.Definition) (string, error) {
	enabled := d.Enabled
	d.Enabled = false
	b, err := json.Marshal(d)
	d.Enabled = enabled
	return string(b), err
}

// journeyValidation is the editor's as-you-type answer.
type journeyValidation struct {
	OK    bool   `json:"ok"`
	Path  string `json:"path,omitempty"`
	Error string `json:"error,omitempty"`
	Steps int    `json:"steps,omitempty"`
}

// JourneyValidate is POST /dashboard/journeys/validate?key=K (K empty for
// a new journey): the editor's text in, {"ok"} or {"path","error"} out.
// Nothing is stored.
func (h *Handler) JourneyValidate(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "no-store")
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(io.LimitReader(c.Request().Body, journeys.MaxDefinitionBytes+1))
	if err != nil {
		// Over the dashboard's form limit: say so in the editor's terms.
		return c.JSON(http.StatusOK, journeyValidation{Error: fmt.Sprintf("the definition is over %d KiB", maxFormBytes>>10)})
	}
	d, err := h.validateJourney(c.Request().Context(), ws.ID, c.QueryParam("key"), raw)
	var je *journeys.Error
	switch {
	case errors.As(err, &je):
		return c.JSON(http.StatusOK, journeyValidation{Path: je.Path, Error: je.Msg})
	case err != nil:
		return err
	}
	n := 0
	d.Walk(func(*journeys.Step, string, int) { n++ })
	return c.JSON(http.StatusOK, journeyValidation{OK: true, Steps: n})
}

// JourneyNew is GET /dashboard/journeys/new: the editor, with an example.
func (h *Handler) JourneyNew(c echo.Context) error {
	return h.renderEditor(c, http.StatusOK, "", newJourneyText, nil)
}

// JourneyEdit is GET /dashboard/journeys/:key/edit.
func (h *Handler) JourneyEdit(c echo.Context) error {
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	r, _, err := h.loadJourney(c, ws.ID)
	if err != nil {
		return err
	}
	return h.renderEditor(c, http.StatusOK, r.Key, editorText(r), nil)
}

func (h *Handler) renderEditor(c echo.Context, status int, key, text string, fault *journeys.Error) error {
	ws, err := h.currentWorkspace(c)
	if err != nil {
		return err
	}
	title := "New journey"
	if key != "" {
		title = "Edit journey " + key
	}
	lp, err := h.layoutProps(c, title, "journeys")
	if err != nil {
		return err
	}
	p := templates.JourneyEditorProps{Layout: lp, WorkspaceID: ws.ID.String(), Key: key, Definition: text}
	if fault != nil {
		p.Error, p.Path = fault.Msg, fault.Path
	}
	return render.Page(c, status, templates.JourneyEditor(p))
}

// JourneyCreate is POST /dashboard/journeys.
func (h *Handler) JourneyCreate(c echo.Context) error { return h.saveJourney(c, "") }

// JourneyUpdate is POST /dashboard/journeys/:key: a changed definition is
// a new version for new instances; running ones finish on theirs.
func (h *Handler) JourneyUpdate(c echo.Context) error { return h.saveJourney(c, c.Param("key")) }

func (h *Handler) saveJourney(c echo.Context, key string) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	c.Set(ctxWorkspace, ws)
	ctx := c.Request().Context()
	if key != "" {
		if _, _, err := h.loadJourney(c, ws.ID); err != nil {
			return err
		}
	}
	text := c.FormValue("definition")
	d, err := h.validateJourney(ctx, ws.ID, key, []byte(text))
	var je *journeys.Error
	if errors.As(err, &je) {
		return h.renderEditor(c, http.StatusUnprocessableEntity, key, text, je)
	}
	if err != nil {
		return err
	}
	def, err := canonical(d)
	if err != nil {
		return fmt.Errorf("journey %q: %w", d.Key, err)
	}
	var r store.JourneyRow
	if key == "" {
		r, err = h.Store.CreateJourney(ctx, ws.ID, d.Key, def, d.Enabled)
	} else {
		r, err = h.Store.UpdateJourney(ctx, ws.ID, key, def, d.Enabled)
	}
	switch {
	case errors.Is(err, store.ErrConflict): // taken between the check and the insert
		return h.renderEditor(c, http.StatusUnprocessableEntity, key, text, &journeys.Error{Path: "key", Msg: "a journey with this key exists"})
	case errors.Is(err, store.ErrNotFound):
		return errNoJourney
	case err != nil:
		return err
	}
	if err := h.journeyChanged(ctx, ws.ID); err != nil {
		return err
	}
	admin, _ := h.admin(c)
	logger(c).Info("journey saved", "workspace", ws.ID, "journey", r.Key, "version", r.Version, "enabled", r.Enabled, "admin", admin.Email)
	h.flash(c, "success", fmt.Sprintf("Journey %s saved (version %d, %s).", r.Key, r.Version, enabledWord(r.Enabled)))
	return c.Redirect(http.StatusSeeOther, "/dashboard/journeys/"+url.PathEscape(r.Key))
}

func enabledWord(on bool) string {
	if on {
		return "enabled"
	}
	return "disabled"
}

// journeyChanged makes a journey's change take effect: the workspace's
// follower starts at the feed's head if new, and the engine wakes.
func (h *Handler) journeyChanged(ctx context.Context, ws uuid.UUID) error {
	if err := journeys.Prime(ctx, h.Store, ws); err != nil {
		return fmt.Errorf("prime journeys: %w", err)
	}
	if h.Journeys != nil {
		h.Journeys.Notify()
	}
	return nil
}

// JourneyEnable is POST /dashboard/journeys/:key/enable and
// JourneyDisable POST …/disable: new entries start or stop; held
// instances resume or wait where they are.
func (h *Handler) JourneyEnable(c echo.Context) error  { return h.setJourneyEnabled(c, true) }
func (h *Handler) JourneyDisable(c echo.Context) error { return h.setJourneyEnabled(c, false) }

func (h *Handler) setJourneyEnabled(c echo.Context, on bool) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	c.Set(ctxWorkspace, ws)
	r, _, err := h.loadJourney(c, ws.ID)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if r, err = h.Store.SetJourneyEnabled(ctx, ws.ID, r.Key, on); errors.Is(err, store.ErrNotFound) {
		return errNoJourney
	} else if err != nil {
		return err
	}
	if err := h.journeyChanged(ctx, ws.ID); err != nil {
		return err
	}
	admin, _ := h.admin(c)
	logger(c).Info("journey "+enabledWord(on), "workspace", ws.ID, "journey", r.Key, "admin", admin.Email)
	msg := "Journey " + r.Key + " enabled: new users enter it and held ones go on."
	if !on {
		msg = "Journey " + r.Key + " disabled: nobody new enters and running instances are held where they are."
	}
	h.flash(c, "success", msg)
	return c.Redirect(http.StatusSeeOther, "/dashboard/journeys/"+url.PathEscape(r.Key))
}
