package wizard

import (
	"context"
	"errors"

	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
	"github.com/env2vault/env2vault/tui"
)

// diff and push are wired to migrate.Diff and migrate.Run as soon as the
// migrate package provides them.
func diff(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) ([]tui.DiffRow, error) {
	return nil, errors.New("the live diff is not available in this build")
}

func push(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter, progress func(tui.MigrateProgress)) (tui.MigrateResult, error) {
	return tui.MigrateResult{}, errors.New("migration is not available in this build")
}
