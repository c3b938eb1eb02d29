package store

import "strings"

// TestMessagePrefix starts the messageId of every test event Inlet makes
// itself: the settings page's "Send test event" (posted through the real
// webhook, so it is stored and listed like any event) and a destination's
// test. The profile follower and the delivery workers skip such events, so
// a test creates no profile, no audience member and no delivery; the events
// page labels them. A client that gives its own events such ids gets the
// same treatment: the prefix is documented as reserved.
const TestMessagePrefix = "inlet-test-"

// IsTestEvent reports whether messageID is one of Inlet's own test events.
func IsTestEvent(messageID string) bool { return strings.HasPrefix(messageID, TestMessagePrefix) }
