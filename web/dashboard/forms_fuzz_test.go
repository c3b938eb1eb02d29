package dashboard

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
)

// FuzzSettingsForm feeds arbitrary form bodies to the settings forms'
// parsing and validation: nothing panics, and whatever validates obeys the
// rules the store and the verifier rely on.
func FuzzSettingsForm(f *testing.F) {
	f.Add("workspace_id=5b8f0f5e-6a53-4c3c-9d43-0b6a5a3c1e11&secret=abc", "name=Staging&confirm=yes")
	f.Add("secret=%00%0A&workspace_id=", "name=%E2%80%8B")
	f.Add("secret="+strings.Repeat("x", 1025), "name="+strings.Repeat("n", 101))
	f.Add("secret=+++&secret=second", "confirm=no&confirm=yes")
	f.Add("secret=%ff%fe", "name=%c0%af")
	f.Add("workspace_id={5B8F0F5E-6A53-4C3C-9D43-0B6A5A3C1E11}", "name=%20a%20")
	e := echo.New()
	f.Fuzz(func(t *testing.T, body1, body2 string) {
		for _, body := range []string{body1, body2} {
			req := httptest.NewRequest(http.MethodPost, "/dashboard/settings/secret", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			c := e.NewContext(req, httptest.NewRecorder())

			sf := newSecretForm(c)
			if err := sf.Validate(); err == nil {
				if sf.Secret == "" || len(sf.Secret) > maxSecretLen || !utf8.ValidString(sf.Secret) ||
					strings.TrimSpace(sf.Secret) != sf.Secret || strings.IndexFunc(sf.Secret, unicode.IsControl) >= 0 {
					t.Fatalf("accepted secret %q", sf.Secret)
				}
			} else if err.Field != "secret" || err.Msg == "" {
				t.Fatalf("error %+v", err)
			}
			if sf.WorkspaceID != uuid.Nil {
				vals, _ := url.ParseQuery(body)
				if _, perr := uuid.Parse(strings.TrimSpace(vals.Get("workspace_id"))); perr != nil {
					t.Fatalf("workspace id %v from %q", sf.WorkspaceID, vals.Get("workspace_id"))
				}
			}

			wf := newWorkspaceForm(c)
			if err := wf.Validate(); err == nil {
				if wf.Name == "" || utf8.RuneCountInString(wf.Name) > maxWorkspaceNameLen || !utf8.ValidString(wf.Name) ||
					strings.IndexFunc(wf.Name, unicode.IsControl) >= 0 || strings.TrimSpace(wf.Name) != wf.Name {
					t.Fatalf("accepted name %q", wf.Name)
				}
			} else if err.Field != "name" {
				t.Fatalf("error %+v", err)
			}

			cf := newClearForm(c)
			vals, _ := url.ParseQuery(body)
			if (cf.Validate() == nil) != (vals.Get("confirm") == "yes") {
				t.Fatalf("clear confirmed=%v for %q", cf.Confirmed, body)
			}
		}
	})
}
