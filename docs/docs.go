// Package docs embeds the Markdown documentation beside it, so the running
// server can show it (web/docsite at /docs/NAME) to the admin who follows a
// link from the dashboard, even where the repository is out of reach.
package docs

import "embed"

// FS holds every docs/*.md file.
//
//go:embed *.md
var FS embed.FS
