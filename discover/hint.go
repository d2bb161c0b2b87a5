package discover

import "strings"

// SafeHint returns h when it is no more than a provider prefix followed
// by an ellipsis ("sk_live_…", "AKIA…", "https://hooks.slack.com/…"),
// else "". A prefix must be short or end at a separator, so that a hint
// carrying the first characters of the random part never gets printed.
func SafeHint(h string) string {
	prefix, ok := strings.CutSuffix(h, "…")
	if !ok || prefix == "" || len(prefix) > 40 {
		return ""
	}
	if len(prefix) <= 5 {
		return h
	}
	switch prefix[len(prefix)-1] {
	case '_', '-', '.', '/', ':', '@':
		return h
	}
	return ""
}
