package discover

import (
	"context"
	"errors"

	"github.com/env2vault/env2vault/secret"
)

// Location names one place a secret value is defined, as plan sources
// record it.
type Location struct {
	Root string
	Repo string
	Path string
	Line int
	Key  string
	Rule string
	Kind Kind
}

// Resolve re-reads the value defined at loc from disk (an .env entry by
// key, or a hardcoded key by rule on that line). migrate uses it to push
// the current value and to notice sources that changed since planning.
//
// The discover owner replaces this body with the real implementation.
func Resolve(ctx context.Context, loc Location) (secret.Value, error) {
	return secret.Value{}, errors.New("discover.Resolve is being built")
}
