package config

import (
	"net/url"
	"path/filepath"
	"strings"
)

// SQLiteFile is the embedded database's file name inside DATA_DIR.
const SQLiteFile = "inlet.db"

// SQLitePath is the embedded database file, absolute so that messages say
// exactly which file is meant whatever folder a command runs from.
func (c *Config) SQLitePath() string {
	p := filepath.Join(c.DataDir, SQLiteFile)
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// StoreDescription names the database Inlet uses without any credential:
// `PostgreSQL database "inlet" on db:5432` or `SQLite file /abs/data/inlet.db`.
func (c *Config) StoreDescription() string {
	if c.UsesEmbedded() {
		return "SQLite file " + c.SQLitePath()
	}
	u, err := url.Parse(c.DatabaseURL)
	if err != nil {
		return "PostgreSQL (unparsable DATABASE_URL)"
	}
	host := u.Host
	if host == "" {
		host = u.Query().Get("host")
	}
	if host == "" {
		host = "localhost"
	}
	db := strings.TrimPrefix(u.Path, "/")
	if db == "" {
		db = u.User.Username()
	}
	return "PostgreSQL database " + `"` + db + `"` + " on " + host
}
