package migrate

import (
	"context"
	"errors"

	"github.com/env2vault/env2vault/plan"
)

// openGCP is replaced by the real GCP backend.
func openGCP(ctx context.Context, b plan.Backend, opts Options) (Backend, error) {
	return nil, errors.New("the gcp backend is being built")
}
