package config_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/inlet-dev/inlet/internal/config"
)

func TestBaseURLDefaultFollowsListenAddr(t *testing.T) {
	for listen, want := range map[string]string{
		"":               "http://localhost:8080",
		":8081":          "http://localhost:8081",
		"0.0.0.0:9000":   "http://localhost:9000",
		"127.0.0.1:9000": "http://127.0.0.1:9000",
		"[::1]:8082":     "http://[::1]:8082",
		"[::]:8083":      "http://localhost:8083",
		"inlet.lan:80":   "http://inlet.lan",
	} {
		if got := mustLoad(t, map[string]string{"LISTEN_ADDR": listen}).BaseURL; got != want {
			t.Errorf("LISTEN_ADDR=%q: BASE_URL defaults to %q, want %q", listen, got, want)
		}
	}
	// An explicit BASE_URL always wins.
	c := mustLoad(t, map[string]string{"LISTEN_ADDR": ":8081", "BASE_URL": "https://inlet.example.com"})
	if c.BaseURL != "https://inlet.example.com" {
		t.Errorf("BASE_URL = %q", c.BaseURL)
	}
}

func TestSegmentCannotReach(t *testing.T) {
	unreachable := []string{"http://localhost:8080", "http://app.localhost", "http://127.0.0.1:9000", "http://[::1]:8080",
		"http://10.1.2.3", "http://192.168.1.20:8080", "http://172.16.0.9", "http://100.100.1.1", "http://169.254.1.1",
		"http://inlet:8080", "http://inlet.local", "http://box.internal", "http://0.0.0.0:8080", "http://[fd00::1]"}
	for _, u := range unreachable {
		if config.SegmentCannotReach(u) == "" {
			t.Errorf("%s is said to be reachable by Segment", u)
		}
	}
	for _, u := range []string{"https://inlet.example.com", "http://203.0.113.7:8080", "https://abc.ngrok-free.app", "http://[2001:db8::1]"} {
		if why := config.SegmentCannotReach(u); why != "" {
			t.Errorf("%s is said to be unreachable: %s", u, why)
		}
	}
}

func TestStoreDescriptionNeverShowsThePassword(t *testing.T) {
	c := mustLoad(t, map[string]string{"DATABASE_URL": "postgres://inlet:s3cret-pw@db.example.com:5432/events?sslmode=disable"})
	got := c.StoreDescription()
	if got != `PostgreSQL database "events" on db.example.com:5432` {
		t.Errorf("StoreDescription = %q", got)
	}
	if strings.Contains(got, "s3cret") || strings.Contains(got, "inlet:") {
		t.Errorf("StoreDescription shows credentials: %q", got)
	}
	dir := t.TempDir()
	c = mustLoad(t, map[string]string{"DATA_DIR": dir})
	if want := "SQLite file " + filepath.Join(dir, "inlet.db"); c.StoreDescription() != want {
		t.Errorf("StoreDescription = %q, want %q", c.StoreDescription(), want)
	}
	c = mustLoad(t, map[string]string{"DATA_DIR": "./data"})
	if !filepath.IsAbs(strings.TrimPrefix(c.StoreDescription(), "SQLite file ")) {
		t.Errorf("the SQLite path is not absolute: %q", c.StoreDescription())
	}
}
