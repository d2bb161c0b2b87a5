package migrate

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// TransientError marks a failure worth retrying: throttling (429), a
// server error (5xx), a standby not caught up (412), or a network
// failure. After is the wait the server asked for (Retry-After), or 0.
type TransientError struct {
	Err   error
	After time.Duration
}

func (e *TransientError) Error() string { return e.Err.Error() }
func (e *TransientError) Unwrap() error { return e.Err }

// transientStatus reports whether an HTTP status is worth retrying.
func transientStatus(code int) bool {
	switch code {
	case 412, 429, 500, 502, 503, 504:
		return true
	}
	return false
}

// RetryPolicy says how often and how long Run retries a secret whose
// backend call failed transiently. Zero fields take the defaults.
type RetryPolicy struct {
	// Attempts is the most tries per secret (default 6).
	Attempts int
	// Base is the first backoff (default 250ms); each retry doubles it,
	// up to Max (default 15s). Waits are jittered (between half and all
	// of the backoff) so parallel workers do not retry in step.
	Base, Max time.Duration
	// MaxRetryAfter caps how long a server's Retry-After is honoured
	// (default 2m); a longer request fails the secret instead.
	MaxRetryAfter time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 6
	}
	if p.Base <= 0 {
		p.Base = 250 * time.Millisecond
	}
	if p.Max <= 0 {
		p.Max = 15 * time.Second
	}
	if p.MaxRetryAfter <= 0 {
		p.MaxRetryAfter = 2 * time.Minute
	}
	return p
}

// wait returns how long to wait before try number attempt+1 (attempt
// counts from 1) after err, and false when err is not to be retried.
func (p RetryPolicy) wait(attempt int, err error) (time.Duration, error) {
	var te *TransientError
	if !errors.As(err, &te) {
		return 0, err
	}
	if attempt >= p.Attempts {
		return 0, fmt.Errorf("gave up after %d tries: %w", attempt, err)
	}
	if te.After > p.MaxRetryAfter {
		return 0, fmt.Errorf("the backend asked to wait %s before retrying (more than %s): %w", te.After, p.MaxRetryAfter, err)
	}
	backoff := p.Base << (attempt - 1)
	if backoff > p.Max || backoff <= 0 {
		backoff = p.Max
	}
	d := backoff/2 + rand.N(backoff/2+1)
	if te.After > d {
		d = te.After
	}
	return d, nil
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
