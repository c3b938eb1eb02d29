// Package migrations holds the versioned SQL schema, one set per dialect,
// embedded so the binary migrates itself. Files are never edited once
// released; a change is a new file.
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
