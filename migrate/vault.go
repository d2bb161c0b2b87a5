package migrate

import (
	"context"
	"errors"

	"github.com/env2vault/env2vault/plan"
)

// openVault is replaced by the real Vault backend.
func openVault(ctx context.Context, b plan.Backend, opts Options) (Backend, error) {
	return nil, errors.New("the vault backend is being built")
}
