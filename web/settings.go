package web

import (
	"net/http"

	"github.com/inlet-dev/inlet/templates"
	"github.com/labstack/echo/v4"
)

func (s *Server) settingsShow(c echo.Context) error {
	lp, err := s.layoutProps(c, "Settings", "settings")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, templates.Settings(templates.SettingsProps{Layout: lp}))
}
