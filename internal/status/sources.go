package status

// Where attempts (and the events they stored) came from: the Source of an
// Attempt and of each stored event.
const (
	SourceWebhook = "webhook"  // Segment's Webhooks destination
	SourceHTTPAPI = "http_api" // the HTTP Tracking API (/v1/*), with a write key
)

// KeyLabel is how pages name a write key: its name and its public prefix,
// never its internal id (the key's text beyond the prefix is never known).
func KeyLabel(name, prefix string) string {
	switch {
	case name == "" && prefix == "":
		return ""
	case prefix == "":
		return name
	}
	return name + " (" + prefix + "…)"
}
