package plan

import (
	"context"
	"errors"

	"github.com/env2vault/env2vault/migrate"
	"github.com/env2vault/env2vault/plan"
	"github.com/env2vault/env2vault/secret"
)

// defaultDiff stands in for migrate.Diff until the migrate package
// provides it; its error makes the plan offline.
func defaultDiff(ctx context.Context, b migrate.Backend, p *plan.Plan, fp *secret.Fingerprinter) error {
	return errors.New("the live diff is being built")
}
