package migrate

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"
)

// Helpers shared by the GCP and AWS backends.

// cloudSameVersion reports whether a and b describe the same backend state.
func cloudSameVersion(a, b Current) bool {
	return a.Exists == b.Exists && a.Version == b.Version
}

// cloudVersionOrNone names a state for a conflict message.
func cloudVersionOrNone(c Current) string {
	if !c.Exists {
		return "nothing"
	}
	if c.Version == "" {
		return "a value"
	}
	return "version " + c.Version
}

// cloudSleep waits d or until ctx is done.
func cloudSleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// cloudJoinLimited joins items with sep, ending with "(and N more)"
// rather than exceed max bytes.
func cloudJoinLimited(items []string, sep string, max int) string {
	var b strings.Builder
	for i, it := range items {
		more := fmt.Sprintf("%s(and %d more)", sep, len(items)-i)
		if b.Len()+len(sep)+len(it)+len(more) > max {
			if i == 0 {
				return fmt.Sprintf("(%d sources)", len(items))
			}
			b.WriteString(more)
			break
		}
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(it)
	}
	return b.String()
}

// cloudTruncate cuts s to at most n bytes, not splitting a UTF-8 sequence.
func cloudTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}

// cloudEndpointHost returns the host:port of an endpoint given either as
// host:port or as a URL.
func cloudEndpointHost(ep string) string {
	if strings.Contains(ep, "://") {
		if u, err := url.Parse(ep); err == nil && u.Host != "" {
			return u.Host
		}
	}
	return strings.TrimSuffix(ep, "/")
}

// cloudIsLoopback reports whether an endpoint (URL or host[:port]) is on
// this machine.
func cloudIsLoopback(ep string) bool {
	host := cloudEndpointHost(ep)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
