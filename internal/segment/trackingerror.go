package segment

import "net/http"

// TrackingError is the body of a non-2xx answer on the HTTP Tracking API
// (/v1/*), shaped for what Segment's own client libraries read:
//
//   - analytics-python raises APIError(status, body["code"], body["message"])
//     and treats a 4xx APIError other than 429 as final; a body without
//     "code" raises KeyError instead, which it retries as a network error
//     (for minutes, blocking its sending thread).
//   - analytics-ruby reads body["error"].
//   - analytics-node, analytics-go, analytics-java and analytics.js read only
//     the status: 4xx except 429 is final, 429 and 5xx are retried.
//
// So the body carries code and message, keeps error for Inlet's own readers
// (and Ruby), and success:false like the 200 body's success:true.
type TrackingError struct {
	Success bool   `json:"success"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Error   string `json:"error"`
}

// NewTrackingError builds the body for status with a readable message.
func NewTrackingError(status int, message string) TrackingError {
	return TrackingError{Code: TrackingErrorCode(status), Message: message, Error: message}
}

// TrackingErrorCode is the stable machine-readable code of a status.
func TrackingErrorCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		return "payload_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "unavailable"
	}
	if status >= 500 {
		return "internal_error"
	}
	return "invalid_request"
}
