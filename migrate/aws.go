package migrate

import (
	"context"
	"errors"

	"github.com/env2vault/env2vault/plan"
)

// openAWS is replaced by the real AWS backend.
func openAWS(ctx context.Context, b plan.Backend, opts Options) (Backend, error) {
	return nil, errors.New("the aws backend is being built")
}
