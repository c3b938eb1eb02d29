package status

// Where attempts (and the events they stored) came from: the Source of an
// Attempt and of each stored event.
const (
	SourceWebhook = "webhook"  // Segment's Webhooks destination
	SourceHTTPAPI = "http_api" // the HTTP Tracking API (/v1/*), with a write key
)
