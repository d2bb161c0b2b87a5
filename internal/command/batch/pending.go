package batch

import (
	"context"
	"errors"

	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// diffStage and migrateStage are wired to migrate.Diff and migrate.Run
// as soon as the migrate package provides them.
func diffStage(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) error {
	return errors.New("the live diff is not available in this build")
}

func migrateStage(ctx context.Context, be migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter, cfg Config, progress func(name, action string, done, total int)) (migrateSummary, error) {
	return migrateSummary{}, errors.New("migration is not available in this build")
}
