package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"strconv"
	"strings"

	"github.com/inlet-dev/inlet/internal/config"
	"github.com/inlet-dev/inlet/internal/email"
	"github.com/inlet-dev/inlet/internal/store"
	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

// emailProps is the #email section for ws: its own settings (never the
// password) and the defaults they fall back on.
func (h *Handler) emailProps(c echo.Context, ws store.Workspace) (templates.EmailProps, error) {
	p := templates.EmailProps{WorkspaceID: ws.ID.String()}
	if h.Email == nil {
		return p, nil
	}
	d := h.Email.Defaults
	if d.SMTP.Host != "" {
		p.DefaultServer = fmt.Sprintf("%s (%s)", d.SMTP.Addr(), d.SMTP.TLSMode)
	}
	p.DefaultFrom = d.FromAddress
	if d.FrequencyCap.N > 0 {
		p.DefaultCap = fmt.Sprintf("%d per %s", d.FrequencyCap.N, d.FrequencyCap.Period)
	}
	own, err := h.Store.EmailSettings(c.Request().Context(), ws.ID)
	if errors.Is(err, store.ErrNotFound) {
		return p, nil
	}
	if err != nil {
		return p, err
	}
	p.Host, p.Port, p.Username, p.PasswordSet, p.TLSMode = own.Host, own.Port, own.Username, own.Password != "", own.TLSMode
	p.FromName, p.FromAddress, p.ReplyTo, p.FrequencyCap = own.FromName, own.FromAddress, own.ReplyTo, own.FrequencyCap
	return p, nil
}

// emailForm is the #email form as posted.
type emailForm struct {
	settings      store.EmailSettings
	clearPassword bool
}

// fieldError is a refused field of the #email form.
type fieldError struct{ field, msg string }

func (e *fieldError) Error() string { return e.field + ": " + e.msg }

func readEmailForm(c echo.Context) (emailForm, *fieldError) {
	v := func(name string) string { return strings.TrimSpace(c.FormValue(name)) }
	f := emailForm{settings: store.EmailSettings{Host: v("host"), Username: v("username"), Password: c.FormValue("password"),
		TLSMode: v("tls_mode"), FromName: v("from_name"), FromAddress: v("from_address"), ReplyTo: v("reply_to"),
		FrequencyCap: v("frequency_cap")}, clearPassword: c.FormValue("clear_password") == "1"}
	s := &f.settings
	if len(s.Host) > 253 || strings.ContainsAny(s.Host, " /:@") {
		return f, &fieldError{"host", "a host name or address, such as smtp.example.com"}
	}
	if p := v("port"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return f, &fieldError{"port", "a port from 1 to 65535"}
		}
		s.Port = n
	}
	if s.TLSMode == "" {
		s.TLSMode = config.TLSStartTLS
	}
	if !config.ValidTLSMode(s.TLSMode) {
		return f, &fieldError{"tls_mode", "starttls, tls or none"}
	}
	if s.Host != "" && s.Port == 0 {
		s.Port = map[string]int{config.TLSStartTLS: 587, config.TLSImplicit: 465, config.TLSNone: 25}[s.TLSMode]
	}
	for _, a := range []struct{ field, val string }{{"from_address", s.FromAddress}, {"reply_to", s.ReplyTo}} {
		if a.val == "" {
			continue
		}
		if addr, err := mail.ParseAddress(a.val); err != nil || addr.Address != a.val {
			return f, &fieldError{a.field, "an address such as ann@example.com"}
		}
	}
	if len(s.FromName) > 200 || len(s.Username) > 256 || len(s.Password) > 1024 {
		return f, &fieldError{"host", "a field is too long"}
	}
	if _, err := config.ParseFrequencyCap(s.FrequencyCap); err != nil {
		return f, &fieldError{"frequency_cap", "N/period such as 3/1d (units s, m, h, d)"}
	}
	return f, nil
}

// EmailSave is POST /dashboard/settings/email.
func (h *Handler) EmailSave(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	f, ferr := readEmailForm(c)
	if ferr != nil {
		return h.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) {
			p.Email.Host, p.Email.Port, p.Email.Username, p.Email.TLSMode = f.settings.Host, f.settings.Port, f.settings.Username, f.settings.TLSMode
			p.Email.FromName, p.Email.FromAddress, p.Email.ReplyTo = f.settings.FromName, f.settings.FromAddress, f.settings.ReplyTo
			p.Email.FrequencyCap, p.Email.Error, p.Email.ErrorField = f.settings.FrequencyCap, ferr.msg, ferr.field
		})
	}
	admin, _ := h.admin(c)
	f.settings.UpdatedBy = admin.Email
	// An empty password field keeps the saved one: the page never shows it.
	keep := f.settings.Password == "" && !f.clearPassword
	if err := h.Store.SaveEmailSettings(c.Request().Context(), ws.ID, f.settings, keep); err != nil {
		return fmt.Errorf("save email settings: %w", err)
	}
	logger(c).Info("email settings saved", "workspace", ws.ID, "admin", admin.Email, "host", f.settings.Host)
	h.flash(c, "success", "Email settings saved.")
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID)+"#email")
}

// EmailTest is POST /dashboard/settings/email/test: one email sent now,
// the server's reply shown.
func (h *Handler) EmailTest(c echo.Context) error {
	ws, err := h.formWorkspace(c, parseWorkspaceID(c.FormValue("workspace_id")))
	if err != nil {
		return err
	}
	to := strings.TrimSpace(c.FormValue("to"))
	if a, perr := mail.ParseAddress(to); perr != nil || a.Address != to {
		return h.renderSettings(c, http.StatusUnprocessableEntity, ws, func(p *templates.SettingsProps) {
			p.Email.TestTo, p.Email.Error, p.Email.ErrorField = to, "an address such as ann@example.com", "to"
		})
	}
	res, err := h.Email.SendTest(c.Request().Context(), ws.ID, to)
	switch {
	case err != nil:
		h.flash(c, "error", "The test email was not sent: "+err.Error())
	case res.Outcome == email.Sent:
		h.flash(c, "success", "Test email sent to "+to+". The server answered: "+res.Reply)
	default:
		h.flash(c, "error", "The SMTP server did not take the test email: "+res.Reply)
	}
	return c.Redirect(http.StatusSeeOther, settingsURL(ws.ID)+"#email")
}
