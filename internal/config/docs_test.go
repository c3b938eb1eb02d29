package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/internal/config"
)

// docPaths carry the generated settings table: the README's configuration
// section and docs/configuration.md.
var docPaths = []string{"../../docs/configuration.md", "../../README.md"}

const (
	tableBegin = "<!-- BEGIN SETTINGS: generated from config.Settings; regenerate with INLET_UPDATE_DOCS=1 go test ./internal/config -->"
	tableEnd   = "<!-- END SETTINGS -->"
)

// settingsTable renders config.Settings as the Markdown table of
// docs/configuration.md.
func settingsTable() string {
	var b strings.Builder
	b.WriteString("| Variable | Default | What it does |\n|---|---|---|\n")
	cell := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace
	for _, s := range config.Settings {
		def := "(unset)"
		switch {
		case strings.HasPrefix(s.Default, "("):
			def = s.Default
		case s.Default != "":
			def = "`" + s.Default + "`"
		}
		b.WriteString("| `" + s.Name + "` | " + cell(def) + " | " + cell(s.Help) + " |\n")
	}
	return b.String()
}

// TestConfigurationDocMatchesSettings keeps the README's and
// docs/configuration.md's tables and config.Settings (which --help prints)
// the same list.
func TestConfigurationDocMatchesSettings(t *testing.T) {
	for _, p := range docPaths {
		checkSettingsTable(t, p)
	}
}

func checkSettingsTable(t *testing.T, docPath string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.FromSlash(docPath))
	if err != nil {
		t.Fatalf("read %s: %v", docPath, err)
	}
	doc := string(raw)
	i, j := strings.Index(doc, tableBegin), strings.Index(doc, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated-table markers:\n%s\n%s", docPath, tableBegin, tableEnd)
	}
	want := doc[:i] + tableBegin + "\n" + settingsTable() + doc[j:]
	if doc == want {
		return
	}
	if os.Getenv("INLET_UPDATE_DOCS") == "1" {
		if err := os.WriteFile(filepath.FromSlash(docPath), []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote the settings table in %s", docPath)
		return
	}
	t.Errorf("the settings table in %s is not config.Settings: run INLET_UPDATE_DOCS=1 go test ./internal/config", docPath)
}
